"""Agents and their trees draw themselves: ``Node.svg()`` is a diagram laid out for what agentcat
builds (checked on its geometry), ``Node.mermaid()`` the same as Mermaid text, and Jupyter
shows the diagram with ``repr`` as the plain text. The README's image is made here."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from itertools import combinations, pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from IPython.core.formatters import DisplayFormatter

from agentcat import (
    Agent,
    EmbeddedModel,
    MessengerAgent,
    Node,
    StreamingAgent,
    agent,
    map_deltas,
    split_sentences,
    text_of,
)
from tests.strategies import composite_agents

SVG = "{http://www.w3.org/2000/svg}"
IMAGE = Path(__file__).resolve().parents[1] / "docs" / "images" / "pipeline.svg"
REGENERATE = '.venv/bin/python -c "import tests.test_diagrams as t; t.write_readme_image()"'


def _leaf(name: str) -> Agent[Any, Any]:
    """An agent called ``name``, of anything to anything: it composes with every agent."""

    def function(value: Any) -> Any:
        return value

    function.__name__ = function.__qualname__ = name
    return agent(function)


f, g, h, k, r, join = map(_leaf, ["f", "g", "h", "k", "r", "join"])


# --- reading a diagram back -------------------------------------------------------------------

Box = tuple[float, float, float, float]  # x, y, width, height


def parsed(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on SVG that is not well-formed XML
    assert root.tag == f"{SVG}svg"
    return root


def classes(element: ET.Element) -> list[str]:
    return element.get("class", "").split()


def stages(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}g") if "stage" in classes(e)]


def groups(root: ET.Element, kind: str | None = None) -> list[ET.Element]:
    return [
        e
        for e in root.iter(f"{SVG}g")
        if "group" in classes(e) and (kind is None or kind in classes(e))
    ]


def box(element: ET.Element) -> Box:
    rect = element.find(f"{SVG}rect")
    assert rect is not None
    return (
        float(rect.get("x", "0")),
        float(rect.get("y", "0")),
        float(rect.get("width", "nan")),
        float(rect.get("height", "nan")),
    )


def label_of(stage: ET.Element) -> str:
    """The text a reader sees in a stage: the last of its texts (a tag such as ``model`` comes
    first)."""
    return stage.findall(f"{SVG}text")[-1].text or ""


def title_of(element: ET.Element) -> str:
    title = element.find(f"{SVG}title")
    assert title is not None
    return title.text or ""


def texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text")]


def stage_named(root: ET.Element, name: str) -> Box:
    (found,) = [s for s in stages(root) if label_of(s) == name]
    return box(found)


def overlap(a: Box, b: Box) -> bool:
    """Whether two boxes share more than an edge."""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def inside(a: Box, b: Box) -> bool:
    return (
        b[0] <= a[0] and b[1] <= a[1] and a[0] + a[2] <= b[0] + b[2] and a[1] + a[3] <= b[1] + b[3]
    )


def leaves(node: Node) -> Iterator[Node]:
    """The leaves of a tree, left to right (with a stack: trees here are a thousand deep)."""
    stack = [node]
    while stack:
        top = stack.pop()
        if not top.children:
            yield top
        stack.extend(reversed(top.children))


def assert_well_drawn(node: Node) -> ET.Element:
    """The properties every diagram has: well-formed, one stage per leaf with its label, no two
    stages overlapping, stages, frames and lines (each to the right or down) inside the viewBox,
    and no frame cutting through a stage."""
    root = parsed(node.svg())
    x, y, width, height = map(float, root.get("viewBox", "").split())
    view = (x, y, width, height)
    drawn = stages(root)
    expected = list(leaves(node))
    assert len(drawn) == len(expected)
    assert sorted(title_of(s) for s in drawn) == sorted(leaf.label for leaf in expected)
    for stage in drawn:
        full, shown = title_of(stage), label_of(stage)
        assert shown == full or (shown.endswith("…") and full.startswith(shown[:-1]))
    boxes = [box(s) for s in drawn]
    for one, other in combinations(boxes, 2):
        assert not overlap(one, other), (one, other)
    frames = [box(group) for group in groups(root)]
    for each in boxes + frames:
        assert inside(each, view), (each, view)
    for line in root.iter(f"{SVG}line"):
        x1, y1, x2, y2 = (float(line.get(end, "nan")) for end in ("x1", "y1", "x2", "y2"))
        assert inside((x1, y1, x2 - x1, y2 - y1), view), (x1, y1, x2, y2, view)
        assert x1 == x2 or y1 == y2  # across or down, never slanted
        assert x1 <= x2
        assert y1 <= y2  # the flow runs to the right, and down to an alternative
    for frame in frames:
        for each in boxes:
            assert inside(each, frame) or not overlap(each, frame), (each, frame)
    return root


# --- the diagram ------------------------------------------------------------------------------


def readme_pipeline() -> StreamingAgent[str, str]:
    """The README's picture: a model retried, a fan-out with a fallback in one branch, and
    plain stages lifted into the stream."""

    @agent
    def brief(topic: str) -> str:
        return f"Tell me about {topic}."

    @agent
    def summarize(text: str) -> str:
        return text[:40]

    @agent
    def classify(text: str) -> str:
        return "long" if len(text) > 80 else "short"

    @agent
    def tag(text: str) -> str:
        return "unknown"

    @agent
    def render(parts: tuple[str, str]) -> str:
        summary, kind = parts
        return f"[{kind}] {summary}"

    writer = EmbeddedModel(pace=0, label="writer") >> map_deltas(text_of)
    return brief >> writer.with_retry(3) >> (summarize & classify.with_fallback(tag)) >> render


def write_readme_image() -> None:
    """Write ``docs/images/pipeline.svg`` from :func:`readme_pipeline` (see README.md)."""
    IMAGE.parent.mkdir(parents=True, exist_ok=True)
    IMAGE.write_text(readme_pipeline().describe().svg() + "\n", encoding="utf-8")


def test_the_readme_image_is_what_the_code_draws_now() -> None:
    drawn = readme_pipeline().describe().svg() + "\n"
    assert IMAGE.exists(), f"docs/images/pipeline.svg is missing: run {REGENERATE}"
    assert IMAGE.read_text(encoding="utf-8") == drawn, (
        f"docs/images/pipeline.svg is not what the code draws now: run {REGENERATE}"
    )
    readme = (IMAGE.parents[2] / "README.md").read_text(encoding="utf-8")
    assert "docs/images/pipeline.svg" in readme
    assert repr(readme_pipeline()) in readme, "the README says which pipeline it shows"


EXAMPLES = [
    pytest.param(lambda: f, id="a leaf"),
    pytest.param(lambda: f >> g >> h, id="a sequence"),
    pytest.param(lambda: (f & g & h) >> join, id="a fan-out"),
    pytest.param(lambda: (f * g) * h, id="a parallel in a parallel"),
    pytest.param(lambda: f.with_retry(3).with_fallback(g >> h, k), id="a fallback of a retry"),
    pytest.param(lambda: (f.as_result() >> g.as_result()).recover(h), id="results recovered"),
    pytest.param(lambda: EmbeddedModel() >> map_deltas(text_of) >> split_sentences, id="a model"),
    pytest.param(readme_pipeline, id="the README's"),
]


@pytest.mark.parametrize("build", EXAMPLES)
def test_a_diagram_has_a_stage_per_leaf_with_its_label_none_overlapping(build: object) -> None:
    assert callable(build)
    assert_well_drawn(build().describe())


def trees(max_leaves: int = 12) -> st.SearchStrategy[Node]:
    """Trees of every kind agentcat builds (and a kind it does not know), with labels that
    need escaping or shortening."""
    labels = st.one_of(
        st.sampled_from(["f", "Id", "map_deltas(text_of)", "fail(ValueError('<&>\"'))"]),
        st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=60),
    )
    leaf = st.builds(Node, st.sampled_from(["agent", "model"]), labels)

    def step(inner: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
        some = st.lists(inner, min_size=2, max_size=4).map(tuple)
        return st.one_of(
            st.builds(
                Node, st.sampled_from(["sequence", "result_sequence", "fan_out"]), st.just(""), some
            ),
            st.builds(lambda a, b: Node("parallel", "", (a, b)), inner, inner),
            st.builds(
                lambda kids: Node(
                    "fallback",
                    "{}.with_fallback(" + ", ".join(["{}"] * (len(kids) - 1)) + ")",
                    kids,
                ),
                some,
            ),
            st.builds(lambda a, b: Node("recover", "{}.recover({})", (a, b)), inner, inner),
            st.builds(
                lambda kind, label, a: Node(kind, label, (a,)),
                st.sampled_from(["retry", "result", "lift", "remote", "unknown"]),
                st.sampled_from(
                    [
                        "{}.with_retry(3)",
                        "lift({})",
                        "on_ray({})",
                        "{}.as_result(" + "E, " * 20 + ")",
                    ]
                ),
                inner,
            ),
        )

    return st.recursive(leaf, step, max_leaves=max_leaves)


@given(trees())
@example(
    Node("sequence", "", (Node("fan_out", "", (Node("agent", "a" * 200), Node("agent", ""))),))
)
def test_every_tree_is_well_drawn(tree: Node) -> None:
    assert_well_drawn(tree)


@given(composite_agents(max_leaves=6))
def test_every_generated_composite_is_well_drawn(modelled: tuple[Agent[str, str], object]) -> None:
    assert_well_drawn(modelled[0].describe())


def test_a_sequence_runs_left_to_right_and_a_fan_outs_branches_are_stacked() -> None:
    root = assert_well_drawn((f >> (g & h & k) >> r).describe())
    first, last = stage_named(root, "f"), stage_named(root, "r")
    branches = [stage_named(root, name) for name in "ghk"]
    for above, below in pairwise(branches):
        assert above[1] + above[3] <= below[1]  # one under the other
        assert above[0] < below[0] + below[2]
        assert below[0] < above[0] + above[2]
    for branch in branches:
        assert first[0] + first[2] < branch[0]
        assert branch[0] + branch[2] < last[0]
    assert first[1] + first[3] / 2 == last[1] + last[3] / 2  # one line through the sequence


def test_a_fan_out_forks_one_input_and_a_parallel_gives_each_branch_its_item() -> None:
    fanned = parsed((f & g).describe().svg())
    paired = parsed((f * g).describe().svg())
    assert [len(groups(fanned, "fan_out")), len(groups(paired, "parallel"))] == [1, 1]
    assert "fan-out" in texts(groups(fanned, "fan_out")[0])[0]
    assert "parallel" in texts(groups(paired, "parallel")[0])[0]
    assert {"[0]", "[1]"} <= set(texts(paired))
    assert not {"[0]", "[1]"} & set(texts(fanned))
    assert len(list(fanned.iter(f"{SVG}circle"))) == 1  # the fork of the shared input
    assert not list(paired.iter(f"{SVG}circle"))
    for root in (fanned, paired):
        upper, lower = stage_named(root, "f"), stage_named(root, "g")
        assert upper[1] + upper[3] <= lower[1]


def test_retries_fallbacks_remote_and_model_stages_are_marked() -> None:
    retried = parsed(f.with_retry(3).describe().svg())
    (retry,) = groups(retried, "retry")
    assert texts(retry) == ["↻ with_retry(3)"]
    assert inside(stage_named(retried, "f"), box(retry))

    fallen = parsed(f.with_fallback(g, on=(TimeoutError,)).describe().svg())
    (fallback,) = groups(fallen, "fallback")
    assert texts(fallback) == ["with_fallback(on=(TimeoutError,))"]
    assert "if it fails" in texts(fallen)
    upper, lower = stage_named(fallen, "f"), stage_named(fallen, "g")
    assert upper[1] + upper[3] <= lower[1]  # the alternative below what it stands in for
    dashed = [e for e in fallen.iter(f"{SVG}line") if e.get("stroke-dasharray")]
    assert len(dashed) == 1

    remote = parsed(Node("remote", "on_ray({})", (Node("agent", "f"),)).svg())
    (frame,) = groups(remote, "remote")
    assert texts(frame) == ["remote: on_ray"]
    assert inside(stage_named(remote, "f"), box(frame))
    others = [*groups(retried), *groups(fallen), *groups(parsed(lift_of_f().svg()))]
    assert frame_style(frame) not in {frame_style(other) for other in others}

    modelled = parsed((EmbeddedModel(label="writer") >> map_deltas(text_of)).describe().svg())
    kinds = {label_of(s): classes(s) for s in stages(modelled)}
    assert kinds == {"writer": ["stage", "model"], "map_deltas(text_of)": ["stage", "agent"]}
    (model,) = [s for s in stages(modelled) if "model" in classes(s)]
    assert texts(model) == ["model", "writer"]
    plain = next(s for s in stages(modelled) if "agent" in classes(s))
    assert box(model)[3] == box(plain)[3]
    model_rect, plain_rect = model.find(f"{SVG}rect"), plain.find(f"{SVG}rect")
    assert model_rect is not None
    assert plain_rect is not None
    assert model_rect.get("stroke") != plain_rect.get("stroke")


def frame_style(group: ET.Element) -> tuple[str | None, str | None]:
    rect = group.find(f"{SVG}rect")
    assert rect is not None
    return rect.get("stroke"), rect.get("fill")


def lift_of_f() -> Node:
    return Node(
        "lift", "lift({})", (Node("sequence", "", (Node("agent", "f"), Node("agent", "g"))),)
    )


def test_a_lifted_stage_is_one_box_marked_lift() -> None:
    root = assert_well_drawn(Node("lift", "lift({})", (Node("agent", "brief"),)))
    (stage,) = stages(root)
    assert texts(stage) == ["lift", "brief"]
    assert not groups(root)
    assert [texts(group)[0] for group in groups(parsed(lift_of_f().svg()))] == ["lift"]


def test_a_messenger_and_a_session_are_model_stages_and_say_so_as_before() -> None:
    model = EmbeddedModel(label="assistant")
    assert model.describe() == Node("model", "assistant")
    assert repr(model) == "assistant"
    session = MessengerAgent(model)
    assert session.describe() == Node("model", "MessengerAgent(assistant)")
    assert repr(session) == "MessengerAgent(assistant, 0 messages)"
    assert repr(model >> map_deltas(text_of)) == "assistant >> map_deltas(text_of)"


def test_a_long_label_is_shortened_with_the_whole_in_its_title() -> None:
    name = "summarize_the_whole_conversation_so_far_in_three_sentences"
    (stage,) = stages(assert_well_drawn(Node("agent", name)))
    assert title_of(stage) == name
    assert label_of(stage) == name[:31] + "…"
    short = box(stages(parsed(Node("agent", "f").svg()))[0])
    assert short[2] < box(stage)[2] < 8 * 40  # sized by its characters, up to a bound


def test_labels_are_escaped() -> None:
    label = "fail(ValueError('<b>&amp;\"'))"
    (stage,) = stages(assert_well_drawn(Node("agent", label)))
    assert title_of(stage) == label
    (odd,) = stages(parsed(Node("agent", "bell\x07").svg()))  # XML cannot hold a control
    assert title_of(odd) == label_of(odd) == "bell\ufffd"


LEAF = Node("agent", "f")

NESTINGS: list[tuple[str, Callable[[Node], Node]]] = [
    ("fan-out", lambda inner: Node("fan_out", "", (LEAF, inner))),
    ("parallel", lambda inner: Node("parallel", "", (inner, LEAF))),
    ("retry", lambda inner: Node("retry", "{}.with_retry(2)", (inner,))),
    ("fallback", lambda inner: Node("fallback", "{}.with_fallback({})", (inner, LEAF))),
]


@pytest.mark.parametrize("nest", [pytest.param(n, id=name) for name, n in NESTINGS])
def test_a_thousand_deep_nesting_draws(nest: Callable[[Node], Node]) -> None:
    node = LEAF
    for _ in range(1000):
        node = nest(node)
    root = parsed(node.svg())
    assert len(stages(root)) == sum(1 for _ in leaves(node))
    assert len(groups(root)) == 1000
    depths = subgraph_depths(node.mermaid())
    assert max(depths) == 1000
    assert depths[-1] == 0


def test_a_thousand_deep_fan_out_of_agents_draws() -> None:
    built: Agent[str, object] = f
    for _ in range(1000):
        built = f & built
    root = parsed(built._repr_mimebundle_()["image/svg+xml"])
    assert len(stages(root)) == 1001


# --- Mermaid ----------------------------------------------------------------------------------


def chart_nodes(chart: str) -> dict[str, str]:
    """Each node of a chart (but the input and output), by its id: its label."""
    return dict(re.findall(r'^\s*(n\d+)\(?\["(.*)"\]\)?$', chart, re.M))


def chart_edges(chart: str) -> list[tuple[str, str, str, str]]:
    return re.findall(r'^\s*(\w+) (-->|-\.->)(?:\|"(.*)"\|)? (\w+)$', chart, re.M)


def test_mermaid_is_a_flowchart_with_a_node_per_leaf_and_edges_in_order() -> None:
    chart = (f >> g >> h).describe().mermaid()
    assert chart.splitlines()[0] == "flowchart LR"
    nodes = chart_nodes(chart)
    assert sorted(nodes.values()) == ["f", "g", "h"]
    by_label = {label: name for name, label in nodes.items()}
    path = ["input", by_label["f"], by_label["g"], by_label["h"], "output"]
    assert [(a, b) for a, _, _, b in chart_edges(chart)] == list(pairwise(path))


def test_mermaid_groups_branches_and_marks_what_the_diagram_marks() -> None:
    chart = (f >> (g * EmbeddedModel(label="writer"))).describe().mermaid()
    nodes = chart_nodes(chart)
    assert sorted(nodes.values()) == ["lift(f)", "lift(g)", "writer"]
    assert re.search(r'n\d+\(\["writer"\]\)', chart)  # a model's shape
    assert re.search(r'n\d+\["lift\(g\)"\]', chart)
    assert re.search(r'^    subgraph g\d+ \["\* parallel: split pair"\]$', chart, re.M)
    labelled = {(label, nodes[b]) for _, _, label, b in chart_edges(chart) if label}
    assert labelled == {("[0]", "lift(g)"), ("[1]", "writer")}

    fallen = f.with_retry(2).with_fallback(g).describe().mermaid()
    assert '["↻ with_retry(2)"]' in fallen
    assert '["with_fallback"]' in fallen
    assert subgraph_depths(fallen)[-1] == 0
    dashed = [(a, label, b) for a, arrow, label, b in chart_edges(fallen) if arrow == "-.->"]
    names = {label: name for name, label in chart_nodes(fallen).items()}
    assert dashed == [(names["f"], "if it fails", names["g"])]


def subgraph_depths(chart: str) -> list[int]:
    """How deep in subgraphs each line of a chart ends."""
    depths, depth = [], 0
    for line in chart.splitlines():
        depth += line.strip().startswith("subgraph ") - (line.strip() == "end")
        depths.append(depth)
    return depths


@given(trees(max_leaves=8))
def test_every_tree_charts_a_node_per_leaf_and_balanced_subgraphs(tree: Node) -> None:
    chart = tree.mermaid()
    lines = chart.splitlines()
    assert lines[0] == "flowchart LR"
    assert len(chart_nodes(chart)) == sum(1 for _ in leaves(tree))
    depths = subgraph_depths(chart)
    assert min(depths) == 0
    assert depths[-1] == 0
    arrows = [line for line in lines if re.match(r"\s*\w+ -", line)]
    assert len(chart_edges(chart)) == len(arrows) >= 2  # from the input, to the output


def test_mermaid_labels_are_quoted_safely() -> None:
    chart = Node("agent", 'say("#1 <b>")').mermaid()
    assert chart_nodes(chart) == {"n1": "say(#quot;#35;1 #lt;b#gt;#quot;)"}


# --- Jupyter ----------------------------------------------------------------------------------


def test_jupyter_shows_an_agent_and_a_tree_as_a_diagram_with_repr_as_text() -> None:
    pipeline = f >> (g & h) >> join
    bundle = pipeline._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "text/plain"}
    assert bundle["text/plain"] == repr(pipeline) == "f >> (g & h) >> join"
    assert bundle["image/svg+xml"] == pipeline.describe().svg()
    tree = pipeline.describe()
    assert tree._repr_mimebundle_() == {"image/svg+xml": tree.svg(), "text/plain": repr(tree)}
    assert len(stages(parsed(bundle["image/svg+xml"]))) == 4


def test_ipython_formats_an_agent_as_its_diagram() -> None:
    """IPython's own formatter, as a notebook's kernel runs it, finds the diagram."""
    pipeline = f >> (g * h)
    shown, _ = DisplayFormatter().format(pipeline)  # type: ignore[no-untyped-call]
    assert shown == {"image/svg+xml": pipeline.describe().svg(), "text/plain": repr(pipeline)}
    only, _ = DisplayFormatter().format(  # type: ignore[no-untyped-call]
        pipeline.describe(), include={"image/svg+xml"}
    )
    assert set(only) == {"image/svg+xml"}

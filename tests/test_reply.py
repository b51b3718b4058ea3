"""The streamed reply (``agentcat.messenger.reply``): its monoid's laws, the text homomorphism,
tool calls whose arguments stream, usage that adds up, and replies as stream deltas."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from agentcat_laws import check_laws
from agentcat_laws.strategies import replies
from hypothesis import given, settings

from agentcat import (
    REPLY,
    Reply,
    Text,
    Thinking,
    ToolArgumentsError,
    ToolCall,
    Usage,
    as_reply,
    map_deltas,
    monoid_for,
    split_sentences,
    streaming,
    text_of,
)

FAST = settings(max_examples=60, deadline=None)


@pytest.mark.anyio
async def test_replies_form_a_monoid() -> None:
    report = await check_laws(REPLY, inputs=replies(), settings=FAST)
    assert report.passed, str(report)
    assert {"M1", "M2", "M3"} <= {result.law.name for result in report.results}


@given(replies(), replies())
def test_the_text_of_a_combination_is_the_combination_of_the_texts(
    left: Reply, right: Reply
) -> None:
    assert text_of(REPLY.combine(left, right)) == text_of(left) + text_of(right)
    assert text_of(REPLY.empty()) == ""


@given(replies(max_fragments=2))
def test_a_text_is_a_reply_and_back(reply: Reply) -> None:
    assert text_of(as_reply(reply.text)) == reply.text
    assert as_reply("") == Reply()


@given(replies())
def test_a_reply_reads_back_from_its_json(reply: Reply) -> None:
    assert Reply.from_json(reply.to_json()) == reply


def test_json_that_is_not_a_reply_is_refused_saying_what_it_lacks() -> None:
    with pytest.raises(ValueError, match=r"not the JSON of a reply.*'nope'"):
        Reply.from_json('{"fragments": [{"type": "nope"}], "usage": null}')
    with pytest.raises(ValueError, match=r"not the JSON of a reply.*'stop'"):
        Reply.from_json('{"fragments": [], "usage": null, "meta": {}}')


def test_two_text_parts_that_interleave_keep_the_order_they_streamed_in() -> None:
    whole = REPLY.concat([Reply((Text(0, "x"),)), Reply((Text(2, "y"),)), Reply((Text(0, "z"),))])
    assert whole.text == "xyz"  # what was shown; merging by part would give "xzy"
    assert whole.fragments == (Text(0, "x"), Text(2, "y"), Text(0, "z"))


def test_adjacent_fragments_of_one_part_merge_and_blank_ones_go() -> None:
    reply = Reply((Thinking(0, "hm", "s1"), Thinking(0, "m", "s2"), Text(1, ""), Text(1, "ok")))
    assert reply.fragments == (Thinking(0, "hmm", "s1s2"), Text(1, "ok"))
    assert reply.thinking == "hmm"
    assert reply.text == "ok"


def test_a_tool_calls_arguments_read_as_they_stream_and_parse_when_whole() -> None:
    deltas = [
        Reply((ToolCall(1, "call_1", "weather"),)),
        Reply((ToolCall(1, arguments='{"city": '),)),
        Reply((ToolCall(1, arguments='"Oslo"}'),), stop="tool_use"),
    ]
    partial = REPLY.concat(deltas[:2])
    (call,) = partial.tool_calls
    assert (call.id, call.name, call.arguments_json) == ("call_1", "weather", '{"city": ')
    with pytest.raises(ToolArgumentsError, match="not valid JSON") as caught:
        call.arguments()
    assert caught.value.raw == '{"city": '
    whole = REPLY.concat(deltas)
    assert whole.tool_calls[0].arguments() == {"city": "Oslo"}
    assert whole.complete
    assert not partial.complete


def test_usage_increments_add_up_to_the_providers_final_figure() -> None:
    # A provider reporting 10 in and 1 out at the start, and 15 out in all at the end: its
    # decoder sends the increments, so the reply's usage is the final figure, not 16.
    first = Reply(usage=Usage(input_tokens=10, output_tokens=1, reported=True))
    last = Reply(usage=Usage(output_tokens=14, reported=True), stop="end_turn")
    assert REPLY.concat([first, last]).usage == Usage(10, 15, reported=True)
    again = REPLY.combine(REPLY.concat([first, last]), REPLY.concat([first, last]))
    assert again.usage == Usage(20, 30, reported=True)  # two requests (a retry) add up


def test_only_the_empty_reply_says_nothing() -> None:
    assert not Reply()
    assert Reply(usage=Usage(reported=True))  # a usage-only delta is passed on
    assert Reply(stop="end_turn")
    assert Reply(meta={"model": "m"})
    assert monoid_for(Reply) is REPLY


def test_bad_parts_are_named() -> None:
    with pytest.raises(TypeError, match="Text, Thinking and ToolCall fragments, not 'hi'"):
        Reply(("hi",))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="key is an int of 0 or more, not -1"):
        Text(-1, "x")
    with pytest.raises(TypeError, match="not True"):
        Text(True, "x")
    with pytest.raises(TypeError, match="a token count is an int"):
        Usage(input_tokens="3")  # type: ignore[arg-type]


@streaming
async def model(prompt: str) -> AsyncIterator[Reply]:
    yield Reply(meta={"model": "embedded"})
    yield Reply((Text(0, "Hello there. "),))
    yield Reply((ToolCall(1, "c", "look", '{"q": "'),))
    yield Reply((Text(0, "How are"),))  # the text part goes on after the tool call began
    yield Reply((ToolCall(1, arguments='x"}'),))
    yield Reply((Text(0, " you?"),), usage=Usage(4, 7, reported=True), stop="tool_use")


@pytest.mark.anyio
async def test_a_stream_of_replies_is_a_stream_like_any_other() -> None:
    stream = model.stream("hi")
    chunks = [chunk async for chunk in stream]
    assert len(chunks) == 7  # every delta says something (the meta-only one too), then the end
    whole = await stream
    assert whole.text == "Hello there. How are you?"
    assert whole.tool_calls[0].arguments() == {"q": "x"}
    assert (whole.usage.output_tokens, whole.stop, whole.meta["model"]) == (
        7,
        "tool_use",
        "embedded",
    )
    sentences = (model >> map_deltas(text_of) >> split_sentences).stream("hi")
    assert [chunk.delta async for chunk in sentences] == ["Hello there. ", "How are you?", ""]


@pytest.mark.anyio
async def test_text_of_and_as_reply_are_lawful_stages() -> None:
    to_text = await check_laws(map_deltas(text_of), inputs=replies(), monoid=REPLY, settings=FAST)
    assert to_text.passed, str(to_text)
    to_reply = await check_laws(map_deltas(as_reply), settings=FAST)
    assert to_reply.passed, str(to_reply)
    assert {"S3", "S3a", "S3b"} <= {result.law.name for result in to_text.results}

"""`Reply`: a streamed assistant reply, whose deltas and whole are the same type.

A reply interleaves text, thinking and tool calls (whose JSON arguments arrive in fragments),
and carries usage, a stop reason and response metadata. Each delta of a stream is a ``Reply``
that carries only what is new, and :data:`REPLY` adds them up, so ``Chunk[Reply]`` and
``ChunkStream[Reply]`` work as they do for text, and the laws package checks them alike.

The fragments form a *free product* of the parts' string monoids: combining two replies
merges only the fragments that meet at the junction and belong to the same part; the order in
which parts were streamed is kept (grouping them by part is a view, :attr:`Reply.tool_calls`).
Merging a part's fragments wherever they occur would also be a monoid, but the text of two
interleaved text parts would no longer be the text that was shown. So :func:`text_of` is a
monoid homomorphism: ``model >> map_deltas(text_of) >> split_sentences`` is sound.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeAlias

from attrs import field, fields, frozen, validators

from agentcat.errors import ToolArgumentsError
from agentcat.messenger._frozen import exact_json, field_values, frozen_mapping
from agentcat.monoids import Monoid, name_constants

__all__ = [
    "REPLY",
    "Fragment",
    "Part",
    "Reply",
    "Text",
    "TextPart",
    "Thinking",
    "ThinkingPart",
    "ToolCall",
    "ToolCallPart",
    "ToolResultPart",
    "Usage",
    "as_reply",
    "text_of",
]


def _check_key(instance: object, attribute: Any, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError(f"a part's key is an int of 0 or more, not {value!r}")


def _key() -> Any:
    return field(validator=_check_key)


@frozen
class Text:
    """A fragment of the text part at ``key`` (a small int that the decoder of a provider's
    stream gives each part of one reply).

    Raises:
        TypeError: ``key`` is not an int of 0 or more.
    """

    key: int = _key()
    text: str = ""


@frozen
class Thinking:
    """A fragment of the thinking part at ``key``; ``signature`` is the provider's opaque
    proof of it (appended as it streams), which a faithful replay must send back.

    Raises:
        TypeError: ``key`` is not an int of 0 or more.
    """

    key: int = _key()
    text: str = ""
    signature: str = ""


@frozen
class ToolCall:
    """A fragment of the tool call at ``key``: its ``id``, ``name`` and JSON ``arguments``,
    each appended to what came before (a provider sends the id and name once, the arguments in
    pieces).

    Raises:
        TypeError: ``key`` is not an int of 0 or more.
    """

    key: int = _key()
    id: str = ""
    name: str = ""
    arguments: str = ""


Fragment: TypeAlias = Text | Thinking | ToolCall
"""One fragment of a reply's parts."""

_TEXTS: dict[type, tuple[str, ...]] = {
    kind: tuple(a.name for a in fields(kind) if a.name != "key")
    for kind in (Text, Thinking, ToolCall)
}
"""The string fields of each kind of fragment, which its fragments concatenate."""


def _is_blank(fragment: Fragment) -> bool:
    return not any(getattr(fragment, name) for name in _TEXTS[type(fragment)])


def _same_part(left: Fragment, right: Fragment) -> bool:
    return type(left) is type(right) and left.key == right.key


def _reduced(fragments: Iterable[Fragment]) -> tuple[Fragment, ...]:
    """The reduced word of ``fragments``: no blank fragment, and the adjacent fragments of one
    part merged (in one pass: each run's field pieces are joined once, at its end)."""
    runs: list[tuple[Fragment, list[list[str]]]] = []
    for fragment in fragments:
        if not isinstance(fragment, Text | Thinking | ToolCall):
            raise TypeError(
                f"a reply is made of Text, Thinking and ToolCall fragments, not {fragment!r}"
            )
        if _is_blank(fragment):
            continue
        names = _TEXTS[type(fragment)]
        if runs and _same_part(runs[-1][0], fragment):
            for pieces, name in zip(runs[-1][1], names, strict=True):
                pieces.append(getattr(fragment, name))
        else:
            runs.append((fragment, [[getattr(fragment, name)] for name in names]))
    return tuple(
        first
        if all(len(pieces) == 1 for pieces in texts)
        else type(first)(first.key, *("".join(pieces) for pieces in texts))
        for first, texts in runs
    )


def _count(value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"a token count is an int, not {value!r}")
    return value


@frozen
class Usage:
    """Tokens a reply cost. The deltas of a stream are increments, so the usage of a whole
    reply is their sum, and two requests (a retry, a continuation) add up. ``reported`` says
    whether the provider reported usage at all (zero tokens reported is not "unknown").

    Raises:
        TypeError: a count is not an int.
    """

    input_tokens: int = field(default=0, converter=_count)
    output_tokens: int = field(default=0, converter=_count)
    cache_read_tokens: int = field(default=0, converter=_count)
    cache_write_tokens: int = field(default=0, converter=_count)
    reasoning_tokens: int = field(default=0, converter=_count)
    reported: bool = False

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
            self.reported or other.reported,
        )


_NO_USAGE = Usage()


@frozen
class TextPart:
    """A text part of a reply or message, whole."""

    text: str


@frozen
class ThinkingPart:
    """A thinking part of a reply or message, whole, with the provider's signature of it."""

    text: str
    signature: str = ""


@frozen
class ToolCallPart:
    """A tool call of a reply, its fragments put together: the raw JSON text of its arguments
    so far, which :meth:`arguments` parses once it is complete."""

    key: int
    id: str
    name: str
    arguments_json: str

    def arguments(self) -> Any:
        """The arguments, parsed (``{}`` for none at all).

        Raises:
            ToolArgumentsError: they are not valid JSON (still streaming, or cut short by the
                reply's ``max_tokens``); the error keeps the raw text.
        """
        if not self.arguments_json.strip():
            return {}
        try:
            return json.loads(self.arguments_json)
        except json.JSONDecodeError as error:
            raise ToolArgumentsError(
                f"the arguments of tool call {self.name or self.key!r} are not valid JSON "
                f"({error.msg}, at character {error.pos}): {self.arguments_json!r}",
                raw=self.arguments_json,
            ) from error


@frozen
class ToolResultPart:
    """What a tool call gave back: the part of a ``tool`` message that answers the call
    ``call_id``; ``is_error`` marks a tool that failed (its error, in words, is the content)."""

    call_id: str
    content: str
    is_error: bool = False


Part: TypeAlias = TextPart | ThinkingPart | ToolCallPart | ToolResultPart
"""One part of a message, in the order a faithful replay to a provider must keep."""


@frozen
class Reply:
    """A streamed assistant reply, or one delta of it: its ``fragments`` in the order they
    streamed, ``usage``, the ``stop`` reason once known, and response ``meta`` (model, ids).
    Deltas carry only what is new; :data:`REPLY` adds them up. Immutable and hashable.

    Raises:
        TypeError: a fragment is not a :class:`Text`, :class:`Thinking` or :class:`ToolCall`.
    """

    fragments: tuple[Fragment, ...] = field(default=(), converter=_reduced)
    """The fragments, reduced: none blank, and no two adjacent of the same part."""
    usage: Usage = field(default=_NO_USAGE, validator=validators.instance_of(Usage))
    stop: str | None = None
    """Why the reply ended (``"end_turn"``, ``"tool_use"``, ``"max_tokens"``...), once it has."""
    meta: Mapping[str, Any] = field(factory=dict, converter=frozen_mapping)
    """What the provider said of the response (model, response id...), the latest value of
    each key winning."""

    __agentcat_monoid__: ClassVar[Monoid[Reply]]  # set below, once REPLY exists

    def __bool__(self) -> bool:
        """Whether the reply says anything (a stream drops the deltas that do not)."""
        return bool(self.fragments or self.usage != _NO_USAGE or self.stop is not None or self.meta)

    @property
    def text(self) -> str:
        """The text of every text fragment, in order: :func:`text_of`."""
        return "".join(f.text for f in self.fragments if type(f) is Text)

    @property
    def thinking(self) -> str:
        """The text of every thinking fragment, in order."""
        return "".join(f.text for f in self.fragments if type(f) is Thinking)

    @property
    def tool_calls(self) -> tuple[ToolCallPart, ...]:
        """The tool calls, each from its fragments, in the order they first appeared."""
        return tuple(part for part in self.parts() if type(part) is ToolCallPart)

    def parts(self) -> tuple[TextPart | ThinkingPart | ToolCallPart, ...]:
        """The provider's parts, one per kind and key, each from all its fragments, in the
        order each began (what a replay to the provider sends back). Text parts that
        interleaved give their text part by part here, and as it streamed in :attr:`text`."""
        grouped: dict[tuple[type, int], list[Fragment]] = {}
        for fragment in self.fragments:
            grouped.setdefault((type(fragment), fragment.key), []).append(fragment)
        return tuple(_part(kind, key, fragments) for (kind, key), fragments in grouped.items())

    @property
    def complete(self) -> bool:
        """Whether the reply has ended (its stop reason is known)."""
        return self.stop is not None

    def to_json(self) -> str:
        """The reply (or delta) as JSON, which :meth:`from_json` reads back to an equal one:
        how a delta crosses a socket.

        Raises:
            TypeError: a value in ``meta`` has no exact JSON form.
        """
        fragments = [{"type": _FRAGMENT_KINDS[type(f)], **field_values(f)} for f in self.fragments]
        usage = None if self.usage == _NO_USAGE else field_values(self.usage)
        return exact_json(
            {"fragments": fragments, "usage": usage, "stop": self.stop, "meta": self.meta}
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Reply:
        """The reply that :meth:`to_json` wrote.

        Raises:
            ValueError: the text is not the JSON of a reply (the message says what is wrong).
        """
        data = json.loads(text)
        try:
            fragments = [
                _BY_FRAGMENT_KIND[f["type"]](**{k: v for k, v in f.items() if k != "type"})
                for f in data["fragments"]
            ]
            usage = _NO_USAGE if data["usage"] is None else Usage(**data["usage"])
            return cls(fragments, usage, data["stop"], data["meta"])
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not the JSON of a reply ({error!r}): {data!r}"[:300]) from error


_FRAGMENT_KINDS: dict[type, str] = {Text: "text", Thinking: "thinking", ToolCall: "tool_call"}
_BY_FRAGMENT_KIND = {kind: cls for cls, kind in _FRAGMENT_KINDS.items()}


def _part(kind: type, key: int, fragments: list[Any]) -> TextPart | ThinkingPart | ToolCallPart:
    def joined(name: str) -> str:
        return "".join(getattr(fragment, name) for fragment in fragments)

    if kind is Text:
        return TextPart(joined("text"))
    if kind is Thinking:
        return ThinkingPart(joined("text"), joined("signature"))
    return ToolCallPart(key, joined("id"), joined("name"), joined("arguments"))


def _combine(left: Reply, right: Reply) -> Reply:
    return _concat((left, right))


def _concat(replies: Sequence[Reply]) -> Reply:
    if len(replies) == 1:
        return replies[0]
    usage, stop, meta = _NO_USAGE, None, dict[str, Any]()
    for reply in replies:
        if reply.usage != _NO_USAGE:
            usage = usage + reply.usage
        if reply.stop is not None:
            stop = reply.stop
        meta.update(reply.meta)
    fragments = (fragment for reply in replies for fragment in reply.fragments)
    return Reply(fragments, usage, stop, meta)  # (the converter reduces them)


REPLY: Monoid[Reply] = Monoid("reply", Reply, _combine, _concat, kind=Reply)
"""How replies add up: fragments as a free product (adjacent fragments of one part merge),
usage summed, the latest stop reason, metadata merged with the latest value winning."""

Reply.__agentcat_monoid__ = REPLY
name_constants(__name__, "REPLY")


def text_of(reply: Reply) -> str:
    """The text of ``reply``: a monoid homomorphism from :data:`REPLY` to text, so a stream of
    replies mapped by it (``map_deltas(text_of)``) is the stream of their text."""
    return reply.text


def as_reply(text: str) -> Reply:
    """The reply whose only part is ``text`` (text part 0): a homomorphism from text to
    :data:`REPLY`, which lifts a text stage into a pipeline of replies."""
    return Reply((Text(0, text),))

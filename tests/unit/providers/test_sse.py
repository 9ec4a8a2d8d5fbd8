from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strands_portkey.providers._sse import SSEDecoder, SSEEvent


def decode_whole(stream: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    return decoder.feed(stream) + decoder.close()


def decode_in_pieces(stream: bytes, cuts: list[int]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(stream)]:
        events += decoder.feed(stream[start:cut])
        start = cut
    return events + decoder.close()


REALISTIC = (
    b": keep-alive comment\r\n"
    b"event: message_start\r\n"
    b'data: {"text": "caf\xc3\xa9 \xf0\x9f\x98\x80"}\r\n'
    b"id: 17\r\n"
    b"retry: 3000\r\n"
    b"\r\n"
    b"data: first line\n"
    b"data:second line without space\n"
    b"data:  two spaces keep one\n"
    b"\n"
    b": another comment\r"
    b"data: old mac line endings\r"
    b"\r"
    b"event: error\n"
    b'data: {"error": {"message": "boom"}}\n'
    b"\n"
    b"data: [DONE]"
)

REALISTIC_EVENTS = [
    SSEEvent("message_start", '{"text": "café 😀"}'),
    SSEEvent(None, "first line\nsecond line without space\n two spaces keep one"),
    SSEEvent(None, "old mac line endings"),
    SSEEvent("error", '{"error": {"message": "boom"}}'),
    SSEEvent(None, "[DONE]"),
]


def test_realistic_stream_fed_whole() -> None:
    assert decode_whole(REALISTIC) == REALISTIC_EVENTS


def test_realistic_stream_fed_byte_by_byte() -> None:
    assert decode_in_pieces(REALISTIC, list(range(len(REALISTIC)))) == REALISTIC_EVENTS


@given(st.lists(st.integers(min_value=0, max_value=len(REALISTIC)), max_size=40))
def test_realistic_stream_survives_any_split(cuts: list[int]) -> None:
    assert decode_in_pieces(REALISTIC, cuts) == REALISTIC_EVENTS


def test_a_long_line_in_small_pieces_is_one_event() -> None:
    """The unfinished line is kept as pieces (joined once at its end): linear, and exact."""
    text = "caf\u00e9 " * 20_000
    stream = b"\xef\xbb\xbfevent: big\r\ndata: " + text.encode() + b"\r\n\r\ndata: last"
    assert decode_in_pieces(stream, list(range(1, len(stream), 7))) == [
        SSEEvent("big", text),
        SSEEvent(None, "last"),
    ]


def test_split_inside_a_multibyte_character() -> None:
    stream = "data: é😀\n\n".encode()
    cut = stream.index(b"\xf0") + 2  # in the middle of the emoji
    decoder = SSEDecoder()
    assert decoder.feed(stream[:cut]) == []
    assert decoder.feed(stream[cut:]) == [SSEEvent(None, "é😀")]


def test_split_between_cr_and_lf_is_one_line_ending() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n") == []  # the LF belongs to the CR: no blank line yet
    assert decoder.feed(b"\r") == [SSEEvent(None, "a")]
    assert decoder.feed(b"\ndata: b\r\n\r\n") == [SSEEvent(None, "b")]


def test_empty_feed_keeps_pending_cr_state() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"") == []
    assert decoder.feed(b"\n\n") == [SSEEvent(None, "a")]


def test_cr_cr_lf_is_two_line_endings() -> None:
    assert decode_whole(b"data: a\r\r\ndata: b\n\n") == [SSEEvent(None, "a"), SSEEvent(None, "b")]


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (b"data\n\n", [SSEEvent(None, "")]),
        (b"data:\n\n", [SSEEvent(None, "")]),
        (b"data: x\ndata\n\n", [SSEEvent(None, "x\n")]),
        (b"event: ping\n\n", []),  # no data: nothing dispatched
        (b"event: ping\n\ndata: x\n\n", [SSEEvent(None, "x")]),  # event name reset after blank line
        (b"event:\ndata: x\n\n", [SSEEvent(None, "x")]),
        (b"unknown: field\nid: 3\nretry: 10\ndata: x\n\n", [SSEEvent(None, "x")]),
        (b":data: not data\n\n", []),
        (b"data: x", [SSEEvent(None, "x")]),  # dispatched by close()
        (b"data: x\n", [SSEEvent(None, "x")]),
        (b"\xef\xbb\xbfdata: bom\n\n", [SSEEvent(None, "bom")]),
        (b"data: \xff\n\n", [SSEEvent(None, "\ufffd")]),
    ],
)
def test_field_rules(stream: bytes, expected: list[SSEEvent]) -> None:
    assert decode_whole(stream) == expected
    assert decode_in_pieces(stream, list(range(len(stream)))) == expected


def test_bom_split_across_feeds() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef") == []
    assert decoder.feed(b"\xbb") == []
    assert decoder.feed(b"\xbfdata: x\n\n") == [SSEEvent(None, "x")]


def test_bom_only_at_start() -> None:
    assert decode_whole(b"data: a\n\n\xef\xbb\xbfdata: b\n\n") == [SSEEvent(None, "a")]


def test_close_resets_state() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"event: e\ndata: a")
    assert decoder.close() == [SSEEvent("e", "a")]
    assert decoder.close() == []


def test_event_is_frozen() -> None:
    event = SSEEvent(None, "x")
    with pytest.raises(AttributeError):
        event.data = "y"  # type: ignore[misc]


# ---------------------------------------------------------------- generated streams

_LINE_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=12)
_EVENT = st.tuples(
    st.one_of(st.none(), st.text(alphabet="abcdefgh_", min_size=1, max_size=8)),
    st.lists(_LINE_TEXT, max_size=3),
    st.booleans(),  # a comment before the event
)
_NEWLINE = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def generated_streams(draw: st.DrawFn) -> tuple[bytes, list[SSEEvent]]:
    events = draw(st.lists(_EVENT, max_size=6))
    unterminated_last = draw(st.booleans())
    out = bytearray()
    expected: list[SSEEvent] = []

    def end_line() -> None:
        newline = draw(_NEWLINE)
        if newline == b"\n" and out.endswith(b"\r"):
            newline = b"\r\n"  # a bare LF after CR would merge with it into one line ending
        out.extend(newline)

    for position, (name, lines, comment) in enumerate(events):
        if comment:
            out.extend(b": note")
            end_line()
        if name is not None:
            out.extend(b"event: " + name.encode())
            end_line()
        for text in lines:
            out.extend(b"data: " + text.encode())
            end_line()
        if not (position == len(events) - 1 and unterminated_last):
            end_line()
        if lines:
            expected.append(SSEEvent(name, "\n".join(lines)))
    return bytes(out), expected


@settings(max_examples=300)
@given(generated_streams(), st.data())
def test_generated_streams_decode_the_same_under_any_split(
    stream_and_events: tuple[bytes, list[SSEEvent]], data: st.DataObject
) -> None:
    stream, expected = stream_and_events
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=20))
    assert decode_whole(stream) == expected
    assert decode_in_pieces(stream, cuts) == expected

"""The header grammar and ASCII armor on their own, with no keys involved."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device import age
from device.age._io import read_header
from device.age.armor import ArmorWriter, dearmor
from device.age.format import b64decode, encode_header
from device.errors import ArmorError, HeaderError

ARGS = st.lists(st.from_regex(r"[!-~]+", fullmatch=True), max_size=3)


@given(body=st.binary(max_size=200), args=ARGS)
@settings(max_examples=60)
def test_headers_round_trip(body: bytes, args: list[str]) -> None:
    stanzas = [age.Stanza("test", tuple(args), body), age.Stanza("X25519", ("abc",), b"")]
    raw = encode_header(stanzas, bytes(32)) + b"payload"
    header, leftover = read_header(io.BytesIO(raw))
    assert header.stanzas == tuple(stanzas)
    assert header.encode() + leftover == raw


def test_a_48_byte_body_ends_with_an_empty_line() -> None:
    encoded = age.Stanza("t", (), bytes(48)).encode()
    assert encoded == b"-> t\n" + b"A" * 64 + b"\n\n"


@pytest.mark.parametrize("text", [b"AA==", b"AB", b"A", b"AA\n", b"A A"])
def test_base64_must_be_unpadded_and_canonical(text: bytes) -> None:
    with pytest.raises(ValueError):
        b64decode(text)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"", "empty"),
        (b"age-encryption.org/v2\n", "unsupported age version"),
        (b"hello\n", "not an age file"),
        (b"age-encryption.org/v1\n-> X25519\n", "ends inside the header"),
        (b"age-encryption.org/v1\n->  a\n\n--- " + b"A" * 43 + b"\n", "empty or invalid"),
    ],
)
def test_broken_headers_say_what_is_wrong(raw: bytes, why: str) -> None:
    with pytest.raises(HeaderError, match=why):
        read_header(io.BytesIO(raw))


@given(data=st.binary(max_size=500))
@settings(max_examples=60)
def test_armor_round_trips_at_64_columns(data: bytes) -> None:
    out = io.BytesIO()
    writer = ArmorWriter(out)
    for i in range(0, len(data), 37):
        writer.write(data[i : i + 37])
    writer.finish()
    text = out.getvalue()
    lines = text.split(b"\n")[1:-2]
    assert all(len(line) == 64 for line in lines[:-1])
    assert dearmor(text) == data
    assert dearmor(b"\r\n  \n" + text.replace(b"\n", b"\r\n") + b" \n") == data


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"-----BEGIN AGE ENCRYPTED FILE-----\n",
        b"x-----BEGIN AGE ENCRYPTED FILE-----\nAAAA\n-----END AGE ENCRYPTED FILE-----\n",
        b"-----BEGIN AGE ENCRYPTED FILE-----\nAAAA\n-----END AGE ENCRYPTED FILE----- \n",
    ],
)
def test_bad_armor_is_refused(text: bytes) -> None:
    with pytest.raises(ArmorError):
        dearmor(text)

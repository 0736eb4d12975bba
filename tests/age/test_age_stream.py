"""STREAM writer and reader: random access, truncation, unfinished files, salvage, memory."""

from __future__ import annotations

import array
import io
import random
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device import age
from device.age.stream import CHUNK_SIZE, ENC_CHUNK_SIZE
from device.errors import ChunkAuthError, PayloadError, RecipientError, TruncatedError

FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ME = age.X25519Identity.generate()


def plaintext(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


class NoSeekSink:
    """A pipe-like sink: it records every byte and refuses to seek or tell."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self.data += data
        return len(data)

    def seek(self, *args: int) -> int:
        raise AssertionError("the writer seeked its output")

    def tell(self) -> int:
        raise AssertionError("the writer asked its output's position")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def encrypt(data: bytes, splits: list[int] | None = None, finish: bool = True) -> bytes:
    sink = NoSeekSink()
    writer = age.Writer(sink, [ME.recipient()])
    pos = 0
    for size in splits or [len(data)]:
        writer.write(data[pos : pos + size])
        pos += size
    writer.write(data[pos:])
    writer.close() if finish else writer.abandon()
    return bytes(sink.data)


def payload_start(ciphertext: bytes) -> int:
    """Where chunk 0 starts: after the header's MAC line and the 16-byte nonce."""
    mac_line = ciphertext.index(b"\n--- ") + 1
    return ciphertext.index(b"\n", mac_line) + 1 + 16


sizes = st.integers(min_value=0, max_value=4 * CHUNK_SIZE + 17)
seek_then_read = st.tuples(
    st.integers(-5, 2**20), st.integers(0, 3 * CHUNK_SIZE), st.sampled_from([0, 1, 2])
)


@FAST
@given(size=sizes, seed=st.integers(0, 2**32), ops=st.lists(seek_then_read, max_size=12))
def test_random_seeks_and_reads_match_the_plaintext(
    size: int, seed: int, ops: list[tuple[int, int, int]]
) -> None:
    data = plaintext(size, seed)
    splits = [random.Random(seed).randint(1, 70_000) for _ in range(5)]
    reader = age.Reader(io.BytesIO(encrypt(data, splits)), [ME])
    model = io.BytesIO(data)
    assert reader.size == size and reader.complete
    for offset, length, whence in ops:
        if whence == 0:
            offset = abs(offset)
        if model.seek(0, whence) + offset < 0:
            continue
        assert reader.seek(offset, whence) == model.seek(offset, whence)
        assert reader.read(length) == model.read(length)
        assert reader.tell() == model.tell()


@FAST
@given(size=st.integers(1, 4 * CHUNK_SIZE), data=st.data())
def test_truncation_anywhere_is_detected(size: int, data: st.DataObject) -> None:
    ciphertext = encrypt(plaintext(size))
    start = payload_start(ciphertext)
    boundaries = list(range(start, len(ciphertext), ENC_CHUNK_SIZE))
    cut = data.draw(st.sampled_from(boundaries) | st.integers(start, len(ciphertext) - 1))
    cut_file = ciphertext[:cut]
    with pytest.raises(TruncatedError):
        age.Reader(io.BytesIO(cut_file), [ME])
    with pytest.raises(TruncatedError):
        age.decrypt(io.BytesIO(cut_file), [ME], io.BytesIO())


@FAST
@given(size=st.integers(0, 5 * CHUNK_SIZE), cut_back=st.integers(0, 3 * ENC_CHUNK_SIZE))
def test_unfinished_reader_exposes_exactly_the_complete_chunks(size: int, cut_back: int) -> None:
    data = plaintext(size)
    ciphertext = encrypt(data, finish=False)  # a power cut: no final chunk written
    start = payload_start(ciphertext)
    cut = max(start - 16, len(ciphertext) - cut_back)
    complete = max(cut - start, 0) // ENC_CHUNK_SIZE
    reader = age.Reader(io.BytesIO(ciphertext[:cut]), [ME], allow_unfinished=True)
    assert not reader.complete
    assert (reader.chunks, reader.size) == (complete, complete * CHUNK_SIZE)
    assert reader.read() == data[: complete * CHUNK_SIZE]


def test_unfinished_mode_reads_a_complete_file_whole() -> None:
    data = plaintext(CHUNK_SIZE * 2 + 5)
    reader = age.Reader(io.BytesIO(encrypt(data)), [ME], allow_unfinished=True)
    assert reader.complete and reader.read() == data


@settings(max_examples=15, deadline=None)
@given(size=st.integers(0, 4 * CHUNK_SIZE), cut_back=st.integers(0, 2 * ENC_CHUNK_SIZE))
def test_salvage_keeps_the_complete_chunks_and_age_opens_it(
    size: int, cut_back: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = plaintext(size, 7)
    ciphertext = encrypt(data, finish=False)
    ciphertext = ciphertext[: max(payload_start(ciphertext), len(ciphertext) - cut_back)]
    kept = (len(ciphertext) - payload_start(ciphertext)) // ENC_CHUNK_SIZE
    out = io.BytesIO()
    report = age.salvage(io.BytesIO(ciphertext), [ME], out, [ME.recipient()])
    assert report == age.SalvageReport(kept, kept * CHUNK_SIZE, was_complete=False)
    salvaged = out.getvalue()
    assert salvaged[:200] != ciphertext[:200]  # a fresh header and nonce
    folder = tmp_path_factory.mktemp("salvage")
    (folder / "key").write_text(str(ME) + "\n")
    (folder / "film.age").write_bytes(salvaged)
    opened = subprocess.run(
        ["age", "-d", "-i", folder / "key", folder / "film.age"], capture_output=True, check=True
    )
    assert opened.stdout == data[: kept * CHUNK_SIZE]


def test_salvage_of_a_complete_file_copies_it_whole() -> None:
    data = plaintext(CHUNK_SIZE + 1)
    out = io.BytesIO()
    report = age.salvage(io.BytesIO(encrypt(data)), [ME], out, [ME.recipient()])
    assert report == age.SalvageReport(2, len(data), was_complete=True)
    assert age.decrypt_bytes(out.getvalue(), [ME]) == data


@pytest.mark.parametrize("bad", [0, 1, 2])
def test_a_damaged_chunk_is_named_and_earlier_chunks_are_released(bad: int) -> None:
    data = plaintext(3 * CHUNK_SIZE + 10)
    damaged = bytearray(encrypt(data))
    damaged[payload_start(bytes(damaged)) + bad * ENC_CHUNK_SIZE + 100] ^= 1
    reader = age.Reader(io.BytesIO(bytes(damaged)), [ME])
    assert reader.read(bad * CHUNK_SIZE) == data[: bad * CHUNK_SIZE]
    with pytest.raises(ChunkAuthError) as caught:
        reader.read(1)
    assert caught.value.chunk == bad
    released = io.BytesIO()
    with pytest.raises(ChunkAuthError):
        age.decrypt(io.BytesIO(bytes(damaged)), [ME], released)
    assert released.getvalue() == data[: bad * CHUNK_SIZE]


# Longer files than the property tests make: whole chunks only, one byte more, one less.
MANY_CHUNKS = [17 * CHUNK_SIZE, 17 * CHUNK_SIZE + 1, 33 * CHUNK_SIZE - 1, 33 * CHUNK_SIZE]


@pytest.mark.parametrize("size", MANY_CHUNKS)
def test_sequential_decryption_of_many_chunks(size: int) -> None:
    data = plaintext(size, 3)
    ciphertext = encrypt(data, splits=[CHUNK_SIZE // 3, 5 * CHUNK_SIZE])
    out = io.BytesIO()
    assert age.decrypt(io.BytesIO(ciphertext), [ME], out) == size
    assert out.getvalue() == data
    full_final = size % CHUNK_SIZE == 0  # else the extra byte lengthens the short final chunk
    with pytest.raises(PayloadError, match="after the file's final part" if full_final else None):
        age.decrypt(io.BytesIO(ciphertext + b"x"), [ME], io.BytesIO())
    whole = payload_start(ciphertext) + (size // CHUNK_SIZE) * ENC_CHUNK_SIZE
    with pytest.raises(TruncatedError):  # cut after a whole chunk, final one lost
        age.decrypt(io.BytesIO(ciphertext[: min(whole, len(ciphertext) - 1)]), [ME], io.BytesIO())
    damaged = bytearray(ciphertext)
    damaged[payload_start(ciphertext) + 10 * ENC_CHUNK_SIZE + 7] ^= 1
    released = io.BytesIO()
    with pytest.raises(ChunkAuthError) as caught:
        age.decrypt(io.BytesIO(bytes(damaged)), [ME], released)
    assert caught.value.chunk == 10
    assert released.getvalue() == data[: 10 * CHUNK_SIZE]


class Trickle(io.RawIOBase):
    """A pipe-like source: it hands out at most ``step`` bytes per read."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data, self._pos, self._step = data, 0, step

    def readable(self) -> bool:
        return True

    def readinto(self, buf: memoryview) -> int:  # type: ignore[override]  # narrower buffer
        n = min(len(buf), self._step, len(self._data) - self._pos)
        buf[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, *MANY_CHUNKS[:2]])
@pytest.mark.parametrize("already", [0, 10, CHUNK_SIZE])
def test_write_from_encrypts_the_rest_of_a_source(size: int, already: int) -> None:
    data = plaintext(already + size, 5)
    sink = NoSeekSink()
    writer = age.Writer(sink, [ME.recipient()])
    writer.write(data[:already])  # bytes held before, as a caller may have written
    assert writer.write_from(Trickle(data[already:], 10_000)) == size
    assert writer.tell() == len(data) and writer.buffered() <= CHUNK_SIZE
    writer.close()
    assert age.decrypt_bytes(bytes(sink.data), [ME]) == data
    chunks = max(1, -(-len(data) // CHUNK_SIZE))
    assert len(sink.data) - payload_start(bytes(sink.data)) == len(data) + 16 * chunks


def test_damaged_final_chunk_is_a_payload_error() -> None:
    damaged = bytearray(encrypt(plaintext(CHUNK_SIZE + 10)))
    damaged[-3] ^= 1
    with pytest.raises(PayloadError):
        age.Reader(io.BytesIO(bytes(damaged)), [ME])


def test_writer_holds_at_most_one_chunk_and_never_seeks() -> None:
    rng = random.Random(3)
    sink = NoSeekSink()
    writer = age.Writer(sink, [ME.recipient()])
    data = bytearray()
    for _ in range(300):
        piece = rng.randbytes(rng.choice([1, 7, 4093, CHUNK_SIZE - 1, CHUNK_SIZE, 200_001]))
        kind = rng.choice([bytes, bytearray, memoryview])
        assert writer.write(kind(piece)) == len(piece)
        data += piece
        assert 0 < writer.buffered() <= CHUNK_SIZE
        assert len(writer._plain) == CHUNK_SIZE  # the one preallocated chunk never grows
        assert writer.tell() == len(data)
        # everything but the held chunk is already out, sealed
        sealed = (len(sink.data) - payload_start(bytes(sink.data))) // ENC_CHUNK_SIZE
        assert sealed * CHUNK_SIZE + writer.buffered() == len(data)
    writer.close()
    assert sink.closed
    assert age.decrypt_bytes(bytes(sink.data), [ME]) == data


def test_writer_takes_typed_buffers_and_closes_once() -> None:
    samples = array.array("h", range(-1000, 1000))
    out = io.BytesIO()
    with age.Writer(out, [ME.recipient()], close_output=False) as writer:
        assert writer.write(samples) == len(samples) * 2
        assert (writer.writable(), writer.readable(), writer.seekable()) == (True, False, False)
    writer.close()
    assert writer.closed
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"x")
    assert age.decrypt_bytes(out.getvalue(), [ME]) == samples.tobytes()


def test_an_error_inside_the_with_block_leaves_the_file_unfinished() -> None:
    out = io.BytesIO()
    with pytest.raises(RuntimeError), age.Writer(out, [ME.recipient()], close_output=False) as w:
        w.write(plaintext(3 * CHUNK_SIZE))
        raise RuntimeError("the muxer failed")
    reader = age.Reader(io.BytesIO(out.getvalue()), [ME], allow_unfinished=True)
    assert (reader.complete, reader.chunks) == (False, 2)


def test_sync_puts_every_sealed_chunk_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "film.mp4.age"
    data = plaintext(5 * CHUNK_SIZE + 3)
    writer = age.Writer(path.open("wb"), [ME.recipient()])
    writer.write(data)
    writer.sync()
    with path.open("rb") as src:  # what a power cut right now would leave
        reader = age.Reader(src, [ME], allow_unfinished=True)
        assert reader.read() == data[: 5 * CHUNK_SIZE]
    writer.close()
    assert age.decrypt_bytes(path.read_bytes(), [ME]) == data


def test_a_passphrase_must_be_the_only_recipient() -> None:
    with pytest.raises(RecipientError):
        age.Writer(io.BytesIO(), [age.ScryptRecipient("x", 2), ME.recipient()])
    with pytest.raises(RecipientError):
        age.Writer(io.BytesIO(), [])


def test_reader_starts_at_the_sources_position_and_reads_armor() -> None:
    data = plaintext(1000)
    src = io.BytesIO(b"junk" + encrypt(data))
    src.seek(4)
    assert age.Reader(src, [ME]).read() == data
    armored = age.encrypt_bytes(data, [ME.recipient()], armor=True)
    assert age.Reader(io.BytesIO(armored), [ME]).read() == data


class FailingSink(NoSeekSink):
    """A disk that fills up after ``room`` bytes."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if len(self.data) + len(data) > self.room:
            raise OSError(28, "No space left on device")
        return super().write(data)


def test_after_a_failed_write_the_writer_refuses_more() -> None:
    sink = FailingSink(room=2 * ENC_CHUNK_SIZE)
    writer = age.Writer(sink, [ME.recipient()])
    with pytest.raises(OSError, match="No space"):
        writer.write(plaintext(4 * CHUNK_SIZE))
    with pytest.raises(ValueError, match="cannot be continued"):
        writer.write(b"more")  # a retry would reuse a chunk's nonce
    writer.close()
    assert sink.closed
    reader = age.Reader(io.BytesIO(bytes(sink.data)), [ME], allow_unfinished=True)
    assert reader.read() == plaintext(4 * CHUNK_SIZE)[: reader.size] and not reader.complete


@pytest.mark.parametrize(("bad", "finish"), [(0, True), (1, True), (3, True), (1, False)])
def test_salvage_keeps_every_chunk_but_a_damaged_one(bad: int, finish: bool) -> None:
    data = plaintext(3 * CHUNK_SIZE + 10, 3)  # four chunks; the last holds 10 bytes
    damaged = bytearray(encrypt(data, finish=finish))
    damaged[payload_start(bytes(damaged)) + bad * ENC_CHUNK_SIZE + 5] ^= 1
    out = io.BytesIO()
    report = age.salvage(io.BytesIO(bytes(damaged)), [ME], out, [ME.recipient()])
    chunks = [data[i : i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)]
    if not finish:
        chunks = chunks[:3]  # an unfinished file: its last, unsealed piece is not there
    if bad == len(chunks) - 1 and finish:  # the final chunk: the end cannot be proven
        assert report == age.SalvageReport(3, 3 * CHUNK_SIZE, was_complete=False)
        assert age.decrypt_bytes(out.getvalue(), [ME]) == b"".join(chunks[:3])
        return
    kept = [c for i, c in enumerate(chunks) if i != bad]
    lost = (bad * CHUNK_SIZE, bad * CHUNK_SIZE + len(chunks[bad]))
    assert report == age.SalvageReport(len(kept), len(b"".join(kept)), finish, (lost,))
    assert age.decrypt_bytes(out.getvalue(), [ME]) == b"".join(kept)

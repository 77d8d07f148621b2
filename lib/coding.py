"""Real prefix-free codes for quantised models (paper Section 5.3) and their decoders.

A message is a header of hyperparameter choices followed by quantised vectors
("sections"). Bit layout, in order:

1. header: each data-dependent choice as its index in the profile's grid,
   ``ceil(log2 |grid|)`` bits (0 bits for a grid of one value);
2. per section
   a. the codebook (unless the decoder already has it): r entries as IEEE
      float16, 16 bits each -- models are evaluated with exactly these values;
   b. symbol counts: the first r-1 counts, ``ceil(log2(N+1))`` bits each (the
      last is N minus their sum; N, the number of parameters, follows from the
      header);
   c. the indices, arithmetic-coded (constriction's range coder, ``perfect=False``)
      under the empirical distribution given by the counts, restricted to symbols
      that occur: an Elias-gamma coded word count, then 32-bit words. Nothing is
      stored when one symbol takes all N positions.

Each field's length is fixed by what precedes it or is Elias-gamma coded, so the
code is prefix-free and its length -- the exact number of bits written, reported
as ``Encoded.bits`` with a per-component breakdown -- is what enters the bounds.
The byte container adds zero padding to a whole byte and a CRC-32 checksum (not
part of the model's code; it makes a corrupted or truncated container fail to
decode instead of silently yielding another model). The decoder also checks that
the decoded indices have exactly the transmitted counts and that every code bit
was consumed.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Callable, Sequence

import constriction
import numpy as np

WORD_BITS = 32
FLOAT_BITS = 16


class CorruptStreamError(ValueError):
    """The bytes are not a valid encoding (checksum, length or consistency check failed)."""


def bits_for(choices: int) -> int:
    """Bits to name one of ``choices`` values with a fixed-width index."""
    if choices < 1:
        raise ValueError(f"a grid needs at least one value, got {choices}")
    return math.ceil(math.log2(choices)) if choices > 1 else 0


def to_fp16(codebook: np.ndarray) -> np.ndarray:
    """The codebook as the decoder sees it: float16 values (returned as float32)."""
    return np.asarray(codebook, dtype=np.float16).astype(np.float32)


class BitWriter:
    def __init__(self) -> None:
        self.value, self.length = 0, 0

    def write(self, value: int, width: int) -> None:
        if width == 0:
            return
        if not 0 <= value < (1 << width):
            raise ValueError(f"value {value} does not fit in {width} bits")
        self.value = (self.value << width) | value
        self.length += width

    def gamma(self, value: int) -> None:
        """Elias-gamma code of a positive integer: prefix-free, 2 floor(log2 v) + 1 bits."""
        if value < 1:
            raise ValueError(f"Elias gamma codes positive integers, got {value}")
        width = value.bit_length()
        self.write(0, width - 1)
        self.write(value, width)

    def to_bytes(self) -> bytes:
        pad = (-self.length) % 8
        return (self.value << pad).to_bytes((self.length + pad) // 8, "big")


class BitReader:
    def __init__(self, data: bytes) -> None:
        self.value, self.total, self.pos = int.from_bytes(data, "big"), 8 * len(data), 0

    def read(self, width: int) -> int:
        if width == 0:
            return 0
        if self.pos + width > self.total:
            raise CorruptStreamError(f"unexpected end of stream: need {width} bits at bit {self.pos} of {self.total}")
        self.pos += width
        return (self.value >> (self.total - self.pos)) & ((1 << width) - 1)

    def gamma(self) -> int:
        zeros = 0
        while self.read(1) == 0:
            zeros += 1
            if zeros > 64:
                raise CorruptStreamError("invalid Elias-gamma code (too many leading zeros)")
        return (1 << zeros) | self.read(zeros)


@dataclass
class Section:
    """One quantised vector: ``indices`` into a codebook of ``r`` entries (``codebook`` None: decoder knows it)."""

    name: str
    indices: np.ndarray
    r: int
    codebook: np.ndarray | None = None


@dataclass
class Encoded:
    """A container (``data``) and the exact length of the code inside it, with its breakdown."""

    data: bytes
    bits: int
    breakdown: dict[str, int] = field(default_factory=dict)


def _ac_model(counts: np.ndarray):
    return constriction.stream.model.Categorical(counts.astype(np.float64) / counts.sum(), perfect=False)


def _write_section(w: BitWriter, sec: Section, breakdown: dict[str, int]) -> None:
    idx = np.asarray(sec.indices, dtype=np.int64).ravel()
    n_sym = idx.size
    if idx.size and (idx.min() < 0 or idx.max() >= sec.r):
        raise ValueError(f"section {sec.name}: indices must lie in 0..{sec.r - 1}")
    start = w.length
    if sec.codebook is not None:
        book = np.asarray(sec.codebook, dtype=np.float16)
        if book.shape != (sec.r,):
            raise ValueError(f"section {sec.name}: codebook has {book.size} entries, r = {sec.r}")
        if not np.all(np.isfinite(book)):
            raise ValueError(f"section {sec.name}: codebook entries must be finite in float16")
        for bits16 in book.view(np.uint16):
            w.write(int(bits16), FLOAT_BITS)
    breakdown[f"{sec.name}.codebook"] = w.length - start
    start = w.length
    counts = np.bincount(idx, minlength=sec.r)
    width = bits_for(n_sym + 1)
    for c in counts[:-1]:
        w.write(int(c), width)
    breakdown[f"{sec.name}.counts"] = w.length - start
    start = w.length
    present = np.flatnonzero(counts)
    if present.size > 1:
        remap = np.full(sec.r, -1, dtype=np.int64)
        remap[present] = np.arange(present.size)
        enc = constriction.stream.queue.RangeEncoder()
        enc.encode(remap[idx].astype(np.int32), _ac_model(counts[present]))
        words = enc.get_compressed()
        w.gamma(len(words) + 1)
        for word in words:
            w.write(int(word), WORD_BITS)
    breakdown[f"{sec.name}.indices"] = w.length - start


def _read_section(rd: BitReader, name: str, n_sym: int, r: int, has_codebook: bool) -> tuple[np.ndarray | None, np.ndarray]:
    book = None
    if has_codebook:
        raw = np.array([rd.read(FLOAT_BITS) for _ in range(r)], dtype=np.uint16)
        book = raw.view(np.float16).astype(np.float32)
        if not np.all(np.isfinite(book)):
            raise CorruptStreamError(f"section {name}: decoded codebook holds non-finite values")
    width = bits_for(n_sym + 1)
    counts = np.array([rd.read(width) for _ in range(r - 1)], dtype=np.int64)
    last = n_sym - counts.sum()
    if last < 0:
        raise CorruptStreamError(f"section {name}: symbol counts exceed the {n_sym} parameters")
    counts = np.append(counts, last)
    present = np.flatnonzero(counts)
    if present.size == 0:
        return book, np.zeros(0, dtype=np.int64)
    if present.size == 1:
        return book, np.full(n_sym, present[0], dtype=np.int64)
    n_words = rd.gamma() - 1
    words = np.array([rd.read(WORD_BITS) for _ in range(n_words)], dtype=np.uint32)
    try:
        symbols = constriction.stream.queue.RangeDecoder(words).decode(_ac_model(counts[present]), n_sym)
    except Exception as err:  # constriction raises on streams it cannot decode
        raise CorruptStreamError(f"section {name}: arithmetic decoding failed ({err})") from err
    idx = present[np.asarray(symbols, dtype=np.int64)]
    if not np.array_equal(np.bincount(idx, minlength=r), counts):
        raise CorruptStreamError(f"section {name}: decoded indices do not match the transmitted counts")
    return book, idx


def encode(header: Sequence[tuple[int, int]], sections: Sequence[Section]) -> Encoded:
    """Encode header choices ``(index, grid_size)`` and quantised sections into a container."""
    w = BitWriter()
    breakdown: dict[str, int] = {}
    for value, size in header:
        if not 0 <= value < size:
            raise ValueError(f"header choice {value} is not an index into a grid of {size}")
        w.write(value, bits_for(size))
    breakdown["header"] = w.length
    for sec in sections:
        _write_section(w, sec, breakdown)
    body = w.to_bytes()
    # The code's length goes first in the container (outside the counted code) so the decoder
    # can tell padding from code; the CRC covers everything.
    payload = w.length.to_bytes(8, "big") + body
    return Encoded(payload + zlib.crc32(payload).to_bytes(4, "big"), w.length, breakdown)


Layout = Callable[[list[int]], list[tuple[str, int, int, bool]]]


def decode(data: bytes, header_sizes: Sequence[int], layout: Layout) -> tuple[list[int], list[tuple[np.ndarray | None, np.ndarray]]]:
    """Inverse of :func:`encode`. ``layout(header_values)`` gives each section's
    ``(name, n_symbols, r, has_codebook)``, as a decoder derives them from the hyperparameters."""
    if len(data) < 12:
        raise CorruptStreamError(f"container of {len(data)} bytes is too short (truncated?)")
    payload, crc = data[:-4], int.from_bytes(data[-4:], "big")
    if zlib.crc32(payload) != crc:
        raise CorruptStreamError("checksum mismatch: the container is corrupted or truncated")
    n_bits = int.from_bytes(payload[:8], "big")
    body = payload[8:]
    if not 8 * len(body) - 8 < n_bits <= 8 * len(body) and not (n_bits == 0 and not body):
        raise CorruptStreamError(f"declared code length {n_bits} bits does not fit {len(body)} bytes")
    rd = BitReader(body)
    rd.total = n_bits  # never read into the padding
    rd.value >>= 8 * len(body) - n_bits
    values = []
    for size in header_sizes:
        v = rd.read(bits_for(size))
        if v >= size:
            raise CorruptStreamError(f"header index {v} outside a grid of {size}")
        values.append(v)
    sections = [_read_section(rd, name, n_sym, r, has_book) for name, n_sym, r, has_book in layout(values)]
    if rd.pos != n_bits:
        raise CorruptStreamError(f"{n_bits - rd.pos} code bits left over after decoding")
    return values, sections


def naive_bits(num_values: int) -> int:
    """The naive code: every value as a 32-bit float."""
    return 32 * num_values

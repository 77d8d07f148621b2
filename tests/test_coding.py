"""Real bitstreams: encode -> decode is the identity; corrupted or truncated containers fail loudly."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lib.coding import (BitReader, BitWriter, CorruptStreamError, Section, bits_for, decode, encode, naive_bits,
                        to_fp16)


def _layout(sections):
    return lambda header: [(s.name, s.indices.size, s.r, s.codebook is not None) for s in sections]


@st.composite
def messages(draw):
    n_sections = draw(st.integers(1, 3))
    sections = []
    for i in range(n_sections):
        r = draw(st.integers(1, 40))
        n_sym = draw(st.integers(1, 600))
        kind = draw(st.sampled_from(["uniform", "skewed", "single"]))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        if kind == "single":
            idx = np.full(n_sym, rng.integers(r))
        elif kind == "skewed":
            p = rng.dirichlet(np.full(r, 0.3))
            idx = rng.choice(r, n_sym, p=p)
        else:
            idx = rng.integers(0, r, n_sym)
        book = None
        if draw(st.booleans()):
            book = rng.normal(scale=draw(st.sampled_from([1e-3, 1.0, 100.0])), size=r)
            if r > 1 and draw(st.booleans()):
                book[1] = book[0] * (1 + 1e-5)  # collides with book[0] in float16
        sections.append(Section(f"s{i}", idx, r, book))
    sizes = draw(st.lists(st.integers(1, 40), max_size=5))
    header = [(draw(st.integers(0, s - 1)), s) for s in sizes]
    return header, sections


@settings(max_examples=150, deadline=None)
@given(messages())
def test_encode_decode_roundtrip(message):
    header, sections = message
    enc = encode(header, sections)
    values, decoded = decode(enc.data, [s for _, s in header], _layout(sections))
    assert values == [v for v, _ in header]
    for sec, (book, idx) in zip(sections, decoded):
        assert np.array_equal(idx, sec.indices)
        if sec.codebook is None:
            assert book is None
        else:
            assert np.array_equal(book, to_fp16(sec.codebook))
            assert np.array_equal(book[idx], to_fp16(sec.codebook)[sec.indices])
    assert enc.bits == sum(enc.breakdown.values())
    assert len(enc.data) == 8 + (enc.bits + 7) // 8 + 4


def test_breakdown_components():
    rng = np.random.default_rng(0)
    idx = rng.choice(10, 300, p=np.linspace(1, 10, 10) / 55)
    enc = encode([(3, 33), (1, 12)], [Section("alpha", idx, 10, rng.normal(size=10))])
    b = enc.breakdown
    assert b["header"] == 6 + 4
    assert b["alpha.codebook"] == 10 * 16
    assert b["alpha.counts"] == 9 * 9  # ceil(log2(301)) = 9 bits, last count implied
    entropy = -(np.bincount(idx) / 300 * np.log2(np.bincount(idx) / 300)).sum() * 300
    assert entropy <= b["alpha.indices"] <= entropy + 64 + 32  # AC within a couple of words of the entropy


def test_single_symbol_needs_no_index_bits():
    enc = encode([], [Section("v", np.full(50, 2), 4, np.ones(4))])
    assert enc.breakdown["v.indices"] == 0


def _sample():
    rng = np.random.default_rng(1)
    return encode([(2, 5)], [Section("v", rng.integers(0, 8, 200), 8, rng.normal(size=8))]), \
        lambda h: [("v", 200, 8, True)]


def test_truncated_container_fails():
    enc, layout = _sample()
    for cut in (1, 5, len(enc.data) // 2, len(enc.data) - 1):
        with pytest.raises(CorruptStreamError):
            decode(enc.data[:cut], [5], layout)


def test_every_single_bit_flip_is_detected():
    enc, layout = _sample()
    for i in range(8 * len(enc.data)):
        flipped = bytearray(enc.data)
        flipped[i // 8] ^= 1 << (i % 8)
        with pytest.raises(CorruptStreamError):
            decode(bytes(flipped), [5], layout)


def test_wrong_layout_is_detected():
    enc, _ = _sample()
    with pytest.raises(CorruptStreamError):
        decode(enc.data, [5], lambda h: [("v", 150, 8, True)])


def test_bit_io_and_gamma():
    w = BitWriter()
    for v in (1, 2, 3, 17, 1000):
        w.gamma(v)
    w.write(5, 3)
    r = BitReader(w.to_bytes())
    assert [r.gamma() for _ in range(5)] == [1, 2, 3, 17, 1000] and r.read(3) == 5
    assert bits_for(1) == 0 and bits_for(2) == 1 and bits_for(33) == 6 and naive_bits(10) == 320
    with pytest.raises(ValueError):
        encode([(5, 5)], [])

"""The config-hash cache computes once, keys on the exact spec, and writes atomically."""
import torch

from lib.cache import cached, spec_key


def test_computes_once_and_reuses(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"acc": [0.5], "w": torch.ones(3)}

    spec = {"kind": "t", "d": 10, "lr": 0.1}
    first = cached(tmp_path, spec, compute)
    second = cached(tmp_path, dict(reversed(spec.items())), compute)
    assert len(calls) == 1 and torch.equal(first["w"], second["w"])
    assert not list(tmp_path.glob("*.tmp*"))


def test_key_depends_on_every_value():
    assert spec_key({"d": 10}) != spec_key({"d": 20})
    assert spec_key({"a": {"b": 1}}) != spec_key({"a": {"b": 2}})
    assert spec_key({"a": 1, "b": 2}) == spec_key({"b": 2, "a": 1})


def test_failed_compute_leaves_no_entry(tmp_path):
    def boom():
        raise RuntimeError("interrupted")

    try:
        cached(tmp_path, {"kind": "x"}, boom)
    except RuntimeError:
        pass
    assert not list(tmp_path.iterdir())

"""Disk cache of trained results keyed by a hash of the exact spec that produced them.

Every notebook asks for what it needs through :func:`cached`; what an earlier
notebook (or an interrupted run) already trained is loaded instead of retrained.
Writes are atomic (temp file + rename) so a killed run never leaves a half-written
entry that later looks complete.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable

import torch

# Bump when a change in lib alters what a cached spec computes.
CACHE_VERSION = 5


def spec_key(spec: dict[str, Any]) -> str:
    """A stable hash of a JSON-able spec (key order does not matter)."""
    blob = json.dumps({"v": CACHE_VERSION, **spec}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def entry_path(cache_dir: Path, spec: dict[str, Any]) -> Path:
    """Where the result of ``spec`` is (or will be) stored."""
    return Path(cache_dir) / f"{spec.get('kind', 'result')}-{spec_key(spec)}.pt"


def lookup(cache_dir: Path, spec: dict[str, Any]) -> dict[str, Any] | None:
    """The stored result for ``spec``, or None if it has not been computed."""
    path = entry_path(cache_dir, spec)
    return torch.load(path, weights_only=True)["result"] if path.is_file() else None


def cached(cache_dir: Path, spec: dict[str, Any], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Return the stored result for ``spec`` or compute, store and return it."""
    path = entry_path(cache_dir, spec)
    if path.is_file():
        return torch.load(path, weights_only=True)["result"]
    result = compute()
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save({"spec": json.loads(json.dumps(spec, default=str)), "result": result}, tmp)
    os.replace(tmp, path)
    return result

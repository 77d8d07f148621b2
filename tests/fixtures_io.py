"""Tiny datasets written in the real on-disk formats (never mocks of the loaders)."""
from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as a gzipped IDX file (the MNIST format)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def make_idx_dataset(directory: Path, n_train: int = 120, n_test: int = 40, seed: int = 0) -> None:
    """Random 28x28 images; pixel 0 and 1 encode the example's index so tests can tell images apart."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        labels = (np.arange(count) % 10).astype(np.uint8)
        write_idx(directory / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(directory / f"{split}-labels-idx1-ubyte.gz", labels)


def make_cifar10(directory: Path, per_batch: int = 60, n_test: int = 60, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for i, name in enumerate(names):
        count = n_test if name == "test_batch" else per_batch
        batch = {b"data": rng.integers(0, 256, size=(count, 3072), dtype=np.uint8),
                 b"labels": [int(x) for x in (np.arange(count) + i) % 10]}
        with (directory / name).open("wb") as fh:
            pickle.dump(batch, fh)



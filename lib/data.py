"""The paper's benchmarks (Appendix B.1) as n tasks of (train, test) tensors.

Resolution order for every dataset: the profile's ``data_dir``, then a system
location (Debian's ``dataset-fashion-mnist`` package), then a download if the
profile allows it. A missing dataset raises :class:`DataNotFoundError` naming
the files looked for, where, and how to get them.

Task constructions (all seeded from the profile seed and the benchmark name):

* ``*_sp`` (shuffled pixels): task j has its own fixed random permutation of 200
  randomly chosen pixel positions.
* ``*_pl`` (permuted labels): task j has its own fixed permutation of the labels.
* ``split_cifar10`` / ``split_cifar100``: task j draws 3 / 10 labels at random and
  samples images of those labels; labels keep their global ids (the output layer
  spans the full label set, Table 1's D).
* ``folktables``: ACS income (folktables' ``ACSIncome`` problem, 10 features); one
  task per (survey year, state) pair, drawn at random from years 2018 and 2017
  (the paper's 60 regions are not specified further; 52 states per year).
* ``products``: sentence embeddings of product reviews read from
  ``<data_dir>/products/products.csv`` (columns ``task,label,e0..eK``; one task per
  product id), the format documented in README.md.

Training subsets of different tasks are disjoint (they are drawn without
replacement from one pool). Each task's test set is an independent random draw
from the benchmark's test split, transformed like the task (test sets may share
underlying images across tasks; bounds never use test data). Task j depends only
on (seed, j) -- its block of the pool and its own random stream -- so the first
n tasks are the same whatever n is (Figure 1's sweep is nested, and tasks
n, n+1, ... are held-out tasks for transfer). Inputs are standardised with the
statistics of the whole training split, for the same reason.
"""
from __future__ import annotations

import gzip
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from lib.paths import resolve_data_dir
from lib.subspace import derive_seed

SP_PIXELS = 200
FOLKTABLES_YEARS = (2018, 2017)


class DataNotFoundError(FileNotFoundError):
    """A dataset file is missing; the message says where we looked and how to get it."""


class TaskSizeError(ValueError):
    """The profile asks for more examples than the benchmark has."""


@dataclass
class TaskData:
    """n tasks stacked along dim 0: ``x_train`` (n, m, *input_shape), ``y_train`` (n, m), same for test."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int

    @property
    def n_tasks(self) -> int:
        return self.x_train.shape[0]

    @property
    def m(self) -> int:
        return self.x_train.shape[1]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[2:])

    def subset(self, tasks: list[int] | slice) -> "TaskData":
        """The same data restricted to some tasks (e.g. held-out tasks for transfer)."""
        return TaskData(self.name, self.x_train[tasks], self.y_train[tasks], self.x_test[tasks],
                        self.y_test[tasks], self.num_classes)


# ---------------------------------------------------------------- file formats

IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def read_idx(path: Path) -> np.ndarray:
    """Read a (gzipped) IDX file: the MNIST / Fashion-MNIST on-disk format."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        zero, dtype_code, ndim = struct.unpack(">HBB", fh.read(4))
        if zero != 0 or dtype_code != 0x08:
            raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {zero:#x}, type {dtype_code:#x})")
        shape = struct.unpack(f">{ndim}I", fh.read(4 * ndim))
        data = np.frombuffer(fh.read(), dtype=np.uint8)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: truncated IDX file ({data.size} bytes for shape {shape})")
    return data.reshape(shape)


def idx_num_items(path: Path) -> int:
    """The first dimension of an IDX file, read from its header only."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        _, _, ndim = struct.unpack(">HBB", fh.read(4))
        return struct.unpack(f">{ndim}I", fh.read(4 * ndim))[0]


def read_cifar_batches(paths: list[Path], label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """Read CIFAR python pickle batches into (N, 3, 32, 32) uint8 images and int labels."""
    images, labels = [], []
    for path in paths:
        with path.open("rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
        images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch[label_key.encode()], dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels)


# ---------------------------------------------------------------- resolution

@dataclass(frozen=True)
class Source:
    """Where a raw dataset may live and how to fetch it."""

    subdirs: tuple[str, ...]         # tried under data_dir, in order
    system_dirs: tuple[str, ...]     # tried next
    files: tuple[str, ...]           # must all exist in the chosen directory
    how_to_get: str
    download: Callable[[Path], None] | None = None


def _torchvision_download(cls_name: str) -> Callable[[Path], None]:
    def fetch(root: Path) -> None:
        import torchvision

        getattr(torchvision.datasets, cls_name)(root=str(root), train=True, download=True)
        getattr(torchvision.datasets, cls_name)(root=str(root), train=False, download=True)
    return fetch


SOURCES: dict[str, Source] = {
    "mnist": Source(
        ("mnist", "MNIST/raw"), (), IDX_FILES["train"] + IDX_FILES["test"],
        "set download: true (torchvision fetches it into <data_dir>/MNIST/raw), "
        "or copy the four IDX .gz files into <data_dir>/mnist/",
        _torchvision_download("MNIST"),
    ),
    "fashion_mnist": Source(
        ("fashion-mnist", "FashionMNIST/raw"), ("/usr/share/datasets/fashion-mnist",),
        IDX_FILES["train"] + IDX_FILES["test"],
        "as root: apt-get install dataset-fashion-mnist (Debian), or set download: true, "
        "or copy the four IDX .gz files into <data_dir>/fashion-mnist/",
        _torchvision_download("FashionMNIST"),
    ),
    "cifar10": Source(
        ("cifar-10-batches-py",), (), tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",),
        "set download: true (torchvision), or unpack cifar-10-python.tar.gz into <data_dir>/",
        _torchvision_download("CIFAR10"),
    ),
    "cifar100": Source(
        ("cifar-100-python",), (), ("train", "test"),
        "set download: true (torchvision), or unpack cifar-100-python.tar.gz into <data_dir>/",
        _torchvision_download("CIFAR100"),
    ),
    "products": Source(
        ("products",), (), ("products.csv",),
        "write <data_dir>/products/products.csv (columns task,label,e0..eK; see README 'Products format')",
    ),
}


def resolve(source_name: str, data_dir: str, download: bool = False) -> Path:
    """The directory holding all files of ``source_name``, downloading if allowed."""
    source = SOURCES[source_name]
    root = resolve_data_dir(data_dir)
    candidates = [root / sub for sub in source.subdirs] + [Path(p) for p in source.system_dirs]
    for directory in candidates:
        if all((directory / f).is_file() for f in source.files):
            return directory
    if download and source.download is not None:
        root.mkdir(parents=True, exist_ok=True)
        source.download(root)
        for directory in candidates:
            if all((directory / f).is_file() for f in source.files):
                return directory
    looked = ", ".join(str(c) for c in candidates)
    raise DataNotFoundError(
        f"{source_name}: could not find {', '.join(source.files)} in any of [{looked}]. "
        f"To get it: {source.how_to_get}."
    )


# ---------------------------------------------------------------- task builders

def _check_size(name: str, what: str, need: int, have: int, hint: str) -> None:
    if need > have:
        raise TaskSizeError(f"{name}: {what} needs {need} examples but the benchmark has {have}; {hint}")


def task_rng(seed: int, task: int) -> np.random.Generator:
    """Task j's own random stream: a task is the same whichever n it is drawn among."""
    return np.random.default_rng([seed, task])


def _image_tasks(
    name: str, images: tuple[np.ndarray, np.ndarray], tests: tuple[np.ndarray, np.ndarray],
    n: int, m: int, m_test: int, seed: int, mode: str,
) -> TaskData:
    """Shuffled-pixel or permuted-label tasks on a 10-class image dataset."""
    x, y = images
    xt, yt = tests
    _check_size(name, f"n_tasks x m_train = {n} x {m}", n * m, len(x), "lower n_tasks or m_train")
    _check_size(name, f"m_test = {m_test}", m_test, len(xt), "lower m_test")
    order = np.random.default_rng(seed).permutation(len(x))[: n * m].reshape(n, m)
    rngs = [task_rng(seed, j) for j in range(n)]
    test_idx = np.stack([rng.choice(len(xt), m_test, replace=False) for rng in rngs])
    xtr = x[order].astype(np.float32) / 255.0
    xte = xt[test_idx].astype(np.float32) / 255.0
    ytr, yte = y[order].astype(np.int64), yt[test_idx].astype(np.int64)
    num_classes = int(y.max()) + 1
    for j, rng in enumerate(rngs):
        if mode == "sp":
            flat_tr, flat_te = xtr[j].reshape(m, -1), xte[j].reshape(m_test, -1)
            pos = rng.choice(flat_tr.shape[1], SP_PIXELS, replace=False)
            src = pos[rng.permutation(SP_PIXELS)]
            flat_tr[:, pos], flat_te[:, pos] = flat_tr[:, src], flat_te[:, src]
        else:
            perm = rng.permutation(num_classes)
            ytr[j], yte[j] = perm[ytr[j]], perm[yte[j]]
    mean, std = float(x.mean()) / 255.0, float(x.std()) / 255.0
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    xtr, xte = xtr[:, :, None], xte[:, :, None]  # add the channel dim
    return TaskData(name, torch.from_numpy(xtr), torch.from_numpy(ytr), torch.from_numpy(xte),
                    torch.from_numpy(yte), num_classes)


def _split_label_tasks(
    name: str, train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
    n: int, m: int, m_test: int, seed: int, labels_per_task: int,
) -> TaskData:
    """split-CIFAR: each task draws ``labels_per_task`` labels; disjoint training images across tasks."""
    x, y = train
    xt, yt = test
    num_classes = int(y.max()) + 1
    _check_size(name, f"n_tasks x m_train = {n} x {m}", n * m, len(x), "lower n_tasks or m_train")
    pool_rng = np.random.default_rng(seed)
    pools = {c: list(pool_rng.permutation(np.flatnonzero(y == c))) for c in range(num_classes)}
    test_pools = {c: np.flatnonzero(yt == c) for c in range(num_classes)}
    tr_idx, te_idx = [], []
    for j in range(n):
        rng = task_rng(seed, j)
        labels = rng.choice(num_classes, labels_per_task, replace=False)
        per_label = np.full(labels_per_task, m // labels_per_task)
        per_label[: m % labels_per_task] += 1
        chosen = []
        for c, count in zip(labels, per_label):
            if len(pools[c]) < count:
                raise TaskSizeError(
                    f"{name}: task {j} needs {count} more images of label {c} but only {len(pools[c])} "
                    f"unused remain (disjoint training sets); lower n_tasks or m_train"
                )
            chosen += [pools[c].pop() for _ in range(count)]
        tr_idx.append(rng.permutation(chosen))
        pool = np.concatenate([test_pools[c] for c in labels])
        _check_size(name, f"m_test = {m_test} for labels {labels.tolist()}", m_test, len(pool), "lower m_test")
        te_idx.append(rng.choice(pool, m_test, replace=False))
    tr_idx, te_idx = np.stack(tr_idx), np.stack(te_idx)
    mean, std = float(x.mean()) / 255.0, float(x.std()) / 255.0
    xtr = (x[tr_idx].astype(np.float32) / 255.0 - mean) / std
    xte = (xt[te_idx].astype(np.float32) / 255.0 - mean) / std
    return TaskData(name, torch.from_numpy(xtr), torch.from_numpy(y[tr_idx]), torch.from_numpy(xte),
                    torch.from_numpy(yt[te_idx]), num_classes)


def _group_tasks(
    name: str, groups: list[tuple[np.ndarray, np.ndarray]], group_names: list[str],
    n: int, m: int, m_test: int, seed: int,
) -> TaskData:
    """Tabular tasks given by groups (regions, products): n groups, m train + m_test test each."""
    if n > len(groups):
        raise TaskSizeError(f"{name}: n_tasks = {n} but only {len(groups)} groups exist; lower n_tasks")
    chosen = np.random.default_rng(seed).permutation(len(groups))[:n]
    xs, ys = [], []
    for j, g in enumerate(chosen):
        gx, gy = groups[g]
        rng = task_rng(seed, j)
        _check_size(name, f"m_train + m_test = {m + m_test} in group {group_names[g]}", m + m_test, len(gx),
                    "lower m_train or m_test")
        idx = rng.permutation(len(gx))[: m + m_test]
        xs.append(gx[idx].astype(np.float32))
        ys.append(gy[idx].astype(np.int64))
    x, y = np.stack(xs), np.stack(ys)
    everything = np.concatenate([g[0] for g in groups]).astype(np.float64)
    mean, std = everything.mean(0), everything.std(0) + 1e-8
    xtr, xte = ((x[:, :m] - mean) / std).astype(np.float32), ((x[:, m:] - mean) / std).astype(np.float32)
    num_classes = int(max(int(g[1].max()) for g in groups)) + 1
    return TaskData(name, torch.from_numpy(xtr), torch.from_numpy(y[:, :m]), torch.from_numpy(xte),
                    torch.from_numpy(y[:, m:]), num_classes)


# ---------------------------------------------------------------- benchmarks

def _load_idx_pair(directory: Path) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    return tuple(  # type: ignore[return-value]
        (read_idx(directory / img), read_idx(directory / lab)) for img, lab in (IDX_FILES["train"], IDX_FILES["test"])
    )


def _mnist_like(source: str, mode: str) -> Callable[..., TaskData]:
    def load(name: str, data_dir: str, download: bool, n: int, m: int, m_test: int, seed: int) -> TaskData:
        train, test = _load_idx_pair(resolve(source, data_dir, download))
        return _image_tasks(name, train, test, n, m, m_test, seed, mode)
    return load


def _split_cifar(source: str, labels_per_task: int) -> Callable[..., TaskData]:
    def load(name: str, data_dir: str, download: bool, n: int, m: int, m_test: int, seed: int) -> TaskData:
        directory = resolve(source, data_dir, download)
        if source == "cifar10":
            train = read_cifar_batches([directory / f"data_batch_{i}" for i in range(1, 6)], "labels")
            test = read_cifar_batches([directory / "test_batch"], "labels")
        else:
            train = read_cifar_batches([directory / "train"], "fine_labels")
            test = read_cifar_batches([directory / "test"], "fine_labels")
        return _split_label_tasks(name, train, test, n, m, m_test, seed, labels_per_task)
    return load


def _load_folktables(name: str, data_dir: str, download: bool, n: int, m: int, m_test: int, seed: int) -> TaskData:
    from folktables import ACSDataSource, ACSIncome
    from folktables.load_acs import state_list

    root = resolve_data_dir(data_dir) / "folktables"
    pairs = [(year, state) for year in FOLKTABLES_YEARS for state in state_list]
    if n > len(pairs):
        raise TaskSizeError(f"{name}: n_tasks = {n} but only {len(pairs)} (year, state) regions exist")
    rng = np.random.default_rng(seed)
    chosen = [pairs[i] for i in rng.permutation(len(pairs))[:n]]
    groups, names = [], []
    for year, state in chosen:
        source = ACSDataSource(survey_year=str(year), horizon="1-Year", survey="person", root_dir=str(root))
        try:
            frame = source.get_data(states=[state], download=download)
        except FileNotFoundError as err:
            raise DataNotFoundError(
                f"folktables: {err} To get it: set download: true, or place the ACS PUMS person CSVs "
                f"(psam_pXX.csv) under {root}/<year>/1-Year/."
            ) from err
        features, label, _ = ACSIncome.df_to_numpy(frame)
        groups.append((features, label.astype(np.int64)))
        names.append(f"{state}-{year}")
    return _group_tasks(name, groups, names, n, m, m_test, seed)


def read_products_csv(path: Path) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[str]]:
    """Read the Products embedding CSV into per-product groups of (embeddings, labels)."""
    raw = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding="utf-8")
    cols = raw.dtype.names or ()
    if not cols or cols[:2] != ("task", "label") or len(cols) < 3:
        raise ValueError(f"{path}: expected a header 'task,label,e0,e1,...', got {','.join(cols)}")
    tasks = np.asarray(raw["task"]).astype(str)
    labels = np.asarray(raw["label"], dtype=np.int64)
    emb = np.stack([np.asarray(raw[c], dtype=np.float32) for c in cols[2:]], axis=1)
    names = sorted(set(tasks.tolist()))
    return [(emb[tasks == t], labels[tasks == t]) for t in names], names


def _load_products(name: str, data_dir: str, download: bool, n: int, m: int, m_test: int, seed: int) -> TaskData:
    groups, names = read_products_csv(resolve("products", data_dir, download) / "products.csv")
    return _group_tasks(name, groups, names, n, m, m_test, seed)


@dataclass(frozen=True)
class Benchmark:
    load: Callable[..., TaskData]
    default_model: str
    source: str
    train_size: int  # examples in the training split (for early size checks); 0 if unknown


BENCHMARKS: dict[str, Benchmark] = {
    "mnist_sp": Benchmark(_mnist_like("mnist", "sp"), "mnist_convnet", "mnist", 60000),
    "mnist_pl": Benchmark(_mnist_like("mnist", "pl"), "mnist_convnet", "mnist", 60000),
    "fashion_sp": Benchmark(_mnist_like("fashion_mnist", "sp"), "mnist_convnet", "fashion_mnist", 60000),
    "fashion_pl": Benchmark(_mnist_like("fashion_mnist", "pl"), "mnist_convnet", "fashion_mnist", 60000),
    "split_cifar10": Benchmark(_split_cifar("cifar10", 3), "cifar_convnet", "cifar10", 50000),
    "split_cifar100": Benchmark(_split_cifar("cifar100", 10), "cifar_convnet", "cifar100", 50000),
    "folktables": Benchmark(_load_folktables, "mlp", "folktables", 0),
    "products": Benchmark(_load_products, "mlp", "products", 0),
}


def load_tasks(exp: dict[str, Any], cfg: dict[str, Any]) -> TaskData:
    """Build the tasks of one experiment of a validated profile."""
    bench = BENCHMARKS[exp["benchmark"]]
    seed = derive_seed(cfg["seed"], "data", exp["benchmark"]) % 2**32
    return bench.load(exp["benchmark"], cfg["data_dir"], cfg["download"], exp["n_tasks"], exp["m_train"],
                      exp["m_test"], seed)


def preflight(exp: dict[str, Any], cfg: dict[str, Any], held_out: int = 0) -> None:
    """Cheap checks before a long run: the files are there and (n + held-out tasks) x m fits the
    training split (held-out transfer tasks need training images no training task uses)."""
    bench = BENCHMARKS[exp["benchmark"]]
    if bench.train_size:
        extra = f" (+{held_out} held-out transfer tasks)" if held_out else ""
        _check_size(exp["benchmark"], f"n_tasks x m_train = {exp['n_tasks']}{extra} x {exp['m_train']}",
                    (exp["n_tasks"] + held_out) * exp["m_train"], bench.train_size,
                    "lower n_tasks or m_train" + (" (or transfer.n_tasks)" if held_out else ""))
    if bench.source in SOURCES:
        resolve(bench.source, cfg["data_dir"], cfg["download"])

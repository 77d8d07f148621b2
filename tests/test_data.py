"""Benchmarks built from tiny fixtures in the real on-disk formats (IDX gz, CIFAR pickles, CSV)."""
import numpy as np
import pytest
import torch

from lib import config
from lib.data import (BENCHMARKS, DataNotFoundError, TaskSizeError, load_tasks, preflight, read_idx,
                      read_products_csv, SP_PIXELS)
from fixtures_io import make_cifar10, write_idx


def _cfg(data_dir, **exp):
    cfg = config.load("smoke", [f"data_dir={data_dir}"])
    return cfg, {"benchmark": "fashion_sp", "model": "mnist_convnet", "n_tasks": 3, "m_train": 20, "m_test": 10,
                 "target_acc": None, **exp}


def test_read_idx_roundtrip(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "x.gz", arr)
    assert np.array_equal(read_idx(tmp_path / "x.gz"), arr)


def test_read_idx_rejects_truncated_file(tmp_path):
    import gzip
    write_idx(tmp_path / "x.gz", np.zeros((4, 5), dtype=np.uint8))
    raw = gzip.open(tmp_path / "x.gz").read()[:-3]
    with gzip.open(tmp_path / "y.gz", "wb") as fh:
        fh.write(raw)
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "y.gz")


def _zscore(images):
    """Per-image z-scores: invariant to the loader's affine standardisation and to pixel shuffles' stats."""
    flat = images.reshape(len(images), -1).astype(np.float64)
    return (flat - flat.mean(1, keepdims=True)) / flat.std(1, keepdims=True)


def _raw_train(data_dir):
    return _zscore(read_idx(data_dir / "fashion-mnist" / "train-images-idx3-ubyte.gz"))


def _source_index(x, raw):
    """The raw image a task example was built from: a shuffle keeps the sorted pixel values."""
    return int(np.argmin(np.abs(np.sort(raw, 1) - np.sort(x)).max(1)))


def test_shuffled_pixels_tasks(idx_data_dir):
    cfg, exp = _cfg(idx_data_dir)
    data = load_tasks(exp, cfg)
    assert data.x_train.shape == (3, 20, 1, 28, 28) and data.y_train.shape == (3, 20)
    assert data.x_test.shape == (3, 10, 1, 28, 28) and data.num_classes == 10
    raw = _raw_train(idx_data_dir)
    x = _zscore(data.x_train.reshape(60, 28, 28).numpy())
    ids = [_source_index(row, raw) for row in x]
    assert len(set(ids)) == 60, "training images are disjoint across tasks"
    moved = [np.abs(x[j * 20:(j + 1) * 20] - raw[ids[j * 20:(j + 1) * 20]]).max(0) > 1e-4 for j in range(3)]
    for mask in moved:  # one fixed shuffle of 200 positions per task
        assert SP_PIXELS * 0.9 < mask.sum() <= SP_PIXELS
    assert not np.array_equal(moved[0], moved[1]), "tasks shuffle different pixels"


def test_permuted_labels_tasks(idx_data_dir):
    cfg, exp = _cfg(idx_data_dir, benchmark="fashion_pl", n_tasks=4)
    data = load_tasks(exp, cfg)
    raw = _raw_train(idx_data_dir)
    x = _zscore(data.x_train.reshape(80, 28, 28).numpy())
    raw_labels = np.arange(len(raw)) % 10
    perms = []
    for j in range(4):
        mapping = {}
        for i in range(20):
            k = _source_index(x[j * 20 + i], raw)
            mapping.setdefault(raw_labels[k], set()).add(int(data.y_train[j, i]))
        assert all(len(v) == 1 for v in mapping.values()), "labels of a task are one fixed permutation"
        perms.append(tuple(sorted((a, next(iter(b))) for a, b in mapping.items())))
    assert len(set(perms)) > 1, "different tasks permute differently"


def test_same_seed_same_tasks(idx_data_dir):
    cfg, exp = _cfg(idx_data_dir)
    a, b = load_tasks(exp, cfg), load_tasks(exp, cfg)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)


def test_too_many_examples_is_a_clear_error(idx_data_dir):
    cfg, exp = _cfg(idx_data_dir, n_tasks=10, m_train=20)
    with pytest.raises(TaskSizeError, match=r"10 x 20.*200 examples but the benchmark has 120"):
        load_tasks(exp, cfg)


def test_missing_data_names_file_and_remedy(tmp_path):
    cfg, exp = _cfg(tmp_path / "empty", benchmark="mnist_sp")
    with pytest.raises(DataNotFoundError, match=r"train-images-idx3-ubyte.gz.*download: true"):
        load_tasks(exp, cfg)


def test_preflight_checks_size_without_loading(tmp_path):
    cfg, exp = _cfg(tmp_path, benchmark="mnist_sp", n_tasks=61, m_train=1000)
    with pytest.raises(TaskSizeError, match="61000 examples"):
        preflight(exp, cfg)


def test_split_cifar10_tasks(tmp_path):
    make_cifar10(tmp_path / "cifar-10-batches-py")
    cfg, exp = _cfg(tmp_path, benchmark="split_cifar10", model="cifar_convnet", n_tasks=4, m_train=15, m_test=6)
    data = load_tasks(exp, cfg)
    assert data.x_train.shape == (4, 15, 3, 32, 32) and data.num_classes == 10
    for j in range(4):
        labels = set(data.y_train[j].tolist())
        assert len(labels) == 3, "each task uses exactly 3 labels"
        assert set(data.y_test[j].tolist()) <= labels
    flat = data.x_train.reshape(60, -1)
    assert len({tuple(r[:20].tolist()) for r in flat}) == 60, "training images are disjoint across tasks"


def test_products_csv(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["task,label," + ",".join(f"e{i}" for i in range(25))]
    for t in range(5):
        for _ in range(12):
            rows.append(f"prod{t},{rng.integers(0, 2)}," + ",".join(f"{v:.4f}" for v in rng.normal(size=25)))
    (tmp_path / "products").mkdir()
    (tmp_path / "products" / "products.csv").write_text("\n".join(rows) + "\n")
    groups, names = read_products_csv(tmp_path / "products" / "products.csv")
    assert names == [f"prod{t}" for t in range(5)] and groups[0][0].shape == (12, 25)
    cfg, exp = _cfg(tmp_path, benchmark="products", model="mlp", n_tasks=4, m_train=8, m_test=4)
    data = load_tasks(exp, cfg)
    assert data.x_train.shape == (4, 8, 25) and data.num_classes == 2
    cfg, exp = _cfg(tmp_path, benchmark="products", model="mlp", n_tasks=4, m_train=10, m_test=4)
    with pytest.raises(TaskSizeError, match="group prod"):
        load_tasks(exp, cfg)


def test_folktables_from_local_acs_csv(tmp_path):
    from folktables.load_acs import _STATE_CODES, state_list
    rng = np.random.default_rng(0)
    cols = ["RT", "SERIALNO", "AGEP", "COW", "SCHL", "MAR", "OCCP", "POBP", "RELP", "WKHP", "SEX", "RAC1P",
            "PINCP", "PWGTP"]
    for year in (2017, 2018):
        d = tmp_path / "folktables" / str(year) / "1-Year"
        d.mkdir(parents=True)
        for state in state_list:
            lines = [",".join(cols)]
            for i in range(14):
                vals = ["P", f"{year}GQ{i:07d}", rng.integers(18, 80), rng.integers(1, 9), rng.integers(1, 25),
                        rng.integers(1, 6), rng.integers(1, 9000), rng.integers(1, 500), rng.integers(0, 18),
                        rng.integers(1, 60), rng.integers(1, 3), rng.integers(1, 10), rng.integers(1000, 100000),
                        rng.integers(1, 50)]
                lines.append(",".join(str(v) for v in vals))
            (d / f"psam_p{_STATE_CODES[state]}.csv").write_text("\n".join(lines) + "\n")
    cfg, exp = _cfg(tmp_path, benchmark="folktables", model="mlp", n_tasks=5, m_train=8, m_test=4)
    data = load_tasks(exp, cfg)
    assert data.x_train.shape == (5, 8, 10) and data.num_classes == 2
    assert set(data.y_train.unique().tolist()) <= {0, 1}


def test_every_benchmark_has_a_known_default_model():
    from lib.models import MODELS
    assert all(b.default_model in MODELS for b in BENCHMARKS.values())


def test_tasks_do_not_depend_on_how_many_are_drawn(idx_data_dir):
    cfg, exp = _cfg(idx_data_dir, benchmark="fashion_sp", n_tasks=2)
    few = load_tasks(exp, cfg)
    many = load_tasks({**exp, "n_tasks": 5}, cfg)
    assert torch.equal(few.x_train, many.x_train[:2]) and torch.equal(few.y_test, many.y_test[:2])
    assert torch.equal(few.x_test, many.x_test[:2])

"""Shared fixtures: tiny datasets in the real on-disk formats."""
from pathlib import Path

import pytest

from fixtures_io import make_idx_dataset


@pytest.fixture
def idx_data_dir(tmp_path: Path) -> Path:
    make_idx_dataset(tmp_path / "fashion-mnist")
    make_idx_dataset(tmp_path / "mnist", seed=1)
    return tmp_path

"""Where things live: the repository root, profiles, and per-profile outputs.

Paths are resolved from this file, not the working directory, so notebooks run
from ``notebooks/`` (papermill, nbval, JupyterLab) and scripts run from the root
see the same places.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS_ENV = "MTL_OUTPUTS"  # set to put outputs/ elsewhere (tests; a cluster's shared scratch space)


def params_dir() -> Path:
    return ROOT / "params"


def notebooks_dir() -> Path:
    return ROOT / "notebooks"


def output_dir(profile: str) -> Path:
    """``outputs/<profile>/``: executed notebooks, results, figures, cache (``$MTL_OUTPUTS/<profile>/`` if set)."""
    path = Path(os.environ.get(OUTPUTS_ENV) or ROOT / "outputs") / profile
    path.mkdir(parents=True, exist_ok=True)
    return path


def _subdir(profile: str, name: str) -> Path:
    path = output_dir(profile) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(profile: str) -> Path:
    return _subdir(profile, "cache")


def figures_dir(profile: str) -> Path:
    return _subdir(profile, "figures")


def results_dir(profile: str) -> Path:
    return _subdir(profile, "results")


def resolve_data_dir(data_dir: str) -> Path:
    """A relative ``data_dir`` in a profile is relative to the repository root."""
    path = Path(data_dir).expanduser()
    return path if path.is_absolute() else ROOT / path

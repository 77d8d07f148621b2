"""Results files: each notebook writes its key numbers as JSON under ``outputs/<profile>/results/``.

Tests and the report read these files (with explicit tolerances) instead of
parsing printed notebook output.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lib.paths import results_dir


def save(profile: str, notebook: str, payload: dict[str, Any]) -> Path:
    path = results_dir(profile) / f"{notebook}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True))
    tmp.replace(path)
    return path


def load(profile: str, notebook: str) -> dict[str, Any]:
    path = results_dir(profile) / f"{notebook}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no results file {path}: run notebook {notebook} for profile '{profile}' first")
    return json.loads(path.read_text())

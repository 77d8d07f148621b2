"""Results files: each notebook writes its key numbers as JSON under ``outputs/<profile>/results/``.

Tests and the report read these files (with explicit tolerances) instead of
parsing printed notebook output.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from lib.paths import results_dir


def _jsonable(value: Any) -> Any:
    """Tensors become lists, bitstreams base64 text (they are the models' codes: worth keeping)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode()}
    raise TypeError(f"cannot store {type(value).__name__} in a results file")


def save(profile: str, notebook: str, payload: dict[str, Any]) -> Path:
    path = results_dir(profile) / f"{notebook}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=_jsonable))
    tmp.replace(path)
    return path


def load(profile: str, notebook: str) -> dict[str, Any]:
    path = results_dir(profile) / f"{notebook}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no results file {path}: run notebook {notebook} for profile '{profile}' first")
    return json.loads(path.read_text())

"""Keep committed notebooks in the state nbval needs: ``python -m lib.notebook_tools NB.ipynb ...``.

Executes each notebook in place with its default (smoke) parameters, then keeps
outputs and execution counts only for cells tagged ``summary``; every other cell
is stored unrun (no outputs, no execution count), which nbval runs but does not
compare. So ``pytest --nbval notebooks/`` is a regression check of the summary
cells, and no images or volatile output are committed.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from lib.paths import notebooks_dir

CHECKED_TAG = "summary"


def strip(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop outputs and counts of all code cells not tagged ``summary``; drop images everywhere."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if CHECKED_TAG in cell.metadata.get("tags", []):
            cell.outputs = [o for o in cell.outputs if "image/png" not in o.get("data", {})]
        else:
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    return nb


def refresh(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(notebooks_dir())}}).execute()
    nbformat.write(strip(nb), path)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        refresh(Path(arg))
        print(f"refreshed {arg}")

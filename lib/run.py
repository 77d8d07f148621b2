"""Headless reproduction: ``python -m lib.run [PROFILE] [-p key=value | key=value ...]``.

Validates the profile and the data first (so a typo fails in a second, not after
an hour), then executes every notebook in ``notebooks/`` in order with papermill,
writing executed copies to ``outputs/<profile>/``. A failing notebook stops the
run: its name and the failing cell's error are printed, its partial copy is
renamed ``*.failed.ipynb`` and ``outputs/<profile>/run_status.json`` says
``failed`` -- nothing half-written is presented as complete. A complete run ends
by writing ``outputs/<profile>/REPORT.md`` from the notebooks' results files.

With ``executor: local`` or ``slurm`` the searches' trainings first run as
independent jobs (``lib.sweep``); the notebooks then find them in the cache.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from lib import config
from lib.data import DataNotFoundError, TaskSizeError, preflight
from lib.paths import notebooks_dir, output_dir
from lib.report import write_report


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="run_all.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", nargs="?", default="cpu", help="a file in params/ (default: cpu)")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. train.epochs=2")
    parser.add_argument("-p", dest="extra", action="append", default=[], metavar="KEY=VALUE",
                        help="an override (papermill style); may repeat")
    parser.add_argument("--only", default=None, help="run only notebooks whose name contains this")
    return parser.parse_args(argv)


def notebooks(only: str | None = None) -> list[Path]:
    return [p for p in sorted(notebooks_dir().glob("[0-9][0-9]_*.ipynb")) if only is None or only in p.name]


def check(profile: str, overrides: list[str]) -> dict:
    """Load and validate the profile, then check each experiment's data is there and large enough."""
    cfg = config.load(profile, overrides)
    for name, exp in cfg["experiments"].items():
        held_out = cfg["transfer"]["n_tasks"] if name in cfg["transfer"]["experiments"] else 0
        preflight(exp, cfg, held_out)
    return cfg


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    overrides = list(args.overrides) + list(args.extra)
    try:
        cfg = check(args.profile, overrides)
    except (config.ConfigError, DataNotFoundError, TaskSizeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    import papermill

    out = output_dir(args.profile)
    if cfg["executor"] != "inprocess" and args.only is None:
        from lib import sweep

        print(f"executor {cfg['executor']}: training the searches' grid points as jobs first", flush=True)
        code = sweep.main([args.profile, *overrides])
        if code:
            return code
    status_path = out / "run_status.json"
    start = time.time()
    done: list[str] = []
    status = {"profile": args.profile, "overrides": overrides, "status": "running", "notebooks": done}
    status_path.write_text(json.dumps(status, indent=2))
    for nb in notebooks(args.only):
        target = out / nb.name
        print(f"[{time.time() - start:7.1f}s] running {nb.name} (profile {args.profile})", flush=True)
        try:
            papermill.execute_notebook(
                str(nb), str(target), parameters={"profile": args.profile, "overrides": overrides},
                cwd=str(notebooks_dir()), progress_bar=False, kernel_name="python3",
            )
        except papermill.PapermillExecutionError as err:
            failed = target.with_suffix(".failed.ipynb")
            target.replace(failed)
            status.update(status="failed", failed=nb.name, error=f"{err.ename}: {err.evalue}",
                          seconds=round(time.time() - start, 1))
            status_path.write_text(json.dumps(status, indent=2))
            print(f"error: notebook {nb.name} failed in cell {err.exec_count}: {err.ename}: {err.evalue}\n"
                  f"  partial output: {failed}", file=sys.stderr)
            return 1
        done.append(nb.name)
    status.update(status="complete", seconds=round(time.time() - start, 1))
    status_path.write_text(json.dumps(status, indent=2))
    print(f"[{time.time() - start:7.1f}s] done: {len(done)} notebooks in {out}", flush=True)
    if args.only is None:
        print(f"report: {write_report(args.profile)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

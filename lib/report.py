"""Tables that put this run's numbers beside the paper's (markdown strings)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from lib.paper_tables import TABLE1, paper_column


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _fmt(value: Any, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def id_table(sweeps: dict[str, dict[str, Any]]) -> str:
    """Table 1, left half: D, full accuracy, acc_90 target, ID_90 -- ours beside the paper's column."""
    rows = []
    for name, s in sweeps.items():
        col = paper_column(s["benchmark"], s["model"])
        paper = TABLE1.get(col, {}) if col else {}
        rows.append([
            name, f"{s['n_tasks']}/{s['m_train']}", f"{s['D']:,}", _fmt(s["full_test_acc"]),
            _fmt(s["target_acc"]), s["id90"] if s["id90"] is not None else f"not reached (best {s['best_acc']:.3f})",
            col or "-", f"{paper['n']}/{paper['m']}" if paper else "-", f"{paper['D']:,}" if paper else "-",
            _fmt(paper.get("acc90"), ".2f"), paper.get("id90", "-"),
        ])
    header = ["experiment", "n/m", "D", "full acc", "acc90", "ID90",
              "paper column", "paper n/m", "paper D", "paper acc90", "paper ID90"]
    return markdown_table(header, rows)


def aid_table(searches: dict[str, dict[str, Any]]) -> str:
    """Table 1: D, acc_90, ID_90, AID_90 and (l, k) -- ours beside the paper's column -- plus search cost."""
    rows = []
    for name, s in searches.items():
        col = paper_column(s["benchmark"], s["model"])
        paper = TABLE1.get(col, {}) if col else {}
        aid, idd, win = s["aid"], s["id"], s["winner"]
        rows.append([
            name, f"{s['n_tasks']}/{s['m_train']}", f"{s['D']:,}", _fmt(s["target_acc"]),
            _fmt(idd["value"], ".0f") if idd["reached"] else "not reached",
            _fmt(aid["value"], ".1f") if aid["reached"] else aid["message"],
            f"({win['l']}, {win['k']}), lr {win['lr']}" if win else "-",
            f"{aid['n_trainings']} / {s['exhaustive_trainings']}",
            col or "-", _fmt(paper.get("acc90"), ".2f"), paper.get("id90", "-"), paper.get("aid90", "-"),
            str(paper.get("lk", "-")),
        ])
    header = ["experiment", "n/m", "D", "acc90", "ID90", "AID90", "(l, k)", "trainings (search / grid)",
              "paper column", "paper acc90", "paper ID90", "paper AID90", "paper (l, k)"]
    return markdown_table(header, rows)


def _paper45(study: dict[str, Any]) -> dict[str, Any]:
    from lib.paper_tables import TABLE45

    col = paper_column(study["benchmark"], study["model"])
    return TABLE45.get(col, {}) if col else {}


def table45(studies: dict[str, dict[str, Any]]) -> str:
    """Tables 4/5: risks, codebook sizes and code lengths -- ours beside the paper's column."""
    rows = []
    for name, s in studies.items():
        single, mtl, paper = s["single"]["chosen"], s["mtl"]["chosen"], _paper45(s)
        ours = [f"{s['n']}/{s['m']}/{s['num_classes']}", _fmt(1 - single["train_acc"]), single["r"],
                _fmt(single["mean_bits"], ".1f"), _fmt(mtl["risk"]), f"{mtl['r_g']} / {mtl['r_l']}",
                mtl["meta_bits"], mtl["task_bits"], _fmt(mtl["avg_bits"], ".1f")]
        theirs = ([f"{paper['n']}/{paper['m']}/{paper['L']}", paper["single_risk"], paper["single_r"],
                   paper["single_len"], paper["mtl_risk"], f"{paper['r_g']} / {paper['r_l']}", paper["l_meta"],
                   paper["l_tasks"], paper["avg_len"]] if paper else ["-"] * 9)
        rows += [[name, "this run", *ours], ["", "paper (MNIST)" if paper else "paper", *theirs]]
    header = ["experiment", "source", "n/m/L", "single risk", "r", "single bits/task", "MTL risk", "r_g / r_l",
              "l(E)", "l_E", "MTL bits/task"]
    return markdown_table(header, rows)


def table2(studies: dict[str, dict[str, Any]]) -> str:
    """Table 2: single-task vs MTL (Thm 2, Thm 3) bounds on the test error, beside the paper's."""
    from lib.paper_tables import TABLE2

    rows = []
    for name, s in studies.items():
        col = paper_column(s["benchmark"], s["model"])
        paper = TABLE2.get(col, {}) if col else {}
        single, mtl = s["single"]["chosen"], s["mtl"]["chosen"]
        rows.append([name, _fmt(single["bound"]), _fmt(mtl["thm2"]), _fmt(mtl["thm3"]), _fmt(1 - mtl["test_acc"]),
                     col or "-", _fmt(paper.get("single")), _fmt(paper.get("thm2")), _fmt(paper.get("thm3"))])
    header = ["experiment", "single task", "MTL (Thm 2)", "MTL (Thm 3)", "MTL test error", "paper column",
              "paper single", "paper Thm 2", "paper Thm 3"]
    return markdown_table(header, rows)


def paper_table2_check() -> tuple[str, float]:
    """Recompute the paper's Table 2 MTL rows from its Tables 4/5 with lib.bounds; return the
    table and the largest absolute difference."""
    from lib import bounds
    from lib.paper_tables import TABLE2, TABLE45

    rows, worst = [], 0.0
    for col, t in TABLE45.items():
        args = (t["mtl_risk"], t["l_meta"], t["l_tasks"], t["m"], t["n"], 0.05)
        thm2, thm3 = bounds.mtl_hoeffding_bound(*args), bounds.mtl_kl_bound(*args)
        d2, d3 = thm2 - TABLE2[col]["thm2"], thm3 - TABLE2[col]["thm3"]
        worst = max(worst, abs(d2), abs(d3))
        rows.append([col, TABLE2[col]["thm2"], f"{thm2:.4f}", f"{d2:+.4f}", TABLE2[col]["thm3"], f"{thm3:.4f}",
                     f"{d3:+.4f}"])
    header = ["column", "paper Thm 2", "recomputed", "diff", "paper Thm 3", "recomputed", "diff"]
    return markdown_table(header, rows), worst


def table3(studies: dict[str, dict[str, Any]]) -> str:
    """Table 3: average bound over held-out tasks, no transfer vs MTL + transfer, with spread."""
    import statistics

    from lib.paper_tables import TABLE3

    rows = []
    for name, s in studies.items():
        col = paper_column(s["benchmark"], s["model"])
        paper = TABLE3.get(col, {}) if col else {}
        nt, tr = s["no_transfer"]["bounds"], s["transfer"]["bounds"]
        rows.append([name, s["n_heldout"], f"{statistics.mean(nt):.3f} ± {statistics.pstdev(nt):.3f}",
                     f"{statistics.mean(tr):.3f} ± {statistics.pstdev(tr):.3f}",
                     f"{1 - s['transfer']['test_acc']:.3f}", col or "-", _fmt(paper.get("no_transfer")),
                     _fmt(paper.get("transfer"))])
    header = ["experiment", "held-out tasks", "no transfer (mean ± sd)", "MTL + transfer (mean ± sd)",
              "transfer test error", "paper column", "paper no transfer", "paper transfer"]
    return markdown_table(header, rows)


REPORT_NOTEBOOKS = ("01_intrinsic_dim", "02_amortized_intrinsic_dim", "03_aid_vs_num_tasks", "04_quantization",
                    "06_bounds", "08_transfer")


def claims(res: dict[str, dict[str, Any]]) -> list[tuple[str, str, bool]]:
    """The paper's claims, per experiment, from the notebooks' results files."""
    out = []
    for name, s in res["02_amortized_intrinsic_dim"].items():
        out.append((name, f"AID90 < ID90 ({_fmt(s['aid']['value'], '.1f')} vs {_fmt(s['id']['value'], '.0f')})",
                    bool(s["aid_below_id"])))
    for name, b in res["06_bounds"]["ours"].items():
        out.append((name, f"MTL bound (Thm 3) < single-task bound ({b['thm3']:.3f} vs {b['single']:.3f})",
                    b["thm3"] < b["single"]))
        out.append((name, f"Thm 3 <= Thm 2 ({b['thm3']:.3f} vs {b['thm2']:.3f})", b["thm3"] <= b["thm2"]))
        out.append((name, "single-task and MTL bounds < 1", max(b["single"], b["thm2"], b["thm3"]) < 1))
    for name, s in res["08_transfer"].items():
        nt, tr = s["no_transfer"]["bound"], s["transfer"]["bound"]
        out.append((name, f"transfer bound < no-transfer bound ({tr:.3f} vs {nt:.3f})", tr < nt))
        out.append((name, "transfer and no-transfer bounds < 1", max(tr, nt) < 1))
    return out


def _aid_vs_n_table(curves: dict[str, dict[str, Any]]) -> str:
    rows = [[name, c["m_train"], _fmt(c["target_acc"]), _fmt(c["id90"], ".0f"),
             ", ".join(f"n={n}: {_fmt(a, '.1f')}" for n, a in zip(c["n_values"], c["aid90"]))]
            for name, c in curves.items()]
    return markdown_table(["experiment", "m", "target", "ID90", "AID90 by number of tasks"], rows)


def write_report(profile: str) -> Path:
    """``outputs/<profile>/REPORT.md`` from the results files the notebooks wrote (nothing is re-run).

    A missing results file is an error naming the notebook to run, never an empty table.
    """
    import json
    import platform
    import time

    import yaml

    from lib import results
    from lib.paths import figures_dir, output_dir, params_dir

    res = {nb: results.load(profile, nb) for nb in REPORT_NOTEBOOKS}
    out = output_dir(profile)
    status_path = out / "run_status.json"
    status = json.loads(status_path.read_text()) if status_path.is_file() else {}
    studies = res["04_quantization"]
    lines = [
        f"# Reproduction report: profile `{profile}`",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M')} on {platform.platform()} ({platform.machine()}); "
        f"run time {status.get('seconds', 'unknown')} s; overrides {status.get('overrides', [])}.",
        "Fashion-MNIST experiments stand in for the paper's MNIST columns (same construction and ConvNet).",
        "",
        "## Claims",
        "",
        markdown_table(["experiment", "claim", "held"],
                       [[n, c, "yes" if ok else "**NO**"] for n, c, ok in claims(res)]),
        "",
        "## Table 1: intrinsic dimensions",
        "",
        aid_table(res["02_amortized_intrinsic_dim"]),
        "",
        "## Figure 1: AID90 as the number of tasks grows",
        "",
        _aid_vs_n_table(res["03_aid_vs_num_tasks"]),
        "",
        "## Table 2: generalisation bounds",
        "",
        table2(studies),
        "",
        "## Tables 4/5: risks and code lengths",
        "",
        table45(studies),
        "",
        "## Table 3: transfer to held-out tasks",
        "",
        table3(res["08_transfer"]),
        "",
        "## Figures",
        "",
        *[f"![{p.stem}](figures/{p.name})" for p in sorted(figures_dir(profile).glob("*.png"))],
        "",
        "## Profile settings",
        "",
        "```yaml",
        yaml.safe_dump(yaml.safe_load((params_dir() / f"{profile}.yaml").read_text()), sort_keys=False).strip(),
        "```",
        "",
    ]
    path = Path(out) / "REPORT.md"
    path.write_text("\n".join(lines))
    return path


def bound_summary(studies: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Notebook 06's key numbers per experiment: the chosen single-task and MTL bounds and errors."""
    out = {}
    for name, s in studies.items():
        single, mtl = s["single"]["chosen"], s["mtl"]["chosen"]
        out[name] = {"single": single["bound"], "thm2": mtl["thm2"], "thm3": mtl["thm3"], "pinsker": mtl["pinsker"],
                     "mtl_test_error": 1 - mtl["test_acc"], "mtl_train_error": mtl["risk"]}
    return out


def anatomy_table(anatomies: dict[str, dict[str, Any]]) -> str:
    """Notebook 07: bits per task, training error and the three bounds for each code."""
    rows = [[name, code, f"{c['bits_per_task']:,.0f}", f"{c['risk']:.3f}", f"{c['thm2']:.3f}", f"{c['thm3']:.3f}",
             f"{c['pinsker']:.3f}"] for name, a in anatomies.items() for code, c in a["codes"].items()]
    return markdown_table(["experiment", "code", "bits/task", "train error", "Thm 2", "Thm 3", "Pinsker"], rows)

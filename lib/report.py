"""Tables that put this run's numbers beside the paper's (markdown strings)."""
from __future__ import annotations

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

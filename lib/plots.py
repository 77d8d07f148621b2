"""Figures the notebooks show and save under ``outputs/<profile>/figures/``."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import seaborn as sns

from lib.paths import figures_dir


def save(fig: plt.Figure, profile: str, name: str) -> Path:
    path = figures_dir(profile) / f"{name}.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def _panels(count: int, width: float, height: float) -> tuple[plt.Figure, list[plt.Axes]]:
    """One row of ``count`` panels in the notebooks' common style."""
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, count, figsize=(width * count, height), squeeze=False)
    return fig, list(axes[0])


def _log_ticks(ax: plt.Axes, xs: list) -> None:
    """Log-scaled x axis labelled at the grid values only."""
    ticks = sorted(set(xs))
    ax.set_xscale("log")
    ax.set_xticks(ticks, [str(x) for x in ticks])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())


def id_curves(sweeps: dict[str, dict[str, Any]]) -> plt.Figure:
    """Test accuracy vs subspace dimension d (log scale), one panel per experiment, with the
    full-model accuracy, the acc_90 target and ID_90 marked."""
    fig, axes = _panels(len(sweeps), 5, 3.8)
    for ax, (name, s) in zip(axes, sweeps.items()):
        ax.plot(s["d_grid"], s["test_acc"], "o-", label="subspace, test")
        ax.plot(s["d_grid"], s["train_acc"], "o--", alpha=0.5, label="subspace, train")
        ax.axhline(s["full_test_acc"], color="k", lw=1, label=f"full model ({s['D']:,} params)")
        ax.axhline(s["target_acc"], color="C3", ls=":", label="target acc$_{90}$")
        if s["id90"] is not None:
            ax.axvline(s["id90"], color="C3", lw=1, alpha=0.6)
            ax.annotate(f"ID$_{{90}}$ = {s['id90']}", (s["id90"], s["target_acc"]), textcoords="offset points",
                        xytext=(5, -14), color="C3")
        ax.set_xscale("log")
        ax.set_xlabel("subspace dimension d")
        ax.set_ylabel("mean test accuracy over tasks")
        ax.set_title(f"{name} (n={s['n_tasks']}, m={s['m_train']})")
    axes[0].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def aid_planes(searches: dict[str, dict[str, Any]]) -> plt.Figure:
    """The (l, k) plane of each experiment: every point the search trained, coloured by accuracy,
    the AID_90 iso-curve l*k/n + k = AID_90 and the winner."""
    fig, axes = _panels(len(searches), 5.5, 4.2)
    for ax, (name, s) in zip(axes, searches.items()):
        pts = s["aid"]["evaluated"]
        ls, ks, accs = [p[0] for p in pts], [p[1] for p in pts], [p[2] for p in pts]
        sc = ax.scatter(ls, ks, c=accs, cmap="viridis", s=70, edgecolors=["k" if a >= s["target_acc"] else "none"
                                                                          for a in accs])
        fig.colorbar(sc, ax=ax, label="mean test accuracy (black edge: reaches acc$_{90}$)")
        if s["aid"]["reached"]:
            n, value = s["n_tasks"], s["aid"]["value"]
            grid = sorted({*ls, min(ls) / 1.5, max(ls) * 1.5})
            ax.plot(grid, [value / (l / n + 1) for l in grid], "C3--", label=f"AID = {value:.1f}")
            ax.scatter(*s["aid"]["best"], marker="*", s=300, color="C3", zorder=3, label="AID$_{90}$ winner")
            ax.legend(loc="upper right", fontsize=8)
        _log_ticks(ax, ls)
        ax.set_xlabel("l (dimension of each basis subspace)")
        ax.set_ylabel("k (number of basis elements)")
        ax.set_title(f"{name}: {s['aid']['n_points']} of {s['exhaustive_points']} grid points trained")
    fig.tight_layout()
    return fig


def aid_vs_tasks(curves: dict[str, dict[str, Any]]) -> plt.Figure:
    """Figure 1: AID_90 against the number of tasks, with ID_90 and Section 3's two extremes."""
    fig, axes = _panels(len(curves), 5, 3.8)
    for ax, (name, c) in zip(axes, curves.items()):
        ns = c["n_values"]
        reached = [(n, a) for n, a in zip(ns, c["aid90"]) if a is not None]
        if reached:
            ax.plot(*zip(*reached), "o-", color="C0", label="AID$_{90}$ (multi-task)")
        if c["id90"] is not None:
            ax.axhline(c["id90"], color="k", lw=1, label="ID$_{90}$ (single task)")
            ax.plot(ns, [c["id90"] / n + 1 for n in ns], ":", color="C2", label="identical tasks: ID/n + 1")
            ax.plot(ns, [c["id90"] + n for n in ns], ":", color="C3", label="unrelated tasks: ID + n")
        ax.set_yscale("log")
        ax.set_xlabel("number of tasks n")
        ax.set_ylabel("parameters per task")
        ax.set_title(f"{name} (m={c['m_train']}, target {c['target_acc']:.2f})")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def quantisation_curves(studies: dict[str, dict[str, Any]]) -> plt.Figure:
    """Training accuracy vs codebook size, before (k-means only) and after quantisation-aware
    fine-tuning: single task (r), multi-task stage 1 (r_g, shared V) and stage 2 (r_l, alphas)."""
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(len(studies), 3, figsize=(14, 3.6 * len(studies)), squeeze=False)
    for row, (name, s) in zip(axes, studies.items()):
        single, mtl = s["single"], s["mtl"]
        chosen = mtl["chosen"]
        stage1 = {run["r_g"]: run["stage1"] for run in mtl["runs"]}
        stage2 = [run for run in mtl["runs"] if run["r_g"] == chosen["r_g"]]
        panels = [
            ("single task: r", [r["r"] for r in single["runs"]], [r["before_train_acc"] for r in single["runs"]],
             [r["train_acc"] for r in single["runs"]], s["unquantised"]["single"]["mean_train_acc"],
             single["chosen"]["r"]),
            ("multi-task stage 1 (shared V): r_g", sorted(stage1), [stage1[r]["before_train_acc"] for r in sorted(stage1)],
             [stage1[r]["after_train_acc"] for r in sorted(stage1)], s["unquantised"]["mtl"]["mean_train_acc"],
             chosen["r_g"]),
            ("multi-task stage 2 (alphas): r_l", [r["r_l"] for r in stage2], [r["before_train_acc"] for r in stage2],
             [r["train_acc"] for r in stage2], s["unquantised"]["mtl"]["mean_train_acc"], chosen["r_l"]),
        ]
        for ax, (title, xs, before, after, ref, pick) in zip(row, panels):
            ax.plot(xs, before, "o--", label="k-means only")
            ax.plot(xs, after, "o-", label="after fine-tuning (decoded model)")
            ax.axhline(ref, color="k", lw=1, label="unquantised")
            ax.axvline(pick, color="C3", ls=":", label="chosen (smallest bound)")
            _log_ticks(ax, xs)
            ax.set_title(f"{name}: {title}", fontsize=10)
            ax.set_xlabel("codebook size")
            ax.set_ylabel("mean training accuracy")
        row[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def code_breakdown(studies: dict[str, dict[str, Any]]) -> plt.Figure:
    """Stacked bars: bits of all n tasks' models by code component, single-task vs multi-task."""
    fig, axes = _panels(len(studies), 5.5, 4)
    for ax, (name, s) in zip(axes, studies.items()):
        n = s["n"]
        single = {f"single {k}": v * n for k, v in s["single"]["chosen"]["breakdown"].items()}
        mtl = s["mtl"]["chosen"]["breakdown"]
        bars = {"single task\n(n codes)": single, "multi-task\n(meta + joint)": mtl}
        keys = list(dict.fromkeys([*single, *mtl]))
        bottoms = [0.0, 0.0]
        for i, key in enumerate(keys):
            vals = [bars[b].get(key, 0.0) for b in bars]
            if sum(vals) == 0:
                continue
            ax.bar(list(bars), vals, bottom=bottoms, label=key, color=sns.color_palette("tab20")[i % 20])
            bottoms = [b + v for b, v in zip(bottoms, vals)]
        ax.set_ylabel(f"bits for all {n} tasks")
        ax.set_title(name)
        ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def bound_anatomy(anatomies: dict[str, dict[str, Any]]) -> plt.Figure:
    """Per experiment: bounds of three codes (Thm 2 / Thm 3 / Pinsker), and the chosen code's
    bound as m and as n grow."""
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(len(anatomies), 3, figsize=(15, 3.8 * len(anatomies)), squeeze=False)
    for row, (name, a) in zip(axes, anatomies.items()):
        codes = a["codes"]
        labels = list(codes)
        x = range(len(labels))
        for i, (key, off) in enumerate((("thm2", -0.25), ("thm3", 0.0), ("pinsker", 0.25))):
            row[0].bar([xi + off for xi in x], [min(codes[c][key], 1.5) for c in labels], width=0.25, label=key)
        row[0].axhline(1.0, color="k", lw=1)
        row[0].set_xticks(list(x), [c.replace(" ", "\n", 1) for c in labels], fontsize=8)
        row[0].set_ylabel("bound on test error (clipped at 1.5)")
        row[0].set_title(f"{name}: three codes")
        row[0].legend(fontsize=8)
        for ax, key, xlabel in ((row[1], "vs_m", "m (examples per task)"), (row[2], "vs_n", "n (tasks)")):
            curve = a[key]
            xs = curve["m" if key == "vs_m" else "n"]
            ax.plot(xs, curve["thm2"], "o-", label="Thm 2")
            ax.plot(xs, curve["thm3"], "o-", label="Thm 3")
            ax.axhline(1.0, color="k", lw=1)
            ax.set_xscale("log")
            ax.set_xlabel(xlabel)
            ax.set_title(f"{name}: chosen code, {xlabel.split(' ')[0]} varied")
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def transfer_bounds(studies: dict[str, dict[str, Any]]) -> plt.Figure:
    """The bound of every held-out task, learned from scratch vs on top of the multi-task basis."""
    fig, axes = _panels(len(studies), 5.5, 3.8)
    for ax, (name, s) in zip(axes, studies.items()):
        tasks = range(s["first_heldout_task"], s["first_heldout_task"] + s["n_heldout"])
        ax.plot(tasks, s["no_transfer"]["bounds"], "o", label="no transfer")
        ax.plot(tasks, s["transfer"]["bounds"], "s", label="MTL + transfer")
        ax.axhline(1.0, color="k", lw=1)
        ax.set_xlabel("held-out task")
        ax.set_ylabel("bound on test error")
        ax.set_title(name)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig

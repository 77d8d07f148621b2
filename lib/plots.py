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


def id_curves(sweeps: dict[str, dict[str, Any]]) -> plt.Figure:
    """Test accuracy vs subspace dimension d (log scale), one panel per experiment, with the
    full-model accuracy, the acc_90 target and ID_90 marked."""
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, len(sweeps), figsize=(5 * len(sweeps), 3.8), squeeze=False)
    for ax, (name, s) in zip(axes[0], sweeps.items()):
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
    axes[0][0].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def aid_planes(searches: dict[str, dict[str, Any]]) -> plt.Figure:
    """The (l, k) plane of each experiment: every point the search trained, coloured by accuracy,
    the AID_90 iso-curve l*k/n + k = AID_90 and the winner."""
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, len(searches), figsize=(5.5 * len(searches), 4.2), squeeze=False)
    for ax, (name, s) in zip(axes[0], searches.items()):
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
        ax.set_xscale("log")
        ax.set_xticks(sorted(set(ls)), [str(l) for l in sorted(set(ls))])
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.set_xlabel("l (dimension of each basis subspace)")
        ax.set_ylabel("k (number of basis elements)")
        ax.set_title(f"{name}: {s['aid']['n_points']} of {s['exhaustive_points']} grid points trained")
    fig.tight_layout()
    return fig


def aid_vs_tasks(curves: dict[str, dict[str, Any]]) -> plt.Figure:
    """Figure 1: AID_90 against the number of tasks, with ID_90 and Section 3's two extremes."""
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 3.8), squeeze=False)
    for ax, (name, c) in zip(axes[0], curves.items()):
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
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    return fig

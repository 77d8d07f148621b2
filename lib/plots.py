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

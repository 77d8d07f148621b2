"""Device choice: CUDA when present (or asked for), else CPU; never hard-coded."""
from __future__ import annotations

import torch


def pick_device(name: str = "auto") -> torch.device:
    """Map a profile's ``device`` value to a torch device, failing clearly if CUDA is absent."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was requested but torch sees no CUDA device; use device=auto or cpu")
    return torch.device(name)

"""Device choice: CUDA when present (or asked for), else CPU; never hard-coded; numerics per use.

Training may run under bf16 autocast (``train.amp``); everything whose numbers
enter a bound -- accuracies and losses of trained or decoded models -- is
computed under :func:`exact_numerics`: fp32, no autocast, no TF32 (cuDNN enables
TF32 convolutions by default on Ampere and later GPUs).

On the CPU one runtime setting is changed, once per process: glibc's malloc
hands every block above 32 MiB to ``mmap`` and returns it on free, so each
training step's large tensors (n task weight vectors, grouped activations) are
page-faulted in anew. Raising the mmap and trim thresholds keeps that memory in
the heap for reuse; ``bench/projector.py`` measured the large projection going
from about 0.46 s to 0.27 s with it. Anything but glibc is left alone.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
from typing import Iterator

import torch

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 1 << 30       # blocks up to 1 GiB come from the heap
_TRIM_THRESHOLD = (1 << 31) - 1  # keep freed heap memory for the next step
_allocator_tuned: bool | None = None


def tune_cpu_allocator() -> bool:
    """Keep large freed blocks for reuse (glibc ``mallopt``); True if the setting took effect."""
    global _allocator_tuned
    if _allocator_tuned is None:
        _allocator_tuned = False
        name = ctypes.util.find_library("c")
        try:
            libc = ctypes.CDLL(name) if name else None
            if libc is not None and hasattr(libc, "mallopt"):
                _allocator_tuned = bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
                                        and libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
        except OSError:
            pass
    return _allocator_tuned


def pick_device(name: str = "auto") -> torch.device:
    """Map a profile's ``device`` value to a torch device, failing clearly if CUDA is absent."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was requested but torch sees no CUDA device; use device=auto or cpu")
    device = torch.device(name)
    if device.type == "cpu":
        tune_cpu_allocator()
    return device


@contextlib.contextmanager
def exact_numerics() -> Iterator[None]:
    """fp32 throughout: autocast off and TF32 off for matmuls and cuDNN, restored afterwards."""
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        with torch.autocast("cuda", enabled=False), torch.autocast("cpu", enabled=False):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    """bf16 autocast for training steps when ``enabled`` (CUDA or CPU), else a no-op."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)

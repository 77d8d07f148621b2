"""The architectures of the paper's Table 6, as small builder functions.

Each builder returns a freshly initialised ``nn.Module`` (PyTorch's default
initialisation, which is theta_0 of Eq. 1). The parameter counts D are asserted
against Table 1 in the tests. ``build_model`` is the single entry point; add an
architecture by writing a builder and registering it in ``MODELS``.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn


def mnist_convnet(input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """Amit & Meir's ConvNet (Table 6). D = 21,840 for 1x28x28 input and 10 classes.

    Table 6 lists no activation after FC1; Amit & Meir's code applies an ELU there
    and so do we (it does not change D).
    """
    channels, height, width = input_shape
    flat = 20 * ((((height - 4) // 2) - 4) // 2) * ((((width - 4) // 2) - 4) // 2)
    return nn.Sequential(
        nn.Conv2d(channels, 10, 5), nn.ELU(), nn.MaxPool2d(2),
        nn.Conv2d(10, 20, 5), nn.ELU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(flat, 50), nn.ELU(),
        nn.Linear(50, num_classes),
    )


def mlp(input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """The 4-layer MLP for Folktables / Products (Table 6): in -> 128 -> 64 -> 32 -> out."""
    (features,) = input_shape
    return nn.Sequential(
        nn.Linear(features, 128), nn.ReLU(),
        nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, 32), nn.ReLU(),
        nn.Linear(32, num_classes),
    )


def cifar_convnet(input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """The CNN of Scott et al. (2024) for split-CIFAR (Table 6). D = 121,182 for 10 classes."""
    channels, height, width = input_shape
    flat = 32 * ((((height - 4) // 2) - 4) // 2) * ((((width - 4) // 2) - 4) // 2)
    return nn.Sequential(
        nn.Conv2d(channels, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(flat, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )


def vit_tiny(input_shape: tuple[int, ...], num_classes: int, pretrained: bool = False) -> nn.Module:
    """timm's ``vit_tiny_patch16_224`` with a ``num_classes`` head; inputs are resized to 224x224.

    The resize is parameter-free, so D is timm's count (5,526,346 for 10 classes).
    ``pretrained=True`` loads ImageNet weights through timm and needs them on disk or
    network access; only the paper profile asks for it.
    """
    import timm

    vit = timm.create_model("vit_tiny_patch16_224", pretrained=pretrained, num_classes=num_classes)
    return nn.Sequential(nn.Upsample(size=(224, 224), mode="bilinear", align_corners=False), vit)


MODELS: dict[str, Callable[..., nn.Module]] = {
    "mnist_convnet": mnist_convnet,
    "mlp": mlp,
    "cifar_convnet": cifar_convnet,
    "vit_tiny": vit_tiny,
    "vit_tiny_pretrained": lambda shape, classes: vit_tiny(shape, classes, pretrained=True),
}


def build_model(name: str, input_shape: tuple[int, ...], num_classes: int, seed: int) -> nn.Module:
    """Build ``name`` with its standard initialisation drawn from ``seed`` (theta_0)."""
    if name not in MODELS:
        raise KeyError(f"unknown model '{name}'; known: {', '.join(sorted(MODELS))}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MODELS[name](tuple(input_shape), num_classes)


def num_params(model: nn.Module) -> int:
    """D: the number of trainable parameters (the ambient dimension)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)

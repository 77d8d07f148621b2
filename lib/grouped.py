"""All tasks' networks in one pass with grouped convolutions and batched matmuls.

For a plain ``nn.Sequential`` of convolutions, linear layers, activations,
pooling and flatten (every Table 6 model except the ViT), n task networks with
different weights run as one: convolutional activations are kept in the layout
``(B, n*C, H, W)`` so a convolution is a single ``conv2d(groups=n)`` and
activations/pooling need no reshaping; at the flatten the layout switches once
to ``(n, B, F)`` and linear layers are one ``baddbmm``. This avoids the per-layer
transposes of ``vmap(functional_call)`` (measured in ``bench/``); models with
other layers fall back to vmap (``FlatModel.forward_tasks``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

ELEMENTWISE = (nn.ELU, nn.ReLU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.Identity, nn.Dropout,
               nn.MaxPool2d, nn.AvgPool2d)


def supports(module: nn.Module) -> bool:
    """True if ``module`` is a Sequential this executor can run (ungrouped convs only)."""
    if not isinstance(module, nn.Sequential):
        return False
    for layer in module:
        if isinstance(layer, nn.Conv2d):
            if layer.groups != 1 or layer.padding_mode != "zeros":
                return False
        elif isinstance(layer, nn.Flatten):
            if layer.start_dim != 1 or layer.end_dim != -1:
                return False
        elif not isinstance(layer, (nn.Linear, *ELEMENTWISE)):
            return False
    return True


def forward_tasks(module: nn.Sequential, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Logits (n, B, C) of n networks; ``params[name]`` has a leading task dim, ``x`` is (n, B, ...)."""
    n, batch = x.shape[:2]
    grouped = x.dim() == 5  # images: (n, B, C, H, W) -> (B, n*C, H, W)
    if grouped:
        # channels_last: oneDNN's grouped convolutions are much faster in NHWC (measured in bench/)
        h = x.transpose(0, 1).reshape(batch, -1, *x.shape[3:]).contiguous(memory_format=torch.channels_last)
    else:
        h = x
    for idx, layer in enumerate(module):
        weight, bias = params.get(f"{idx}.weight"), params.get(f"{idx}.bias")
        if isinstance(layer, nn.Conv2d):
            w = weight.reshape(-1, *weight.shape[2:]).contiguous(memory_format=torch.channels_last)
            b = bias.reshape(-1) if bias is not None else None
            h = F.conv2d(h, w, b, layer.stride, layer.padding, layer.dilation, groups=n)
        elif isinstance(layer, nn.Flatten):
            if grouped:
                h = h.reshape(batch, n, -1).transpose(0, 1)
                grouped = False
        elif isinstance(layer, nn.Linear):
            if grouped:
                raise ValueError("a Linear layer on image activations needs an nn.Flatten before it")
            h = torch.bmm(h, weight.transpose(1, 2)) if bias is None else torch.baddbmm(
                bias[:, None, :], h, weight.transpose(1, 2))
        else:
            h = layer(h)
    if grouped:
        raise ValueError("the network must end in a Linear layer on flattened features")
    return h

"""Ambient dimensions D must equal Table 1 exactly for all eight columns."""
import pytest
import torch

from lib.models import build_model, num_params

TABLE1_D = [
    ("mnist_convnet", (1, 28, 28), 10, 21840),   # MNIST SP
    ("mnist_convnet", (1, 28, 28), 10, 21840),   # MNIST PL
    ("mlp", (10,), 2, 11810),                    # Folktables
    ("mlp", (25,), 2, 13730),                    # Products
    ("cifar_convnet", (3, 32, 32), 10, 121182),  # split-CIFAR10 ConvNet
    ("vit_tiny", (3, 32, 32), 10, 5526346),      # split-CIFAR10 ViT
    ("cifar_convnet", (3, 32, 32), 100, 128832), # split-CIFAR100 ConvNet
    ("vit_tiny", (3, 32, 32), 100, 5543716),     # split-CIFAR100 ViT
]


@pytest.mark.parametrize("name,shape,classes,expected", TABLE1_D)
def test_parameter_count_matches_table1(name, shape, classes, expected):
    assert num_params(build_model(name, shape, classes, seed=0)) == expected


@pytest.mark.parametrize("name,shape,classes", [("mnist_convnet", (1, 28, 28), 10), ("mlp", (10,), 2),
                                                ("cifar_convnet", (3, 32, 32), 10)])
def test_forward_shape_and_seeded_init(name, shape, classes):
    a, b, c = (build_model(name, shape, classes, seed=s) for s in (3, 3, 4))
    out = a(torch.zeros(2, *shape))
    assert out.shape == (2, classes)
    pa, pb, pc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
    assert torch.equal(pa, pb) and not torch.equal(pa, pc)


def test_unknown_model_lists_known():
    with pytest.raises(KeyError, match="mnist_convnet"):
        build_model("resnet", (1, 28, 28), 10, 0)

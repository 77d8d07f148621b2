"""Profiles: every shipped profile validates; bad keys, types and names fail with a clear message."""
import pytest

from lib import config
from lib.config import ConfigError


@pytest.mark.parametrize("profile", config.available_profiles())
def test_shipped_profiles_validate(profile):
    cfg = config.load(profile)
    assert cfg["profile"] == profile
    for exp in cfg["experiments"].values():
        assert exp["model"] is not None and "target_acc" in exp


def test_required_profiles_exist():
    assert {"smoke", "cpu", "paper"} <= set(config.available_profiles())


def test_unknown_profile_lists_available():
    with pytest.raises(ConfigError, match="unknown profile 'nope'.*smoke"):
        config.load("nope")


def test_override_sets_nested_value():
    cfg = config.load("smoke", ["train.epochs=7", "experiments.fashion_sp.n_tasks=4", "train.lrs=[0.1, 0.01]"])
    assert cfg["train"]["epochs"] == 7
    assert cfg["experiments"]["fashion_sp"]["n_tasks"] == 4
    assert cfg["train"]["lrs"] == [0.1, 0.01]


def test_dict_overrides_are_accepted():
    assert config.load("smoke", {"seed": 3})["seed"] == 3


@pytest.mark.parametrize("override,message", [
    ("train.epoch=2", r"unknown key 'train.epoch'.*allowed: amp, batch_size, epochs"),
    ("sed=1", r"unknown key 'sed'.*allowed:.*seed"),
    ("train.epochs=two", r"'train.epochs' must be int"),
    ("train.weight_decay=1e-3", r"1.0e-3"),
    ("train.lrs=0.1", r"'train.lrs' must be a non-empty list"),
    ("download=yes please", r"'download' must be bool"),
    ("experiments.fashion_sp.benchmark=mnist_xx", r"unknown benchmark 'mnist_xx'.*fashion_sp"),
    ("experiments.fashion_sp.model=resnet", r"unknown model 'resnet'.*mnist_convnet"),
    ("experiments.fashion_sp.n_tasks=0", r"n_tasks must be positive"),
    ("experiments.fashion_sp.colour=red", r"unknown key 'experiments.fashion_sp.colour'"),
    ("device=tpu", r"'device' must be one of auto, cpu, cuda"),
    ("epochs", r"not of the form key=value"),
])
def test_bad_overrides_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        config.load("smoke", [override])


def test_bool_is_not_an_int():
    with pytest.raises(ConfigError, match="'seed' must be int"):
        config.load("smoke", ["seed=true"])


def test_missing_key_is_reported(tmp_path, monkeypatch):
    (tmp_path / "bad.yaml").write_text("seed: 0\n")
    monkeypatch.setattr(config, "params_dir", lambda: tmp_path)
    with pytest.raises(ConfigError, match="missing key 'device'"):
        config.load("bad")


@pytest.mark.parametrize("override,message", [
    ("executor=kubernetes", r"'executor' must be one of inprocess, local, slurm"),
    ("cluster.retries=-1", r"cluster.retries must be >= 0"),
    ("cluster.lookahead=0", r"cluster.lookahead must be >= 1"),
    ("cluster.partition=3", r"'cluster.partition' must be str or null"),
])
def test_bad_executor_settings_are_named(override, message):
    with pytest.raises(config.ConfigError, match=message):
        config.load("smoke", [override])

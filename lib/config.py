"""Profiles: load ``params/<profile>.yaml``, apply ``key=value`` overrides, validate.

Papermill only warns about a misspelt parameter, so every key is checked here
against a schema: an unknown key or a wrong type is an error that names the key
and lists the allowed ones. The result is a plain nested dict.
"""
from __future__ import annotations

import copy
from typing import Any

import yaml

from lib.paths import params_dir


class ConfigError(ValueError):
    """A profile or override that cannot be used; the message says how to fix it."""


# Schema leaves are types (or tuples of types); ``list[int]`` style leaves are
# written as one-element lists; ``{"*": schema}`` is a mapping with free keys.
EXPERIMENT_SCHEMA: dict[str, Any] = {
    "benchmark": str,
    "model": str,
    "n_tasks": int,
    "m_train": int,
    "m_test": int,
    "target_acc": (float, type(None)),
}

SCHEMA: dict[str, Any] = {
    "seed": int,
    "device": str,
    "data_dir": str,
    "download": bool,
    "progress": bool,
    "executor": str,
    "cluster": {
        "partition": (str, type(None)),
        "time_min": int,
        "gpus_per_job": int,
        "cpus_per_job": int,
        "mem_gb": float,
        "max_parallel": int,
        "retries": int,
        "lookahead": int,
    },
    "experiments": {"*": EXPERIMENT_SCHEMA},
    "train": {
        "epochs": int,
        "batch_size": int,
        "eval_batch_size": int,
        "lrs": [float],
        "lr_full": float,
        "weight_decay": float,
        "amp": bool,
    },
    "intrinsic_dim": {
        "d_grid": [int],
        "acc_factor": float,
    },
    "multitask": {
        "l_grid": [int],
        "k_grid": [int],
    },
    "compression": {
        "delta": float,
        "epochs": int,
        "lr": float,
        "optimizer": str,
        "single_r_grid": [int],
        "r_g_grid": [int],
        "r_l_grid": [int],
    },
    "transfer": {
        "experiments": [str],
        "n_tasks": int,
        "kprime_grid": [int],
    },
    "aid_vs_tasks": {
        "experiments": [str],
        "n_values": [int],
        "m_train": int,
    },
}

DEVICES = ("auto", "cpu", "cuda")
EXECUTORS = ("inprocess", "local", "slurm")


def available_profiles() -> list[str]:
    """Names of the profiles in ``params/``."""
    return sorted(p.stem for p in params_dir().glob("*.yaml"))


def load(profile: str, overrides: list[str] | dict[str, Any] | None = None) -> dict[str, Any]:
    """Load a profile, apply overrides (``"train.epochs=2"`` strings or a dict), validate."""
    path = params_dir() / f"{profile}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"unknown profile '{profile}': no file {path}. "
            f"Available profiles: {', '.join(available_profiles())}"
        )
    with path.open() as fh:
        raw = yaml.safe_load(fh) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys to values")
    cfg = apply_overrides(raw, overrides or [])
    validate(cfg)
    cfg = _fill_defaults(cfg)
    cfg["profile"] = profile
    return cfg


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``a.b.c=value`` into a key path and a YAML-parsed value."""
    if "=" not in text:
        raise ConfigError(f"override '{text}' is not of the form key=value (e.g. train.epochs=2)")
    key, value = text.split("=", 1)
    if not key:
        raise ConfigError(f"override '{text}' has an empty key")
    return key.split("."), yaml.safe_load(value)


def apply_overrides(raw: dict[str, Any], overrides: list[str] | dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``raw`` with each override set at its dotted key path."""
    cfg = copy.deepcopy(raw)
    if isinstance(overrides, dict):
        pairs = [(key.split("."), value) for key, value in overrides.items()]
    else:
        pairs = [parse_override(text) for text in overrides]
    for keys, value in pairs:
        _check_path(keys)
        node = cfg
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override '{'.'.join(keys)}': '{key}' is not a mapping")
        node[keys[-1]] = value
    return cfg


def _check_path(keys: list[str]) -> None:
    """Reject an override whose key path is not in the schema, before it is applied."""
    schema: Any = SCHEMA
    for depth, key in enumerate(keys):
        if not isinstance(schema, dict):
            raise ConfigError(f"override key '{'.'.join(keys)}': '{'.'.join(keys[:depth])}' has no sub-keys")
        if "*" in schema:
            schema = schema["*"]
            continue
        if key not in schema:
            where = ".".join(keys[:depth]) or "top level"
            raise ConfigError(
                f"unknown key '{'.'.join(keys[: depth + 1])}' ({where}); allowed: {', '.join(sorted(schema))}"
            )
        schema = schema[key]


def validate(cfg: dict[str, Any], schema: dict[str, Any] = SCHEMA, prefix: str = "") -> None:
    """Raise ConfigError for unknown keys, missing keys and wrong types."""
    if "*" in schema:
        if not isinstance(cfg, dict) or not cfg:
            raise ConfigError(f"'{prefix.rstrip('.')}' must be a non-empty mapping")
        for key, value in cfg.items():
            if not isinstance(value, dict):
                raise ConfigError(f"'{prefix}{key}' must be a mapping with keys {', '.join(schema['*'])}")
            validate(value, schema["*"], f"{prefix}{key}.")
        return
    for key in cfg:
        if key == "profile" and not prefix:
            continue
        if key not in schema:
            raise ConfigError(
                f"unknown key '{prefix}{key}'; allowed keys here: {', '.join(sorted(schema))}"
            )
    for key, spec in schema.items():
        name = f"{prefix}{key}"
        if key not in cfg:
            if _has_default(name):
                continue
            raise ConfigError(f"missing key '{name}' in the profile")
        _check_value(name, cfg[key], spec)
    if not prefix:
        _check_semantics(cfg)


def _check_value(name: str, value: Any, spec: Any) -> None:
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise ConfigError(f"'{name}' must be a mapping, got {type(value).__name__}")
        validate(value, spec, f"{name}.")
    elif isinstance(spec, list):
        if not isinstance(value, list) or not value:
            raise ConfigError(f"'{name}' must be a non-empty list, got {value!r}")
        for i, item in enumerate(value):
            _check_value(f"{name}[{i}]", item, spec[0])
    else:
        types = spec if isinstance(spec, tuple) else (spec,)
        if float in types and isinstance(value, int) and not isinstance(value, bool):
            return
        if bool not in types and isinstance(value, bool) or not isinstance(value, types):
            hint = ""
            if float in types and isinstance(value, str):
                hint = " (YAML reads 1e-3 as a string: write 1.0e-3)"
            allowed = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise ConfigError(f"'{name}' must be {allowed}, got {value!r}{hint}")


_DEFAULTS = {"target_acc": None, "model": None}


def _has_default(name: str) -> bool:
    return name.startswith("experiments.") and name.rsplit(".", 1)[-1] in _DEFAULTS


def _fill_defaults(cfg: dict[str, Any]) -> dict[str, Any]:
    """Give every experiment its optional keys; the model defaults to the benchmark's."""
    from lib.data import BENCHMARKS  # local import: data imports torch, config should not need it

    for exp in cfg["experiments"].values():
        exp.setdefault("target_acc", None)
        if exp.get("model") is None:
            exp["model"] = BENCHMARKS[exp["benchmark"]].default_model
    return cfg


def _check_semantics(cfg: dict[str, Any]) -> None:
    """Checks beyond types: names that must exist, values that must be positive."""
    from lib.data import BENCHMARKS
    from lib.models import MODELS

    if cfg["device"] not in DEVICES:
        raise ConfigError(f"'device' must be one of {', '.join(DEVICES)}, got '{cfg['device']}'")
    if cfg["executor"] not in EXECUTORS:
        raise ConfigError(f"'executor' must be one of {', '.join(EXECUTORS)}, got '{cfg['executor']}'")
    cluster = cfg["cluster"]
    for key, low in (("time_min", 1), ("max_parallel", 1), ("lookahead", 1), ("retries", 0),
                     ("gpus_per_job", 0), ("cpus_per_job", 1)):
        if cluster[key] < low:
            raise ConfigError(f"cluster.{key} must be >= {low}, got {cluster[key]}")
    for name, exp in cfg["experiments"].items():
        if exp["benchmark"] not in BENCHMARKS:
            raise ConfigError(
                f"experiments.{name}.benchmark: unknown benchmark '{exp['benchmark']}'; "
                f"known: {', '.join(sorted(BENCHMARKS))}"
            )
        if exp.get("model") is not None and exp["model"] not in MODELS:
            raise ConfigError(
                f"experiments.{name}.model: unknown model '{exp['model']}'; known: {', '.join(sorted(MODELS))}"
            )
        for key in ("n_tasks", "m_train", "m_test"):
            if exp[key] <= 0:
                raise ConfigError(f"experiments.{name}.{key} must be positive, got {exp[key]}")
    train = cfg["train"]
    for key in ("epochs", "batch_size", "eval_batch_size"):
        if train[key] <= 0:
            raise ConfigError(f"train.{key} must be positive, got {train[key]}")
    if any(d <= 0 for d in cfg["intrinsic_dim"]["d_grid"]):
        raise ConfigError("intrinsic_dim.d_grid must hold positive integers")
    for key in ("l_grid", "k_grid"):
        if any(v <= 0 for v in cfg["multitask"][key]):
            raise ConfigError(f"multitask.{key} must hold positive integers")
    sweep = cfg["aid_vs_tasks"]
    for name in sweep["experiments"]:
        if name not in cfg["experiments"]:
            raise ConfigError(f"aid_vs_tasks.experiments: '{name}' is not one of this profile's experiments "
                              f"({', '.join(cfg['experiments'])})")
    if any(v <= 0 for v in sweep["n_values"]) or sweep["m_train"] <= 0:
        raise ConfigError("aid_vs_tasks.n_values and aid_vs_tasks.m_train must be positive")
    comp = cfg["compression"]
    if not 0 < comp["delta"] < 1:
        raise ConfigError(f"compression.delta must lie in (0, 1), got {comp['delta']}")
    if comp["optimizer"] not in ("adam", "sgd"):
        raise ConfigError(f"compression.optimizer must be adam or sgd, got '{comp['optimizer']}'")
    for key in ("single_r_grid", "r_g_grid", "r_l_grid"):
        if any(v < 1 for v in comp[key]):
            raise ConfigError(f"compression.{key} must hold codebook sizes >= 1")
    for name in cfg["transfer"]["experiments"]:
        if name not in cfg["experiments"]:
            raise ConfigError(f"transfer.experiments: '{name}' is not one of this profile's experiments "
                              f"({', '.join(cfg['experiments'])})")
    if cfg["transfer"]["n_tasks"] <= 0 or any(v < 0 for v in cfg["transfer"]["kprime_grid"]):
        raise ConfigError("transfer.n_tasks must be positive and transfer.kprime_grid non-negative")
    if not 0 < cfg["intrinsic_dim"]["acc_factor"] <= 1:
        raise ConfigError("intrinsic_dim.acc_factor must lie in (0, 1]")

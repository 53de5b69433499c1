"""Sweep points from a study's config section, built deterministically.

A study section (see ``config.yaml``) has ``experiments``; each experiment has ``settings`` and a
``sweep``: a list of blocks. In a block a list is a sweep axis and the block is the product of its
axes; a scalar overrides a setting for that block only. A scalar setting may also be swept: a list
under its key makes it an axis of the block, whose values replace the setting there (so an
override file, which cannot delete a setting of ``config.yaml``, can still sweep it). Every block
of an experiment must have the same axes, and ``init`` is always one of them (DESIGN.md:
initialisation is a named axis of every study).

Each point gets a name made of its sorted axes, ``c~5.0_init~spectral_kappa~10_method~gd``, which
is also its run file's name. Points are looked up by name (never parsed back from it), so the
values a job receives are exactly those written in the config, with their Python types.

This is our own builder rather than ``snakemake.utils.Paramspace``: a union of products (blocks
with their own overrides) is not a single product, and a dict lookup avoids Paramspace's numpy
scalars and float re-parsing. The file names follow Paramspace's ``key~value`` convention.

The module imports nothing heavy: the Snakefile imports it on every parse, including each cluster
job's.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from initlab.config import ConfigError

__all__ = ["Point", "build_points", "format_value", "study_points"]

_VALUE = re.compile(r"^[A-Za-z0-9.+\-]+$")
#: Axis names: letters, digits and inner underscores (``t_max``). Names stay unique: values have
#: no ``_`` or ``~``, so in ``init~spectral_t_max~50`` each value ends at the first ``_``.
_AXIS = re.compile(r"^[A-Za-z0-9]+(_[A-Za-z0-9]+)*$")


@dataclass(frozen=True)
class Point:
    """One sweep point: its axis values and every parameter its job receives."""

    name: str
    axes: dict = field(hash=False)
    params: dict = field(hash=False)


def format_value(value, where: str) -> str:
    """The string of an axis value as it appears in a file name (``where`` names the key)."""
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, (int, str)):
        text = str(value)
    else:
        raise ConfigError(f"{where}: axis values must be numbers or strings, got {value!r}")
    if not _VALUE.match(text):
        raise ConfigError(
            f"{where}: axis value {value!r} cannot be part of a file name; "
            "use letters, digits, '.', '+' and '-' only (no '_', '/' or spaces)"
        )
    return text


def _sorted_keys(value):
    """``value`` with every mapping's keys sorted, recursively (lists keep their order)."""
    if isinstance(value, dict):
        return {k: _sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(v) for v in value]
    return value


def _block_points(block: dict, settings: dict, where: str) -> tuple[list[str], list[Point]]:
    axes = sorted(k for k, v in block.items() if isinstance(v, list))
    overrides = {k: v for k, v in block.items() if not isinstance(v, list)}
    for axis in axes:
        if not _AXIS.match(axis):
            raise ConfigError(
                f"{where}.{axis}: axis names use letters, digits and inner underscores only"
            )
        if not block[axis]:
            raise ConfigError(f"{where}.{axis}: an axis needs at least one value")
        if isinstance(settings.get(axis), (list, dict)):
            raise ConfigError(
                f"{where}.{axis}: {axis!r} is a list-valued setting of this experiment; a list "
                "in a block would sweep its elements one by one, so it cannot be an axis"
            )
    if "init" not in axes:
        raise ConfigError(f"{where}: every sweep block needs an 'init' axis (a list)")
    points = []
    for values in itertools.product(*(block[a] for a in axes)):
        point_axes = dict(zip(axes, values))
        name = "_".join(f"{a}~{format_value(v, f'{where}.{a}')}" for a, v in point_axes.items())
        # Sorted keys: Snakemake compares params by their text, so the order of keys in a
        # config file must not make a point look changed.
        params = _sorted_keys({**settings, **overrides, **point_axes})
        points.append(Point(name, point_axes, params))
    return axes, points


def build_points(experiment_cfg: dict, where: str) -> dict[str, Point]:
    """All points of one experiment, by name, in config order. ``where`` is the config key path."""
    settings = dict(experiment_cfg.get("settings") or {})
    sweep = experiment_cfg.get("sweep") or []
    if not sweep:
        raise ConfigError(f"{where}.sweep: an experiment needs at least one sweep block")
    points: dict[str, Point] = {}
    first_axes = None
    for i, block in enumerate(sweep):
        block_where = f"{where}.sweep[{i}]"
        axes, block_points = _block_points(block, settings, block_where)
        if first_axes is None:
            first_axes = axes
        elif axes != first_axes:
            raise ConfigError(
                f"{block_where}: axes {axes} differ from the first block's {first_axes}; "
                "every block of an experiment sweeps the same axes"
            )
        for p in block_points:
            if p.name in points:
                raise ConfigError(f"{block_where}: point {p.name} is already in an earlier block")
            points[p.name] = p
    return points


def study_points(study: str, study_cfg: dict) -> dict[str, dict[str, Point]]:
    """``{experiment: {point name: Point}}`` for one study's config section."""
    experiments = study_cfg.get("experiments") or {}
    if not experiments:
        raise ConfigError(f"studies.{study}.experiments: a study needs at least one experiment")
    return {
        name: build_points(cfg, f"studies.{study}.experiments.{name}")
        for name, cfg in experiments.items()
    }

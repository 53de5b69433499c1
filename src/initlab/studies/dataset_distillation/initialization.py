"""Starting values of the distilled points: the study's ``init`` axis (brief §2.4).

``gauss<scale>`` (e.g. ``gauss0.1``, the default): X1 ~ scale N(0, I_d); stage 2 starts from
X2 ~ N(0, I_d) and y2 ~ N(0, 1) whatever the scale. ``real``: X1 = m1/2 random training inputs
(labels of S1 stay +1), (X2, y2) = m2 random training pairs, all distinct.

The standard normals come from one stream in a fixed order (X1, then X2, then y2), so every
Gaussian arm starts from the same directions at a different scale; since the hard gate and the
row normalisation remove the scale from stage 1, all Gaussian arms share one undistilled value.
"""

from __future__ import annotations

import re

import numpy as np
import torch

__all__ = ["check_sizes", "initial_points", "parse_init"]

_GAUSS = re.compile(r"^gauss([0-9]+(\.[0-9]+)?([eE]-?[0-9]+)?)$")


def parse_init(init: str) -> tuple[str, float | None]:
    """``"gauss0.1"`` -> ``("gauss", 0.1)``; ``"real"`` -> ``("real", None)``."""
    if init == "real":
        return "real", None
    match = _GAUSS.match(str(init))
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"unknown init {init!r}: expected 'real' or 'gauss<scale>' with scale > 0")
    return "gauss", float(match.group(1))


def check_sizes(m1: int, m2: int) -> None:
    """The distilled set needs an even m1 >= 2 (stored as m1/2 points and their mirror images)
    and m2 >= 1; anything else is rejected with the reason."""
    if m1 < 2 or m1 % 2:
        raise ValueError(
            f"m1={m1}: the stage-1 distilled set needs an even m1 >= 2 (m1/2 stored points, each "
            "with its mirror image); an empty distilled set cannot train the learner"
        )
    if m2 < 1:
        raise ValueError(f"m2={m2}: the stage-2 distilled set needs at least one point")


def initial_points(
    init: str,
    rng: np.random.Generator,
    m1: int,
    m2: int,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """X1 (m1/2, d), X2 (m2, d), y2 (m2,) in float64 on the training data's device."""
    check_sizes(m1, m2)
    scheme, scale = parse_init(init)
    n, d = x_train.shape
    dev = x_train.device
    if scheme == "real":
        if m1 // 2 + m2 > n:
            raise ValueError(f"init 'real' needs m1/2 + m2 = {m1 // 2 + m2} <= n = {n} points")
        idx = torch.from_numpy(rng.choice(n, m1 // 2 + m2, replace=False)).to(dev)
        x = x_train[idx].to(torch.float64)
        return x[: m1 // 2].clone(), x[m1 // 2 :].clone(), y_train[idx[m1 // 2 :]].clone()
    x1 = scale * rng.standard_normal((m1 // 2, d))
    x2 = rng.standard_normal((m2, d))
    y2 = rng.standard_normal(m2)
    return tuple(torch.from_numpy(v).to(dev, torch.float64) for v in (x1, x2, y2))

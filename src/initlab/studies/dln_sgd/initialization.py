"""The ``init`` sweep axis (brief §2 "Initialization").

Values, as written in the config and in file names:

``gamma-<g>``
    the full network: entries of W_l iid N(0, w_l^(-g)) with w_l = min(fan_in, fan_out), the
    variance scaling of Jacot et al. (2021) used by the authors' code. A larger g gives a smaller
    init and a clearer saddle-to-saddle staircase; g <~ 1 learns all modes at once.
``aligned-<u0>``
    the 1-D models: every mode starts aligned and balanced at u = u0, i.e. a(0) = u0^(1/L).
``aligned-s``
    the 1-D models started at the teacher, a(0) = s_k^(1/L) (stationary runs).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = ["aligned_init", "jacot_init", "parse_init"]

_INIT = re.compile(r"^(gamma|aligned)-([0-9.eE+\-]+|s)$")


def parse_init(value: str) -> tuple[str, float | None]:
    """``"gamma-4"`` -> ``("gamma", 4.0)``; ``"aligned-0.001"`` -> ``("aligned", 0.001)``;
    ``"aligned-s"`` -> ``("aligned", None)`` (start at the teacher)."""
    m = _INIT.match(str(value))
    if not m or (m.group(1) == "gamma" and m.group(2) == "s"):
        raise ValueError(
            f"init {value!r}: expected gamma-<scale> (full network), aligned-<u0> or aligned-s "
            "(1-D models)"
        )
    if m.group(2) == "s":
        return "aligned", None
    try:
        x = float(m.group(2))
    except ValueError:
        raise ValueError(f"init {value!r}: {m.group(2)!r} is not a number") from None
    if m.group(1) == "aligned" and not x > 0:
        raise ValueError(f"init {value!r}: u0 must be positive")
    return m.group(1), x


def jacot_init(rngs, widths: Sequence[int], gamma: float) -> list[np.ndarray]:
    """Weights W_1..W_L, each (S, fan_out, fan_in), one generator per seed.

    Each seed's generator draws W_1, then W_2, ..., W_L as standard normals, scaled by
    w_l^(-gamma/2): the same draws serve every gamma, so an init sweep changes only the scale.
    """
    widths = [int(w) for w in widths]
    shapes = [(widths[i + 1], widths[i]) for i in range(len(widths) - 1)]
    draws = [[g.standard_normal(shape) for shape in shapes] for g in rngs]
    weights = []
    for layer, (fan_out, fan_in) in enumerate(shapes):
        scale = float(min(fan_in, fan_out)) ** (-gamma / 2)
        weights.append(scale * np.stack([d[layer] for d in draws]))
    return weights


def aligned_init(u0: float | None, s: np.ndarray, depth: int) -> np.ndarray:
    """a(0) per mode (r,): u0^(1/L), or s_k^(1/L) when ``u0`` is None."""
    s = np.asarray(s, dtype=float)
    u = s if u0 is None else np.full_like(s, float(u0))
    return u ** (1.0 / depth)

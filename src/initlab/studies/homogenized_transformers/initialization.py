"""Token initialisations, the sweep axis ``init`` (brief §2.5).

Values of the axis (letters, digits, '.', '-'):

``uniform``              i.i.d. uniform on S^{d-1} (normalised Gaussians), per seed.
``orthonormal``          equiangular(0): x_i = e_i (needs d >= n).
``simplex``              equiangular(-1/(n-1)), the regular simplex (needs d >= n).
``equiangular-<rho0>``   Gram (1 - rho0) I + rho0 11^T, e.g. ``equiangular-0.3``,
                         ``equiangular--0.02`` (needs d >= n, rho0 in [-1/(n-1), 1)).
``concentrated-<s>``     x = normalise(e_1 + s g / sqrt(d)), g ~ N(0, I_d), per seed.
``fixed``                one uniform X0 drawn from ``init_seed`` and shared by every seed, so the
                         seeds sample the weights only.

Gaussian weights are rotation-invariant, so the deterministic configurations need no random
rotation (they would if the weights were ever non-Gaussian).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "concentrated",
    "equiangular",
    "equiangular_rho0",
    "initial_tokens",
    "parse_init",
    "uniform",
]

SCHEMES = ("uniform", "orthonormal", "simplex", "equiangular", "concentrated", "fixed")


def parse_init(value: str) -> tuple[str, float | None]:
    """``"equiangular-0.3"`` -> ``("equiangular", 0.3)``; ``"uniform"`` -> ``("uniform", None)``.

    Raises `ValueError` naming ``value`` for an unknown scheme or a missing/invalid parameter.
    """
    text = str(value)
    if text in ("uniform", "orthonormal", "simplex", "fixed"):
        return text, None
    scheme, sep, arg = text.partition("-")
    if scheme in ("equiangular", "concentrated") and sep:
        try:
            param = float(arg)
        except ValueError:
            param = float("nan")
        if not np.isfinite(param):
            raise ValueError(f"init {value!r}: {scheme} needs a number, e.g. {scheme}-0.3")
        if scheme == "concentrated" and param < 0:
            raise ValueError(f"init {value!r}: the concentration scale s must be >= 0")
        if scheme == "equiangular" and not -1.0 < param < 1.0:
            raise ValueError(f"init {value!r}: rho0 must lie in (-1, 1)")
        return scheme, param
    raise ValueError(
        f"unknown init {value!r}: expected uniform, orthonormal, simplex, fixed, "
        "equiangular-<rho0> or concentrated-<s>"
    )


def equiangular_rho0(init: str, n: int) -> float | None:
    """The pair overlap rho0 of an equiangular init (orthonormal: 0, simplex: -1/(n-1)), else None."""
    scheme, param = parse_init(init)
    if scheme == "orthonormal":
        return 0.0
    if scheme == "simplex":
        return -1.0 / (n - 1)
    if scheme == "equiangular":
        return float(param)
    return None


def uniform(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """(n, d) i.i.d. uniform on S^{d-1}: pair overlaps are about +-1/sqrt(d)."""
    g = rng.standard_normal((n, d))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def equiangular(n: int, d: int, rho0: float) -> np.ndarray:
    """(n, d) tokens with Gram (1 - rho0) I + rho0 11^T (brief §2.5).

    Rows of F = U diag(sqrt(lambda)), (lambda, U) = eigh(G), placed in the first n coordinates.
    Eigenvalues below 1e-12 are set to 0, so the regular simplex sums to zero to rounding.
    """
    if d < n:
        raise ValueError(f"equiangular init needs d >= n, got n={n}, d={d}")
    if n < 2:
        raise ValueError("equiangular init needs n >= 2")
    if rho0 < -1.0 / (n - 1) - 1e-12 or rho0 >= 1.0:
        raise ValueError(f"rho0 = {rho0} is not a Gram overlap for n = {n} (need >= -1/(n-1), < 1)")
    gram = (1.0 - rho0) * np.eye(n) + rho0 * np.ones((n, n))
    lam, u = np.linalg.eigh(gram)
    lam = np.where(lam < 1e-12, 0.0, lam)
    x = np.zeros((n, d))
    x[:, :n] = u * np.sqrt(lam)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def concentrated(rng: np.random.Generator, n: int, d: int, s: float) -> np.ndarray:
    """(n, d) tokens normalise(e_1 + s g / sqrt(d)); mean overlap about 1/(1 + s^2) (0.30 at s=1.5)."""
    x = s * rng.standard_normal((n, d)) / np.sqrt(d)
    x[:, 0] += 1.0
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def initial_tokens(
    init: str,
    n: int,
    d: int,
    rngs: Sequence[np.random.Generator],
    *,
    fixed_rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Initial tokens for every seed, (S, n, d) with S = len(rngs).

    ``rngs`` are the per-seed init generators (used by ``uniform`` and ``concentrated``);
    ``fixed_rng`` draws the single X0 of ``fixed``.
    """
    scheme, param = parse_init(init)
    count = len(rngs)
    if scheme == "uniform":
        return np.stack([uniform(g, n, d) for g in rngs])
    if scheme == "concentrated":
        return np.stack([concentrated(g, n, d, param) for g in rngs])
    if scheme == "fixed":
        if fixed_rng is None:
            raise ValueError("init 'fixed' needs fixed_rng (the generator of init_seed)")
        return np.broadcast_to(uniform(fixed_rng, n, d), (count, n, d)).copy()
    rho0 = equiangular_rho0(init, n)
    return np.broadcast_to(equiangular(n, d, rho0), (count, n, d)).copy()

"""Initialisation, the study's sweep axis (brief §2, "Initialization").

The ``init`` axis value names a scheme and its scales, ``<scheme>[-q<q0>][-rho<rho>][-delta<delta>]``:

``gaussian[-q<q0>]``
    SGD students ``w_i ~ N(0, q0 I_N)``, so ``Q0 = q0 I + O(q0/sqrt(N))`` and ``M0`` has entries
    ``~ N(0, q0/N)``. The companion ODEs start from each seed's exact (``empirical``) overlaps,
    and from the idealised ``Q0 = q0 I`` with the same ``M0`` (the baseline of brief §5).
``isotropic[-q<q0>][-rho<rho>]``
    ODE only: ``Q0 = q0 I``, ``M0 = rho sqrt(q0) G / sqrt(N)`` with G a standard Gaussian (p, p*).
``anisotropic-delta<delta>[-q<q0>][-rho<rho>]``
    ODE only: ``Q0 = q0 O diag(1 + delta linspace(-1, 1, p)) O^T`` with O Haar-random, and ``M0``
    as for ``isotropic``.
``haar``
    Hessian points only: the plateau and solution points are built from Haar-random frames.

Defaults: ``q0 = 1``, ``rho = 1``. Numbers are plain decimals (``0.5``, ``10``), so every value
is a valid file-name part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = [
    "InitSpec",
    "SCHEMES",
    "anisotropic_overlaps",
    "gaussian_students",
    "haar_orthogonal",
    "isotropic_overlaps",
    "parse_init",
    "stiefel",
]

#: Schemes and the scale parameters each accepts.
SCHEMES = {
    "gaussian": ("q",),
    "isotropic": ("q", "rho"),
    "anisotropic": ("q", "rho", "delta"),
    "haar": (),
}
_PART = re.compile(r"^(q|rho|delta)([0-9]+(?:\.[0-9]+)?)$")


@dataclass(frozen=True)
class InitSpec:
    """A parsed ``init`` value: scheme, ``q0`` (initial squared norm per coordinate), ``rho``
    (scale of M0 relative to ``sqrt(q0/N)``) and ``delta`` (anisotropy of Q0)."""

    scheme: str
    q0: float = 1.0
    rho: float = 1.0
    delta: float = 0.0


def parse_init(text: str) -> InitSpec:
    """Parse an ``init`` axis value (see the module docstring); raises ValueError naming it."""
    scheme, *parts = str(text).split("-")
    if scheme not in SCHEMES:
        raise ValueError(
            f"init {text!r}: unknown scheme {scheme!r}; expected one of {sorted(SCHEMES)}"
        )
    values = {}
    for part in parts:
        m = _PART.match(part)
        if m is None or m.group(1) not in SCHEMES[scheme]:
            allowed = ", ".join(f"-{k}<number>" for k in SCHEMES[scheme]) or "nothing"
            raise ValueError(f"init {text!r}: bad part {part!r}; {scheme} accepts {allowed}")
        if m.group(1) in values:
            raise ValueError(f"init {text!r}: {m.group(1)} given twice")
        values[m.group(1)] = float(m.group(2))
    if scheme == "anisotropic" and "delta" not in values:
        raise ValueError(
            f"init {text!r}: anisotropic needs -delta<number>, e.g. anisotropic-delta0.3"
        )
    spec = InitSpec(
        scheme, q0=values.get("q", 1.0), rho=values.get("rho", 1.0), delta=values.get("delta", 0.0)
    )
    if spec.q0 <= 0 or spec.rho <= 0:
        raise ValueError(f"init {text!r}: q and rho must be positive")
    if not 0 <= spec.delta < 1:
        raise ValueError(
            f"init {text!r}: delta must be in [0, 1) so that Q0 stays positive definite"
        )
    return spec


def gaussian_students(rng: np.random.Generator, p: int, N: int, q0: float) -> np.ndarray:
    """SGD students W0 (p, N) with i.i.d. N(0, q0) entries."""
    return np.sqrt(q0) * rng.standard_normal((p, N))


def isotropic_overlaps(G: np.ndarray, N: float, q0: float, rho: float):
    """``(Q0, M0)``: ``Q0 = q0 I_p`` (p, p) and ``M0 = rho sqrt(q0) G / sqrt(N)`` (p, p*), from a
    standard Gaussian ``G`` (p, p*)."""
    p = G.shape[0]
    return q0 * np.eye(p), rho * np.sqrt(q0) * G / np.sqrt(N)


def anisotropic_overlaps(
    G: np.ndarray, O: np.ndarray, N: float, q0: float, rho: float, delta: float
):
    """``(Q0, M0)``: ``Q0 = q0 O diag(1 + delta linspace(-1, 1, p)) O^T`` with an orthogonal O
    (p, p), and ``M0`` as in `isotropic_overlaps`."""
    p = G.shape[0]
    spectrum = 1.0 + delta * np.linspace(-1.0, 1.0, p)
    Q0 = q0 * (O * spectrum) @ O.T
    return 0.5 * (Q0 + Q0.T), rho * np.sqrt(q0) * G / np.sqrt(N)


def stiefel(rng: np.random.Generator, p: int, k: int) -> np.ndarray:
    """A Haar-random (p, k) matrix with orthonormal columns (``R^T R = I_k``), k <= p."""
    if k > p:
        raise ValueError(f"a ({p}, {k}) matrix cannot have {k} orthonormal columns")
    q, r = np.linalg.qr(rng.standard_normal((p, k)))
    return q * np.sign(np.diag(r))


def haar_orthogonal(rng: np.random.Generator, p: int) -> np.ndarray:
    """A Haar-random orthogonal (p, p) matrix."""
    return stiefel(rng, p, p)

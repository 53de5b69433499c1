"""The loss family of DGC-F_rho (brief §2, "Loss family").

Every gradient has the form ``grad_x f(x, y) = omega(r) (x - y)`` with ``r = ||x - y||``, so one
kernel serves all four losses. ``value`` gives ``f`` as a function of ``r``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LOSSES", "beta", "omega", "value"]

#: Loss names: K-means [sourced], Huber, logistic, fair [reconstructed: standard forms].
LOSSES = ("kmeans", "huber", "logistic", "fair")


def _check(loss: str, delta: float) -> None:
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {LOSSES}")
    if loss != "kmeans" and not delta > 0:
        raise ValueError(f"loss {loss!r} needs delta > 0, got {delta!r}")


def value(r: np.ndarray, loss: str = "kmeans", delta: float = 1.0) -> np.ndarray:
    """``f`` at distance ``r >= 0`` (any shape), same shape."""
    _check(loss, delta)
    r = np.asarray(r, dtype=float)
    if loss == "kmeans":
        return r**2
    if loss == "huber":
        return np.where(r <= delta, 0.5 * r**2, delta * r - 0.5 * delta**2)
    if loss == "logistic":
        # delta^2 log cosh(r/delta), written stably: log cosh z = |z| + log1p(e^{-2|z|}) - log 2
        z = np.abs(r / delta)
        return delta**2 * (z + np.log1p(np.exp(-2 * z)) - np.log(2.0))
    return delta**2 * (r / delta - np.log1p(r / delta))


def omega(r: np.ndarray, loss: str = "kmeans", delta: float = 1.0) -> np.ndarray:
    """The gradient weight ``omega(r)`` with ``grad f = omega(r) (x - y)``; finite at ``r = 0``."""
    _check(loss, delta)
    r = np.asarray(r, dtype=float)
    if loss == "kmeans":
        return np.full_like(r, 2.0)
    if loss == "huber":
        return np.where(r > delta, delta / np.where(r > delta, r, 1.0), 1.0)
    if loss == "logistic":
        z = r / delta
        safe = np.where(z > 1e-8, z, 1.0)
        return np.where(z > 1e-8, np.tanh(safe) / safe, 1.0 - z**2 / 3)
    return delta / (delta + r)


def beta(loss: str = "kmeans", delta: float = 1.0) -> float:
    """Smoothness constant ``beta_f`` of one term (brief §2 table)."""
    _check(loss, delta)
    return 2.0 if loss == "kmeans" else 1.0

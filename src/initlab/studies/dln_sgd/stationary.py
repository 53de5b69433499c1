"""Stationary law of one mode with label noise (brief §2 "Stationary laws", §5).

The mode strength u = a^L of an aligned, balanced mode follows the Ito SDE

    du = mu(u) dt + g(u) dW,
    mu(u)  = L u^(2-2/L) (s-u) + 1/2 L (L-1) u^(3-4/L) (eta/B) V(u),
    g(u)^2 = L^2 u^(4-4/L) (eta/B) V(u),            V(u) = (kappa-1)(s-u)^2 + sigma^2.

With sigma > 0 its zero-flux stationary density is p(u) ∝ g(u)^(-2) exp( ∫^u 2 mu / g^2 ), evaluated
by quadrature (`scipy.integrate.cumulative_trapezoid`) on u in [0.2 s, 1.8 s]. Near s it is close to
the Boltzmann law N(s, tau_k) of l_k = (u-s)^2/2 at the mode-dependent temperature
tau_k = L eta sigma^2 s^(2-2/L) / (2B). With sigma = 0 the stationary measures are point masses at
the gradient-flow fixed points 0 and s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import cumulative_trapezoid, trapezoid

from .modes import KAPPA

__all__ = [
    "GRID_POINTS",
    "Density",
    "boltzmann_temperature",
    "drift",
    "exact_density",
    "squared_diffusion",
]

#: Quadrature points of the exact density (brief §2).
GRID_POINTS = 40001


def drift(u, s, depth, *, eta, batch, sigma):
    """mu(u) of the u-SDE (Ito), including the 1/2 L (L-1) u^(3-4/L) (eta/B) V(u) term."""
    v = (KAPPA - 1) * (s - u) ** 2 + sigma**2
    return (
        depth * u ** (2 - 2 / depth) * (s - u)
        + 0.5 * depth * (depth - 1) * u ** (3 - 4 / depth) * (eta / batch) * v
    )


def squared_diffusion(u, s, depth, *, eta, batch, sigma):
    """g(u)^2 = L^2 u^(4-4/L) (eta/B) V(u)."""
    v = (KAPPA - 1) * (s - u) ** 2 + sigma**2
    return depth**2 * u ** (4 - 4 / depth) * (eta / batch) * v


def boltzmann_temperature(s, depth, *, eta, batch, sigma):
    """tau_k = L eta sigma^2 s^(2-2/L) / (2B): the variance of the Gaussian approximation."""
    return depth * eta * sigma**2 * np.asarray(s, dtype=float) ** (2 - 2 / depth) / (2 * batch)


@dataclass(frozen=True)
class Density:
    """The exact stationary density of one mode on its quadrature grid."""

    u: np.ndarray  # (n,) grid in u
    pdf: np.ndarray  # (n,) normalised density
    cdf: np.ndarray  # (n,) cumulative distribution on the grid, 0 .. 1

    @property
    def mean(self) -> float:
        return float(trapezoid(self.u * self.pdf, self.u))

    @property
    def var(self) -> float:
        return float(trapezoid((self.u - self.mean) ** 2 * self.pdf, self.u))

    def cdf_at(self, x):
        """The CDF at x, linear between grid points, 0 below and 1 above the grid."""
        return np.interp(x, self.u, self.cdf, left=0.0, right=1.0)


def exact_density(s, depth, *, eta, batch, sigma, lo=0.2, hi=1.8, points=GRID_POINTS) -> Density:
    """The zero-flux stationary density of the u-SDE on [lo s, hi s] (needs sigma > 0)."""
    if not sigma > 0:
        raise ValueError("the stationary density is a point mass at sigma = 0; pass sigma > 0")
    u = np.linspace(lo * s, hi * s, points)
    kw = dict(eta=eta, batch=batch, sigma=sigma)
    g2 = squared_diffusion(u, s, depth, **kw)
    log_p = cumulative_trapezoid(2 * drift(u, s, depth, **kw) / g2, u, initial=0.0) - np.log(g2)
    p = np.exp(log_p - log_p.max())
    p /= trapezoid(p, u)
    c = cumulative_trapezoid(p, u, initial=0.0)
    return Density(u, p, c / c[-1])

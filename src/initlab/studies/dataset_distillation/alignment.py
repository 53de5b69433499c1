"""How much of a set of row vectors lies in the task subspace span(U) (brief §2.5).

Energy fraction e(M) = ||M U^T||_F^2 / ||M||_F^2 for M (k, d) and U (r, d) with orthonormal rows:
1 when every row lies in span(U), r/d in expectation for isotropic random rows (chance level).
The max principal angle between the top-r right-singular subspace of M and span(U) is reported
only: it is unstable across seeds (§7).
"""

from __future__ import annotations

import math

import torch

__all__ = ["chance_energy", "energy_fraction", "max_principal_angle_deg"]


def energy_fraction(m: torch.Tensor, u: torch.Tensor) -> float:
    """e(M) = ||M U^T||_F^2 / ||M||_F^2 in float64; ``m`` (k, d), ``u`` (r, d) orthonormal rows."""
    m = m.to(torch.float64)
    total = float((m * m).sum())
    if not total > 0:
        raise ValueError("the energy fraction of an all-zero matrix is undefined")
    return float(((m @ u.T) ** 2).sum()) / total


def chance_energy(r: int, d: int) -> float:
    """E[e(M)] for rows drawn isotropically: r/d."""
    return r / d


def max_principal_angle_deg(m: torch.Tensor, u: torch.Tensor) -> float:
    """Largest principal angle (degrees) between span(U) and the top-k right-singular subspace of
    M, k = min(r, rank M); 0 when that subspace lies in span(U), 90 when one direction is missed."""
    m = m.to(torch.float64)
    _, s, vh = torch.linalg.svd(m, full_matrices=False)
    k = min(u.shape[0], int((s > s[0] * 1e-12).sum()) if s.numel() and s[0] > 0 else 0)
    if k == 0:
        raise ValueError("principal angles of an all-zero matrix are undefined")
    cosines = torch.linalg.svdvals(vh[:k] @ u.T.to(torch.float64))
    return math.degrees(math.acos(min(1.0, max(-1.0, float(cosines[k - 1])))))

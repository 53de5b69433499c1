"""Which sweep points the claims and figures read (brief §3): the experiment design, in one place.

Claims and figures select these points from the aggregated results; a config that leaves one out
turns the claims that need it into FAILs that say which point is missing.
"""

from __future__ import annotations

__all__ = ["A8_GAMMAS", "E1_INIT", "ETA_B", "VARIANTS", "with_variants"]

#: The E1 point of each depth L: its init (gamma chosen per depth, brief pitfall 2).
E1_INIT = {2: "gamma-3", 3: "gamma-4", 4: "gamma-2.5"}
#: The init sweep of claim A8 at L = 3 (E3).
A8_GAMMAS = ["gamma-1", "gamma-2", "gamma-3", "gamma-4"]
#: The (eta, B) pairs of E5/E6, as labelled in the ``eta_B`` coordinate ("<eta>/<B>").
ETA_B = {"base": "0.004/1", "half_eta": "0.002/1", "double_b": "0.004/2"}
#: The paper-scale variant axes (absent at quick scale) and the value the claims and figures read:
#: the experiment's own ``teacher`` setting on online Gaussian data, the setting the claims'
#: thresholds were calibrated on. The other variants are tabulated in the results only.
VARIANTS = {"spectrum": "default", "inputs": "online"}


def with_variants(dims, where: dict) -> dict:
    """``where`` plus, for every variant axis among ``dims`` that ``where`` does not fix, the value
    of `VARIANTS`."""
    return {**{a: v for a, v in VARIANTS.items() if a in dims and a not in where}, **where}

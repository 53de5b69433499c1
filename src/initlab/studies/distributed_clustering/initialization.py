"""Initialisations, the study's sweep axis (brief §2 "Initialisation").

Axis values: ``random``, ``kmpp-L0`` (local K-means++ = DKM+C with L = 0), ``dkmc-L{l}``
(Algorithm 2 with l rounds), each optionally suffixed ``-greedy`` (sklearn's default
2 + floor(ln K) local trials; without it the ``vanilla`` variant, one trial). CGC values:
``random``, ``kmpp-vanilla``, ``kmpp-greedy``.

Each function takes one `numpy.random.Generator` and draws user by user in index order, with one
``integers(2**31)`` per sklearn ``random_state``; so DKM+C chains for different L started from
equal generators share their prefix (the L sweep is nested, brief §2).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

__all__ = [
    "cgc_init",
    "dgc_init",
    "dkmc_chain",
    "local_kmpp",
    "parse_init",
    "random_local",
]

_INIT = re.compile(r"^(random|kmpp-L0|dkmc-L(\d+))(-greedy)?$")


def parse_init(init: str) -> dict:
    """``{"scheme": random|kmpp|dkmc, "L": int, "variant": vanilla|greedy}``."""
    m = _INIT.match(init)
    if not m or (m.group(1) == "random" and m.group(3)):
        raise ValueError(
            f"unknown init {init!r}; expected random, kmpp-L0 or dkmc-L<l>, optionally -greedy"
        )
    if m.group(1) == "random":
        return {"scheme": "random", "L": 0, "variant": "none"}
    n_rounds = 0 if m.group(2) is None else int(m.group(2))
    return {
        "scheme": "kmpp" if n_rounds == 0 else "dkmc",
        "L": n_rounds,
        "variant": "greedy" if m.group(3) else "vanilla",
    }


def _check_size(points: np.ndarray, k: int, who: str) -> None:
    if len(points) < k:
        raise ValueError(
            f"{who} holds {len(points)} points, fewer than K={k} clusters: it cannot pick K "
            "distinct initial centres"
        )


def random_local(parts: list, k: int, rng: np.random.Generator) -> np.ndarray:
    """Each user draws K distinct local points uniformly: (m, K, d) [sourced]."""
    out = []
    for i, p in enumerate(parts):
        _check_size(p, k, f"user {i}")
        out.append(p[rng.choice(len(p), size=k, replace=False)])
    return np.stack(out)


def _kmpp(points, k, rng, variant):
    trials = 1 if variant == "vanilla" else None
    centres, _ = kmeans_plusplus(
        points, k, random_state=int(rng.integers(2**31)), n_local_trials=trials
    )
    return centres


def local_kmpp(parts: list, k: int, rng, variant: str = "vanilla") -> np.ndarray:
    """Local K-means++ per user (round 0 of DKM+C): (m, K, d)."""
    out = []
    for i, p in enumerate(parts):
        _check_size(p, k, f"user {i}")
        out.append(_kmpp(p, k, rng, variant))
    return np.stack(out)


def dkmc_chain(parts, adjacency, k, n_rounds, rng, variant="vanilla") -> list[np.ndarray]:
    """DKM+C (Algorithm 2): the centres after rounds 0..n_rounds, each (m, K, d).

    Round l: user i runs KMeans(K, n_init=1, init='k-means++') on its own round-(l-1) centres
    followed by its neighbours' in increasing index [reconstructed]. Round 0 is local K-means++.
    The inner K-means uses sklearn's greedy default; ``variant`` is the round-0 seeding.
    """
    x = local_kmpp(parts, k, rng, variant)
    chain = [x]
    adjacency = np.asarray(adjacency)
    for _ in range(n_rounds):
        new = []
        for i in range(len(parts)):
            pts = np.concatenate([x[i]] + [x[j] for j in np.flatnonzero(adjacency[i])])
            km = KMeans(k, n_init=1, init="k-means++", random_state=int(rng.integers(2**31)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # duplicate points -> ConvergenceWarning
                new.append(km.fit(pts).cluster_centers_)
        x = np.stack(new)
        chain.append(x)
    return chain


def dgc_init(init: str, parts: list, adjacency, k: int, rng) -> np.ndarray:
    """Initial DGC centres (m, K, d) for one seed: ``parts`` are the users' (n_i, d) arrays."""
    spec = parse_init(init)
    if spec["scheme"] == "random":
        return random_local(parts, k, rng)
    return dkmc_chain(parts, adjacency, k, spec["L"], rng, spec["variant"])[-1]


def cgc_init(init: str, y: np.ndarray, k: int, rng) -> np.ndarray:
    """CGC initial centres (K, d) on the pooled data: random, kmpp-vanilla or kmpp-greedy."""
    _check_size(y, k, "the pooled data")
    if init == "random":
        return y[rng.choice(len(y), size=k, replace=False)]
    if init in ("kmpp-vanilla", "kmpp-greedy"):
        return _kmpp(y, k, rng, init.split("-")[1])
    raise ValueError(f"unknown CGC init {init!r}; expected random, kmpp-vanilla, kmpp-greedy")

"""The initialisation axis of MGMM (brief §2, "Initialisation: the sweep axis").

Values of the ``init`` axis (file-name safe):

``lda-kmeans``      labels from KMeans(K, n_init=10) (on X~ for synthetic data, raw X for real
                    data); W_0 = qf(LDA(d) fitted on (X~, labels).scalings_[:, :d]); theta_0 from
                    the same labels.
``pca``             W_0 = (e_1 .. e_d), the first d whitened coordinates; theta_0 from
                    KMeans(K, n_init=3) on X~ W_0.
``random-<R>``      R random starts W_0 = qf(N(0,1)^{p x d}), drawn in order r = 0, 1, ...;
                    theta_0 as for pca.
``multistart-<R>``  lda-kmeans, pca and random 0..R-1 (R may be 0). The run with the largest
                    final l_eps / n wins; never selected by accuracy.

Starts are named ``lda_kmeans``, ``pca``, ``random<r>`` in the results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from . import gmm
from .stiefel import qf

__all__ = ["Starts", "initial_starts", "parse_init", "start_names"]

_INIT = re.compile(r"^(lda-kmeans|pca|random-(?P<r>[1-9][0-9]*)|multistart-(?P<m>[0-9]+))$")


def parse_init(init: str) -> tuple[str, int]:
    """``(scheme, random starts)``: ``lda-kmeans`` and ``pca`` have 0 random starts."""
    match = _INIT.match(str(init))
    if not match:
        raise ValueError(
            f"init {init!r} is not one of lda-kmeans, pca, random-<R> (R >= 1), multistart-<R>"
        )
    scheme = init.split("-")[0] if init != "lda-kmeans" else "lda-kmeans"
    return scheme, int(match.group("r") or match.group("m") or 0)


def start_names(init: str) -> list[str]:
    """The starts an init value runs, e.g. multistart-2 -> [lda_kmeans, pca, random0, random1]."""
    scheme, r = parse_init(init)
    informed = {
        "lda-kmeans": ["lda_kmeans"],
        "pca": ["pca"],
        "random": [],
        "multistart": ["lda_kmeans", "pca"],
    }
    return informed[scheme] + [f"random{i}" for i in range(r)]


@dataclass
class Starts:
    """Initial points of R starts: ``names`` (R,), ``w`` (R, p, d), ``mix`` (the R GMMs),
    ``labels`` (R, n) the hard labels theta_0 came from."""

    names: list[str]
    w: np.ndarray
    mix: gmm.Mixture
    labels: np.ndarray


def lda_projection(x_white: np.ndarray, labels: np.ndarray, d: int) -> np.ndarray:
    """qf of the first d LDA scalings fitted on (X~, labels) (p, d)."""
    lda = LinearDiscriminantAnalysis(n_components=d).fit(x_white, labels)
    scalings = lda.scalings_[:, :d]
    if scalings.shape[1] < d:
        raise ValueError(
            f"LDA on the k-means labels has rank {scalings.shape[1]} < d = {d}; "
            "k-means found too few distinct clusters for an lda-kmeans start"
        )
    return qf(scalings)


def initial_starts(
    x_white: np.ndarray,
    names: list[str],
    *,
    k: int,
    d: int,
    eps: float,
    random_state: int,
    rng: np.random.Generator,
    lda_labels: np.ndarray | None = None,
) -> Starts:
    """W_0 and theta_0 of each named start on whitened data ``x_white`` (n, p).

    ``lda_labels`` are the KMeans(K, n_init=10) labels of the lda_kmeans start (computed by the
    caller on X~ or raw X, see the module docstring); ``rng`` draws the random starts in order.
    """
    n, p = x_white.shape
    if d > p:
        raise ValueError(f"d = {d} must not exceed p = {p}")
    n_random = sum(name.startswith("random") for name in names)
    random_w = [qf(rng.standard_normal((p, d))) for _ in range(n_random)]
    ws, labels = [], []
    for name in names:
        if name == "lda_kmeans":
            if lda_labels is None:
                raise ValueError("the lda_kmeans start needs lda_labels")
            w = lda_projection(x_white, lda_labels, d)
            lab = np.asarray(lda_labels)
        else:
            w = np.eye(p)[:, :d] if name == "pca" else random_w[int(name.removeprefix("random"))]
            lab = KMeans(k, n_init=3, random_state=random_state).fit_predict(x_white @ w)
        ws.append(w)
        labels.append(lab)
    w = np.stack(ws)
    labels = np.stack(labels)
    return Starts(list(names), w, gmm.from_labels(x_white @ w, labels, k, eps), labels)

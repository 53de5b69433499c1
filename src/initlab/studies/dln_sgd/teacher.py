"""Teacher and data (brief §2 "Teacher and data"; §3 "Paper scale" for the variants).

x ~ N(0, I_d) is drawn fresh at every step; labels are y = T x + sigma eps with eps ~ N(0, I_d)
and a rank-r teacher T = U diag(s_1 > ... > s_r) V^T, where U and V (d x r) are the Q factors of
d x r standard Gaussian matrices. One teacher is shared by all seeds of a seed set.

Paper-scale variants, as sweep axes of the full-network experiments: ``spectrum`` replaces the
singular values (the authors' s = 100, 90, 80, 70), and ``inputs`` replaces the online Gaussian
data by the authors' finite SVD-whitened dataset of n samples (`FiniteData`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = [
    "FiniteData",
    "OnlineData",
    "check_strengths",
    "make_teacher",
    "parse_inputs",
    "parse_spectrum",
    "whitened_inputs",
]


def check_strengths(s: Sequence[float]) -> np.ndarray:
    """The singular values as a float array (r,), checked strictly decreasing and positive."""
    s = np.asarray(s, dtype=float)
    if s.ndim != 1 or s.size == 0 or np.any(s <= 0) or np.any(np.diff(s) >= 0):
        raise ValueError(
            f"teacher singular values must be positive and strictly decreasing, got {s}"
        )
    return s


def make_teacher(rng: np.random.Generator, d: int, s: Sequence[float]):
    """``(U, V, T)``: U, V (d, r) with orthonormal columns and T = U diag(s) V^T (d, d).

    U is drawn first, then V, each the Q factor of a d x r standard Gaussian matrix (signs fixed
    so that R has a positive diagonal, which makes Q a deterministic function of the draw).
    """
    s = check_strengths(s)
    r = s.size
    if r > d:
        raise ValueError(f"teacher rank r={r} exceeds the input dimension d={d}")
    factors = []
    for _ in range(2):
        q, rr = np.linalg.qr(rng.standard_normal((d, r)))
        factors.append(q * np.sign(np.diag(rr)))
    u, v = factors
    return u, v, (u * s) @ v.T


class OnlineData:
    """Fresh Gaussian samples for S seeds, each seed with its own streams.

    Parameters
    ----------
    x_rngs : one generator per seed for the inputs x.
    noise_rngs : one generator per seed for the label noise eps (a separate stream, so runs that
        differ only in sigma see the same inputs).
    teacher : T (d, d).
    sigma : label-noise standard deviation.
    batch : samples per step B.
    """

    def __init__(self, x_rngs, noise_rngs, teacher: np.ndarray, *, sigma: float, batch: int):
        if len(x_rngs) != len(noise_rngs):
            raise ValueError("one input and one noise generator per seed")
        self.x_rngs, self.noise_rngs = list(x_rngs), list(noise_rngs)
        self.teacher = np.asarray(teacher, dtype=float)
        self.sigma, self.batch = float(sigma), int(batch)

    def draw(self, n_steps: int):
        """Inputs and labels of ``n_steps`` steps: ``x, y`` of shape (n_steps, S, d, B)."""
        d, b = self.teacher.shape[1], self.batch
        x = np.stack([g.standard_normal((n_steps, d, b)) for g in self.x_rngs], axis=1)
        y = np.einsum("ij,tsjb->tsib", self.teacher, x, optimize=False)
        if self.sigma > 0:
            eps = np.stack([g.standard_normal((n_steps, d, b)) for g in self.noise_rngs], axis=1)
            y += self.sigma * eps
        return x, y


# --- paper-scale variants (brief §3 "Paper scale") ----------------------------------------------

_SPECTRUM = re.compile(r"^[0-9]+(\.[0-9]+)?(-[0-9]+(\.[0-9]+)?)*$")
_WHITENED = re.compile(r"^whitened-([0-9]+)$")
#: Fraction of a finite dataset used for training (the authors' 80/20 split).
TRAIN_FRACTION = 0.8


def parse_spectrum(value: str) -> np.ndarray | None:
    """The ``spectrum`` axis: ``"default"`` -> None (the experiment's ``teacher`` setting);
    ``"100-90-80-70"`` -> array([100, 90, 80, 70]) (checked strictly decreasing and positive)."""
    value = str(value)
    if value == "default":
        return None
    if not _SPECTRUM.match(value):
        raise ValueError(
            f"spectrum {value!r}: expected 'default' or singular values joined by '-', "
            "e.g. 100-90-80-70"
        )
    return check_strengths([float(x) for x in value.split("-")])


def parse_inputs(value: str) -> int | None:
    """The ``inputs`` axis: ``"online"`` -> None (fresh Gaussian x every step);
    ``"whitened-<n>"`` -> n, a finite SVD-whitened dataset of n samples."""
    value = str(value)
    if value == "online":
        return None
    m = _WHITENED.match(value)
    if not m or int(m.group(1)) < 2:
        raise ValueError(f"inputs {value!r}: expected 'online' or 'whitened-<n>' with n >= 2")
    return int(m.group(1))


def whitened_inputs(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """n samples (n, d) of N(0, I_d), centred and SVD-whitened: X = U V^T sqrt(n) for the thin SVD
    X_c = U S V^T, so that X^T X / n = I_d exactly (the authors' ``TeacherDataset._whiten``)."""
    if n <= d:
        raise ValueError(f"whitening needs more samples than dimensions, got n={n}, d={d}")
    x = rng.standard_normal((n, d))
    x = x - x.mean(axis=0)
    u, _, vt = np.linalg.svd(x, full_matrices=False)
    return (u @ vt) * np.sqrt(n)


class FiniteData:
    """A finite whitened dataset per seed, sampled in shuffled epochs (brief §3 "Paper scale",
    pitfall 8): the authors' n = 20 SVD-whitened samples with an 80/20 train/test split.

    Each seed draws, from its input generator, n whitened inputs (`whitened_inputs`), then the
    split (a permutation; the first round(0.8 n) samples train); from its noise generator the
    fixed label noise, y_i = T x_i + sigma eps_i. SGD then takes B training samples per step from
    a stream of random permutations of the training set (epochs), again from the input generator.
    Whitening uses all n samples, so the training inputs are only approximately white.

    Parameters as for `OnlineData`, plus ``n`` the dataset size.
    """

    def __init__(
        self, x_rngs, noise_rngs, teacher: np.ndarray, *, n: int, sigma: float, batch: int
    ):
        if len(x_rngs) != len(noise_rngs):
            raise ValueError("one input and one noise generator per seed")
        self.teacher = np.asarray(teacher, dtype=float)
        self.sigma, self.batch, self.n = float(sigma), int(batch), int(n)
        d = self.teacher.shape[1]
        n_train = int(round(TRAIN_FRACTION * self.n))
        if not 1 <= n_train < self.n:
            raise ValueError(f"a dataset of n={n} has no 80/20 split")
        self.x_rngs = list(x_rngs)
        xs, ys = [], []
        for gx, ge in zip(self.x_rngs, noise_rngs):
            x = whitened_inputs(gx, self.n, d)
            y = x @ self.teacher.T + self.sigma * ge.standard_normal((self.n, d))
            order = gx.permutation(self.n)
            xs.append(x[order])
            ys.append(y[order])
        #: (S, n, d): the training samples come first, then the test samples.
        self.x_all, self.y_all = np.stack(xs), np.stack(ys)
        self.n_train = n_train
        self.x_train, self.y_train = self.x_all[:, :n_train], self.y_all[:, :n_train]
        self._queue = [np.empty(0, dtype=np.int64) for _ in self.x_rngs]

    def _indices(self, k: int, count: int) -> np.ndarray:
        """The next ``count`` training indices of seed k from its stream of epochs."""
        queue = self._queue[k]
        if queue.size < count:
            epochs = -(-(count - queue.size) // self.n_train)
            perms = (
                self.x_rngs[k]
                .permuted(np.tile(np.arange(self.n_train), (epochs, 1)), axis=1)
                .ravel()
            )
            queue = np.concatenate([queue, perms])
        self._queue[k] = queue[count:]
        return queue[:count]

    def draw(self, n_steps: int):
        """Inputs and labels of ``n_steps`` steps: ``x, y`` of shape (n_steps, S, d, B)."""
        b = self.batch
        idx = np.stack([self._indices(k, n_steps * b) for k in range(len(self.x_rngs))])
        seeds = np.arange(idx.shape[0])[:, None]
        x = self.x_train[seeds, idx].reshape(len(seeds), n_steps, b, -1)  # (S, n_steps, B, d)
        y = self.y_train[seeds, idx].reshape(len(seeds), n_steps, b, -1)
        return x.transpose(1, 0, 3, 2).copy(), y.transpose(1, 0, 3, 2).copy()

    def moments(self):
        """``(sigma_xx, c_yx)``, each (S, d, d): X^T X / n and Y^T X / n over the training set, so
        that the full-batch training gradient is P_l^T (W_eff sigma_xx - c_yx) S_l^T."""
        n = self.n_train
        sxx = np.einsum("sni,snj->sij", self.x_train, self.x_train) / n
        cyx = np.einsum("sni,snj->sij", self.y_train, self.x_train) / n
        return sxx, cyx

"""Derived quantities of a recorded run, per (seed, mode) (brief §3 "Derived per (seed, mode)").

Series are arrays (..., R, r) over R recorded times ``t`` (R,) and r modes, numbered k = 1..r by
decreasing teacher strength s (r,).

t_learn90   first recorded t with m_k >= 0.9 s_k (NaN if never);
t_peak      the recorded t of the maximum of D_k (NaN if D_k is all NaN);
sequential index  varsigma = max over k = 1..r-1 of m_{k+1}(t_learn90,k) / s_{k+1}: small when mode
            k+1 still sits on its saddle while mode k is learned (NaN if a mode k < r is never
            learned, so the index is undefined).
"""

from __future__ import annotations

import numpy as np

__all__ = ["first_index", "learn_index", "peak_index", "sequential_index", "take"]


def first_index(mask: np.ndarray, axis: int = -2) -> np.ndarray:
    """Index of the first True along ``axis``, -1 where there is none."""
    idx = np.argmax(mask, axis=axis)
    return np.where(
        np.take_along_axis(mask, np.expand_dims(idx, axis), axis).squeeze(axis), idx, -1
    )


def learn_index(m: np.ndarray, s: np.ndarray, fraction: float = 0.9) -> np.ndarray:
    """Record index of t_learn90 per (..., mode), -1 if mode k never reaches fraction * s_k.

    m (..., R, r) mode strengths; NaN counts as not learned.
    """
    with np.errstate(invalid="ignore"):
        return first_index(m >= fraction * np.asarray(s), axis=-2)


def peak_index(d: np.ndarray, upto: np.ndarray | None = None) -> np.ndarray:
    """Record index of the maximum of D (..., R, r) over the records (or over records
    ``<= upto`` (..., r) where given, -1 entries meaning all records); -1 if all NaN."""
    d = np.asarray(d, dtype=float)
    if upto is not None:
        r_idx = np.arange(d.shape[-2])[:, None]
        keep = r_idx <= np.where(upto < 0, d.shape[-2], upto)[..., None, :]
        d = np.where(keep, d, np.nan)
    valid = np.isfinite(d).any(axis=-2)
    idx = np.argmax(np.where(np.isfinite(d), d, -np.inf), axis=-2)
    return np.where(valid, idx, -1)


def take(series: np.ndarray, index: np.ndarray, fill=np.nan) -> np.ndarray:
    """series (..., R, r) at record ``index`` (..., r) per mode; ``fill`` where index is -1."""
    vals = np.take_along_axis(series, np.maximum(index, 0)[..., None, :], axis=-2)[..., 0, :]
    return np.where(index >= 0, vals, fill)


def sequential_index(m: np.ndarray, s: np.ndarray, learn: np.ndarray) -> np.ndarray:
    """varsigma per (...): max over k < r of m_{k+1}(t_learn90,k) / s_{k+1}.

    m (..., R, r), s (r,), learn (..., r) from `learn_index`. NaN where some mode k < r was never
    learned, or with a single mode.
    """
    s = np.asarray(s, dtype=float)
    if s.size < 2:
        return np.full(m.shape[:-2], np.nan)
    ratios = []
    for k in range(s.size - 1):
        idx = learn[..., k]
        nxt = np.take_along_axis(m[..., k + 1], np.maximum(idx, 0)[..., None], axis=-1)[..., 0]
        ratios.append(np.where(idx >= 0, nxt / s[k + 1], np.nan))
    return np.max(np.stack(ratios, axis=-1), axis=-1)

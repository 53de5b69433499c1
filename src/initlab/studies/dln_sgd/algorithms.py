"""SGD and GD on the full deep linear network, vectorised over seeds (brief §2 "Loss, SGD, GD").

Weights are a list ``[W_1, ..., W_L]`` of arrays (S, fan_out, fan_in), one network per seed,
updated in place. Every layer takes its step from the pre-step weights (simultaneous update);
time is t = eta x (number of steps).

    SGD  W_l <- W_l - eta (1/B) sum_b P_l^T r_b x_b^T S_l^T      (fresh online samples)
    GD   W_l <- W_l - eta P_l^T (W_eff - T) S_l^T                 (population loss, Sigma_xx = I)

Both loops hand back the weights every ``record_every`` steps, in blocks (`Snapshots`), so that
observables are computed vectorised over (records x seeds) instead of once per step.

Divergence (DESIGN "Errors"): a seed whose weights become non-finite or exceed ``blowup`` in
absolute value is flagged; its weights are set to NaN from then on and so are its snapshots from
the first offending record, so a diverged run is recorded as NaN with a flag, never as overflowed
numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .network import population_gradients
from .teacher import OnlineData

__all__ = ["BLOWUP", "Snapshots", "gd", "gradient_flow", "sgd"]

#: Weights larger than this in absolute value count as diverged.
BLOWUP = 1.0e6


@dataclass
class Snapshots:
    """A block of recorded states.

    steps : (R,) step indices of the records.
    weights : per layer, (R, S, fan_out, fan_in); NaN for a seed after it diverged.
    diverged_step : (S,) the step of the first record at which the seed had diverged, -1 if never
        (cumulative over the run).
    """

    steps: np.ndarray
    weights: list[np.ndarray]
    diverged_step: np.ndarray


def _blocks(n_steps: int, record_every: int, block_records: int):
    """Step ranges [start, stop) of each block; a record is taken at every step index that is a
    multiple of ``record_every`` (including 0 and, when it is one, ``n_steps``)."""
    if n_steps < 0 or record_every < 1 or block_records < 1:
        raise ValueError("n_steps >= 0, record_every >= 1 and block_records >= 1 are required")
    size = record_every * block_records
    start = 0
    while start <= n_steps:
        stop = min(start + size, n_steps + 1)
        yield start, stop
        start = stop


def _run(weights, update, n_steps, record_every, block_records, draw=None) -> Iterator[Snapshots]:
    """Shared loop: ``update(i, batch)`` advances every seed by one step in place."""
    n_seeds = weights[0].shape[0]
    diverged_step = np.full(n_seeds, -1, dtype=np.int64)
    for start, stop in _blocks(n_steps, record_every, block_records):
        record_steps = np.arange(-(-start // record_every) * record_every, stop, record_every)
        buffers = [np.empty((record_steps.size,) + w.shape) for w in weights]
        # steps [start, stop): record the state *before* step i when i is a record step; the last
        # block ends at n_steps + 1 so the final state is recorded without a further step.
        batch = draw(min(stop, n_steps) - start) if draw is not None else None
        j = 0
        with np.errstate(over="ignore", invalid="ignore"):
            for i in range(start, stop):
                if i % record_every == 0:
                    for buf, w in zip(buffers, weights):
                        buf[j] = w
                    j += 1
                if i < n_steps:
                    update(i - start, batch)
        _flag_divergence(weights, buffers, record_steps, diverged_step)
        yield Snapshots(record_steps, buffers, diverged_step.copy())


def _flag_divergence(weights, buffers, record_steps, diverged_step) -> None:
    """Set NaN the snapshots of each seed from its first bad record on, and the live weights of
    seeds that are bad now; update ``diverged_step``."""
    bad_records = np.zeros((record_steps.size, weights[0].shape[0]), dtype=bool)
    for buf in buffers:
        with np.errstate(invalid="ignore"):
            bad_records |= ~(np.abs(buf) <= BLOWUP).all(axis=(2, 3))
    bad_now = np.zeros(weights[0].shape[0], dtype=bool)
    for w in weights:
        with np.errstate(invalid="ignore"):
            bad_now |= ~(np.abs(w) <= BLOWUP).all(axis=(1, 2))
    for s in np.flatnonzero(bad_records.any(axis=0)):
        first = int(np.argmax(bad_records[:, s]))
        for buf in buffers:
            buf[first:, s] = np.nan
        if diverged_step[s] < 0:
            diverged_step[s] = record_steps[first]
    for s in np.flatnonzero(bad_now):
        for w in weights:
            w[s] = np.nan
        if diverged_step[s] < 0:
            diverged_step[s] = record_steps[-1] if record_steps.size else 0


def sgd(
    weights: list[np.ndarray],
    data: OnlineData,
    *,
    eta: float,
    n_steps: int,
    record_every: int = 1,
    block_records: int = 256,
) -> Iterator[Snapshots]:
    """Online SGD with batch B = ``data.batch``; yields `Snapshots` block by block.

    ``weights`` (list of (S, fan_out, fan_in)) is updated in place; ``data`` supplies S seeds'
    samples. Each step is backpropagation on (S, n, B) activations: L forward and L - 1 backward
    batched matmuls plus L outer products.
    """
    step = eta / data.batch
    depth = len(weights)
    transposes = [w.transpose(0, 2, 1) for w in weights]  # views: follow the in-place updates
    outer = data.batch == 1  # B = 1: the gradient is an outer product, a broadcast is enough

    def update(i, batch):
        x, y = batch
        acts = [x[i]]
        for w in weights:
            acts.append(w @ acts[-1])
        deltas = [None] * depth
        deltas[-1] = acts[-1] - y[i]
        for l in range(depth - 1, 0, -1):  # backward pass with the pre-step weights
            deltas[l - 1] = transposes[l] @ deltas[l]
        for l in range(depth):
            deltas[l] *= step
            if outer:
                weights[l] -= deltas[l] * acts[l].transpose(0, 2, 1)
            else:
                weights[l] -= deltas[l] @ acts[l].transpose(0, 2, 1)

    return _run(weights, update, n_steps, record_every, block_records, draw=data.draw)


def gd(
    weights: list[np.ndarray],
    teacher: np.ndarray,
    *,
    eta: float,
    n_steps: int,
    record_every: int = 1,
    block_records: int = 256,
) -> Iterator[Snapshots]:
    """Full-batch GD on the population loss 1/2 ||W_eff - T||_F^2; yields `Snapshots`."""

    def update(i, batch):
        for w, g in zip(weights, population_gradients(weights, teacher)):
            g *= eta
            w -= g

    return _run(weights, update, n_steps, record_every, block_records)


def gradient_flow(
    weights: list[np.ndarray], teacher: np.ndarray, t: float, *, rtol=1e-10, atol=1e-12
):
    """Integrate dW_l/dt = -P_l^T (W_eff - T) S_l^T from ``weights`` to time ``t`` (RK45).

    A reference for the balancedness test (gradient flow conserves W_{l+1}^T W_{l+1} - W_l W_l^T);
    not used by the experiments. Returns the weights at ``t`` as a new list.
    """
    from scipy.integrate import solve_ivp

    shapes = [w.shape for w in weights]
    sizes = [int(np.prod(s)) for s in shapes]

    def unpack(flat):
        out, k = [], 0
        for shape, n in zip(shapes, sizes):
            out.append(flat[k : k + n].reshape(shape))
            k += n
        return out

    def rhs(_, flat):
        return -np.concatenate([g.ravel() for g in population_gradients(unpack(flat), teacher)])

    start = np.concatenate([w.ravel() for w in weights])
    sol = solve_ivp(rhs, (0.0, t), start, method="RK45", rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"gradient flow integration failed: {sol.message}")
    return unpack(sol.y[:, -1])

"""SGD and GD on the full deep linear network, vectorised over seeds (brief §2 "Loss, SGD, GD").

Weights are a list ``[W_1, ..., W_L]`` of arrays (S, fan_out, fan_in), one network per seed,
updated in place (brought up to date at the end of every block). Inside the loops all layers of
all seeds live in one `PackedWeights` array. Every layer takes its step from the pre-step weights
(simultaneous update); time is t = eta x (number of steps).

    SGD  W_l <- W_l - eta (1/B) sum_b P_l^T r_b x_b^T S_l^T      (fresh online samples)
    GD   W_l <- W_l - eta P_l^T (W_eff - T) S_l^T                 (population loss, Sigma_xx = I)

Both loops hand back the weights every ``record_every`` steps, in blocks (`Snapshots`), so that
observables are computed vectorised over (records x seeds) instead of once per step.

Backends: numpy (the default, float64 on the CPU) or torch (``backend="torch"``, float64 on any
torch device, for a GPU). Both take the same draws from the same per-seed numpy streams and the
same packed layout; they differ only in rounding. On the CPU numpy is the faster one at these sizes
(``benchmarks/bench_dln_sgd_vectorised.py --backend torch``); on a GPU a step costs a few kernel
launches whatever S, so the batch is what makes it pay.

Divergence (DESIGN "Errors"): a seed whose weights become non-finite or exceed ``blowup`` in
absolute value is flagged; its weights are set to NaN from then on and so are its snapshots from
the first offending record, so a diverged run is recorded as NaN with a flag, never as overflowed
numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np

from .network import population_gradients
from .teacher import OnlineData

__all__ = ["BLOWUP", "PackedWeights", "Snapshots", "gd", "gradient_flow", "sgd"]

#: Weights larger than this in absolute value count as diverged.
BLOWUP = 1.0e6
#: Upper bound on the bytes of one block of records (`Snapshots`).
BLOCK_BYTES = 8 * 2**20


@dataclass
class Snapshots:
    """A block of recorded states.

    steps : (R,) step indices of the records.
    weights : per layer, (R, S, fan_out, fan_in) (views of one packed buffer); NaN for a seed after
        it diverged.
    diverged_step : (S,) the step of the first record at which the seed had diverged, -1 if never
        (cumulative over the run).
    """

    steps: np.ndarray
    weights: list[np.ndarray]
    diverged_step: np.ndarray


class PackedWeights:
    """The L layers of S networks in one contiguous 1-D array ``flat`` of S x P numbers.

    P = sum_l fan_out_l x fan_in_l. The array is layer-major: layer l's block is a contiguous
    (S, rows, cols) array (``stored[l]``), and ``layers[l]`` is W_l as a view (S, fan_out, fan_in)
    of it. A layer with more outputs than inputs (W_1 of a [d, h, ..., h, d] network) is stored
    transposed, so that its rows are the longer side: a rank-one update then runs over fewer,
    longer rows. One array means one copy per record, one subtraction per step for all layers and
    one divergence check per block; contiguous blocks spare the outer products the extra buffering
    numpy adds for strided outputs.
    """

    def __init__(self, weights):
        shapes = [tuple(int(n) for n in w.shape[1:]) for w in weights]
        n_seeds = int(weights[0].shape[0])
        if any(w.ndim != 3 or w.shape[0] != n_seeds for w in weights):
            raise ValueError("weights must be a list of (S, fan_out, fan_in) arrays")
        self.n_seeds, self.shapes = n_seeds, shapes
        self.transposed = [fan_out > fan_in for fan_out, fan_in in shapes]
        sizes = [n_seeds * a * b for a, b in shapes]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        self.flat = np.empty(self.offsets[-1])
        self.stored = self.stored_views(self.flat)
        self.layers = self.unpack(self.flat)
        for layer, w in zip(self.layers, weights):
            layer[...] = w

    def stored_views(self, flat: np.ndarray) -> list[np.ndarray]:
        """Per layer, its block of ``flat`` (..., S P) as (..., S, fan_out, fan_in), or
        (..., S, fan_in, fan_out) for a transposed layer; views (also of a torch tensor)."""
        out = []
        for (fan_out, fan_in), t, lo, hi in zip(
            self.shapes, self.transposed, self.offsets[:-1], self.offsets[1:]
        ):
            rows, cols = (fan_in, fan_out) if t else (fan_out, fan_in)
            out.append(flat[..., lo:hi].reshape(flat.shape[:-1] + (self.n_seeds, rows, cols)))
        return out

    def unpack(self, flat: np.ndarray) -> list[np.ndarray]:
        """Per layer, W_l as a view (..., S, fan_out, fan_in) of ``flat`` (..., S P)."""
        return [
            np.swapaxes(v, -1, -2) if t else v
            for v, t in zip(self.stored_views(flat), self.transposed)
        ]

    def write_back(self, weights) -> None:
        """Copy the packed state into the caller's arrays."""
        for w, layer in zip(weights, self.layers):
            w[...] = layer


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


class _HostState:
    """Where `_run` keeps the live weights and the records: numpy, in ``packed`` itself."""

    def __init__(self, packed):
        self.flat = packed.flat

    def buffer(self, n_records: int):
        return np.empty((n_records, self.flat.size))

    def to_host(self, buffer) -> np.ndarray:
        """The records as numpy (R, S P); ``packed.flat`` holds the live weights on return."""
        return buffer

    def from_host(self) -> None:
        """Take back ``packed.flat`` (after `_flag_divergence` set diverged seeds to NaN)."""


class _TorchState:
    """The live weights and the records as float64 torch tensors on ``device``; blocks of records
    come back to ``packed`` (numpy) once per block."""

    def __init__(self, packed, device):
        import torch

        self.torch, self.packed = torch, packed
        self.flat = torch.from_numpy(packed.flat).to(device, copy=True)

    def buffer(self, n_records: int):
        return self.torch.empty(
            (n_records, self.flat.numel()), dtype=self.flat.dtype, device=self.flat.device
        )

    def to_host(self, buffer) -> np.ndarray:
        self.packed.flat[...] = self.flat.cpu().numpy()
        return buffer.cpu().numpy()

    def from_host(self) -> None:
        self.flat.copy_(self.torch.from_numpy(self.packed.flat))


def _run(weights, packed, update, n_steps, record_every, block_records, draw=None, state=None):
    """Shared loop: ``update(i, batch)`` advances every seed by one step in place, on
    ``state.flat`` (`_HostState`: ``packed.flat`` itself; `_TorchState`: a torch copy); the
    caller's ``weights`` are brought up to date before each block is yielded."""
    diverged_step = np.full(packed.n_seeds, -1, dtype=np.int64)
    state = _HostState(packed) if state is None else state
    flat = state.flat
    n_flat = packed.flat.size
    # at most BLOCK_BYTES of records per block: larger buffers are mapped fresh from the OS for
    # every block (glibc's mmap threshold stops at 32 MiB) and each 4 KiB page written then costs
    # a page fault (at S = 64 that made the whole run 1.5 times slower)
    block_records = max(1, min(block_records, BLOCK_BYTES // (packed.flat.itemsize * n_flat)))
    for start, stop in _blocks(n_steps, record_every, block_records):
        record_steps = np.arange(-(-start // record_every) * record_every, stop, record_every)
        buffer = state.buffer(record_steps.size)
        # steps [start, stop): record the state *before* step i when i is a record step; the last
        # block ends at n_steps + 1 so the final state is recorded without a further step.
        batch = draw(min(stop, n_steps) - start) if draw is not None else None
        j = 0
        with np.errstate(over="ignore", invalid="ignore"):
            for i in range(start, stop):
                if i % record_every == 0:
                    buffer[j] = flat
                    j += 1
                if i < n_steps:
                    update(i - start, batch)
        buffer = state.to_host(buffer)
        if _flag_divergence(packed, buffer, record_steps, diverged_step):
            state.from_host()
        packed.write_back(weights)
        yield Snapshots(record_steps, packed.unpack(buffer), diverged_step.copy())


def _bad_seeds(packed, flat) -> np.ndarray:
    """(..., S) True where a seed has a weight that is non-finite or beyond `BLOWUP`."""
    bad = False
    with np.errstate(invalid="ignore"):
        for block in packed.stored_views(flat):
            bad = bad | ~(np.abs(block) <= BLOWUP).all(axis=(-2, -1))
    return bad


def _flag_divergence(packed, buffer, record_steps, diverged_step) -> bool:
    """Set NaN the records (R, S P) of each seed from its first bad record on, and the live
    weights of seeds that are bad now; update ``diverged_step``. True when anything was bad."""
    with np.errstate(invalid="ignore"):
        # fast path: max/min propagate NaN, so this is False for any non-finite entry
        if all(
            a.size == 0 or (a.max() <= BLOWUP and a.min() >= -BLOWUP) for a in (packed.flat, buffer)
        ):
            return False
    bad_records = _bad_seeds(packed, buffer)  # (R, S)
    bad_now = _bad_seeds(packed, packed.flat)  # (S,)
    records = packed.unpack(buffer)
    for s in np.flatnonzero(bad_records.any(axis=0)):
        first = int(np.argmax(bad_records[:, s]))
        for layer in records:
            layer[first:, s] = np.nan
        if diverged_step[s] < 0:
            diverged_step[s] = record_steps[first]
    for s in np.flatnonzero(bad_now):
        for layer in packed.layers:
            layer[s] = np.nan
        if diverged_step[s] < 0:
            diverged_step[s] = record_steps[-1] if record_steps.size else 0
    return True


def _matvec_fallback(a, x, out):
    return np.matmul(a, x[..., None], out=out[..., None])


def _vecmat_fallback(x, a, out):
    return np.matmul(x[..., None, :], a, out=out[..., None, :])


#: Batched matrix-vector products with an output buffer (numpy >= 2.2 has them as gufuncs).
_matvec = getattr(np, "matvec", _matvec_fallback)
_vecmat = getattr(np, "vecmat", _vecmat_fallback)


def _sgd_step_b1(packed, step):
    """One SGD step with B = 1 on every seed: vectors (S, n) and matrix-vector products.

    Forward a_l = W_l a_{l-1}; residual r = a_L - y, scaled once by ``step`` (the backward pass is
    linear in r, so every delta carries the step); backward delta_{l-1} = W_l^T delta_l with the
    pre-step weights; then the L rank-one updates delta_l a_{l-1}^T go into one packed buffer that
    is subtracted from the packed weights in one operation. Every product writes into a buffer
    allocated once, through views made once: at these sizes numpy's cost per call, not per element,
    is what a step costs, so the step is a fixed list of calls.
    """
    stored, transposed, flat = packed.stored, packed.transposed, packed.flat
    n_seeds = packed.n_seeds
    sizes = [packed.shapes[0][1]] + [fan_out for fan_out, _ in packed.shapes]
    acts = [np.zeros((n_seeds, n)) for n in sizes]  # a_0 = x, a_1, ..., a_L
    deltas = [np.zeros((n_seeds, n)) for n in sizes[1:]]  # delta_l pairs with W_l: (S, fan_out)
    grad = np.zeros_like(flat)
    forward, backward, outer = [], [], []
    for l, (m, t, g) in enumerate(zip(stored, transposed, packed.stored_views(grad))):
        a, d = acts[l], deltas[l]
        if t:  # stored W^T (S, fan_in, fan_out)
            forward.append(partial(_vecmat, a, m, out=acts[l + 1]))
            if l:
                backward.append(partial(_matvec, m, d, out=deltas[l - 1]))
            outer.append(partial(np.multiply, a[:, :, None], d[:, None, :], out=g))
        else:  # stored W (S, fan_out, fan_in)
            forward.append(partial(_matvec, m, a, out=acts[l + 1]))
            if l:
                backward.append(partial(_vecmat, d, m, out=deltas[l - 1]))
            outer.append(partial(np.multiply, d[:, :, None], a[:, None, :], out=g))
    backward = backward[::-1] + outer  # all W^T delta products use the pre-step weights
    x_in, top, residual = acts[0], acts[-1], deltas[-1]
    copyto, subtract, multiply = np.copyto, np.subtract, np.multiply

    def update(i, batch):
        x, y = batch
        copyto(x_in, x[i])
        for op in forward:
            op()
        subtract(top, y[i], out=residual)
        multiply(residual, step, out=residual)
        for op in backward:
            op()
        subtract(flat, grad, out=flat)

    return update


def _sgd_step(packed, step):
    """One SGD step with a batch B > 1: activations (S, n, B) and matrix products."""
    layers = packed.layers
    depth = len(layers)
    grad = np.empty_like(packed.flat)
    grad_layers = packed.unpack(grad)
    flat = packed.flat

    def update(i, batch):
        x, y = batch
        acts = [x[i]]
        for w in layers:
            acts.append(w @ acts[-1])
        delta = acts[-1]
        delta -= y[i]
        delta *= step
        for l in range(depth - 1, -1, -1):
            below = np.swapaxes(layers[l], 1, 2) @ delta if l else None
            np.matmul(delta, np.swapaxes(acts[l], 1, 2), out=grad_layers[l])
            delta = below
        np.subtract(flat, grad, out=flat)

    return update


def _torch_sgd_step(packed, flat, step):
    """One SGD step on every seed, in torch on ``flat``'s device: the step of `_sgd_step` (any B)
    with batched ``bmm``. The layers and their gradients are views of ``flat`` and of one gradient
    tensor in `PackedWeights`' layout, so a record is one copy and the update one subtraction."""
    import torch

    # stored_views slices and reshapes, which gives views of a torch tensor as of a numpy array
    stored = packed.stored_views(flat)
    layers = [m.transpose(1, 2) if tr else m for m, tr in zip(stored, packed.transposed)]
    grad = torch.empty_like(flat)
    grad_stored = packed.stored_views(grad)
    depth = len(layers)

    def update(i, batch):
        x, y = batch
        acts = [x[i]]  # (S, n_l, B)
        for w in layers:
            acts.append(torch.bmm(w, acts[-1]))
        delta = acts[-1].sub_(y[i]).mul_(step)  # a_L is not needed again
        for l in range(depth - 1, -1, -1):
            below = torch.bmm(layers[l].transpose(1, 2), delta) if l else None
            if packed.transposed[l]:  # stored W^T: a_{l-1} delta^T
                torch.bmm(acts[l], delta.transpose(1, 2), out=grad_stored[l])
            else:
                torch.bmm(delta, acts[l].transpose(1, 2), out=grad_stored[l])
            delta = below
        flat.sub_(grad)

    return update


def sgd(
    weights: list[np.ndarray],
    data: OnlineData,
    *,
    eta: float,
    n_steps: int,
    record_every: int = 1,
    block_records: int = 256,
    backend: str = "numpy",
    device: str = "cpu",
) -> Iterator[Snapshots]:
    """Online SGD with batch B = ``data.batch``; yields `Snapshots` block by block.

    ``weights`` (list of (S, fan_out, fan_in)) is updated in place (brought up to date before every
    yield); ``data`` supplies S seeds' samples. A block holds at most ``block_records`` records
    (fewer when they would exceed `BLOCK_BYTES`). Each step is backpropagation on all seeds at once:
    L forward and L - 1 backward batched products, L outer products and one subtraction on the
    `PackedWeights`. ``backend="torch"`` runs the steps in float64 torch on ``device`` ("cpu",
    "cuda", ...) from the same draws; the records come back as numpy once per block.
    """
    packed = PackedWeights(weights)
    step = eta / data.batch
    if backend == "torch":
        import torch

        state = _TorchState(packed, device)
        target = state.flat.device

        def draw_to_device(n):
            return tuple(torch.from_numpy(a).to(target) for a in data.draw(n))

        update = _torch_sgd_step(packed, state.flat, step)
        return _run(
            weights, packed, update, n_steps, record_every, block_records, draw_to_device, state
        )
    if backend != "numpy":
        raise ValueError(f"backend must be 'numpy' or 'torch', got {backend!r}")
    if device != "cpu":
        raise ValueError(f"the numpy backend runs on the cpu, got device {device!r}")
    if data.batch == 1:
        update = _sgd_step_b1(packed, step)

        def draw(n):
            x, y = data.draw(n)
            return x[..., 0], y[..., 0]

    else:
        update, draw = _sgd_step(packed, step), data.draw
    return _run(weights, packed, update, n_steps, record_every, block_records, draw=draw)


def gd(
    weights: list[np.ndarray],
    teacher: np.ndarray,
    *,
    eta: float,
    n_steps: int,
    record_every: int = 1,
    block_records: int = 256,
    covariance: np.ndarray | None = None,
) -> Iterator[Snapshots]:
    """Full-batch GD on the population loss 1/2 ||W_eff - T||_F^2; yields `Snapshots`.

    With ``covariance`` (Sigma_xx of a finite training set, (d, d) or (S, d, d)), ``teacher`` is
    its cross-covariance C_yx and GD runs on that training loss instead.
    """
    packed = PackedWeights(weights)
    layers = packed.layers

    def update(i, batch):
        for w, g in zip(layers, population_gradients(layers, teacher, covariance)):
            g *= eta
            w -= g

    return _run(weights, packed, update, n_steps, record_every, block_records)


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

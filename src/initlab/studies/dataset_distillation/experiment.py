"""One sweep point of a ``dataset_distillation`` experiment -> `xarray.Dataset` (brief §3).

Experiments (``config.yaml``, ``studies.dataset_distillation.experiments``):

``distill`` (grids A and B, the m1/m2 memory sweep; paper-scale L, r and memory grids)
    Axes ``L`` (width), ``d``, ``init``, ``m1``, ``m2``, ``r``. Per seed: distil (stage 1, then
    stage 2), train the learner on the distilled set and on the undistilled initial points, and,
    when ``baselines`` is true, on the full real data, on random real subsets (the equal-memory
    size floor(M_DD/(d+1)) plus ``subset_k``) and as random features.
``onestep`` (grid C)
    Axis ``init`` (a Gaussian scale); the setting ``d_grid`` runs inside the job (each d costs
    well under a second, less than a job's start-up). One step of ||G~ - G||^2 from the init and
    its energy in span(U).

Random streams (`initlab.rng.generator`), keyed by ``key[:2] = (study, master_seed)`` and *not*
by the experiment, so that every experiment and every arm sees the same objects for a (d, seed)
(brief §3.1: build the data, U, W0, b and G once per (d, seed) and reuse them):

``("task", d, r, seed)``        U                      (the brief's task seed s)
``("train", d, seed)``          training inputs x      (data seed s + 1)
``("test", d, seed)``           test inputs
``("network", d, L, seed)``     W0, then b             (network seed s + 2)
``("init", d, seed)``           distilled init         (seed s + 100; shared by every init arm)
``("batches", d, seed)``        stage-2 batches        (epoch-wise permutations of the n points)
``("subset", d, k, seed)``      a random real subset of k points (seed s + 200)

All numbers come from numpy generators and are moved to the device, so CPU and CUDA runs draw
the same data; torch's own generators are never used.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr

from initlab import rng as rngs

from . import alignment, distillation, learner, teacher
from .initialization import check_sizes, initial_points, parse_init

__all__ = [
    "EXPERIMENTS",
    "Cell",
    "baselines_seed",
    "build_cell",
    "distill_seed",
    "run",
    "stage_two_batches",
    "training_size",
]

EXPERIMENTS = ("distill", "onestep")
F64 = torch.float64


def training_size(params: dict, d: int, r: int) -> int:
    """n: ``n`` as given, or min(round(n_factor r d^2), n_max) when ``n_factor`` is set
    (paper scale, brief §3.2: n = 10 r d^2 capped at 5M)."""
    factor = params.get("n_factor")
    if factor is None:
        return int(params["n"])
    return int(min(round(float(factor) * r * d * d), int(params.get("n_max", 5_000_000))))


@dataclass(frozen=True)
class Cell:
    """Everything one (d, r, L, seed) shares across arms: U (r, d), data, W0 (L, d), a (L,),
    b (L,) and the real-data stage-1 gradient G (L, d)."""

    u: torch.Tensor
    x: torch.Tensor
    y: torch.Tensor
    x_test: torch.Tensor | None
    y_test: torch.Tensor | None
    w0: torch.Tensor
    a: torch.Tensor
    b: torch.Tensor
    g: torch.Tensor


def build_cell(
    base: tuple,
    *,
    d: int,
    r: int,
    width: int,
    seed: int,
    n: int,
    n_test: int | None,
    device: str = "cpu",
    data_dtype=F64,
) -> Cell:
    """Draw the task, data and network of one (d, r, L, seed) and compute G (§2.1-2.3)."""
    u_np = teacher.task_subspace(rngs.generator(*base, "task", d, r, seed), r, d)
    u = torch.from_numpy(u_np).to(device, F64)
    x, y = teacher.sample(rngs.generator(*base, "train", d, seed), u, n, dtype=data_dtype)
    x_test = y_test = None
    if n_test:
        x_test, y_test = teacher.sample(rngs.generator(*base, "test", d, seed), u, n_test)
    net_rng = rngs.generator(*base, "network", d, width, seed)
    w0, a = learner.symmetric_init(net_rng, width, d, device=device)
    b = learner.biases(net_rng, width, device=device)
    g = learner.first_layer_gradient(w0, a, x, y)
    return Cell(u, x, y, x_test, y_test, w0, a, b, g)


def stage_two_batches(rng: np.random.Generator, n: int, steps: int, batch: int) -> np.ndarray:
    """Indices (steps, B) of the stage-2 batches, B = min(batch, n): each epoch is a random
    permutation cut into floor(n/B) batches (the remainder is dropped), so every step sees a fresh
    batch of distinct real points.

    Each row is sorted: a batch mean does not depend on the order, and gathering rows in memory
    order is about 4x faster than in random order (40k x 512 float64 features)."""
    batch = min(batch, n)
    per_epoch = n // batch
    epochs = -(-steps // per_epoch)
    parts = [
        rng.permutation(n)[: per_epoch * batch].reshape(per_epoch, batch) for _ in range(epochs)
    ]
    return np.sort(np.concatenate(parts)[:steps], axis=1)


def run(
    experiment: str,
    params: dict,
    seeds: list[int],
    *,
    key: tuple,
    threads: int = 1,
    device: str = "cpu",
    log: Callable[[str], None] = print,
) -> xr.Dataset:
    """Run one sweep point and return its results (``seed`` dim, no sweep-axis dims).

    Parameters
    ----------
    experiment : ``"distill"`` or ``"onestep"``.
    params : the experiment's settings merged with the point's axis values, keys as in
        ``config.yaml``.
    seeds : the result's ``seed`` coordinate.
    key : stream prefix ``(study, master_seed, experiment)``; only ``key[:2]`` keys the streams
        (see the module docstring).
    threads : torch intra-op threads (``torch.set_num_threads``).
    device : ``"cpu"`` or ``"cuda"`` (already resolved from ``auto`` by the framework).
    log : progress sink, one line per seed.
    """
    if experiment not in EXPERIMENTS:
        raise ValueError(
            f"unknown dataset_distillation experiment {experiment!r}; expected one of {EXPERIMENTS}"
        )
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    torch.set_num_threads(threads)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("run needs at least one seed")
    parse_init(params["init"])  # fail early on a bad init value
    if experiment == "onestep":
        return _onestep(params, seeds, key[:2], device, log)
    return _distill(params, seeds, key[:2], device, log)


def _var(dims, values, long_name: str, units: str = "1"):
    return dims, values, {"long_name": long_name, "units": units}


def _data_dtype(params: dict) -> torch.dtype:
    """Storage dtype of the real inputs: float64, or float32 at paper scale (brief §3.2)."""
    name = params.get("data_dtype", "float64")
    if name not in ("float64", "float32"):
        raise ValueError(f"data_dtype must be 'float64' or 'float32', got {name!r}")
    return torch.float32 if name == "float32" else F64


def _subset_sizes(params: dict, k_equal: int, n: int) -> list[int]:
    """Real-subset sizes: the equal-memory one plus ``subset_k``, those below n, sorted."""
    return sorted({k for k in [k_equal, *params.get("subset_k", [])] if 1 <= k < n})


def _score(net: learner.Network, cell: Cell) -> float:
    """Test relMSE of a trained network on the cell's test points."""
    return teacher.relative_mse(net(cell.x_test), cell.y_test)


def distill_seed(params: dict, cell: Cell, base: tuple, seed: int) -> dict:
    """One seed of a ``distill`` point without baselines: the undistilled control, both DD
    stages, the learner on the result, and the metrics (a dict of numbers and traces)."""
    d, m1, m2 = int(params["d"]), int(params["m1"]), int(params["m2"])
    jitter, n = float(params["jitter"]), cell.x.shape[0]
    u = cell.u
    start = time.perf_counter()
    x1_0, x2_0, y2_0 = initial_points(
        params["init"], rngs.generator(*base, "init", d, seed), m1, m2, cell.x, cell.y
    )
    net0 = learner.train_on_distilled(cell.w0, cell.a, cell.b, x1_0, x2_0, y2_0, jitter)
    s1 = distillation.distill_stage_one(
        cell.w0,
        cell.a,
        cell.g,
        x1_0,
        steps=int(params["steps1"]),
        lr=float(params["lr1"]),
        sharpness=float(params["sharpness"]),
    )
    w1 = distillation.stage_one_first_layer(cell.w0, cell.a, s1.x1)
    batches = stage_two_batches(
        rngs.generator(*base, "batches", d, seed), n, int(params["steps2"]), int(params["batch"])
    )
    s2 = distillation.distill_stage_two(
        w1, cell.b, x2_0, y2_0, cell.x, cell.y, batches, lr=float(params["lr2"]), jitter=jitter
    )
    net = learner.train_on_distilled(cell.w0, cell.a, cell.b, s1.x1, s2.x2, s2.y2, jitter)
    if not torch.isfinite(net.head).all():
        raise FloatingPointError(f"d={d} seed={seed}: the head trained on DD is not finite")
    return {
        "dd_seconds": time.perf_counter() - start,
        "undistilled_relmse": _score(net0, cell),
        "undistilled_x_energy": alignment.energy_fraction(x1_0, u),
        "undistilled_w1_energy": alignment.energy_fraction(net0.w1, u),
        "dd_relmse": _score(net, cell),
        "dd_x_energy": alignment.energy_fraction(s1.x1, u),
        "dd_w1_energy": alignment.energy_fraction(net.w1, u),
        "dd_x2_energy": alignment.energy_fraction(s2.x2, u),
        "dd_x_maxangle_deg": alignment.max_principal_angle_deg(s1.x1, u),
        "stage1_cos_loss": s1.final_loss,
        "stage2_loss": s2.final_loss,
        "stage1_loss_trace": s1.losses,
        "stage2_loss_trace": s2.losses,
    }


def baselines_seed(params: dict, cell: Cell, base: tuple, seed: int, ks: list[int]) -> dict:
    """One seed of the baselines (brief §5): the learner on all real data and on random real
    subsets of each size in ``ks``, and random features on all data."""
    d, lam, n = int(params["d"]), float(params["lam"]), cell.x.shape[0]
    start = time.perf_counter()
    real = learner.train_on_data(cell.w0, cell.a, cell.b, cell.x, cell.y, lam, gradient=cell.g)
    rf = learner.random_features(cell.w0, cell.b, cell.x, cell.y, lam)
    sub_mse, sub_e = [], []
    for k in ks:
        idx = rngs.generator(*base, "subset", d, k, seed).choice(n, k, replace=False)
        idx = torch.from_numpy(idx).to(cell.x.device)
        sub = learner.train_on_data(cell.w0, cell.a, cell.b, cell.x[idx], cell.y[idx], lam)
        sub_mse.append(_score(sub, cell))
        sub_e.append(alignment.energy_fraction(sub.w1, cell.u))
    return {
        "real_relmse": _score(real, cell),
        "real_w1_energy": alignment.energy_fraction(real.w1, cell.u),
        "rf_relmse": _score(rf, cell),
        "subset_relmse": sub_mse,
        "subset_w1_energy": sub_e,
        "baseline_seconds": time.perf_counter() - start,
    }


def _distill(params, seeds, base, device, log) -> xr.Dataset:
    d, r, width = int(params["d"]), int(params["r"]), int(params["L"])
    m1, m2 = int(params["m1"]), int(params["m2"])
    check_sizes(m1, m2)
    n, n_test = training_size(params, d, r), int(params["n_test"])
    steps1, steps2 = int(params["steps1"]), int(params["steps2"])
    baselines = bool(params.get("baselines", True))
    k_equal = distillation.equal_memory_count(m1, m2, d)
    ks = _subset_sizes(params, k_equal, n) if baselines else []

    per_seed: dict[str, list] = {}
    for seed in seeds:
        cell = build_cell(
            base,
            d=d,
            r=r,
            width=width,
            seed=seed,
            n=n,
            n_test=n_test,
            device=device,
            data_dtype=_data_dtype(params),
        )
        row = distill_seed(params, cell, base, seed)
        line = (
            f"d={d} r={r} L={width} m1={m1} m2={m2} init={params['init']} seed={seed}: DD relMSE "
            f"{row['dd_relmse']:.4f} (undistilled {row['undistilled_relmse']:.3f}), e(X1) "
            f"{row['dd_x_energy']:.3f}, e(W1) {row['dd_w1_energy']:.3f}, {row['dd_seconds']:.1f} s"
        )
        if baselines:
            row.update(baselines_seed(params, cell, base, seed, ks))
            line += (
                f"; real {row['real_relmse']:.4f}, RF {row['rf_relmse']:.3f}, subsets "
                f"{dict(zip(ks, np.round(row['subset_relmse'], 3).tolist()))}"
            )
        log(line)
        for name, value in row.items():
            per_seed.setdefault(name, []).append(value)
        del cell

    s, sk = ("seed",), ("seed", "k")
    arr = {name: np.asarray(v) for name, v in per_seed.items()}
    variables = {
        "dd_relmse": _var(s, arr["dd_relmse"], "test relMSE of the learner trained on DD"),
        "undistilled_relmse": _var(
            s, arr["undistilled_relmse"], "test relMSE of the learner on the initial points"
        ),
        "dd_x_energy": _var(
            s, arr["dd_x_energy"], "e(X1): energy of the distilled inputs in span(U)"
        ),
        "undistilled_x_energy": _var(s, arr["undistilled_x_energy"], "e(X1) at the init"),
        "dd_w1_energy": _var(s, arr["dd_w1_energy"], "e(W1) of the first layer learned from S1"),
        "undistilled_w1_energy": _var(
            s, arr["undistilled_w1_energy"], "e(W1) of the first layer learned from the init"
        ),
        "dd_x2_energy": _var(s, arr["dd_x2_energy"], "e(X2): stage-2 inputs in span(U)"),
        "dd_x_maxangle_deg": _var(
            s, arr["dd_x_maxangle_deg"], "max principal angle top-r(X1) vs span(U)", "degree"
        ),
        "stage1_cos_loss": _var(s, arr["stage1_cos_loss"], "final stage-1 cosine loss"),
        "stage2_loss": _var(s, arr["stage2_loss"], "stage-2 batch MSE at the last step"),
        "stage1_loss_trace": _var(("seed", "step1"), arr["stage1_loss_trace"], "stage-1 loss"),
        "stage2_loss_trace": _var(("seed", "step2"), arr["stage2_loss_trace"], "stage-2 loss"),
        "dd_seconds": _var(
            s, arr["dd_seconds"], "wall time of init + both DD stages + learner", "s"
        ),
        "chance_energy": _var((), r / d, "chance level r/d of the energy fraction"),
        "memory_dd_floats": _var((), distillation.memory_dd_floats(m1, m2, d), "M_DD", "floats"),
        "memory_real_floats": _var(
            (), distillation.memory_real_floats(n, d), "M_real = n (d+1)", "floats"
        ),
        "subset_k_equal_memory": _var((), k_equal, "floor(M_DD/(d+1))", "points"),
        "n_train": _var((), n, "real training points n", "points"),
    }
    coords = {
        "seed": _var(s, np.asarray(seeds, dtype=np.int64), "seed"),
        "step1": _var(("step1",), np.arange(steps1), "stage-1 Adam step"),
        "step2": _var(("step2",), np.arange(steps2), "stage-2 Adam step"),
    }
    if baselines:
        variables.update(
            real_relmse=_var(s, arr["real_relmse"], "test relMSE, learner on all n real points"),
            real_w1_energy=_var(s, arr["real_w1_energy"], "e(W1) learned from all real points"),
            rf_relmse=_var(s, arr["rf_relmse"], "test relMSE of random features (W0) on all data"),
            baseline_seconds=_var(s, arr["baseline_seconds"], "wall time of the baselines", "s"),
        )
        if ks:
            variables.update(
                subset_relmse=_var(sk, arr["subset_relmse"], "test relMSE, random real subset"),
                subset_w1_energy=_var(sk, arr["subset_w1_energy"], "e(W1) from a random subset"),
            )
            coords["k"] = _var(("k",), np.asarray(ks, dtype=np.int64), "subset size", "points")
    return xr.Dataset(variables, coords=coords)


def _onestep(params, seeds, base, device, log) -> xr.Dataset:
    """Grid C: one-step DD at every d of ``d_grid`` (one job: each d costs well under a second)."""
    scheme, scale = parse_init(params["init"])
    if scheme != "gauss":
        raise ValueError(f"one-step DD starts from a Gaussian init, got {params['init']!r}")
    r, width, m1 = int(params["r"]), int(params["L"]), int(params["m1"])
    check_sizes(m1, 1)
    d_grid = [int(d) for d in params["d_grid"]]
    energies = np.full((len(seeds), len(d_grid)), np.nan)
    for j, d in enumerate(d_grid):
        n = training_size(params, d, r)
        for i, seed in enumerate(seeds):
            cell = build_cell(
                base,
                d=d,
                r=r,
                width=width,
                seed=seed,
                n=n,
                n_test=None,
                device=device,
                data_dtype=_data_dtype(params),
            )
            x1_0, _, _ = initial_points(
                params["init"], rngs.generator(*base, "init", d, seed), m1, 1, cell.x, cell.y
            )
            x1 = distillation.one_step(
                cell.w0, cell.a, cell.g, x1_0, scale=scale, sharpness=float(params["sharpness"])
            )
            energies[i, j] = alignment.energy_fraction(x1, cell.u)
            log(f"one-step DD d={d} seed={seed}: e(X1) {energies[i, j]:.3f} (chance {r / d:.4f})")
            del cell
    return xr.Dataset(
        {
            "onestep_x_energy": _var(("seed", "d"), energies, "e(X1) after one step of DD"),
            "chance_energy": _var(("d",), r / np.asarray(d_grid, float), "chance level r/d"),
        },
        coords={
            "seed": _var(("seed",), np.asarray(seeds, dtype=np.int64), "seed"),
            "d": _var(("d",), np.asarray(d_grid, dtype=np.int64), "input dimension d"),
        },
    )

"""Time one distillation step of the dataset_distillation study against a naive reference.

Quick-scale sizes (brief §3.1): d = 64, L = 512, r = 2, n = 40,000, m1 = 16, m2 = 32, a batch of
B = 2,048 real points, float64, one thread by default.

* stage 1 (gradient matching), ours: `distillation.distill_stage_one`, which matches on the L/2
  unique rows of the mirrored init with our `distillation.Adam`; reference: the same loss on all
  L rows with ``torch.optim.Adam``.
* stage 2 (performance matching), ours: `distillation.distill_stage_two`, which computes the
  features of all n points once and gathers each (sorted) batch into one reused buffer, and
  evaluates the kernel-ridge predictor as phi(x) (Phi2^T alpha); reference: features of each
  batch from its inputs in random order, predictor phi(x) Phi2^T alpha as written, torch Adam.

Each is timed over ``--steps`` steps (median of ``--repeats`` runs after a warm-up, ours and the
reference alternating) and reported per step, with the ratio reference / ours. Both reach the
same numbers (checked here). Writes JSON to ``--out``.

Run: ``python benchmarks/bench_dataset_distillation_step.py [--steps 400] [--repeats 3]``
"""

from __future__ import annotations

import os

# One core, as a Snakemake job with threads: 1 gets (Snakemake sets these for every job); set
# them in the environment to measure more threads.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from initlab.studies.dataset_distillation import distillation, experiment
from initlab.studies.dataset_distillation.initialization import initial_points


def _median_seconds(fns, repeats):
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, acc in zip(fns, times):
            start = time.perf_counter()
            fn()
            acc.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def reference_stage_one(w0, a, g, x1, steps, lr=0.05, sharpness=20.0):
    x = x1.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        s1 = torch.cat([x, -x])
        gate = torch.sigmoid(sharpness * (s1 @ w0.T))
        gt = -a[:, None] * (gate.T @ s1) / s1.shape[0]
        cos = (gt * g).sum(1) / (gt.norm(dim=1) * g.norm(dim=1) + 1e-12)
        (1 - cos).mean().backward()
        opt.step()
    return x.detach()


def reference_stage_two(w1, b, x2, y2, x, y, batches, lr=0.02, jitter=1e-4):
    x2 = x2.clone().requires_grad_(True)
    y2 = y2.clone().requires_grad_(True)
    opt = torch.optim.Adam([x2, y2], lr=lr)
    for idx in torch.from_numpy(batches):
        opt.zero_grad()
        phi_b = torch.relu(x[idx] @ w1.T + b)
        phi2 = torch.relu(x2 @ w1.T + b)
        k = phi2 @ phi2.T
        alpha = torch.linalg.solve(
            k + jitter * k.diagonal().mean() * torch.eye(k.shape[0], dtype=k.dtype), y2
        )
        ((phi_b @ phi2.T @ alpha - y[idx]) ** 2).mean().backward()
        opt.step()
    return x2.detach(), y2.detach()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--steps", type=int, default=400, help="steps per timed run (default 400)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (default 3)")
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/dataset_distillation_step.json")
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=0.1)  # import torch._dynamo now

    base = ("bench_dataset_distillation", 0)
    cell = experiment.build_cell(base, d=args.d, r=2, width=512, seed=0, n=40_000, n_test=None)
    x1, x2, y2 = initial_points("gauss0.1", np.random.default_rng(0), 16, 32, cell.x, cell.y)
    w1 = distillation.stage_one_first_layer(cell.w0, cell.a, x1)
    batches = experiment.stage_two_batches(np.random.default_rng(1), 40_000, args.steps, 2048)
    unsorted = np.random.default_rng(2).permuted(batches, axis=1)  # same points, random order

    # Same numbers over a short run (over 400 steps rounding differences grow, as in any
    # chaotic optimisation, so the check uses 10 steps).
    check = 10
    ours1 = distillation.distill_stage_one(cell.w0, cell.a, cell.g, x1, steps=check).x1
    ref1 = reference_stage_one(cell.w0, cell.a, cell.g, x1, check)
    assert torch.allclose(ours1, ref1, rtol=1e-9, atol=1e-12), "stage 1 differs from the reference"
    ours2 = distillation.distill_stage_two(w1, cell.b, x2, y2, cell.x, cell.y, batches[:check])
    ref2 = reference_stage_two(w1, cell.b, x2, y2, cell.x, cell.y, unsorted[:check])
    assert torch.allclose(ours2.x2, ref2[0], rtol=1e-9, atol=1e-12), "stage 2 differs"

    t1 = _median_seconds(
        [
            lambda: distillation.distill_stage_one(cell.w0, cell.a, cell.g, x1, steps=args.steps),
            lambda: reference_stage_one(cell.w0, cell.a, cell.g, x1, args.steps),
        ],
        args.repeats,
    )
    t2 = _median_seconds(
        [
            lambda: distillation.distill_stage_two(w1, cell.b, x2, y2, cell.x, cell.y, batches),
            lambda: reference_stage_two(w1, cell.b, x2, y2, cell.x, cell.y, unsorted),
        ],
        args.repeats,
    )
    out = {
        "sizes": {"d": args.d, "L": 512, "n": 40_000, "m1": 16, "m2": 32, "batch": 2048},
        "threads": int(os.environ["OMP_NUM_THREADS"]),
        "machine": platform.processor() or platform.machine(),
        "stage1_ms_per_step": {
            "ours": 1e3 * t1[0] / args.steps,
            "reference": 1e3 * t1[1] / args.steps,
        },
        "stage2_ms_per_step": {
            "ours": 1e3 * t2[0] / args.steps,
            "reference": 1e3 * t2[1] / args.steps,
        },
        "note": "stage 2 'ours' includes computing the n x L features once per run",
    }
    out["stage1_speedup"] = t1[1] / t1[0]
    out["stage2_speedup"] = t2[1] / t2[0]
    for stage in ("stage1", "stage2"):
        ms = out[f"{stage}_ms_per_step"]
        print(
            f"{stage}: ours {ms['ours']:.2f} ms/step, reference {ms['reference']:.2f} ms/step, "
            f"speedup {out[f'{stage}_speedup']:.2f}x"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()

"""How the cost of the dataset_distillation study grows with d: one quick cell per d, log-log fit.

A cell is what one seed of grid A costs (brief §3.1): draw the data and network, the real-data
gradient G, both distillation stages (400 + 400 steps), the learner on the distilled set and on
the initial points, and the baselines (full data, random features, the real subsets of
``subset_k``), at n = 40,000, L = 512, r = 2, (m1, m2) = (16, 32), one thread (see the environment variables below). The wall and CPU
time of each part is measured for d in ``--d`` and the exponent of cost ~ d^p is fitted by least
squares on log-log axes (total, DD, baselines). Writes JSON to ``--out``.

Run: ``python benchmarks/bench_dataset_distillation_scaling.py [--d 32 64 128 256]``
"""

from __future__ import annotations

import os

# One core, as a Snakemake job with threads: 1 gets (Snakemake sets these for every job); set
# them in the environment to measure more threads.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json
import time
from pathlib import Path

import numpy as np
import torch

from initlab.studies.dataset_distillation import experiment

QUICK = dict(
    L=512,
    r=2,
    m1=16,
    m2=32,
    n=40_000,
    n_test=20_000,
    steps1=400,
    lr1=0.05,
    steps2=400,
    lr2=0.02,
    batch=2048,
    lam=1e-3,
    jitter=1e-4,
    sharpness=20.0,
    baselines=True,
    subset_k=[48, 150, 480, 1200, 2400, 4800, 9600, 19200],
    init="gauss0.1",
)


def slope(x, y) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--d", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/dataset_distillation_scaling.json")
    )
    args = parser.parse_args(argv)
    rows = []
    for d in args.d:
        wall, cpu = time.perf_counter(), time.process_time()
        ds = experiment.run(
            "distill",
            {**QUICK, "d": d},
            [0],
            key=("bench_dataset_distillation", 0, "distill"),
            threads=int(os.environ["OMP_NUM_THREADS"]),
            log=lambda _: None,
        )
        rows.append(
            {
                "d": d,
                "wall_s": time.perf_counter() - wall,
                "cpu_s": time.process_time() - cpu,
                "dd_s": float(ds["dd_seconds"].item()),
                "baselines_s": float(ds["baseline_seconds"].item()),
                "dd_relmse": float(ds["dd_relmse"].item()),
            }
        )
        r = rows[-1]
        print(
            f"d={d}: {r['wall_s']:.1f} s wall ({r['cpu_s']:.1f} s CPU): DD {r['dd_s']:.1f} s, "
            f"baselines {r['baselines_s']:.1f} s"
        )
    d = [r["d"] for r in rows]
    out = {
        "threads": int(os.environ["OMP_NUM_THREADS"]),
        "torch": torch.__version__,
        "cells": rows,
        "exponent": {
            "total_wall": slope(d, [r["wall_s"] for r in rows]),
            "total_cpu": slope(d, [r["cpu_s"] for r in rows]),
            "dd": slope(d, [r["dd_s"] for r in rows]),
            "baselines": slope(d, [r["baselines_s"] for r in rows]),
        },
    }
    print("cost ~ d^p: " + ", ".join(f"{k} p={v:.2f}" for k, v in out["exponent"].items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()

"""GEM throughput on the CPU: training iterations/s and samples/s, batched against a per-graph
loop with the same network, and one thread against two (brief §7, "Threads").

* training: one Adam step of the transport loss (OT pairing, interpolant, second-order autograd)
  on a batch of 128 QM9 graphs, against the same loss accumulated graph by graph (batch of 1,
  128 backward passes, one optimiser step);
* sampling: the two-phase sampler (80 greedy transport steps on the chains still moving, then 40
  DLP + MH steps) on 256 chains at once, against chains run one at a time (16 of them, scaled);
* threads: the batched training step with torch on 1 and on 2 threads.

GEM-lite at the quick size (h 64, e 32, 3 layers). ``--checkpoint`` loads trained weights (a
``transport.pt`` of the study); without it the network is freshly initialised, whose greedy phase
stops early, so pass one for realistic sampling numbers. Writes JSON to ``--out``.

Run: ``python benchmarks/bench_graph_energy_matching_throughput.py [--checkpoint PATH]``
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json
import time
from pathlib import Path

import numpy as np
import torch

from initlab import provenance
from initlab.studies.graph_energy_matching import sampler as S
from initlab.studies.graph_energy_matching.energy import GEMLite
from initlab.studies.graph_energy_matching.experiment import load_data
from initlab.studies.graph_energy_matching.interpolant import NoiseDistribution, sample_noise
from initlab.studies.graph_energy_matching.training import Adam, transport_batch, transport_loss


def _train_rate(model, data, noise, batch, iters, per_graph: bool) -> float:
    rng = np.random.default_rng(0)
    opt = Adam(model.parameters(), lr=3e-4)
    A, B = data["n_atom"], data["n_bond"]
    start = time.perf_counter()
    for _ in range(iters):
        gt, g0, g1 = transport_batch(rng, data["train"], noise, batch, A, B)
        opt.zero_grad()
        if per_graph:
            for k in range(batch):
                idx = [k]
                loss = transport_loss(model, gt.take(idx), g0.take(idx), g1.take(idx), A, B)
                (loss / batch).backward()
        else:
            transport_loss(model, gt, g0, g1, A, B).backward()
        opt.step()
    return iters / (time.perf_counter() - start)


def _sample_rate(model, data, noise, chains, per_graph: bool) -> float:
    A, B, n_max = data["n_atom"], data["n_bond"], data["n_max"]
    sizes = np.random.default_rng(1).choice(data["train"].n_nodes, size=chains)
    start_graphs = sample_noise(np.random.default_rng(2), sizes, noise, n_max)
    sched = S.MixingSchedule(steps=40)
    gen = torch.Generator().manual_seed(0)
    groups = [[k] for k in range(chains)] if per_graph else [list(range(chains))]
    start = time.perf_counter()
    for idx in groups:
        g = start_graphs.take(idx)
        nodes, edges = torch.as_tensor(g.nodes), torch.as_tensor(g.edges)
        nodes, edges, _ = S.transport(model, nodes, edges, steps=80, n_atom=A, n_bond=B)
        S.mixing(model, nodes, edges, sched, n_atom=A, n_bond=B, generator=gen)
    return chains / (time.perf_counter() - start)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--chains", type=int, default=256)
    parser.add_argument("--loop-chains", type=int, default=16)
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/graph_energy_matching_throughput.json")
    )
    args = parser.parse_args(argv)
    data = load_data("qm9", log=lambda s: None)
    noise = NoiseDistribution.uniform(data["n_atom"], data["n_bond"])
    torch.manual_seed(0)
    model = GEMLite(data["n_atom"], data["n_bond"], data["n_max"])
    if args.checkpoint is not None:
        model.load_state_dict(torch.load(args.checkpoint, weights_only=False)["model"])
    out = {"device": provenance.describe_device("cpu"), "load_before": os.getloadavg()}
    torch.set_num_threads(1)
    batched = _train_rate(model, data, noise, 128, args.iters, per_graph=False)
    loop = _train_rate(model, data, noise, 128, max(1, args.iters // 5), per_graph=True)
    torch.set_num_threads(2)
    two_threads = _train_rate(model, data, noise, 128, args.iters, per_graph=False)
    torch.set_num_threads(1)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    s_batched = _sample_rate(model, data, noise, args.chains, per_graph=False)
    s_loop = _sample_rate(model, data, noise, args.loop_chains, per_graph=True)
    out.update(
        {
            "checkpoint": str(args.checkpoint) if args.checkpoint else None,
            "train_batch": 128,
            "train_iters_per_s_batched_1thread": batched,
            "train_iters_per_s_per_graph_loop_1thread": loop,
            "train_speedup_batched_vs_loop": batched / loop,
            "train_iters_per_s_batched_2threads": two_threads,
            "train_ratio_1thread_vs_2threads": batched / two_threads,
            "samples_per_s_batched": s_batched,
            "samples_per_s_per_graph_loop": s_loop,
            "sampling_speedup_batched_vs_loop": s_batched / s_loop,
            "load_after": os.getloadavg(),
            "note": "2 shared cores; other jobs ran at the same time (see the load averages)",
        }
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()

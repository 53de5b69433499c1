"""One sweep point of the GEM study: train the energy, then evaluate it (brief §3.1, §4).

Experiments:

``gem``       transport training (§2.4), then every measurement of §4 (G1–G12 and the report-only
              entries) for the point's noise distribution p₀ (the ``init`` axis: ``uniform`` or
              ``marginal``, brief's ``noise``; it sets both the training source and the sampler's
              initial graphs).
``moses``     the same as ``gem`` on MOSES (paper scale): ``data`` lists the train, test and FCD
              reference artefacts (``[moses/train, moses/test, moses/test_scaffolds]``).
``finetune``  the optional contrastive phase (§2.5) on top of the finished transport checkpoint
              (trained here if no finished one exists), then the same evaluation.

Random streams (initlab.rng) are keyed by (study, master seed, experiment, init, seed, purpose);
torch generators (network init, sampler draws) are seeded from them. Training checkpoints go to
``<checkpoints>/<init>-seed<seed>-<hash of the training settings>/`` (default
``results/graph_energy_matching/checkpoints/``; not a declared output): a killed job resumes there,
and a job whose evaluation settings changed reuses the finished training.

Returned dataset (dims ``seed`` plus): ``iter`` (training log), ``graph`` (energies of test and
noise graphs for G1), ``tau`` (G2), ``stage`` (noise_graphs, transport, mixing, real_test: the
sample metrics), ``step`` (the sampler trajectory; transport steps then mixing steps), ``mix_step``
(acceptance), ``lam`` (composition), ``switch_rule``, ``interp_tau`` / ``geo_step``
(interpolation), ``grid`` / ``phase`` (SMILES of the first 24 samples for the molecule grid).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
import xarray as xr
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from initlab import rng as rng_mod
from initlab.data import artefact
from initlab.studies.graph_energy_matching import metrics as M
from initlab.studies.graph_energy_matching import sampler as S
from initlab.studies.graph_energy_matching.energy import GEMLite
from initlab.studies.graph_energy_matching.graphs import Graphs, from_artefact, one_hot
from initlab.studies.graph_energy_matching.interpolant import NoiseDistribution, sample_noise
from initlab.studies.graph_energy_matching.steering import (
    composition_term,
    hamming_distance,
    hamming_term,
    tau_path,
)
from initlab.studies.graph_energy_matching.training import (
    TrainConfig,
    contrastive_loss,
    train,
    transport_batch,
    transport_loss,
    transport_objective,
)

__all__ = ["EXPERIMENTS", "STAGES", "run"]

EXPERIMENTS = ("gem", "moses", "finetune")
STAGES = ("noise_graphs", "transport", "mixing", "real_test")
CHECKPOINTS = "results/graph_energy_matching/checkpoints"


def run(
    experiment: str,
    params: Mapping,
    seeds: Sequence[int],
    *,
    key: tuple,
    threads: int = 1,
    device: str = "cpu",
    log: Callable[[str], object] = print,
) -> xr.Dataset:
    """Train and evaluate one point for every seed; a Dataset with a ``seed`` dimension."""
    if experiment not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {experiment!r}; known: {EXPERIMENTS}")
    torch.set_num_threads(threads)
    data = load_data(params["data"], log)
    parts = [
        run_seed(experiment, params, seed, key=key, device=device, log=log, data=data)
        for seed in seeds
    ]
    return xr.concat(parts, dim="seed", join="outer", combine_attrs="drop_conflicts").assign_coords(
        seed=list(seeds)
    )


# ----------------------------------------------------------------------------------------------
# data


def load_data(name, log=print) -> dict:
    """Train / test graphs, vocabularies and reference SMILES of prepared molecule sets.

    ``name``: one artefact with a ``split`` variable (``qm9``: its train and test splits), or a
    list ``[train, test]`` / ``[train, test, fcd_reference]`` of artefacts (MOSES).
    """
    names = [name] if isinstance(name, str) else list(name)
    sets = [artefact(n) for n in names]
    ds = sets[0]
    atoms = ds.attrs["atom_vocab"].split(",")
    bonds = ds.attrs["bond_vocab"].split(",")
    if len(sets) == 1:
        split = ds["split"].values
        train_idx, test_idx = np.flatnonzero(split == "train"), np.flatnonzero(split == "test")
        train_ds, test_ds, ref_ds = ds, ds, None
    else:
        train_ds, test_ds = sets[0], sets[1]
        ref_ds = sets[2] if len(sets) > 2 else None
        train_idx, test_idx = np.arange(train_ds.sizes["mol"]), np.arange(test_ds.sizes["mol"])
        if test_ds.attrs["atom_vocab"] != ds.attrs["atom_vocab"]:
            raise ValueError(f"{names}: the artefacts have different atom vocabularies")
    test_smiles = test_ds["smiles"].values.astype(str)[test_idx]
    out = {
        "atoms": atoms,
        "n_atom": len(atoms),
        "n_bond": len(bonds),
        "n_max": int(ds.attrs["max_nodes"]),
        "train": from_artefact(train_ds, train_idx),
        "test": from_artefact(test_ds, test_idx),
        "train_smiles": set(
            M.clean_smiles(train_ds["smiles"].values.astype(str)[train_idx], log, "training")
        ),
        "test_smiles": test_smiles,
        "fcd_smiles": test_smiles if ref_ds is None else ref_ds["smiles"].values.astype(str),
    }
    log(
        f"data {names}: {len(train_idx)} train / {len(test_idx)} test molecules, atoms {atoms}, "
        f"n_max {out['n_max']}"
    )
    return out


# ----------------------------------------------------------------------------------------------
# training


def train_config(params: Mapping, phase: str = "transport") -> TrainConfig:
    shared = dict(
        clip=float(params["clip"]),
        ot_weights=tuple(float(w) for w in params["ot_weights"]),
        clamp=float(params["clamp"]),
        checkpoint_every=int(params["checkpoint_every"]),
    )
    if phase == "transport":
        return TrainConfig(
            iterations=int(params["iterations"]),
            batch=int(params["batch"]),
            lr=float(params["lr"]),
            wall_cap=float(params["wall_cap"]),
            warmup=int(params["warmup"]),
            log_every=int(params["log_every"]),
            extra={"model": _model_settings(params)},
            **shared,
        )
    return TrainConfig(
        iterations=int(params["cl_iterations"]),
        batch=int(params["cl_positives"]),
        lr=float(params["cl_lr"]),
        wall_cap=float(params["cl_wall_cap"]),
        log_every=int(params["cl_log_every"]),
        lambda_cl=float(params["cl_weight"]),
        cl_ramp=int(params["cl_ramp"]),
        cl_positives=int(params["cl_positives"]),
        cl_bad_weight=float(params["cl_bad_weight"]),
        extra={
            "negatives": int(params["cl_negatives"]),
            "greedy": int(params["cl_greedy_steps"]),
            "mixing": int(params["cl_mixing_steps"]),
        },
        **shared,
    )


def _model_settings(params: Mapping) -> dict:
    out = {k: int(params[k]) for k in ("hidden", "edge_hidden", "layers")}
    if params.get("features", "none") != "none":  # absent = the brief's GEM-lite (no features)
        out["features"] = str(params["features"])
    return out


def build_model(params: Mapping, data: dict, seed_key: tuple, device: str) -> GEMLite:
    """GEM-lite with weights drawn from a torch generator seeded from ``seed_key``."""
    seed = int(rng_mod.generator(*seed_key).integers(2**62))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = GEMLite(data["n_atom"], data["n_bond"], data["n_max"], **_model_settings(params))
    return model.to(device)


def checkpoint_dir(params: Mapping, experiment_key: tuple, cfg: TrainConfig, init, seed) -> Path:
    digest = hashlib.sha256(
        (repr(experiment_key[:2]) + params["data"] + cfg.fingerprint()).encode()
    ).hexdigest()[:12]
    root = Path(params.get("checkpoints") or CHECKPOINTS)
    return root / f"{init}-seed{seed}-{digest}"


def train_transport(params, data, noise, *, key, init, seed, device, log):
    cfg = train_config(params)
    model = build_model(params, data, (*key[:2], "model", init, seed), device)
    ckpt = checkpoint_dir(params, key, cfg, init, seed) / "transport.pt"
    rng = rng_mod.generator(*key[:2], "train", init, seed)
    log(f"training {sum(p.numel() for p in model.parameters())} parameters; checkpoints {ckpt}")
    loss_fn = transport_objective(
        data["train"], noise, cfg, model, data["n_atom"], data["n_bond"], device
    )
    history = train(model, loss_fn, cfg, rng, checkpoint=ckpt, log=log)
    return model, history


def train_contrastive(model, params, data, noise, *, key, init, seed, device, log):
    """The CL fine-tune (§2.5) from the transport weights; its own checkpoint."""
    cfg = train_config(params, "contrastive")
    base = train_config(params)
    ckpt = checkpoint_dir(params, key, base, init, seed) / f"contrastive-{_digest(cfg)}.pt"
    rng = rng_mod.generator(*key[:2], "contrastive", init, seed)
    gen = torch.Generator(device=device).manual_seed(
        int(rng_mod.generator(*key[:2], "cl-mh", init, seed).integers(2**62))
    )
    n_atom, n_bond, atoms = data["n_atom"], data["n_bond"], data["atoms"]
    n_neg = int(cfg.extra["negatives"])
    mix = S.MixingSchedule(
        steps=int(cfg.extra["mixing"]),
        beta_prop=float(params["beta_prop"]),
        beta_mh_init=float(params["beta_mh"][0]),
        beta_mh_final=float(params["beta_mh"][1]),
        lam_x=float(params["lam_x"]),
        lam_e=float(params["lam_e"]),
    )

    def loss_fn(rng, it):
        gt, g0, g1 = transport_batch(
            rng, data["train"], noise, cfg.batch, n_atom, n_bond, cfg.ot_weights
        )
        l_t = transport_loss(model, gt, g0, g1, n_atom, n_bond, clamp=cfg.clamp, device=device)
        # negatives: half from noise, half from data graphs, through the sampler (no grad)
        start = Graphs.concat(
            [
                sample_noise(rng, g1.n_nodes[: n_neg // 2], noise, data["n_max"]),
                g1.take(np.arange(n_neg - n_neg // 2)),
            ]
        )
        model.eval()
        nodes, edges = _to_torch(start, device)
        nodes, edges, _ = S.transport(
            model, nodes, edges, steps=int(cfg.extra["greedy"]), n_atom=n_atom, n_bond=n_bond
        )
        nodes, edges, _, _ = S.mixing(
            model, nodes, edges, mix, n_atom=n_atom, n_bond=n_bond, generator=gen
        )
        model.train()
        neg = Graphs(nodes.cpu().numpy(), edges.cpu().numpy())
        mols = M.decode(neg.nodes, neg.edges, atoms)
        bad = np.array([m is None or M._n_fragments(m) != 1 for m in mols])
        pos = g1.take(np.arange(min(cfg.cl_positives, len(g1))))
        l_cl = contrastive_loss(
            model, pos, neg, bad, n_atom, n_bond, bad_weight=cfg.cl_bad_weight, device=device
        )
        ramp = min(1.0, (it + 1) / cfg.cl_ramp)
        return l_t + cfg.lambda_cl * ramp * l_cl, {
            "loss_T": float(l_t),
            "loss_CL": float(l_cl),
            "bad_negatives": float(bad.mean()),
        }

    return train(model, loss_fn, cfg, rng, checkpoint=ckpt, log=log)


def _digest(cfg: TrainConfig) -> str:
    return hashlib.sha256(cfg.fingerprint().encode()).hexdigest()[:8]


def _to_torch(g: Graphs, device) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.as_tensor(g.nodes, device=device), torch.as_tensor(g.edges, device=device)


# ----------------------------------------------------------------------------------------------
# evaluation


def run_seed(experiment, params, seed, *, key, device, log, data) -> xr.Dataset:
    init = params["init"]
    noise = NoiseDistribution.named(init, data["train"], data["n_atom"], data["n_bond"])
    log(
        f"seed {seed}: p0 = {init}, pi_X {np.round(noise.pi_x, 3).tolist()}, "
        f"pi_E {np.round(noise.pi_e, 3).tolist()}"
    )
    model, history = train_transport(
        params, data, noise, key=key, init=init, seed=seed, device=device, log=log
    )
    train_vars = _history_vars(history, "")
    if experiment == "finetune":
        cl_history = train_contrastive(
            model, params, data, noise, key=key, init=init, seed=seed, device=device, log=log
        )
        train_vars.update(_history_vars(cl_history, "cl_"))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        raise RuntimeError(
            f"{init}, seed {seed}: training diverged (non-finite weights after "
            f"{history['iterations_done']} iterations, {history['nan_skips']} NaN skips)"
        )
    start = time.perf_counter()
    out = evaluate(model, params, data, noise, key=(*key, init, seed), device=device, log=log)
    out.update(train_vars)
    out["eval_seconds"] = ((), time.perf_counter() - start)
    log(f"evaluation took {out['eval_seconds'][1]:.1f} s")
    ds = xr.Dataset(out)
    coords = {
        "stage": list(STAGES),
        "switch_rule": list(S.SWITCH_RULES),
        "phase": ["transport", "mixing"],
    }
    for dim, var in (
        ("tau", "tau_values"),
        ("lam", "lam_values"),
        ("interp_tau", "interp_tau_values"),
        ("step", "traj_step"),
        ("iter", "iter_values"),
        ("cl_iter", "cl_iter_values"),
    ):
        if var in ds:
            coords[dim] = ds[var].values
            ds = ds.drop_vars(var)
    return ds.assign_coords(coords)


def _history_vars(h: dict, prefix: str) -> dict:
    out = {
        f"{prefix}iterations_done": ((), float(h["iterations_done"])),
        f"{prefix}train_seconds": ((), float(h["wall_total"])),
        f"{prefix}stopped_by": ((), str(h["stopped_by"])),
        f"{prefix}nan_skips": ((), float(h["nan_skips"])),
        f"{prefix}resumed_from": ((), float(h["resumed_from"])),
    }
    dim = f"{prefix}iter"
    names = {
        "iter": "iter_values",
        "loss": "loss_T" if not prefix else "loss_total",
        "wall_s": "train_wall_s",
    }
    scalars = ("iterations_done", "stopped_by", "nan_skips", "resumed_from", "wall_total")
    for name in h:
        if name not in scalars:
            out[f"{prefix}{names.get(name, name)}"] = (dim, np.asarray(h[name], float))
    return out


def _energies(model, g: Graphs, data, device, batch=1024) -> np.ndarray:
    out = []
    with torch.no_grad():
        for s in range(0, len(g), batch):
            part = g.take(slice(s, s + batch))
            X, E, mask = one_hot(
                part.nodes, part.edges, data["n_atom"], data["n_bond"], device=device
            )
            out.append(model(X, E, mask).cpu().numpy())
    return np.concatenate(out).astype(float)


class _Trajectory:
    """Records label snapshots every ``every`` steps (plus the last) of one sampler run."""

    def __init__(self, every: int, offset: int = 0):
        self.every, self.offset = every, offset
        self.steps, self.snaps, self.energy = [], [], []

    def __call__(self, step, nodes, edges, energy):
        if step % self.every == 0:
            self._add(step, nodes, edges, energy)

    def _add(self, step, nodes, edges, energy):
        self.steps.append(self.offset + step)
        self.snaps.append((nodes.cpu().numpy().copy(), edges.cpu().numpy().copy()))
        self.energy.append(float(energy.mean()))

    def close(self, step, nodes, edges, energy):
        if not self.steps or self.steps[-1] != self.offset + step:
            self._add(step, nodes, edges, energy)


def sample(
    model,
    start: Graphs,
    params,
    data,
    *,
    device,
    generator,
    term=None,
    switch="stuck",
    threshold=None,
    record_every=None,
):
    """Transport then mixing from ``start``; returns a dict with both phases' graphs, energies,
    switch info, acceptance and (``record_every``) the trajectory snapshots."""
    n_atom, n_bond = data["n_atom"], data["n_bond"]
    steps = int(params["transport_steps"])
    schedule = S.MixingSchedule(
        steps=int(params["mixing_steps"]),
        beta_prop=float(params["beta_prop"]),
        beta_mh_init=float(params["beta_mh"][0]),
        beta_mh_final=float(params["beta_mh"][1]),
        lam_x=float(params["lam_x"]),
        lam_e=float(params["lam_e"]),
        ramp_steps=int(params.get("mh_ramp_steps") or 0) or None,
    )
    nodes, edges = _to_torch(start, device)
    rec_t = _Trajectory(record_every) if record_every else None
    nodes, edges, info = S.transport(
        model,
        nodes,
        edges,
        steps=steps,
        n_atom=n_atom,
        n_bond=n_bond,
        term=term,
        switch=switch,
        energy_threshold=threshold,
        record=rec_t,
    )
    transported = Graphs(nodes.cpu().numpy(), edges.cpu().numpy())
    rec_m = _Trajectory(record_every, offset=steps) if record_every else None
    nodes, edges, energy, acceptance = S.mixing(
        model,
        nodes,
        edges,
        schedule,
        n_atom=n_atom,
        n_bond=n_bond,
        generator=generator,
        term=term,
        record=(lambda s, *a: rec_m(s, *a) if s > 0 else None) if rec_m else None,
    )
    if rec_m is not None:
        rec_m.close(schedule.steps, nodes, edges, energy)
    return {
        "transport": transported,
        "transport_energy": info["energy"].cpu().numpy().astype(float),
        "mixing": Graphs(nodes.cpu().numpy(), edges.cpu().numpy()),
        "mixing_energy": energy.cpu().numpy().astype(float),
        "switch_step": info["switch_step"].cpu().numpy(),
        "switch_rule": info["switch_rule"].cpu().numpy(),
        "acceptance": acceptance,
        "trajectory": (rec_t, rec_m),
    }


def evaluate(model, params, data, noise, *, key, device, log) -> dict:
    """Every measurement of brief §4 for one trained model (G1–G12 and the report-only ones)."""
    n_atom, n_bond, n_max, atoms = data["n_atom"], data["n_bond"], data["n_max"], data["atoms"]
    train_smiles, test = data["train_smiles"], data["test"]
    out: dict = {}

    def gen(*purpose) -> np.random.Generator:
        return rng_mod.generator(*key, *purpose)

    def torch_gen(*purpose) -> torch.Generator:
        return torch.Generator(device=device).manual_seed(int(gen(*purpose).integers(2**62)))

    # G1: energies of test graphs against size-matched noise graphs
    k = min(int(params["eval_graphs"]), len(test))
    pick = gen("g1-test").choice(len(test), size=k, replace=False)
    g_test = test.take(pick)
    g_noise = sample_noise(gen("g1-noise"), g_test.n_nodes, noise, n_max)
    e_data, e_noise = _energies(model, g_test, data, device), _energies(
        model, g_noise, data, device
    )
    labels = np.r_[np.ones(k), np.zeros(k)]
    out["energy_auc"] = ((), float(roc_auc_score(labels, -np.r_[e_data, e_noise])))
    out["e_data"] = ("graph", e_data)
    out["e_noise"] = ("graph", e_noise)
    log(
        f"G1: AUC {out['energy_auc'][1]:.4f}; E_data {e_data.mean():.2f} +- {e_data.std():.2f}, "
        f"E_noise {e_noise.mean():.2f} +- {e_noise.std():.2f}"
    )

    # G2: mean energy along noise -> test tau-paths
    taus = [float(t) for t in params["taus"]]
    m = min(int(params["tau_paths"]), len(test))
    g_b = test.take(gen("g2-test").choice(len(test), size=m, replace=False))
    g_a = sample_noise(gen("g2-noise"), g_b.n_nodes, noise, n_max)
    path = tau_path(gen("g2-path"), g_a, g_b, taus)
    tau_energy = np.array([_energies(model, g, data, device).mean() for g in path])
    out["tau_energy"] = ("tau", tau_energy)
    out["tau_values"] = ("tau", np.asarray(taus))
    out["tau_spearman"] = ((), float(spearmanr(taus, tau_energy).statistic))
    log(f"G2: mean E along tau {np.round(tau_energy, 2).tolist()}")

    # reference sets for FCD and NSPDK
    t0 = time.perf_counter()
    ref_pick = gen("fcd-ref").permutation(len(data["fcd_smiles"]))
    fcd_ref = M.clean_smiles(
        data["fcd_smiles"][ref_pick[: int(params["fcd_reference"])]], log, "FCD reference"
    )
    fcd = M.FCDScorer(fcd_ref, device=device)
    nspdk_pick = gen("nspdk-ref").choice(
        len(test), size=min(int(params["nspdk_reference"]), len(test)), replace=False
    )
    nspdk_ref = [
        mm
        for mm in M.decode(test.nodes[nspdk_pick], test.edges[nspdk_pick], atoms)
        if mm is not None
    ]
    nspdk = M.NSPDKScorer(nspdk_ref)
    log(
        f"reference statistics: FCD on {len(fcd_ref)}, NSPDK on {len(nspdk_ref)} test molecules ({time.perf_counter() - t0:.1f} s)"
    )

    # main samples: noise graphs -> transport -> mixing
    t0 = time.perf_counter()
    n_samples = int(params["samples"])
    sizes = gen("sizes").choice(data["train"].n_nodes, size=n_samples)  # empirical node counts
    start = sample_noise(gen("start"), sizes, noise, n_max)
    main = sample(
        model,
        start,
        params,
        data,
        device=device,
        generator=torch_gen("mh"),
        record_every=int(params["record_every"]),
    )
    log(f"sampled {n_samples} graphs in {time.perf_counter() - t0:.1f} s")
    real = test.take(gen("real").choice(len(test), size=min(n_samples, len(test)), replace=False))
    stage_graphs = {
        "noise_graphs": start,
        "transport": main["transport"],
        "mixing": main["mixing"],
        "real_test": real,
    }
    table = {
        name: []
        for name in (
            "validity",
            "valid_connected",
            "uniqueness",
            "novelty",
            "vun",
            "fcd",
            "nspdk",
            "mean_energy",
            "frac_O",
        )
    }
    o_index = atoms.index(params["composition_atom"])
    grid = int(params["grid"])
    grid_smiles = []
    for stage in STAGES:
        g = stage_graphs[stage]
        mols = M.decode(g.nodes, g.edges, atoms)
        res = M.sample_metrics(mols, train_smiles)
        for name in ("validity", "valid_connected", "uniqueness", "novelty", "vun"):
            table[name].append(res[name])
        table["fcd"].append(fcd(res["smiles"]))
        table["nspdk"].append(nspdk(mols))
        table["mean_energy"].append(float(_energies(model, g, data, device).mean()))
        table["frac_O"].append(M.fraction_of_atom(g.nodes, o_index))
        if stage in ("transport", "mixing"):
            grid_smiles.append([_smiles(mm) for mm in mols[:grid]])
        log(f"{stage}: " + ", ".join(f"{n} {v[-1]:.3f}" for n, v in table.items()))
    for name, values in table.items():
        out[name] = ("stage", np.asarray(values, float))
    out["grid_smiles"] = (("phase", "grid"), np.asarray(grid_smiles, dtype=str))
    out["acceptance"] = ("mix_step", main["acceptance"])
    out["acceptance_mean"] = (
        (),
        float(np.mean(main["acceptance"])) if len(main["acceptance"]) else float("nan"),
    )
    out["e_transport"] = ("sample", main["transport_energy"])
    out["e_mixing"] = ("sample", main["mixing_energy"])
    out["switch_energy_mean"] = ((), float(main["transport_energy"].mean()))
    out["final_energy_mean"] = ((), float(main["mixing_energy"].mean()))
    out["transport_steps_used"] = ((), float(main["switch_step"].mean()))
    out["switch_counts"] = (
        "switch_rule",
        np.bincount(main["switch_rule"], minlength=len(S.SWITCH_RULES)).astype(float),
    )

    # the trajectory: metrics against sampler step
    traj = {n: [] for n in ("validity", "valid_connected", "uniqueness", "energy")}
    steps = []
    for rec in main["trajectory"]:
        for step, (nodes, edges), energy in zip(rec.steps, rec.snaps, rec.energy):
            res = M.sample_metrics(M.decode(nodes, edges, atoms), train_smiles)
            steps.append(step)
            for n in ("validity", "valid_connected", "uniqueness"):
                traj[n].append(res[n])
            traj["energy"].append(energy)
    for n, v in traj.items():
        out[f"traj_{n}"] = ("step", np.asarray(v, float))
    out["traj_step"] = ("step", np.asarray(steps, float))
    out["transport_steps"] = ((), float(params["transport_steps"]))

    # G12: composition steering on -#atom
    lams = [0.0] + [float(x) for x in params["composition_lams"]]
    comp = {
        n: [table[n][STAGES.index("mixing")]]
        for n in ("validity", "frac_O", "valid_connected", "uniqueness")
    }
    for lam in lams[1:]:
        sizes = gen("comp-sizes", lam).choice(
            data["train"].n_nodes, size=int(params["composition_samples"])
        )
        start_c = sample_noise(gen("comp-start", lam), sizes, noise, n_max)
        term = composition_term(lam, o_index, n_max, n_atom, n_bond, device=device)
        res_c = sample(
            model,
            start_c,
            params,
            data,
            device=device,
            generator=torch_gen("comp-mh", lam),
            term=term,
        )
        g = res_c["mixing"]
        r = M.sample_metrics(M.decode(g.nodes, g.edges, atoms), train_smiles)
        comp["validity"].append(r["validity"])
        comp["valid_connected"].append(r["valid_connected"])
        comp["uniqueness"].append(r["uniqueness"])
        comp["frac_O"].append(M.fraction_of_atom(g.nodes, o_index))
        log(
            f"composition lambda {lam}: frac {params['composition_atom']} {comp['frac_O'][-1]:.3f}, validity {r['validity']:.3f}"
        )
    for n, v in comp.items():
        out[f"comp_{n}"] = ("lam", np.asarray(v, float))
    out["lam_values"] = ("lam", np.asarray(lams, float))

    # switch = energy (report-only): chains switch once E(G) <= mean E of training graphs
    ref_train = data["train"].take(
        gen("switch-ref").choice(
            len(data["train"]), size=int(params["energy_switch_reference"]), replace=False
        )
    )
    threshold = float(_energies(model, ref_train, data, device).mean())
    n_sw = int(params["energy_switch_samples"])
    sizes = gen("sw-sizes").choice(data["train"].n_nodes, size=n_sw)
    start_s = sample_noise(gen("sw-start"), sizes, noise, n_max)
    res_s = sample(
        model,
        start_s,
        params,
        data,
        device=device,
        generator=torch_gen("sw-mh"),
        switch="energy",
        threshold=threshold,
    )
    g = res_s["mixing"]
    out["energy_switch_threshold"] = ((), threshold)
    out["energy_switch_counts"] = (
        "switch_rule",
        np.bincount(res_s["switch_rule"], minlength=len(S.SWITCH_RULES)).astype(float),
    )
    out["energy_switch_steps_used"] = ((), float(res_s["switch_step"].mean()))
    out["energy_switch_validity"] = (
        (),
        M.sample_metrics(M.decode(g.nodes, g.edges, atoms), train_smiles)["validity"],
    )
    log(
        f"switch=energy: threshold {threshold:.2f}, rules {dict(zip(S.SWITCH_RULES, out['energy_switch_counts'][1].tolist()))}, validity {out['energy_switch_validity'][1]:.3f}"
    )

    out.update(_interpolation(model, params, data, gen, torch_gen, device, log))
    return out


def _smiles(mol) -> str:
    if mol is None:
        return ""
    from rdkit import Chem

    return Chem.MolToSmiles(mol, isomericSmiles=False)


def _interpolation(model, params, data, gen, torch_gen, device, log) -> dict:
    """τ-paths and "geodesic" mixing paths between pairs of test molecules of equal size."""
    n_atom, n_bond, atoms = data["n_atom"], data["n_bond"], data["atoms"]
    test = data["test"]
    pairs = int(params["interp_pairs"])
    rng = gen("interp-pairs")
    n = test.n_nodes
    size = np.bincount(n).argmax()  # the most common node count (9 on QM9)
    pool = rng.permutation(np.flatnonzero(n == size))[: 2 * pairs]
    ga, gb = test.take(pool[:pairs]), test.take(pool[pairs : 2 * pairs])
    taus = np.linspace(0.0, 1.0, int(params["interp_taus"]))
    path = tau_path(gen("interp-path"), ga, gb, taus)
    energies = np.array([_energies(model, g, data, device) for g in path])  # (tau, pair)
    validity = np.array(
        [[mm is not None for mm in M.decode(g.nodes, g.edges, atoms)] for g in path], float
    )
    out = {
        "interp_tau_values": ("interp_tau", taus),
        "interp_energy": ("interp_tau", energies.mean(1)),
        "interp_validity": ("interp_tau", validity.mean(1)),
        "strip_smiles": (
            "interp_tau",
            np.asarray(
                [_smiles(M.decode(g.nodes[:1], g.edges[:1], atoms)[0]) for g in path], dtype=str
            ),
        ),
        "strip_energy": ("interp_tau", energies[:, 0]),
    }
    # geodesic: mixing on E + mu * d_H(G, G_b), mu ramped 0 -> mu_max
    steps = int(params["geodesic_steps"])
    mu_max = float(params["geodesic_mu"])
    schedule = S.MixingSchedule(
        steps=steps,
        beta_prop=float(params["beta_prop"]),
        beta_mh_init=float(params["beta_mh"][1]),
        beta_mh_final=float(params["beta_mh"][1]),
        lam_x=float(params["lam_x"]),
        lam_e=float(params["lam_e"]),
    )
    geo_e, geo_v, geo_d = [], [], []

    def record(step, nodes, edges, energy):
        g = Graphs(nodes.cpu().numpy(), edges.cpu().numpy())
        geo_e.append(float(_energies(model, g, data, device).mean()))
        geo_v.append(float(np.mean([mm is not None for mm in M.decode(g.nodes, g.edges, atoms)])))
        geo_d.append(float(hamming_distance(g, gb).mean()))

    def term_at(step):
        return hamming_term(gb, mu_max * step / max(steps - 1, 1), n_atom, n_bond, device=device)

    nodes, edges = _to_torch(ga, device)
    S.mixing(
        model,
        nodes,
        edges,
        schedule,
        n_atom=n_atom,
        n_bond=n_bond,
        generator=torch_gen("geo-mh"),
        term_at=term_at,
        record=record,
    )
    out["geo_energy"] = ("geo_step", np.asarray(geo_e))
    out["geo_validity"] = ("geo_step", np.asarray(geo_v))
    out["geo_distance"] = ("geo_step", np.asarray(geo_d))
    out["interp_start_distance"] = ((), float(hamming_distance(ga, gb).mean()))
    log(
        f"interpolation: tau-path E {np.round(out['interp_energy'][1], 2).tolist()}, validity "
        f"{np.round(out['interp_validity'][1], 2).tolist()}; geodesic d_H {geo_d[0]:.1f} -> {geo_d[-1]:.1f}"
    )
    return out

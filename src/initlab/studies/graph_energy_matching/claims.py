"""Claims G1–G12 of the GEM brief (§4), gated on the ``init = uniform`` arm, plus report-only
entries: the same checks on the ``marginal`` arm (never measured in the reference), the metric
floors of real test molecules, connectivity, VUN, composition at λ = 0.25, the energy switch
rule, interpolation, and the contrastive fine-tune when it was run.

Results: ``results["gem"]`` with dims (init, seed, ...) from `experiment.run`; ``stage`` is one of
noise_graphs, transport, mixing, real_test; sample metrics (G3–G8) use the transport + mixing
samples (stage ``mixing``). Values are means over seeds. Two-sided or compound conditions of the
brief (G1, G10, G12) are split into two rows each, so every row has one threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import xarray as xr

from initlab.claims import Claim, Measurement, Threshold, at_least, at_most

__all__ = ["CLAIMS", "GATED_ARM"]

#: The arm whose numbers the verdicts use (brief §4); the other is report-only.
GATED_ARM = "uniform"
REPORT_ARM = "marginal"

Results = Mapping[str, xr.Dataset]


def _arm(results: Results, init: str, experiment: str = "gem") -> xr.Dataset:
    if experiment not in results:
        raise ValueError(f"experiment {experiment!r} was not run")
    ds = results[experiment]
    if init not in ds["init"].values:
        raise ValueError(f"{experiment}: no run with init={init}")
    return ds.sel(init=init)


def _mean(da: xr.DataArray) -> float:
    if "seed" in da.dims:
        da = da.dropna("seed", how="all")
    if da.size == 0 or bool(da.isnull().all()):
        raise ValueError(f"{da.name}: not measured (all NaN)")
    return float(da.mean())


def _stage(ds: xr.Dataset, var: str, stage: str) -> float:
    return _mean(ds[var].sel(stage=stage))


# --- measurements (each takes the arm's dataset) ---------------------------------------------


def _g1(ds):
    auc = _mean(ds["energy_auc"])
    return Measurement(
        auc,
        f"E_data {_mean(ds['e_data'].mean('graph')):.2f} ± {_mean(ds['e_data'].std('graph')):.2f}, "
        f"E_noise {_mean(ds['e_noise'].mean('graph')):.2f} ± {_mean(ds['e_noise'].std('graph')):.2f}",
    )


def _g1b(ds):
    gap = _mean(ds["e_data"].mean("graph") - ds["e_noise"].mean("graph"))
    return Measurement(gap, "mean E_data − mean E_noise over 512 + 512 graphs")


def _g2(ds):
    rho = _mean(ds["tau_spearman"])
    energies = ds["tau_energy"].mean("seed").values
    return Measurement(
        rho,
        "mean E at τ = " + ", ".join(f"{t:g}: {e:.2f}" for t, e in zip(ds["tau"].values, energies)),
    )


def _metric(var: str, stage: str, extra: Callable | None = None):
    def measure(ds):
        value = _stage(ds, var, stage)
        try:
            detail = extra(ds) if extra else ""
        except (KeyError, ValueError) as exc:  # context only: never turns a number into a FAIL
            detail = f"(detail unavailable: {exc})"
        return Measurement(value, detail)

    return measure


def _g3_detail(ds):
    return (
        f"validity after transport {_stage(ds, 'validity', 'transport'):.3f}; "
        f"valid_connected {_stage(ds, 'valid_connected', 'mixing'):.3f}"
    )


def _fcd_detail(ds):
    return (
        f"transport only {_stage(ds, 'fcd', 'transport'):.2f}; "
        f"floor (512 real test molecules) {_stage(ds, 'fcd', 'real_test'):.2f}"
    )


def _nspdk_detail(ds):
    return (
        f"transport only {_stage(ds, 'nspdk', 'transport'):.4f}; "
        f"floor (real test molecules) {_stage(ds, 'nspdk', 'real_test'):.4f}"
    )


def _g9(ds):
    switch, final = _mean(ds["switch_energy_mean"]), _mean(ds["final_energy_mean"])
    return Measurement(
        final - switch, f"mean E at the switch {switch:.2f}, after mixing {final:.2f}"
    )


def _g10(ds):
    acc = _mean(ds["acceptance_mean"])
    return Measurement(acc, "mean MH acceptance over the mixing steps")


def _g11(ds):
    mix, tr = _stage(ds, "validity", "mixing"), _stage(ds, "validity", "transport")
    return Measurement(mix - tr, f"validity {tr:.3f} (transport) -> {mix:.3f} (+ mixing)")


def _comp(ds, lam):
    o = ds["comp_frac_O"].sel(lam=lam)
    v = ds["comp_validity"].sel(lam=lam)
    return _mean(o), _mean(v)


def _g12(ds):
    o0, v0 = _comp(ds, 0.0)
    o5, v5 = _comp(ds, 0.5)
    return Measurement(o5 - o0, f"O fraction {o0:.3f} (λ = 0) -> {o5:.3f} (λ = 0.5)")


def _g12b(ds):
    o0, v0 = _comp(ds, 0.0)
    o5, v5 = _comp(ds, 0.5)
    return Measurement(v0 - v5, f"validity {v0:.3f} (λ = 0) -> {v5:.3f} (λ = 0.5)")


#: (id, statement, quantity, threshold, measure) of the gated claims, brief §4.
GATED = [
    (
        "G1",
        "The energy separates data from noise.",
        "AUC of the score −E: 512 test graphs (positive) against 512 size-matched graphs from p₀",
        at_least(0.95),
        _g1,
    ),
    (
        "G1b",
        "Data graphs have lower energy than noise graphs.",
        "mean E(test graphs) − mean E(size-matched noise graphs)",
        Threshold("<", 0.0),
        _g1b,
    ),
    (
        "G2",
        "The energy is transport-aligned (it decreases along the noise-to-data path).",
        "Spearman ρ between τ ∈ {0, .25, .5, .75, 1} and the mean E over 128 noise→test "
        "interpolants",
        at_most(-0.9),
        _g2,
    ),
    (
        "G3",
        "The sampler produces valid molecules.",
        "validity (whole-molecule SanitizeMol) of 512 samples after 80 transport + 40 mixing steps",
        at_least(0.5),
        _metric("validity", "mixing", _g3_detail),
    ),
    (
        "G4",
        "Samples are diverse.",
        "uniqueness (distinct largest-fragment SMILES / valid), same samples",
        at_least(0.8),
        _metric("uniqueness", "mixing"),
    ),
    (
        "G5",
        "Samples are novel.",
        "novelty (distinct SMILES not in the training set / distinct), same samples",
        at_least(0.8),
        _metric("novelty", "mixing"),
    ),
    (
        "G6",
        "The noise itself is not valid.",
        "validity of the 512 initial noise graphs",
        at_most(0.05),
        _metric("validity", "noise_graphs"),
    ),
    (
        "G7",
        "Samples match the data distribution (chemistry).",
        "FCD (fcd_torch) of the valid samples' largest fragments against 5,000 test SMILES",
        at_most(10.0),
        _metric("fcd", "mixing", _fcd_detail),
    ),
    (
        "G8",
        "Samples match the data distribution (graphs).",
        "NSPDK MMD² (EDeN, complexity 4, linear kernel) of the valid samples against 2,000 test graphs",
        at_most(0.06),
        _metric("nspdk", "mixing", _nspdk_detail),
    ),
    (
        "G9",
        "Mixing stays in low energy.",
        "mean E after mixing − mean E at the switch",
        at_most(0.0),
        _g9,
    ),
    (
        "G10",
        "MH is well tuned (acceptance not too low).",
        "mean MH acceptance over the 40 mixing steps",
        at_least(0.2),
        _g10,
    ),
    (
        "G10b",
        "MH is well tuned (acceptance not too high).",
        "mean MH acceptance over the 40 mixing steps",
        at_most(0.9),
        _g10,
    ),
    (
        "G11",
        "Mixing does not harm validity.",
        "validity(transport + mixing) − validity(transport)",
        at_least(-0.05),
        _g11,
    ),
    (
        "G12",
        "A composition term steers a property.",
        "O fraction among sampled atoms at λ = 0.5 on −#O minus that at λ = 0 (256 vs 512 samples)",
        at_least(0.08),
        _g12,
    ),
    (
        "G12b",
        "Composition steering keeps validity.",
        "validity at λ = 0 minus validity at λ = 0.5 on −#O",
        at_most(0.15),
        _g12b,
    ),
]


def _on(arm: str, measure, experiment: str = "gem"):
    return lambda results: measure(_arm(results, arm, experiment))


def _marginal_twin(cid, statement, quantity, threshold, measure) -> Claim:
    def measure_twin(results):
        m = measure(_arm(results, REPORT_ARM))
        holds = "meets" if threshold.holds(m.value) else "misses"
        return Measurement(
            m.value, f"{holds} the gated threshold {threshold}; {m.detail}".rstrip("; ")
        )

    return Claim(
        f"{cid}-marginal",
        f"[marginal noise, never measured in the reference] {statement}",
        quantity,
        None,
        measure_twin,
        init=REPORT_ARM,
    )


# --- report-only entries of the uniform arm --------------------------------------------------


def _report(var, stage):
    return lambda ds: Measurement(_stage(ds, var, stage))


def _lam025(ds):
    o, v = _comp(ds, 0.25)
    return Measurement(o, f"validity {v:.3f}")


def _energy_switch(ds):
    counts = ds["energy_switch_counts"].mean("seed")
    n = float(counts.sum())
    parts = ", ".join(f"{r}: {c:.0f}" for r, c in zip(ds["switch_rule"].values, counts.values))
    stuck = ds["switch_counts"].mean("seed")
    main = ", ".join(f"{r}: {c:.0f}" for r, c in zip(ds["switch_rule"].values, stuck.values))
    return Measurement(
        float(counts.sel(switch_rule="energy")) / n,
        f"switch=energy ({parts}; validity after mixing {_mean(ds['energy_switch_validity']):.3f}, "
        f"threshold Ē_data {_mean(ds['energy_switch_threshold']):.2f}); switch=stuck ({main}, "
        f"mean transport steps {_mean(ds['transport_steps_used']):.1f})",
    )


def _interp(ds):
    e = ds["interp_energy"].mean("seed")
    inner = e.isel(interp_tau=slice(1, -1))
    noise = _mean(ds["e_noise"].mean("graph"))
    v = ds["interp_validity"].mean("seed")
    return Measurement(
        float(inner.max()) - noise,
        f"τ-path mean E {', '.join(f'{x:.2f}' for x in e.values)}; validity "
        f"{', '.join(f'{x:.2f}' for x in v.values)}; noise mean E {noise:.2f}",
    )


def _geodesic(ds):
    d = ds["geo_distance"].mean("seed")
    v = ds["geo_validity"].mean("seed")
    e = ds["geo_energy"].mean("seed")
    return Measurement(
        float(d.isel(geo_step=-1)),
        f"Hamming distance to G_b {float(d.isel(geo_step=0)):.1f} -> {float(d.isel(geo_step=-1)):.1f}; "
        f"mean validity along the path {float(v.mean()):.2f}; E {float(e.isel(geo_step=0)):.2f} -> "
        f"{float(e.isel(geo_step=-1)):.2f}, max {float(e.max()):.2f}",
    )


def _training(ds):
    it = _mean(ds["iterations_done"])
    loss = ds["loss_T"].mean("seed").dropna("iter")
    return Measurement(
        float(loss.isel(iter=-1)),
        f"{it:.0f} iterations in {_mean(ds['train_seconds']):.0f} s; loss "
        f"{float(loss.isel(iter=0)):.3f} -> {float(loss.isel(iter=-1)):.3f}",
    )


def _finetune(var, stage):
    def measure(results):
        if "finetune" not in results:
            return Measurement(
                float("nan"), "the contrastive fine-tune was not run (configs/paper.yaml)"
            )
        before = _stage(_arm(results, GATED_ARM), var, stage)
        after = _stage(_arm(results, GATED_ARM, "finetune"), var, stage)
        return Measurement(after - before, f"{before:.3f} (transport only) -> {after:.3f} (+ CL)")

    return measure


REPORT = [
    (
        "R1",
        "Valid and connected after transport.",
        "valid_connected, transport only",
        _report("valid_connected", "transport"),
    ),
    (
        "R2",
        "Valid and connected after mixing.",
        "valid_connected, transport + mixing",
        _report("valid_connected", "mixing"),
    ),
    (
        "R3",
        "VUN after transport.",
        "#(valid ∧ unique ∧ novel) / #samples, transport only",
        _report("vun", "transport"),
    ),
    (
        "R4",
        "VUN after mixing.",
        "#(valid ∧ unique ∧ novel) / #samples, transport + mixing",
        _report("vun", "mixing"),
    ),
    (
        "R5",
        "Validity of transport-only samples.",
        "validity after 80 greedy steps",
        _report("validity", "transport"),
    ),
    (
        "R6",
        "Composition at λ = 0.25.",
        "O fraction among sampled atoms at λ = 0.25 on −#O",
        _lam025,
    ),
    (
        "R7",
        "The energy-based switch rule.",
        "fraction of 256 chains switched by E(G) ≤ Ē_data (the rest: stuck or T_tr)",
        _energy_switch,
    ),
    (
        "R8",
        "Interpolation stays below the noise energy.",
        "max mean E over the interior of the τ-path between test pairs minus mean E of noise graphs",
        _interp,
    ),
    (
        "R9",
        "Geodesic interpolation reaches the target.",
        "mean Hamming distance to G_b after mixing on E + μ d_H (μ 0 -> 2)",
        _geodesic,
    ),
    (
        "R10",
        "FCD floor of real molecules.",
        "FCD of 512 real test molecules against the 5,000-SMILES reference",
        _report("fcd", "real_test"),
    ),
    (
        "R11",
        "NSPDK floor of real molecules.",
        "NSPDK MMD² of 512 real test molecules against the 2,000 reference graphs",
        _report("nspdk", "real_test"),
    ),
    ("R12", "Transport training.", "final logged transport loss L_T", _training),
]

CLAIMS: list[Claim] = [
    Claim(cid, statement, quantity, threshold, _on(GATED_ARM, measure), init=GATED_ARM)
    for cid, statement, quantity, threshold, measure in GATED
]
CLAIMS += [
    Claim(cid, statement, quantity, None, _on(GATED_ARM, measure), init=GATED_ARM)
    for cid, statement, quantity, measure in REPORT
]
CLAIMS += [
    Claim(
        "R13",
        "The contrastive fine-tune (brief: it hurt at small scale).",
        "validity after mixing with CL minus without",
        None,
        _finetune("validity", "mixing"),
        init=GATED_ARM,
    ),
    Claim(
        "R14",
        "The contrastive fine-tune and connectivity.",
        "valid_connected after mixing with CL minus without",
        None,
        _finetune("valid_connected", "mixing"),
        init=GATED_ARM,
    ),
]
CLAIMS += [_marginal_twin(*row) for row in GATED]

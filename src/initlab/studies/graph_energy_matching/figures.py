"""Report figures of the GEM brief (§6), from the aggregated results (``results["gem"]``, dims as
in `claims`). Each entry of `FIGURES` returns a matplotlib Figure in the house style of
`initlab.plotting`; molecules are drawn with RDKit (`Draw.MolsToGridImage`) from the stored SMILES.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from initlab import plotting

__all__ = ["FIGURES", "PUBLISHED"]

Results = Mapping[str, xr.Dataset]
ARM_COLORS = {"uniform": "tab:blue", "marginal": "tab:orange"}

#: Published MOSES rows of brief §5 (not rerun): model, validity %, uniqueness %, novelty %,
#: FCD, VUN %, status.
PUBLISHED = [
    ("GEM fine-tuned (it 500)", None, None, None, 1.466, 94.03, "sourced (repo README)"),
    ("GEM released 25k set", None, None, None, 1.4136, 93.656, "unverified"),
    ("DiGress", 85.7, 100.0, 95.0, 1.19, None, "unverified"),
    ("DeFoG", 92.8, 99.9, 92.1, 1.95, None, "unverified"),
    ("DisCo", 88.3, 100.0, 97.7, 1.44, None, "unverified"),
    ("Cometh", 90.5, 99.9, 92.6, 1.27, None, "unverified"),
]


def _arms(results: Results) -> list[str]:
    return [str(a) for a in results["gem"]["init"].values]


def _numeric(ds: xr.Dataset) -> xr.Dataset:
    """The numeric variables of ``ds`` (means over seeds skip the SMILES and status strings)."""
    return ds[[v for v in ds.data_vars if ds[v].dtype.kind in "fiub"]]


def _seed0(da: xr.DataArray) -> xr.DataArray:
    return da.isel(seed=0) if "seed" in da.dims else da


def training_loss(results: Results):
    fig, ax = plotting.subplots(width=5.0)
    ds = results["gem"]
    for arm in _arms(results):
        loss = _seed0(ds["loss_T"].sel(init=arm)).dropna("iter")
        ax.plot(loss["iter"], loss, color=ARM_COLORS.get(arm), label=f"p₀ = {arm}")
    ax.set_xlabel("iteration")
    ax.set_ylabel("transport loss L_T (mean over 50 iterations)")
    ax.set_title("Transport loss per noise arm")
    ax.legend()
    return fig


def energy_histograms(results: Results):
    arms = _arms(results)
    fig, axes = plotting.subplots(1, len(arms), width=4.6, squeeze=False)
    ds = results["gem"]
    for ax, arm in zip(axes[0], arms):
        d = _seed0(ds.sel(init=arm))
        series = [
            ("test data", d["e_data"], "tab:green"),
            ("noise p₀", d["e_noise"], "tab:gray"),
            ("after transport", d["e_transport"], "tab:blue"),
            ("after mixing", d["e_mixing"], "tab:red"),
        ]
        values = np.concatenate([s[1].values[np.isfinite(s[1].values)] for s in series])
        bins = np.linspace(values.min(), values.max(), 50)
        for label, da, color in series:
            v = da.values[np.isfinite(da.values)]
            ax.hist(v, bins=bins, alpha=0.45, color=color, label=f"{label} ({v.mean():.1f})")
        ax.set_title(f"p₀ = {arm}: AUC(data vs noise) = {float(d['energy_auc']):.3f}")
        ax.set_xlabel("energy E_θ(G)")
        ax.set_ylabel("graphs")
        ax.legend(fontsize=7)
    return fig


def tau_energy(results: Results):
    fig, ax = plotting.subplots(width=4.6)
    ds = results["gem"]
    for arm in _arms(results):
        e = ds["tau_energy"].sel(init=arm).mean("seed")
        rho = float(ds["tau_spearman"].sel(init=arm).mean())
        ax.plot(e["tau"], e, "o-", color=ARM_COLORS.get(arm), label=f"p₀ = {arm} (ρ = {rho:.2f})")
    ax.set_xlabel("τ (0 = noise, 1 = test molecule)")
    ax.set_ylabel("mean energy of 128 interpolants")
    ax.set_title("Energy along the noise → data path")
    ax.legend()
    return fig


def sampler_trajectory(results: Results):
    fig, axes = plotting.subplots(1, 2, width=4.6)
    ds = results["gem"]
    for arm in _arms(results):
        d = _numeric(ds.sel(init=arm)).mean("seed")
        # steps are the union over arms: keep this arm's recorded ones (no gaps in its lines)
        d = d.isel(step=np.flatnonzero(np.isfinite(d["traj_energy"].values)))
        steps = d["step"].values
        color = ARM_COLORS.get(arm)
        axes[0].plot(steps, d["traj_validity"], "-", color=color, label=f"{arm}: validity")
        axes[0].plot(
            steps, d["traj_valid_connected"], "--", color=color, label=f"{arm}: valid & connected"
        )
        axes[0].plot(steps, d["traj_uniqueness"], ":", color=color, label=f"{arm}: uniqueness")
        axes[1].plot(steps, d["traj_energy"], "-", color=color, label=f"p₀ = {arm}")
        used = float(d["transport_steps_used"])
        for ax in axes:
            ax.axvline(used, color=color, lw=0.8, alpha=0.6)
    t_tr = float(ds["transport_steps"].max())
    for ax in axes:
        ax.axvline(t_tr, color="k", lw=1.0, ls="--")
        ax.set_xlabel("sampler step (transport, then mixing)")
    axes[0].set_ylabel("fraction of the samples")
    axes[0].set_title(
        f"Metrics along the sampler (dashed black: switch at T_tr = {t_tr:.0f})", fontsize=8
    )
    axes[0].legend(fontsize=6)
    axes[1].set_ylabel("mean energy")
    axes[1].set_title("Energy along the sampler (thin: mean switch step)", fontsize=8)
    axes[1].legend(fontsize=7)
    return fig


def composition(results: Results):
    fig, axes = plotting.subplots(1, 2, width=4.0)
    ds = results["gem"]
    for arm in _arms(results):
        d = _numeric(ds.sel(init=arm)).mean("seed")
        color = ARM_COLORS.get(arm)
        axes[0].plot(d["lam"], d["comp_frac_O"], "o-", color=color, label=f"p₀ = {arm}")
        axes[1].plot(d["lam"], d["comp_validity"], "o-", color=color, label=f"{arm}: validity")
        axes[1].plot(
            d["lam"],
            d["comp_valid_connected"],
            "s--",
            color=color,
            label=f"{arm}: valid & connected",
        )
    axes[0].axhline(0.16, color="k", lw=0.8, ls=":", label="data (≈ 0.16)")
    axes[0].set_ylabel("O fraction among sampled atoms")
    axes[1].set_ylabel("fraction of samples")
    for ax in axes:
        ax.set_xlabel("λ on −#O")
        ax.legend(fontsize=7)
    axes[0].set_title("Steering the O fraction")
    axes[1].set_title("Validity under steering")
    return fig


def _grid_image(smiles, legends, per_row, size=(150, 120)):
    from rdkit import Chem
    from rdkit.Chem import Draw

    mols = [Chem.MolFromSmiles(s) if s else None for s in smiles]
    mols = [m if m is not None else Chem.Mol() for m in mols]
    img = Draw.MolsToGridImage(mols, molsPerRow=per_row, subImgSize=size, legends=legends)
    return np.asarray(img)


def molecule_grid(results: Results):
    ds = results["gem"]
    arm = "uniform" if "uniform" in _arms(results) else _arms(results)[0]
    d = _seed0(ds.sel(init=arm))
    phases = [str(p) for p in d["phase"].values]
    fig, axes = plotting.subplots(len(phases), 1, width=9.0, height=4.0, squeeze=False)
    for ax, phase in zip(axes[:, 0], phases):
        smiles = [str(s) for s in d["grid_smiles"].sel(phase=phase).values]
        legends = [s if len(s) < 22 else s[:20] + "…" for s in smiles]
        legends = [s if s else "(invalid)" for s in legends]
        ax.imshow(_grid_image(smiles, legends, per_row=8))
        ax.set_axis_off()
        valid = np.mean([bool(s) for s in smiles])
        ax.set_title(f"p₀ = {arm}, after {phase}: first 24 samples ({valid:.0%} valid)")
    return fig


def interpolation_strip(results: Results):
    ds = results["gem"]
    arm = "uniform" if "uniform" in _arms(results) else _arms(results)[0]
    d = _seed0(ds.sel(init=arm))
    smiles = [str(s) for s in d["strip_smiles"].values]
    taus = d["interp_tau"].values
    energies = d["strip_energy"].values
    legends = [f"t={t:.1f}  E={e:.1f}" for t, e in zip(taus, energies)]
    fig, axes = plotting.subplots(
        2, 1, width=11.0, height=2.4, squeeze=False, gridspec_kw={"height_ratios": [1.3, 1.0]}
    )
    axes[0, 0].imshow(_grid_image(smiles, legends, per_row=len(smiles), size=(160, 150)))
    axes[0, 0].set_axis_off()
    axes[0, 0].set_title(f"τ-path between two test molecules (p₀ = {arm} model; blank = invalid)")
    ax = axes[1, 0]
    mean = ds["interp_energy"].sel(init=arm).mean("seed")
    ax.plot(taus, energies, "o-", label="this pair")
    ax.plot(taus, mean, "s--", label="mean over all pairs")
    ax.axhline(
        float(ds["e_noise"].sel(init=arm).mean()), color="tab:gray", ls=":", label="mean noise E"
    )
    ax.set_xlabel("τ")
    ax.set_ylabel("energy")
    ax.legend(fontsize=7)
    return fig


def metrics_table(results: Results):
    ds = results["gem"]
    cols = ["validity", "valid_connected", "uniqueness", "novelty", "vun", "fcd", "nspdk"]
    rows, labels = [], []
    for arm in _arms(results):
        for stage in ("transport", "mixing"):
            d = _numeric(ds.sel(init=arm, stage=stage)).mean("seed")
            rows.append([_fmt(float(d[c]), c) for c in cols] + ["this run, QM9 no-H"])
            labels.append(f"GEM-lite, p₀ {arm}, {stage}")
    d = _numeric(ds.sel(stage="real_test")).mean(["seed", "init"])
    rows.append([_fmt(float(d[c]), c) for c in cols] + ["floor, QM9 test set"])
    labels.append("real test molecules")
    for name, val, uniq, nov, fcd, vun, status in PUBLISHED:
        rows.append(
            [
                _pct(val),
                "–",
                _pct(uniq),
                _pct(nov),
                _pct(vun),
                "–" if fcd is None else f"{fcd:.2f}",
                "–",
                f"published (MOSES), not rerun; {status.split(' ')[0]}",
            ]
        )
        labels.append(name)
    fig, ax = plotting.subplots(width=12.0, height=0.3 * (len(rows) + 1))
    ax.set_axis_off()
    table = ax.table(
        cellText=rows,
        rowLabels=labels,
        colLabels=["valid", "valid & conn.", "unique", "novel", "VUN", "FCD", "NSPDK", "source"],
        loc="center",
        cellLoc="center",
        colWidths=[0.075] * len(cols) + [0.22],
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.scale(1.0, 1.2)
    ax.set_title(
        "Sample metrics (fractions) next to published MOSES rows (percent, not rerun)", fontsize=9
    )
    return fig


def _fmt(v: float, col: str) -> str:
    if not np.isfinite(v):
        return "–"
    return f"{v:.4f}" if col == "nspdk" else f"{v:.2f}" if col == "fcd" else f"{v:.3f}"


def _pct(v) -> str:
    return "–" if v is None else f"{v:.1f}%"


FIGURES = {
    "training_loss": training_loss,
    "energy_histograms": energy_histograms,
    "tau_energy": tau_energy,
    "sampler_trajectory": sampler_trajectory,
    "composition": composition,
    "molecule_grid": molecule_grid,
    "interpolation_strip": interpolation_strip,
    "metrics_table": metrics_table,
}

"""SGD in the saddle-to-saddle regime of deep linear networks (study ``dln_sgd``).

Reproduces *Stochastic Gradient Descent in the Saddle-to-Saddle Regime of Deep Linear Networks*,
Corlouer, Semler, Strang and Gietelink Oldenziel, arXiv:2604.06366 (2026), following the study
brief ``shared/studies/dln_sgd.md``.

Modules, in the order of the paper:
`teacher` (teacher T = U diag(s) V^T, online Gaussian data, and the paper-scale variants: other
spectra and the authors' finite whitened dataset), `initialization` (the ``init`` axis),
`network` (the deep linear network and its gradients), `algorithms` (SGD and GD on the full
network, vectorised over seeds), `diffusion` (the closed-form per-mode diffusion D_k),
`modes` (the aligned-balanced 1-D models: scalar SGD, the per-mode SDE, gradient flow),
`stationary` (the exact stationary density and the Boltzmann temperature tau_k),
`observables` (learning times, diffusion peaks, the sequential index), `design` (which points the
claims read), `experiment` (one sweep point to an `xarray.Dataset`), `claims` and `figures`.
"""

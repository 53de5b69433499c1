"""Scaled gradient descent for ill-conditioned low-rank matrix recovery (study ``scaled_gd``).

Reproduces *Scaled Gradient Descent for Ill-Conditioned Low-Rank Matrix Recovery with Optimal
Sampling Complexity*, Zhenxuan Li and Meng Huang, arXiv:2604.00060 (2026), following the study
brief ``shared/studies/scaled_gd.md``.

Modules: `problem` (ground truth and Gaussian sensing), `initialization`, `algorithms`
(ScaledGD, GD, RGD), `experiment` (one sweep point to an `xarray.Dataset`), `claims`, `figures`.
"""

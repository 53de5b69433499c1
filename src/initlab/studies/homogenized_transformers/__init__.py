"""Homogenized random Transformers and representation collapse (study ``homogenized_transformers``).

Reproduces *Homogenized Transformers*, Hugo Koubbi, Borjan Geshkovski and Philippe Rigollet,
arXiv:2604.01978 (2026), following the study brief ``shared/studies/homogenized_transformers.md``.
The paper's full text was not available; the model, its limits and the grid are the brief's
reconstruction (its section 2).

Modules, in the order of the brief:

`model`           the finite system (§2.1): attention-only multi-head layers whose Q, K, V are
                  drawn afresh per layer and head, shared by all tokens (the common noise);
                  direct and fast samplers; the per-token control; the clocks of §2.2.
`initialization`  token initialisations, the sweep axis ``init`` (§2.5).
`statistics`      collapse statistics and the collapse time T½ (§2.6).
`limits`          the homogenised limits (§2.3): the covariance C(X), the Gram drift, the limit
                  SDE (Euler–Maruyama with retraction) and the deterministic ODE (Heun) (§2.7).
`simplex`         the equiangular (simplex) reduction: p, q tables and the mean ODE (§2.4).
`experiment`      one sweep point -> `xarray.Dataset` (§3).
`claims`, `figures`  claims H1–H15 with report-only entries (§4) and figures F1–F7 (§6).
"""

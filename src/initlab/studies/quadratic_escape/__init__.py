"""Escape dynamics and implicit bias of one-pass SGD in quadratic networks (``quadratic_escape``).

Reproduces *Escape dynamics and implicit bias of one-pass SGD in overparameterized quadratic
networks*, Bocchi, Regimbeau, Lucibello, Saglietti and Cammarota, arXiv:2604.03068 (2026),
following the study brief ``shared/studies/quadratic_escape.md``. Only the abstract was
available; the overlap ODEs, the Hessian counts and every experiment are the brief's
reconstruction.

Modules, in the order of the paper's story:
`model` (the student-teacher network, its overlaps, closed-form moments and population error),
`initialization` (Gaussian students and the ODE's initial overlaps: the init axis),
`sgd` (the one-pass SGD simulator), `ode` (the overlap ODEs with the second-order term, the
plateau fixed point and the escape rate), `implicit_bias` (the conserved polar factor and the
closest zero-loss solution), `hessian` (the population-loss Hessian at the plateau and on the
solution manifold), `experiment` (one sweep point to an `xarray.Dataset`), `claims`, `figures`.
"""

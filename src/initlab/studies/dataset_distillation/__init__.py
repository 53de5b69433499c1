"""Dataset distillation encodes low-dimensional representations (study ``dataset_distillation``).

Reproduces the headline claims of *Dataset Distillation Efficiently Encodes Low-Dimensional
Representations from Gradient-Based Learning of Non-Linear Tasks*, Yuri Kinoshita, Naoki
Nishikawa and Taro Toyoizumi, arXiv:2603.14830 (2026), following the study brief
``shared/studies/dataset_distillation.md``. Only the abstract was available: the learner, the
distillation algorithm and the grid are the brief's reconstruction on Damian, Lee and
Soltanolkotabi's two-stage learner (COLT 2022).

Modules, in the order of the paper:
`teacher` (multi-index task y = g(Ux)), `learner` (two-stage width-L ReLU network),
`initialization` (the distilled points' starting values, the ``init`` axis), `distillation`
(gradient matching for stage 1, performance matching for stage 2, one-step DD, memory),
`alignment` (energy in span(U), principal angles), `experiment` (one sweep point to an
`xarray.Dataset`), `claims`, `figures`.

All arrays are `torch.Tensor` in float64 (brief §7: every reference number is float64).
"""

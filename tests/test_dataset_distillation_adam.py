"""dataset_distillation: our Adam against torch.optim.Adam (own file: building a torch optimizer
imports torch._dynamo, several seconds, which the study's jobs avoid)."""

from __future__ import annotations

import torch

from initlab.studies.dataset_distillation import distillation

F64 = torch.float64


def test_adam_matches_torch_optim_adam():
    gen = torch.Generator().manual_seed(6)
    target = torch.randn(5, 3, dtype=F64, generator=gen)
    start = torch.randn(5, 3, dtype=F64, generator=gen)
    ours, ref = start.clone().requires_grad_(True), start.clone().requires_grad_(True)
    opt_ours = distillation.Adam([ours], lr=0.05)
    opt_ref = torch.optim.Adam([ref], lr=0.05)
    for _ in range(25):
        for p, opt in ((ours, opt_ours), (ref, opt_ref)):
            opt.zero_grad()
            ((p - target) ** 4).sum().backward()
            opt.step()
    assert torch.allclose(ours, ref, rtol=1e-12, atol=1e-14)

"""dataset_distillation: teacher, learner and alignment against closed forms and autograd."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from initlab.studies.dataset_distillation import alignment, learner, teacher
from initlab.studies.dataset_distillation.initialization import (
    check_sizes,
    initial_points,
    parse_init,
)

F64 = torch.float64


def _u(r, d, seed=0):
    return torch.from_numpy(teacher.task_subspace(np.random.default_rng(seed), r, d))


def test_task_subspace_has_orthonormal_rows():
    u = _u(3, 20)
    assert u.shape == (3, 20)
    assert torch.allclose(u @ u.T, torch.eye(3, dtype=F64), atol=1e-12)


@pytest.mark.parametrize("r, d", [(5, 4), (2, 1)])
def test_teacher_with_more_directions_than_inputs_is_rejected(r, d):
    with pytest.raises(ValueError, match=r"intrinsic dimension r=\d+ exceeds the input dimension"):
        teacher.task_subspace(np.random.default_rng(0), r, d)


def test_link_values_and_variance():
    z = torch.tensor([[1.0, 2.0], [0.0, 0.0]], dtype=F64)
    expected = torch.tensor([(0 + 3) / math.sqrt(2) + 2.0, -2 / math.sqrt(2)], dtype=F64)
    assert torch.allclose(teacher.link(z), expected)
    _, y = teacher.sample(np.random.default_rng(1), _u(2, 10), 200_000)
    assert abs(float(y.var()) - teacher.variance(2)) < 0.05  # Var(y) = 3 at r = 2
    assert abs(float(y.mean())) < 0.02


def test_relative_mse_of_the_mean_is_one_and_of_the_truth_zero():
    y = torch.randn(1000, dtype=F64)
    assert teacher.relative_mse(torch.full_like(y, float(y.mean())), y) == pytest.approx(1.0)
    assert teacher.relative_mse(y, y) == 0.0


def test_energy_fraction_is_one_inside_the_span_and_r_over_d_on_random_rows():
    r, d = 2, 40
    u = _u(r, d)
    inside = torch.randn(7, r, dtype=F64) @ u
    assert alignment.energy_fraction(inside, u) == pytest.approx(1.0, abs=1e-12)
    rng = np.random.default_rng(3)
    draws = [
        alignment.energy_fraction(torch.from_numpy(rng.standard_normal((8, d))), u)
        for _ in range(400)
    ]
    # E[e] = r/d exactly; the mean of 400 draws has standard error ~0.002 here
    assert np.mean(draws) == pytest.approx(alignment.chance_energy(r, d), abs=0.006)
    orthogonal = torch.randn(5, d, dtype=F64)
    orthogonal = orthogonal - orthogonal @ u.T @ u
    assert alignment.energy_fraction(orthogonal, u) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="all-zero"):
        alignment.energy_fraction(torch.zeros(3, d, dtype=F64), u)


def test_max_principal_angle_matches_scipy():
    u = _u(2, 12)
    rng = np.random.default_rng(4)
    for _ in range(5):
        m = torch.from_numpy(rng.standard_normal((6, 12)))
        vh = torch.linalg.svd(m, full_matrices=False)[2][:2]
        expected = np.degrees(scipy.linalg.subspace_angles(vh.T.numpy(), u.T.numpy()).max())
        assert alignment.max_principal_angle_deg(m, u) == pytest.approx(expected, abs=1e-6)
    assert alignment.max_principal_angle_deg(torch.randn(4, 2, dtype=F64) @ u, u) == pytest.approx(
        0.0, abs=1e-5
    )


def test_symmetric_init_is_mirrored_and_the_network_starts_at_zero():
    w0, a = learner.symmetric_init(np.random.default_rng(0), 16, 5)
    assert torch.equal(w0[:8], w0[8:]) and torch.allclose(w0.norm(dim=1), torch.ones(16, dtype=F64))
    assert torch.equal(a[:8], -a[8:]) and float(a[0]) == 1 / 16
    x = torch.randn(30, 5, dtype=F64)
    assert torch.allclose(torch.relu(x @ w0.T) @ a, torch.zeros(30, dtype=F64))
    with pytest.raises(ValueError, match="even width"):
        learner.symmetric_init(np.random.default_rng(0), 7, 5)


@pytest.mark.parametrize("mirrored", [True, False])
def test_first_layer_gradient_equals_autograd_of_the_loss(mirrored):
    """grad_W (1/2n) sum (f_W(x) - y)^2 at W0, f = sum a_j relu(w_j.x): autograd of relu gives the
    hard gate; the mirrored fast path must agree with it as well as the generic one."""
    rng = np.random.default_rng(5)
    w0, a = learner.symmetric_init(rng, 12, 6)
    if not mirrored:
        w0 = w0 + 0.1 * torch.from_numpy(rng.standard_normal(w0.shape))
    x = torch.from_numpy(rng.standard_normal((50, 6)))
    y = torch.from_numpy(rng.standard_normal(50))
    w = w0.clone().requires_grad_(True)
    loss = 0.5 * ((torch.relu(x @ w.T) @ a - y) ** 2).mean()
    (auto,) = torch.autograd.grad(loss, w)
    if mirrored:  # f = 0 at the symmetric init, so the residual is -y
        assert torch.allclose(learner.first_layer_gradient(w0, a, x, y), auto, atol=1e-14)
    else:  # f != 0 off the symmetric init: the formula is the gradient with residual -y
        w = w0.clone().requires_grad_(True)
        (auto0,) = torch.autograd.grad(-(y * (torch.relu(x @ w.T) @ a)).mean(), w)
        assert torch.allclose(learner.first_layer_gradient(w0, a, x, y), auto0, atol=1e-14)


def test_ridge_head_matches_the_normal_equations():
    rng = np.random.default_rng(6)
    w1 = torch.from_numpy(rng.standard_normal((10, 4)))
    b = torch.from_numpy(rng.standard_normal(10))
    x = torch.from_numpy(rng.standard_normal((80, 4)))
    y = torch.from_numpy(rng.standard_normal(80))
    phi = torch.relu(x @ w1.T + b).numpy()
    lam = 1e-3
    expected = np.linalg.solve(phi.T @ phi / 80 + lam * np.eye(10), phi.T @ y.numpy() / 80)
    assert np.allclose(learner.ridge_head(w1, b, x, y, lam).numpy(), expected, atol=1e-10)


def test_kernel_ridge_head_is_the_regularised_interpolant():
    rng = np.random.default_rng(7)
    phi2 = torch.from_numpy(rng.standard_normal((5, 30)))
    y2 = torch.from_numpy(rng.standard_normal(5))
    head = learner.kernel_ridge_head(phi2, y2, 1e-4)
    k = phi2 @ phi2.T
    reg = 1e-4 * float(k.diagonal().mean())
    # phi2 head = K alpha = y2 - reg alpha: (nearly) interpolates S2
    alpha = torch.linalg.solve(k + reg * torch.eye(5, dtype=F64), y2)
    assert torch.allclose(phi2 @ head, y2 - reg * alpha, atol=1e-10)


def test_empty_or_odd_distilled_sets_are_rejected():
    w0, a = learner.symmetric_init(np.random.default_rng(0), 8, 3)
    b = torch.zeros(8, dtype=F64)
    empty = torch.zeros((0, 3), dtype=F64)
    one = torch.ones((1, 3), dtype=F64)
    with pytest.raises(ValueError, match="empty distilled set"):
        learner.train_on_distilled(w0, a, b, empty, one, torch.ones(1, dtype=F64), 1e-4)
    with pytest.raises(ValueError, match="empty distilled set"):
        learner.train_on_distilled(w0, a, b, one, empty, torch.ones(0, dtype=F64), 1e-4)
    for m1, m2 in [(0, 4), (3, 4), (4, 0)]:
        with pytest.raises(ValueError, match=f"m{1 if m2 else 2}={m1 if m2 else m2}"):
            check_sizes(m1, m2)


def test_initial_points_share_directions_across_gaussian_scales():
    x = torch.randn(100, 6, dtype=F64)
    y = torch.randn(100, dtype=F64)
    small = initial_points("gauss0.001", np.random.default_rng(1), 4, 3, x, y)
    big = initial_points("gauss1.0", np.random.default_rng(1), 4, 3, x, y)
    assert torch.allclose(small[0] * 1000, big[0]) and torch.equal(small[1], big[1])
    x1, x2, y2 = initial_points("real", np.random.default_rng(1), 4, 3, x, y)
    rows = {tuple(r.tolist()) for r in x}
    assert all(tuple(r.tolist()) in rows for r in torch.cat([x1, x2]))
    assert parse_init("gauss0.1") == ("gauss", 0.1)
    with pytest.raises(ValueError, match="unknown init"):
        parse_init("uniform")

"""Transport loss and training with checkpoints: a killed job resumes where it stopped (brief
§2.4, §3.1)."""

import numpy as np
import pytest
import torch

from initlab.studies.graph_energy_matching.energy import GEMLite
from initlab.studies.graph_energy_matching.interpolant import NoiseDistribution, sample_noise
from initlab.studies.graph_energy_matching.training import (
    TrainConfig,
    train,
    transport_batch,
    transport_loss,
    transport_objective,
)

A, B, N = 4, 4, 6
torch.set_num_threads(1)


def _train_set(n=64):
    rng = np.random.default_rng(0)
    noise = NoiseDistribution(
        "m", np.array([0.7, 0.1, 0.15, 0.05]), np.array([0.6, 0.3, 0.07, 0.03])
    )
    return sample_noise(rng, rng.integers(3, N + 1, size=n), noise, N)


def _model():
    torch.manual_seed(0)
    return GEMLite(A, B, N, hidden=16, edge_hidden=8, layers=1)


def _run(cfg, ckpt, on_iteration=None):
    data = _train_set()
    model = _model()
    noise = NoiseDistribution.uniform(A, B)
    rng = np.random.default_rng(1)
    history = train(
        model,
        transport_objective(data, noise, cfg, model, A, B, "cpu"),
        cfg,
        rng,
        checkpoint=ckpt,
        log=lambda s: None,
        on_iteration=on_iteration,
    )
    return model, history


class Killed(Exception):
    pass


def test_a_killed_training_job_resumes_from_its_checkpoint(tmp_path):
    cfg = TrainConfig(iterations=8, batch=16, wall_cap=0, log_every=2, checkpoint_every=3)
    reference, ref_hist = _run(cfg, tmp_path / "straight" / "transport.pt")

    def kill_at_5(it):
        if it == 5:
            raise Killed

    ckpt = tmp_path / "killed" / "transport.pt"
    with pytest.raises(Killed):
        _run(cfg, ckpt, on_iteration=kill_at_5)
    state = torch.load(ckpt, weights_only=False)
    assert state["iteration"] == 3  # the last checkpoint before the kill
    resumed, hist = _run(cfg, ckpt)
    assert hist["resumed_from"] == 3 and hist["iterations_done"] == 8
    for p, q in zip(reference.parameters(), resumed.parameters()):
        assert torch.equal(p, q)
    assert hist["loss"] == ref_hist["loss"] and hist["iter"] == ref_hist["iter"]
    # a finished checkpoint is reused without training again
    again, hist2 = _run(cfg, ckpt)
    assert hist2["resumed_from"] == 8 and hist2["stopped_by"] == "iterations"


def test_a_checkpoint_of_other_settings_is_refused(tmp_path):
    ckpt = tmp_path / "transport.pt"
    _run(TrainConfig(iterations=2, batch=8, wall_cap=0, log_every=1), ckpt)
    with pytest.raises(RuntimeError, match="other training settings"):
        _run(TrainConfig(iterations=2, batch=8, lr=1.0e-3, wall_cap=0, log_every=1), ckpt)


def test_transport_loss_is_zero_when_minus_grad_e_is_the_velocity():
    """A linear energy whose gradient equals -(onehot(G1) - onehot(G0)) has zero loss."""
    data = _train_set(8)
    rng = np.random.default_rng(2)
    gt, g0, g1 = transport_batch(rng, data, NoiseDistribution.uniform(A, B), 8, A, B)
    from initlab.studies.graph_energy_matching.graphs import one_hot

    X0, E0, _ = one_hot(g0.nodes, g0.edges, A, B)
    X1, E1, _ = one_hot(g1.nodes, g1.edges, A, B)

    class Target(torch.nn.Module):
        def forward(self, X, E, mask):
            # dE/dX = -(X1 - X0); the symmetrised dE/dE = -(E1 - E0)
            return -((X1 - X0) * X).sum((1, 2)) - ((E1 - E0) * E).sum((1, 2, 3))

    loss = transport_loss(Target(), gt, g0, g1, A, B)
    assert float(loss) == pytest.approx(0.0, abs=1e-12)
    assert float(transport_loss(_model(), gt, g0, g1, A, B).detach()) > 0.1


def test_wall_cap_stops_training_and_is_recorded(tmp_path):
    cfg = TrainConfig(iterations=10_000, batch=8, wall_cap=0.3, log_every=1000)
    _, hist = _run(cfg, None)
    assert hist["stopped_by"] == "wall_cap" and 0 < hist["iterations_done"] < 10_000


def test_our_adam_matches_torch_optim_adam():
    from initlab.studies.graph_energy_matching.training import Adam

    torch.manual_seed(3)
    w0 = torch.randn(5, 3)
    target = torch.randn(5, 3)
    a = w0.clone().requires_grad_(True)
    b = w0.clone().requires_grad_(True)
    ours, ref = Adam([a], lr=0.05), torch.optim.Adam([b], lr=0.05)
    for _ in range(20):
        for w, opt in ((a, ours), (b, ref)):
            opt.zero_grad()
            ((w - target) ** 3).abs().sum().backward()
            opt.step()
    assert torch.allclose(a, b, atol=1e-6)

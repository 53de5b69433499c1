"""The two-phase sampler (brief §2.6): greedy transport and DLP + Metropolis-Hastings mixing,
checked on an energy that is linear in the one-hots, where every quantity has a closed form."""

import itertools
import math

import numpy as np
import torch
from torch import nn

from initlab.studies.graph_energy_matching import sampler as S

A, B = 2, 2
torch.set_num_threads(1)
NODE_W = torch.tensor([0.3, -0.4])  # a[k]: energy of a node of class k
EDGE_W = torch.tensor([0.0, -0.7])  # c[k]: energy of a pair of class k


class LinearEnergy(nn.Module):
    """E(G) = sum_i a[x_i] + sum_{i<j} c[e_ij] (the one-hot E holds both ij and ji)."""

    def forward(self, X, E, mask):
        pair = mask[:, :, None] & mask[:, None, :]
        return (X * NODE_W).sum((1, 2)) + 0.5 * ((E * EDGE_W) * pair[..., None]).sum((1, 2, 3))


def _energy(nodes, edge):
    return float(NODE_W[list(nodes)].sum() + EDGE_W[edge])


def _state(nodes, edge, b=1):
    n = torch.tensor([list(nodes)] * b)
    e = torch.tensor([[[0, edge], [edge, 0]]] * b)
    return n, e


def test_greedy_transport_reaches_the_minimum_then_is_stuck():
    model = LinearEnergy()
    nodes, edges = _state((0, 0), 0)
    out_n, out_e, info = S.transport(model, nodes, edges, steps=10, n_atom=A, n_bond=B)
    # three downhill edits (two nodes 0 -> 1, the edge 0 -> 1), then no first-order decrease
    assert out_n.tolist() == [[1, 1]] and out_e[0, 0, 1] == 1 and out_e[0, 1, 0] == 1
    assert info["switch_rule"].tolist() == [S.SWITCH_RULES.index("stuck")]
    assert info["switch_step"].tolist() == [3]
    assert float(info["energy"]) == _energy((1, 1), 1)
    # the edge move is scored with the symmetrised gradient c/2 per ordered pair, so the first
    # edit is a node (|Δ| = 0.7) rather than the edge (|Δ| = 0.35)
    one = S.transport(model, nodes, edges, steps=1, n_atom=A, n_bond=B)
    assert one[0].tolist() == [[1, 0]] and one[1][0, 0, 1] == 0
    assert one[2]["switch_rule"].tolist() == [S.SWITCH_RULES.index("max_steps")]


def test_energy_switch_fires_below_the_threshold():
    model = LinearEnergy()
    nodes, edges = _state((0, 0), 0, b=2)
    _, _, info = S.transport(
        model, nodes, edges, steps=10, n_atom=A, n_bond=B, switch="energy", energy_threshold=0.0
    )
    # energies along the path: 0.6, -0.1 (switch at step 1), ...
    assert info["switch_rule"].tolist() == [S.SWITCH_RULES.index("energy")] * 2
    assert info["switch_step"].tolist() == [1, 1]


def _hand_log_q(cur_nodes, cur_edge, new_nodes, new_edge, beta, lam):
    """log q(G'|G) by hand: DLP logits with the constant gradients a (nodes) and c/2 (edge)."""
    total = 0.0
    for x, y in zip(cur_nodes, new_nodes):
        logits = [-beta * (NODE_W[k] - NODE_W[x]) - lam * (k != x) for k in range(A)]
        total += float(logits[y] - torch.logsumexp(torch.tensor(logits), 0))
    logits = [-beta * (EDGE_W[k] - EDGE_W[cur_edge]) / 2 - lam * (k != cur_edge) for k in range(B)]
    total += float(logits[new_edge] - torch.logsumexp(torch.tensor(logits), 0))
    return total


def test_mh_log_acceptance_matches_the_hand_computed_ratio():
    beta_prop, beta_mh, lam = 2.0, 3.0, 1.5
    cur, new = ((0, 1), 0), ((1, 1), 1)
    nodes, edges = _state(*cur)
    new_nodes, new_edges = _state(*new)
    model = LinearEnergy()
    e0, gX0, gE0 = S.evaluate(model, nodes, edges, A, B)
    e1, gX1, gE1 = S.evaluate(model, new_nodes, new_edges, A, B)
    kw = {"beta_prop": beta_prop, "lam_x": lam, "lam_e": lam}
    fwd = S.proposal_log_prob(gX0, gE0, nodes, edges, new_nodes, new_edges, **kw)
    rev = S.proposal_log_prob(gX1, gE1, new_nodes, new_edges, nodes, edges, **kw)
    got = float(S.mh_log_accept(e0, e1, fwd, rev, beta_mh))
    hand_fwd = _hand_log_q(*cur, *new, beta_prop, lam)
    hand_rev = _hand_log_q(*new, *cur, beta_prop, lam)
    hand = -beta_mh * (_energy(*new) - _energy(*cur)) + hand_rev - hand_fwd
    assert math.isclose(float(fwd), hand_fwd, abs_tol=1e-6)
    assert math.isclose(got, hand, abs_tol=1e-5)
    # worked numbers: E = 0.3 - 0.4 + 0 = -0.1 -> E' = -0.4 - 0.4 - 0.7 = -1.5
    assert math.isclose(_energy(*cur) - _energy(*new), 1.4, abs_tol=1e-6)


def test_mh_acceptance_rate_equals_its_expectation_over_the_proposal():
    beta_prop, beta_mh, lam = 1.0, 2.0, 0.5
    cur = ((1, 0), 1)
    expected = 0.0
    for x0, x1, e in itertools.product(range(A), range(A), range(B)):
        new = ((x0, x1), e)
        log_q = _hand_log_q(*cur, *new, beta_prop, lam)
        log_alpha = (
            -beta_mh * (_energy(*new) - _energy(*cur))
            + _hand_log_q(*new, *cur, beta_prop, lam)
            - log_q
        )
        expected += math.exp(log_q) * min(1.0, math.exp(log_alpha))
    chains = 20000
    nodes, edges = _state(*cur, b=chains)
    model = LinearEnergy()
    state = (nodes, edges, *S.evaluate(model, nodes, edges, A, B))
    gen = torch.Generator().manual_seed(0)
    _, accept = S.mixing_step(
        model,
        state,
        beta_prop=beta_prop,
        beta_mh=beta_mh,
        lam_x=lam,
        lam_e=lam,
        n_atom=A,
        n_bond=B,
        generator=gen,
    )
    rate = float(accept.float().mean())
    assert 0.05 < expected < 0.95
    assert abs(rate - expected) < 4 * math.sqrt(expected * (1 - expected) / chains)


def test_mixing_keeps_graphs_well_formed_and_a_linear_term_shifts_the_energy():
    model = LinearEnergy()
    nodes, edges = _state((0, 0), 0, b=64)
    nodes = torch.cat([nodes, torch.full((64, 1), -1)], 1)  # one padding node
    edges = torch.nn.functional.pad(edges, (0, 1, 0, 1), value=-1)
    term = S.LinearTerm(torch.zeros(1, 3, A), torch.zeros(1, 3, 3, B))
    term.bx[..., 1] = 5.0  # penalise class 1
    sched = S.MixingSchedule(steps=30, beta_prop=1.0, beta_mh_init=1.0, beta_mh_final=5.0)
    out_n, out_e, energy, acc = S.mixing(
        model,
        nodes,
        edges,
        sched,
        n_atom=A,
        n_bond=B,
        generator=torch.Generator().manual_seed(1),
        term=term,
    )
    assert torch.all(out_n[:, 2] == -1) and torch.all(out_e[:, 2, :] == -1)
    assert torch.equal(out_e, out_e.transpose(1, 2))
    assert torch.all(torch.diagonal(out_e[:, :2, :2], dim1=1, dim2=2) == 0)
    assert acc.shape == (30,) and np.all((acc >= 0) & (acc <= 1))
    # with the +5 penalty class 1 nodes are rare; the reported energy includes the term
    assert float((out_n[:, :2] == 1).float().mean()) < 0.2
    exact = torch.tensor([_energy(n[:2].tolist(), int(e[0, 1])) for n, e in zip(out_n, out_e)])
    exact += 5.0 * (out_n[:, :2] == 1).sum(1)
    assert torch.allclose(energy, exact, atol=1e-5)


class CoupledEnergy(nn.Module):
    """A non-linear energy: the linear one plus κ·(#class-1 nodes)·[bond]. Its gradient changes
    from state to state, so an MH ratio that scored the reverse move with the forward state's
    gradient (instead of G''s own, brief §2.6 pitfall) would leave the wrong distribution."""

    kappa = 1.2

    def forward(self, X, E, mask):
        ones = (X[..., 1] * mask).sum(1)
        return LinearEnergy()(X, E, mask) + self.kappa * ones * E[:, 0, 1, 1]


def _coupled_energy(nodes, edge):
    return _energy(nodes, edge) + CoupledEnergy.kappa * sum(nodes) * edge


def test_mixing_leaves_the_boltzmann_distribution_invariant_for_a_nonlinear_energy():
    # start every chain from exp(-β E) itself; exact MH keeps it there after any number of steps
    beta = 1.5
    states = list(itertools.product(range(A), range(A), range(B)))
    energies = torch.tensor([_coupled_energy((x0, x1), e) for x0, x1, e in states])
    target = torch.softmax(-beta * energies, 0)
    chains = 40000
    gen = torch.Generator().manual_seed(3)
    idx = torch.multinomial(target, chains, replacement=True, generator=gen)
    table = torch.tensor(states)
    nodes = table[idx, :2]
    e = table[idx, 2]
    edges = torch.zeros(chains, 2, 2, dtype=torch.long)
    edges[:, 0, 1] = edges[:, 1, 0] = e
    model = CoupledEnergy()
    state = (nodes, edges, *S.evaluate(model, nodes, edges, A, B))
    for _ in range(6):
        state, _ = S.mixing_step(
            model, state, beta_prop=2.0, beta_mh=beta, lam_x=0.3, lam_e=0.3,
            n_atom=A, n_bond=B, generator=gen,
        )  # fmt: skip
    code = state[0][:, 0] * A * B + state[0][:, 1] * B + state[1][:, 0, 1]
    freq = torch.bincount(code, minlength=len(states)).double() / chains
    sd = torch.sqrt(target * (1 - target) / chains).double()
    assert torch.all((freq - target.double()).abs() < 5 * sd + 1e-3), (freq, target)

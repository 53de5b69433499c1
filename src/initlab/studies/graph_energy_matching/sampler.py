"""The two-phase sampler: greedy transport, an energy-based switch, then DLP + Metropolis–Hastings
mixing (brief §2.6). Vectorised over the batch; labels are torch tensors on the model's device.

State: ``nodes`` (b, n) long (-1 padding) and ``edges`` (b, n, n) long (symmetric, 0 on the
diagonal, -1 for padding pairs), as in `graphs`. Gradients g = (∂E/∂X, sym ∂E/∂E) come from
`energy.energy_and_grad`; a first-order change of coordinate k from its current class to c is
Δ = g_k[c] − g_k[cur] (edges use the symmetrised g on i<j, brief §2.6).

Phase (i), transport ("simple_ver2"): each step applies, per graph, the single node or edge change
with the most negative Δ. A chain switches to phase (ii) when it is stuck (no Δ < 0), when it
reaches T_tr steps, or (``switch="energy"``) as soon as E(G) <= Ē_data. Switched chains wait; the
mixing phase starts for all chains after the transport loop.

Phase (ii), mixing: a factorised discrete-Langevin proposal (Zhang, Liu & Liu 2022) with logits
ℓ(c) = −β_prop(g[c] − g[cur]) − λ·1{c≠cur} per node and per i<j edge (ℓ(cur) = 0, a stay option);
every coordinate is drawn independently, q(G'|G) = Π softmax(ℓ). The move is accepted with
probability min(1, exp(−β_MH[E(G') − E(G)]) · q(G|G')/q(G'|G)), the reverse logits taken at G' with
its own gradient. β_MH rises linearly from β_init to β_final over the run. The official redraw of
an empty proposal (β, λ × 0.9) is not implemented (brief: "official only").

An optional `LinearTerm` adds Σ_i b_X[i, x_i] + Σ_{i<j} b_E[ij, e_ij] to the energy in both phases
(composition, Hamming distance to a target; `steering`); it is linear in the one-hots, so its
gradient is exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from initlab.studies.graph_energy_matching.energy import energy_and_grad, pair_mask
from initlab.studies.graph_energy_matching.graphs import one_hot

__all__ = [
    "LinearTerm",
    "MixingSchedule",
    "SWITCH_RULES",
    "evaluate",
    "mh_log_accept",
    "mixing",
    "mixing_step",
    "proposal_log_prob",
    "proposal_logits",
    "transport",
]

#: Codes of the rule that ended a chain's transport phase.
SWITCH_RULES = ("stuck", "max_steps", "energy")


@dataclass
class LinearTerm:
    """An energy term linear in the one-hots: ``bx`` (b or 1, n, A), ``be`` (b or 1, n, n, B)
    (symmetric; only i<j of real nodes counts)."""

    bx: torch.Tensor
    be: torch.Tensor

    def take(self, rows: torch.Tensor) -> LinearTerm:
        """The term for a subset of the batch (a shared term is returned as is)."""
        bx = self.bx if self.bx.shape[0] == 1 else self.bx[rows]
        be = self.be if self.be.shape[0] == 1 else self.be[rows]
        return LinearTerm(bx, be)

    def energy(self, X: torch.Tensor, E: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        upper = torch.triu(pair_mask(mask).to(X.dtype), 1)
        return (X * self.bx).sum((1, 2)) + (E * self.be * upper[..., None]).sum((1, 2, 3))


@dataclass
class MixingSchedule:
    """DLP + MH settings (quick: β_prop 2, β_MH 1 -> 10 over the run, λ_X = λ_E = 3)."""

    steps: int = 40
    beta_prop: float = 2.0
    beta_mh_init: float = 1.0
    beta_mh_final: float = 10.0
    ramp_steps: int | None = None  # None: over the whole run
    lam_x: float = 3.0
    lam_e: float = 3.0

    def beta_mh(self, step: int) -> float:
        ramp = self.steps if self.ramp_steps is None else self.ramp_steps
        frac = 1.0 if ramp <= 1 else min(1.0, step / (ramp - 1))
        return self.beta_mh_init + frac * (self.beta_mh_final - self.beta_mh_init)


def evaluate(model, nodes, edges, n_atom: int, n_bond: int, term: LinearTerm | None = None):
    """``(energy (b,), gX (b, n, A), gE (b, n, n, B))`` of label tensors, with ``term`` added."""
    X, E, mask = one_hot(nodes, edges, n_atom, n_bond, device=nodes.device)
    energy, gX, gE = energy_and_grad(model, X, E, mask)
    if term is not None:
        energy = energy + term.energy(X, E, mask)
        gX = gX + term.bx * mask[..., None]
        gE = gE + term.be * pair_mask(mask)[..., None]
    return energy, gX, gE


def _deltas(g: torch.Tensor, cur: torch.Tensor) -> torch.Tensor:
    """Δ[..., c] = g[..., c] − g[..., cur] (padding labels -1 read class 0; masked by callers)."""
    return g - g.gather(-1, cur.clamp(min=0)[..., None])


def transport(
    model,
    nodes: torch.Tensor,
    edges: torch.Tensor,
    *,
    steps: int,
    n_atom: int,
    n_bond: int,
    term: LinearTerm | None = None,
    switch: str = "stuck",
    energy_threshold: float | None = None,
    record: Callable | None = None,
):
    """Greedy steepest-descent transport, one edit per graph per step (phase i).

    Returns ``(nodes, edges, info)`` with ``info = {"switch_step": (b,) int, "switch_rule": (b,)
    int index into SWITCH_RULES, "energy": (b,) final energy}``. ``record(step, nodes, edges,
    energy)`` is called before every step and after the last.
    """
    if switch not in ("stuck", "energy"):
        raise ValueError(f"switch must be 'stuck' or 'energy', got {switch!r}")
    if switch == "energy" and energy_threshold is None:
        raise ValueError("switch='energy' needs energy_threshold (the mean data energy)")
    nodes, edges = nodes.clone(), edges.clone()
    b, n = nodes.shape
    device = nodes.device
    active = torch.ones(b, dtype=torch.bool, device=device)
    switch_step = torch.full((b,), steps, dtype=torch.long, device=device)
    switch_rule = torch.full((b,), SWITCH_RULES.index("max_steps"), dtype=torch.long, device=device)
    upper = torch.triu(torch.ones(n, n, dtype=torch.bool, device=device), 1)
    energy = None
    for step in range(steps + 1):
        # only chains still in phase (i) are evaluated: switched chains no longer change
        rows = active.nonzero().squeeze(1)
        cur_n, cur_e = nodes[rows], edges[rows]
        e_act, gX, gE = evaluate(
            model, cur_n, cur_e, n_atom, n_bond, None if term is None else term.take(rows)
        )
        energy = e_act.new_zeros(b) if energy is None else energy.clone()
        energy[rows] = e_act
        if record is not None:
            record(step, nodes, edges, energy)
        if step == steps:
            break
        moving = torch.ones(len(rows), dtype=torch.bool, device=device)
        if switch == "energy":
            low = e_act <= energy_threshold
            switch_step[rows[low]] = step
            switch_rule[rows[low]] = SWITCH_RULES.index("energy")
            moving &= ~low
        dX = _deltas(gX, cur_n)
        dX = dX.masked_fill(~(cur_n >= 0)[..., None], float("inf"))
        dX = dX.scatter(-1, cur_n.clamp(min=0)[..., None], float("inf"))
        dE = _deltas(gE, cur_e)
        valid_pair = (cur_e >= 0) & upper
        dE = dE.masked_fill(~valid_pair[..., None], float("inf"))
        dE = dE.scatter(-1, cur_e.clamp(min=0)[..., None], float("inf"))
        best, idx = torch.cat([dX.flatten(1), dE.flatten(1)], 1).min(1)
        stuck = moving & ~(best < 0)
        switch_step[rows[stuck]] = step
        switch_rule[rows[stuck]] = SWITCH_RULES.index("stuck")
        moving &= ~stuck
        active[rows[~moving]] = False
        node_move = moving & (idx < n * n_atom)
        r = rows[node_move]
        nodes[r, (idx // n_atom)[node_move]] = (idx % n_atom)[node_move]
        edge_move = moving & (idx >= n * n_atom)
        k = idx - n * n_atom
        ei, ej, ec = k // (n * n_bond), (k // n_bond) % n, k % n_bond
        r = rows[edge_move]
        edges[r, ei[edge_move], ej[edge_move]] = ec[edge_move]
        edges[r, ej[edge_move], ei[edge_move]] = ec[edge_move]
        if not bool(active.any()):
            if record is not None:
                record(steps, nodes, edges, energy)  # the state at the switch of the last chain
            break
    # `energy` is that of the returned graphs: no edit follows the last evaluation of a chain.
    info = {"switch_step": switch_step, "switch_rule": switch_rule, "energy": energy}
    return nodes, edges, info


def proposal_logits(
    g: torch.Tensor, cur: torch.Tensor, beta_prop: float, lam: float
) -> torch.Tensor:
    """DLP logits ℓ(c) = −β_prop(g[c] − g[cur]) − λ·1{c≠cur}, shape of ``g``."""
    C = g.shape[-1]
    moved = torch.nn.functional.one_hot(cur.clamp(min=0), C).to(g.dtype)
    return -beta_prop * _deltas(g, cur) - lam * (1.0 - moved)


def _log_q(logits: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Σ over valid coordinates of log softmax(logits)[label], per graph (b,)."""
    logp = torch.log_softmax(logits, -1).gather(-1, labels.clamp(min=0)[..., None]).squeeze(-1)
    return (logp * valid).flatten(1).sum(1)


def mh_log_accept(
    energy_old: torch.Tensor,
    energy_new: torch.Tensor,
    log_q_forward: torch.Tensor,
    log_q_reverse: torch.Tensor,
    beta_mh: float,
) -> torch.Tensor:
    """log of the MH acceptance ratio, −β_MH(E' − E) + log q(G|G') − log q(G'|G) (b,)."""
    return -beta_mh * (energy_new - energy_old) + log_q_reverse - log_q_forward


def proposal_log_prob(
    gX, gE, nodes, edges, new_nodes, new_edges, *, beta_prop: float, lam_x: float, lam_e: float
) -> torch.Tensor:
    """log q(G'|G) (b,) of the factorised DLP proposal at G = (nodes, edges) with gradients
    (gX, gE), over real nodes and i<j pairs of real nodes."""
    n = nodes.shape[1]
    upper = torch.triu(torch.ones(n, n, dtype=torch.bool, device=nodes.device), 1)
    valid_pair = (edges >= 0) & upper
    lx = proposal_logits(gX, nodes, beta_prop, lam_x)
    le = proposal_logits(gE, edges, beta_prop, lam_e)
    return _log_q(lx, new_nodes, nodes >= 0) + _log_q(le, new_edges, valid_pair)


def mixing_step(
    model,
    state: tuple,
    *,
    beta_prop: float,
    beta_mh: float,
    lam_x: float,
    lam_e: float,
    n_atom: int,
    n_bond: int,
    generator: torch.Generator,
    term: LinearTerm | None = None,
):
    """One DLP proposal + MH test for every chain.

    ``state = (nodes, edges, energy, gX, gE)`` at the current graphs; returns the new state and
    the accepted flags (b,) bool.
    """
    nodes, edges, energy, gX, gE = state
    b, n = nodes.shape
    device = nodes.device
    mask = nodes >= 0
    upper = torch.triu(torch.ones(n, n, dtype=torch.bool, device=device), 1)
    valid_pair = (edges >= 0) & upper

    def draw(logits):
        u = torch.rand(logits.shape, generator=generator, device=device).clamp_(1e-20, 1.0)
        return (logits - torch.log(-torch.log(u))).argmax(-1)

    new_nodes = torch.where(mask, draw(proposal_logits(gX, nodes, beta_prop, lam_x)), nodes)
    drawn = draw(proposal_logits(gE, edges, beta_prop, lam_e))
    drawn = torch.where(valid_pair, drawn, torch.zeros_like(drawn))
    new_edges = torch.where(edges >= 0, drawn + drawn.transpose(1, 2), edges)
    proposal = {"beta_prop": beta_prop, "lam_x": lam_x, "lam_e": lam_e}
    log_fwd = proposal_log_prob(gX, gE, nodes, edges, new_nodes, new_edges, **proposal)
    energy_new, gX_new, gE_new = evaluate(model, new_nodes, new_edges, n_atom, n_bond, term)
    # the reverse move G' -> G is scored with the proposal at G' (its own gradient)
    log_rev = proposal_log_prob(gX_new, gE_new, new_nodes, new_edges, nodes, edges, **proposal)
    log_alpha = mh_log_accept(energy, energy_new, log_fwd, log_rev, beta_mh)
    u = torch.rand(b, generator=generator, device=device).clamp_(1e-20, 1.0)
    accept = torch.log(u) < log_alpha
    a1, a2, a3 = accept[:, None], accept[:, None, None], accept[:, None, None, None]
    state = (
        torch.where(a1, new_nodes, nodes),
        torch.where(a2, new_edges, edges),
        torch.where(accept, energy_new, energy),
        torch.where(a2, gX_new, gX),
        torch.where(a3, gE_new, gE),
    )
    return state, accept


def mixing(
    model,
    nodes: torch.Tensor,
    edges: torch.Tensor,
    schedule: MixingSchedule,
    *,
    n_atom: int,
    n_bond: int,
    generator: torch.Generator,
    term: LinearTerm | None = None,
    term_at: Callable[[int], LinearTerm] | None = None,
    record: Callable | None = None,
):
    """``schedule.steps`` DLP + MH steps (phase ii). Returns ``(nodes, edges, energy,
    acceptance (steps,) numpy)``; ``record(step, nodes, edges, energy)`` is called before the
    first step and after each. ``term_at(step)`` replaces ``term`` when the term changes along
    the run (the geodesic interpolation's μ ramp)."""
    current = term_at(0) if term_at is not None else term
    energy, gX, gE = evaluate(model, nodes, edges, n_atom, n_bond, current)
    state = (nodes.clone(), edges.clone(), energy, gX, gE)
    if record is not None:
        record(0, state[0], state[1], state[2])
    acceptance = np.zeros(schedule.steps)
    for step in range(schedule.steps):
        if term_at is not None and step > 0:
            current = term_at(step)
            energy, gX, gE = evaluate(model, state[0], state[1], n_atom, n_bond, current)
            state = (state[0], state[1], energy, gX, gE)
        state, accept = mixing_step(
            model,
            state,
            beta_prop=schedule.beta_prop,
            beta_mh=schedule.beta_mh(step),
            lam_x=schedule.lam_x,
            lam_e=schedule.lam_e,
            n_atom=n_atom,
            n_bond=n_bond,
            generator=generator,
            term=current,
        )
        acceptance[step] = accept.float().mean().item()
        if record is not None:
            record(step + 1, state[0], state[1], state[2])
    return state[0], state[1], state[2], acceptance

"""The claims contract: a paper's statement, a number measured from results, and a verdict.

A study lists its claims in ``initlab.studies.<study>.claims.CLAIMS``. Each `Claim` holds a
function of the study's aggregated results (a mapping from experiment name to `xarray.Dataset`,
see `initlab.results.load_study`) that returns the measured number. `evaluate` turns the claims
into rows of ``claims.csv``; the verdict is computed here and nowhere else.

Verdicts: ``PASS`` (the measured value satisfies the threshold), ``FAIL`` (it does not, it is not
finite, or it could not be measured: the reason is kept in ``detail``), ``REPORT`` (a report-only
entry with no threshold).
"""

from __future__ import annotations

import math
import operator
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import pandas as pd
import xarray as xr

__all__ = [
    "COLUMNS",
    "Claim",
    "Measurement",
    "Threshold",
    "at_least",
    "at_most",
    "evaluate",
    "stack",
]

#: Columns of claims.csv: the DESIGN contract first, then what the report shows besides.
COLUMNS = [
    "study",
    "claim_id",
    "statement",
    "measured",
    "threshold",
    "verdict",
    "quantity",
    "detail",
    "init",
]

_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


@dataclass(frozen=True)
class Threshold:
    """``measured <op> value``, e.g. ``Threshold("<=", 1.3)``."""

    op: str
    value: float

    def __post_init__(self):
        if self.op not in _OPS:
            raise ValueError(f"threshold operator must be one of {sorted(_OPS)}, got {self.op!r}")

    def holds(self, measured: float) -> bool:
        return math.isfinite(measured) and bool(_OPS[self.op](measured, self.value))

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


def at_most(value: float) -> Threshold:
    return Threshold("<=", value)


def at_least(value: float) -> Threshold:
    return Threshold(">=", value)


@dataclass(frozen=True)
class Measurement:
    """What a claim's ``measure`` function may return instead of a bare float."""

    value: float
    detail: str = ""


Results = Mapping[str, xr.Dataset]


@dataclass(frozen=True)
class Claim:
    """One checkable statement of a paper.

    Parameters
    ----------
    id : short id from the study brief (``"S1"``, ``"R2"``).
    statement : the paper's statement, one sentence, in our words.
    quantity : how the number is measured, precise enough to recompute it by hand.
    threshold : the pass condition, or ``None`` for a report-only entry.
    measure : ``results -> float | Measurement``, computed from the run's own results only.
    init : the initialisation scheme(s) the claim is about, for the report's init section.
    """

    id: str
    statement: str
    quantity: str
    threshold: Threshold | None
    measure: Callable[[Results], float | Measurement]
    init: str | None = None


def _measure(claim: Claim, results: Results) -> Measurement:
    try:
        out = claim.measure(results)
    except Exception as exc:  # noqa: BLE001 - a claim that cannot be measured is a FAIL, with why
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"
        return Measurement(math.nan, f"could not be measured: {type(exc).__name__}: {exc} ({where})")
    if isinstance(out, Measurement):
        return Measurement(float(out.value), out.detail)
    return Measurement(float(out))


def evaluate(study: str, claims: Iterable[Claim], results: Results) -> pd.DataFrame:
    """Measure every claim on ``results`` and return the claims table (columns `COLUMNS`)."""
    rows = []
    seen = set()
    for claim in claims:
        if claim.id in seen:
            raise ValueError(f"{study}: claim id {claim.id!r} is declared twice")
        seen.add(claim.id)
        m = _measure(claim, results)
        if claim.threshold is None:
            verdict = "REPORT"
        else:
            verdict = "PASS" if claim.threshold.holds(m.value) else "FAIL"
        rows.append(
            {
                "study": study,
                "claim_id": claim.id,
                "statement": claim.statement,
                "measured": m.value,
                "threshold": "" if claim.threshold is None else str(claim.threshold),
                "verdict": verdict,
                "quantity": claim.quantity,
                "detail": m.detail,
                "init": claim.init or "",
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def stack(tables: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """All studies' claims tables as one, in the given order."""
    tables = list(tables)
    if not tables:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(tables, ignore_index=True)[COLUMNS]

"""The claims contract: verdicts computed from results, FAIL kept visible, columns fixed."""

import math

import pandas as pd
import pytest
import xarray as xr

from initlab.claims import COLUMNS, Claim, Measurement, Threshold, at_least, at_most, evaluate, stack

DATA = {"exp": xr.Dataset({"x": ("seed", [1.0, 2.0, 4.0])})}


def _claim(id, threshold, measure, init=None):
    return Claim(id, f"statement {id}", f"quantity {id}", threshold, measure, init=init)


def test_verdicts_follow_the_threshold_and_the_measured_value():
    table = evaluate(
        "toy",
        [
            _claim("max", at_most(4.0), lambda r: r["exp"]["x"].max()),
            _claim("mean", at_least(3.0), lambda r: r["exp"]["x"].mean()),
            _claim("rep", None, lambda r: Measurement(r["exp"]["x"].min(), "min over seeds"), init="spectral"),
        ],
        DATA,
    )
    assert list(table.columns) == COLUMNS
    assert table["verdict"].tolist() == ["PASS", "FAIL", "REPORT"]
    assert table["measured"].tolist() == pytest.approx([4.0, 7 / 3, 1.0])
    assert table["threshold"].tolist() == ["<= 4", ">= 3", ""]
    assert table.loc[2, "detail"] == "min over seeds" and table.loc[2, "init"] == "spectral"


def test_nan_and_unmeasurable_claims_fail_with_the_reason():
    table = evaluate(
        "toy",
        [
            _claim("nan", at_most(1.0), lambda r: math.nan),
            _claim("missing", at_least(0.0), lambda r: r["absent_experiment"]["x"].max()),
        ],
        DATA,
    )
    assert table["verdict"].tolist() == ["FAIL", "FAIL"]
    assert math.isnan(table.loc[1, "measured"])
    assert "KeyError" in table.loc[1, "detail"] and "absent_experiment" in table.loc[1, "detail"]


def test_threshold_operators_and_bad_operator():
    assert Threshold("<", 1.0).holds(0.5) and not Threshold("<", 1.0).holds(1.0)
    assert Threshold(">", 1.0).holds(2.0) and not Threshold(">=", 1.0).holds(math.inf * 0)
    with pytest.raises(ValueError, match="operator"):
        Threshold("==", 1.0)


def test_duplicate_claim_ids_are_refused():
    c = _claim("S1", None, lambda r: 0.0)
    with pytest.raises(ValueError, match="twice"):
        evaluate("toy", [c, c], DATA)


def test_stack_keeps_columns_and_order():
    a = evaluate("a", [_claim("1", None, lambda r: 1.0)], DATA)
    b = evaluate("b", [_claim("2", None, lambda r: 2.0)], DATA)
    both = stack([a, b])
    assert both["study"].tolist() == ["a", "b"] and list(both.columns) == COLUMNS
    assert stack([]).empty and list(stack([]).columns) == COLUMNS
    roundtrip = pd.read_csv(pd.io.common.StringIO(both.to_csv(index=False)))
    assert roundtrip["measured"].tolist() == [1.0, 2.0]

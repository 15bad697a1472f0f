"""Issue 11: verdicts from the function, not from one node.

Every right value is derived by hand in a comment (or with mpmath at 50 digits), never
taken from adcompare's own output. The CLI is run in-process (`adcompare.cli.main`).
"""

import json

import pytest

from adcompare import trace
from adcompare.cli import main


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def gradient(report, method):
    return [float(d) for d in report.results[method].jacobian[0]]


# ----------------------------------------------------------------------------- constants are constants

@pytest.mark.parametrize("expression, at, derivative", [
    # x + relu(0) = x + 0: d/dx = 1; relu(0) depends on no variable, so it is no kink.
    ("x+relu(0)", 1.0, 1.0),
    # x^(1+1) = x²: d/dx = 2x = −4 at −2; the exponent 1+1 is a constant, so no ln(−2).
    ("x^(1+1)", -2.0, -4.0),
    # x + sqrt(0·1) = x: d/dx = 1; √0's infinite partial is never used, 0·1 is constant.
    ("x+sqrt(0*1)", 2.0, 1.0),
    # x·max(1, 1) = x: the tie is between two constants.
    ("x*max(1,1)", 3.0, 1.0),
])
def test_constant_subexpressions_are_folded_before_any_back_end(capsys, expression, at, derivative):
    report = trace(expression, at=[at])
    for method in ("finite_difference", "symbolic", "forward", "reverse"):
        assert gradient(report, method) == pytest.approx([derivative], rel=1e-8), method
    code, out, _ = cli(capsys, "trace", expression, "--at", str(at))
    assert code == 0 and out.rstrip().endswith("Verdict: all 4 methods agree.")


def test_a_folded_constant_is_still_a_row_of_the_trace(capsys):
    code, out, _ = cli(capsys, "trace", "x^(1+1)", "--at", "-2")
    assert "v₁  = 1 + 1  = 1 + 1   = 2" in out and "v₂  = v₀^v₁  = (−2)^2  = 4" in out


def test_an_undefined_constant_is_bad_input(capsys):
    # sqrt(−1) depends on no variable: f is undefined everywhere.
    code, _, err = cli(capsys, "trace", "x+sqrt(0-1)", "--at", "1")
    assert code == 2 and "sqrt needs a non-negative argument" in err and err.count("\n") == 1

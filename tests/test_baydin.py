"""Golden test: Baydin et al. (JMLR 2018) Tables 2 and 3, f = ln(x1) + x1·x2 − sin(x2) at (2, 5).

Expected rows are transcribed by hand from the paper (see shared/reference/baydin-tables.md),
in adcompare's columns: name | = definition | [= local] | = with values | = value.
Where the paper writes 1/2 we write "1 / 2"; where it writes "10.693 + 0.959" (silently
substituting −sin 5 = +0.959) we require the unambiguous "10.693 − (−0.959)". Values
the paper leaves unevaluated (ln 2, 2 × 5, sin 5) we require rounded to 3 decimals.
"""

import math
import re

import mpmath
import pytest

import adcompare
from baydin_tables import BAYDIN, TABLE_2_PRIMAL, TABLE_2_TANGENT_X1, TABLE_3_ADJOINT
from adcompare.render.traces import table_3_order
from adcompare.render.text import render_report, trace_text


def cells(table_text):
    """A rendered table as rows of cells ('rule' for a rule between sections)."""
    lines = table_text.splitlines()[1:-1]   # drop the top and bottom rules
    rows = []
    for line in lines:
        if set(line.replace(" ", "")) == {"-"}:
            rows.append("rule")
        else:
            rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


@pytest.fixture(scope="module")
def report():
    return adcompare.trace(BAYDIN, at=(2, 5))


def sweep(report, method, kind, seed):
    return next(s for s in report.results[method].sweeps if s.kind == kind and s.seed == seed)


def test_table_2_primal_trace(report):
    assert cells(trace_text(report.graph, report.primal, digits=3)) == TABLE_2_PRIMAL


def test_table_2_tangent_trace_for_x1(report):
    rows = sweep(report, "forward", "tangent", 0).rows
    assert cells(trace_text(report.graph, rows, digits=3)) == TABLE_2_TANGENT_X1


def test_table_3_adjoint_trace_with_fan_out_accumulation(report):
    rows = sweep(report, "reverse", "adjoint", 0).rows
    assert cells(trace_text(report.graph, table_3_order(rows), digits=3)) == TABLE_3_ADJOINT


def test_full_report_shows_both_tables_and_the_verdict(report):
    text = render_report(report)
    assert "v₅   = v₄ − v₃   = 10.693 − (−0.959)  = 11.652" in text
    assert "Verdict: all 4 methods agree." in text


def test_values_in_full_precision(report):
    # Independent references: math for the value, mpmath at 50 digits for 2 − cos 5.
    assert float(report.primal[-1].value) == math.log(2) + 10 - math.sin(5)
    with mpmath.workdps(50):
        exact_dx2 = 2 - mpmath.cos(5)
        for method in ("forward", "reverse"):
            gradient = report.results[method].jacobian[0]
            assert gradient[0] == 5.5
            assert abs(gradient[1] - exact_dx2) / exact_dx2 <= 1e-15
        symbolic = report.results["symbolic"].jacobian[0]
        assert abs(symbolic[0] - 5.5) < mpmath.mpf(10) ** -29
        assert abs(symbolic[1] - exact_dx2) < mpmath.mpf(10) ** -29


def test_first_adjoint_contribution_to_v0_is_minus_cos_5(report):
    rows = sweep(report, "reverse", "adjoint", 0).rows
    # Execution order: the row assigning v̄₀ from v̄₃ comes before the accumulation from v̄₂.
    v0_rows = [row for row in rows if row.target.kind == "vbar" and row.target.index == 1 and row.section == "body"]
    assert [row.local is not None for row in v0_rows] == [True, True]
    assert float(v0_rows[0].value) == -math.cos(5)
    assert float(v0_rows[1].value) == 2 - math.cos(5)


def test_agreement_within_issue_tolerances(report):
    comparison = report.comparison
    assert comparison.reference == "symbolic"
    assert comparison.agree
    for entry in comparison.entries:
        for check in entry.checks:
            limit = 1e-8 if check.method == "finite_difference" else 1e-12
            assert check.rel_error <= limit, (check.method, entry.variable, check.rel_error)


def test_symbolic_formulas_are_those_of_the_paper(report):
    import sympy
    x1, x2 = sympy.symbols("x1 x2", real=True)
    derivatives = report.results["symbolic"].details["derivatives"][0]
    assert sympy.simplify(derivatives[0] - (1 / x1 + x2)) == 0
    assert sympy.simplify(derivatives[1] - (x1 - sympy.cos(x2))) == 0


def test_cost_forward_needs_n_sweeps_reverse_needs_one(report):
    assert report.results["forward"].cost.sweeps == 2
    assert report.results["reverse"].cost.sweeps == 1
    # Central differences: f(x) plus two evaluations per input.
    assert report.results["finite_difference"].cost.primal_evaluations == 1 + 2 * 2

"""Long traces are summarised (issue 15): the first and last rows, the rows where something
happens (a kink, fan-out, the largest adjoints), a row saying how many are left out, and a
note; ``rows='all'`` shows every row. Only the rows shown are formatted, which is what keeps
rendering linear in the length of the trace: the tests count the rows built, not seconds.
"""

import re

import pytest

import adcompare
from adcompare.render import html as html_render
from adcompare.render import markdown
from adcompare.render.layout import EDGE_ROWS, ROW_LIMIT
from adcompare.render.text import render_report

TERMS = 150
# abs(x − 1) is at its kink at x = 1; x fans out to every term, so x̄ accumulates TERMS + 2
# contributions; 1000·sin(y·x) has the largest adjoint of all nodes, 1000 (the product's).
LONG = "abs(x-1) + 1000*sin(y*x) + " + "+".join(f"sin(x*{i + 2})" for i in range(TERMS))


@pytest.fixture(scope="module")
def report():
    return adcompare.trace(LONG, at={"x": 1, "y": 0.5}, methods=("forward", "reverse"))


def _adjoint(report):
    return report.results["reverse"].sweeps[1]


def _lines(text):
    return text.splitlines()


def test_long_adjoint_trace_is_summarised_to_its_notable_rows(report):
    sweep = _adjoint(report)
    rows = sweep.rows
    assert len(rows) > ROW_LIMIT
    text = render_report(report, tables=["adjoint"])
    body = [line for line in _lines(text) if line.startswith(("v̄", "x̄", "ȳ", "⋮"))]
    shown = [line for line in body if not line.startswith("⋮")]
    assert EDGE_ROWS * 2 <= len(shown) <= EDGE_ROWS * 2 + 3 * 12
    # The gap rows account for every row left out.
    left_out = sum(int(m.replace(",", "")) for m in re.findall(r"⋮\s+([\d,]+) rows? not shown", text))
    assert left_out + len(shown) == len(rows)
    # The kink: the row of abs's contribution, v̄ of x − 1 times sign 0.
    assert any("× sign 0" in line for line in shown)
    # The largest adjoint: 1000, the product 1000·sin(y·x) passes to sin.
    assert any(line.rstrip().endswith("= 1000") for line in shown)
    # Fan-out: the last of x̄'s accumulations, whose value is x̄ itself, the gradient.
    x_bar = float(report.results["reverse"].jacobian[0][0])
    assert any(line.rstrip().endswith(f"= {x_bar:.3f}") and "v̄₋₁ + " in line for line in shown)
    assert f"{len(shown)} of {len(rows):,} rows shown" in text and "--rows all" in text


def test_only_the_rows_shown_are_built(report):
    sweep = adcompare.trace(LONG, at={"x": 1, "y": 0.5}, methods=("reverse",)).results["reverse"].sweeps[1]
    from adcompare.report import Report
    rendered = Report(report.graph, report.point, {"reverse": report.results["reverse"]}, report.primal,
                      report.comparison)
    rows = _adjoint(rendered).rows
    rows._cache.clear()
    render_report(rendered, tables=["adjoint"])
    assert 0 < len(rows._cache) <= 2 * EDGE_ROWS + 3 * 12 < len(rows)
    assert len(sweep.rows) == len(rows)


def test_rows_all_shows_every_row(report):
    text = render_report(report, tables=["adjoint"], rows="all")
    assert "not shown" not in text
    body = [line for line in _lines(text) if line.startswith(("v̄", "x̄", "ȳ"))]
    assert len(body) == len(_adjoint(report).rows)


def test_side_by_side_summary_keeps_table_3_alignment(report):
    text = markdown.render_report(report, tables=["table3"])
    rows = [line for line in _lines(text) if line.startswith("|")][2:]
    # The kink's primal row (v₁ = v₋₁ − 1 feeds |v₁|) and the seed's row (f̄) are there,
    # each adjoint row beside the primal row it comes from.
    seed = next(line for line in rows if "= f̄" in line)
    assert seed.split("|")[1].strip() == "f"
    assert any("not shown" in line for line in rows)
    assert "rows shown" in text


def test_short_traces_are_never_summarised():
    report = adcompare.trace("ln(x1)+x1*x2-sin(x2)", at=(2, 5))
    for render in (render_report, markdown.render_report, html_render.render_report):
        assert "not shown" not in render(report)


def test_many_inputs_show_one_tangent_trace_and_short_titles():
    n = 40
    report = adcompare.trace("+".join(f"x{i + 1}" for i in range(n)), at=[1.0] * n, methods=("forward",))
    text = render_report(report, tables=["tangent"])
    assert text.count("Forward tangent trace for") == 1
    assert "the other 39 tangents of the inputs = 0" in text
    assert "--wrt NAME" in text
    assert render_report(report, tables=["tangent"], rows="all").count("Forward tangent trace for") == n


def test_cli_rows_option(capsys):
    from adcompare.cli import main
    main(["trace", LONG, "--at", "x=1,y=0.5", "--methods", "reverse", "--table", "adjoint"])
    assert "rows not shown" in capsys.readouterr().out
    main(["trace", LONG, "--at", "x=1,y=0.5", "--methods", "reverse", "--rows", "all", "--table", "adjoint"])
    out = capsys.readouterr().out
    assert "not shown" not in out and out.count("\n") > ROW_LIMIT

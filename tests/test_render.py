"""Golden tests of the lecture formats — Markdown, LaTeX, HTML — on Baydin's example, and
the LaTeX document compiled by pdflatex.

Expected cells come from the hand transcription in baydin_tables.py (Unicode formats) or
are written here by hand in LaTeX; the side-by-side alignment of Table 3 (each adjoint row
on the line of the primal row it comes from) is the paper's.
"""

import html.parser
import re
import shutil
import subprocess

import pytest

import adcompare
from baydin_tables import BAYDIN, TABLE_2_PRIMAL, TABLE_2_TANGENT_X1, TABLE_3_ADJOINT
from adcompare.render import html as html_render
from adcompare.render import latex, markdown


@pytest.fixture(scope="module")
def report():
    return adcompare.trace(BAYDIN, at=(2, 5))


def _padded(row, width):
    """A transcribed row with blanks between the definition and the value."""
    return row[:-1] + [""] * (width - len(row)) + row[-1:]


def _rows(table):
    return [row for row in table if row != "rule"]


# Table 3 side by side: how many adjoint rows stand on the line of each primal row, as the
# paper prints it (x̄1 by v₋₁, x̄2 by v₀, the ln row by v₁, two rows by v₂, …, ȳ by y).
TABLE_3_ROWS_PER_PRIMAL_ROW = [1, 1, 1, 2, 1, 2, 2, 1]


def expected_table_2():
    return [_padded(p, 4) + _padded(t, 4) for p, t in zip(_rows(TABLE_2_PRIMAL), _rows(TABLE_2_TANGENT_X1))]


def expected_table_3():
    adjoint = iter(_rows(TABLE_3_ADJOINT))
    rows = []
    for primal_row, count in zip(_rows(TABLE_2_PRIMAL), TABLE_3_ROWS_PER_PRIMAL_ROW):
        for position in range(count):
            left = _padded(primal_row, 4) if position == 0 else [""] * 4
            rows.append(left + _padded(next(adjoint), 5))
    return rows


def markdown_tables(text):
    """Each Markdown table as (its title, body rows of cells, rows of blank cells marking
    the rules between sections as 'rule')."""
    tables = []
    title = ""
    for block in re.split(r"\n\s*\n", text):
        table = [line for line in block.splitlines() if line.startswith("|")]
        if len(table) < 2:
            title = block.strip("*") if block.startswith("**") else ""
            continue
        split = [[cell.strip().replace("\\|", "|") for cell in line.strip("|").split(" | ")] for line in table]
        tables.append((title, ["rule" if not any(row) else row for row in split[2:]]))
        title = ""
    return tables


def test_markdown_table_2_and_table_3(report):
    tables = markdown_tables(markdown.render_report(report, wrt="x1"))
    title, body = tables[0]
    # The titles stand above the tables, not in a column's header.
    assert title == "Forward primal trace (left) · Forward tangent trace for ∂/∂x₁ (ẋ₁ = 1, ẋ₂ = 0) (right)"
    assert [row for row in body if row != "rule"] == expected_table_2()
    assert [i for i, row in enumerate(body) if row == "rule"] == [2, 8]   # inputs | body | output
    title, body = tables[1]
    assert title.startswith("Forward primal trace (left) · Reverse adjoint trace for y")
    assert [row for row in body if row != "rule"] == expected_table_3()


def test_markdown_escapes_sympy_formulas_once():
    report = adcompare.trace("x^y", at=(2, 3), methods=("symbolic", "reverse"))
    text = markdown.render_report(report, tables=["symbolic"])
    # x**y*log(x) as Markdown must read x\*\*y\*log(x): one backslash before each star.
    assert r"x\*\*y\*log(x)" in text and "\\\\" not in text


# Written by hand in LaTeX from the paper's Table 2 (ẋ1 = 1).
LATEX_TABLE_2 = [
    "rule",
    [r"$v_{-1}$", r"$= x_{1}$", "", r"$= 2$", r"$\dot{v}_{-1}$", r"$= \dot{x}_{1}$", "", r"$= 1$"],
    [r"$v_{0}$", r"$= x_{2}$", "", r"$= 5$", r"$\dot{v}_{0}$", r"$= \dot{x}_{2}$", "", r"$= 0$"],
    "rule",
    [r"$v_{1}$", r"$= \ln v_{-1}$", r"$= \ln 2$", r"$= 0.693$",
     r"$\dot{v}_{1}$", r"$= \dot{v}_{-1} / v_{-1}$", r"$= 1 / 2$", r"$= 0.5$"],
    [r"$v_{2}$", r"$= v_{-1} \times v_{0}$", r"$= 2 \times 5$", r"$= 10$",
     r"$\dot{v}_{2}$", r"$= \dot{v}_{-1} \times v_{0} + \dot{v}_{0} \times v_{-1}$",
     r"$= 1 \times 5 + 0 \times 2$", r"$= 5$"],
    [r"$v_{3}$", r"$= \sin v_{0}$", r"$= \sin 5$", r"$= -0.959$",
     r"$\dot{v}_{3}$", r"$= \dot{v}_{0} \times \cos v_{0}$", r"$= 0 \times \cos 5$", r"$= 0$"],
    [r"$v_{4}$", r"$= v_{1} + v_{2}$", r"$= 0.693 + 10$", r"$= 10.693$",
     r"$\dot{v}_{4}$", r"$= \dot{v}_{1} + \dot{v}_{2}$", r"$= 0.5 + 5$", r"$= 5.5$"],
    [r"$v_{5}$", r"$= v_{4} - v_{3}$", r"$= 10.693 - \left(-0.959\right)$", r"$= 11.652$",
     r"$\dot{v}_{5}$", r"$= \dot{v}_{4} - \dot{v}_{3}$", r"$= 5.5 - 0$", r"$= 5.5$"],
    "rule",
    [r"$y$", r"$= v_{5}$", "", r"$= 11.652$", r"$\dot{y}$", r"$= \dot{v}_{5}$", "", r"$= 5.5$"],
    "rule",
]

# Written by hand in LaTeX from the paper's Table 3, right-hand side, in its alignment.
_E = ["", "", "", ""]
LATEX_TABLE_3_ADJOINT_SIDE = [
    [r"$\bar{x}_{1}$", r"$= \bar{v}_{-1}$", "", "", r"$= 5.5$"],
    [r"$\bar{x}_{2}$", r"$= \bar{v}_{0}$", "", "", r"$= 1.716$"],
    [r"$\bar{v}_{-1}$", r"$= \bar{v}_{-1} + \bar{v}_{1} \, \partial v_{1}/\partial v_{-1}$",
     r"$= \bar{v}_{-1} + \bar{v}_{1} / v_{-1}$", r"$= 5 + 1 / 2$", r"$= 5.5$"],
    [r"$\bar{v}_{0}$", r"$= \bar{v}_{0} + \bar{v}_{2} \, \partial v_{2}/\partial v_{0}$",
     r"$= \bar{v}_{0} + \bar{v}_{2} \times v_{-1}$", r"$= \left(-0.284\right) + 1 \times 2$", r"$= 1.716$"],
    [r"$\bar{v}_{-1}$", r"$= \bar{v}_{2} \, \partial v_{2}/\partial v_{-1}$", r"$= \bar{v}_{2} \times v_{0}$",
     r"$= 1 \times 5$", r"$= 5$"],
    [r"$\bar{v}_{0}$", r"$= \bar{v}_{3} \, \partial v_{3}/\partial v_{0}$", r"$= \bar{v}_{3} \times \cos v_{0}$",
     r"$= \left(-1\right) \times \cos 5$", r"$= -0.284$"],
    [r"$\bar{v}_{2}$", r"$= \bar{v}_{4} \, \partial v_{4}/\partial v_{2}$", r"$= \bar{v}_{4} \times 1$",
     r"$= 1 \times 1$", r"$= 1$"],
    [r"$\bar{v}_{1}$", r"$= \bar{v}_{4} \, \partial v_{4}/\partial v_{1}$", r"$= \bar{v}_{4} \times 1$",
     r"$= 1 \times 1$", r"$= 1$"],
    [r"$\bar{v}_{3}$", r"$= \bar{v}_{5} \, \partial v_{5}/\partial v_{3}$", r"$= \bar{v}_{5} \times \left(-1\right)$",
     r"$= 1 \times \left(-1\right)$", r"$= -1$"],
    [r"$\bar{v}_{4}$", r"$= \bar{v}_{5} \, \partial v_{5}/\partial v_{4}$", r"$= \bar{v}_{5} \times 1$",
     r"$= 1 \times 1$", r"$= 1$"],
    [r"$\bar{v}_{5}$", r"$= \bar{y}$", "", "", r"$= 1$"],
]


def latex_tables(text):
    """Each tabular as (spanning header line, rows of cells with 'rule' for \\hline)."""
    tables = []
    for body in re.findall(r"\\begin\{tabular\}\{[^}]*\}\n(.*?)\\end\{tabular\}", text, re.S):
        header, rows = None, []
        for line in body.splitlines():
            line = line.strip()
            if line == r"\hline":
                rows.append("rule")
            elif r"\multicolumn" in line:
                header = line
            else:
                rows.append([cell.strip() for cell in re.split(r"(?<!\\)&", line.removesuffix(r"\\"))])
        tables.append((header, rows))
    return tables


def test_latex_table_2(report):
    header, rows = latex_tables(latex.render_report(report, wrt="x1"))[0]
    assert header.startswith(r"\multicolumn{4}{l}{Forward primal trace} & \multicolumn{4}{l}{Forward tangent")
    assert rows[0] == "rule" and rows[1] == "rule"   # the top rule and the one under the heading
    assert rows[1:] == LATEX_TABLE_2


def test_latex_table_3_alignment(report):
    _, rows = latex_tables(latex.render_report(report, wrt="x1"))[1]
    body = [row for row in rows if row != "rule"]
    adjoint_side = [row[4:] for row in body]
    assert adjoint_side == LATEX_TABLE_3_ADJOINT_SIDE
    primal_names = [row[0] for row in body]
    assert primal_names == [r"$v_{-1}$", r"$v_{0}$", r"$v_{1}$", r"$v_{2}$", "", r"$v_{3}$", r"$v_{4}$", "",
                            r"$v_{5}$", "", r"$y$"]


def test_latex_names_and_escapes():
    report = adcompare.trace("theta2*w_out + x", at={"theta2": 1, "w_out": 2, "x": 3}, methods=("reverse",))
    text = latex.render_report(report)
    assert r"\theta_{2}" in text and r"w_{\mathit{out}}" in text
    assert r"\texttt{theta2*w\_out + x}" in text


class _Tables(html.parser.HTMLParser):
    """Collects each <table> as (header cells with colspans, tbody sections of rows of cells)."""

    def __init__(self):
        super().__init__()
        self.tables, self.cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "tbody":
            self.tables[-1][1].append([])
        elif tag == "tr" and self.tables and self.tables[-1][1]:
            self.tables[-1][1][-1].append([])
        elif tag in ("td", "th"):
            self.cell = [tag, dict(attrs).get("colspan", "1"), ""]

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[2] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            kind, span, text = self.cell
            if kind == "th":
                self.tables[-1][0].append((text.strip(), int(span)))
            else:
                self.tables[-1][1][-1][-1].append(text.strip())
            self.cell = None


def test_html_table_2_sections_and_cells(report):
    parser = _Tables()
    parser.feed(html_render.render_report(report, wrt="x1", standalone=True))
    header, sections = parser.tables[0]
    assert [span for _, span in header] == [4, 4]
    assert header[0][0] == "Forward primal trace"
    assert [len(section) for section in sections] == [2, 5, 1]   # rules between inputs, body, output
    assert [row for section in sections for row in section] == expected_table_2()
    _, sections = parser.tables[1]
    assert [row for section in sections for row in section] == expected_table_3()


def test_html_escapes_what_it_shows():
    report = adcompare.trace("abs(x) + x", at={"x": 1}, methods=("reverse",))
    page = html_render.render_report(report, standalone=True)
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "<td>= |v₀|</td>" in page


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed (Debian: texlive-latex-base)")
def test_standalone_latex_compiles_with_pdflatex(tmp_path):
    for name, expression, at in (("baydin", BAYDIN, (2, 5)),
                                 ("awkward", "abs(x)+relu(theta2)+sigmoid(w_out)*x^2+sqrt(pi)+max(x, e), x/theta2",
                                  {"x": 0, "theta2": -1.5, "w_out": 1e-7})):
        source = tmp_path / f"{name}.tex"
        source.write_text(latex.render_report(adcompare.trace(expression, at=at), standalone=True), encoding="utf-8")
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", source.name],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:]
        assert (tmp_path / f"{name}.pdf").stat().st_size > 1000


def test_notebook_display(report):
    assert report._repr_markdown_().count("**Forward primal trace (left)") == 3
    assert "<table>" in report._repr_html_()
    assert r"\begin{tabular}" in report._repr_latex_()
    drawing = report.drawing()
    assert drawing.dot.startswith("digraph")
    if shutil.which("dot") is not None:
        assert "<svg" in drawing._repr_svg_()
    else:
        assert drawing._repr_svg_() is None


def test_json_trace_rows_follow_table_2_in_full_precision(report):
    from adcompare.render.json import report_to_dict
    import math
    data = report_to_dict(report)
    rows = data["primal_trace"]
    expected = _rows(TABLE_2_PRIMAL)
    assert [row["name"] for row in rows] == [row[0] for row in expected]
    assert ["= " + row["definition"] for row in rows] == [row[1] for row in expected]
    # Values in full precision, from the math module (not rounded as the tables show them).
    assert [row["value"] for row in rows] == [2.0, 5.0, math.log(2), 10.0, math.sin(5), math.log(2) + 10,
                                              math.log(2) + 10 - math.sin(5), math.log(2) + 10 - math.sin(5)]
    tangent = data["methods"]["forward"]["trace"][1]
    assert tangent["kind"] == "tangent" and tangent["seed"] == 0
    assert [row["name"] for row in tangent["rows"]] == [row[0] for row in _rows(TABLE_2_TANGENT_X1)]

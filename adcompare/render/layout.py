"""What a report shows, in which order, as format-independent blocks.

A report is a sequence of `Table`s and `Note`s. A table's cells say what they hold — a
trace quantity, a formula, a rounded value, a sympy expression, a derivative name, plain
text — and each format (``text``, ``markdown``, ``latex``, ``html``) decides how to write
a cell and draw a table. So the content and order of a report are written once, here.

Two layouts of the traces: ``separate`` (one table per trace, for a terminal) and
``side_by_side`` (Baydin's layout: the primal trace beside each tangent trace, Table 2,
and beside each adjoint trace, Table 3, with every adjoint row on the line of the primal
row it comes from).
"""

from dataclasses import dataclass

import mpmath
from typing import Optional

from ..backends import METHOD_TITLES
from ..certified import MAX_DIGITS
from ..compare import side_words
from ..formula import Apply, PARTIAL, Var
from ..ops import Notation
from .style import expression_source

EXPLANATIONS = {
    "kink": "the point is a kink, where the derivative does not exist",
    "domain edge": "finite differences' base stencil leaves the domain here, so they used a smaller step "
                   "or a one-sided stencil",
    "overflow nearby": "f overflows within finite differences' base stencil (f is defined there, but an "
                       "operation's value is too large for a float), so they used a smaller step or a "
                       "one-sided stencil",
    "kink nearby": "finite differences' base stencil straddles a kink, so they used a smaller step or a "
                   "one-sided stencil",
    "pole nearby": "finite differences' base stencil straddles a pole, so they used a smaller step or a "
                   "one-sided stencil",
    "jump in slope nearby": "finite differences' base stencil straddles a jump in slope (a kink inside smooth "
                            "operations), so they used a smaller step or a one-sided stencil",
    "step too coarse": "the function changes faster than finite differences' step resolves (the step was too "
                       "coarse for it)",
    "rounding of f": "within finite differences' own error estimate, most of it the rounding error of f itself: "
                     "an ill-conditioned evaluation (a later operation magnifies an earlier rounding), which "
                     "the quotient divides by the step",
    "cancellation": "within the method's rounding bound: chain-rule terms of large size cancelled",
    "rounding": "within the first-order bound on the rounding error of the float program: "
                "rounding, not the method, makes the difference here",
    "finite-difference error": "the difference lies within finite differences' own error estimate "
                               "(try --fd-method richardson or complex-step)",
    "kink convention": "the function is differentiable here, but the method took a kink's conventional local "
                       "derivative, and that convention gives a wrong derivative at this point",
    "between the one-sided derivatives": "the function is not differentiable here, and the value lies between its "
                                         "one-sided derivatives (a subgradient, or a convention's choice)",
    "outside the one-sided derivatives": "the value lies outside the interval between the function's one-sided "
                                         "derivatives, where no convention or subgradient can be",
    "no finite derivative": "the function has no finite derivative here",
    "stencil across a kink": "finite differences' stencil is centred on a kink, where the function's slope is "
                             "continuous but not smooth: their error is of the order of the step, not of its square",
    "symbolic wrong": "sympy's derivative is wrong here; the high-precision numerical derivative of f agrees "
                      "with forward and reverse mode",
    "reference undecided": "sympy and this method disagree, and the high-precision numerical derivative of f "
                           "could not decide between them",
}
SOURCE_SHOWN = 200   # characters of the expression a report repeats


@dataclass(frozen=True)
class Cell:
    """One table cell. ``kind``: 'quantity' (a Var), 'formula', 'value' (rounded for
    reading), 'sympy', 'text', 'code' (expression source), 'exact' (a float in full
    precision) or 'reference' (a (value, method) pair from the cross-check)."""

    kind: str
    content: object
    equals: bool = False


BLANK = Cell("text", "")


@dataclass(frozen=True)
class Table:
    """A titled table: optional column headers or spanning group headers, and sections of
    rows (rules are drawn between sections)."""

    title: tuple
    sections: tuple
    headers: Optional[tuple] = None
    groups: tuple = ()          # (title parts, number of columns) spanning the columns
    reveal: tuple = ()          # for a build row by row: per row, the step revealing each cell (0: always)


@dataclass(frozen=True)
class View:
    """What a report shows. ``tables``: names from `TABLE_KINDS`, in order (None: the
    default, `DEFAULT_TABLES`); ``wrt``: one input's tangent trace only; ``columns``:
    'all' or 'paper' (exactly Baydin's columns); ``rows``: 'summary' (a long trace is
    summarised) or 'all'; ``side_by_side``: the traces as Baydin's Tables 2 and 3 (the
    format's default) rather than one table per trace."""

    tables: Optional[tuple] = None
    wrt: Optional[str] = None
    columns: str = "all"
    rows: str = "summary"
    side_by_side: bool = False


@dataclass(frozen=True)
class Note:
    """A line of prose; parts are strings or Cells."""

    parts: tuple


ROW_LIMIT = 300        # a table with more rows is summarised unless every row is asked for
EDGE_ROWS = 12         # first and last rows kept in a summary


def gap_row(count, width):
    """The row standing for ``count`` rows a summary leaves out."""
    return (Cell("text", "⋮"), Cell("text", f"{count:,} row{'s' if count != 1 else ''} not shown")) + \
        (BLANK,) * (width - 2)


def summarised(table, view, keep=(), what="the first and last"):
    """A one-section table, or its summary when it has more than ROW_LIMIT rows and not
    every row is asked for: the first and last rows and those in ``keep``, a gap row where
    rows are left out, and a note saying so."""
    rows = table.sections[0] if table.sections else ()
    if view.rows == "all" or len(rows) <= ROW_LIMIT:
        return [table]
    shown = sorted(set(range(EDGE_ROWS)) | set(range(len(rows) - EDGE_ROWS, len(rows))) | set(keep))
    out, previous = [], -1
    for index in shown:
        if index - previous > 1:
            out.append(gap_row(index - previous - 1, len(rows[0])))
        out.append(rows[index])
        previous = index
    note = Note((f"{len(shown):,} of {len(rows):,} rows shown: {what}; --rows all (rows='all') shows every row.",))
    return [Table(table.title, (tuple(out),), table.headers, table.groups), note]


def trace_table(title, rows, view=None):
    """One trace as a Table, every row unless ``view`` says otherwise (`traces.trace_table`
    gives the blocks of a summary too)."""
    from .traces import trace_table as blocks
    return blocks(title, rows, View(rows="all") if view is None else view)[0]


def derivative(output, variable):
    """The cell content for ∂y/∂x."""
    return Apply(PARTIAL, (Var("y", output), Var("x", variable)))


def symbolic_block(report, view=None):
    """sympy's derivative formulas and their high-precision values."""
    result = report.results.get("symbolic")
    if result is None or not result.details["derivatives"]:
        return []
    rows = []
    for k, row in enumerate(result.details["derivatives"]):
        for j, formula in enumerate(row):
            value = BLANK if result.jacobian is None else Cell("value", result.jacobian[k, j], True)
            rows.append((Cell("formula", derivative(k, j)), Cell("sympy", formula, True), value))
    title = (f"Symbolic derivatives (sympy; evaluated to {result.details['digits']} significant digits)",)
    blocks = summarised(Table(title, (tuple(rows),)), view or View())
    for (k, j), (formula, how) in sorted(result.details.get("at_the_point", {}).items()):
        blocks.append(Note((Cell("formula", derivative(k, j)), f": sympy's first formula has no value at the point; "
                            f"{how}: ", Cell("formula", derivative(k, j)), " ", Cell("sympy", formula, True), ".")))
    return blocks


def difference_block(report, view=None):
    """The finite-difference steps, the evaluations they took and their error estimates."""
    result = report.results.get("finite_difference")
    if result is None:
        return []
    method = result.details["method"]
    if result.jacobian is None:
        return [Note((f"Finite differences ({method}): not available: {result.error}",))]
    rule, after = STEP_RULES[method]
    after += ", or smaller where that step does not resolve f"
    rows = []
    for row in result.details["rows"]:
        for k in range(len(report.graph.outputs)):
            rows.append((Cell("formula", derivative(k, row.variable)), Cell("exact", float(f"{row.step:.3g}")),
                         Cell("exact", row.plus[k]), Cell("exact", row.minus[k]), Cell("exact", row.estimate[k]),
                         _error_cell(row.error_estimate[k])))
    minus = "f(x)" if method in ("forward", "complex-step") else "f(x − h)"
    title = (f"Finite differences ({method}; step h = ", Cell("formula", Apply(rule, ())), f"{after})")
    blocks = summarised(Table(title, (tuple(rows),), headers=("", "step h", "f(x + h)", minus, "estimate",
                                                               "error estimate")), view or View())
    blocks += [Note((f"Finite differences: {note}",)) for note in result.details["notes"]]
    return blocks


_MAX_TERM = r"\cdot \max(1, |x_i|)"
STEP_RULES = {   # each finite-difference method's step, as a formula, and words after it
    "central": (Notation("ε^(1/3)·max(1, |xᵢ|)", r"\varepsilon^{1/3} " + _MAX_TERM), ""),
    "forward": (Notation("ε^(1/2)·max(1, |xᵢ|)", r"\varepsilon^{1/2} " + _MAX_TERM), ""),
    "richardson": (Notation("ε^(1/5)·max(1, |xᵢ|)", r"\varepsilon^{1/5} " + _MAX_TERM),
                   ", extrapolated from 4h, 2h, h"),
    "complex-step": (Notation("10⁻²⁰·min(1, |xᵢ|)", r"10^{-20} \cdot \min(1, |x_i|)"),
                     ", 1e-20 at xᵢ = 0; Im f(x + ih)/h"),
}


def _error_cell(value):
    if isinstance(value, mpmath.mpf):
        return Cell("text", "0" if value == 0 else mpmath.nstr(value, 2, min_fixed=1, max_fixed=0))
    return Cell("text", "0" if value == 0 else f"{value:.1e}")


def comparison_blocks(report):
    """The cross-check against the reference, the cost of each method."""
    comparison = report.comparison
    if comparison.reference is None:
        return []
    rows = []
    for entry in comparison.entries:
        name = Cell("formula", derivative(entry.output, entry.variable))
        if entry.reference is None:
            rows.append((name, Cell("text", "one-sided derivatives"), Cell("text", sides_text(entry.one_sided)),
                         BLANK, BLANK, BLANK,
                         Cell("text", "not differentiable" if entry.one_sided.established else "not established")))
        else:
            rows.append((name, Cell("text", METHOD_TITLES[entry.reference_method]),
                         Cell("reference", (entry.reference, entry.reference_method)), BLANK, BLANK, BLANK,
                         Cell("text", "reference")))
            if entry.one_sided is not None and entry.reference_method != "one_sided":
                rows.append((BLANK, Cell("text", "one-sided derivatives"), Cell("text", sides_text(entry.one_sided)),
                             BLANK, BLANK, BLANK, Cell("text", "agree")))
        for check in entry.checks:
            tolerance = f"{check.tolerance.rtol:g} rel + {check.tolerance.atol:g}"
            if entry.reference is None:
                tolerance = "between the sides, " + tolerance if entry.one_sided.interval else "—"
            rows.append((BLANK, Cell("text", METHOD_TITLES[check.method]), Cell("exact", check.value),
                         _error_cell(check.abs_error), _error_cell(check.rel_error), Cell("text", tolerance),
                         Cell("text", "not checked" if entry.reference is None and not entry.one_sided.established
                              else "ok" if check.ok else "MISMATCH")))
    cross_check = Table((reference_title(report),), (tuple(rows),),
                        headers=("", "method", "value", "abs error", "rel error", "tolerance", ""))
    return [cross_check, cost_table(report)]


def reference_title(report):
    """What the cross-check's reference is, as its table's title says it: sympy to so many
    digits, or the method standing in for it, and the entries where the high-precision
    numerical derivative replaced a refuted sympy."""
    comparison = report.comparison
    title = f"Cross-check against {METHOD_TITLES[comparison.reference]}"
    if comparison.reference == "symbolic":
        title += f", {report.results['symbolic'].details['digits']} digits"
    if any(entry.reference_method == "numerical" for entry in comparison.entries):
        title += " (where sympy was refuted: the high-precision numerical derivative of f)"
    return title


def sides_text(one):
    """The one-sided derivatives of an entry in a cell: ``−1 (left), 1 (right)``."""
    left, right = side_words(one)
    if one.left is None and one.right is None and left == right:
        return f"{left} (both sides)"
    return f"{left} (left), {right} (right)"


def one_sided_blocks(report, wrt=None):
    """Where a node is on its kink or has an infinite local partial: the function's one-sided
    derivatives at every entry, how they were found and confirmed, and the directional
    tangent traces through the kinks (along +eⱼ and −eⱼ)."""
    analysis = report.comparison.analysis
    if analysis is None:
        return []
    from ..compare import _number
    rows = []
    for (k, j), one in sorted(analysis.entries.items()):
        measured = ", ".join("—" if v is None else _number(v) for v in one.differences)
        left, right = side_words(one)
        rows.append((Cell("formula", derivative(k, j)), Cell("text", left), Cell("text", right), Cell("text", one.how),
                     Cell("text", measured + ("" if one.confirmed else " (do not confirm)")),
                     Cell("text", "yes" if one.differentiable else "no")))
    blocks = [Table(("One-sided derivatives of f (the whole function, not one node)",), (tuple(rows),),
                    headers=("", "left", "right", "found by", "one-sided differences (left, right)",
                             "differentiable"))]
    graph = report.graph
    for sweep in analysis.sweeps:
        kinked = [row for row in sweep.rows if row.definition is not None and _uses_kink_rule(graph, row)]
        if not kinked or (wrt is not None and graph.variables[sweep.seed] != wrt):
            continue
        sign = sweep.record["direction"]
        title = ("Directional tangent trace for ∂/∂", Cell("quantity", Var("x", sweep.seed)), " along ",
                 Cell("quantity", Var("xdot", sweep.seed)), f" = {'1' if sign > 0 else '−1'} (the "
                 f"{'right' if sign > 0 else 'left'} derivative is {'' if sign > 0 else '−'}",
                 Cell("quantity", Var("ydot", 0)), "; a node on its kink moves by its one-sided rule)")
        blocks.append(trace_table(title, sweep.rows))
    return blocks


def _uses_kink_rule(graph, row):
    from ..formula import kink_tangent_definition
    if row.target.kind != "vdot" or row.target.index < graph.n_inputs:
        return False
    node = graph.node(row.target.index)
    from ..ops import OPERATIONS
    return OPERATIONS[node.op].kink_rule is not None and row.definition == kink_tangent_definition(node)


def cost_table(report, title="Cost"):
    """Each method's evaluations of f, sweeps and operations."""
    cost_rows = tuple((Cell("text", METHOD_TITLES[name]), Cell("text", str(r.cost.primal_evaluations)),
                       Cell("text", str(r.cost.sweeps)), Cell("text", str(r.cost.operations)))
                      for name, r in report.results.items())
    return Table((title,), (cost_rows,), headers=("method", "evaluations of f", "sweeps", "operations"))


def slot_cells(graph, slot):
    """A node as a trace names it, e.g. ``v₁ = ln v₋₁`` (as note parts)."""
    from ..formula import primal_definition
    name = Cell("quantity", Var("v", slot))
    if slot < graph.n_inputs:
        return (name,)
    return (name, " = ", Cell("formula", primal_definition(graph.node(slot))))


def verdict_notes(report):
    """Kinks, methods that could not run, mismatches, and the verdict."""
    return disagreement_notes(report) + [Note((f"Verdict: {report.comparison.verdict.summary}",))]


def disagreement_notes(report):
    """Kinks and infinite local partials, values lost to rounding, methods that could not
    run, and each mismatch with its explanation."""
    comparison = report.comparison
    graph = report.graph
    notes = []
    for slot, text in comparison.kinks:
        notes.append(Note(("Not differentiable here: ", *slot_cells(graph, slot), f" is at a kink ({text}); "
                           "the methods may each return a different one-sided derivative or subgradient.")))
    analysis = comparison.analysis
    if analysis is not None:
        for kink in analysis.kinks:
            notes.append(Note(("At a kink: ", *slot_cells(graph, kink.slot), f" ({kink.text}); forward and reverse "
                               f"mode take {kink.convention}.")))
        for singular in analysis.singular:
            what = "undefined" if singular.partial != singular.partial else "infinite"
            rounded = (" in floats only (rounding moved its argument there: exactly, the partial is finite)"
                       if singular.rounded else "")
            notes.append(Note((f"An {what} local partial{rounded}: ", *slot_cells(graph, singular.slot),
                               " (its partial with respect to argument "
                               f"{singular.position + 1}); forward and reverse mode cannot pass the chain rule "
                               "through it.")))
        for edge in analysis.edges:
            if edge.rounded:
                notes.append(Note(("At the edge of its domain in floats only: ", *slot_cells(graph, edge.slot),
                                   f" (rounding moved its argument {edge.position + 1} onto the edge; exactly, it "
                                   "is inside).")))
                continue
            notes.append(Note(("At the edge of its domain: ", *slot_cells(graph, edge.slot),
                               f" (its argument {edge.position + 1} is where the operation stops being defined "
                               "on one side), so f may be defined on one side of the point only.")))
        for hidden in analysis.hidden:
            notes.append(Note((f"Within rounding of a {hidden.what}: ", *slot_cells(graph, hidden.slot),
                               f" (its argument {hidden.position + 1} is off {hidden.value:g} in floats by less than "
                               f"its rounding error, and exactly no precision up to {MAX_DIGITS:,} digits separates it from "
                               f"{hidden.value:g}); the float program's derivatives do not see it, so the one-sided "
                               "derivatives come from high-precision differences of f.",)))
        if all(entry.differentiable for entry in comparison.entries):
            notes.append(Note(("The function is differentiable here all the same: its one-sided derivatives agree "
                               "at every entry (see the one-sided derivatives above).",)))
    for slot, value, exact in comparison.lost:
        notes.append(Note(("Rounding lost a value: ", *slot_cells(graph, slot),
                           f" is {value!r} in floating point, {mpmath.nstr(exact, 6)} exactly.")))
    for method, error in comparison.failures.items():
        notes.append(Note((f"{METHOD_TITLES[method]} could not be computed: {error}",)))
    notes += skipped_notes(comparison)
    for (output, variable), decision in comparison.referee.items():
        notes.append(Note(("At ", Cell("formula", derivative(output, variable)), f": {decision.text}.")))
    for entry, check in comparison.mismatches:
        against = ("the one-sided derivatives " + sides_text(entry.one_sided) if entry.reference is None else
                   (METHOD_TITLES[entry.reference_method], " ", Cell("reference", (entry.reference,
                                                                                  entry.reference_method))))
        notes.append(Note((f"{METHOD_TITLES[check.method]} differs from ", *against, " at ",
                           Cell("formula", derivative(entry.output, entry.variable)), ": ",
                           Cell("exact", check.value), f" (relative error {_error_cell(check.rel_error).content})",
                           f"; explained: {EXPLANATIONS[check.explanation]}{_convention(report, check)}"
                           if check.explanation else
                           "; NOT explained by a kink, a pole, a domain edge, finite-difference error, a step too "
                           "coarse, cancellation or rounding")))
    return notes


def _convention(report, check):
    """Which convention a 'kink convention' explanation means, for the method at hand."""
    if check.explanation != "kink convention":
        return ""
    if check.method == "symbolic":
        return " (sympy's derivative of Max, Min and Abs uses Heaviside(0) = ½ and sign(0) = 0)"
    conventions = dict.fromkeys(kink.convention for kink in report.comparison.analysis.kinks)
    return " (" + "; ".join(conventions) + ")"


def skipped_notes(comparison):
    """The methods skipped by policy (the symbolic budget), with the reason."""
    return [Note((f"{METHOD_TITLES[method]} was not run ({reason}); the verdict does not count it.",))
            for method, reason in comparison.skipped.items()]


def point_parts(graph, point):
    """Note parts for a point: ``x1 = 2, x2 = 5``."""
    parts = []
    for i in range(graph.n_inputs):
        parts += [", " if i else "", Cell("quantity", Var("x", i)), " = ", Cell("exact", point[i])]
    return parts


def function_note(graph):
    """What is differentiated: ``f(x₁, x₂) = ln(x1)+…``, named by its output (y₁, y₂ for several)."""
    parts = []
    for k in range(len(graph.outputs)):
        parts += [", " if k else "", Cell("quantity", Var("y", k))]
    parts.append("(")
    for i in range(graph.n_inputs):
        parts += [", " if i else "", Cell("quantity", Var("x", i))]
    source = expression_source(graph)   # "f = (x+y)*z": the name is on the left already
    if len(source) > SOURCE_SHOWN:   # the expression is in the user's hands already
        source = f"{source[:SOURCE_SHOWN]} … ({len(source):,} characters)"
    return Note((*parts, ") = ", Cell("code", source)))


def header_notes(report):
    """What is differentiated, and where."""
    graph = report.graph
    notes = [function_note(graph)]
    if graph.n_inputs:
        notes.append(Note(("at ", *point_parts(graph, report.point))))
    return notes


def _traces(name):
    def blocks(report, view):
        from . import traces
        return getattr(traces, name)(report, view)
    return blocks


def _cross_check(report, view):
    blocks = comparison_blocks(report)[:1]
    if not blocks:
        return []
    rows = blocks[0].sections[0]
    mismatches = [i for i, row in enumerate(rows) if row[-1] == Cell("text", "MISMATCH")]
    keep = {j for i in mismatches[:ROW_LIMIT // 2] for j in (i, i - 1)}
    return summarised(blocks[0], view, keep, "the first and last, and the mismatches")


def _cost(report, view):
    return [cost_table(report)] if report.comparison.reference is not None else []


# Every kind of table a report can show, in the default order; `--table` picks among them.
# A new kind is one entry here: (what it shows, a function (report, View) → blocks).
TABLE_KINDS = {
    "header": ("what is differentiated, and where", lambda report, view: header_notes(report)),
    "traces": ("the traces in the format's layout: Tables 2 and 3 side by side, or one table per trace in text",
               _traces("trace_blocks")),
    "primal": ("the forward primal trace", _traces("primal_blocks")),
    "tangent": ("the forward tangent traces, one per input (--wrt: one)", _traces("tangent_blocks")),
    "adjoint": ("the reverse adjoint traces, one per output", _traces("adjoint_blocks")),
    "table2": ("Baydin's Table 2: the primal trace beside each tangent trace", _traces("table_2_blocks")),
    "table3": ("Baydin's Table 3: the primal trace beside each adjoint trace", _traces("table_3_blocks")),
    "symbolic": ("sympy's derivative formulas and values", symbolic_block),
    "finite-differences": ("the finite-difference steps and estimates", difference_block),
    "one-sided": ("at a kink: the function's one-sided derivatives and the directional tangent traces",
                  lambda report, view: one_sided_blocks(report, view.wrt)),
    "cross-check": ("each method against the reference", _cross_check),
    "cost": ("each method's evaluations, sweeps and operations", _cost),
    "verdict": ("kinks, failures, mismatches and the verdict", lambda report, view: verdict_notes(report)),
}
DEFAULT_TABLES = ("header", "traces", "symbolic", "finite-differences", "one-sided", "cross-check", "cost",
                  "verdict")


def report_blocks(report, view=None):
    """Every block of a report, in order (a `PointsReport`'s: see `render.points`)."""
    from ..report import PointsReport
    if isinstance(report, PointsReport):
        from .points import points_blocks
        return points_blocks(report)
    view = view or View()
    blocks = []
    for name in view.tables or DEFAULT_TABLES:
        blocks += TABLE_KINDS[name][1](report, view)
    return blocks

"""Plain-text rendering of a Report for the terminal: Baydin's traces, then the cross-check.

Tables are laid out by tabulate; rules separate a trace's input rows, working rows and
output rows as in Baydin's Tables 2 and 3. The adjoint trace is printed as Table 3
prints it: top to bottom as read, executed from the bottom (ȳ = 1) upwards.
"""

import mpmath
from tabulate import SEPARATING_LINE, tabulate

from ..formula import Var, primal_definition
from .style import TEXT, format_number, full_precision, output_name, quantity_name, render_formula

METHOD_TITLES = {"finite_difference": "finite differences", "symbolic": "symbolic (sympy)",
                 "forward": "forward mode", "reverse": "reverse mode"}


def _table(rows, headers=()):
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def trace_table(graph, rows, digits, style=TEXT):
    """A trace (TraceRows) as a table, with rules between its input, body and output sections."""
    table = []
    previous = None
    for row in rows:
        if previous is not None and row.section != previous:
            table.append(SEPARATING_LINE)
        previous = row.section
        cells = [quantity_name(row.target, graph, style), "= " + render_formula(row.definition, graph, style, digits)]
        for extra in (row.local, row.substituted):
            if extra is not None:
                cells.append("= " + render_formula(extra, graph, style, digits))
        cells.append("= " + style.number(row.value, digits))
        table.append(cells)
    width = max(len(cells) for cells in table if cells is not SEPARATING_LINE)
    padded = [cells if cells is SEPARATING_LINE else cells[:-1] + [""] * (width - len(cells)) + cells[-1:]
              for cells in table]
    return _table(padded)


def table_3_order(rows):
    """Adjoint rows as Baydin's Table 3 prints them: x̄1, x̄2, … on top, then the sweep
    from its last step up to its seed ȳ = 1 at the bottom."""
    outputs = [row for row in rows if row.section == "output"]
    return outputs + [row for row in rows if row.section != "output"][::-1]


def derivative_name(graph, output, variable):
    """∂y/∂x1, or ∂y₂/∂x1 for several outputs."""
    return f"∂{output_name(graph, output)}/∂{graph.variables[variable]}"


def _seed_text(graph, sweep):
    if sweep.kind == "tangent":
        seeds = ", ".join(f"{quantity_name(Var('xdot', i), graph)} = {1 if i == sweep.seed else 0}"
                          for i in range(graph.n_inputs))
        return f"Forward tangent trace for ∂/∂{graph.variables[sweep.seed]} ({seeds})"
    return (f"Reverse adjoint trace for {output_name(graph, sweep.seed)} "
            f"({quantity_name(Var('ybar', sweep.seed), graph)} = 1; executed bottom to top)")


def _point_text(report):
    return ", ".join(f"{name} = {full_precision(x)}" for name, x in zip(report.graph.variables, report.point))


def describe_slot(graph, slot):
    """A node as a trace names it, e.g. ``v₁ = ln v₋₁``."""
    if slot < graph.n_inputs:
        return quantity_name(Var("v", slot), graph)
    return f"{quantity_name(Var('v', slot), graph)} = {render_formula(primal_definition(graph.node(slot)), graph)}"


def render_report(report, digits=3, wrt=None):
    """The whole terminal report: traces, symbolic formulas, differences, cross-check, verdict.

    ``wrt`` (a variable name) limits the forward tangent traces to that direction.
    """
    graph = report.graph
    parts = [f"f({', '.join(graph.variables)}) = {graph.source}",
             f"at {_point_text(report)}" if graph.n_inputs else "", ""]
    parts += ["Forward primal trace", trace_table(graph, report.primal, digits), ""]
    for method in ("forward", "reverse"):
        result = report.results.get(method)
        if result is None:
            continue
        for sweep in result.sweeps:
            if sweep.kind == "primal" or (wrt is not None and sweep.kind == "tangent"
                                          and graph.variables[sweep.seed] != wrt):
                continue
            rows = sweep.rows if sweep.kind == "tangent" else table_3_order(sweep.rows)
            parts += [_seed_text(graph, sweep), trace_table(graph, rows, digits), ""]
    if "symbolic" in report.results and report.results["symbolic"].details["derivatives"]:
        parts += _symbolic_section(graph, report.results["symbolic"], digits)
    if "finite_difference" in report.results:
        parts += _difference_section(graph, report.results["finite_difference"], digits)
    parts += _comparison_section(report)
    return "\n".join(parts).rstrip() + "\n"


def _symbolic_section(graph, result, digits):
    derivatives = result.details["derivatives"]
    rows = []
    for k, row in enumerate(derivatives):
        for j, formula in enumerate(row):
            value = "" if result.jacobian is None else "= " + format_number(result.jacobian[k, j], digits)
            rows.append([derivative_name(graph, k, j), "= " + str(formula), value])
    title = f"Symbolic derivatives (sympy; evaluated to {result.details['digits']} significant digits)"
    return [title, _table(rows), ""]


def _difference_section(graph, result, digits):
    scheme = result.details["scheme"]
    if result.jacobian is None:
        return [f"Finite differences ({scheme}): not available: {result.error}", ""]
    rule = "ε^(1/3)" if scheme == "central" else "ε^(1/2)"
    rows = []
    for row in result.details["rows"]:
        for k in range(len(graph.outputs)):
            rows.append([derivative_name(graph, k, row.variable), f"{row.step:.3g}",
                         format_number(row.plus[k], 12), format_number(row.minus[k], 12),
                         full_precision(row.estimate[k])])
    minus = "f(x − h)" if scheme == "central" else "f(x)"
    title = f"Finite differences ({scheme}; step h = {rule}·max(1, |xᵢ|))"
    return [title, _table(rows, ["", "step h", "f(x + h)", minus, "estimate"]), ""]


def _error_text(value):
    return "0" if value == 0 else f"{value:.1e}"


def _comparison_section(report):
    graph = report.graph
    comparison = report.comparison
    lines = []
    if comparison.reference is not None:
        title = METHOD_TITLES[comparison.reference]
        if comparison.reference == "symbolic":
            title += f", {report.results['symbolic'].details['digits']} digits"
        rows = []
        for entry in comparison.entries:
            rows.append([derivative_name(graph, entry.output, entry.variable), f"{METHOD_TITLES[comparison.reference]}",
                         _reference_text(entry.reference, comparison.reference), "", "", "", "reference"])
            for check in entry.checks:
                rows.append(["", METHOD_TITLES[check.method], full_precision(check.value),
                             _error_text(check.abs_error), _error_text(check.rel_error),
                             f"{check.tolerance.rtol:g} rel + {check.tolerance.atol:g}",
                             "ok" if check.ok else "MISMATCH"])
        lines += [f"Cross-check against {title}",
                  _table(rows, ["", "method", "value", "abs error", "rel error", "tolerance", ""]), ""]
        lines += ["Cost", _cost_table(report), ""]
    lines.append(verdict_text(report))
    return lines


def _reference_text(value, method):
    """The reference value: 17 significant digits of a high-precision one, else the float as is."""
    if method == "symbolic":
        return mpmath.nstr(value, 17, min_fixed=-5, max_fixed=17)
    return full_precision(value)


def _cost_table(report):
    rows = [[METHOD_TITLES[name], r.cost.primal_evaluations, r.cost.sweeps, r.cost.operations]
            for name, r in report.results.items()]
    return _table(rows, ["method", "evaluations of f", "sweeps", "operations"])


def verdict_text(report):
    """The closing lines: agreement, or exactly what disagrees and why it may."""
    comparison = report.comparison
    graph = report.graph
    lines = []
    for slot, text in comparison.kinks:
        lines.append(f"Not differentiable here: {describe_slot(graph, slot)} is at a kink ({text}); "
                     "the methods may each return a different one-sided derivative or subgradient.")
    for method, error in comparison.failures.items():
        lines.append(f"{METHOD_TITLES[method]} could not be computed: {error}")
    for entry, check in comparison.mismatches:
        lines.append(f"{METHOD_TITLES[check.method]} differs from {METHOD_TITLES[comparison.reference]} at "
                     f"{derivative_name(graph, entry.output, entry.variable)}: {full_precision(check.value)} vs "
                     f"{_reference_text(entry.reference, comparison.reference)} (relative error {_error_text(check.rel_error)})")
    ran = len(report.results) - len(comparison.failures)
    if comparison.agree:
        verdict = f"Verdict: all {ran} methods agree." if ran > 1 else "Verdict: only one method ran; nothing to compare."
    else:
        verdict = "Verdict: the methods do NOT all agree."
    return "\n".join(lines + [verdict])

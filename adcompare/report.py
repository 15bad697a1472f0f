"""One expression at one point through the chosen back ends, cross-checked: a `Report`.

This is the library entry point behind ``adcompare trace``:

    >>> report = trace("ln(x1) + x1*x2 - sin(x2)", at={"x1": 2, "x2": 5})
    >>> report.comparison.agree, [float(g) for g in report.results["reverse"].jacobian[0]]
    (True, [5.5, 1.7163378145367738])
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass

from .backends import METHODS, run_method
from .backends.symbolic import lost_to_rounding
from .compare import compare
from .errors import InputError
from .formula import primal_rows
from .graph import evaluate, find_kinks
from .parse import DEFAULT_LIMITS, parse
from .rounding import derivative_error_bound


@dataclass
class Report:
    """The Graph, the point, each method's Result, the primal trace and the Comparison."""

    graph: object
    point: tuple
    results: dict
    primal: tuple
    comparison: object

    @property
    def agree(self):
        """True when every method ran and all agree within tolerance."""
        return self.comparison.agree

    def render(self, output_format="text", digits=3, wrt=None, standalone=False):
        """The report as text, markdown, latex, html or json (see ``adcompare.render``)."""
        from .render import FORMATS
        return FORMATS[output_format](self, digits=digits, wrt=wrt, standalone=standalone)

    def drawing(self, digits=3):
        """The computational graph, which a notebook shows as SVG when Graphviz is installed."""
        from .render.dot import GraphDrawing, render_graph
        return GraphDrawing(render_graph(self, digits=digits))

    def _repr_markdown_(self):
        return self.render("markdown")

    def _repr_html_(self):
        return self.render("html")

    def _repr_latex_(self):
        return self.render("latex")

    def __str__(self):
        return self.render("text")


def _as_float(name, value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"the value of {name} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"the value of {name} must be finite, got {value!r}")
    return number


def resolve_point(expression, at, variables=None, merge_common=False, limits=DEFAULT_LIMITS):
    """Parse ``expression`` and match ``at`` to its variables; returns (graph, point).

    Variable order: ``variables`` when given, else the order of the names in ``at`` (a
    mapping), else the natural order of the expression's names. ``at`` is a mapping
    name → value or a sequence of values in variable order; a missing or extra value is
    an InputError.
    """
    if isinstance(at, Mapping):
        names = list(at)
        if variables is None:
            used = parse(expression, None, merge_common, limits).variables
            missing = [name for name in used if name not in at]
            if missing:
                raise InputError(f"no value given for {missing[0]}")
            extra = [name for name in names if name not in used]
            if extra:
                raise InputError(f"a value is given for {extra[0]}, which does not appear in the expression")
        graph = parse(expression, variables if variables is not None else names, merge_common, limits)
        extra = [name for name in names if name not in graph.variables]
        if extra:
            raise InputError(f"a value is given for {extra[0]}, which is not a variable "
                             f"({', '.join(graph.variables)})")
        missing = [name for name in graph.variables if name not in at]
        if missing:
            raise InputError(f"no value given for {missing[0]}")
        point = tuple(_as_float(name, at[name]) for name in graph.variables)
    else:
        graph = parse(expression, variables, merge_common, limits)
        values = list(at)
        if len(values) != graph.n_inputs:
            raise InputError(f"{graph.n_inputs} value{'s' if graph.n_inputs != 1 else ''} needed "
                             f"({', '.join(graph.variables)}), got {len(values)}")
        point = tuple(_as_float(name, v) for name, v in zip(graph.variables, values))
    return graph, point


def trace(expression, at, *, variables=None, methods=METHODS, merge_common=False,
          fd_method="central", digits=30, tolerances=None):
    """Run ``methods`` on ``expression`` at ``at`` and cross-check them.

    Raises AdcompareError subclasses for bad input (syntax, unknown names, values,
    a point outside the domain or where a derivative does not exist).
    """
    graph, point = resolve_point(expression, at, variables, merge_common)
    return trace_graph(graph, point, methods=methods, fd_method=fd_method, digits=digits, tolerances=tolerances)


def trace_graph(graph, point, *, methods=METHODS, fd_method="central", digits=30, tolerances=None):
    """`trace` for a Graph already built (parsed, traced from Python, or generated)."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InputError(f"unknown method {unknown[0]!r} (methods: {', '.join(METHODS)})")
    point = tuple(point)
    values = evaluate(graph, point)
    options = {"finite_difference": {"method": fd_method}, "symbolic": {"digits": digits}}
    results = {m: run_method(m, graph, point, **options.get(m, {})) for m in METHODS if m in methods}
    kinks = find_kinks(graph, values)
    comparison = compare(results, tolerances, kinks)
    unexplained = {(entry.output, entry.variable) for entry, check in comparison.mismatches
                   if check.explanation is None}
    if unexplained:
        # Costly, so only when a disagreement is unexplained: can rounding account for it,
        # and has it destroyed a value on the way?
        rounding = {key: derivative_error_bound(graph, point, *key) for key in unexplained}
        comparison = compare(results, tolerances, kinks, lost_to_rounding(graph, point, values), rounding)
    return Report(graph, point, results, primal_rows(graph, values), comparison)

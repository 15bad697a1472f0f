"""One expression at one point through the chosen back ends, cross-checked: a `Report`.

This is the library entry point behind ``adcompare trace``:

    >>> report = trace("ln(x1) + x1*x2 - sin(x2)", at={"x1": 2, "x2": 5})
    >>> report.comparison.agree, [float(g) for g in report.results["reverse"].jacobian[0]]
    (True, [5.5, 1.7163378145367738])

With arrays of points (a dict of arrays, or an (N, n) array whose columns are in
variable order) it gives a `PointsReport`, every method run once over all points:

    >>> import numpy as np
    >>> points = trace("ln(x1) + x1*x2 - sin(x2)", at={"x1": np.array([2.0, 3.0]), "x2": 5})
    >>> points.agree, points.n_points, points.jacobian.shape
    (True, 2, (1, 2, 2))
"""

import math
from collections.abc import Mapping
from functools import partial
from dataclasses import dataclass

import numpy as np

from .backends import METHODS, run_method, skipped_for_size
from .backends.symbolic import DEFAULT_BUDGET, lost_to_rounding
from .compare import compare, compare_points
from .errors import DomainError, InputError
from .formula import name_outputs, primal_rows
from .graph import (broadcast_point, evaluate, evaluate_where_defined, fold_constants, kink_mask, point_index,
                    point_shape)
from .nonsmooth import analyse
from .render.style import derivative_name
from .parse import DEFAULT_LIMITS, parse
from .reference import refute_expression, settle_disputes
from .rounding import error_bounds


class _Rendered:
    """What both reports share: rendering in every format, and their notebook and str forms."""

    @property
    def agree(self):
        """True when every method ran and all agree within tolerance."""
        return self.comparison.agree

    def render(self, output_format="text", digits=3, wrt=None, standalone=False, **view):
        """The report as text, markdown, latex, beamer, html or json (see ``adcompare.render``);
        ``view``: ``tables``, ``columns``, ``rows`` as the command line's --table, --columns, --rows."""
        from .render import FORMATS
        return FORMATS[output_format](self, digits=digits, wrt=wrt, standalone=standalone, **view)

    def _repr_markdown_(self):
        return self.render("markdown")

    def _repr_html_(self):
        return self.render("html")

    def _repr_latex_(self):
        return self.render("latex")

    def __str__(self):
        return self.render("text")


@dataclass
class Report(_Rendered):
    """The Graph, the point, each method's Result, the primal trace and the Comparison."""

    graph: object
    point: tuple
    results: dict
    primal: tuple
    comparison: object

    def drawing(self, digits=3, output=None, rankdir="LR", colors=None):
        """The computational graph, which a notebook shows as a picture (SVG, when Graphviz
        is installed): with several outputs one drawing per output, or output ``output``'s."""
        from .render.dot import GraphDrawing, GraphDrawings, render_graph
        if output is None and len(self.graph.outputs) > 1:
            return GraphDrawings(GraphDrawing(render_graph(self, digits, k, rankdir, colors))
                                 for k in range(len(self.graph.outputs)))
        return GraphDrawing(render_graph(self, digits, output or 0, rankdir, colors))


@dataclass
class PointsReport(_Rendered):
    """One expression at many points: the Graph, the points (one array per variable, of
    one shape S), each method's Result over all of them, and the `PointsComparison`,
    whose ``worst`` holds the single-point Reports of the worst disagreeing points."""

    graph: object
    point: tuple
    results: dict
    comparison: object

    @property
    def n_points(self):
        """How many points."""
        return self.comparison.n_points

    @property
    def shape(self):
        """The shape S of the points' arrays."""
        return self.comparison.shape

    @property
    def jacobian(self):
        """The Jacobian at every point, shape (m, n, *S): reverse mode's, else that of the
        first method that ran of forward mode, finite differences, symbolic."""
        for name in ("reverse", "forward", "finite_difference", "symbolic"):
            result = self.results.get(name)
            if result is not None and result.jacobian is not None:
                return result.jacobian
        return None


def _as_value(name, value):
    """A float, or a float64 array of points, for the value of variable ``name``."""
    if np.ndim(value) == 0:
        return _as_float(name, value)
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"the values of {name} are not all numbers") from None
    if array.size == 0:
        raise InputError(f"no points: the values of {name} are an empty array")
    bad = ~np.isfinite(array)
    if bad.any():
        position = np.unravel_index(int(np.argmax(bad)), array.shape)
        raise InputError(f"the value of {name} at point {point_index(position)} must be finite, "
                         f"got {array[position]!r}")
    return array


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
    name → value or a sequence of values in variable order, or a 2-D numpy array of
    points (one row a point, one column a variable in variable order); a value may be an
    array of points (scalars are then repeated to the arrays' shape). A missing or extra
    value, a value that is not a finite number, or arrays of different shapes are an
    InputError.
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
        point = tuple(_as_value(name, at[name]) for name in graph.variables)
    elif isinstance(at, np.ndarray) and at.ndim == 2:
        graph = parse(expression, variables, merge_common, limits)
        if at.shape[1] != graph.n_inputs:
            raise InputError(f"the points have {at.shape[1]} column{'s' if at.shape[1] != 1 else ''}; "
                             f"{graph.n_inputs} needed, one per variable in order ({', '.join(graph.variables)})")
        point = tuple(_as_value(name, at[:, i]) for i, name in enumerate(graph.variables))
    else:
        graph = parse(expression, variables, merge_common, limits)
        values = list(at)
        if len(values) != graph.n_inputs:
            raise InputError(f"{graph.n_inputs} value{'s' if graph.n_inputs != 1 else ''} needed "
                             f"({', '.join(graph.variables)}), got {len(values)}")
        point = tuple(_as_value(name, v) for name, v in zip(graph.variables, values))
    try:
        return graph, broadcast_point(point)
    except ValueError as error:
        raise InputError(str(error)) from None


def trace(expression, at, *, variables=None, methods=METHODS, merge_common=False,
          fd_method="central", digits=30, tolerances=None, symbolic_budget=DEFAULT_BUDGET, output_names=None):
    """Run ``methods`` on ``expression`` at ``at`` and cross-check them: a `Report`, or a
    `PointsReport` when ``at`` holds arrays of points (see `resolve_point`). ``output_names``
    names the outputs (as ``f = …`` in the expression does).

    Raises AdcompareError subclasses for bad input (syntax, unknown names, values,
    a point outside the domain or where a derivative does not exist).
    """
    graph, point = resolve_point(expression, at, variables, merge_common)
    if output_names is not None:
        graph = name_outputs(graph, output_names)
    return trace_graph(graph, point, methods=methods, fd_method=fd_method, digits=digits, tolerances=tolerances,
                       symbolic_budget=symbolic_budget)


def trace_graph(graph, point, *, methods=METHODS, fd_method="central", digits=30, tolerances=None,
                symbolic_budget=DEFAULT_BUDGET):
    """`trace` for a Graph already built (parsed, traced from Python, or generated).
    ``symbolic_budget``: the largest work the symbolic method takes on, in nodes of sympy's
    expression trees (`adcompare.backends.symbolic.predicted_size`); beyond it, it is skipped."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InputError(f"unknown method {unknown[0]!r} (methods: {', '.join(METHODS)})")
    graph = fold_constants(graph)
    if point_shape(point) is not None:
        return trace_points(graph, point, methods=methods, fd_method=fd_method, digits=digits,
                            tolerances=tolerances, symbolic_budget=symbolic_budget)
    point = tuple(point)
    options = {"finite_difference": {"method": fd_method}, "symbolic": {"digits": digits, "budget": symbolic_budget}}
    names = partial(derivative_name, graph)
    try:
        values = evaluate(graph, point)
    except DomainError as error:
        if error.kind != "domain" or not defined_exactly(graph, point, error.node):
            raise       # f undefined, or beyond the float range (refused as documented)
        # Rounding moved the float program out of its domain (1 − tanh(20) is 0 in floats,
        # 8.5e-18 exactly): f is defined, and only the exact methods can say more.
        results = {m: _run(m, graph, point, options) if m == "symbolic" else
                   _left_by_rounding(m, error, options.get(m, {})) for m in METHODS if m in methods}
        values, _ = evaluate_where_defined(graph, point)
        return Report(graph, point, results, primal_rows(graph, values),
                      compare(results, tolerances, names=names))
    results = {m: _run(m, graph, point, options) for m in METHODS if m in methods}
    analysis = analyse(graph, point, values)
    lost_constants = lost_to_rounding(graph, point, values, constants_only=True)
    refuted = refute_expression(graph, point, results.get("symbolic"), lost_constants)
    comparison = compare(results, tolerances, lost=lost_constants, analysis=analysis, names=names, referee=refuted)
    unexplained = {(entry.output, entry.variable) for entry, check in comparison.mismatches
                   if check.explanation is None}
    if unexplained:
        # Costly, so only when a disagreement is unexplained: can rounding account for it,
        # and has it destroyed a value on the way?
        rounding = {key: error_bounds(graph, point, *key) for key in unexplained}
        lost = lost_to_rounding(graph, point, values)
        comparison = compare(results, tolerances, lost=lost, rounding=rounding, analysis=analysis, names=names,
                             referee=refuted)
        # Where sympy and forward/reverse mode still disagree, a third reference decides.
        comparison = settle_disputes(graph, point, comparison, lambda referee: compare(
            results, tolerances, lost=lost, rounding=rounding, analysis=analysis, names=names,
            referee={**refuted, **referee}))
    return Report(graph, point, results, primal_rows(graph, values), comparison)


def defined_exactly(graph, point, slot=None):
    """Whether every output of ``graph``, and the node at ``slot`` (where the float
    evaluation failed) when it is given and live, have certified finite values at ``point``
    (floats, taken exactly): f is defined there, whatever its float evaluation does."""
    from .certified import certify_graph
    if slot is not None and not graph.live[slot]:
        return False
    slots = list(graph.outputs) + ([] if slot is None else [slot])
    return all(c.established for c in certify_graph(graph, point, 17, slots))


def _left_by_rounding(method, error, options):
    from .backends import Cost, Result
    return Result(method, (), None, Cost(0, 0, 0), details=dict(options),
                  error=f"the float program leaves its domain here ({error}), though f is defined at this point "
                        "(exactly, the operation's argument is inside its domain: rounding moved it out)",
                  error_kind="domain")


def _run(method, graph, point, options):
    """One method of a trace, unless the size of its work skips it (`skipped_for_size`)."""
    options = options.get(method, {})
    return skipped_for_size(method, graph, **options) or run_method(method, graph, point, **options)


WORST_POINTS = 5


def trace_points(graph, point, *, methods=METHODS, fd_method="central", digits=30, tolerances=None,
                 symbolic_budget=DEFAULT_BUDGET):
    """`trace_graph` over arrays of points: each method once over all points, the float64
    cross-check (`compare_points`), each point's state (agree, disagree, not
    differentiable, inconclusive), and a single-point Report at each of the (up to five)
    worst disagreeing points, for its explanation.

    A point where f is not defined, or where a method could not compute the derivative,
    never stops the others: it is inconclusive, and `PointsComparison.reasons` says why
    (one interpreted pass over those points alone).
    """
    from .backends.vector import failure_reasons
    from .graph import evaluate_where_defined
    point = broadcast_point(point)
    graph = fold_constants(graph)
    shape = point_shape(point)
    values, defined = evaluate_where_defined(graph, point)
    defined = np.broadcast_to(defined, shape)
    inside = point if defined.all() else tuple(x[defined] for x in point)
    options = {"finite_difference": {"method": fd_method}, "symbolic": {"budget": symbolic_budget}}
    if inside[0].size:
        results = {m: _run(m, graph, inside, options) for m in METHODS if m in methods}
    else:
        results = {}
    if not defined.all():
        results = {name: _scattered(result, defined) for name, result in results.items()}
        values = [np.asarray(v)[...] for v in values]
    at_kink = np.broadcast_to(kink_mask(graph, values), shape) & defined
    comparison = compare_points(results, shape, tolerances, at_kink, unsure=~defined)
    if comparison.unsure is not None and comparison.unsure.any():
        comparison.reasons = failure_reasons(graph, point, comparison.unsure)
    for position in comparison.worst_positions(WORST_POINTS):
        single = tuple(float(x[position]) for x in point)
        try:
            alone = trace_graph(graph, single, methods=methods, fd_method=fd_method, digits=digits,
                                tolerances=tolerances, symbolic_budget=symbolic_budget)
        except DomainError as error:      # run alone, the point is refused: that is its explanation
            alone = error
        comparison.worst.append((position, alone))
    return PointsReport(graph, point, results, comparison)


def _scattered(result, defined):
    """A Result over the points where f is defined, spread back over all points (NaN
    elsewhere): the values and the Jacobian in the points' shape."""
    from dataclasses import replace

    def spread(array, lead=()):
        out = np.full(lead + defined.shape, np.nan)
        out[(Ellipsis,) + np.nonzero(defined)] = array
        return out
    jacobian = None if result.jacobian is None else spread(np.asarray(result.jacobian, dtype=float),
                                                           np.shape(result.jacobian)[:2])
    details = dict(result.details)
    for key, value in result.details.items():
        if isinstance(value, np.ndarray) and value.ndim and value.shape[-1] == int(defined.sum()) and key != "steps":
            details[key] = spread(value, value.shape[:-1]) if value.dtype != bool else \
                np.asarray(spread(value.astype(float), value.shape[:-1]) == 1.0)
    value = tuple(spread(np.asarray(v, dtype=float)) if np.ndim(v) else v for v in result.value)
    return replace(result, value=value, jacobian=jacobian, details=details)

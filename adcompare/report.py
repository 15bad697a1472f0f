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

import mpmath
import numpy as np

from .backends import METHODS, run_method, skipped_for_size
from .backends.symbolic import DEFAULT_BUDGET, lost_to_rounding
from .compare import VERDICT_STATES, CombinedPointsComparison, compare, compare_points
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

    def ranges(self):
        """Each variable's (lowest, highest) value over the points."""
        return [(float(np.min(x)), float(np.max(x))) for x in self.point]

    def coordinates(self, position):
        """The point at index ``position``, one float a variable."""
        return tuple(float(x[position]) for x in self.point)

    @property
    def jacobian(self):
        """The Jacobian at every point, shape (m, n, *S): reverse mode's, else that of the
        first method that ran of forward mode, finite differences, symbolic."""
        for name in ("reverse", "forward", "finite_difference", "symbolic"):
            result = self.results.get(name)
            if result is not None and result.jacobian is not None:
                return result.jacobian
        return None


@dataclass
class ChunkedPointsReport(PointsReport):
    """A `PointsReport` made chunk by chunk (`trace_point_chunks`): it keeps no array over
    all points, only each variable's range and the coordinates of the points its report
    names (``notable``: index → coordinates), so its Jacobian is None (write it per chunk)."""

    ranges_: list = None
    notable: dict = None

    def ranges(self):
        return self.ranges_

    def coordinates(self, position):
        return self.notable[tuple(position)]

    @property
    def jacobian(self):
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
    if isinstance(at, Mapping) and any(_is_dask(value) for value in at.values()):
        graph, _ = resolve_point(expression, dict.fromkeys(at, 0.0), variables, merge_common)
        if output_names is not None:
            graph = name_outputs(graph, output_names)
        return trace_point_chunks(graph, dask_chunks(graph, at), methods=methods, fd_method=fd_method, digits=digits,
                                  tolerances=tolerances, symbolic_budget=symbolic_budget)
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
        # Rounding moved the float program out of its domain (1 − tanh(20) is 0 in floats,
        # 8.5e-18 exactly), or a node overflows where f is within the float range
        # (exp(x)/exp(x) at 800): f is defined, and only the exact methods can say more.
        inside = defined_exactly(graph, point, error.node) if error.kind == "domain" else \
            error.kind == "overflow" and defined_exactly(graph, point, within_floats=True)
        if not inside:
            raise       # f undefined, or beyond the float range (refused as documented)
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
    # A step too coarse is a guess from the step and the reference alone: where rounding
    # has destroyed a value f depends on (x2 − (x3 − tanh x1) at x2 = x3: 0 in floats,
    # tanh x1 exactly), no step resolves it, and rounding of f is the cause.
    unexplained = {(entry.output, entry.variable) for entry, check in comparison.mismatches
                   if check.explanation in (None, "step too coarse")}
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


def defined_exactly(graph, point, slot=None, within_floats=False):
    """Whether every output of ``graph``, and the node at ``slot`` (where the float
    evaluation failed) when it is given and live, have certified finite values at ``point``
    (floats, taken exactly): f is defined there, whatever its float evaluation does. With
    ``within_floats``, the outputs must also lie within the float range."""
    from .certified import certify_graph
    if slot is not None and not graph.live[slot]:
        return False
    slots = list(graph.outputs) + ([] if slot is None else [slot])
    values = certify_graph(graph, point, 17, slots)
    if not all(c.established for c in values):
        return False
    largest = mpmath.mpf(np.finfo(float).max)
    return not within_floats or all(abs(c.value) <= largest for c in values[:len(graph.outputs)])


def _left_by_rounding(method, error, options):
    from .backends import Cost, Result
    if error.kind == "overflow":
        why = (f"the float program overflows here ({error}), though f is defined at this point and within the "
               "float range (exactly, only an intermediate value is beyond it)")
    else:
        why = (f"the float program leaves its domain here ({error}), though f is defined at this point "
               "(exactly, the operation's argument is inside its domain: rounding moved it out)")
    return Result(method, (), None, Cost(0, 0, 0), details=dict(options), error=why, error_kind="domain")


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
    options = dict(methods=methods, fd_method=fd_method, digits=digits, tolerances=tolerances,
                   symbolic_budget=symbolic_budget)
    graph = fold_constants(graph)
    point = broadcast_point(point)
    results, comparison = _compare_chunk(graph, point, **options)
    positions = comparison.worst_positions(WORST_POINTS)
    comparison.worst = _run_alone(graph, [(p, tuple(float(x[p]) for x in point)) for p in positions], options)
    return PointsReport(graph, point, results, comparison)


def _compare_chunk(graph, point, *, methods, fd_method, digits, tolerances, symbolic_budget):
    """Each method over the points (of one shape) and their cross-check, with the reasons
    for inconclusive points: (results, `PointsComparison`), its ``worst`` not yet run."""
    from .backends.vector import failure_reasons
    from .graph import evaluate_where_defined
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
    return results, comparison


def _run_alone(graph, positions, options):
    """(index, the single-point Report there, or the DomainError refusing it) for each
    (index, coordinates) in ``positions``."""
    worst = []
    for position, single in positions:
        try:
            alone = trace_graph(graph, single, **options)
        except DomainError as error:      # run alone, the point is refused: that is its explanation
            alone = error
        worst.append((position, alone))
    return worst


def trace_point_chunks(graph, chunks, *, methods=METHODS, fd_method="central", digits=30, tolerances=None,
                       symbolic_budget=DEFAULT_BUDGET, on_chunk=None):
    """`trace_points` over points given a chunk at a time: ``chunks`` yields tuples of 1-D
    arrays (one a variable, in variable order), each chunk's points following the last's.
    Each chunk is traced and cross-checked alone (``on_chunk(results, number of points)`` then
    sees its Results, e.g. to write its Jacobian) and only counts, maxima and the up-to-five worst
    points are kept, so memory is that of one chunk plus a constant. The report is the one
    `trace_points` gives over all points at once (a `ChunkedPointsReport`), except that it
    holds no Jacobian.

        >>> import numpy as np
        >>> from adcompare.parse import parse
        >>> x = np.array([4.0, 1.0, 0.0, 9.0])
        >>> report = trace_point_chunks(parse("sqrt(x)"), [(x[:2],), (x[2:],)])
        >>> report.n_points, report.comparison.state_counts()["inconclusive"], report.ranges()
        (4, 1, [(0.0, 9.0)])
    """
    options = dict(methods=methods, fd_method=fd_method, digits=digits, tolerances=tolerances,
                   symbolic_budget=symbolic_budget)
    graph = fold_constants(graph)
    combined = _Combined(graph)
    for point in chunks:
        point = broadcast_point(point)
        results, comparison = _compare_chunk(graph, point, **options)
        if on_chunk is not None:
            on_chunk(results, comparison.n_points)
        combined.add(point, results, comparison)
    if combined.offset == 0:
        raise InputError("no points: the chunks are empty")
    return combined.report(_run_alone(graph, combined.worst_points(), options))


def _is_dask(value):
    return type(value).__module__.split(".")[0] == "dask"


def dask_chunks(graph, at):
    """The points of ``at`` (name → Dask array, or a number) one block at a time, for
    `trace_point_chunks`: the arrays broadcast to one shape, flattened and cut into the
    same blocks, each block computed by Dask (its configured scheduler) when it is reached,
    so memory is a block's. A value that is not finite is an InputError naming the point.
    Needs the optional extra ``adcompare[dask]``."""
    import dask
    import dask.array as da
    arrays = da.broadcast_arrays(*[da.asarray(at[name], dtype=float) for name in graph.variables])
    arrays = [a.ravel() for a in arrays]
    arrays = [a.rechunk(arrays[0].chunks) for a in arrays]
    offset = 0
    for blocks in zip(*(a.to_delayed().ravel() for a in arrays)):
        point = tuple(dask.compute(*blocks))
        for name, x in zip(graph.variables, point):
            bad = ~np.isfinite(x)
            if bad.any():
                first = int(np.argmax(bad))
                raise InputError(f"the value of {name} at point [{offset + first}] must be finite, got {x[first]!r}")
        offset += len(point[0])
        yield point


class _Combined:
    """The running combination of chunks' cross-checks for `trace_point_chunks`."""

    def __init__(self, graph):
        self.graph, self.offset, self.results, self.reference = graph, 0, {}, None
        self.failures, self.skipped, self.summaries, self.reasons = {}, {}, {}, {}
        self.counts = dict.fromkeys(VERDICT_STATES, 0)
        self.ranges, self.worst, self.notable = None, [], {}

    def add(self, point, results, comparison):
        offset = self.offset
        self.offset += comparison.n_points
        ranges = [(float(np.min(x)), float(np.max(x))) for x in point]
        self.ranges = ranges if self.ranges is None else [(min(a, c), max(b, d)) for (a, b), (c, d)
                                                          in zip(self.ranges, ranges)]
        for state, count in comparison.state_counts().items():
            self.counts[state] += count
        self.failures = {**comparison.failures, **self.failures}
        self.skipped = {**comparison.skipped, **self.skipped}
        for name, result in results.items():
            self._add_result(name, result, offset)
        if self.reference is None:
            self.reference = comparison.reference
        # A chunk whose reference is another method (the first failed there) is counted, and
        # the failure makes the verdict inconclusive; its errors against another reference are not merged.
        if comparison.reference is not None and comparison.reference == self.reference:
            for summary in comparison.summaries:
                self._add_summary(summary, offset)
        for reason, count, (first,) in comparison.reasons:
            if reason not in self.reasons:
                self.reasons[reason] = [0, (offset + first,)]
                self.notable[(offset + first,)] = tuple(float(x[first]) for x in point)
            self.reasons[reason][0] += count
        for (position,) in comparison.worst_positions(WORST_POINTS):
            self.worst.append((-float(comparison.badness[position]), offset + position,
                               tuple(float(x[position]) for x in point)))
        self.worst = sorted(self.worst)[:WORST_POINTS]

    def _add_result(self, name, result, offset):
        """The first chunk's Result of each method (its cost is per point), without arrays,
        or the first that failed; finite differences' counts summed over chunks."""
        from dataclasses import replace
        from .backends.finite_difference import failure_notes
        kept = self.results.get(name)
        if kept is None or (result.error is not None and kept.error is None):
            details = {key: value for key, value in result.details.items() if not isinstance(value, np.ndarray)}
            details["first_failure"] = _shift_point(details.get("first_failure"), offset)
            self.results[name] = replace(result, value=(), jacobian=None, details=details)
            if kept is None:
                return
            kept, result = self.results[name], kept
        details = kept.details
        for key in ("fallback_points", "failed_points"):
            if key in result.details:
                details[key] = details.get(key, 0) + result.details[key]
        if details.get("first_failure") is None and result.details.get("first_failure"):
            details["first_failure"] = _shift_point(result.details["first_failure"], offset)
        if "failed_points" in details:
            details["notes"] = failure_notes(details["failed_points"], details["first_failure"])

    def _add_summary(self, summary, offset):
        from dataclasses import replace
        key = (summary.output, summary.variable, summary.method)
        worst = None if summary.worst_point is None else (offset + summary.worst_point[0],)
        summary = replace(summary, worst_point=worst)
        kept = self.summaries.get(key)
        if kept is None:
            self.summaries[key] = summary
            return
        better = worst is not None and (kept.worst_point is None or summary.worst_ratio > kept.worst_ratio)
        self.summaries[key] = replace(kept, max_abs_error=max(kept.max_abs_error, summary.max_abs_error),
                                      max_rel_error=max(kept.max_rel_error, summary.max_rel_error),
                                      disagreeing=kept.disagreeing + summary.disagreeing,
                                      worst_point=summary.worst_point if better else kept.worst_point,
                                      worst_ratio=summary.worst_ratio if better else kept.worst_ratio)

    def worst_points(self):
        """The worst disagreeing points of all chunks: (index, coordinates), the worst first."""
        for _, index, coordinates in self.worst:
            self.notable[(index,)] = coordinates
        return [((index,), coordinates) for _, index, coordinates in self.worst]

    def report(self, worst):
        reasons = sorted(((reason, count, first) for reason, (count, first) in self.reasons.items()),
                         key=lambda r: -r[1])
        comparison = CombinedPointsComparison(self.reference, (self.offset,), list(self.summaries.values()),
                                              self.failures, self.counts, worst, reasons, self.skipped)
        return ChunkedPointsReport(self.graph, None, self.results, comparison, self.ranges, self.notable)


def _shift_point(note, offset):
    """A note naming ``point [i]`` of a chunk, naming it among all points."""
    import re
    if not offset or note is None:
        return note
    return re.sub(r"point \[(\d+)\]", lambda m: f"point [{int(m.group(1)) + offset}]", note)


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
    if details.get("first_failure"):     # it names a point among those where f is defined: name it among all
        import re
        from .backends.finite_difference import failure_notes
        where = np.argwhere(defined)
        details["first_failure"] = re.sub(r"point \[(\d+)\]", lambda m: f"point {point_index(where[int(m.group(1))])}",
                                          details["first_failure"], count=1)
        details["notes"] = failure_notes(details["failed_points"], details["first_failure"])
    value = tuple(spread(np.asarray(v, dtype=float)) if np.ndim(v) else v for v in result.value)
    return replace(result, value=value, jacobian=jacobian, details=details)

"""Gradient checks of Python functions, in a test: `gradcheck` (layers: `adcompare.layer_check`).

The flow: the function is traced into a Graph (`adcompare.tracing`) where the tracer can
follow it; else it is checked black-box on the function as written (`adcompare.black_box`),
and the report says why. Traced, the user's gradient is held entry by entry to reverse
mode on the Graph (or sympy's derivative in high precision, where it is cheap), and that
reference is confirmed by finite differences of the user's own code along a random
direction, for O(1) evaluations of f. Black-box, finite differences are the reference:
along random directions first, then, once something fails (or the complex step makes it
cheap), entry by entry, to name the wrong entries. Entries are graded ok / close / wrong
(`adcompare.findings`); the report is data, drawn by `adcompare.render.gradcheck`.

Kinks. Where some node of the trace is at a kink (relu or abs at 0, a max tie) or has an
infinite local partial, the function's exact one-sided derivatives (`nonsmooth.analyse`)
decide each entry; where a comparison in the code was decided at a tie (the trace holds
one branch only), the one-sided derivatives of the function as written
(`nonsmooth.analyse_code`) do: where they
differ, any value between them passes (a subgradient); where they agree, the function is
differentiable there and that common value is the reference, whatever the branch the
trace recorded says (``np.where(x < 0, -1.0, 1.0) * np.abs(x)`` at 0 is x: derivative 1).

    >>> import numpy as np
    >>> report = gradcheck(lambda x: np.sum(x ** 3), np.array([1.0, -2.0]),
    ...                    grad=lambda x: 3 * x ** 2)
    >>> report.passed, report.reference
    (True, 'symbolic')
"""

import dataclasses
import math

import mpmath
import numpy as np

from .backends import METHODS, run_method
from .black_box import EPS, Differences, Evaluation
from .compare import DEFAULT_TOLERANCES, Tolerance, compare
from .errors import InputError
from .findings import (Finding, GradcheckReport, KinkEntry, close_band, failing_grades, grade, summarize,
                       worst_per_argument)
from .graph import Const
from .nonsmooth import Kink, analyse, analyse_code
from .tracing import TracingError, trace_function

DEFAULT_RTOL = 1e-7
DEFAULT_ATOL = 1e-9
"""A correct float64 gradient agrees with AD to about 1e-13 relative; a bug is off by O(1).
These leave six orders of magnitude on either side."""

SYMBOLIC_BUDGET = 2_000
"""sympy runs by default while the predicted size of its work (`symbolic_size`) is at most
this; ``symbolic_budget=`` changes it, 0 turns sympy off."""

USER = "user"
TITLES = {"finite_difference": "finite differences", "symbolic": "symbolic (sympy)",
          "forward": "forward mode", "reverse": "reverse mode", USER: "your gradient"}


class GradcheckError(AssertionError):
    """A gradient check failed. ``report`` is the GradcheckReport (None when the gradient
    could not even be read, e.g. it has the wrong shape)."""

    def __init__(self, message, report=None):
        super().__init__(message)
        self.report = report


# ---- Reading the user's gradient ---------------------------------------------------------

def user_jacobian(returned, arguments, output_shape, what="grad", all_positions=None):
    """The user's gradient (or Jacobian) as an (m, n) float matrix in variable order.

    For one argument ``returned`` is one array; for several, a tuple or list with one per
    differentiated argument (or one per argument of the function, ``all_positions`` of
    them, the others ignored). Each has the shape of the function's result followed by
    the argument's shape. Raises GradcheckError for a wrong count, a wrong shape or a value
    that is not a number.
    """
    parts = None
    if isinstance(returned, tuple) or (isinstance(returned, list) and not _is_number_list(returned)):
        if len(returned) == len(arguments):
            parts = list(returned)
        elif all_positions and len(returned) == all_positions:
            parts = [returned[a.position] for a in arguments]
        elif len(arguments) == 1:
            parts = [returned]
        count = len(returned)
    elif len(arguments) == 1:
        parts = [returned]
    else:
        count = "a single value"
    if parts is None:
        raise GradcheckError(f"{what} must return {len(arguments)} gradient{'s' if len(arguments) != 1 else ''}, "
                             f"one per differentiated argument ({', '.join(a.name for a in arguments)}), as a "
                             f"tuple or list; got {count}")
    m = math.prod(output_shape)
    columns = []
    for argument, part in zip(arguments, parts):
        try:
            array = np.asarray(part, dtype=float)
        except (TypeError, ValueError):
            raise GradcheckError(f"{what} returned a {type(part).__name__} for {argument.name}, "
                                 "not an array of numbers") from None
        expected = tuple(output_shape) + tuple(argument.shape)
        if array.shape != expected:
            raise GradcheckError(f"{what} returned shape {array.shape} for {argument.name}; expected {expected} "
                                 f"(the shape of {argument.name}" +
                                 (f", after the result's shape {tuple(output_shape)})" if output_shape else ")"))
        columns.append(array.reshape(m, argument.size))
    return np.hstack(columns)


def _is_number_list(value):
    return isinstance(value, list) and all(isinstance(v, (int, float)) for v in value)


# ---- Choosing the methods -----------------------------------------------------------------

def symbolic_size(graph):
    """The predicted size of sympy's work on ``graph``: `backends.symbolic.predicted_size`
    where it exists, else variables × operations × (1 + k)², with k the max and min nodes
    of two live arguments (a running maximum: each doubles the pieces of sympy's
    derivative; softmax over 3 columns took sympy 1.6 s, over 4 columns more than 5 s,
    while smooth graphs of the same size take 0.2 s)."""
    from .backends import symbolic
    predicted = getattr(symbolic, "predicted_size", None)
    if predicted is not None:
        return predicted(graph).total
    pieces = sum(1 for node in graph.nodes if node.op in ("max", "min") and
                 not any(isinstance(a, Const) for a in node.args))
    return graph.n_inputs * len(graph.nodes) * (1 + pieces) ** 2


def _methods_to_run(methods, graph, with_gradient, budget, notes):
    if methods is None:
        methods = ("symbolic", "reverse") if with_gradient else METHODS
        explicit = False
    else:
        methods = (methods,) if isinstance(methods, str) else tuple(methods)
        explicit = True
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise InputError(f"unknown method {unknown[0]!r} (methods: {', '.join(METHODS)})" if unknown
                         else "no methods to check with")
    run = []
    for method in methods:
        if method == "symbolic":
            size = symbolic_size(graph)
            if size > budget:
                if explicit or budget > 0:
                    notes.append(f"symbolic (sympy) skipped: its predicted size, {size:,}, is over gradcheck's budget "
                                 f"of {budget:,} (symbolic_budget=)")
                continue
        run.append(method)
    if "reverse" not in run and "forward" not in run and not explicit:
        run.append("reverse")
    return run


# ---- The check --------------------------------------------------------------------------

def _tolerances(rtol, atol):
    for name, value in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise InputError(f"{name} must be a non-negative number, got {value!r}")
    return Tolerance(rtol, atol)


def _name(function):
    """How a report names the user's function: its qualified name without the enclosing
    functions ('<lambda>', 'Net.loss', not 'test_loss.<locals>.<lambda>')."""
    return getattr(function, "__qualname__", type(function).__name__).rpartition("<locals>.")[2]


def run_check(function, args, *, names=None, wrt=None, grad=None, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL,
              strict=False, methods=None, symbolic_budget=None, title=None, grad_title="grad",
              user_title="your gradient", user=None, headline=None, notes=(), random_state=None):
    """The machinery behind `gradcheck` and `check_layer`; returns a GradcheckReport.

    ``grad(*args)`` returns the user's gradient (see `user_jacobian`); ``user`` is the
    user's own callable (for the names of its module's numpy); ``headline`` a finding
    that fails the check whatever the entries say (a backward that ignores its upstream
    gradient), ``notes`` lines to add to the report; ``random_state`` the global random
    states to put back before every call (`black_box.random_states`; default, as they are now).
    """
    __tracebackhide__ = True   # pytest shows the failing test and the message, not this frame
    tolerance = _tolerances(rtol, atol)
    budget = SYMBOLIC_BUDGET if symbolic_budget is None else symbolic_budget
    evaluation = Evaluation(function, args, names, wrt, random_state)
    notes = list(notes)
    traced, untraced, where = None, None, None
    try:
        traced = trace_function(evaluation.call, *args, names=evaluation.names, wrt=evaluation.wrt,
                                user=user or function)
    except TracingError as error:
        untraced, where = str(error), error.where
    value = evaluation.outputs(evaluation.point)     # the function as written: its own errors are the user's
    if not np.array_equal(evaluation.outputs(evaluation.point), value, equal_nan=True):
        raise TracingError("the function is not deterministic: two calls at the same point returned different "
                           "values (draw random numbers from a seeded generator, or fix them outside)")
    if traced is not None:
        traced_value = np.array(traced.value)
        if traced_value.shape != value.shape or not np.allclose(value, traced_value, rtol=DEFAULT_RTOL,
                                                                atol=DEFAULT_ATOL):
            k = int(np.argmax(np.abs(value - traced_value))) if traced_value.shape == value.shape else 0
            untraced = (f"the traced Graph does not reproduce the function (output {k} is {traced_value[k]!r} traced "
                        f"but {value[k]!r} on floats)")
            traced = None
    if traced is not None:
        differs = _differs_nearby(evaluation, traced)
        if differs is not None:
            untraced, traced = differs, None
    if traced is not None and traced.dead_errors:
        notes += [f"not used by the result: {message}" for message in traced.dead_errors]
    user_values = None
    if grad is not None:
        evaluation.replay()
        returned = grad(*evaluation.arguments_at(evaluation.point))
        user_values = user_jacobian(returned, evaluation.arguments, evaluation.output_shape, grad_title,
                                    all_positions=len(evaluation.args))
    title = title or f"gradcheck of {_name(function)}"
    common = dict(title=title, arguments=evaluation.arguments, output_shape=evaluation.output_shape,
                  user_title=user_title, strict=strict, headline=headline, user_values=user_values)
    if traced is not None:
        report = _traced_check(evaluation, traced, user_values, tolerance, methods, budget, notes, common)
    else:
        report = _black_box_check(evaluation, user_values, tolerance, notes, common, untraced, where)
    if not report.passed:
        from .render.gradcheck import failure_message
        raise GradcheckError(failure_message(report), report)
    return report


def _traced_check(evaluation, traced, user_values, tolerance, methods, budget, notes, common):
    graph, point = traced.graph, traced.point
    run = _methods_to_run(methods, graph, user_values is not None, budget, notes)
    results = {m: run_method(m, graph, point) for m in run}
    for method, result in results.items():
        if result.error is not None and method != "symbolic":
            notes.append(f"{TITLES[method]} could not be computed: {result.error}")
    reference = next((m for m in ("symbolic", "reverse", "forward", "finite_difference")
                      if m in results and results[m].error is None), None)
    if reference is None:
        reasons = "; ".join(f"{TITLES[m]}: {r.error}" for m, r in results.items())
        raise GradcheckError(f"no method could compute the derivative at this point ({reasons})")
    if results.get("symbolic") is not None and results["symbolic"].error is not None:
        notes.append(f"symbolic (sympy) {results['symbolic'].error}")
    sides = _one_sided(graph, point, traced, evaluation)
    kinks = [] if sides is None else [(kink.slot, kink.text) for kink in sides.kinks]
    expected = np.array(results[reference].jacobian, dtype=object if reference == "symbolic" else float)
    differences = Differences(evaluation, complex_step=False)
    directions = ()
    if sides is None:
        directions = (_confirm_reference(differences, expected, notes),)
    kink_sources = tuple(_kink_source(graph, slot, text) for slot, text in kinks)
    if user_values is None:
        report = _cross_check(results, reference, sides, notes, common, traced, directions, kink_sources)
        return report
    findings, kink_entries = _grade_all(expected, user_values, tolerance, sides, results, reference, notes)
    findings = _confirm_worst(findings, differences, common["arguments"], common["strict"])
    summaries = summarize(common["arguments"], findings, len(graph.outputs), strict=common["strict"])
    return GradcheckReport(**common, traced=traced, reference=reference, findings=tuple(findings),
                           summaries=summaries, kinks=tuple(kink_entries), kink_sources=kink_sources,
                           results=results, directions=directions, notes=tuple(notes),
                           jacobian_values=_reference_values(expected, sides))


def _one_sided(graph, point, traced, evaluation):
    """The function's one-sided derivatives where some node is on its kink or has an
    infinite local partial (exact: `nonsmooth.analyse` on the Graph), or where the code
    compared values at a tie (the Graph holds one branch only: one-sided differences of
    the function as written, `nonsmooth.analyse_code`); None where f is smooth here."""
    if traced.ties:
        kinks = [Kink(tie.slot, tie.description, "the branch the comparison took") for tie in traced.ties]
        return analyse_code(evaluation.outputs, evaluation.point, kinks)
    return analyse(graph, point)


def _reference_values(expected, sides):
    values = np.array(expected, dtype=float)
    if sides is not None:
        for (k, j), one in sides.entries.items():
            if one.differentiable:
                values[k, j] = one.value
    return values


FD = DEFAULT_TOLERANCES["finite_difference"]


def _entry_bounds(one):
    """(low, high, scale) of an entry's one-sided derivatives. Where only one side exists
    (f undefined on the other, or jumping there: floor at an integer), a gradient is held
    to that side, the derivative of f where it is defined and continuous (what AD's
    conventions give: 0 for floor). Where neither does, no value can be held to them: the
    interval is the whole line."""
    if one.interval is None:
        finite = [v for v in (one.left, one.right) if v is not None]
        if len(finite) == 1:
            return finite[0], finite[0], abs(finite[0])
        return -math.inf, math.inf, 0.0
    low, high = one.interval
    return low, high, max(abs(low), abs(high))


def _grade_all(expected, user_values, tolerance, sides, results, reference, notes):
    """Every entry of the user's values held to the reference (or a kink's interval)."""
    m, n = user_values.shape
    findings, kink_entries = [], []
    chosen_by = next((r for r in ("reverse", "forward", "symbolic") if r in results and results[r].error is None),
                     reference)
    with np.errstate(all="ignore"):
        if expected.dtype != object:
            errors = np.abs(user_values - expected)
            relative = np.where(errors == 0, 0.0, errors / np.abs(expected))
    convention = []
    for k in range(m):
        for j in range(n):
            got = float(user_values[k, j])
            one = sides.entry(k, j) if sides is not None else None
            if one is not None:
                ad = float(expected[k, j])
                if not one.differentiable:
                    low, high, scale = _entry_bounds(one)
                    distance = max(low - got, got - high, 0.0) if not math.isnan(got) else math.nan
                    slack = 0.0 if one.exact else FD.bound(scale)
                    g = grade(distance, scale, tolerance, reference_error=slack)
                    findings.append(Finding(k, j, (low, high), got, distance, _relative(distance, scale), g))
                    kink_entries.append(KinkEntry(k, j, one.left, one.right, ad, chosen_by, got, g != "wrong"))
                    continue
                common_value = one.value
                estimate = 0.0 if one.exact else FD.bound(common_value)
                error = abs(got - common_value)
                findings.append(Finding(k, j, common_value, got, error, _relative(error, common_value),
                                        grade(error, common_value, tolerance, reference_error=estimate / 2),
                                        reference_error=estimate / 2))
                if abs(ad - common_value) > max(estimate, DEFAULT_TOLERANCES["reverse"].bound(common_value)):
                    convention.append((k, j, ad, common_value))
                continue
            if expected.dtype == object:
                with mpmath.workdps(40):
                    reference_value = mpmath.mpf(expected[k, j])
                    error = float(abs(mpmath.mpf(got) - reference_value))
                findings.append(Finding(k, j, reference_value, got, error, _relative(error, float(reference_value)),
                                        grade(error, float(reference_value), tolerance)))
            else:
                e = float(errors[k, j])
                findings.append(Finding(k, j, float(expected[k, j]), got, e, float(relative[k, j]),
                                        grade(e, float(expected[k, j]), tolerance)))
    notes += _convention_notes(convention)
    return findings, kink_entries


def _convention_notes(convention):
    """Entries where both sides agree but AD took the derivative of the recorded branch."""
    return [f"at entry ({k}, {j}) the function is differentiable across a tie or kink (both one-sided derivatives "
            f"of the function as written are {value:.12g}, the reference there); AD's derivative of the branch the "
            f"trace recorded is {ad:.12g} (JAX and PyTorch return that branch's too)" for k, j, ad, value in convention[:3]]


def _relative(error, expected):
    if math.isnan(error):
        return math.nan
    return error / abs(expected) if expected else (0.0 if error == 0 else math.inf)


NEARBY = 1e-9
"""How far (relative to max(1, |x|)) from the point the trace and the code are compared again:
far enough that the change is 10⁷ times f's rounding, near enough that no comparison the
code makes changes side unless it is within 1e-9 of a tie."""


def _differs_nearby(evaluation, traced):
    """Why the trace is not the code near the point, or None: the Graph and the function as
    written evaluated at a seeded random point NEARBY away, where both must give the same
    values (as they must at the point). Code that does something else when traced (it
    branches on the type of its argument: x on floats, x·x traced) agrees at x = 1 and
    differs there; its derivatives would differ too."""
    from .graph import evaluate
    if traced.ties:
        return None         # a comparison at a tie changes side for any move: checked from both sides
    x = evaluation.point
    direction = np.random.default_rng(2).standard_normal(x.size)
    moved = x + NEARBY * max(1.0, float(np.max(np.abs(x)))) * direction
    try:
        code, code_there = evaluation.outputs(x), evaluation.outputs(moved)
        values = evaluate(traced.graph, tuple(float(v) for v in x))
        values_there = evaluate(traced.graph, tuple(float(v) for v in moved))
    except (ValueError, ArithmeticError):
        return None         # undefined there: nothing to compare (at the point they agreed)
    graph = np.array([float(values[slot]) for slot in traced.graph.outputs])
    graph_there = np.array([float(values_there[slot]) for slot in traced.graph.outputs])
    if code.shape != graph.shape:
        return None
    # The changes from the point must agree, to their rounding: x + 1e-9 on floats and
    # (x + 1e-9)² traced change by 1e-9 and 2e-9.
    change, traced_change = code_there - code, graph_there - graph
    allowed = 1e-3 * np.maximum(np.abs(change), np.abs(traced_change)) + \
        64 * EPS * np.maximum(np.abs(code_there), np.abs(graph_there))
    if np.all(np.abs(change - traced_change) <= allowed):
        return None
    k = int(np.argmax(np.abs(change - traced_change) - allowed))
    return (f"the traced Graph does not reproduce the function near the point ({NEARBY:g} away, output {k} "
            f"changes by {traced_change[k]:.6g} traced but by {change[k]:.6g} on floats): the code does something "
            "else when traced")


def _confirm_reference(differences, expected, notes):
    """Finite differences of the user's code along one random direction, against the
    reference: (what, expected, got, allowed) for the report."""
    direction = differences.random_direction()
    reference = np.array(expected, dtype=float) @ direction
    measured = differences.directional(direction)
    scale = np.abs(np.array(expected, dtype=float)) @ np.abs(direction)
    allowed = np.maximum(2 * measured.error[:, 0], FD.bound(scale))
    gap = np.abs(measured.value[:, 0] - reference)
    k = int(np.argmax(gap - allowed))
    if gap[k] > allowed[k]:
        notes.append(f"finite differences of the function as written ({measured.method}) along a random direction "
                     f"give {measured.value[k, 0]:.12g}, the traced derivative {reference[k]:.12g}: a kink or a "
                     "jump within the step, or code the tracer followed wrongly; your gradient is held to the trace")
    return (f"random direction ({measured.method}, {measured.evaluations} evaluations of f)",
            float(reference[k]), float(measured.value[k, 0]), float(allowed[k]), "ok" if gap[k] <= allowed[k] else "wrong")


def _confirm_worst(findings, differences, arguments, strict):
    """Finite differences of the user's code at each argument's worst failing entries."""
    failing = failing_grades(strict)
    chosen = worst_per_argument(arguments, findings, lambda f: 2 if f.grade in failing and not f.at_kink else 0)
    if not chosen:
        return findings
    variables = sorted({f.variable for f in chosen})
    columns = differences.entries(variables)
    where = {j: i for i, j in enumerate(variables)}
    picked = {(f.output, f.variable) for f in chosen}
    return [dataclasses.replace(f, confirmed=float(columns.value[f.output, where[f.variable]]))
            if (f.output, f.variable) in picked else f for f in findings]


def _kink_source(graph, slot, text):
    if slot is None or slot < graph.n_inputs:
        return f"{text}"
    return f"{text} (node {graph.baydin_number(slot)}, {graph.node(slot).op})"


def _cross_check(results, reference, sides, notes, common, traced, directions, kink_sources):
    """No user gradient: the methods against each other, as `adcompare trace` does."""
    from .render.style import derivative_name
    comparison = compare(results, analysis=sides, names=lambda k, j: derivative_name(traced.graph, k, j))
    findings, kink_entries = [], []
    chosen_by = next((r for r in ("reverse", "forward", "symbolic") if r in results and results[r].error is None),
                     reference)
    for entry in comparison.entries:
        k, j = entry.output, entry.variable
        one = sides.entry(k, j) if sides is not None else None
        if one is not None:
            if one.differentiable:
                low = high = one.value
                scale = abs(one.value)
            else:
                low, high, scale = _entry_bounds(one)
                kink_entries.append(KinkEntry(k, j, one.left, one.right, float(results[chosen_by].jacobian[k, j]),
                                              chosen_by, None, True))
            ad = float(results[chosen_by].jacobian[k, j])
            slack = 0.0 if one.exact else FD.bound(scale)
            if one.differentiable and abs(ad - one.value) > max(slack, DEFAULT_TOLERANCES["reverse"].bound(scale)):
                notes += _convention_notes([(k, j, ad, one.value)])
            # Every method, the reference too, against the function's own one-sided derivatives.
            for method in dict.fromkeys([reference] + [c.method for c in entry.checks]):
                value = float(results[method].jacobian[k, j])
                distance = max(low - value, value - high, 0.0)
                ok = distance <= max(slack, DEFAULT_TOLERANCES[method].bound(scale))
                why = None if ok else "kink convention: the derivative of the branch the trace recorded"
                expected = (low, high) if not one.differentiable else one.value
                findings.append(Finding(k, j, expected, value, distance,
                                        _relative(distance, scale if isinstance(expected, tuple) else expected),
                                        "ok" if ok else "wrong", method=method, explanation=why))
            continue
        for check in entry.checks:
            findings.append(Finding(k, j, entry.reference, float(check.value), check.abs_error, check.rel_error,
                                    "ok" if check.ok else "wrong", method=check.method, explanation=check.explanation))
    return GradcheckReport(**common, traced=traced, reference=reference, findings=tuple(findings),
                           kinks=tuple(kink_entries), kink_sources=kink_sources, results=results,
                           comparison=comparison, directions=directions, notes=tuple(notes), cross_check=True)


def _black_box_check(evaluation, user_values, tolerance, notes, common, untraced, where):
    """The function as written is the only witness: finite differences are the reference."""
    differences = Differences(evaluation)
    rows, failed, unresolved = [], False, False
    if user_values is not None:
        for _ in range(2):
            direction = differences.random_direction()
            measured = differences.directional(direction)
            claimed = user_values @ direction
            scale = np.abs(user_values) @ np.abs(direction)
            gap = np.abs(claimed - measured.value[:, 0])
            grades = [grade(g, s, tolerance, reference_error=e) for g, s, e in
                      zip(gap, scale, measured.error[:, 0])]
            k = int(np.argmax(gap))
            worst = "wrong" if "wrong" in grades else ("close" if "close" in grades else "ok")
            rows.append((f"random direction ({measured.method}, {measured.evaluations} evaluations of f)",
                         float(measured.value[k, 0]), float(claimed[k]),
                         float(max(2 * measured.error[k, 0], tolerance.bound(scale[k]))), worst))
            failed = failed or worst in failing_grades(common["strict"])
            unresolved = unresolved or not np.all(np.isfinite(measured.error))
            loose = 2 * measured.error[:, 0] > close_band(tolerance).bound(scale)
            if np.any(loose) and np.all(np.isfinite(measured.error)):
                k = int(np.argmax(measured.error[:, 0] / np.maximum(scale, 1e-300)))
                notes.append(f"finite differences of the function as written are accurate only to about "
                             f"{measured.error[k, 0]:.1e} along this direction (against {scale[k]:.3g}): the check "
                             "is no stricter than that")
    findings, jacobian = (), None
    per_entry = user_values is None or failed or differences.complex_ok
    if per_entry:
        columns = differences.entries(range(evaluation.n))
        jacobian = columns.value
        if user_values is not None:
            findings = []
            for k in range(evaluation.m):
                for j in range(evaluation.n):
                    expected, estimate = float(columns.value[k, j]), float(columns.error[k, j])
                    got = float(user_values[k, j])
                    error = abs(got - expected)
                    findings.append(Finding(k, j, expected, got, error, _relative(error, expected),
                                            grade(error, expected, tolerance, reference_error=estimate),
                                            reference_error=estimate))
        notes.insert(0, f"entries compared one by one with finite differences ({columns.method}, "
                        f"{columns.evaluations} evaluations of f)")
    elif not unresolved:
        agrees = "agrees with" if all(row[-1] == "ok" for row in rows) else "is close to"
        notes.insert(0, f"entries were not compared one by one: along each random direction your gradient {agrees} "
                        "finite differences of the function as written")
    if unresolved or (jacobian is not None and not np.all(np.isfinite(columns.error))):
        common = {**common, "headline": common["headline"] or (
            "inconclusive: finite differences of the function as written do not converge at this point (a kink or "
            "a singularity within every step tried, down to 1e-6 of the first, and of the point's own scale); "
            "nothing could be checked here. "
            "Move the point, or let the tracer follow the code")}
    summaries = summarize(common["arguments"], findings, evaluation.m, strict=common["strict"])
    return GradcheckReport(**common, traced=None, reference="finite differences", findings=tuple(findings),
                           summaries=summaries, directions=tuple(rows), notes=tuple(notes), untraced=untraced,
                           untraced_where=where, jacobian_values=jacobian, cross_check=user_values is None)


def gradcheck(f, *args, grad=None, atol=DEFAULT_ATOL, rtol=DEFAULT_RTOL, strict=False, methods=None,
              wrt=None, symbolic_budget=None):
    """Check the gradient (or Jacobian) of ``f`` at ``args``; return a GradcheckReport.

    With ``grad``, a function taking the same arguments, check what it returns (one
    array per differentiated argument, each shaped like its argument, preceded by the
    result's shape for a vector-valued ``f``) against the reference. Each entry is graded
    (`adcompare.findings`): ok within atol + rtol·|expected|, close within 1e-6 +
    1e-4·|expected|, else wrong; wrong entries fail, and close ones too with
    ``strict=True``. Without ``grad``, cross-check the back ends on ``f``.

    ``wrt`` names (or positions of) the arguments to differentiate; by default every float
    argument (integer and boolean arrays, dicts and other objects are passed as they are).
    ``methods`` chooses the back ends on the traced graph (default: sympy while its
    predicted size is within ``symbolic_budget``, and reverse mode; all four without
    ``grad``). A function the tracer cannot follow is checked black-box, and the report
    says why.

    Raises GradcheckError (an AssertionError) naming the wrong entries, grouped by argument.

    >>> W = np.array([[0.1, 0.5], [-0.3, 0.8]])
    >>> report = gradcheck(lambda x: np.sum((W @ x) ** 2), np.array([0.2, 0.4]),
    ...                    grad=lambda x: 2 * W.T @ (W @ x))
    >>> report.jacobian.round(3).tolist()
    [[-0.112, 0.636]]
    """
    __tracebackhide__ = True
    return run_check(f, args, grad=grad, rtol=rtol, atol=atol, strict=strict, methods=methods, wrt=wrt,
                     symbolic_budget=symbolic_budget)

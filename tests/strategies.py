"""Hypothesis strategies: random evaluation traces over the whole operation table, and the
checks that decide whether the four back ends' answers are right — agreeing, or disagreeing
for a reason that is classified, and classified correctly.

Used by tests/test_properties.py (a bounded profile) and benchmarks/fuzz_agreement.py
(the long run).
"""

import math
from fractions import Fraction

import mpmath
import numpy as np
from hypothesis import assume, strategies as st

from adcompare.backends import run_method
from adcompare.backends.finite_difference import step_size
from adcompare.errors import DomainError
from adcompare.graph import Const, Graph, Node, argument_values, evaluate, singular_sides
from adcompare.ops import OPERATIONS
from adcompare.report import trace_graph

OPERATION_NAMES = sorted(name for name, op in OPERATIONS.items() if not op.internal)
FLOATS = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


@st.composite
def constants(draw):
    value = draw(st.sampled_from([0.5, 2.0, 3.0, -1.0, 0.1, 1.5]) | st.floats(-4.0, 4.0, width=32))
    return Const(float(value), Fraction(float(value)), repr(float(value)))


@st.composite
def graphs_and_points(draw, max_operations=7, max_inputs=3):
    """A random Graph (operations drawn from the whole table, arguments from earlier slots,
    biased towards the latest so that graphs are deep) and a point."""
    n = draw(st.integers(1, max_inputs))
    nodes = []
    for k in range(draw(st.integers(1, max_operations))):
        op = OPERATIONS[draw(st.sampled_from(OPERATION_NAMES))]
        args = []
        for position in range(op.arity):
            if position > 0 and draw(st.integers(0, 4)) == 0:
                args.append(draw(constants()))
            elif draw(st.booleans()):
                args.append(n + k - 1)                       # the latest slot: depth
            else:
                args.append(draw(st.integers(0, n + k - 1)))
        nodes.append(Node(op.name, tuple(args)))
    graph = Graph(tuple(f"x{i + 1}" for i in range(n)), tuple(nodes), (n + len(nodes) - 1,))
    point = tuple(draw(FLOATS) for _ in range(n))
    return graph, point


def overflow_is_real(graph, point, slot):
    """True when the node at ``slot`` overflows in exact arithmetic too (the classification
    'overflow' is right): its exact value, from sympy at 30 digits, exceeds the float range."""
    values = list(point)
    for s in range(graph.n_inputs, slot):
        values.append(OPERATIONS[graph.node(s).op].evaluate(*argument_values(graph.node(s).args, values)))
    args = argument_values(graph.node(slot).args, values)
    import sympy
    exact = OPERATIONS[graph.node(slot).op].to_sympy(*[sympy.Float(float(a), 30) for a in args]).evalf(30)
    return bool(abs(exact) > np.finfo(float).max)


def check_agreement(graph, point):
    """Run all four back ends; return the classification of the outcome, asserting that it
    is right. Outcomes: 'agree', 'kink', 'cancellation', 'finite-difference error',
    'domain edge', 'kink nearby', 'pole nearby', or 'overflow' (the point is then refused
    as bad input). Points outside the domain are not test cases."""
    try:
        report = trace_graph(graph, point)
    except DomainError as error:
        if error.kind == "overflow":
            assert overflow_is_real(graph, point, error.node), f"overflow reported but not real: {error}"
            return "overflow"
        assume(False)   # outside the domain, or no finite derivative: bad input, not a test case
    comparison = report.comparison
    if comparison.agree:
        return "agree"
    if comparison.kinks:
        return "kink"
    # Away from kinks the exact methods must agree: an unexplained AD or symbolic
    # disagreement is a bug in adcompare.
    symbolic = report.results["symbolic"]
    if symbolic.error_kind == "too large":
        return "symbolic over its budget"
    if symbolic.error_kind == "undefined":
        # Right when the exact derivative really has no finite value here (a pole that
        # rounding moved off the point, as tan(acos(0))): sympy, at 30 digits, said so.
        assert symbolic.error and "not a finite real number" in symbolic.error
        return "undefined in exact arithmetic"
    for method, message in comparison.failures.items():
        if method in ("forward", "reverse"):
            # Right when the chain-rule terms really exceed the float range.
            assert report.results[method].error_kind == "overflow", message
            assert not np.all(np.isfinite(report.results[method].details["rounding_bound"])), message
            return "overflow"
        assert method == "finite_difference", f"{method} failed: {message}"
    for entry, check in comparison.mismatches:
        assert check.explanation is not None, f"unexplained mismatch: {check}"
        if check.explanation == "rounding of f":
            assert exact_stencil_agrees(graph, point, report, entry), check
        if check.method != "finite_difference" or check.explanation == "rounding":
            assert check.explanation in ("cancellation", "rounding"), check
            if check.explanation == "cancellation":
                # Right when the chain-rule terms were far larger than the derivative.
                bound = report.results[check.method].details["rounding_bound"][entry.output, entry.variable]
                assert bound > 1e3 * np.finfo(float).eps * abs(float(entry.reference)), (bound, check)
            else:
                # Right when the same chain rule in 340-digit arithmetic, with sympy's own
                # derivative of each operation, reproduces the reference: the float
                # program's rounding, not the accumulation, made the difference.
                # Or the exact point is a kink that rounding moved the float point off
                # (|cos(acos(x))| at 0: exactly |x|, in floats |6.1e-17|).
                if exact_kink(graph, point):
                    continue
                exact = high_precision_tangent(graph, point, entry.output, entry.variable)
                with mpmath.workdps(40):
                    reference = mpmath.mpf(entry.reference)
                    assert abs(exact - reference) <= 1e-20 * max(1, abs(reference)), (exact, reference)
    explained = {check.explanation for _, check in comparison.mismatches
                 if check.method != "finite_difference" or check.explanation == "rounding"}
    if explained:
        return "rounding" if "rounding" in explained else "cancellation"
    if "finite_difference" in comparison.failures:
        assert report.results["finite_difference"].error_kind in ("domain", "overflow")
        return "domain edge"
    kinds = {check.explanation for _, check in comparison.mismatches}
    nearby = kinds & {"domain edge", "overflow nearby", "kink nearby", "pole nearby"}
    if nearby:
        # Right when the default central stencil does leave the domain (or overflow), or
        # straddle a kink or pole.
        assert central_stencil_leaves_or_straddles(graph, point), (
            f"{kinds} reported, but the central stencil stays inside the domain and on one side of "
            "every kink and pole")
        return sorted(nearby)[0]
    if kinds & {"step too coarse", "jump in slope nearby"}:
        # Right when a step a thousand times smaller, and below the scale of x itself,
        # resolves it (ln(x²) at 5e-68 varies on the scale of x; √(x²) at 1e-12 has a
        # kink inside it).
        for entry, check in comparison.mismatches:
            if check.explanation in ("step too coarse", "jump in slope nearby"):
                j = entry.variable
                center = float(report.results["finite_difference"].value[entry.output])
                # The step over which f changes by 1e-4 of itself, whatever sets that scale.
                h = min(step_size(point[j]) / 1000, abs(point[j]) * 1e-3 or 1.0,
                        1e-4 * max(1.0, abs(center)) / max(abs(float(entry.reference)), 1e-300))
                f = [evaluate(graph, point[:j] + (point[j] + s * h,) + point[j + 1:])[graph.outputs[entry.output]]
                     for s in (1, -1)]
                finer = (f[0] - f[1]) / (2 * h)
                roundoff = 10 * np.finfo(float).eps * max(1.0, abs(center)) / h
                assert math.isclose(finer, float(entry.reference), rel_tol=1e-3, abs_tol=max(1e-6, roundoff)), (
                    finer, check)
        return "step too coarse" if "step too coarse" in kinds else "jump in slope nearby"
    # 'finite-difference error' is right when a more accurate difference method resolves it.
    analytic = all(OPERATIONS[graph.node(s).op].analytic for s in range(graph.n_inputs, graph.size) if graph.live[s])
    better = "complex-step" if analytic else "richardson"
    refined = run_method("finite_difference", graph, point, method=better)
    if refined.jacobian is None:    # the complex step overflowed where real arithmetic did not
        better = "richardson"
        refined = run_method("finite_difference", graph, point, method=better)
    reference = report.results[comparison.reference].jacobian
    with mpmath.workdps(40):
        for entry, check in comparison.mismatches:
            exact = mpmath.mpf(reference[entry.output, entry.variable])
            got = refined.jacobian[entry.output, entry.variable]
            resolved = abs(mpmath.mpf(got) - exact) < check.abs_error or math.isclose(
                float(got), float(exact), rel_tol=1e-6, abs_tol=1e-8)
            # Or, for functions no difference method resolves here (g^g with g ≈ 30), the
            # better method's own estimate admits it too.
            honest = abs(mpmath.mpf(got) - exact) <= 2 * refined.details["error_estimate"][entry.output, entry.variable]
            assert resolved or honest, f"{better} neither resolves nor admits the mismatch {check}"
    return "finite-difference error"


def central_stencil_leaves_or_straddles(graph, point):
    """Whether, in some component, x ± h or x ± 2h (the central stencil and its error
    estimate) leaves the domain or lies across a kink or pole from x."""
    center_sides = [np.sign(side) for _, _, side in singular_sides(graph, evaluate(graph, point))]
    for j, x in enumerate(point):
        h = step_size(x)
        for shifted in (x + h, x - h, x + 2 * h, x - 2 * h):
            try:
                values = evaluate(graph, point[:j] + (shifted,) + point[j + 1:])
            except DomainError:
                return True
            sides = [np.sign(side) for _, _, side in singular_sides(graph, values)]
            if any(a != b for a, b in zip(sides, center_sides)):
                return True
    return False


def high_precision_tangent(graph, point, output, variable):
    """Forward mode over the Graph in high-precision arithmetic, each local partial taken
    from sympy's derivative of the operation's sympy counterpart (not from our table).

    340 digits cover any float's magnitude plus 30 (tan of 1e38 needs 38 before its
    first), but not compositions that magnify (tan(tan(acos(6e-283))) takes tan of
    1.6e282, known to 1e-67 relative after acos at 340 digits): the precision is
    quadrupled until two successive results agree to 25 digits."""
    previous = None
    for digits in (340, 1360, 5440):
        result = _tangent_at_precision(graph, point, output, variable, digits)
        with mpmath.workdps(40):
            if previous is not None and abs(result - previous) <= 1e-25 * abs(result):
                return result
        previous = result
    return result


def _tangent_at_precision(graph, point, output, variable, digits):
    import sympy
    n = graph.n_inputs
    with mpmath.workdps(digits + 10):
        values = [mpmath.mpf(x) for x in point]
        tangents = [mpmath.mpf(1 if i == variable else 0) for i in range(n)]
        for slot in range(n, graph.size):
            node = graph.node(slot)
            op = OPERATIONS[node.op]
            symbols = sympy.symbols(f"a0:{op.arity}", real=True)
            args = [mpmath.mpf(a.value) if isinstance(a, Const) else values[a] for a in node.args]
            at = {s: sympy.Float(a, digits + 10) for s, a in zip(symbols, args)}
            expression = op.to_sympy(*symbols)
            values.append(mpmath.mpf(sympy.N(expression.subs(at), digits + 10)))
            tangent = mpmath.mpf(0)
            for symbol, arg in zip(symbols, node.args):
                if not isinstance(arg, Const):
                    tangent += mpmath.mpf(sympy.N(sympy.diff(expression, symbol).subs(at), digits + 10)) * tangents[arg]
            tangents.append(tangent)
        return tangents[graph.outputs[output]]


def exact_stencil_agrees(graph, point, report, entry):
    """Whether the finite-difference stencil that was used, evaluated in exact arithmetic
    (sympy, 40 digits) at the same float points, comes within finite differences' tolerance
    of the reference, or ten times closer than in floats: then rounding in evaluating f,
    not truncation, made the mismatch."""
    import sympy
    from adcompare.backends.symbolic import _high_precision, slot_expressions
    result = report.results["finite_difference"]
    row = result.details["rows"][entry.variable]
    assert row.stencil in ("central", "forward", "one-sided forward", "one-sided backward"), row.stencil
    symbols, expressions = slot_expressions(graph)
    expression = expressions[graph.outputs[entry.output]]

    def exact_f(offset):
        moved = list(point)
        moved[entry.variable] = point[entry.variable] + offset    # the float point f was evaluated at
        return _high_precision(expression, {x: sympy.Rational(float(v)) for x, v in zip(symbols, moved)}, 40)

    with mpmath.workdps(50):
        h = mpmath.mpf(row.step)
        if row.stencil == "central":
            exact_quotient = (exact_f(row.step) - exact_f(-row.step)) / (2 * h)
        elif row.stencil == "forward":
            exact_quotient = (exact_f(row.step) - exact_f(0.0)) / h
        else:
            s = 1 if row.stencil == "one-sided forward" else -1
            exact_quotient = (-3 * exact_f(0.0) + 4 * exact_f(s * row.step) - exact_f(2 * s * row.step)) / (2 * s * h)
        reference = mpmath.mpf(entry.reference)
        exact_error = abs(exact_quotient - reference)
        float_error = abs(mpmath.mpf(result.jacobian[entry.output, entry.variable]) - reference)
        return exact_error <= 1e-6 * abs(reference) + 1e-8 or exact_error * 10 <= float_error


def exact_kink(graph, point):
    """Whether some live operation with a kink is exactly at it in exact arithmetic (sympy)."""
    import sympy
    from adcompare.backends.symbolic import slot_expressions
    symbols, expressions = slot_expressions(graph)
    at = {x: sympy.Rational(float(v)) for x, v in zip(symbols, point)}
    for slot in range(graph.n_inputs, graph.size):
        node = graph.node(slot)
        if not graph.live[slot] or OPERATIONS[node.op].kink_side is None:
            continue
        args = [sympy.Rational(a.value) if isinstance(a, Const) else expressions[a] for a in node.args]
        difference = args[0] if len(args) == 1 else args[0] - args[1]
        if sympy.simplify(difference.subs(at)) == 0:
            return True
    return False

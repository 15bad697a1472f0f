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
import pytest
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


def swelling_chain(steps):
    """s = x; `steps` times s = sin(s)·y + ln(1 + s·s): the Graph shares s, sympy's tree doubles it."""
    one = Const(1.0, Fraction(1), "1")
    nodes, s = [], 0
    for _ in range(steps):
        base = 2 + len(nodes)
        nodes += [Node("sin", (s,)), Node("mul", (base, 1)), Node("mul", (s, s)), Node("add", (one, base + 2)),
                  Node("ln", (base + 3,)), Node("add", (base + 1, base + 4))]
        s = base + 5
    return Graph(("x", "y"), tuple(nodes), (s,))


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
    analysis = comparison.analysis
    left = [m for m, r in report.results.items() if r.error and r.error.startswith(
        ("the float program leaves its domain", "the float program overflows here"))]
    if left:
        # Right when the float program really raises at the point while f, evaluated node by
        # node in sympy's exact arithmetic, is a finite real number there (acos(cos(t))/t at
        # t = 1.9e-196: 0/0 in floats, 1 exactly).
        with pytest.raises(DomainError):
            evaluate(graph, point)
        try:
            # 1/x at 6.7e-270 is 1.5e269: finite. 2,000 digits resolve every float point's nodes.
            assert not exact_value_undefined(graph, point, near_pole=False, digits=2000), left
            if any("overflows" in report.results[m].error for m in left):
                # And f itself is within the float range (exp(x)/exp(x) at 800 is 1).
                exact = dict(sympy_node_values(graph, point, 200))
                assert all(abs(exact[slot]) <= np.finfo(float).max for slot in graph.outputs), left
        except OverflowError:     # a value beyond 10^(10^6): this oracle cannot check the claim
            return "defined exactly, not in floats; f beyond the oracle"
        assert comparison.verdict.status in ("inconclusive", "disagree"), comparison.verdict
        return "defined exactly, not in floats"
    if analysis is not None:
        # A node on its kink, or an infinite local partial: the one-sided derivatives of
        # the whole function decide, and they must be right (mpmath oracle).
        check_one_sided(graph, point, analysis)
        if any(not entry.differentiable and entry.one_sided.established for entry in comparison.entries):
            assert comparison.verdict.status in ("not-differentiable", "disagree"), comparison.verdict
            return "not differentiable"
        if any(not entry.differentiable for entry in comparison.entries):
            # A side no method could give (√ of cos(acos(|x|)) at 0: exactly 0, 6.1e-17 in
            # floats, and no enclosure shows the argument is not negative): no claim is made.
            assert comparison.verdict.status in ("inconclusive", "disagree"), comparison.verdict
            return "one-sided derivatives not established"
        for method, message in comparison.failures.items():
            if report.results[method].error_kind == "infinite partial":
                assert analysis.singular, message
    if comparison.agree:
        return "agree" if analysis is None else "kink or infinite partial, differentiable"
    if all(report.results[m].error_kind == "infinite partial" for m in comparison.failures) \
            and comparison.failures and not comparison.mismatches:
        assert comparison.verdict.status == "inconclusive", comparison.verdict
        return "infinite partial, AD cannot give it"
    # Away from kinks the exact methods must agree: an unexplained AD or symbolic
    # disagreement is a bug in adcompare.
    symbolic = report.results["symbolic"]
    if symbolic.error_kind == "skipped":
        assert "symbolic" in comparison.skipped and "symbolic" not in comparison.failures
        return "symbolic over its budget"
    if symbolic.error_kind == "undefined":
        # Right when the exact derivative really has no finite value here (a pole that
        # rounding moved off the point, as tan(acos(0))): an exact argument outside an
        # operation's domain, which sympy's own exact arithmetic confirms.
        assert symbolic.error and "not a finite real number" in symbolic.error
        assert not_finite_in_exact_arithmetic(graph, point), symbolic.error
        return "undefined in exact arithmetic"
    if symbolic.error_kind == "unresolved":
        # Right when sympy's own exact arithmetic finds no finite real value, or one so
        # large that the point is within 10^-100 of a pole (tan(|acos(0)|) = tan(π/2)).
        assert not_finite_in_exact_arithmetic(graph, point), symbolic.error
        return "symbolic value not established"
    for method, message in comparison.failures.items():
        if method in ("forward", "reverse") and report.results[method].error_kind == "infinite partial":
            assert analysis is not None and analysis.singular, message
            continue
        if method in ("forward", "reverse"):
            # Right when the chain-rule terms really exceed the float range.
            assert report.results[method].error_kind == "overflow", message
            assert not np.all(np.isfinite(report.results[method].details["rounding_bound"])), message
            return "overflow"
        assert method == "finite_difference", f"{method} failed: {message}"
    for entry, check in comparison.mismatches:
        assert check.explanation is not None, f"unexplained mismatch: {check}"
        if check.explanation in ("kink convention", "stencil across a kink"):
            assert analysis is not None and analysis.kinks, check
            continue   # checked by check_one_sided: the function is differentiable, the convention is not
        if check.explanation == "rounding of f":
            # Right when the same stencil in exact arithmetic does better, or when a value f
            # depends on really is lost in floats (sin of cosh(55.1) = 4.4e23, whose ulp is
            # 8e6: no float stencil sees f), by sympy's exact value of each node.
            assert exact_stencil_agrees(graph, point, report, entry) or a_value_is_lost(graph, point), check
        if check.explanation in ("symbolic wrong", "reference undecided"):
            # sympy refuted (or not) by the numerical derivative: confirmed by forward mode in
            # 340-digit arithmetic over sympy's derivative of each operation.
            decision = comparison.referee[(entry.output, entry.variable)]
            if check.explanation == "symbolic wrong":
                exact = high_precision_tangent(graph, point, entry.output, entry.variable)
                assert decision.numerical.agrees_with(exact, 1e-30 * abs(exact)), (decision, exact)
                sympy_value = symbolic.jacobian[entry.output, entry.variable]
                assert not decision.numerical.agrees_with(sympy_value, 1e-12 * abs(exact)), (decision, sympy_value)
            continue
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
    refereed = {check.explanation for _, check in comparison.mismatches} & {"symbolic wrong", "reference undecided"}
    if refereed:
        return "sympy wrong" if "symbolic wrong" in refereed else "reference undecided"
    at_kink = {"kink convention", "stencil across a kink"}
    if comparison.mismatches and {check.explanation for _, check in comparison.mismatches} <= at_kink:
        return "differentiable at a kink; a convention or stencil misses it"
    explained = {check.explanation for _, check in comparison.mismatches
                 if check.method != "finite_difference" or check.explanation == "rounding"} - at_kink
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
    if refined.jacobian is None:
        # No better method computes here (Richardson's stencils leave the domain): the claim
        # is then only that the error is within twice finite differences' own estimate.
        estimate = report.results["finite_difference"].details["error_estimate"]
        for entry, check in comparison.mismatches:
            if check.explanation == "finite-difference error":
                assert check.abs_error <= 2 * estimate[entry.output, entry.variable], check
        return "finite-difference error" if "finite-difference error" in kinds else "rounding of f"
    reference = report.results[comparison.reference].jacobian
    with mpmath.workdps(40):
        for entry, check in comparison.mismatches:
            if check.explanation != "finite-difference error":
                continue        # each other explanation was checked above, by its own oracle
            exact = mpmath.mpf(reference[entry.output, entry.variable])
            got = refined.jacobian[entry.output, entry.variable]
            resolved = abs(mpmath.mpf(got) - exact) < check.abs_error or math.isclose(
                float(got), float(exact), rel_tol=1e-6, abs_tol=1e-8)
            # Or, for functions no difference method resolves here (g^g with g ≈ 30), the
            # better method's own estimate admits it too.
            honest = abs(mpmath.mpf(got) - exact) <= 2 * refined.details["error_estimate"][entry.output, entry.variable]
            assert resolved or honest, f"{better} neither resolves nor admits the mismatch {check}"
    return "finite-difference error" if "finite-difference error" in kinds else "rounding of f"


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
    quadrupled until two successive results agree to 25 digits (a precision at which a node
    comes out complex, ln of cos(π/2 − 1e-430) rounded below 0, counts as no result)."""
    previous = result = None
    for digits in (340, 1360, 5440):
        try:
            result = _tangent_at_precision(graph, point, output, variable, digits)
        except TypeError:           # mpmath could not make a real number of a node's value
            previous = None
            continue
        with mpmath.workdps(40):
            if previous is not None and abs(result - previous) <= 1e-25 * abs(result):
                return result
        previous = result
    if result is None:
        raise TypeError("no precision gave a real value at every node")
    return result


def _tangent_at_precision(graph, point, output, variable, digits):
    import sympy
    n = graph.n_inputs
    with mpmath.workdps(digits + 10):
        values = [mpmath.mpf(x) for x in point]
        tangents = [mpmath.mpf(1 if i == variable else 0) for i in range(n)]
        live = graph.live
        for slot in range(n, graph.size):
            node = graph.node(slot)
            if not live[slot]:            # a node no output reads (√ of 0 there) changes nothing
                values.append(None)
                tangents.append(None)
                continue
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


def check_one_sided(graph, point, analysis, digits=120):
    """Assert that every exact or high-precision one-sided derivative the analysis gives equals a one-sided
    difference quotient of f computed with mpmath at ``digits`` digits from sympy's own
    rendering of the Graph, with a step of 1e-40·|xⱼ| (at 0: 1e-40 of the smallest nonzero
    coordinate, or of 1), far inside the distance to any other kink a float point can
    have: an oracle that shares nothing with
    the directional sweeps but the expression."""
    import sympy
    from adcompare.backends.symbolic import to_sympy
    # Large literals as named constants, their exact values passed in: built as rationals,
    # cosh(tanh(u) − u) with u = tan|x₂|^(3602879701896397/2^55) ran out of memory in sympy.
    named = {}
    try:
        symbols, outputs = to_sympy(graph, constants=named)
        functions = [sympy.lambdify([*symbols, *named], f, modules="mpmath", dummify=True) for f in outputs]
    except (KeyError, TypeError, ValueError):       # sympy's f is zoo (tan(acos(0))): nothing to compare
        return                                      # (max(x, zoo) raises ValueError as it is built)
    for (k, j), one in analysis.entries.items():
        if not one.precise:        # float one-sided differences: estimates, checked by their tolerance
            continue
        # The step, and enough digits that f(x ± h) − f(x) keeps ``digits`` of them
        # whatever the magnitudes of x and f (0.5 + 3.7e-96 + 1e-136 needs 136 digits).
        # The smallest nonzero coordinate bounds the distance to a kink between coordinates
        # (max(x1, x2) at (0, 9.5e-148) is x2 for x1 below 9.5e-148).
        # Ties broken by a power of a tiny coordinate are closer still (max(x3, tan(x3) + x1)
        # at x3 = 3e-62 changes piece at x1 = −x3³/3): the eighth power bounds those.
        # A tiny constant sets a scale too (atan(|x|/1.4e-45) at 0 bends within 1e-45).
        sizes = [abs(mpmath.mpf(a.value)) for node in graph.nodes for a in node.args
                 if isinstance(a, Const) and a.value != 0]
        scale = min([abs(mpmath.mpf(float(v))) for v in point if v != 0] + sizes + [mpmath.mpf(1)]) ** 8
        h = mpmath.mpf("1e-40") * (min(abs(mpmath.mpf(float(point[j]))), scale) if point[j] != 0 else scale)
        finer = h * mpmath.mpf("1e-20")
        # Twice the step's digits: f may square it (cos(h) = 1 − h²/2 under acos).
        with mpmath.workdps(digits + 2 * int(-mpmath.log10(finer)) + 330):
            x = [mpmath.mpf(float(v)) for v in point]
            exact_constants = [mpmath.mpf(c.numerator) / c.denominator for c in named.values()]
            try:
                center = functions[k](*x, *exact_constants)
            # The oracle cannot evaluate f here (OverflowError: mpmath's complex atan of sympy's
            # x1^x3·x3^−x3 for (x1/x3)^x3 with x1, x3 < 0 makes an integer too large).
            except (ValueError, ZeroDivisionError, TypeError, OverflowError):
                continue
            if isinstance(center, mpmath.mpc):
                continue
            for side, value in ((1, one.right), (-1, one.left)):
                if value is None:
                    continue
                quotients = []
                for step in (h, finer):
                    moved = list(x)
                    moved[j] += side * step
                    try:
                        quotients.append(side * (functions[k](*moved, *exact_constants) - center) / step)
                    except (ValueError, ZeroDivisionError, TypeError, OverflowError):     # TypeError: mpmath compares a complex value
                        break
                if len(quotients) < 2 or any(isinstance(q, mpmath.mpc) or not mpmath.isfinite(q) for q in quotients):
                    continue
                quotient, finest = quotients
                if abs(quotient - finest) > 1e-6 * max(1, abs(finest)):
                    # Not converged: t^1.046 / t at t = 1e-40 is 0.014, at 1e-60 0.0017; its
                    # limit 0 is beyond any step this oracle can take.
                    continue
                assert abs(quotient - value) <= 1e-6 * max(1, abs(quotient)), ((k, j), side, value, quotient)


def a_value_is_lost(graph, point):
    """Whether the float value of some node the outputs need is off its exact value by more
    than 1e-8 relative: the exact value evaluated node by node with sympy's counterpart of
    each operation in 200-digit Floats from the point's floats (not adcompare's certified
    enclosures), the float one by the Graph's primal evaluation."""
    import sympy
    floats = evaluate(graph, point)
    live = graph.live
    try:
        for slot, exact in sympy_node_values(graph, point, 200):
            if not live[slot] or not (exact.is_real and exact.is_finite):
                continue
            if abs(exact - sympy.Float(float(np.real(floats[slot])), 200)) > sympy.Float("1e-8") * abs(exact):
                return True
    except OverflowError:       # beyond the oracle (sympy_node_values): not shown lost
        pass
    return False


def sympy_node_values(graph, point, digits=None):
    """(slot, value) for each operation, in slot order: its value with sympy's counterpart
    of each operation (not adcompare's certified enclosures) from the point's exact
    rationals, or, with ``digits``, from Floats of that many digits, each node evaluated to
    them (sympy's exact x^x of a rational with a 700-digit denominator does not finish).
    A folded constant is its own slot's value; a node no output needs is None. Raises
    ValueError or TypeError where sympy refuses to build a node (Max(zoo, ½)).

    With ``digits``, three times as many more digits as the point's smallest nonzero
    coordinate has leading zeros (acos(−9.6e-293) − π/2 is not 0 at 200 digits, and tan of
    it is then 1e200 of the wrong sign; cos(5e-324) is 1 − 1.2e-647, which acos(|·|) turns
    back into 5e-324, and a cube, x − sin x, needs three times), and raises OverflowError for an operation on a value beyond
    10^(10^6), which sympy's evalf does not finish (exp of exp(1e200))."""
    import sympy
    from adcompare.backends.symbolic import to_sympy_constant
    needed = graph.needed
    if digits is not None:
        digits += 3 * max([0] + [-math.floor(math.log10(abs(v))) for v in point if v != 0])
    values = [sympy.Rational(float(v)) if digits is None else sympy.Float(float(v), digits) for v in point]
    for slot in range(graph.n_inputs, graph.size):
        node = graph.node(slot)
        value = None
        if needed[slot]:
            args = [(values[a.slot] if a.slot is not None else to_sympy_constant(a)) if isinstance(a, Const)
                    else values[a] for a in node.args]
            # A Float's _mpf_ is (sign, mantissa, exponent, bits): beyond 2^3321929 ≈ 10^(10^6).
            if digits is not None and any(isinstance(a, sympy.Float) and a._mpf_[1] and sum(a._mpf_[2:]) > 3_321_929
                                          for a in args):
                raise OverflowError(f"{node.op} of a value beyond 10^(10^6), which this oracle does not evaluate")
            value = OPERATIONS[node.op].to_sympy(*args)
            if digits is not None:
                value = sympy.N(value, digits)
        values.append(value)
        yield slot, value


def exact_stencil_agrees(graph, point, report, entry):
    """Whether the finite-difference stencil that was used, evaluated in exact arithmetic
    (certified, with its radius carried through the quotient), comes within finite
    differences' tolerance of the reference, or at most half as far from it as the float
    quotient: then rounding made the mismatch, or most of it, as "rounding of f" says (the
    float error is T + R, the exact stencil's T alone; |T| ≤ |T + R|/2 gives |R| ≥ |T|).
    (sinh(sinh(cosh(x + acos x))) at 0: exact stencil −1.95e-8, floats −4.93e-8.)

    The stencil is evaluated at the float points f was evaluated at, and at the exact
    points x ± h: rounding x ± h is a rounding of the float program too (tan(cos x₂)/x₁
    at x₁ = x₂ = 1e-146: x₂ ± h rounds to ±h, whose exact stencil is 0 like the float one,
    where the exact points give −sec²1, the derivative)."""
    from adcompare.certified import certify_graph
    result = report.results["finite_difference"]
    row = result.details["rows"][entry.variable]
    assert row.stencil in ("central", "forward", "one-sided forward", "one-sided backward"), row.stencil
    reference = mpmath.mpf(entry.reference)
    tolerance = 1e-6 * abs(reference) + 1e-8
    float_error = abs(mpmath.mpf(result.jacobian[entry.output, entry.variable]) - reference)
    # Each stencil's points (multiples of h), weights and divisor of h, written out here from
    # the textbook formulas, not read from adcompare's stencils.
    multiples, weights, divisor = {
        "central": ((1, -1), (1, -1), 2),                        # (f(x+h) − f(x−h)) / 2h
        "forward": ((1, 0), (1, -1), 1),                         # (f(x+h) − f(x)) / h
        "one-sided forward": ((0, 1, 2), (-3, 4, -1), 2),        # (−3f(x) + 4f(x+h) − f(x+2h)) / 2h
        "one-sided backward": ((0, -1, -2), (-3, 4, -1), -2),    # the same with −h
    }[row.stencil]

    def quotient(at, digits):
        """The stencil's quotient over certified values of f at the points ``at`` gives, and
        its radius; None where f is not established at one of them."""
        values = [certify_graph(graph, at(k), digits)[entry.output] for k in multiples]
        if any(v.value is None for v in values):
            return None
        with mpmath.workdps(digits + 20):
            h = mpmath.mpf(row.step)
            value = sum(w * v.value for w, v in zip(weights, values)) / (divisor * h)
            radius = sum(abs(w) * v.radius for w, v in zip(weights, values)) / abs(divisor * h)
        return value, radius

    def float_points(k):
        moved = list(point)
        moved[entry.variable] = point[entry.variable] + k * row.step     # where f was evaluated
        return moved

    def exact_points(k):
        moved = list(point)
        moved[entry.variable] = mpmath.fadd(point[entry.variable], k * mpmath.mpf(row.step), exact=True)
        return moved

    for at in (float_points, exact_points):
        # Digits until the quotient's radius is below a thousandth of the tolerance: f's
        # variation over the stencil can be far below f (1e-151 of it above).
        digits = 40 + max(0, int(-math.log10(abs(row.step)))) if row.step else 40
        while digits <= 4000:
            found = quotient(at, digits)
            if found is None:
                break           # f is not established at a stencil point: no exact stencil to compare
            value, radius = found
            if radius <= tolerance / 1000:
                exact_error = abs(value - reference)
                if exact_error <= tolerance or exact_error * 2 <= float_error:
                    return True
                break
            digits *= 4
    return False


def _undefined(value, near_pole=True):
    """Whether sympy's exact value is not a finite real number; also where sympy cannot
    decide (a Heaviside of an argument that is exactly 0 but not provably so: its value
    cannot be established either)."""
    import sympy
    if value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return True
    number = sympy.N(value, 1000)
    try:
        return bool(not number.is_real or not number.is_finite
                    or (near_pole and abs(number) > sympy.Float(10) ** 100))
    except TypeError:
        return True


def exact_value_undefined(graph, point, near_pole=True, digits=None):
    """Whether a node the outputs depend on, evaluated node by node in sympy's exact
    arithmetic from the point's exact rationals, is not a finite real number (zoo, nan,
    complex; with ``near_pole``, also beyond 10^100 at 1000 digits: within 10^-100 of a
    pole), or sympy refuses to build it. With ``digits``, in sympy Floats of that many
    digits instead (sympy's exact x^x of a rational with a 700-digit denominator does not
    finish); raises OverflowError where it meets a value it does not evaluate
    (`sympy_node_values`)."""
    try:
        for _, value in sympy_node_values(graph, point, digits):
            if value is not None and _undefined(value, near_pole):
                return True
    except (ValueError, TypeError):
        return True
    return False


def not_finite_in_exact_arithmetic(graph, point):
    """Whether sympy's exact arithmetic finds f or its derivative undefined at the point's
    exact rationals: a node the outputs depend on (`exact_value_undefined`), or a
    subexpression of sympy's derivative, is not a finite real number (zoo, nan, complex,
    beyond 10^100 at 1000 digits: within 10^-100 of a pole), or sympy refuses to build it
    (Max(zoo, 1/2)). Every subexpression counts: sympy folds 1/ln(0) = 1/zoo to 0, so ln 0
    is seen only on its own (ln(x2)/ln(cos(acos(x1))) at x1 = 0)."""
    import sympy
    from adcompare.backends.symbolic import to_sympy
    if exact_value_undefined(graph, point):
        return True
    named = {}      # large literals as named constants, substituted with the point (see check_one_sided)
    try:
        symbols, outputs = to_sympy(graph, constants=named)
        derivatives = [sympy.diff(f, x) for f in outputs for x in symbols]
    except (ValueError, TypeError):
        return True
    at = dict(zip(symbols, (sympy.Rational(float(v)) for v in point)))
    at.update({c: sympy.Rational(v.numerator, v.denominator) for c, v in named.items()})
    subexpressions = {e for d in derivatives for e in sympy.preorder_traversal(d)}
    return any(_undefined(e.subs(at)) for e in subexpressions)


def exact_kink(graph, point):
    """Whether some live operation with a kink is exactly at it in exact arithmetic (sympy)."""
    import sympy
    from adcompare.backends.symbolic import slot_expressions
    from adcompare.certified import needed_slots
    symbols, expressions = slot_expressions(graph, needed_slots(graph))
    at = {x: sympy.Rational(float(v)) for x, v in zip(symbols, point)}
    for slot in range(graph.n_inputs, graph.size):
        node = graph.node(slot)
        if not graph.live[slot] or OPERATIONS[node.op].kink_side is None:
            continue
        args = [sympy.Rational(a.value) if isinstance(a, Const) else expressions[a] for a in node.args]
        difference = (args[0] if len(args) == 1 else args[0] - args[1]).subs(at)
        try:
            # Clearly off its kink by sympy's numerical value: simplify is not needed, and over
            # a float's rational (cos(x)^x at x = 0.0254, a denominator of 2^58) it did not
            # finish and ran out of memory.
            if abs(sympy.N(difference, 60)) > sympy.Float("1e-50"):
                continue
        except TypeError:                   # no numerical value (zoo, nan): simplify decides
            pass
        try:
            if sympy.simplify(difference) == 0:
                return True
        except (ValueError, TypeError):     # sympy cannot simplify it (a Max of a complex rewrite)
            continue
    return False


# ----------------------------------------------------------------------------- points on kinks

DYADIC = st.integers(-192, 192).map(lambda k: k / 64)   # exact in decimal, in binary and in sympy


@st.composite
def kinked_expressions_and_points(draw, max_depth=3, max_inputs=2):
    """An expression text with abs/relu/max/min placed exactly on their kinks at the point,
    among smooth operations, and the point (dyadic values, exact in floats and in sympy).

    A kink's argument is built to be exactly 0 at the point, in floats and in exact
    arithmetic alike: (xᵢ − cᵢ) with cᵢ the point's value, then sin, tanh, atan, sinh,
    negation, sums and products with anything finite; a max or min may also tie two copies
    of one smooth subexpression."""
    n = draw(st.integers(1, max_inputs))
    names = [f"x{i + 1}" for i in range(n)]
    point = [draw(DYADIC) for _ in names]

    def zero(depth):
        choice = draw(st.integers(0, 7 if depth else 0))
        if choice == 0:
            i = draw(st.integers(0, n - 1))
            return f"({names[i]} - ({point[i]!r}))"
        inner = zero(depth - 1)
        return [None, f"sin({inner})", f"tanh({inner})", f"atan({inner})", f"-{inner}",
                f"({inner})*({smooth(depth - 1)})", f"({inner} + {zero(depth - 1)})", kink(depth - 1)][choice]

    def smooth(depth):
        choice = draw(st.integers(0, 6 if depth else 1))
        if choice == 0:
            return names[draw(st.integers(0, n - 1))]
        if choice == 1:
            return repr(draw(DYADIC))
        inner = smooth(depth - 1)
        return [None, None, f"exp({inner}/4)", f"sin({inner})", f"({inner})*({smooth(depth - 1)})",
                f"({inner} + {kink(depth - 1)})", f"tanh({inner})"][choice]

    def kink(depth):
        choice = draw(st.integers(0, 4))
        if choice == 0:
            return f"abs({zero(depth)})"
        if choice == 1:
            return f"relu({zero(depth)})"
        if choice == 4:
            copy = f"{names[draw(st.integers(0, n - 1))]} + {smooth(max(depth - 1, 0))}"   # depends on a variable
            return f"{draw(st.sampled_from(['max', 'min']))}({copy}, {copy})"
        return f"{['max', 'min'][choice - 2]}({zero(depth)}, {zero(depth)})"

    def top(depth):
        choice = draw(st.integers(0, 5))
        return [kink(depth), f"{kink(depth)} + {smooth(depth)}", f"({kink(depth)})*({smooth(depth)})",
                f"exp({kink(depth)})", f"{kink(depth)} - {kink(depth)}", f"sin({kink(depth)} + {kink(depth)})"][choice]

    expression = top(draw(st.integers(0, max_depth)))
    return expression, names, point


def check_kinked(expression, names, point):
    """Trace ``expression`` at a point on its kinks and assert what issue 11 asks: the
    one-sided derivatives equal high-precision one-sided difference quotients of f (the
    mpmath oracle of `check_one_sided`), and the verdict's state follows from them (not
    differentiable where two sides differ, unless a method lies outside them: disagree).
    Returns the outcome's name."""
    from adcompare import trace
    report = trace(expression, at=dict(zip(names, point)), variables=names)
    comparison = report.comparison
    analysis = comparison.analysis
    assert analysis is not None and analysis.kinks, expression
    check_one_sided(report.graph, report.point, analysis)
    broken = [e for e in comparison.entries if not e.differentiable]
    status = comparison.verdict.status
    for entry, check in comparison.mismatches:
        # At an entry where f is not differentiable a method may only be outside the
        # sides; where it is, a convention, the stencil or rounding explains the difference.
        allowed = (("outside the one-sided derivatives",) if not entry.differentiable else
                   ("kink convention", "stencil across a kink", "finite-difference error", "cancellation",
                    "rounding"))
        assert check.explanation in allowed, (expression, check)
    if comparison.mismatches:
        assert status == "disagree", (expression, comparison.verdict)
        return ("not differentiable, and a method disagrees" if broken else
                "differentiable, a convention or stencil misses it")
    if broken:
        assert status == "not-differentiable", (expression, comparison.verdict)
        return "not differentiable"
    assert status in ("agree", "inconclusive"), (expression, comparison.verdict)
    return f"differentiable, {status}"

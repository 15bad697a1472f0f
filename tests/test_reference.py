"""The references: certified symbolic values (adcompare.intervals), the high-precision
numerical derivative (adcompare.reference), and the referee that decides before a method
is blamed. Right values come from mpmath by hand, at precisions far above those the code
under test uses, or from derivations in the comments."""

import math

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import adcompare
from adcompare import intervals
from adcompare.backends import run_method
from adcompare.backends.symbolic import to_sympy
from adcompare.compare import compare
from adcompare.errors import DomainError
from adcompare.graph import evaluate
from adcompare.certified import certify_graph, certify_sympy
from adcompare.intervals import context
from adcompare.ops import OPERATIONS
from adcompare.parse import parse
from adcompare.reference import numerical_derivative, numerical_jacobian, settle_disputes
from strategies import graphs_and_points, high_precision_tangent


def by_hand(function, digits=400):
    """``function()`` evaluated by mpmath at ``digits`` digits."""
    with mpmath.workdps(digits):
        return +function()


def close(value, exact, relative=1e-25):
    with mpmath.workdps(60):
        return abs(mpmath.mpf(value) - exact) <= relative * abs(exact)


# ----------------------------------------------------------------------------- issue 12, part 1


@pytest.mark.parametrize("text", ["relu(softplus(ln(x)))", "abs(softplus(ln(x)))"])
def test_a_step_function_is_evaluated_where_its_argument_is_resolved(text):
    # f = relu(ln(1 + x)) or |ln(1 + x)|, f′ = 1/(1 + x) for x > 0. sympy writes
    # Heaviside(log(x + 1))/(x + 1) (or sign(log(x + 1))…); at 30 digits log(1 + 1e-200) is 0,
    # and Heaviside(0) = ½ gave 0.5; a precision that resolves 1 + 1e-200 gives 1.
    x = 1e-200
    report = adcompare.trace(text, at=(x,))
    exact = by_hand(lambda: 1 / (1 + mpmath.mpf(x)))
    assert report.results["symbolic"].error is None
    assert close(report.results["symbolic"].jacobian[0, 0], exact, 1e-29)
    assert report.comparison.verdict.status == "agree"
    assert "NOT explained" not in report.render("text")


def test_sympys_wrong_formula_is_refuted_and_forward_and_reverse_are_not_blamed():
    # sympy 1.14 takes acos(tanh(10)).is_zero to be True and writes ∂/∂x x^c as c/x. With
    # c = acos(tanh 10): f′ = c·x^(c − 1) = 3.0269639183049611e-5 at x = 3 (mpmath below);
    # sympy's c/3 is 3.026661982086185e-5. Forward and reverse mode give the float program's
    # 3.0269639318659804e-05 (the value the issue quotes: tanh(10) rounded, then acos near 1
    # magnifies that by 1e4), within their tolerance of the exact derivative (atol 1e-12).
    report = adcompare.trace("x^acos(tanh(10))", at=(3.0,))
    c = by_hand(lambda: mpmath.acos(mpmath.tanh(10)))
    exact = by_hand(lambda: c * mpmath.mpf(3) ** (c - 1))
    float_c = math.acos(math.tanh(10))
    float_program = by_hand(lambda: mpmath.mpf(float_c) * mpmath.mpf(3) ** (mpmath.mpf(float_c) - 1))
    assert close(report.results["symbolic"].jacobian[0, 0], by_hand(lambda: c / 3), 1e-25)   # sympy's c/x
    for method in ("forward", "reverse"):
        assert report.results[method].jacobian[0, 0] == 3.0269639318659804e-05
        assert close(report.results[method].jacobian[0, 0], float_program, 1e-14)
    entry = report.comparison.entries[0]
    assert entry.reference_method == "numerical" and close(entry.reference, exact, 1e-30)
    checks = {c.method: c for c in entry.checks}
    assert checks["forward"].ok and checks["reverse"].ok
    assert not checks["symbolic"].ok and checks["symbolic"].explanation == "symbolic wrong"
    decision = report.comparison.referee[(0, 0)]
    assert decision.verdict == "symbolic wrong" and decision.numerical.error < 1e-60
    text = report.render("text")
    assert "sympy's derivative is wrong here; the high-precision numerical derivative of f" in text
    assert "NOT explained" not in text
    assert "against symbolic (sympy), 30 digits (where sympy was refuted: the high-precision numerical" in text
    json = adcompare.trace("x^acos(tanh(10))", at=(3.0,)).render("json")
    assert '"reference_method": "numerical"' in json and '"decision": "symbolic wrong"' in json


def test_sympy_building_a_nonzero_constant_as_0_is_refuted():
    # sympy issue #24390: sin(acos((98 − 14 cos(π²/2160))/(14 √(50 − 14 cos(π²/2160))))) is
    # 7.6154e-4 (mpmath below), but sympy builds it as 0, so its f = x·c is 0 and ∂f/∂x is 0.
    # (2160 written as 20·108: a literal beyond 1,000 enters sympy as a named constant, over
    # which sympy does not make this mistake.)
    text = "x*sin(acos((98 - 14*cos(pi^2/20/108))/(14*sqrt(50 - 14*cos(pi^2/20/108)))))"
    report = adcompare.trace(text, at=(1.0,))
    c = by_hand(lambda: mpmath.cos(mpmath.pi ** 2 / 2160))
    exact = by_hand(lambda: mpmath.sin(mpmath.acos((98 - 14 * c) / (14 * mpmath.sqrt(50 - 14 * c)))))
    assert report.results["symbolic"].details["derivatives"] == ((0,),)
    entry = report.comparison.entries[0]
    assert entry.reference_method == "numerical" and close(entry.reference, exact, 1e-40)
    assert report.comparison.referee[(0, 0)].verdict == "symbolic wrong"
    assert {c.method for _, c in report.comparison.mismatches} == {"symbolic"}


def test_x_plus_1_at_1e200_is_resolved_and_forward_and_reverse_differ_by_rounding():
    # The exact x + 1 needs 201 digits; 30 and 120 digits both gave cos(1e200)'s slope.
    report = adcompare.trace("cos(x+1)", at=(1e200,), methods=("symbolic", "forward", "reverse"))
    exact = by_hand(lambda: -mpmath.sin(mpmath.mpf(1e200) + 1))
    assert mpmath.nstr(exact, 17) == "-0.29583112611200158"
    assert close(report.results["symbolic"].jacobian[0, 0], exact, 1e-29)
    # Floats compute −sin(1e200): x + 1 rounds to x.
    assert report.results["forward"].jacobian[0, 0] == -math.sin(1e200)
    assert report.comparison.verdict.status == "disagree"
    assert {c.explanation for _, c in report.comparison.mismatches} == {"rounding"}
    assert not report.comparison.referee          # explained: nobody to referee
    (slot, value, exact_value), = report.comparison.lost
    assert report.graph.node(slot).op == "cos" and value == math.cos(1e200)
    assert close(exact_value, by_hand(lambda: mpmath.cos(mpmath.mpf(1e200) + 1)), 1e-25)


def test_exact_zeros_follow_sympys_conventions():
    x = sympy.Symbol("x", real=True)
    values = certify_sympy([sympy.Heaviside(x - 1), sympy.sign(x - 1), sympy.Heaviside(x - 1, 0), sympy.Abs(x - 1)],
                           {x: 1.0}, 30)
    assert [float(v.value) for v in values] == [0.5, 0.0, 0.0, 0.0]
    # A tie that no enclosure shows: |acos x| − acos x is 0 for every x in [−1, 1], but an
    # enclosure minus itself is not [0, 0]. acos 0 is certainly positive, so |acos 0| is
    # acos 0 and the argument is 0 by algebra: Heaviside gives ½, sign 0.
    a = sympy.acos(x)
    values = certify_sympy([sympy.Heaviside(sympy.Abs(a) - a), sympy.sign(sympy.Max(a, 0) - a)], {x: 0.0}, 30)
    assert [float(v.value) for v in values] == [0.5, 0.0]


def test_a_value_that_cannot_be_certified_is_never_returned():
    x = sympy.Symbol("x", real=True)
    # cos²x + sin²x − 1 is 0, but no enclosure of it is exactly 0, so its sign stays open;
    # tan(π/2) is a pole that every enclosure of π/2 straddles.
    step, pole = certify_sympy([sympy.Heaviside(sympy.cos(x) ** 2 + sympy.sin(x) ** 2 - 1),
                                sympy.tan(sympy.pi / 2 + 0 * x)], {x: 0.5}, 30)
    assert step.value is None and step.failure == "unresolved"
    assert "the argument of Heaviside may be 0 or of either sign, at every precision up to 2,560 digits" in step.reason
    assert pole.value is None and pole.failure in ("unresolved", "undefined")
    # Through the symbolic method: "could not be established", with the reason.
    result = run_method("symbolic", parse("tan(abs(acos(x)))"), (0.0,))
    assert result.jacobian is None and result.error_kind == "unresolved"
    assert "could not be established: the argument of tan may be at a pole" in result.error


def test_an_expression_sympy_refuses_to_build_is_not_established():
    # max(tan(asin(|x|/|x|)), 0.5): sympy writes |x|/|x| as 1, tan(asin 1) as zoo, and then
    # refuses Max(zoo, 1/2) (ValueError); in floats tan(asin 1.0) is 1.6e16.
    result = run_method("symbolic", parse("max(tan(asin(abs(x)/abs(x))), 0.5)"), (1.0,))
    assert result.jacobian is None and result.error_kind == "unresolved"
    assert "sympy raised ValueError building or differentiating the expression" in result.error


def test_undefined_in_exact_arithmetic_is_said_so():
    # ln(cos(acos(x))) at 0: floats take ln of cos(1.5707963267948966) = 6.1e-17; exactly,
    # cos(acos(0)) = 0 and ln 0 is undefined.
    report = adcompare.trace("ln(cos(acos(x)))", at=(0.0,))
    result = report.results["symbolic"]
    assert result.error_kind == "undefined" and "not a finite real number" in result.error


# ----------------------------------------------------------------------------- interval functions


@st.composite
def intervals_in(draw, low=-30.0, high=30.0):
    a = draw(st.floats(low, high))
    b = draw(st.one_of(st.just(a), st.floats(a, high)))
    return a, b


FUNCTIONS = {
    "asin": (mpmath.asin, (-1.0, 1.0)), "acos": (mpmath.acos, (-1.0, 1.0)), "atan": (mpmath.atan, (-1e6, 1e6)),
    "sinh": (mpmath.sinh, (-50.0, 50.0)), "cosh": (mpmath.cosh, (-50.0, 50.0)), "tanh": (mpmath.tanh, (-50.0, 50.0)),
    "sigmoid": (lambda t: 1 / (1 + mpmath.exp(-t)), (-800.0, 800.0)),
    "softplus": (lambda t: mpmath.log(1 + mpmath.exp(t)), (-800.0, 800.0)),
    "exp": (mpmath.exp, (-800.0, 800.0)), "log": (mpmath.log, (1e-300, 1e300)), "sqrt": (mpmath.sqrt, (0.0, 1e300)),
    "sin": (mpmath.sin, (-1e20, 1e20)), "cos": (mpmath.cos, (-1e20, 1e20)), "absolute": (abs, (-5.0, 5.0)),
}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(FUNCTIONS)), st.data(), st.sampled_from([20, 60, 300]))
def test_each_interval_function_encloses_mpmaths_value_at_high_precision(name, data, digits):
    function, (low, high) = FUNCTIONS[name]
    a, b = data.draw(intervals_in(low, high))
    ctx = context(digits)
    enclosure = intervals.FUNCTIONS[name](ctx.make_mpf((mpmath.mpf(a)._mpf_, mpmath.mpf(b)._mpf_)))
    lo, hi = (mpmath.mp.make_mpf(e) for e in enclosure._mpi_)
    for t in (a, b, (a + b) / 2):
        exact = by_hand(lambda: function(mpmath.mpf(t)), digits + 200)
        with mpmath.workdps(digits + 200):
            assert lo <= exact <= hi, (name, t, lo, exact, hi)
    if a == b and name not in ("sigmoid", "softplus"):   # a point: as narrow as the working precision
        with mpmath.workdps(digits + 200):
            assert hi - lo <= mpmath.mpf(2) ** (20 - ctx.prec) * max(abs(lo), abs(hi), mpmath.mpf(2) ** -1070)


def test_a_step_function_no_precision_decides_is_established_only_where_its_value_does_not_matter():
    # x − asin(sin x) is 0 exactly for |x| ≤ π/2, which no enclosure shows. H(g)·1 + H(−g)·1
    # is 1 whatever g is (H(0) = ½ gives ½ + ½); H(g)·1 + H(−g)·2 is 1, 2 or 1.5: not
    # established.
    x = sympy.Symbol("x", real=True)
    g = x - sympy.asin(sympy.sin(x))
    same, different = certify_sympy([sympy.Heaviside(g) + sympy.Heaviside(-g),
                                     sympy.Heaviside(g) + 2 * sympy.Heaviside(-g)], {x: 7.6e-298}, 30)
    assert same.established and same.value == 1
    assert not different.established


def test_step_functions_of_one_argument_under_decided_max_are_tried_together():
    # At x = 0.92, Max(½, asin(sin|x|)) is asin(sin x) and Max(½, x) is x, so the two
    # Heaviside arguments are g and −g with g = x − asin(sin x), exactly 0 there and
    # undecided: ½ + ½ = 1 (either sign of g gives 1 + 0 or 0 + 1).
    x = sympy.Symbol("x", real=True)
    s = sympy.asin(sympy.sin(sympy.Abs(x)))
    value, = certify_sympy([sympy.Heaviside(x - sympy.Max(sympy.S.Half, s))
                            + sympy.Heaviside(s - sympy.Max(sympy.S.Half, x))], {x: 0.9243122748163737}, 30)
    assert value.established and value.value == 1


@pytest.mark.parametrize("function", ["maximum", "minimum"])
def test_max_and_min_compare_enclosures_at_their_full_precision(function):
    # Two enclosures 2^-200 apart, both the same number in 53 bits: the maximum is the
    # upper one, exactly, and the minimum the lower one (ends compared in 53 bits took the
    # first argument's ends).
    ctx = context(100)
    low = ctx.mpf(1)
    high = ctx.make_mpf((mpmath.mpf(1)._mpf_, mpmath.mpf(1)._mpf_))
    high = high + ctx.ldexp(ctx.mpf(1), -200)
    got = getattr(intervals, function)(low, high)
    want = high if function == "maximum" else low
    assert got._mpi_ == want._mpi_
    assert getattr(intervals, function)(high, low)._mpi_ == want._mpi_


def test_atan2_is_continuous_only_off_the_cut():
    ctx = context(30)
    zero, one = ctx.mpf(0), ctx.mpf(1)
    assert intervals.atan2(zero, one)._mpi_ == ctx.mpf(0)._mpi_
    assert intervals.atan2(zero, -one).a == ctx.pi.a
    with pytest.raises(intervals.Unresolved):
        intervals.atan2(ctx.mpf([-1e-30, 1e-30]), -one)
    with pytest.raises(intervals.Undefined):
        intervals.atan2(zero, zero)


def test_every_name_an_operations_value_calls_has_an_interval_meaning():
    import re
    for op in OPERATIONS.values():
        for name in re.findall(r"([a-z_]+)\(", op.code):
            assert name in intervals.FUNCTIONS, (op.name, name)


# ----------------------------------------------------------------------------- certified = mpmath


def _mpmath_oracle(expression, symbols, point, digits=3000):
    """The expression evaluated by mpmath at ``digits`` digits through sympy's own printer
    (test code, our own expression): an independent evaluation of the same formula."""
    function = sympy.lambdify(symbols, expression, dummify=True,
                              modules=[{"Heaviside": lambda t, h=0.5: 0 if t < 0 else (1 if t > 0 else h)}, "mpmath"])
    with mpmath.workdps(digits):
        try:
            value = function(*[mpmath.mpf(x) for x in point])
        except (ArithmeticError, ValueError, TypeError):
            return None
        if isinstance(value, mpmath.mpc):
            if value.imag != 0:
                return None
            value = value.real
        value = mpmath.mpf(value)
        return value if mpmath.isfinite(value) else None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(graphs_and_points(max_operations=6))
def test_certified_values_contain_mpmaths_value_at_3000_digits(case):
    graph, point = case
    try:
        evaluate(graph, point)
    except DomainError:
        assume(False)
    symbols, outputs = to_sympy(graph)
    expressions = [outputs[0], *(sympy.diff(outputs[0], x) for x in symbols)]
    for expression, certified in zip(expressions, certify_sympy(expressions, dict(zip(symbols, point)), 30)):
        if not certified.established:
            continue
        exact = _mpmath_oracle(expression, symbols, point)
        assert exact is not None, (expression, certified)
        with mpmath.workdps(3000):
            assert abs(certified.value - exact) <= certified.radius + mpmath.mpf(10) ** -2900 * abs(exact), (
                expression, point, certified, exact)
    # The Graph's own primal over enclosures encloses the same value.
    value = certify_graph(graph, point, 30)[0]
    if value.established:
        exact = _mpmath_oracle(outputs[0], symbols, point)
        with mpmath.workdps(3000):
            assert abs(value.value - exact) <= value.radius + mpmath.mpf(10) ** -2900 * abs(exact)


# ----------------------------------------------------------------------------- numerical derivative


def test_numerical_derivative_of_baydins_function():
    # ∂f/∂x1 = 1/x1 + x2 = 5.5, ∂f/∂x2 = x1 − cos x2 at (2, 5) (hand derivation).
    row, = numerical_jacobian(parse("ln(x1)+x1*x2-sin(x2)"), (2.0, 5.0))
    assert close(row[0].value, mpmath.mpf(5.5), 1e-50) and row[0].error < 1e-50
    assert close(row[1].value, by_hand(lambda: 2 - mpmath.cos(5)), 1e-50)
    assert "central differences" in row[1].how and "Richardson" in row[1].how


def test_numerical_derivative_where_f_needs_more_than_200_digits():
    r = numerical_derivative(parse("cos(x+1)"), (1e200,))
    assert close(r.value, by_hand(lambda: -mpmath.sin(mpmath.mpf(1e200) + 1)), 1e-50)


def test_one_sided_derivatives_at_the_edge_of_the_domain_and_at_a_kink():
    # (√x)² = x for x ≥ 0: right derivative 1; on the left f is undefined.
    graph = parse("sqrt(x)^2")
    assert numerical_derivative(graph, (0.0,), side=1).value == 1
    left = numerical_derivative(graph, (0.0,), side=-1)
    assert left.value is None and "not defined on the left" in left.how
    assert numerical_derivative(graph, (0.0,)).value is None
    # |x| at 0: −1 and 1; the central quotient (0) is not a derivative.
    graph = parse("abs(x)")
    assert numerical_derivative(graph, (0.0,), side=-1).value == -1
    assert numerical_derivative(graph, (0.0,), side=1).value == 1
    central = numerical_derivative(graph, (0.0,))
    assert central.value is None and "one-sided derivatives are -1.0 (left) and 1.0 (right)" in central.how
    with pytest.raises(ValueError):
        numerical_derivative(graph, (0.0,), side=2)


@pytest.mark.parametrize("side", [-1, 0, 1])
def test_the_steps_stay_on_the_piece_that_holds_at_the_point(side):
    # x/max(asin x, y) at x = y = 2.8e-85: asin x − y = x³/6 + … ≈ 3.7e-255 > 0, so near x
    # f = x/asin x, whose derivative is (asin x − x/√(1 − x²))/asin²x ≈ −x/3 (mpmath below).
    # Steps wider than 3.7e-255 on the left meet f = x/y, whose slope is 1/y = 3.6e84.
    a = 2.810602682746854e-85
    r = numerical_derivative(parse("x/max(asin(x), abs(y))"), (a, a), side=side, digits=30)
    exact = by_hand(lambda: (mpmath.asin(a) - a / mpmath.sqrt(1 - mpmath.mpf(a) ** 2)) / mpmath.asin(a) ** 2, 600)
    assert close(r.value, exact, 1e-25)


def test_numerical_derivative_of_a_tiny_derivative_keeps_its_digits():
    # d/dx (1 − tanh²x) = −2 tanh x (1 − tanh²x) ≈ 6.2e-290 at x = −334 (mpmath below).
    r = numerical_derivative(parse("1-tanh(x)^2"), (-334.0,))
    exact = by_hand(lambda: -2 * mpmath.tanh(-334) * (1 - mpmath.tanh(-334) ** 2), 800)
    assert close(r.value, exact, 1e-45)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(graphs_and_points(max_operations=5, max_inputs=2))
def test_numerical_derivatives_error_estimate_holds(case):
    # Against forward mode in 340-digit arithmetic over sympy's derivative of each
    # operation (tests/strategies.py), which shares nothing with difference quotients.
    graph, point = case
    try:
        assume(run_method("forward", graph, point).error is None)   # f and its derivative exist here
    except DomainError:
        assume(False)
    for j in range(graph.n_inputs):
        r = numerical_derivative(graph, point, 0, j, digits=30)
        if not r.established:
            continue
        try:
            exact = high_precision_tangent(graph, point, 0, j)
        except TypeError:       # a node the output does not depend on has no finite partial (√0)
            assume(False)
        with mpmath.workdps(60):
            # (the oracle's own rounding leaves 1e-5452 where the derivative of x/x is 0)
            assert abs(r.value - exact) <= r.error + mpmath.mpf(10) ** -28 * abs(exact) + mpmath.mpf(10) ** -400, (
                r, exact)


# ----------------------------------------------------------------------------- the referee


def _report_with(graph, point, **changes):
    results = {m: run_method(m, graph, point) for m in ("symbolic", "forward", "reverse")}
    for name, jacobian in changes.items():
        import dataclasses
        results[name] = dataclasses.replace(results[name], jacobian=jacobian)
    return results


def test_when_the_numerical_derivative_agrees_with_sympy_forward_and_reverse_are_blamed():
    graph, point = parse("sin(x)*x"), (1.0,)
    wrong = np.array([[1.5]])          # the right value is sin 1 + cos 1 = 1.3817732906760363
    results = _report_with(graph, point, forward=wrong, reverse=wrong)
    comparison = compare(results)
    settled = settle_disputes(graph, point, comparison, lambda referee: compare(results, referee=referee))
    decision = settled.referee[(0, 0)]
    assert decision.verdict == "forward/reverse wrong" and "agrees with sympy" in decision.text
    assert [c.explanation for _, c in settled.mismatches] == [None, None]
    assert settled.entries[0].reference_method == "symbolic"


def test_when_the_numerical_derivative_cannot_decide_it_says_so(monkeypatch):
    from adcompare import reference
    graph, point = parse("sin(x)*x"), (1.0,)
    results = _report_with(graph, point, forward=np.array([[1.5]]), reverse=np.array([[1.5]]))
    monkeypatch.setattr(reference, "numerical_derivative",
                        lambda *a, **k: reference.ReferenceValue(None, None, "no convergence (for the test)"))
    settled = settle_disputes(graph, point, compare(results), lambda referee: compare(results, referee=referee))
    assert settled.referee[(0, 0)].verdict == "undecided"
    assert {c.explanation for _, c in settled.mismatches} == {"reference undecided"}


@pytest.mark.parametrize("expression, derivative", [
    # x·√|x| at 0: the one-sided quotients are ±h·√h/h = √h → 0, a power of h that is not
    # an integer (Richardson's tableau assumes h, h², …); the derivative is 0 both sides.
    ("x*sqrt(abs(x))", 0),
    # x + x·√|x|: 1 + √h → 1.
    ("x+x*sqrt(abs(x))", 1),
])
def test_one_sided_quotients_converging_as_a_fractional_power(expression, derivative):
    for side in (1, -1):
        result = numerical_derivative(parse(expression), (0.0,), side=side, digits=30)
        assert result.established and "Aitken" in result.how
        assert abs(result.value - derivative) <= 1e-25


def test_a_diverging_quotient_is_never_extrapolated_to_a_limit():
    # √x at 0 from the right: (√h − 0)/h = h^(−½) → +∞; its differences grow by a ratio
    # 2 > 1 per step, where Aitken's Δ² would return the "antilimit" 0.
    result = numerical_derivative(parse("sqrt(x)"), (0.0,), side=1, digits=30)
    assert not result.established


@pytest.mark.parametrize("expression, point, derivative", [
    # c = acos(tanh(20)) ≈ 4.12e-9 exactly, 0 in floats (tanh(20) rounds to 1), and sympy 1.14
    # decides c is zero: sympy, forward and reverse mode all give 0 and agree. The derivative
    # of exp(c·x) at 1 is c·e^c (mpmath below); of x^c at 3, c·3^(c−1).
    ("exp(acos(tanh(20))*x)", 1.0, lambda c: c * mpmath.exp(c)),
    ("x^acos(tanh(20))", 3.0, lambda c: c * mpmath.mpf(3) ** (c - 1)),
])
def test_a_reference_shared_by_sympy_and_rounded_floats_is_not_trusted(expression, point, derivative):
    with mpmath.workdps(60):
        right = derivative(mpmath.acos(mpmath.tanh(20)))
    report = adcompare.trace(expression, at=[point])
    comparison = report.comparison
    entry = comparison.entries[0]
    assert entry.reference_method == "numerical"
    assert abs(entry.reference - right) <= 1e-25 * abs(right)
    assert comparison.verdict.status == "disagree"
    assert {c.method: c.explanation for c in entry.checks if not c.ok} == {
        **({"symbolic": "symbolic wrong"} if expression.startswith("exp") else {}),
        "forward": "rounding", "reverse": "rounding"}


def test_finite_differences_of_a_function_whose_constant_rounding_destroyed_are_explained_by_it():
    # x·acos(tanh(19)) is linear with slope 1.12e-8 exactly; in floats acos(tanh(19)) = 0, so
    # every quotient of the float function is 0: rounding of f, not a step too coarse.
    report = adcompare.trace("x*acos(tanh(19))", at=[1.0])
    checks = {c.method: c.explanation for c in report.comparison.entries[0].checks}
    assert checks["finite_difference"] == "rounding of f"

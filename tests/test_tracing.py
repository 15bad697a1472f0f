"""Tracing Python callables into the Graph: operators, numpy ufuncs, arrays, and what cannot be traced.

Reference values are hand derivations (in comments) or the math module's own functions,
never the tracer's output.
"""

import math
from fractions import Fraction

import numpy as np
import pytest

from adcompare.backends import run_method
from adcompare.errors import DomainError
from adcompare.graph import Const, evaluate
from adcompare.tracing import UFUNCS, TracingError, functions, trace_function

from seeds_layers import SLIDE_W, SLIDE_X, Classifier, Relu, cross_entropy, get_weights, squared_norm_of_product


def ops(traced):
    return [node.op for node in traced.graph.nodes]


def reverse_gradient(traced):
    return run_method("reverse", traced.graph, traced.point).jacobian[0]


def test_squared_norm_of_the_slide_traces_element_by_element():
    traced = trace_function(squared_norm_of_product, SLIDE_X, SLIDE_W)
    assert traced.graph.variables == ("x[0]", "x[1]", "W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]")
    # q = W.dot(x): per row two products and a sum; q ** 2: two powers; np.sum: one addition.
    assert ops(traced) == ["mul", "mul", "add", "mul", "mul", "add", "pow", "pow", "add"]
    assert traced.output_shape == ()
    # The slide: q = [0.22, 0.26], f = 0.116, ∇ₓf = 2Wᵀq = [−0.112, 0.636], ∇_W f = 2qxᵀ.
    assert traced.value[0] == pytest.approx(0.116, rel=1e-14)
    np.testing.assert_allclose(reverse_gradient(traced), [-0.112, 0.636, 0.088, 0.176, 0.104, 0.208],
                               rtol=1e-13)


def test_two_layer_classifier_with_2x100_weights_traces_into_one_scalar_graph():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(1, 2)), np.array([[1.0]])
    w1, w2 = get_weights()

    def loss(w1, w2):
        classifier = Classifier()
        classifier.w1, classifier.w2 = w1, w2
        return cross_entropy(classifier.forward(x), y)

    traced = trace_function(loss, w1, w2)
    assert traced.graph.n_inputs == 300 and len(traced.graph.outputs) == 1
    # By hand: x @ w1 is 100 × (2 mul + 1 add); σ is neg, exp, add, div per entry (400);
    # h @ w2 is 100 mul + 99 add; σ(z2) 4; the loss ln, mul, sub (1 − ŷ), ln, mul, add, neg
    # (1 − y is a constant and np.sum of one entry adds nothing).
    assert len(traced.graph.nodes) == 300 + 400 + 199 + 4 + 7
    # The loss, by a float computation written out here.
    h = 1.0 / (1.0 + np.exp(-(x @ w1)))
    y_hat = 1.0 / (1.0 + np.exp(-(h @ w2)))
    expected = -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)).item()
    assert traced.value[0] == pytest.approx(expected, rel=1e-13)
    assert evaluate(traced.graph, traced.point)[traced.graph.outputs[0]] == traced.value[0]


@pytest.mark.parametrize("function, expected_ops, expected_args", [
    (lambda x: -x, ["neg"], [(0,)]),
    (lambda x: +x, [], []),
    (lambda x: abs(x), ["abs"], [(0,)]),
    (lambda x: x ** 2, ["pow"], [(0, "2")]),
    (lambda x: 2 ** x, ["pow"], [("2", 0)]),
    (lambda x: 1 / x, ["div"], [("1", 0)]),
    (lambda x: x / 4, ["div"], [(0, "4")]),
    (lambda x: 3 - x, ["sub"], [("3", 0)]),
    (lambda x: x - 0.5, ["sub"], [(0, "0.5")]),
    (lambda x: 0.25 * x + x * x, ["mul", "mul", "add"], [("0.25", 0), (0, 0), (1, 2)]),
])
def test_python_operators_become_operations_in_the_order_written(function, expected_ops, expected_args):
    traced = trace_function(function, 1.5)
    assert ops(traced) == expected_ops
    written = [tuple(a.text if isinstance(a, Const) else a for a in node.args) for node in traced.graph.nodes]
    assert written == expected_args


def test_float_constants_are_exact():
    traced = trace_function(lambda x: x * 0.1, 2.0)
    (_, const), = [node.args for node in traced.graph.nodes]
    # Fraction(0.1) is the binary double nearest 1/10, exactly: 3602879701896397 / 2⁵⁵.
    assert const.exact == Fraction(3602879701896397, 2 ** 55)
    assert const.value == 0.1 and const.text == "0.1"


# One row per traced ufunc: the point, the operations it becomes, and f′ by hand.
LN2, LN10 = math.log(2), math.log(10)
UNARY_UFUNCS = {
    "negative": (0.7, ["neg"], lambda x: -1.0),
    "positive": (0.7, [], lambda x: 1.0),
    "conjugate": (0.7, [], lambda x: 1.0),
    "exp": (0.7, ["exp"], math.exp),
    "log": (0.7, ["ln"], lambda x: 1 / x),
    "sqrt": (0.7, ["sqrt"], lambda x: 0.5 / math.sqrt(x)),
    "sin": (0.7, ["sin"], math.cos),
    "cos": (0.7, ["cos"], lambda x: -math.sin(x)),
    "tan": (0.7, ["tan"], lambda x: 1 / math.cos(x) ** 2),
    "arcsin": (0.7, ["asin"], lambda x: 1 / math.sqrt(1 - x * x)),
    "arccos": (0.7, ["acos"], lambda x: -1 / math.sqrt(1 - x * x)),
    "arctan": (0.7, ["atan"], lambda x: 1 / (1 + x * x)),
    "sinh": (0.7, ["sinh"], math.cosh),
    "cosh": (0.7, ["cosh"], math.sinh),
    "tanh": (0.7, ["tanh"], lambda x: 1 / math.cosh(x) ** 2),
    "absolute": (-0.7, ["abs"], lambda x: -1.0),
    "square": (0.7, ["mul"], lambda x: 2 * x),
    "reciprocal": (0.7, ["div"], lambda x: -1 / x ** 2),
    "log2": (0.7, ["log"], lambda x: 1 / (x * LN2)),
    "log10": (0.7, ["log"], lambda x: 1 / (x * LN10)),
    "exp2": (0.7, ["pow"], lambda x: 2 ** x * LN2),
    "expm1": (0.7, ["exp", "sub"], math.exp),
    "log1p": (0.7, ["add", "ln"], lambda x: 1 / (1 + x)),
}
BINARY_UFUNCS = {   # f(x) = ufunc(x, second) or ufunc(second, x)
    "add": (lambda x: np.add(x, 2.0), ["add"], lambda x: 1.0),
    "subtract": (lambda x: np.subtract(2.0, x), ["sub"], lambda x: -1.0),
    "multiply": (lambda x: np.multiply(x, 3.0), ["mul"], lambda x: 3.0),
    "divide": (lambda x: np.divide(3.0, x), ["div"], lambda x: -3.0 / x ** 2),
    "power": (lambda x: np.power(x, 3.0), ["pow"], lambda x: 3 * x ** 2),
    "float_power": (lambda x: np.float_power(x, 0.5), ["pow"], lambda x: 0.5 * x ** -0.5),
    "maximum": (lambda x: np.maximum(x, 0.2), ["max"], lambda x: 1.0),
    "minimum": (lambda x: np.minimum(x, 0.2), ["min"], lambda x: 0.0),
    "fmax": (lambda x: np.fmax(x, 0.2), ["max"], lambda x: 1.0),
    "fmin": (lambda x: np.fmin(0.2, x), ["min"], lambda x: 0.0),
    "logaddexp": (lambda x: np.logaddexp(0.0, x), ["softplus"], lambda x: 1 / (1 + math.exp(-x))),
    "clip": (lambda x: np.clip(x, -1.0, 0.5), ["max", "min"], lambda x: 0.0),
}


def test_every_traced_ufunc_has_a_test_row():
    assert set(UFUNCS) == set(UNARY_UFUNCS) | set(BINARY_UFUNCS)


@pytest.mark.parametrize("name", sorted(UNARY_UFUNCS))
def test_unary_ufunc_on_a_traced_scalar(name):
    x, expected_ops, derivative = UNARY_UFUNCS[name]
    ufunc = getattr(np, name)
    traced = trace_function(lambda v: ufunc(v), x)
    assert ops(traced) == expected_ops
    assert traced.value[0] == pytest.approx(float(ufunc(x)), rel=1e-14)
    assert reverse_gradient(traced)[0] == pytest.approx(derivative(x), rel=1e-13)


@pytest.mark.parametrize("name", sorted(BINARY_UFUNCS))
def test_binary_ufunc_on_a_traced_scalar(name):
    function, expected_ops, derivative = BINARY_UFUNCS[name]
    traced = trace_function(function, 0.7)
    assert ops(traced) == expected_ops
    assert traced.value[0] == pytest.approx(float(function(0.7)), rel=1e-14)
    assert reverse_gradient(traced)[0] == pytest.approx(derivative(0.7), rel=1e-13)


def test_ufuncs_on_traced_arrays_work_element_by_element():
    x = np.array([0.5, -1.0, 2.0])

    def f(x):
        return np.tanh(x) * np.maximum(x, 0.0) + np.exp(-x) / 2

    traced = trace_function(f, x)
    assert traced.output_shape == (3,)
    assert ops(traced).count("tanh") == 3 and ops(traced).count("max") == 3
    np.testing.assert_allclose(traced.value, np.tanh(x) * np.maximum(x, 0) + np.exp(-x) / 2, rtol=1e-15)


def test_reductions_broadcasting_and_out():
    w = np.array([[1.0, -2.0], [3.0, 0.5]])

    def f(w):
        column_sums = w.sum(axis=0)                     # 2 additions
        outer = column_sums[:, None] * column_sums[None, :]   # 4 products, broadcast
        np.add(outer, 1.0, out=outer)                   # 4 additions, in place
        return np.array([np.max(w), np.mean(w), outer[0, 1]])

    traced = trace_function(f, w)
    assert ops(traced).count("max") == 3                # max of 4 entries: 3 comparisons of pairs
    # column sums (4, −1.5); outer[0, 1] = 4·(−1.5) + 1 = −5; mean = 2.5 / 4.
    assert traced.value == (3.0, 0.625, -5.0)


def test_matrix_product_with_a_float_array():
    x = np.array([[1.0, 2.0]])
    traced = trace_function(lambda w: x @ w, np.array([[3.0], [4.0]]))
    assert ops(traced) == ["mul", "mul", "add"]
    first, second, _ = traced.graph.nodes
    assert first.args == (Const(1.0, Fraction(1), "1"), 0)    # x[0,0] · w[0,0], as written
    assert traced.value == (11.0,)


def test_functions_work_on_numbers_float_arrays_and_traced_values():
    assert functions.relu(-3.0) == 0.0 and functions.softplus(0.0) == pytest.approx(math.log(2))
    np.testing.assert_array_equal(functions.relu(np.array([-1.0, 2.0])), [0.0, 2.0])
    traced = trace_function(lambda x: functions.sigmoid(x) + functions.log(x, 2.0), np.array([1.0, 4.0]))
    assert ops(traced) == ["sigmoid", "sigmoid", "log", "log", "add", "add"]
    # σ′(1) = σ(1)(1 − σ(1)); d/dx log₂ x = 1/(x ln 2)
    s = 1 / (1 + math.exp(-1))
    gradient = run_method("reverse", traced.graph, traced.point).jacobian
    assert gradient[0, 0] == pytest.approx(s * (1 - s) + 1 / LN2, rel=1e-14)
    with pytest.raises(TypeError, match="relu takes 1 argument"):
        functions.relu(1.0, 2.0)


def test_comparisons_answer_from_values_and_record_ties():
    traced = trace_function(Relu().forward, np.array([1.0, -2.0, 0.0, 3.0]))
    assert traced.comparisons == 4
    assert [tie.description for tie in traced.ties] == ["x[2] <= 0 (both sides 0)"]
    assert traced.ties[0].slot == 2
    # The masked entries are constants: relu's path x ≤ 0 gives 0.
    assert traced.value == (1.0, 0.0, 0.0, 3.0)
    assert ops(traced) == ["identity", "identity"]


def test_python_branch_on_a_comparison_traces_the_path_taken():
    def f(x):
        return x * x if x > 1 else -x
    assert ops(trace_function(f, 2.0)) == ["mul"]
    assert ops(trace_function(f, 0.5)) == ["neg"]


def test_truth_value_of_a_traced_number_is_refused():
    def f(x):
        return x if x else -x
    with pytest.raises(TracingError, match="data-dependent control flow on a traced value is not supported"):
        trace_function(f, 2.0)


@pytest.mark.parametrize("function, message", [
    (lambda x: math.exp(x), "converted to a float"),
    (lambda x: np.zeros(2) + np.array([float(x), 0.0]), "converted to a float"),
    (lambda x: int(x), "converted to an int"),
    (lambda x: x // 2, r"operator // is not supported"),
    (lambda x: np.arctan2(x, 1.0), r"np\.arctan2 is not supported"),
    (lambda x: np.logaddexp(x, x), "constant 0"),
])
def test_what_cannot_be_traced_is_named(function, message):
    with pytest.raises(TracingError, match=message):
        trace_function(function, 2.0)


def test_numpy_function_that_cannot_take_traced_arrays_is_named():
    with pytest.raises(TracingError, match=r"np\.linalg\.inv could not be traced"):
        trace_function(np.linalg.inv, np.array([[2.0, 1.0], [0.0, 1.0]]))


def test_a_preallocated_float_array_filled_with_traced_values_traces():
    # Issue 13: out = np.zeros(2); out[0] = x0·x1; out[1] = x0; Σ out = x0·x1 + x0,
    # whose gradient at (1, 2) is (x1 + 1, x0) = (3, 1).
    def f(x):
        out = np.zeros(2)
        out[0] = x[0] * x[1]
        out[1] = x[0]
        return out.sum()
    traced = trace_function(f, np.array([1.0, 2.0]))
    assert traced.value == (3.0,)
    assert reverse_gradient(traced).tolist() == [3.0, 1.0]


@pytest.mark.parametrize("convert", [
    lambda x: x.astype(np.float64),
    lambda x: x.astype(float),
    lambda x: np.asarray(x, dtype=float),
    lambda x: np.array(x, copy=True),
    lambda x: np.array(x, dtype=np.float64),
    lambda x: np.ascontiguousarray(x),
    lambda x: np.zeros_like(x) + x,
    lambda x: np.full(2, 1.0) * x,
    lambda x: np.ones_like(np.zeros(2)) * x,
    # CS231n's dropout_forward ends with out.astype(x.dtype, copy=False); traced, x.dtype
    # is object, and the conversion used to drop the trace (every derivative 0).
    lambda x: (2.0 * x).astype(x.dtype, copy=False) / 2.0,
    lambda x: x.astype(x.dtype),
])
def test_float64_conversions_and_allocations_keep_the_trace(convert):
    # Σ c(x)² with c(x) = x: gradient 2x = (2, 4) at (1, 2).
    traced = trace_function(lambda x: np.sum(convert(x) ** 2), np.array([1.0, 2.0]))
    assert reverse_gradient(traced).tolist() == [2.0, 4.0]


def test_float32_stops_the_trace_and_names_the_line():
    def f(x):
        y = x.astype(np.float32)
        return np.sum(y)
    with pytest.raises(TracingError, match="float64 only") as caught:
        trace_function(f, np.array([1.0, 2.0]))
    assert caught.value.where.startswith("line ") and "y = x.astype(np.float32)" in caught.value.where


def test_numpys_own_allocations_are_untouched_while_tracing():
    # np.random's compiled code allocates float buffers itself; a redirected np.empty
    # there would hand it an object array.
    def f(x):
        noise = np.random.default_rng(0).normal(size=2)
        return np.sum(x * noise)
    traced = trace_function(f, np.array([1.0, 2.0]))
    assert reverse_gradient(traced).tolist() == np.random.default_rng(0).normal(size=2).tolist()
    assert np.zeros(2).dtype == np.float64        # and everything is back after the trace


def test_piecewise_constant_ufuncs_are_constants_with_a_tie_at_the_jump():
    # d/dx (sign(x)·x) = sign(x) away from 0: 1 at 2.5; np.floor(x) is a constant 2.
    traced = trace_function(lambda x: np.sign(x) * x + np.floor(x), 2.5)
    assert reverse_gradient(traced).tolist() == [1.0] and traced.ties == ()
    at_zero = trace_function(lambda x: np.sign(x) * x, 0.0)
    assert [t.description for t in at_zero.ties] == ["np.sign(x) at its jump (0.0)"]


def test_domain_error_while_tracing_points_at_the_operation():
    with pytest.raises(DomainError, match=r"ln \(-1\) = undefined: ln needs a positive argument \(while tracing, at the result of ln"):
        trace_function(lambda x: np.log(x - 2.0), 1.0)
    with pytest.raises(DomainError, match="overflow"):
        trace_function(lambda x: np.exp(x), 1000.0)


def test_a_traced_value_kept_from_an_earlier_trace_is_a_constant():
    # State kept between calls (running statistics) holds Tracers of an ended trace: they
    # stand for their values. y + 2·1 at y = 1: value 3, derivative 1.
    kept = []

    def keep(x):
        kept.append(x * 2)
        return x * 2

    trace_function(keep, 1.0)
    traced = trace_function(lambda y: y + kept[0], 1.0)
    assert traced.value == (3.0,) and reverse_gradient(traced).tolist() == [1.0]
    assert kept[0] + 1.0 == 3.0 and float(kept[0]) == 2.0     # and plain float code reads them as numbers


@pytest.mark.parametrize("argument, message", [
    ([1.0, 2.0], "is a list"),
    (True, "boolean"),
    (float("nan"), "finite"),
    (np.array([]), "empty"),
    (np.array(["a"]), "array of <U1"),
])
def test_bad_arguments_are_refused(argument, message):
    with pytest.raises(TracingError, match=message):
        trace_function(lambda x: x, argument, wrt=[0])


@pytest.mark.parametrize("argument", [[1.0, 2.0], True, np.array([1, 2]), np.array([True]), {"mode": "train"}])
def test_arguments_that_are_not_float_are_passed_through(argument):
    traced = trace_function(lambda x, other: x * 2.0, 1.5, argument)
    assert traced.graph.variables == ("x",) and [a.name for a in traced.arguments] == ["x"]
    with pytest.raises(TracingError, match="no arguments to differentiate"):
        trace_function(lambda other: 1.0, argument)


@pytest.mark.parametrize("result, message", [
    (None, "returned a NoneType"),
    ("text", "returned a str"),
    ([], "empty array"),
])
def test_bad_results_are_refused(result, message):
    with pytest.raises(TracingError, match=message):
        trace_function(lambda x: result, 1.0)


def test_results_of_several_shapes():
    listed = trace_function(lambda x, y: [x * y, x + 1.0, 7.0], 2.0, 3.0)
    assert listed.output_shape == (3,) and listed.value == (6.0, 3.0, 7.0)
    assert ops(listed)[-1] == "identity"          # the constant output 7
    same = trace_function(lambda x: x, np.array([[1.0, 2.0]]))
    assert same.output_shape == (1, 2) and same.graph.outputs == (0, 1) and not same.graph.nodes


def test_names_come_from_the_signature_or_are_given():
    assert trace_function(lambda a, b: a * b, 1.0, 2.0).graph.variables == ("a", "b")
    assert trace_function(lambda *v: v[0] * v[1], 1.0, 2.0).graph.variables == ("arg0", "arg1")
    assert trace_function(lambda a: a, np.ones(2), names=["w"]).graph.variables == ("w[0]", "w[1]")


def test_long_loop_traces_and_differentiates_without_recursion():
    steps = 20_000

    def f(x):
        for _ in range(steps):
            x = x * 0.5 + 0.25
        return x

    traced = trace_function(f, 3.0)
    assert len(traced.graph.nodes) == 2 * steps
    # xₖ₊₁ = xₖ/2 + 1/4: dx_N/dx₀ = 2⁻ᴺ, which underflows to 0 for N = 20000.
    assert reverse_gradient(traced)[0] == 0.0
    assert traced.value[0] == pytest.approx(0.5, rel=1e-15)   # the fixed point


def test_operation_limit():
    with pytest.raises(TracingError, match="more than 10 operations"):
        trace_function(lambda x: np.sum(x * x), np.ones(6), max_operations=10)


def test_a_domain_error_in_a_branch_not_taken_is_kept_not_raised():
    # where(x > 0, ln x, 2x) at −1: ln(−1) is evaluated but not used; the pruned graph is 2x.
    traced = trace_function(lambda x: np.where(x > 0, np.log(x), 2.0 * x), -1.0)
    assert ops(traced) == ["mul"] and traced.value == (-2.0,)
    assert len(traced.dead_errors) == 1 and "ln (-1) = undefined" in traced.dead_errors[0]
    with pytest.raises(DomainError, match=r"ln \(-1\)"):
        trace_function(lambda x: np.log(x) + x, -1.0)                   # a live one is raised

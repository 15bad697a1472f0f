"""gradcheck on code as people write it: branches (issue 11, item 5), functions the tracer
cannot follow (checked black-box), state kept between calls, random masks, graded
findings, and the layer conventions of check_layer (issue 13).

Right values are derived by hand in the comments.
"""

import math
import re

import numpy as np
import pytest

from adcompare import GradcheckError, check_layer, gradcheck
from adcompare.errors import InputError
from adcompare.tracing import TracingError, trace_function


def failing(report):
    return {report.variable_label(f.variable) for f in report.failures}


# ---- Issue 11, item 5: gradcheck on code with branches --------------------------------------

def test_a_sign_branch_times_abs_is_x_and_its_derivative_is_1():
    # f(x) = where(x < 0, −1, 1)·|x|: for x < 0, (−1)(−x) = x; for x ≥ 0, x. So f ≡ x in floats
    # on both sides, f′(0) = 1. The trace records the branch x ≥ 0, abs′(0) = 0 there: the
    # reference must come from the function's one-sided derivatives, not from that branch.
    f = lambda x: np.where(x < 0, -1.0, 1.0) * np.abs(x)            # noqa: E731
    report = gradcheck(f, 0.0, grad=lambda x: 1.0)
    assert report.passed and report.findings[0].expected == pytest.approx(1.0, abs=1e-9)
    assert any("both one-sided derivatives" in note for note in report.notes)
    with pytest.raises(GradcheckError, match="x: 1 of 1 entries wrong"):
        gradcheck(f, 0.0, grad=lambda x: 0.0)
    # Without a gradient, the methods (all on the recorded branch) disagree with the function.
    with pytest.raises(GradcheckError, match="differentiable across a tie or kink"):
        gradcheck(f, 0.0)


def test_a_branch_not_taken_never_aborts_the_check():
    # where(x < 1, x, √x) at 0 is x near 0: derivative 1. √ at 0 has no finite derivative,
    # but it is in the branch not taken, so it is pruned before anything is differentiated.
    report = gradcheck(lambda x: np.where(x < 1.0, x, np.sqrt(x)), 0.0, grad=lambda x: 1.0)
    assert report.passed and report.jacobian.tolist() == [[1.0]]
    # A branch not taken outside its domain (ln of −1) is a note at most.
    report = gradcheck(lambda x: np.where(x > 0, np.log(x), 2.0 * x), -1.0, grad=lambda x: 2.0)
    assert report.passed and any("ln (-1)" in note and "not used by the result" in note for note in report.notes)
    # A live domain error is a real error.
    with pytest.raises(Exception, match=r"ln \(-1\)"):
        gradcheck(lambda x: np.log(x) + x, -1.0, grad=lambda x: 1.0)


def test_python_floats_in_object_arrays_are_constants_and_take_every_ufunc():
    # exp(where(x < 1, 0, x)) at (0, 2) is (e⁰, e²): the Jacobian is diag(0, e²).
    f = lambda x: np.exp(np.where(x < 1.0, 0.0, x))                  # noqa: E731
    report = gradcheck(f, np.array([0.0, 2.0]))
    assert report.jacobian.tolist() == [[0.0, 0.0], [0.0, math.exp(2.0)]]
    # np.full and np.select put numbers into the object arrays too: Σ select(...) = x0 + 3
    # for x = (−1, 2): the first entry takes x, the second the constant 3.
    g = lambda x: np.sum(np.select([x < 0], [x], default=3.0) * np.full(2, 1.0))   # noqa: E731
    report = gradcheck(g, np.array([-1.0, 2.0]), grad=lambda x: np.array([1.0, 0.0]))
    assert report.passed


# ---- Code the tracer cannot follow: checked black-box, the line named -------------------------

def loop_with_math_exp(x):
    total = 0.0
    for v in x:
        total += math.exp(float(v)) * v
    return total


def test_untraceable_code_is_checked_black_box_and_the_line_is_named():
    # d/dxᵢ Σ e^{xⱼ} xⱼ = e^{xᵢ}(1 + xᵢ).
    x = np.array([0.5, -1.0, 2.0])
    report = gradcheck(loop_with_math_exp, x, grad=lambda x: np.exp(x) * (1 + x))
    assert report.passed and report.traced is None
    assert "converted to a float" in report.untraced
    assert "total += math.exp(float(v)) * v" in report.untraced_where
    assert "Not traced" in report.text()


def test_untraceable_code_with_a_wrong_entry_names_it():
    def wrong(x):
        gradient = np.exp(x) * (1 + x)
        gradient[2] *= 1.5           # e²·3 = 22.17 expected, 33.25 returned
        return gradient
    with pytest.raises(GradcheckError) as caught:
        gradcheck(loop_with_math_exp, np.array([0.5, -1.0, 2.0]), grad=wrong)
    report = caught.value.report
    assert failing(report) == {("x", "[2]")}
    assert report.findings[2].expected == pytest.approx(3 * math.exp(2.0), rel=1e-9)
    assert "x: 1 of 3 entries wrong" in str(caught.value) and "not traced" in str(caught.value)


def test_code_that_keeps_complex_values_is_differentiated_by_the_complex_step():
    # det A for A = [[2, 1], [0.5, 3]]: ∂det/∂A = det(A)·A⁻ᵀ = [[3, −0.5], [−1, 2]].
    A = np.array([[2.0, 1.0], [0.5, 3.0]])
    report = gradcheck(np.linalg.det, A, grad=lambda A: np.array([[A[1, 1], -A[1, 0]], [-A[0, 1], A[0, 0]]]))
    assert report.traced is None and "np.linalg.det" in report.untraced
    assert report.jacobian[0] == pytest.approx([3.0, -0.5, -1.0, 2.0], abs=1e-14)    # the complex step: no cancellation
    assert "complex step" in report.notes[0]


def test_a_wrong_gradient_of_an_untraceable_function_of_a_matrix_fails_at_the_transposed_entries():
    A = np.array([[2.0, 1.0], [0.5, 3.0]])
    with pytest.raises(GradcheckError) as caught:
        gradcheck(np.linalg.det, A, grad=lambda A: np.linalg.det(A) * np.linalg.inv(A))    # A⁻¹, not A⁻ᵀ
    # det·A⁻¹ = [[3, −1], [−0.5, 2]]: the off-diagonal entries are swapped.
    assert failing(caught.value.report) == {("a", "[0, 1]"), ("a", "[1, 0]")}    # np.linalg.det's own name
    assert "transposed" in str(caught.value)


def test_a_step_too_coarse_for_the_function_is_shrunk_until_the_quotients_converge():
    # sin(10⁴x) through math.sin: Richardson's first step (≈ 7e-4) spans seven radians of
    # it; the step shrinks tenfold until D(h) − D(h/2) and D(h/2) − D(h/4) shrink as h².
    # f′(1) = 10⁴ cos(10⁴); a gradient off by 0.1% is wrong.
    f = lambda x: math.sin(1e4 * float(x))                          # noqa: E731
    report = gradcheck(f, 1.0, grad=lambda x: 1e4 * math.cos(1e4 * x))
    assert report.traced is None and report.passed and report.jacobian is None   # along directions only
    _, measured, claimed, allowed, grade = report.directions[0]
    assert grade == "ok" and abs(measured - claimed) <= allowed <= 1e-4 * abs(claimed)
    with pytest.raises(GradcheckError, match="x: 1 of 1 entries wrong"):
        gradcheck(f, 1.0, grad=lambda x: 1.001e4 * math.cos(1e4 * x))


def test_a_black_box_reference_that_cannot_converge_is_inconclusive_not_wrong():
    # √|x| at 0: the central quotients of this even function are 0 at every step, while
    # its second differences (√h + √h)/h grow as the step shrinks; f has no derivative at
    # 0 (its one-sided quotients are ±1/√h). Nothing converges, and the check says it could
    # not decide instead of grading the gradient against the quotients' 0.
    f = lambda x: math.sqrt(abs(float(x)))                          # noqa: E731
    with pytest.raises(GradcheckError, match="inconclusive: finite differences of the function as written do "
                                             "not converge at this point"):
        gradcheck(f, 0.0, grad=lambda x: 0.0)


def test_a_black_box_point_far_below_the_unit_scale_is_resolved_at_its_own_scale():
    # √|x| at 1e-12: every step of the unit-scale ladder (down to 7e-10) is far wider than
    # x; the second ladder starts at the point's own scale, where f′ = 1/(2√x) = 5e5 (by
    # hand) is resolved: the right gradient passes, twice it fails.
    f = lambda x: math.sqrt(abs(float(x)))                          # noqa: E731
    assert gradcheck(f, 1e-12, grad=lambda x: 0.5 / math.sqrt(x)).passed
    with pytest.raises(GradcheckError):
        gradcheck(f, 1e-12, grad=lambda x: 1.0 / math.sqrt(x))


def test_a_function_that_is_not_deterministic_is_refused_with_what_to_do():
    rng = np.random.default_rng()
    with pytest.raises(TracingError, match="not deterministic.*seeded generator"):
        gradcheck(lambda x: x * rng.random(), 1.0, grad=lambda x: 1.0)


# ---- State between calls, random masks ----------------------------------------------------------

def test_a_dropout_mask_drawn_from_numpys_global_generator_is_the_same_in_every_call():
    # No seed in the layer: gradcheck puts numpy's global random state back before every
    # call, so forward and backward see the same mask.
    class Dropout:
        def forward(self, x):
            self.mask = np.random.rand(*x.shape) > 0.5
            return x * self.mask

        def backward(self, dout):
            return dout * self.mask

    np.random.seed(3)
    assert check_layer(Dropout(), np.arange(1.0, 9.0)).passed


def test_running_statistics_kept_on_a_layer_are_constants_of_later_calls():
    class RunningMean:
        def __init__(self):
            self.running = np.zeros(3)

        def forward(self, x):
            self.running = 0.9 * self.running + 0.1 * x      # kept between calls
            return x * 2.0

        def backward(self, dout):
            return 2.0 * dout

    layer = RunningMean()
    assert check_layer(layer, np.array([1.0, 2.0, 3.0])).passed
    assert layer.running.dtype == np.float64                   # plain floats again after the check


# ---- Graded findings ----------------------------------------------------------------------------

def softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def test_an_epsilon_guard_is_close_not_wrong_and_strict_makes_it_fail():
    # f = −ln(p₀ + 1e-7) with p = softmax(x); the textbook gradient p − e₀ is that of −ln p₀,
    # off by a relative 1e-7/p₀-ish: close (issue 13, point 4).
    x = np.array([0.3, -1.2, 2.0, 0.1])
    f = lambda x: -np.log(softmax(x)[0] + 1e-7)                     # noqa: E731
    grad = lambda x: softmax(x) - np.eye(4)[0]                      # noqa: E731
    report = gradcheck(f, x, grad=grad)
    assert report.passed and report.close and not report.failures
    assert all(1e-7 < f.rel_error < 1e-4 for f in report.close)
    assert "close" in report.text()
    with pytest.raises(GradcheckError, match=r"wrong or close \(strict\)"):
        gradcheck(f, x, grad=grad, strict=True)


def test_the_failure_message_groups_by_argument_with_the_pattern():
    W, x = np.array([[1.0, 2.0, 0.5], [-1.0, 0.5, 3.0]]), np.array([0.2, -0.4, 0.7])

    def f(W, x):
        return np.sum(np.tanh(W @ x))

    def grad(W, x):           # ∂/∂W = (1 − tanh²)(Wx) xᵀ; ∂/∂x = Wᵀ(1 − tanh²)(Wx), here with W, not Wᵀ: wrong shape…
        d = 1 - np.tanh(W @ x) ** 2
        return np.outer(d, x), -(W.T @ d)          # … so the sign is flipped instead
    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, W, x, grad=grad)
    lines = str(caught.value).splitlines()
    assert lines[1].startswith("x: 3 of 3 entries wrong; sign flipped: got = −expected everywhere; worst x[")
    assert not any(line.startswith("W: ") for line in lines)


# ---- check_layer: parameters, labels, upstream gradients, caches ---------------------------------

class Dense:
    """The book's convention: W and b on the layer, dW and db written by backward."""

    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class DenseTransposedDW(Dense):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = self.dW.T
        return dx


def test_parameter_gradients_are_checked_and_a_transposed_dw_is_named():
    rng = np.random.default_rng(5)
    W, b, x = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=(2, 3))
    report = check_layer(Dense(W, b), x, params=("W", "b"))
    assert report.passed and [a.name for a in report.arguments] == ["x", "W", "b"]
    layer = DenseTransposedDW(W, b)
    with pytest.raises(GradcheckError) as caught:
        check_layer(layer, x, params=("W", "b"))
    assert "W: 6 of 9 entries wrong; transposed: got equals expectedᵀ" in str(caught.value)
    assert layer.W is W                                  # the user's arrays are put back


def test_parameters_in_a_params_dict_with_a_grads_dict_and_a_custom_convention():
    class TwoParams:
        def __init__(self):
            self.params = {"W": np.array([[1.0, -2.0], [0.5, 1.5]])}
            self.grads = {}

        def forward(self, x):
            self.x = x
            return np.tanh(x @ self.params["W"])

        def backward(self, dout):
            self.out = np.tanh(self.x @ self.params["W"])
            da = dout * (1 - self.out ** 2)
            self.grads["W"] = self.x.T @ da
            self.grad_of_W = self.grads["W"]
            return da @ self.params["W"].T

    x = np.array([[0.3, -0.2]])
    assert check_layer(TwoParams(), x, params=("W",)).passed
    assert check_layer(TwoParams(), x, params=("W",), grads={"W": "grad_of_W"}).passed
    with pytest.raises(GradcheckError, match="left no gradient for V"):
        class Missing(TwoParams):
            def __init__(self):
                super().__init__()
                self.V = np.ones(2)
        check_layer(Missing(), x, params=("W", "V"))


def test_labels_are_never_differentiated_and_float_labels_can_be_excluded():
    class Loss:
        def forward(self, x, t):
            self.x, self.t = x, t
            return np.sum((x - t) ** 2)

        def backward(self, dout):
            return dout * 2 * (self.x - self.t)

    x = np.array([0.5, -1.0, 2.0])
    report = check_layer(Loss(), x, np.array([1, 0, 2]))            # integer labels: not differentiated
    assert [a.name for a in report.arguments] == ["x"]
    report = check_layer(Loss(), x, np.array([1.0, 0.0, 2.0]), wrt=("x",))   # float targets, held fixed
    assert [a.name for a in report.arguments] == ["x"]
    with pytest.raises(GradcheckError, match=r"returned 1 gradient; expected 2, one per differentiated input "
                                             r"\(x, t\): pass wrt=\('x',\) to hold the others fixed"):
        check_layer(Loss(), x, np.array([1.0, 0.0, 2.0]))


def test_a_forward_that_returns_nothing_is_named():
    class NoReturn:
        def forward(self, x):
            self.out = x * 2

        def backward(self, dout):
            return 2 * dout
    with pytest.raises(InputError, match=r"NoReturn.forward returned None; it must return its output"):
        check_layer(NoReturn(), np.array([1.0]))


def test_a_backward_that_ignores_its_upstream_gradient_is_said_in_one_line():
    class IgnoresDout:
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, dout):
            return 2 * self.x                             # dout forgotten
    with pytest.raises(GradcheckError) as caught:
        check_layer(IgnoresDout(), np.array([1.0, 2.0]))
    first = str(caught.value).splitlines()[0]
    assert first.endswith("FAILED: IgnoresDout.backward ignores its upstream gradient: backward(u) and backward(2u) "
                          "returned the same; it must return uᵀJ (multiply by dout)")


def test_a_forward_returning_out_and_cache_is_refused_with_what_to_pass():
    class CacheStyle:
        def forward(self, x):
            return x * 2, {"x": x}

        def backward(self, dout, cache):
            return 2 * dout
    with pytest.raises(InputError, match=r"returned \(out, cache\).*check_layer\(\(layer_forward, layer_backward\)"):
        check_layer(CacheStyle(), np.array([1.0]))


def test_the_cs231n_pair_of_functions_is_understood():
    def scale_forward(x, w):
        return x * w, (x, w)

    def scale_backward(dout, cache):
        x, w = cache
        return dout * w, np.sum(dout * x)
    report = check_layer((scale_forward, scale_backward), np.array([1.0, -2.0]), 3.0)
    assert report.passed and [a.name for a in report.arguments] == ["x", "w"]
    assert report.title.startswith("check_layer of scale_forward and scale_backward:")


def test_tracing_does_not_leave_numpy_changed_for_the_user():
    trace_function(lambda x: np.sum(np.zeros(2) + x), np.array([1.0, 2.0]))
    assert np.zeros(2).dtype == np.float64 and np.asarray([1.0]).dtype == np.float64


# ---- The black-box reference's error estimate is a claim: checked against hand derivatives --------

@pytest.mark.parametrize("f, derivative, x", [
    (np.exp, np.exp, 1.3),                                                      # (eˣ)′ = eˣ
    (lambda x: np.sin(3 * x), lambda x: 3 * np.cos(3 * x), 0.7),                # (sin 3x)′ = 3 cos 3x
    (lambda x: 1 / (1 + x * x), lambda x: -2 * x / (1 + x * x) ** 2, 0.4),      # (1/(1+x²))′ = −2x/(1+x²)²
    (lambda x: x ** 5, lambda x: 5 * x ** 4, 2.0),                              # (x⁵)′ = 5x⁴
    (lambda x: 1e6 * np.tanh(x), lambda x: 1e6 / np.cosh(x) ** 2, 0.3),         # large f: round-off dominates
])
def test_the_error_estimates_of_the_black_box_reference_hold(f, derivative, x):
    from adcompare.black_box import Differences, Evaluation, richardson
    evaluation = Evaluation(lambda x: f(x[0]), (np.array([x]),))
    evaluation.outputs(evaluation.point)
    value, error = richardson(evaluation, np.array([1.0]))
    assert abs(value[0] - derivative(x)) <= error[0] <= 1e-6 * abs(derivative(x))
    column = Differences(evaluation).directional(np.array([1.0]))      # the complex step, where it holds
    assert column.method == "complex step"
    assert abs(column.value[0, 0] - derivative(x)) <= column.error[0, 0]


def test_symbolic_budget_is_passed_through():
    W = np.array([[0.1, 0.5], [-0.3, 0.8]])
    f = lambda x: np.sum((W @ x) ** 2)                                  # noqa: E731
    g = lambda x: 2 * W.T @ (W @ x)                                     # noqa: E731
    x = np.array([0.2, 0.4])
    assert gradcheck(f, x, grad=g).reference == "symbolic"
    assert gradcheck(f, x, grad=g, symbolic_budget=0).reference == "reverse"

    class Square:
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, dout):
            return 2 * self.x * dout
    assert check_layer(Square(), x).reference == "symbolic"
    assert check_layer(Square(), x, symbolic_budget=0).reference == "reverse"


def test_a_power_with_exponent_zero_is_the_constant_one():
    # Python and numpy define x**0 = 1 for every x, 0**0 included (replayed from
    # Theano#2995): f ≡ 1, f′ = 0 at 0; it was refused as 0^0 outside pow's domain.
    report = gradcheck(lambda x: x ** 0, 0.0, grad=lambda x: 0.0)
    assert report.passed


def test_ad_that_cannot_pass_an_infinite_partial_is_inconclusive_and_says_the_derivative():
    # ‖x‖² at 0 (jax#4177, autograd#617): = x₀² + x₁², gradient 2x = (0, 0). √ at 0 has an
    # infinite partial, so forward and reverse mode cannot give it (JAX gives NaN); the
    # one-sided analysis does. Each method's failure is said once.
    with pytest.raises(GradcheckError) as raised:
        gradcheck(lambda x: np.linalg.norm(x) ** 2, np.zeros(2))
    message = str(raised.value)
    assert "INCONCLUSIVE" in message.splitlines()[0]
    assert "∂y/∂x[0] = 0, ∂y/∂x[1] = 0" in message
    assert message.count("reverse mode could not be computed") == 1


def test_a_jump_has_no_derivative_on_its_side_and_the_other_side_is_held():
    # floor at 1 (Stan#857): f = 0 left of 1 and 1 at and right of it, so the left
    # quotient (f(1) − f(1 − t))/t = 1/t → ∞ (a jump, not a derivative) and the right
    # derivative is 0. Any gradient passed, −3 graded "close"; now it is held to 0.
    with pytest.raises(GradcheckError) as raised:
        gradcheck(lambda x: np.floor(x), 1.0, grad=lambda x: -3.0)
    assert "0 (the one side where f has a derivative)" in str(raised.value)
    assert gradcheck(lambda x: np.floor(x), 1.0, grad=lambda x: 0.0).passed
    from adcompare.nonsmooth import analyse_code
    one = analyse_code(lambda x: np.floor(x), np.array([1.0]), ()).entry(0, 0)
    assert one.left is None and "jumps" in one.why[0] and one.right == 0.0


def test_black_box_steps_reach_the_point_s_own_scale():
    # arctan2(y, x) at (5.6843e-14, 1e-13) (pytorch#98276): np.arctan2 is not traced, so the
    # check is black-box. By hand ∂/∂x = −y/(x² + y²), ∂/∂y = x/(x² + y²): about −7.56e12
    # and 4.30e12. f varies on the scale 1e-13, below every step of the unit-scale ladder.
    point = np.array([5.6843e-14, 1e-13])

    def right(v):
        r2 = v[0] ** 2 + v[1] ** 2
        return np.array([-v[1] / r2, v[0] / r2])

    assert gradcheck(lambda v: np.arctan2(v[1], v[0]), point, grad=right).passed
    with pytest.raises(GradcheckError) as raised:
        gradcheck(lambda v: np.arctan2(v[1], v[0]), point, grad=lambda v: 1000 * right(v))
    assert "1000 × expected" in str(raised.value)


def test_black_box_code_that_refuses_a_stencil_point_is_checked_with_smaller_steps():
    # math.log(x) at 1e-10: f′ = 1/x = 1e10 (by hand). Every step of the unit-scale ladder
    # reaches x − h < 0, where math.log raises ValueError (it escaped as a traceback); the
    # ladder shrinks past them. asin at 0.999999: f′ = 1/√(1 − x²) ≈ 707.1.
    assert gradcheck(lambda x: math.log(float(x)), 1e-10, grad=lambda x: 1e10).passed
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: math.log(float(x)), 1e-10, grad=lambda x: 2e10)
    assert gradcheck(lambda x: math.asin(float(x)), 0.999999, grad=lambda x: 1 / math.sqrt(1 - x * x)).passed


def test_black_box_takes_the_ladder_with_the_smaller_error_estimate():
    # 1e30·x³ at 1e-12: f′ = 3e30·x² = 3e6 (by hand). The unit-scale ladder converges with a
    # round-off estimate of about 1e9 (f ≈ 3e20 at its steps), which passed 3e9; the ladder
    # at the point's own scale resolves 3e6 closely.
    f = lambda x: float(x) ** 3 * 1e30                                  # noqa: E731
    assert gradcheck(f, 1e-12, grad=lambda x: 3e6).passed
    with pytest.raises(GradcheckError):
        gradcheck(f, 1e-12, grad=lambda x: 3e9)


def test_a_close_direction_is_said_to_be_close_not_to_differ():
    # A black-box check whose directions are within the close band (relative error 1e-7 to
    # 1e-4) passes; its table used to print "differs" beside "passed", and its note said
    # the gradient "agrees". f = Σ eˣ through math.exp, the gradient scaled by 1 + 1e-5.
    f = lambda x: sum(math.exp(float(v)) for v in x)                # noqa: E731
    x = np.array([0.5, -1.0, 2.0])
    report = gradcheck(f, x, grad=lambda x: np.exp(x) * (1 + 1e-5))
    assert report.traced is None and report.passed
    assert [row[-1] for row in report.directions] == ["close", "close"]
    text = str(report)
    assert "differs" not in text and re.search(r"^random direction .*\sclose$", text, re.M)
    assert "your gradient is close to finite differences" in text
    assert text.splitlines()[0].startswith("gradcheck of <lambda>: passed: your gradient is only close along the "
                                           "random directions")
    with pytest.raises(GradcheckError):
        gradcheck(f, x, grad=lambda x: np.exp(x) * (1 + 1e-5), strict=True)


def test_minus_zero_is_printed_as_zero():
    # A max-pool backward routing to the wrong element: reverse mode's reference is −0.0
    # where a negative upstream gradient meets a zero local partial; "expected -0" misled.
    from adcompare.render.gradcheck import number
    assert number(-0.0) == "0" and number(0.0) == "0" and number(-2.5) == "-2.5"
    f = lambda x: np.max(x) * -1.0                                  # noqa: E731
    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, np.array([1.0, 3.0]), grad=lambda x: np.array([-1.0, 0.0]))
    assert "-0 " not in str(caught.value) and not re.search(r"\s-0\s", str(caught.value))


def test_a_function_defined_in_a_test_is_named_without_its_enclosing_function():
    # The docs' own pattern, gradcheck(lambda x, y: softmax_loss(x, y)[0], …) inside a test,
    # was titled "gradcheck of test_….<locals>.<lambda>".
    def loss(x):
        return np.sum(x * x)
    assert str(gradcheck(loss, np.array([1.0, 2.0]), grad=lambda x: 2 * x)).startswith("gradcheck of loss: passed")
    assert str(gradcheck(lambda x: x * x, 3.0, grad=lambda x: 2 * x)).startswith("gradcheck of <lambda>: passed")


def test_a_trace_whose_derivative_is_not_the_code_s_goes_black_box():
    # The code does x on floats and x·x on traced values: both are 1 at x = 1, so the
    # value check passes, but the derivatives are 1 (the code) and 2 (the trace). The code
    # as written is the witness: grad = 1 passes, grad = 2 (the trace's) fails.
    f = lambda x: x if isinstance(x, float) else x * x                 # noqa: E731
    report = gradcheck(f, 1.0, grad=lambda x: 1.0)
    assert report.traced is None and "does not reproduce the function near the point" in report.untraced
    with pytest.raises(GradcheckError):
        gradcheck(f, 1.0, grad=lambda x: 2.0)


def test_code_that_computes_in_float32_is_held_to_float32_resolution():
    # float(np.float32(x))·2 at 1.3: the derivative is 2 (by hand), but f's values move in
    # steps of float32's ulp (about 2.4e-7 here), so Richardson's quotients carry about
    # 1e-4 of noise; with float64's ε in the estimate, 2 was failed against 1.98243. The
    # noise is measured (ECnoise): about 2e-8 relative, not 2.2e-16.
    from adcompare.black_box import Evaluation
    f = lambda x: float(np.float32(x)) * 2.0                            # noqa: E731
    noise = Evaluation(f, (1.3,)).relative_noise()
    assert 1e-9 < noise < 1e-6
    assert Evaluation(lambda x: math.exp(float(x)), (1.3,)).relative_noise() < 1e-14
    assert gradcheck(f, 1.3, grad=lambda x: 2.0).passed
    with pytest.raises(GradcheckError):
        gradcheck(f, 1.3, grad=lambda x: 2.5)

"""gradcheck and check_layer on the seeds' hand-written gradients and layers.

The layers are faithful copies (tests/seeds_layers.py); each bug version changes one
line. Expected values are hand derivations, written in the comments.
"""

import importlib
import math
import re

import numpy as np
import pytest

from adcompare import GradcheckError, check_layer, gradcheck
from adcompare.backends import METHODS
from adcompare.errors import InputError
from adcompare.tracing import TracingError, functions

import seeds_layers as seeds


def failing_entries(report):
    """{(argument, index)} of the failing checks."""
    return {report.variable_label(c.variable) for c in report.failures}


def upstream(seed, shape):
    # check_layer's documented draw: u ~ N(0, 1), numpy's default_rng(seed).
    return np.random.default_rng(seed).standard_normal(shape)


# ---- seed 004 layers ---------------------------------------------------------------

@pytest.mark.parametrize("layer, inputs", [
    (seeds.AddLayer(), (100.0, 150.0)),                      # the slides' apple and orange prices
    (seeds.MulLayer(), (100.0, 2.0)),                        # price × count
    (seeds.AddLayer(), (np.array([1.0, -2.0]), np.array([0.5, 4.0]))),
    (seeds.MulLayer(), (np.array([1.0, -2.0, 3.0]), np.array([0.5, 4.0, -1.5]))),
    (seeds.Relu(), (np.array([[1.0, -3.0], [0.5, -0.25]]),)),
    (seeds.Sigmoid(), (np.array([-2.0, 0.0, 0.5, 3.0]),)),
    (seeds.MultiplyGate(), (-2.0, 3.0)),
])
def test_the_seeds_layers_pass(layer, inputs):
    report = check_layer(layer, *inputs)
    assert report.passed and not report.failures and not report.kinks


def test_mul_layer_reference_is_the_vector_jacobian_product():
    # z = x·y, so uᵀJ = (u·y, u·x) = (2u, 100u) at the apples' x = 100, y = 2.
    report = check_layer(seeds.MulLayer(), 100.0, 2.0, seed=3)
    u = upstream(3, ())
    np.testing.assert_allclose(report.jacobian, [[2 * u, 100 * u]], rtol=1e-15)
    assert report.user_values.tolist() == [[2 * u, 100 * u]]


def test_sigmoid_missing_factor_fails_and_names_every_entry():
    x = np.array([-2.0, 0.0, 0.5, 3.0])
    with pytest.raises(GradcheckError) as caught:
        check_layer(seeds.SigmoidMissingFactor(), x)
    report = caught.value.report
    # dx = u·σ instead of u·σ(1 − σ): wrong wherever σ ≠ 0, i.e. at every entry.
    assert failing_entries(report) == {("x", f"[{i}]") for i in range(4)}
    message = str(caught.value)
    assert "SigmoidMissingFactor.backward(u) is wrong at 4 of 4 entries" in message
    assert re.search(r"^x: 4 of 4 entries wrong; .*worst x\[\d\]: expected .*, got ", message, re.M)
    # The expected values, by hand: uᵢ σ(xᵢ)(1 − σ(xᵢ)).
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(report.jacobian[0], upstream(0, 4) * s * (1 - s), rtol=1e-13)


def test_mul_layer_with_unswapped_multiplier_fails_at_x_only():
    x, y = np.array([1.0, -2.0, 3.0]), np.array([0.5, 4.0, -1.5])
    with pytest.raises(GradcheckError) as caught:
        check_layer(seeds.MulLayerUnswapped(), x, y)
    # dx = u·x instead of u·y: wrong at every entry (xᵢ ≠ yᵢ); dy = u·x is right.
    assert failing_entries(caught.value.report) == {("x", "[0]"), ("x", "[1]"), ("x", "[2]")}
    assert "3 of 6 entries" in str(caught.value)


def test_relu_without_mask_fails_where_the_input_is_negative():
    x = np.array([1.0, -2.0, 0.5, -0.1])
    with pytest.raises(GradcheckError) as caught:
        check_layer(seeds.ReluWithoutMask(), x)
    # relu′ = 0 for x < 0; passing u through is wrong there and right for x > 0.
    assert failing_entries(caught.value.report) == {("x", "[1]"), ("x", "[3]")}


# ---- kinks ---------------------------------------------------------------------------

def test_relu_at_zero_is_a_kink_not_a_failure():
    x = np.array([1.0, -2.0, 0.0, 3.0])
    report = check_layer(seeds.Relu(), x)
    u = upstream(0, 4)
    (kink,) = report.kinks
    # At x₂ = 0: from the left relu′ = 0, from the right 1, times u₂. The seeds' mask x ≤ 0
    # picks 0, which is what AD traced (JAX and PyTorch also take relu′(0) = 0).
    assert report.variable_label(kink.variable) == ("x", "[2]")
    assert kink.left == pytest.approx(0.0, abs=1e-9)
    assert kink.right == pytest.approx(u[2], rel=1e-8)
    assert kink.chosen == 0.0 and kink.user == 0.0 and kink.ok
    assert "x[2] <= 0 (both sides 0)" in report.kink_sources[0]
    assert "Kinks" in report.text()


def test_relu_with_strict_mask_chooses_the_other_side_and_still_passes():
    # relu′(0) = 1 instead of 0 gives u₂, the right-hand derivative: still between the sides.
    report = check_layer(seeds.ReluStrictMask(), np.array([1.0, -2.0, 0.0, 3.0]))
    (kink,) = report.kinks
    assert kink.user == pytest.approx(upstream(0, 4)[2], rel=1e-15) and kink.ok


def test_abs_at_zero_accepts_any_subgradient_and_rejects_one_outside():
    f = lambda x: np.sum(np.abs(x))            # noqa: E731
    x = np.array([0.0, 1.5])
    report = gradcheck(f, x, grad=np.sign)     # sign(0) = 0 ∈ [−1, 1]
    (kink,) = report.kinks
    assert (kink.left, kink.right) == (pytest.approx(-1.0), pytest.approx(1.0))
    assert kink.chosen == 0.0                  # the operation table: abs′(0) = sign(0) = 0

    def too_steep(x):
        return np.sign(x) + 2.0 * (x == 0)    # 2 at the kink, outside [−1, 1]

    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, x, grad=too_steep)
    (failure,) = caught.value.report.failures
    assert failure.expected == (pytest.approx(-1.0), pytest.approx(1.0)) and failure.got == 2.0
    # The one-sided derivatives of |x| at 0 are exact (directional forward mode): −1 and 1.
    assert re.search(r"x\s+\[0\]\s+between -1 and 1 \(kink\)\s+2\s", str(caught.value))


def test_max_with_a_tie_splits_the_gradient_and_all_methods_pass():
    report = gradcheck(lambda a, b: np.maximum(a, b), 1.0, 1.0)
    # max(a, b) at a = b: ∂/∂a is 0 from the left, 1 from the right; the same for b.
    assert len(report.kinks) == 2
    for kink in report.kinks:
        assert kink.left == pytest.approx(0.0, abs=1e-9) and kink.right == pytest.approx(1.0, rel=1e-9)
        assert kink.chosen == 0.5              # the tie split, as in JAX and PyTorch
    assert report.passed and "max with equal arguments" in report.kink_sources[0]


def test_relu_function_at_zero_in_a_cross_check():
    report = gradcheck(lambda x: functions.relu(x) * 3.0, 0.0)
    (kink,) = report.kinks
    assert kink.chosen == 0.0 and kink.right == pytest.approx(3.0, rel=1e-9)
    # sympy differentiates Max(0, x) to 3·Heaviside(x), ½ at 0: also between the sides.
    assert float(report.results["symbolic"].jacobian[0, 0]) == 1.5
    assert report.passed


# ---- seed 001: ‖W·x‖² and the MultiplyGate --------------------------------------------

def test_squared_norm_gradient_of_the_slide_passes():
    report = gradcheck(seeds.squared_norm_of_product, seeds.SLIDE_X, seeds.SLIDE_W,
                       grad=seeds.squared_norm_gradient)
    assert report.passed and report.reference == "symbolic"
    # The slide's numbers: ∇ₓf = [−0.112, 0.636], ∇_W f = [[0.088, 0.176], [0.104, 0.208]].
    np.testing.assert_allclose(report.jacobian[0], [-0.112, 0.636, 0.088, 0.176, 0.104, 0.208], rtol=1e-13)


def test_transposed_weight_fails_and_names_x():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(seeds.squared_norm_of_product, seeds.SLIDE_X, seeds.SLIDE_W,
                  grad=seeds.squared_norm_gradient_transposed)
    # 2Wq = 2·[0.152, 0.142] = [0.304, 0.284] instead of 2Wᵀq = [−0.112, 0.636]; ∇_W is right.
    assert failing_entries(caught.value.report) == {("x", "[0]"), ("x", "[1]")}
    message = str(caught.value)
    assert "your gradient is wrong at 2 of 6 entries" in message
    assert re.search(r"^x: 2 of 2 entries wrong; every entry; worst x\[0\]: expected -0\.112\d*, got 0\.304\d*",
                     message, re.M)
    assert "argument" in message and "grade" in message


def test_multiply_gate_backward_matches_the_slide_rule():
    # z = x·y; dx = y·dz, dy = x·dz (the slide's comments).
    report = check_layer(seeds.MultiplyGate(), -2.0, 3.0, seed=5)
    u = upstream(5, ())
    np.testing.assert_allclose(report.jacobian, [[3 * u, -2 * u]], rtol=1e-15)


# ---- seed 002: the two-layer classifier, W1 ∈ R^{2×100} -----------------------------

@pytest.fixture(scope="module")
def classifier_data():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(1, 2)), np.array([[1.0]])
    w1, w2 = seeds.get_weights()
    return x, y, w1, w2


def check_classifier(classifier_class, data):
    x, y, w1, w2 = data
    return gradcheck(seeds.classifier_loss(classifier_class, x, y), w1, w2,
                     grad=seeds.classifier_gradient(classifier_class, x, y))


def test_classifier_backward_passes(classifier_data):
    report = check_classifier(seeds.Classifier, classifier_data)
    assert report.passed and report.reference == "reverse"
    # The predicted size is backends.symbolic.predicted_size's (nodes of sympy's trees).
    assert any(re.match(r"symbolic \(sympy\) skipped: its predicted size, [\d,]+, is over", note) for note in report.notes)
    assert set(report.results) == {"reverse"}
    # The reference is confirmed by finite differences of the loss as written, along one direction.
    (direction,) = report.directions
    assert direction[-1] == "ok" and direction[0].startswith("random direction")


def test_classifier_missing_sigmoid_factor_fails_at_every_w1_entry(classifier_data):
    with pytest.raises(GradcheckError) as caught:
        check_classifier(seeds.ClassifierMissingFactor, classifier_data)
    report = caught.value.report
    # grad_w1 = xᵀ(h ⊙ grad_h) lacks (1 − h) ≠ 1: every w1 entry is wrong (the error
    # xᵢ·h²·g is far above 1e-9 + 1e-4·|expected| even where h is small); w2 is untouched.
    assert failing_entries(report) == {("w1", f"[{i}, {j}]") for i in range(2) for j in range(100)}
    message = str(caught.value)
    assert "your gradient is wrong at 200 of 300 entries" in message
    assert re.search(r"^w1: 200 of 200 entries wrong; every entry; worst w1\[\d, \d+\]", message, re.M)
    assert "… and 195 more" in message


def test_classifier_wrong_sign_fails_everywhere(classifier_data):
    with pytest.raises(GradcheckError) as caught:
        check_classifier(seeds.ClassifierWrongSign, classifier_data)
    report = caught.value.report
    assert len(failing_entries(report)) == 300
    assert report.summaries[0].pattern == "sign flipped: got = −expected everywhere"
    # The sign is all that is wrong: got = −expected at every entry.
    # (atol: reading the gradient back from backward's update costs ~1e-12·|w|, see seeds_layers.)
    np.testing.assert_allclose(report.user_values, -report.jacobian, rtol=1e-10, atol=1e-11)


# ---- Jacobians and cost: forward needs n sweeps, reverse m --------------------------

def test_wide_function_forward_needs_n_sweeps_reverse_one():
    x = np.array([0.5, 1.0, 1.5, 2.0, 2.5])
    report = gradcheck(lambda x: np.sum(np.sin(x) * x), x)
    assert report.results["forward"].cost.sweeps == 5
    assert report.results["reverse"].cost.sweeps == 1
    # d/dxᵢ Σ xⱼ sin xⱼ = sin xᵢ + xᵢ cos xᵢ
    np.testing.assert_allclose(report.jacobian[0], np.sin(x) + x * np.cos(x), rtol=1e-14)
    text = report.text()
    assert re.search(r"forward mode\s+5\s+5\s+\d+", text)
    assert re.search(r"reverse mode\s+1\s+1\s+\d+", text)
    assert "n = 5 inputs, m = 1 output: forward mode needs n = 5 sweeps (one per input), reverse mode m = 1" in text


def test_tall_function_forward_needs_one_sweep_reverse_m():
    report = gradcheck(lambda t: np.array([np.cos(t), np.sin(t), t * t]), 0.3)
    assert report.results["forward"].cost.sweeps == 1 and report.results["reverse"].cost.sweeps == 3
    # d/dt (cos t, sin t, t²) = (−sin t, cos t, 2t)
    np.testing.assert_allclose(report.jacobian[:, 0], [-math.sin(0.3), math.cos(0.3), 0.6], rtol=1e-14)
    assert "Jacobian" in report.text()


def test_wrong_jacobian_entry_is_named_with_its_output():
    def f(x):
        return np.array([x[0] * x[1], np.sin(x[0])])

    def jacobian(x):   # ∂(x₀x₁, sin x₀)/∂x, with cos written as −cos
        return np.array([[x[1], x[0]], [-np.cos(x[0]), 0.0]])

    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, np.array([0.5, 2.0]), grad=jacobian)
    assert "1 of 4 entries" in str(caught.value)
    assert "worst y[1] w.r.t. x[0]" in str(caught.value)


# ---- reading the user's gradient, options, failures of the tool itself -------------

def test_gradient_of_the_wrong_shape_is_a_failure_naming_the_shapes():
    W = np.ones((2, 3))
    with pytest.raises(GradcheckError, match=r"returned shape \(3, 2\) for W; expected \(2, 3\)"):
        gradcheck(lambda W: np.sum(W * W), W, grad=lambda W: (2 * W).T)
    with pytest.raises(GradcheckError, match="must return 2 gradients, one per differentiated argument"):
        gradcheck(lambda a, b: a * b, 1.0, 2.0, grad=lambda a, b: b)


def test_gradcheck_error_is_an_assertion_error():
    with pytest.raises(AssertionError):
        gradcheck(lambda x: x * x, 3.0, grad=lambda x: 3 * x)


def test_tolerances_are_used():
    f = lambda x: np.exp(x)                                   # noqa: E731
    nearly = lambda x: np.exp(x) * (1 + 1e-9)                 # noqa: E731
    assert gradcheck(f, 1.0, grad=nearly).passed              # default rtol 1e-7
    report = gradcheck(f, 1.0, grad=nearly, rtol=1e-12, atol=0.0)
    assert report.passed and [f.grade for f in report.findings] == ["close"]   # 1e-9 relative: close
    with pytest.raises(GradcheckError, match="wrong or close \\(strict\\) at 1 of 1"):
        gradcheck(f, 1.0, grad=nearly, rtol=1e-12, atol=0.0, strict=True)


def test_bad_tolerance_is_refused():
    with pytest.raises(InputError, match="rtol must be a non-negative number"):
        gradcheck(lambda x: x, 1.0, grad=lambda x: 1.0, rtol=-1.0)


def test_no_user_text_reaches_eval_exec_or_sympify(text_guard):
    # Parameter names become variable names and sympy Symbols, never parsed text.
    def f(zqmarker, W):
        return np.sum(np.sin(W @ zqmarker))

    report = gradcheck(f, np.array([0.5, -1.0]), np.eye(2))
    assert report.reference == "symbolic" and "zqmarker[0]" in report.traced.graph.variables
    assert text_guard == []


def test_methods_option():
    report = gradcheck(lambda x: x ** 3, 2.0, grad=lambda x: 3 * x ** 2, methods=METHODS)
    assert set(report.results) == set(METHODS)
    with pytest.raises(InputError, match="unknown method 'adjoint'"):
        gradcheck(lambda x: x, 1.0, methods=("adjoint",))
    assert set(gradcheck(lambda x: x * x, 1.0, methods="reverse").results) == {"reverse"}


def test_finite_differences_off_fail_a_cross_check_but_not_a_gradient_check():
    # f = x + cos x at 10¹⁴, f′ = 1 − sin x: floats there are 0.016 apart and f's rounding is
    # δ ≈ 2ε·10¹⁴ ≈ 0.04, while cos varies on the scale of 1: no step both resolves cos
    # (h ≲ 0.1) and keeps δ/h below 10⁻⁶, so finite differences are off by ~10⁻² relative,
    # over their tolerance of 10⁻⁶ (and say so in their error estimate).
    f = lambda x: x + np.cos(x)                               # noqa: E731
    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, 1e14)
    assert {c.method for c in caught.value.report.failures} == {"finite_difference"}
    assert re.search(r"^x\s+finite differences\s+\S+", str(caught.value), re.M)
    # With a gradient the user's values are held to the trace, and the directional
    # finite differences of f as written confirm it.
    report = gradcheck(f, 1e14, grad=lambda x: 1 - np.sin(x))
    assert report.passed and report.directions[0][-1] == "ok"


def test_a_method_that_cannot_run_fails_a_cross_check_only(monkeypatch):
    from adcompare.backends import Cost, Result
    module = importlib.import_module("adcompare.gradient_check")

    def without_differences(method, graph, point, **options):
        if method == "finite_difference":
            return Result(method, (), None, Cost(0, 0, 0), error="the step leaves the domain")
        return run_method(method, graph, point, **options)

    run_method = module.run_method
    monkeypatch.setattr(module, "run_method", without_differences)
    with pytest.raises(GradcheckError, match="finite differences could not be computed: the step leaves the domain"):
        gradcheck(lambda x: x * x, 3.0)
    assert gradcheck(lambda x: x * x, 3.0, grad=lambda x: 2 * x).passed


def test_a_function_the_trace_does_not_reproduce_is_refused():
    calls = []

    def drifting(x):
        calls.append(1)
        return x * len(calls)

    with pytest.raises(TracingError, match="not deterministic"):
        gradcheck(drifting, 2.0)


def test_check_layer_needs_forward_and_backward():
    with pytest.raises(InputError, match="no forward\\(\\) and backward\\(\\)"):
        check_layer(object(), 1.0)


def test_report_renders_for_notebooks():
    report = gradcheck(seeds.squared_norm_of_product, seeds.SLIDE_X, seeds.SLIDE_W, grad=seeds.squared_norm_gradient)
    markdown = report._repr_markdown_()
    assert "| entry" in markdown and "| reverse mode" in markdown and "**Cost**" in markdown
    html = report._repr_html_()
    assert "<table>" in html and "<b>Cost</b>" in html
    assert "∂y/∂W[1, 0]" in str(report)

"""The 19-layer set of issue 13 (tests/student_layers.py): every correct backward passes,
every bug fails with exactly its wrong entries named, and the seven forwards that did not
trace before now trace.

The expected wrong entries come from the layers themselves, not from adcompare: the buggy
backward and the correct one are run at the same upstream gradient u (check_layer's
documented draw), and an entry is wrong where they differ by more than the 'close' band,
1e-9 + 1e-4·|correct|. That the correct backward is right is the first test.
"""

import inspect

import numpy as np
import pytest

from adcompare import GradcheckError, check_layer, gradcheck
from adcompare.tracing import differentiable

import student_layers as layers

CASES = {case.name: case for case in layers.CASES}


def loss_check(loss, inputs, **options):
    """gradcheck of a loss function returning (loss, dx): labels and masks pass through."""
    signature = inspect.signature(loss.__wrapped__ if hasattr(loss, "__wrapped__") else loss)

    def value(*args):
        return loss(*args)[0]

    def gradient(*args):
        return loss(*args)[1]

    base = {"softmax_loss": layers.softmax_loss, "svm_loss": layers.svm_loss,
            "temporal_softmax_loss": layers.temporal_softmax_loss}[loss.__name__.split("[")[0]]
    parameters = [p for p in inspect.signature(base).parameters.values() if p.name != "bug"]
    value.__signature__ = gradient.__signature__ = signature.replace(parameters=parameters)
    return gradcheck(value, *inputs, grad=gradient, **options)


def run(case, version, size="test"):
    layer, inputs, params = layers.build(case, version, size)
    if case.kind == "loss":
        return loss_check(layer, inputs)
    return check_layer(layer, *inputs, params=params)


def user_gradients(case, version, u_seed=0):
    """{argument name: gradient} of one version, computed by the layer itself at check_layer's u."""
    layer, inputs, params = layers.build(case, version)
    if case.kind == "loss":
        dx = layer(*inputs)[1]
        return {"x": dx}
    if case.kind == "pair":
        forward, backward = layer
        result = forward(*inputs)
        outputs, cache = result[:-1], result[-1]
        rng = np.random.default_rng(u_seed)
        upstream = [rng.standard_normal(np.shape(out)) for out in outputs]
        returned = backward(*upstream, cache)
        returned = returned if isinstance(returned, tuple) else (returned,)
        names = list(inspect.signature(forward).parameters)
        floats = [name for name, value in zip(names, inputs) if differentiable(value)]
        return dict(zip(floats, returned))
    out = layer.forward(*inputs)
    # A scalar output whose backward ignores dout (the book's loss layer) is checked at dout = 1.
    upstream = 1.0 if np.ndim(out) == 0 else np.random.default_rng(u_seed).standard_normal(np.shape(out))
    dx = layer.backward(upstream)
    names = list(inspect.signature(layer.forward).parameters)
    found = {names[0]: dx}
    for p in params:
        found[p] = getattr(layer, f"d{p}")
    return found


def expected_wrong(case, bug):
    correct, wrong = user_gradients(case, case.correct), user_gradients(case, bug)
    entries = set()
    for name, right in correct.items():
        right, got = np.asarray(right, dtype=float), np.asarray(wrong[name], dtype=float)
        bad = np.abs(got - right) > 1e-9 + 1e-4 * np.abs(right)
        for index in zip(*np.nonzero(bad)):
            entries.add((name, f"[{', '.join(str(int(i)) for i in index)}]" if index else ""))
    return entries


def failing(report):
    return {report.variable_label(f.variable) for f in report.failures}


@pytest.mark.parametrize("name", list(CASES))
def test_the_correct_backward_passes(name):
    case = CASES[name]
    report = run(case, case.correct)
    assert report.passed and not report.failures
    assert report.traced is not None, report.untraced          # all 19 trace now, the seven included


@pytest.mark.parametrize("name, which", [(name, i) for name in CASES for i in (0, 1)])
def test_each_bug_fails_with_exactly_its_wrong_entries(name, which):
    case = CASES[name]
    bug = case.bugs[which]
    expected = expected_wrong(case, bug)
    assert expected, "the bug must change some entry at these inputs"
    with pytest.raises(GradcheckError) as caught:
        run(case, bug)
    report = caught.value.report
    assert failing(report) == expected
    # The message leads with one line per argument that has wrong entries.
    message = str(caught.value)
    for argument in {name for name, _ in expected}:
        assert f"\n{argument}: " in message


def test_the_seven_forwards_that_did_not_trace_before_trace_now():
    # Before issue 13 these stopped the tracer: a preallocated np.zeros filled from traced
    # values (naive conv, naive max-pool, the RNN over time, im2col in Convolution and
    # Pooling) or running statistics kept between calls (bn_param, BatchNormalization).
    # The two batchnorm cases share one forward: seven forwards.
    cases = [case for case in layers.CASES if not case.traced_today]
    forwards = {case.correct[0] if case.kind == "pair" else case.correct for case in cases}
    assert len(forwards) == 7
    for case in cases:
        assert run(case, case.correct).traced is not None


def test_the_book_softmax_with_loss_is_close_and_ignores_dout():
    # log(y + 1e-7) in the forward; (y − t)/N in the backward leaves the guard out, by design:
    # the entries are close (relative error ≈ 1e-7/y), not wrong; and backward(dout=1) ignores
    # dout, which is said in one line and checked at dout = 1.
    case = CASES["book SoftmaxWithLoss"]
    report = run(case, case.correct)
    assert report.passed and report.close
    assert all(1e-7 < f.rel_error < 1e-4 for f in report.close)
    assert any("ignores its upstream gradient" in note for note in report.notes)
    with pytest.raises(GradcheckError, match="wrong or close"):
        layer, inputs, params = layers.build(case, case.correct)
        check_layer(layer, *inputs, strict=True)


def test_patterns_are_named():
    case = CASES["book Affine"]
    with pytest.raises(GradcheckError) as caught:
        run(case, layers.AffineTransposedDW)
    assert "W: 6 of 9 entries wrong; transposed: got equals expectedᵀ" in str(caught.value)
    case = CASES["affine"]
    with pytest.raises(GradcheckError) as caught:
        run(case, case.bugs[0])
    assert "b: 3 of 3 entries wrong; scaled: got = 1/2 × expected" in str(caught.value)
    case = CASES["temporal softmax loss"]
    with pytest.raises(GradcheckError) as caught:
        run(case, case.bugs[0])
    assert "nonzero where expected is 0" in str(caught.value)

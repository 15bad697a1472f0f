"""Many points at once: every back end over numpy arrays, the float64 cross-check, the
points report, and ``adcompare trace --at FILE``.

Oracles, none of them adcompare's own output: Baydin's derivatives written out by hand in
numpy (∂/∂x1 = 1/x1 + x2, ∂/∂x2 = x1 − cos x2), and the single-point run at each point
(the array run must agree with it to rounding; numpy's array loops may differ from its
scalar calls by an ulp).
"""

import math
import json
import subprocess
import sys

import numpy as np
import pytest

import adcompare
from adcompare.backends import METHODS, run_method
from adcompare.cli import main
from adcompare.compare import Tolerance
from adcompare.errors import InputError
from adcompare.graph import Graph, Node

from test_ops_table import SAMPLERS, single_operation_graph

BAYDIN = "ln(x1)+x1*x2-sin(x2)"
N = 1000


@pytest.fixture(scope="module")
def baydin_points():
    rng = np.random.default_rng(20180153)
    return rng.uniform(0.2, 6.0, N), rng.uniform(-6.0, 6.0, N)


def baydin_by_hand(x1, x2):
    """Value and gradient of ln x1 + x1·x2 − sin x2, derived by hand."""
    return np.log(x1) + x1 * x2 - np.sin(x2), np.array([[1.0 / x1 + x2, x1 - np.cos(x2)]])


@pytest.mark.parametrize("method", ["forward", "reverse", "symbolic"])
def test_exact_methods_match_the_hand_derivative_at_a_thousand_points(baydin_points, method):
    x1, x2 = baydin_points
    result = run_method(method, adcompare.parse(BAYDIN), (x1, x2))
    value, gradient = baydin_by_hand(x1, x2)
    assert result.error is None and result.jacobian.shape == (1, 2, N)
    np.testing.assert_allclose(result.jacobian, gradient, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(result.value[0], value, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("fd_method", ["central", "forward", "richardson", "complex-step"])
def test_finite_differences_lie_within_their_error_estimate(baydin_points, fd_method):
    x1, x2 = baydin_points
    result = run_method("finite_difference", adcompare.parse(BAYDIN), (x1, x2), method=fd_method)
    _, gradient = baydin_by_hand(x1, x2)
    error = np.abs(result.jacobian - gradient)
    estimate = result.details["error_estimate"]
    assert estimate.shape == (1, 2, N)
    # The estimate is a claim, and here it holds at every point (the hand derivative is
    # exact up to its own few ulps).
    assert np.all(error <= estimate + 4e-16 * np.abs(gradient))
    if fd_method != "forward":   # first order: O(h) = 1e-8·|f″| may exceed the default tolerance
        assert np.all(error <= 1e-6 * np.abs(gradient) + 1e-8)
    # A smooth function: the step search runs at the few points where ln x1 near 0.2 makes
    # the base step coarse, not at the rest.
    assert result.details["fallback_points"] <= N // 100


def test_steps_are_per_point_and_exactly_representable(baydin_points):
    x1, _ = baydin_points
    result = run_method("finite_difference", adcompare.parse(BAYDIN), baydin_points)
    h = result.details["steps"][0]
    assert h.shape == (N,)
    assert np.all((x1 + h) - x1 == h)
    # ε^(1/3)·max(1, |x|), moved to the nearest step that x + h − x reproduces (an ulp of x).
    np.testing.assert_allclose(h, np.finfo(float).eps ** (1 / 3) * np.maximum(1.0, np.abs(x1)), rtol=1e-10)


def test_cost_is_per_call_not_per_point(baydin_points):
    graph = adcompare.parse(BAYDIN)
    for method in METHODS:
        assert run_method(method, graph, baydin_points).cost == run_method(method, graph, (2.0, 5.0)).cost


def _at(point, position):
    return tuple(float(x[position]) for x in point)


def _close_to_scalar(array_result, scalar_result, position):
    got = array_result.jacobian[(slice(None), slice(None), *position)]
    expected = np.asarray(scalar_result.jacobian, dtype=float)
    np.testing.assert_allclose(got, expected, rtol=4e-16 * 8, atol=1e-300)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_every_operation_over_arrays_agrees_with_its_single_point_runs(name):
    rng = np.random.default_rng(sorted(SAMPLERS).index(name))
    graph = single_operation_graph(name)
    point = tuple(np.array([draw(rng) for _ in range(6)]) for draw in SAMPLERS[name])
    for method in METHODS:
        over_points = run_method(method, graph, point)
        assert over_points.error is None, (method, over_points.error)
        for i in range(6):
            single = run_method(method, graph, _at(point, (i,)))
            if method == "finite_difference":
                # The same stencil and step: the same estimate, to rounding of f's evaluations.
                tolerance = 4 * float(single.details["error_estimate"].max()) + 1e-300
                assert np.max(np.abs(over_points.jacobian[:, :, i] - single.jacobian)) <= tolerance
            elif method == "symbolic":
                # float64 against 30 digits: the float64 rounding of sympy's formula.
                np.testing.assert_allclose(over_points.jacobian[:, :, i], single.jacobian.astype(float),
                                           rtol=1e-13, atol=1e-15)
            else:
                _close_to_scalar(over_points, single, (i,))


@pytest.mark.parametrize("expression, values, fallback", [
    ("abs(x)", [0.0, 1e-9, -1e-9, 2.0, -3.0], [0, 1, 2]),
    ("ln(x)", [1e-12, 0.5, 3.0], [0]),
    ("sqrt(x^2)", [1e-12, 4.0], [0]),
])
def test_points_where_the_stencil_fails_get_the_single_point_answer(expression, values, fallback):
    graph = adcompare.parse(expression)
    x = np.array(values)
    result = run_method("finite_difference", graph, (x,))
    assert result.details["fallback_points"] == len(fallback)
    assert np.flatnonzero(result.details["fallback"]).tolist() == fallback
    for i in fallback:
        single = run_method("finite_difference", graph, (values[i],))
        assert result.jacobian[0, 0, i] == single.jacobian[0, 0]          # the very same code path
        assert result.details["error_estimate"][0, 0, i] == single.details["error_estimate"][0, 0]


def test_ln_at_1e_minus_12_is_right_after_fallback():
    result = run_method("finite_difference", adcompare.parse("ln(x)"), (np.array([1e-12, 2.0]),))
    np.testing.assert_allclose(result.jacobian[0, 0], [1e12, 0.5], rtol=1e-6)


def test_a_point_outside_the_domain_is_inconclusive_and_named_not_fatal():
    x1 = np.full(40, 2.0)
    x1[17] = -1.0
    x2 = np.full(40, 3.0)
    report = adcompare.trace(BAYDIN, at={"x1": x1, "x2": x2})
    comparison = report.comparison
    assert comparison.state_counts() == {"agree": 39, "disagree": 0, "not-differentiable": 0, "inconclusive": 1}
    assert comparison.states().tolist() == [0] * 17 + [4] + [0] * 22
    assert comparison.verdict.status == "inconclusive"
    (reason, count, first), = comparison.reasons
    assert count == 1 and first == (17,) and reason.startswith("v₁ = ln v₋₁: ln is outside its domain")
    # The other points keep their derivatives, by hand: 1/x1 + x2 = 3.5, x1 − cos x2.
    np.testing.assert_allclose(report.jacobian[0, 0, :17], 3.5, rtol=1e-15)
    np.testing.assert_allclose(report.jacobian[0, 1, 18:], 2.0 - np.cos(3.0), rtol=1e-15)
    assert "Inconclusive at 1 point: v₁ = ln v₋₁: ln is outside its domain" in report.render()


def test_an_infinite_partial_at_one_point_of_a_grid_is_marked_there_only():
    x = np.ones((3, 4))
    x[1, 2] = 0.0
    for method in ("forward", "reverse"):
        result = run_method(method, adcompare.parse("sqrt(x)"), (x,))
        assert result.error is None
        failed = np.zeros((3, 4), dtype=bool)
        failed[1, 2] = True
        assert result.details["failed"].tolist() == failed.tolist()
        assert np.isnan(result.jacobian[0, 0, 1, 2])
        np.testing.assert_array_equal(result.jacobian[0, 0][~failed], 0.5)      # 1/(2√1), by hand


def test_the_issue_case_one_subnormal_row_does_not_stop_the_run(tmp_path, capsys):
    # ln(x) + |y − 1|·√x with x = 5e-324 in one row: ∂/∂x = 1/x overflows there (the
    # issue's run exited 2 after 284 s). Every other row is an ordinary point.
    rng = np.random.default_rng(15)
    rows = np.c_[rng.uniform(0.5, 3.0, 200), rng.uniform(1.5, 3.0, 200)]
    rows[18, 0] = 5e-324
    points = write_csv(tmp_path / "p.csv", ["x", "y"], rows.tolist())
    code, out, _ = cli(capsys, "trace", "ln(x)+abs(y-1)*sqrt(x)", "--at", points)
    assert code == 4
    assert "Points by state: 199 agree, 1 inconclusive." in out
    assert "has no finite derivative here" in out and "point [18]: x = 5e-324" in out
    # Finite differences too answer at every other row (they gave up on all 200 before).
    assert "finite differences could not be computed" not in out
    assert "Finite differences: no derivative at 1 point (inconclusive there); the first, at point [18]" in out


def test_finite_differences_fail_at_one_point_only():
    # f = ln(x) + |y − 1|·√x. By hand: ∂f/∂x = 1/x + |y − 1|/(2√x), ∂f/∂y = sign(y − 1)·√x.
    # At x = 5e-324, 1/x overflows: no derivative there; the two other points keep theirs.
    x, y = np.array([2.0, 5e-324, 1.0]), np.array([0.5, 0.5, 3.0])
    result = run_method("finite_difference", adcompare.parse("ln(x)+abs(y-1)*sqrt(x)"), (x, y))
    assert result.error is None and result.details["failed"].tolist() == [False, True, False]
    assert np.isnan(result.jacobian[0, :, 1]).all()
    expected = [[0.5 + 0.5 / (2 * math.sqrt(2.0)), 1.0 + 2.0 / 2.0], [-math.sqrt(2.0), 1.0]]
    np.testing.assert_allclose(result.jacobian[0][:, [0, 2]], expected, rtol=1e-7)


def test_grid_of_points_keeps_its_shape():
    x, y = np.meshgrid(np.linspace(0.5, 2, 4), np.linspace(-1, 1, 3))
    report = adcompare.trace("x*y, sin(x)", at={"x": x, "y": y})
    assert report.agree and report.jacobian.shape == (2, 2, 3, 4)
    np.testing.assert_allclose(report.jacobian[1, 0], np.cos(x), rtol=1e-15)
    np.testing.assert_array_equal(report.jacobian[0, 1], x)


def test_scalars_are_repeated_to_the_points():
    report = adcompare.trace("x*y", at={"x": np.array([1.0, 2.0, 4.0]), "y": 3})
    np.testing.assert_array_equal(report.jacobian, [[[3.0, 3.0, 3.0], [1.0, 2.0, 4.0]]])


def test_rows_of_points_are_in_variable_order():
    points = np.array([[2.0, 5.0], [3.0, -1.0]])
    report = adcompare.trace("x2 - x1^2", at=points, variables=["x2", "x1"])
    np.testing.assert_array_equal(report.jacobian[0], [[1.0, 1.0], [-10.0, 2.0]])
    with pytest.raises(InputError, match="3 columns"):
        adcompare.trace("x1 + x2", at=np.ones((4, 3)))
    with pytest.raises(InputError, match=r"x1 at point \[1\] must be finite"):
        adcompare.trace("x1 + x2", at={"x1": np.array([1.0, np.nan]), "x2": 1.0})
    with pytest.raises(InputError, match="differ in shape"):
        adcompare.trace("x1 + x2", at={"x1": np.ones(3), "x2": np.ones(4)})


def test_report_summarises_and_explains_the_worst_points(baydin_points):
    # Finite differences held to a zero tolerance: every point disagrees, explained.
    zero = Tolerance(0.0, 0.0)
    report = adcompare.trace(BAYDIN, at=dict(zip(("x1", "x2"), baydin_points)),
                             tolerances={"finite_difference": zero})
    comparison = report.comparison
    assert not report.agree and comparison.reference == "symbolic"
    fd = [s for s in comparison.summaries if s.method == "finite_difference"]
    x1, x2 = baydin_points
    _, gradient = baydin_by_hand(x1, x2)
    error = np.abs(report.results["finite_difference"].jacobian - gradient)
    for summary in fd:
        assert summary.max_abs_error == pytest.approx(error[0, summary.variable].max(), rel=1e-3)
        assert summary.disagreeing == np.count_nonzero(error[0, summary.variable])
    assert len(comparison.worst) == 5
    for position, single in comparison.worst:
        assert single.point == _at(report.point, position)
        # Within their own estimate; where f ≈ 0 by cancellation (ln x1 + x1·x2 ≈ sin x2), most
        # of it is the rounding of f's terms.
        assert {c.explanation for _, c in single.comparison.mismatches} <= {"finite-difference error",
                                                                             "rounding of f"}
    text = report.render()
    assert (text.count("explained: the difference lies within finite differences' own error estimate")
            + text.count("explained: within finite differences' own error estimate")) >= 5
    assert f"the methods disagree at {N:,} of {N:,} points" in text


def test_a_kink_among_the_points_makes_one_point_disagree():
    report = adcompare.trace("abs(x) + x", at={"x": np.array([-2.0, 0.0, 3.0])})
    assert not report.agree
    assert report.comparison.disagree.tolist() == [False, True, False]
    (position, single), = report.comparison.worst
    assert position == (1,) and [kink.text for kink in single.comparison.analysis.kinks] == ["abs at 0"]


def test_every_rendering_says_the_reference_is_float64():
    report = adcompare.trace("x*y", at={"x": np.array([1.0, 2.0]), "y": 3.0})
    assert report.results["symbolic"].details["precision"] == "float64"
    for output_format in ("text", "markdown", "html", "latex"):
        assert "float64" in report.render(output_format), output_format
    assert json.loads(report.render("json"))["methods"]["symbolic"]["precision"] == "float64"
    assert "| finite differences |" in report._repr_markdown_()


def test_no_user_text_reaches_eval_exec_or_sympify_over_arrays(text_guard):
    report = adcompare.trace("ln(zqmarker) + zqmarker*y - sin(y)", at={"zqmarker": np.array([2.0, 3.0]), "y": 5})
    assert report.agree
    assert text_guard == []


def test_single_point_results_keep_their_shapes_and_traces():
    result = run_method("reverse", adcompare.parse(BAYDIN), (2.0, 5.0))
    assert result.jacobian.shape == (1, 2) and np.ndim(result.value[0]) == 0
    assert [sweep.kind for sweep in result.sweeps] == ["primal", "adjoint"]
    assert result.details["rounding_bound"].shape == (1, 2)


# --- the command line --------------------------------------------------------------------------

def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write_csv(path, header, rows):
    lines = ([",".join(header)] if header else []) + [",".join(repr(float(x)) for x in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_csv_header_in_any_order_gives_the_hand_jacobian(tmp_path, capsys, baydin_points):
    x1, x2 = baydin_points
    points = write_csv(tmp_path / "points.csv", ["x2", "x1"], zip(x2, x1))
    out_file = tmp_path / "jacobian.csv"
    code, out, err = cli(capsys, "trace", BAYDIN, "--at", points, "--jacobian-out", str(out_file))
    assert (code, err) == (0, "")
    assert f"Verdict: all 4 methods agree at all {N:,} points." in out
    lines = out_file.read_text().splitlines()
    assert lines[0] == "d(y)/d(x1),d(y)/d(x2)"
    written = np.array([[float(cell) for cell in line.split(",")] for line in lines[1:]])
    _, gradient = baydin_by_hand(x1, x2)
    np.testing.assert_allclose(written, gradient[0].T, rtol=1e-15, atol=1e-15)


def test_npy_and_headerless_csv_are_in_variable_order(tmp_path, capsys):
    rows = np.array([[2.0, 5.0], [0.5, -1.0]])
    np.save(tmp_path / "points.npy", rows)
    write_csv(tmp_path / "plain.csv", None, rows)
    for name, options in (("points.npy", ()), ("plain.csv", ("--vars", "x1,x2"))):
        code, _, err = cli(capsys, "trace", BAYDIN, "--at", str(tmp_path / name), *options,
                           "--jacobian-out", str(tmp_path / "j.npy"))
        assert (code, err) == (0, "")
        _, gradient = baydin_by_hand(rows[:, 0], rows[:, 1])
        np.testing.assert_allclose(np.load(tmp_path / "j.npy"), gradient[0].T, rtol=1e-15)
    # --vars x2,x1: the first column is x2.
    code, _, _ = cli(capsys, "trace", "x1 - 10*x2", "--at", str(tmp_path / "plain.csv"), "--vars", "x2,x1",
                     "--jacobian-out", str(tmp_path / "k.csv"))
    assert code == 0 and (tmp_path / "k.csv").read_text().splitlines()[:2] == ["d(y)/d(x2),d(y)/d(x1)", "-10.0,1.0"]


def test_two_outputs_name_their_columns(tmp_path, capsys):
    points = write_csv(tmp_path / "p.csv", ["x"], [[1.0], [2.0]])
    code, _, _ = cli(capsys, "trace", "x^2, 3*x", "--at", points, "--jacobian-out", str(tmp_path / "j.csv"))
    assert code == 0
    assert (tmp_path / "j.csv").read_text().splitlines() == ["d(y₁)/d(x),d(y₂)/d(x)", "2.0,3.0", "4.0,3.0"]


def test_a_kink_among_points_exits_3(tmp_path, capsys):
    points = write_csv(tmp_path / "p.csv", ["x"], [[-1.0], [0.0], [1.0]])
    code, out, _ = cli(capsys, "trace", "abs(x)", "--at", points)
    assert code == 3 and "not differentiable at 1 of 3 points" in out and "Point [1]: x = 0" in out


BAD_FILES = {
    "missing file": (None, "no such file"),
    "empty file": ("", "the file is empty"),
    "header only": ("x1,x2\n", "no points in it (only a header)"),
    "wrong column count": ("1,2,3\n", "3 columns, but 2 variables (x1, x2)"),
    "ragged rows": ("1,2\n3\n", "line 2 has 1 value, line 1 has 2"),
    "non-numeric cell": ("1,2\n3,abc\n", "line 2, column 2: 'abc' is not a number"),
    "NaN": ("x1,x2\n1,2\nnan,3\n", "line 3, column 1: 'nan'; points must be finite"),
    "infinity": ("1,inf\n", "line 1, column 2: 'inf'; points must be finite"),
    "too large": ("1,1e999\n", "'1e999' is beyond the range of a float"),
    "unknown header name": ("x1,x3\n1,2\n", "the header names x3, which is not a variable (x1, x2)"),
    "missing header name": ("x1\n1\n", "the header has no column for the variable x2"),
    "repeated header name": ("x1,x1\n1,2\n", "x1 appears twice in the header"),
    "not text": (b"\xff\xfe\x00", "not a text file"),
}


BAD_NPY = {
    "one-dimensional": (np.array([1.0, 2.0]), "a 1-D array of shape (2,)"),
    "three-dimensional": (np.zeros((2, 2, 2)), "a 3-D array"),
    "strings": (np.array([["a", "b"]]), "an array of <U1"),
    "complex": (np.array([[1 + 1j, 2.0]]), "an array of complex128"),
    "NaN": (np.array([[1.0, 2.0], [3.0, np.nan]]), "element [1, 1] is nan"),
    "no rows": (np.zeros((0, 2)), "no points in it"),
    "wrong columns": (np.zeros((3, 1)), "1 column, but 2 variables"),
    "pickled objects": (np.array([[{"a": 1}, 2]], dtype=object), "not a .npy array of numbers"),
    "not npy at all": (b"hello", "not a .npy array of numbers"),
}


BAD_POINT_FILES = [("points.csv", case, *BAD_FILES[case]) for case in sorted(BAD_FILES)] + \
                  [("points.npy", case, *BAD_NPY[case]) for case in sorted(BAD_NPY)]


@pytest.mark.parametrize("name, case, content, message", BAD_POINT_FILES)
def test_bad_points_file_exits_2_with_one_line(tmp_path, capsys, name, case, content, message):
    path = tmp_path / name
    if isinstance(content, (bytes, str)):
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    elif content is not None:
        np.save(path, content, allow_pickle=True)   # how a careless writer makes an object array
    code, out, err = cli(capsys, "trace", BAYDIN, "--at", str(path))
    assert code == 2 and out == ""
    assert err.startswith("adcompare: error: ") and message in err and len(err.splitlines()) == 1, err


@pytest.mark.parametrize("args, message", [
    (("--jacobian-out", "j.txt"), "--jacobian-out: the file must end in .csv or .npy"),
    (("--jacobian-out", "j.csv", "--methods", "fd"), "include reverse in --methods"),
    (("--wrt", "x1"), "a report over many points has no traces"),
])
def test_bad_points_options_exit_2(tmp_path, capsys, args, message):
    points = write_csv(tmp_path / "p.csv", ["x1", "x2"], [[2.0, 5.0]])
    code, _, err = cli(capsys, "trace", BAYDIN, "--at", points, *args)
    assert code == 2 and message in err and len(err.splitlines()) == 1


def test_a_point_outside_the_domain_in_a_file_is_counted_end_to_end(tmp_path):
    points = write_csv(tmp_path / "p.csv", ["x1", "x2"], [[2.0, 5.0], [1.0, 1.0], [-1.0, 3.0]])
    done = subprocess.run([sys.executable, "-m", "adcompare", "trace", BAYDIN, "--at", points],
                          capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert done.returncode == 4 and done.stderr == ""
    assert "Points by state: 2 agree, 1 inconclusive." in done.stdout
    assert ("Inconclusive at 1 point: v₁ = ln v₋₁: ln is outside its domain (a positive argument needed); the first "
            "is point [2]: x₁ = -1, x₂ = 3") in done.stdout


def test_help_says_how_columns_are_ordered(capsys):
    with pytest.raises(SystemExit):
        main(["trace", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "FILE.csv or FILE.npy" in text and "--vars when given, else the natural order" in text


def test_a_graph_built_by_hand_runs_over_points():
    # y = x·x, from the IR directly (no parser): ∂y/∂x = 2x.
    graph = Graph(("x",), (Node("mul", (0, 0)),), (1,))
    result = run_method("forward", graph, (np.array([1.0, -2.0]),))
    np.testing.assert_array_equal(result.jacobian, [[[2.0, -4.0]]])


def test_dask_arrays_run_the_same_sweeps_block_by_block():
    # Optional extra: without dask installed this test is skipped, and says so.
    da = pytest.importorskip("dask.array", reason="the optional extra adcompare[dask] is not installed")
    from adcompare.backends.vector import run_dask
    import dask
    x = np.array([1.0, 0.0, 4.0, 0.25, 9.0])
    y = np.array([2.0, 1.0, -1.0, 3.0, 0.5])
    graph = adcompare.parse("sqrt(x)*y")
    for method in ("forward", "reverse"):
        jacobian, failed = run_dask(method, graph, (da.from_array(x, chunks=2), da.from_array(y, chunks=2)))
        with dask.config.set(scheduler="synchronous"):            # a local scheduler, no cluster
            jacobian, failed = dask.compute(jacobian, failed)
        assert jacobian.shape == (1, 2, 5) and failed.tolist() == [False, True, False, False, False]
        # By hand: ∂/∂x = y/(2√x), ∂/∂y = √x; none at x = 0, where √ has no finite derivative.
        keep = ~failed
        np.testing.assert_allclose(jacobian[0, 0][keep], (y / (2 * np.sqrt(x)))[keep], rtol=1e-15)
        np.testing.assert_allclose(jacobian[0, 1][keep], np.sqrt(x)[keep], rtol=1e-15)
        assert np.isnan(jacobian[0, :, 1]).all()

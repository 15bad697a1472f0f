"""The command line's handling of awkward input (issue 12, "also in this kind"): JSON that
strict parsers accept, no library warning before the one-line error, expressions that begin
with minus signs, and ``lecture --out`` at a place it cannot write."""

import json
import math

import numpy as np
import pytest

import adcompare.report
from adcompare.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _strict(text):
    """JSON as a strict parser reads it: Infinity and NaN are not numbers in RFC 8259."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def test_json_is_strict_where_an_error_is_infinite(capsys):
    # x³ at 0: f′(0) = 3·0² = 0. Forward differences give (h³ − 0)/h = h² ≠ 0 (h = 2⁻²⁶), so
    # their relative error against the exact 0 is infinite.
    code, out, _ = _run(capsys, "trace", "x^3", "--at", "0", "--fd-method", "forward", "--format", "json")
    assert code == 0
    data = _strict(out)
    check = next(c for c in data["comparison"]["entries"][0]["checks"] if c["method"] == "finite_difference")
    assert check["value"] == 2.0 ** -52 and check["rel_error"] == "Infinity"
    assert float(check["rel_error"]) == math.inf


def test_json_is_strict_where_an_error_estimate_is_infinite(capsys):
    # cos x at 3e17, f′ = −sin x: floats there are 64 apart, ten periods of cos, so no step
    # resolves f, and finite differences' estimate says so: ∞.
    code, out, _ = _run(capsys, "trace", "cos(x)", "--at", "3e17", "--methods", "fd,forward", "--format", "json")
    data = _strict(out)
    assert data["methods"]["finite_difference"]["trace"][0]["error_estimate"] == ["Infinity"]
    assert code == 1


def test_no_warning_reaches_the_user_before_the_one_line_error(capsys, monkeypatch):
    # ln(x) at −1 is bad input: one line, nothing before it, even when a back end on the way
    # trips numpy's warnings (made certain here).
    real_trace_graph = adcompare.report.trace_graph

    def noisy(*args, **kwargs):
        np.log(np.array([0.0]))               # RuntimeWarning: divide by zero
        np.array([1e308]) * 10                # RuntimeWarning: overflow
        return real_trace_graph(*args, **kwargs)

    monkeypatch.setattr(adcompare.report, "trace_graph", noisy)
    with _no_warnings():
        code, out, err = _run(capsys, "trace", "ln(x)", "--at", "x=-1")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("adcompare: error: ") and "ln needs a positive argument" in err


def test_no_warning_where_the_derivative_is_beyond_the_float_range(capsys):
    # 1/x at 1e-300: f′ = −1/x² = −1e600, beyond the floats. The report says so in its own
    # words (finite differences' quotients overflow); no numpy warning is printed.
    with _no_warnings():
        code, out, err = _run(capsys, "trace", "1/x", "--at", "1e-300")
    assert "Warning" not in out + err and "overflow encountered" not in out + err
    assert "every difference quotient in x overflows: the derivative is beyond the range of floats" in out
    assert code in (1, 3, 4)


class _no_warnings:
    """A block in which no warning may be shown (recorded warnings are shown ones)."""

    def __enter__(self):
        import warnings
        self._catcher = warnings.catch_warnings(record=True)
        self.caught = self._catcher.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self._catcher.__exit__(*exc)
        assert self.caught == [], [str(w.message) for w in self.caught]


@pytest.mark.parametrize("argv", [
    ("trace", "--x", "--at", "x=1"),           # −(−x) = x: f′ = 1
    ("trace", "--", "--x", "--at", "x=1"),
    ("trace", "---x", "--at", "x=1"),          # −(−(−x)) = −x: f′ = −1
    ("trace", "--at", "x=1", "--x"),
    ("trace", "-x^2", "--at", "3"),            # −(x²): f′ = −6
])
def test_an_expression_may_begin_with_minus_signs(capsys, argv):
    expected = {"--x": 1.0, "---x": -1.0, "-x^2": -6.0}[next(a for a in argv[1:] if a in ("--x", "---x", "-x^2"))]
    code, out, _ = _run(capsys, *argv, "--format", "json")
    assert code == 0
    assert _strict(out)["methods"]["reverse"]["gradient"] == [expected]


def test_unknown_options_are_still_refused(capsys):
    code, _, err = _run(capsys, "trace", "x", "--bogus", "--at", "1")
    assert code == 2 and "unrecognized arguments: --bogus" in err


def test_lecture_out_where_it_cannot_write_is_one_line(capsys, tmp_path):
    missing = tmp_path / "no" / "such" / "folder"
    code, out, err = _run(capsys, "lecture", "--out", str(missing))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "parent folder" in err and "does not exist" in err and not missing.parent.exists()
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    for extra in ((), ("--check",)):
        code, out, err = _run(capsys, "lecture", "--out", str(a_file), *extra)
        assert code == 2 and err.count("\n") == 1 and "is a file, not a folder" in err

"""The command line, end to end: ``python -m adcompare trace …`` and the ``adcompare`` script.

Every expected number comes from Python's math module or a hand derivation; every expected
trace row is written from Baydin et al. (JMLR 2018) Tables 2 and 3 (see
shared/reference/baydin-tables.md), in adcompare's columns:
name | = definition | [= local] | [= with values] | = value.

Subprocesses cost ~0.6 s each, so each invocation is run once (memoised in `run`), and all
of them (ALL_RUNS, at the end of the file) are started in parallel when the module starts.
"""

import json
import math
import os
import re
import subprocess
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

BAYDIN = "ln(x1)+x1*x2-sin(x2)"
MINUS = "\u2212"                       # − as printed in traces
SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")
DOT, BAR = "\u0307", "\u0304"          # combining dot above (v̇), combining macron (v̄)


def nfc(text):
    """Canonical composition: ȳ may be printed as y + U+0304 or as the single U+0233, and so on."""
    return unicodedata.normalize("NFC", text)


def v(n):
    return "v" + str(n).translate(SUB)


def vdot(n):
    return nfc("v" + DOT + str(n).translate(SUB))


def vbar(n):
    return nfc("v" + BAR + str(n).translate(SUB))


def xname(name, mark=""):
    """An input's name as the traces print it: a letter, its mark, digits as a subscript (x1 → x₁)."""
    return nfc(name[0] + mark + name[1:].translate(SUB))


def xdot(name):
    return xname(name, DOT)


def xbar(name):
    return xname(name, BAR)


YDOT, YBAR = nfc("y" + DOT), nfc("y" + BAR)


def rounded(x, digits=3):
    """Hand rounding rule of the traces: `digits` decimals, trailing zeros dropped, − sign."""
    text = f"{x:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace("-", MINUS)


def within_ulp(got, expected, ulps=1):
    return abs(got - expected) <= ulps * math.ulp(expected)


# Reference numbers, independent of adcompare.
LN2, SIN5, COS5 = math.log(2), math.sin(5), math.cos(5)
BAYDIN_VALUE = LN2 + 10 - SIN5          # ln 2 + 2·5 − sin 5
BAYDIN_GRADIENT = (5 + 1 / 2, 2 - COS5)  # (x2 + 1/x1, x1 − cos x2) at (2, 5)

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
SCRIPT = Path(sys.executable).parent / "adcompare"
_CACHE = {}
_PENDING = {}   # key → Future of a prefetched run


def _spawn(key):
    script, args = key
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "adcompare"]
    return subprocess.run(command + list(args), capture_output=True, text=True, encoding="utf-8",
                          env=ENV, timeout=120)


def run(*args, script=False):
    """Run the CLI once per distinct argument list; returns the CompletedProcess."""
    key = (script, tuple(args))
    if key not in _CACHE:
        pending = _PENDING.pop(key, None)
        _CACHE[key] = pending.result() if pending is not None else _spawn(key)
    return _CACHE[key]


def prefetch(keys):
    """Start invocations in the background (as many at a time as there are CPUs); `run` waits for them."""
    pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
    for key in keys:
        if key not in _CACHE and key not in _PENDING:
            _PENDING[key] = pool.submit(_spawn, key)
    pool.shutdown(wait=False)


@pytest.fixture(scope="module", autouse=True)
def _start_every_invocation():
    """All of this file's invocations (listed in ALL_RUNS at the end) start in the background."""
    prefetch(ALL_RUNS)
    yield
    for pending in list(_PENDING.values()):
        pending.result()
    _PENDING.clear()


def run_json(*args):
    result = run(*args, "--format", "json")
    assert "Traceback" not in result.stderr
    return result, json.loads(nfc(result.stdout))


def blocks(stdout):
    """Text output → {title line: [rows]}, a row being a list of cells or 'rule'."""
    out = {}
    for block in nfc(stdout).split("\n\n"):
        lines = block.strip("\n").split("\n")
        rows = []
        for line in lines[1:]:
            if line.strip() and set(line) <= {"-", " "}:
                rows.append("rule")
                continue
            cells = re.split(r"\s{2,}", line.strip())
            rows.append([cells[0]] + [c[2:] if c.startswith("= ") else c for c in cells[1:]])
        out[lines[0]] = rows
    return out


def block(stdout, prefix):
    found = [rows for title, rows in blocks(stdout).items() if title.startswith(prefix)]
    assert len(found) == 1, f"expected one block titled {prefix!r}, found {len(found)}:\n{stdout}"
    return found[0]


def sections(rows):
    """Rows split at the rules, empty sections dropped."""
    out, current = [], []
    for row in rows + ["rule"]:
        if row == "rule":
            if current:
                out.append(current)
            current = []
        else:
            current.append(row)
    return out


def find_row(rows, name, definition):
    matches = [r for r in rows if r != "rule" and r[0] == name and r[1] == definition]
    assert len(matches) == 1, f"row {name} = {definition} not found once in {rows}"
    return matches[0]


def assert_clean_error(result, *needles, caret=False):
    """Exit 2, one 'adcompare: error:' line (+ the expression and a caret line), no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.rstrip("\n").split("\n")
    assert lines[0].startswith("adcompare: error: "), result.stderr
    assert "adcompare: error:" not in "\n".join(lines[1:])
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    if caret:
        assert len(lines) == 3, result.stderr
        assert re.fullmatch(r" *\^", lines[2]), lines[2]
    else:
        assert len(lines) in (1, 3), result.stderr
        if len(lines) == 3:  # extra lines may only be the expression and its caret
            assert re.fullmatch(r" *\^", lines[2]), lines[2]
    return lines


def caret_target(lines, expression):
    """The index in `expression` the caret points at (the source line is indented like the caret)."""
    indent = len(lines[1]) - len(lines[1].lstrip(" "))
    assert lines[1][indent:] == expression
    return lines[2].index("^") - indent


# ---------------------------------------------------------------------------------------------
# The Baydin example as text (through the console script), Tables 2 and 3.

@pytest.fixture(scope="module")
def baydin_text():
    assert SCRIPT.exists(), f"console script not installed next to {sys.executable}"
    return run("trace", BAYDIN, "--at", "2,5", script=True)


def test_baydin_text_exit_and_verdict(baydin_text):
    assert baydin_text.returncode == 0
    assert baydin_text.stderr == ""
    lines = baydin_text.stdout.splitlines()
    assert lines[0] == "y(x₁, x₂) = " + BAYDIN
    assert lines[1] == "at x₁ = 2, x₂ = 5"
    assert lines[-1] == "Verdict: all 4 methods agree."
    assert "MISMATCH" not in baydin_text.stdout


def test_baydin_table2_primal_trace(baydin_text):
    rows = block(baydin_text.stdout, "Forward primal trace")
    expected = [  # Table 2, left: inputs | working rows | output
        [[v(-1), "x₁", "2"], [v(0), "x₂", "5"]],
        [[v(1), f"ln {v(-1)}", "ln 2", "0.693"],
         [v(2), f"{v(-1)} × {v(0)}", "2 × 5", "10"],
         [v(3), f"sin {v(0)}", "sin 5", f"{MINUS}0.959"],
         [v(4), f"{v(1)} + {v(2)}", "0.693 + 10", "10.693"],
         [v(5), f"{v(4)} {MINUS} {v(3)}", f"10.693 {MINUS} ({MINUS}0.959)", "11.652"]],
        [["y", v(5), "11.652"]],
    ]
    assert sections(rows) == expected
    # the subtraction of a negative number is unambiguous (not the paper's "10.693 + 0.959")
    v5 = find_row(rows, v(5), f"{v(4)} − {v(3)}")
    assert "\u2212(\u22120.959)" in v5[2].replace(" ", "") and "-" not in v5[2] and "+" not in v5[2]


def test_baydin_table2_tangent_trace_x1(baydin_text):
    rows = block(baydin_text.stdout, "Forward tangent trace for ∂/∂x₁")
    got = sections(rows)
    assert got[0] == [[vdot(-1), xdot("x1"), "1"], [vdot(0), xdot("x2"), "0"]]
    assert got[2] == [[YDOT, vdot(5), "5.5"]]
    body = got[1]
    assert [r[0] for r in body] == [vdot(1), vdot(2), vdot(3), vdot(4), vdot(5)]
    v1 = find_row(body, vdot(1), f"{vdot(-1)} / {v(-1)}")
    assert v1[2].replace(" ", "") == "1/2" and v1[-1] == "0.5"
    assert find_row(body, vdot(2), f"{vdot(-1)} × {v(0)} + {vdot(0)} × {v(-1)}")[2:] == ["1 × 5 + 0 × 2", "5"]
    assert find_row(body, vdot(3), f"{vdot(0)} × cos {v(0)}")[2:] == ["0 × cos 5", "0"]
    assert find_row(body, vdot(4), f"{vdot(1)} + {vdot(2)}")[2:] == ["0.5 + 5", "5.5"]
    assert find_row(body, vdot(5), f"{vdot(4)} {MINUS} {vdot(3)}")[2:] == [f"5.5 {MINUS} 0", "5.5"]


def test_baydin_tangent_trace_x2_hand_derived(baydin_text):
    # Not in the paper; with ẋ1 = 0, ẋ2 = 1: v̇₂ = 0·5 + 1·2 = 2, v̇₃ = cos 5, ẏ = 2 − cos 5.
    got = sections(block(baydin_text.stdout, "Forward tangent trace for ∂/∂x₂"))
    assert got[0] == [[vdot(-1), xdot("x1"), "0"], [vdot(0), xdot("x2"), "1"]]
    body = got[1]
    assert find_row(body, vdot(2), f"{vdot(-1)} × {v(0)} + {vdot(0)} × {v(-1)}")[2:] == ["0 × 5 + 1 × 2", "2"]
    assert find_row(body, vdot(3), f"{vdot(0)} × cos {v(0)}")[-1] == rounded(COS5)
    assert got[2] == [[YDOT, vdot(5), rounded(2 - COS5)]]


TABLE_3_BODY = [  # (name, definition, local, value), top to bottom as printed in Table 3
    (vbar(-1), f"{vbar(-1)} + {vbar(1)} ∂{v(1)}/∂{v(-1)}", f"{vbar(-1)} + {vbar(1)} / {v(-1)}", "5.5"),
    (vbar(0), f"{vbar(0)} + {vbar(2)} ∂{v(2)}/∂{v(0)}", f"{vbar(0)} + {vbar(2)} × {v(-1)}", "1.716"),
    (vbar(-1), f"{vbar(2)} ∂{v(2)}/∂{v(-1)}", f"{vbar(2)} × {v(0)}", "5"),
    (vbar(0), f"{vbar(3)} ∂{v(3)}/∂{v(0)}", f"{vbar(3)} × cos {v(0)}", f"{MINUS}0.284"),
    (vbar(2), f"{vbar(4)} ∂{v(4)}/∂{v(2)}", f"{vbar(4)} × 1", "1"),
    (vbar(1), f"{vbar(4)} ∂{v(4)}/∂{v(1)}", f"{vbar(4)} × 1", "1"),
    (vbar(3), f"{vbar(5)} ∂{v(5)}/∂{v(3)}", f"{vbar(5)} × ({MINUS}1)", f"{MINUS}1"),
    (vbar(4), f"{vbar(5)} ∂{v(5)}/∂{v(4)}", f"{vbar(5)} × 1", "1"),
]


def test_baydin_table3_adjoint_trace(baydin_text):
    got = sections(block(baydin_text.stdout, "Reverse adjoint trace for y"))
    assert len(got) == 3
    # outputs x̄1 = v̄₋₁ = 5.5 and x̄2 = v̄₀ = 1.716 (order checked separately)
    assert sorted(got[0]) == [[xbar("x1"), vbar(-1), "5.5"], [xbar("x2"), vbar(0), "1.716"]]
    body = got[1]
    assert [(r[0], r[1], r[2], r[-1]) for r in body] == TABLE_3_BODY
    # the accumulation rows with values substituted: 5 + 1/2 and (−cos 5) + 1·2
    assert body[0][3].replace(" ", "") == "5+1/2"
    assert body[1][3].replace(" ", "").replace("(", "").replace(")", "") == f"{MINUS}0.284+1×2"
    assert got[2] == [[vbar(5), YBAR, "1"]]


def test_baydin_table3_output_rows_in_paper_order(baydin_text):
    got = sections(block(baydin_text.stdout, "Reverse adjoint trace for y"))
    assert [r[0] for r in got[0]] == [xbar("x1"), xbar("x2")]


def test_python_m_gives_the_same_text_as_the_console_script(baydin_text):
    result = run("trace", BAYDIN, "--at", "2,5")
    assert result.returncode == 0
    assert result.stdout == baydin_text.stdout


def test_wrt_x1_shows_only_that_tangent_trace():
    result = run("trace", BAYDIN, "--at", "2,5", "--wrt", "x1")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    titles = [t for t in blocks(result.stdout) if t.startswith("Forward tangent trace")]
    assert titles == [f"Forward tangent trace for ∂/∂x₁ ({xdot('x1')} = 1, {xdot('x2')} = 0)"]
    rows = block(result.stdout, "Forward tangent trace")
    assert find_row(rows, vdot(2), f"{vdot(-1)} × {v(0)} + {vdot(0)} × {v(-1)}")[2:] == ["1 × 5 + 0 × 2", "5"]
    assert "∂/∂x₂" not in result.stdout
    # the primal and adjoint traces are still shown
    block(result.stdout, "Forward primal trace")
    block(result.stdout, "Reverse adjoint trace")


def test_digits_5_with_wrt_x2():
    result = run("trace", BAYDIN, "--at", "2,5", "--digits", "5", "--wrt", "x2")
    assert result.returncode == 0
    primal = block(result.stdout, "Forward primal trace")
    assert find_row(primal, v(1), f"ln {v(-1)}")[2:] == ["ln 2", "0.69315"]
    assert find_row(primal, v(3), f"sin {v(0)}")[-1] == rounded(SIN5, 5) == f"{MINUS}0.95892"
    v5 = find_row(primal, v(5), f"{v(4)} {MINUS} {v(3)}")
    assert v5[2:] == [f"{rounded(LN2 + 10, 5)} {MINUS} ({rounded(SIN5, 5)})", rounded(BAYDIN_VALUE, 5)]
    tangent = block(result.stdout, "Forward tangent trace")
    assert find_row(tangent, vdot(3), f"{vdot(0)} × cos {v(0)}")[2:] == ["1 × cos 5", rounded(COS5, 5)]
    assert find_row(tangent, YDOT, vdot(5))[-1] == rounded(2 - COS5, 5)
    assert "∂/∂x₁" not in result.stdout


# ---------------------------------------------------------------------------------------------
# JSON

@pytest.fixture(scope="module")
def baydin_json():
    return run_json("trace", BAYDIN, "--at", "2,5")


def test_json_baydin_keys_point_value(baydin_json):
    result, data = baydin_json
    assert result.returncode == 0 and result.stderr == ""
    assert {"expression", "variables", "point", "value", "methods", "agree"} <= set(data)
    assert data["expression"] == BAYDIN
    assert data["variables"] == ["x1", "x2"]
    assert data["point"] == [2.0, 5.0]
    assert within_ulp(data["value"], BAYDIN_VALUE)
    assert data["agree"] is True
    assert set(data["methods"]) == {"finite_difference", "symbolic", "forward", "reverse"}


def test_json_baydin_gradients_full_precision(baydin_json):
    _, data = baydin_json
    methods = data["methods"]
    for name in ("symbolic", "forward", "reverse"):
        gradient = methods[name]["gradient"]
        assert len(gradient) == 2
        assert gradient[0] == 5.5, name
        assert within_ulp(gradient[1], BAYDIN_GRADIENT[1]), (name, gradient[1], BAYDIN_GRADIENT[1])
    fd = methods["finite_difference"]["gradient"]
    assert fd != list(BAYDIN_GRADIENT)  # a difference quotient carries truncation/round-off
    for got, want in zip(fd, BAYDIN_GRADIENT):
        assert math.isclose(got, want, rel_tol=1e-6)
    for method in methods.values():
        assert "trace" in method


def test_json_baydin_traces(baydin_json):
    _, data = baydin_json
    forward = {(s["kind"], s["seed"]): {r["name"]: r["value"] for r in s["rows"]}
               for s in data["methods"]["forward"]["trace"]}
    t1, t2 = forward[("tangent", 0)], forward[("tangent", 1)]
    assert (t1[vdot(1)], t1[vdot(2)], t1[YDOT]) == (0.5, 5.0, 5.5)
    assert within_ulp(t2[vdot(3)], COS5) and within_ulp(t2[YDOT], 2 - COS5)
    sweeps = [s for s in data["methods"]["reverse"]["trace"] if s["kind"] == "adjoint"]
    assert len(sweeps) == 1
    rows = sweeps[0]["rows"]
    adjoint = [(r["name"], r["value"]) for r in rows]
    assert (vbar(5), 1.0) in adjoint and (vbar(3), -1.0) in adjoint
    first_v0 = [value for name, value in adjoint if name == vbar(0)]
    assert len(first_v0) == 2 and within_ulp(first_v0[0], -COS5) and within_ulp(first_v0[1], 2 - COS5)
    outputs = {r["name"]: r["value"] for r in rows if r["name"].startswith("x")}
    assert outputs[xbar("x1")] == 5.5 and within_ulp(outputs[xbar("x2")], 2 - COS5)
    primal = {r["name"]: r["value"] for r in data["primal_trace"]}
    assert within_ulp(primal[v(3)], SIN5) and within_ulp(primal["y"], BAYDIN_VALUE)


def test_json_comparison_reference_full_precision(baydin_json):
    _, data = baydin_json
    entry = [e for e in data["comparison"]["entries"] if e["variable"] == "x2"][0]
    assert within_ulp(float(entry["reference"]), 2 - COS5)


ORDERING_CASES = {
    # --vars wins; --at values then follow that order
    "vars": (["--vars", "x2,x1", "--at", "5,2"], ["x2", "x1"], [5.0, 2.0]),
    # the order of --at name=value
    "at-names": (["--at", "x2=5,x1=2"], ["x2", "x1"], [5.0, 2.0]),
    # --vars also wins over the order of --at name=value
    "vars-over-at-names": (["--vars", "x1,x2", "--at", "x2=5,x1=2"], ["x1", "x2"], [2.0, 5.0]),
}


@pytest.mark.parametrize("case", list(ORDERING_CASES))
def test_json_variable_order(case):
    args, variables, point = ORDERING_CASES[case]
    result, data = run_json("trace", BAYDIN, *args)
    assert result.returncode == 0
    assert data["variables"] == variables
    assert data["point"] == point
    by_name = dict(zip(["x1", "x2"], BAYDIN_GRADIENT))
    want = [by_name[name] for name in variables]
    for name in ("forward", "reverse", "symbolic"):
        got = data["methods"][name]["gradient"]
        assert all(within_ulp(g, w) for g, w in zip(got, want)), (name, got, want)
    assert within_ulp(data["value"], BAYDIN_VALUE)


def test_json_natural_order_x2_before_x10():
    # written x10 first; natural order puts x2 first, so --at 2,3 means x2 = 2, x10 = 3:
    # f = x10³·x2 = 54, ∂f/∂x2 = x10³ = 27, ∂f/∂x10 = 3·x10²·x2 = 54.
    result, data = run_json("trace", "x10^3*x2", "--at", "2,3")
    assert result.returncode == 0
    assert data["variables"] == ["x2", "x10"]
    assert data["point"] == [2.0, 3.0]
    assert data["value"] == 54.0
    assert data["methods"]["reverse"]["gradient"] == [27.0, 54.0]
    assert data["methods"]["forward"]["gradient"] == [27.0, 54.0]


NEGATIVE_CASES = [
    # f = x1·x2² at (−1, 2): f = −4, ∇f = (x2², 2·x1·x2) = (4, −4)
    ("-1,2", "x1*x2^2", [-1.0, 2.0], -4.0, [4.0, -4.0]),
    # f = x³ at −1: f = −1, f' = 3x² = 3
    ("-1", "x^3", [-1.0], -1.0, [3.0]),
    # f = x1·x2 at (−1, −2.5): f = 2.5, ∇f = (x2, x1) = (−2.5, −1)
    ("x1=-1,x2=-2.5", "x1*x2", [-1.0, -2.5], 2.5, [-2.5, -1.0]),
    # f = exp(x) at −0.5: f = f' = e^−0.5
    ("-.5", "exp(x)", [-0.5], math.exp(-0.5), [math.exp(-0.5)]),
]


@pytest.mark.parametrize("at, expression, point, value, gradient", NEGATIVE_CASES)
def test_negative_values_as_typed(at, expression, point, value, gradient):
    result, data = run_json("trace", expression, "--at", at)
    assert result.returncode == 0, result.stderr
    assert data["point"] == point
    assert within_ulp(data["value"], value)
    assert all(within_ulp(g, w) for g, w in zip(data["methods"]["reverse"]["gradient"], gradient))
    assert data["agree"] is True


def test_negative_value_before_the_expression():
    result = run("trace", "--at", "-1", "x*x")   # x² at −1: f' = −2
    assert result.returncode == 0, result.stderr
    assert f"at x = {MINUS}1" in result.stdout or "at x = -1" in result.stdout
    rows = block(result.stdout, "Reverse adjoint trace")
    assert [r for r in rows if r != "rule" and r[0] == xbar("x")][0][-1] == f"{MINUS}2"


def test_methods_forward_reverse_only():
    result, data = run_json("trace", BAYDIN, "--at", "2,5", "--methods", "forward,reverse")
    assert result.returncode == 0
    assert set(data["methods"]) == {"forward", "reverse"}
    assert data["agree"] is True
    assert data["methods"]["reverse"]["gradient"][0] == 5.5
    text = run("trace", BAYDIN, "--at", "2,5", "--methods", "forward,reverse")
    assert text.returncode == 0
    assert "Symbolic derivatives" not in text.stdout and "Finite differences" not in text.stdout
    assert text.stdout.rstrip().endswith("Verdict: all 2 methods agree.")


def test_fd_method_forward():
    result, data = run_json("trace", BAYDIN, "--at", "2,5", "--fd-method", "forward")
    assert result.returncode == 0
    fd = data["methods"]["finite_difference"]
    assert fd["method"] == "forward"
    # a one-sided quotient is accurate to about √ε: looser than central, still within 1e-6
    for got, want in zip(fd["gradient"], BAYDIN_GRADIENT):
        assert math.isclose(got, want, rel_tol=1e-6)
    # forward differences evaluate f at x and x + h only: f_minus is f(x)
    for row in fd["trace"]:
        assert within_ulp(row["f_minus"][0], BAYDIN_VALUE)


def test_merge_common_subexpressions():
    # sin(x)·sin(x): two sin nodes as written, one with --merge; f' = 2 sin x cos x = sin 2x
    plain = run_json("trace", "sin(x)*sin(x)", "--at", "1")[1]
    merged = run_json("trace", "sin(x)*sin(x)", "--at", "1", "--merge")[1]
    count = lambda data: sum(1 for r in data["primal_trace"] if r["section"] == "body")
    assert count(plain) == 3 and count(merged) == 2
    for data in (plain, merged):
        assert math.isclose(data["methods"]["reverse"]["gradient"][0], math.sin(2), rel_tol=1e-15)
        assert data["agree"] is True


def test_rtol_atol_zero_make_float_modes_disagree_with_exact():
    # 2 − cos 5 is irrational, so no float equals it: with zero tolerance forward and reverse
    # must fail ∂y/∂x2 against the high-precision symbolic reference, and pass ∂y/∂x1 = 5.5.
    result, data = run_json("trace", BAYDIN, "--at", "2,5", "--rtol", "0", "--atol", "0")
    assert result.returncode == 1
    assert data["agree"] is False
    checks = {(e["variable"], c["method"]): c["ok"] for e in data["comparison"]["entries"] for c in e["checks"]}
    assert checks[("x1", "forward")] and checks[("x1", "reverse")]
    assert not checks[("x2", "forward")] and not checks[("x2", "reverse")]
    assert checks[("x2", "finite_difference")]


# ---------------------------------------------------------------------------------------------
# Disagreement: exit 1

def test_fd_tolerance_too_tight_exit_1():
    result = run("trace", BAYDIN, "--at", "2,5", "--fd-rtol", "1e-30", "--fd-atol", "0")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert "MISMATCH" in out
    # ∂y/∂x2 = 2 − cos 5 is irrational: a difference quotient cannot hit it exactly
    assert re.search(r"finite differences differs from .* at ∂y/∂x₂", out)
    assert "forward mode differs" not in out and "reverse mode differs" not in out
    assert out.rstrip().splitlines()[-1].startswith("Verdict: the methods disagree at ∂y/∂x₁: finite differences gives")
    assert out.rstrip().endswith("; and at 1 more entry.")


def test_kink_abs_at_zero_exit_3():
    result = run("trace", "abs(x)", "--at", "0")
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    verdict = result.stdout.rstrip().splitlines()
    assert verdict[-1].startswith("Verdict: not differentiable here")
    assert any("kink" in line and "abs" in line for line in verdict[-3:-1])


def test_kink_in_json_exit_3():
    result, data = run_json("trace", "abs(x)", "--at", "0")
    assert result.returncode == 3
    assert data["agree"] is False and data["verdict"]["status"] == "not-differentiable"
    assert data["comparison"]["kinks"] and "abs" in data["comparison"]["kinks"][0]["kink"]


def test_method_that_cannot_run_is_inconclusive_exit_4():
    # The complex step needs complex-analytic operations and abs is not one: finite
    # differences cannot run; the exact methods give d/dx (|x|·x) = 2|x| = 2 at 1.
    result = run("trace", "abs(x)*x", "--at", "1", "--fd-method", "complex-step")
    assert result.returncode == 4
    assert "Traceback" not in result.stderr
    assert "finite differences could not be computed" in result.stdout and "abs" in result.stdout
    assert result.stdout.rstrip().endswith("all that ran agree.")
    assert "Verdict: inconclusive" in result.stdout
    result, data = run_json("trace", "abs(x)*x", "--at", "1", "--fd-method", "complex-step")
    assert result.returncode == 4 and data["agree"] is False and data["verdict"]["status"] == "inconclusive"
    assert data["methods"]["finite_difference"]["error"]
    assert data["methods"]["reverse"]["gradient"] == [2.0]


# ---------------------------------------------------------------------------------------------
# Bad input: exit 2, one clear line, no traceback

# (arguments after 'trace', words the error line must contain, whether caret lines are required,
#  the character the caret must point at — None for "just past the end")
SYNTAX_CASES = {
    "operator-without-operand": ("ln(x1)+*x2", ["column 8"], "*", 7),
    "unexpected-character": ("x1 + 2 $ x2", ["'$'"], "$", 7),
    "unclosed-paren": ("ln(x1) + x1*x2 - sin(x2", ["')'"], "(", 20),
    "unmatched-close": ("2*x1)", ["')'"], ")", 4),
    "missing-operator": ("x1 x2", ["x2"], "x", 3),
    "trailing-operator": ("x1 +", ["end"], None, 4),
    "unknown-function": ("x1 + foo(x1)", ["foo"], "f", 5),
}

BAD_CASES = {
    "unknown-variable": (["x1+x2", "--vars", "x1", "--at", "2"], ["x2"]),
    "missing-value": (["x1+x2", "--at", "2"], ["2 values", "got 1"]),
    "extra-value": (["x1+x2", "--at", "2,5,7"], ["2 values", "got 3"]),
    "extra-named-value": (["x1+x2", "--at", "x1=2,x2=5,x3=7"], ["x3"]),
    "named-value-not-a-variable": (["x1+x2", "--vars", "x1,x2", "--at", "x1=2,x2=5,x3=7"], ["x3"]),
    "missing-named-value-with-vars": (["x1+x2", "--vars", "x1,x2", "--at", "x1=2"], ["x2"]),
    "ln-negative-named": (["ln(x1)", "--at", "x1=-1"], ["ln", "positive"]),
    "ln-negative": (["ln(x1)", "--at", "-1"], ["ln"]),
    "div-by-zero": (["1/x", "--at", "0"], ["0", "div"]),
    "at-nan": (["x", "--at", "nan"], ["--at", "nan"]),
    "at-inf": (["x", "--at", "inf"], ["--at", "inf"]),
    "at-minus-inf": (["x", "--at", "-inf"], ["--at", "inf"]),
    "at-abc": (["x", "--at", "abc"], ["--at", "abc"]),
    "at-second-nan": (["x+y", "--at", "1,nan"], ["nan"]),
    "at-overflow": (["x", "--at", "1e400"], ["finite"]),
    "at-empty-item": (["x1+x2", "--at", "2,,5"], ["--at", "empty"]),
    "at-mixed-named": (["x1+x2", "--at", "x1=2,5"], ["--at"]),
    "at-duplicate-name": (["x", "--at", "x=1,x=2"], ["x", "twice"]),
    "at-missing": (["x1+x2"], ["--at"]),
    "unknown-method": (["x", "--at", "1", "--methods", "forward,bogus"], ["--methods", "bogus"]),
    "wrt-not-a-variable": (["x1+x2", "--at", "2,5", "--wrt", "x3"], ["--wrt", "x3"]),
    "vars-duplicate": (["x1+x2", "--vars", "x1,x1", "--at", "1,2"], ["twice"]),
    "empty-expression": (["", "--at", "1"], ["empty"]),
    "digits-negative": (["x", "--at", "1", "--digits", "-1"], ["--digits"]),
    "format-unknown": (["x", "--at", "1", "--format", "xml"], ["--format", "xml"]),
}


@pytest.mark.parametrize("case", list(SYNTAX_CASES))
def test_syntax_error_caret(case):
    expression, needles, char, index = SYNTAX_CASES[case]
    lines = assert_clean_error(run("trace", expression, "--at", "1,2"), *needles, caret=True)
    target = caret_target(lines, expression)
    assert target == index, lines
    if char is not None:
        assert expression[target] == char
    else:
        assert target == len(expression)


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input(case):
    args, needles = BAD_CASES[case]
    lines = assert_clean_error(run("trace", *args), *needles)
    if case == "unknown-variable":  # caret under the x2 in "x1+x2"
        assert len(lines) == 3 and caret_target(lines, "x1+x2") == 3


def test_missing_named_value_is_called_missing():
    # --at x1=2 for x1+x2: the problem is the missing value of x2, not an "unknown variable"
    lines = assert_clean_error(run("trace", "x1+x2", "--at", "x1=2"), "x2")
    assert re.search(r"no value|missing|not given", lines[0]) and "unknown variable" not in lines[0]


def test_expression_with_leading_minus():
    # −x1·x2 at (1, 2): f = −2, ∇f = (−x2, −x1) = (−2, −1); the leading '-' is not an option
    result, data = run_json("trace", "-x1*x2", "--at", "1,2")
    assert result.returncode == 0, result.stderr
    assert data["expression"] == "-x1*x2"
    assert data["value"] == -2.0
    assert data["methods"]["reverse"]["gradient"] == [-2.0, -1.0]


# ---------------------------------------------------------------------------------------------
# Every invocation above, started in parallel by _start_every_invocation (a test whose
# invocation is missing here still works: `run` then starts it itself).

def _json(*args):
    return (False, ("trace", *args, "--format", "json"))


def _text(*args, script=False):
    return (script, ("trace", *args))


ALL_RUNS = [
    _text(BAYDIN, "--at", "2,5", script=True),
    _text(BAYDIN, "--at", "2,5"),
    _json(BAYDIN, "--at", "2,5"),
    _text(BAYDIN, "--at", "2,5", "--wrt", "x1"),
    _text(BAYDIN, "--at", "2,5", "--digits", "5", "--wrt", "x2"),
    *[_json(BAYDIN, *args) for args, _, _ in ORDERING_CASES.values()],
    _json("x10^3*x2", "--at", "2,3"),
    *[_json(expression, "--at", at) for at, expression, *_ in NEGATIVE_CASES],
    _text("--at", "-1", "x*x"),
    _json(BAYDIN, "--at", "2,5", "--methods", "forward,reverse"),
    _text(BAYDIN, "--at", "2,5", "--methods", "forward,reverse"),
    _json(BAYDIN, "--at", "2,5", "--fd-method", "forward"),
    _json("sin(x)*sin(x)", "--at", "1"),
    _json("sin(x)*sin(x)", "--at", "1", "--merge"),
    _json(BAYDIN, "--at", "2,5", "--rtol", "0", "--atol", "0"),
    _text(BAYDIN, "--at", "2,5", "--fd-rtol", "1e-30", "--fd-atol", "0"),
    _text("abs(x)", "--at", "0"),
    _json("abs(x)", "--at", "0"),
    _text("abs(x)*x", "--at", "1", "--fd-method", "complex-step"),
    _json("abs(x)*x", "--at", "1", "--fd-method", "complex-step"),
    *[_text(expression, "--at", "1,2") for expression, *_ in SYNTAX_CASES.values()],
    *[_text(*args) for args, _ in BAD_CASES.values()],
    _text("x1+x2", "--at", "x1=2"),
    _json("-x1*x2", "--at", "1,2"),
]

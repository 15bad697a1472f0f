"""Hostile input: mutated expressions only ever give adcompare's own errors; the
named attacks are refused with one line and exit 2, including a 10 MB expression on
standard input; special values are reported at the node where they happen."""

import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import adcompare
from adcompare.catalogue import CATALOGUE
from adcompare.errors import AdcompareError
from adcompare.parse import parse, tokenize

VALID = [example.expression for example in CATALOGUE] + ["-x^2^-y", "log(x, 2)*pow(y, 3)", "max(a, -b)/min(a, b)"]


@st.composite
def mutated_expressions(draw):
    """A valid expression with tokens or characters inserted, deleted or swapped."""
    text = draw(st.sampled_from(VALID))
    pieces = [token.text for token in tokenize(text)[:-1]]
    alphabet = pieces + list("()+-*/^,.e0123456789 xy") + ["**", "sin(", "ln", "pi", "1e308", "__", "'"]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["insert", "delete", "swap", "duplicate"]))
        position = draw(st.integers(0, max(len(pieces) - 1, 0)))
        if kind == "insert" or not pieces:
            pieces.insert(position, draw(st.sampled_from(alphabet)))
        elif kind == "delete":
            del pieces[position]
        elif kind == "swap":
            other = draw(st.integers(0, len(pieces) - 1))
            pieces[position], pieces[other] = pieces[other], pieces[position]
        else:
            pieces[position:position] = pieces[position:position + draw(st.integers(1, 5))]
    return "".join(pieces)


# No deadline: whether an example is quick depends on the machine's load; the parser's
# work is measured by counting, in tests/test_parse.py.
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_expressions())
def test_mutated_expressions_give_only_our_errors(text):
    try:
        graph = parse(text)
    except AdcompareError:
        return
    # What parses must also evaluate or refuse cleanly at some point.
    try:
        adcompare.trace_graph(graph, [0.5] * graph.n_inputs, methods=("forward", "reverse", "finite_difference"))
    except AdcompareError:
        pass


def cli(*args, stdin=None):
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "adcompare", *args], input=stdin, capture_output=True,
                          timeout=60)
    return done, time.perf_counter() - start


HOSTILE = {
    "power tower": "9^9^9^9",
    "ten to the ten to the ten": "10^10^10",
    "100,000-digit literal": "1" * 100_000,
    "100,000 nested parentheses": "(" * 100_000 + "x" + ")" * 100_000,
    "python code": "__import__('os').system('true')",
    "attribute access": "x.__class__",
    "Cyrillic look-alike": "\u0445 + 1",   # х, not x
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_named_hostile_inputs_are_refused_with_one_line(name):
    text = HOSTILE[name]
    start = time.perf_counter()
    with pytest.raises(AdcompareError):
        parse(text)
    # A hang guard, not a benchmark: the parser's work on the long ones is counted in
    # tests/test_parse.py (test_default_limit_*).
    assert time.perf_counter() - start < 30.0
    # Through the CLI: on standard input (argv cannot carry 200 kB), one line, exit 2.
    done, _ = cli("trace", "-", "--at", "1", stdin=text.encode())
    assert done.returncode == 2
    stderr = done.stderr.decode()
    assert stderr.startswith("adcompare: error: ") and "Traceback" not in stderr
    assert len(stderr.splitlines()) <= 3          # the line, and the expression with a caret


def test_ten_megabyte_expression_on_standard_input():
    text = ("x+" * 5_000_000 + "x").encode()
    done, _ = cli("trace", "-", "--at", "1", stdin=text)    # the subprocess's timeout is the hang guard
    assert done.returncode == 2
    # Refused for its length, before tokenizing, after reading 4·10⁶ + 4 bytes (four bytes a
    # character at most, one more than the limit), not the 10 MB.
    assert b"expression too long: 4,000,004 characters" in done.stderr and b"Traceback" not in done.stderr


def test_expression_on_standard_input_works():
    done, _ = cli("trace", "-", "--at", "2,5", "--format", "json", stdin=b"ln(x1)+x1*x2-sin(x2)\n")
    assert done.returncode == 0 and b'"agree": true' in done.stdout


def test_binary_standard_input_is_refused():
    done, _ = cli("trace", "-", "--at", "1", stdin=b"\xff\xfe\x00x")
    assert done.returncode == 2 and b"not text" in done.stderr


@pytest.mark.parametrize("expression, at, message", [
    ("ln(x)", "0", "v₁ = ln v₀: ln 0 = −∞"),
    ("1/x", "0", "1 / 0 = ∞"),
    ("x^y", "0,0", "0^0 = 1"),
    ("x^y", "-2,0.5", "(-2)^0.5 = undefined"),
    ("exp(x)", "1000", "overflow"),
    ("asin(x)", "2", "asin 2 = undefined"),
])
def test_special_values_name_the_node(expression, at, message):
    done, _ = cli("trace", expression, "--at", at)
    assert done.returncode == 2
    stderr = done.stderr.decode()
    assert message in stderr, stderr
    assert len(stderr.splitlines()) == 1 and "Traceback" not in stderr

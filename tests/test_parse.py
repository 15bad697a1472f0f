"""Tests for the safe expression parser, adcompare.parse.

Every expected value here is written by hand from the spec (the project's issue): the
precedence oracles are plain Python lambdas, node orders are worked out by Baydin's
rule (by height above the inputs, ties in written order), columns are counted on the
expression text.
"""

import builtins
import inspect
import math
import os
import re
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adcompare.errors import InputError, ParseError
from adcompare.graph import Const, Graph, Node, evaluate
from adcompare.parse import Limits, parse

parse_module = sys.modules["adcompare.parse"]  # the module (adcompare.parse is also the function)

REPO = Path(__file__).resolve().parent.parent


def value_of(graph, point, output=0):
    return float(evaluate(graph, point)[graph.outputs[output]])


def parse_error(text, **kwargs):
    with pytest.raises(ParseError) as info:
        parse(text, **kwargs)
    return info.value


# ---------------------------------------------------------------------------
# 1. Precedence and associativity, against hand-written lambdas
# ---------------------------------------------------------------------------

# Values for every variable name used in the table; x is kept positive so that x^y,
# ln(x) and sqrt(x) are defined at every point.
POINTS = [
    dict(x=0.7, y=1.3, a=2.5, b=-1.75, c=0.4, x1=1.25, x2=-0.5, w0=3.0, theta=0.9),
    dict(x=2.0, y=-0.5, a=-3.0, b=0.5, c=7.0, x1=-2.0, x2=4.5, w0=-0.25, theta=-1.1),
    dict(x=3.25, y=2.0, a=1.5, b=6.0, c=-2.5, x1=0.1, x2=0.3, w0=10.0, theta=2.0),
]

PRECEDENCE = [
    # power binds tighter than unary minus, and is right-associative
    ("-x^2", lambda x: -(x ** 2)),
    ("-x**2", lambda x: -(x ** 2)),
    ("(-x)^2", lambda x: (-x) ** 2),
    ("2^3^2", lambda: 512.0),
    ("2**3**2", lambda: 512.0),
    ("2^3**2", lambda: 512.0),
    ("(2^3)^2", lambda: 64.0),
    ("x^y^2", lambda x, y: x ** (y ** 2)),
    ("-2^2", lambda: -4.0),
    ("(-2)^2", lambda: 4.0),
    ("-2^0.5", lambda: -(2 ** 0.5)),
    ("2^-1", lambda: 0.5),
    ("2^-1*4", lambda: (2 ** -1) * 4),
    ("2^-x", lambda x: 2 ** (-x)),
    ("2**-x", lambda x: 2 ** (-x)),
    ("x^-y^2", lambda x, y: x ** (-(y ** 2))),
    ("-x^-y", lambda x, y: -(x ** (-y))),
    ("x^2^-1", lambda x: x ** (2 ** -1)),
    ("2*x^3", lambda x: 2 * (x ** 3)),
    ("x^2*3", lambda x: (x ** 2) * 3),
    ("x*-y^2", lambda x, y: x * (-(y ** 2))),
    ("x^2+y", lambda x, y: (x ** 2) + y),
    # left-associative + - * /
    ("a-b-c", lambda a, b, c: (a - b) - c),
    ("a/b/c", lambda a, b, c: (a / b) / c),
    ("a-b+c", lambda a, b, c: (a - b) + c),
    ("a+b-c", lambda a, b, c: (a + b) - c),
    ("a/b*c", lambda a, b, c: (a / b) * c),
    ("a*b/c", lambda a, b, c: (a * b) / c),
    ("a+b*c", lambda a, b, c: a + (b * c)),
    ("a*b+c", lambda a, b, c: (a * b) + c),
    ("a-b*c", lambda a, b, c: a - (b * c)),
    ("a-b/c", lambda a, b, c: a - (b / c)),
    ("(a+b)*c", lambda a, b, c: (a + b) * c),
    ("a-(b-c)", lambda a, b, c: a - (b - c)),
    ("a/(b/c)", lambda a, b, c: a / (b / c)),
    # unary minus and plus
    ("+x", lambda x: x),
    ("--x", lambda x: -(-x)),
    ("-+-x", lambda x: -(+(-x))),
    ("- - - x", lambda x: -x),
    ("a*-b", lambda a, b: a * (-b)),
    ("a--b", lambda a, b: a - (-b)),
    ("a+-b", lambda a, b: a + (-b)),
    ("a-+b", lambda a, b: a - b),
    ("-a*b", lambda a, b: -(a * b)),
    ("-a+b", lambda a, b: (-a) + b),
    ("-(a+b)", lambda a, b: -(a + b)),
    ("x - 3*-2", lambda x: x - 3 * (-2)),
    ("-3*x", lambda x: -3 * x),
    ("-3", lambda: -3.0),
    ("3", lambda: 3.0),
    # functions, log with a base, constants
    ("log(8, 2)", lambda: 3.0),
    ("log(x, 10)", lambda x: math.log(x) / math.log(10)),
    ("log(x)", lambda x: math.log(x)),
    ("ln(x)", lambda x: math.log(x)),
    ("e", lambda: math.e),
    ("pi", lambda: math.pi),
    ("2*pi*x", lambda x: 2 * math.pi * x),
    ("e^x", lambda x: math.e ** x),
    ("-pi", lambda: -math.pi),
    ("pow(x, 3)", lambda x: x ** 3),
    ("pow(2, -x)", lambda x: 2 ** (-x)),
    ("max(x, 2)", lambda x: max(x, 2.0)),
    ("min(x, y)", lambda x, y: min(x, y)),
    ("max(-x, y^2)", lambda x, y: max(-x, y ** 2)),
    ("sin(x)^2", lambda x: math.sin(x) ** 2),
    ("-sin(x)^2", lambda x: -(math.sin(x) ** 2)),
    ("exp(-x^2)", lambda x: math.exp(-(x ** 2))),
    ("sqrt(x)+1", lambda x: math.sqrt(x) + 1),
    ("abs(-x)", lambda x: abs(-x)),
    ("sin (x)", lambda x: math.sin(x)),
    # numbers
    ("1e-3*x", lambda x: 0.001 * x),
    ("1E3*x", lambda x: 1000.0 * x),
    ("2.5e+2", lambda: 250.0),
    (".5*x", lambda x: 0.5 * x),
    ("5.*x", lambda x: 5.0 * x),
    ("0.1+0.2", lambda: 0.1 + 0.2),
    ("007", lambda: 7.0),
    # identifiers with digits, whitespace, parentheses
    ("x1*x2 - w0", lambda x1, x2, w0: x1 * x2 - w0),
    ("theta/2", lambda theta: theta / 2),
    ("  x  *  y  ", lambda x, y: x * y),
    ("x\t+\ty", lambda x, y: x + y),
    ("x\n-\ny", lambda x, y: x - y),
    ("(((x)))", lambda x: x),
    ("((a))-((b))", lambda a, b: a - b),
]


@pytest.mark.parametrize("text, oracle", PRECEDENCE, ids=[t for t, _ in PRECEDENCE])
def test_precedence_and_meaning(text, oracle):
    graph = parse(text)
    names = tuple(inspect.signature(oracle).parameters)
    assert set(graph.variables) == set(names)
    for env in POINTS:
        point = [env[name] for name in graph.variables]
        got = value_of(graph, point)
        want = float(oracle(**{name: env[name] for name in names}))
        assert math.isclose(got, want, rel_tol=1e-15, abs_tol=1e-300), (text, env, got, want)


MATH_FUNCTIONS = [
    ("ln", math.log, True), ("log", math.log, True), ("exp", math.exp, False),
    ("sqrt", math.sqrt, True), ("sin", math.sin, False), ("cos", math.cos, False),
    ("tan", math.tan, False), ("asin", math.asin, False), ("acos", math.acos, False),
    ("atan", math.atan, False), ("sinh", math.sinh, False), ("cosh", math.cosh, False),
    ("tanh", math.tanh, False), ("sigmoid", lambda v: 1.0 / (1.0 + math.exp(-v)), False),
    ("relu", lambda v: max(v, 0.0), False), ("softplus", lambda v: math.log1p(math.exp(v)), False),
    ("abs", abs, False),
]


@pytest.mark.parametrize("name, reference, positive_only", MATH_FUNCTIONS, ids=[m[0] for m in MATH_FUNCTIONS])
def test_each_function_means_what_its_name_says(name, reference, positive_only):
    graph = parse(f"{name}(x)")
    assert graph.variables == ("x",)
    points = [0.3, 0.9] if positive_only else [0.3, 0.9, -0.4]
    for v in points:
        assert math.isclose(value_of(graph, [v]), reference(v), rel_tol=1e-13), (name, v)


@pytest.mark.parametrize("text, reference", [
    ("pow(x, y)", lambda x, y: x ** y),
    ("max(x, y)", max),
    ("min(x, y)", min),
    ("log(x, y)", lambda x, y: math.log(x) / math.log(y)),
])
def test_two_argument_functions(text, reference):
    graph = parse(text)
    assert graph.variables == ("x", "y")
    for x, y in [(2.0, 3.0), (0.5, 1.5), (7.0, 0.25)]:
        assert math.isclose(value_of(graph, [x, y]), reference(x, y), rel_tol=1e-14)


def test_no_eval_exec_or_sympify_is_used(monkeypatch):
    import sympy
    import sympy.parsing.sympy_parser as sympy_parser

    def forbidden(*args, **kwargs):
        raise AssertionError("the parser must not call eval/exec/sympify/parse_expr")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(sympy, "sympify", forbidden)
    monkeypatch.setattr(sympy, "parse_expr", forbidden)
    monkeypatch.setattr(sympy_parser, "parse_expr", forbidden)
    graph = parse("ln(x1) + x1*x2 - sin(x2), pow(x1, 2), log(x2, 3), 2^-1, pi*e")
    assert len(graph.outputs) == 5
    source = Path(parse_module.__file__).read_text()
    assert not re.search(r"\b(eval|exec|sympify|parse_expr)\s*\(", source)


def test_hostile_import_string_runs_nothing(monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)
    error = parse_error("__import__('os').system('true')")
    # either the unknown function at column 1 or the first quote (allowed nowhere) at column 12
    assert error.column in (1, 12)
    assert ("'__import__'" if error.column == 1 else "unexpected character") in str(error)
    assert calls == []


# ---------------------------------------------------------------------------
# 2. Structure of the Graph
# ---------------------------------------------------------------------------

def test_baydin_table_2_order_and_arguments():
    graph = parse("ln(x1)+x1*x2-sin(x2)")
    assert isinstance(graph, Graph)
    assert graph.variables == ("x1", "x2")
    assert [node.op for node in graph.nodes] == ["ln", "mul", "sin", "add", "sub"]
    # slots: x1=0, x2=1, v1=ln 2, v2=mul 3, v3=sin 4, v4=add 5, v5=sub 6
    assert graph.nodes == (
        Node("ln", (0,)),
        Node("mul", (0, 1)),
        Node("sin", (1,)),
        Node("add", (2, 3)),
        Node("sub", (5, 4)),
    )
    assert graph.outputs == (6,)
    x1, x2 = 2.0, 5.0
    assert math.isclose(value_of(graph, [x1, x2]), math.log(x1) + x1 * x2 - math.sin(x2), rel_tol=1e-15)


def test_order_is_by_height_then_written_order():
    # heights: mul 1, sin 2, exp 1, add 3  ->  mul, exp, sin, add
    graph = parse("sin(x*y) + exp(x)")
    assert graph.nodes == (
        Node("mul", (0, 1)),
        Node("exp", (0,)),
        Node("sin", (2,)),
        Node("add", (4, 3)),
    )
    assert graph.outputs == (5,)


def test_order_with_two_chains():
    # sin(x) h1, exp h2, y*y h1, (y*y)*y h2, add h3
    graph = parse("exp(sin(x)) + y*y*y")
    assert graph.nodes == (
        Node("sin", (0,)),
        Node("mul", (1, 1)),
        Node("exp", (2,)),
        Node("mul", (3, 1)),
        Node("add", (4, 5)),
    )
    assert graph.outputs == (6,)


def test_repeated_variable_is_one_input_slot():
    graph = parse("x*x + x")
    assert graph.variables == ("x",)
    assert graph.n_inputs == 1
    assert graph.nodes == (Node("mul", (0, 0)), Node("add", (1, 0)))


def test_each_written_operation_is_its_own_node_by_default():
    graph = parse("sin(x)+sin(x)")
    assert graph.nodes == (Node("sin", (0,)), Node("sin", (0,)), Node("add", (1, 2)))
    graph = parse("x1*x2 + x1*x2")
    assert graph.nodes == (Node("mul", (0, 1)), Node("mul", (0, 1)), Node("add", (2, 3)))


def test_merge_common():
    graph = parse("sin(x)+sin(x)", merge_common=True)
    assert graph.nodes == (Node("sin", (0,)), Node("add", (1, 1)))
    assert value_of(graph, [0.5]) == 2 * math.sin(0.5)

    graph = parse("(x+y)*(x+y)", merge_common=True)
    assert graph.nodes == (Node("add", (0, 1)), Node("mul", (2, 2)))

    graph = parse("2*x + 2*x", merge_common=True)
    assert len(graph.nodes) == 2
    assert [node.op for node in graph.nodes] == ["mul", "add"]
    assert graph.nodes[1].args == (1, 1)

    graph = parse("x*x", merge_common=True)
    assert graph.nodes == (Node("mul", (0, 0)),)


def test_merge_common_does_not_merge_different_things():
    assert [n.op for n in parse("sin(x)+cos(x)", merge_common=True).nodes] == ["sin", "cos", "add"]
    assert len(parse("x^2 + x^3", merge_common=True).nodes) == 3
    assert len(parse("sin(x) + sin(y)", merge_common=True).nodes) == 3


def test_merge_common_across_outputs():
    assert parse("sin(x), sin(x)").outputs == (1, 2)
    merged = parse("sin(x), sin(x)", merge_common=True)
    assert merged.nodes == (Node("sin", (0,)),)
    assert merged.outputs == (1, 1)


def test_natural_variable_order():
    graph = parse("x10 + x2 + x1")
    assert graph.variables == ("x1", "x2", "x10")
    # (x10 + x2) + x1 with x1=0, x2=1, x10=2
    assert graph.nodes == (Node("add", (2, 1)), Node("add", (3, 0)))
    assert parse("b + a10 + a9 + a").variables == ("a", "a9", "a10", "b")
    assert parse("w0 * theta").variables == ("theta", "w0")


def test_explicit_variable_order():
    graph = parse("x + y", variables=["y", "x"])
    assert graph.variables == ("y", "x")
    assert graph.nodes == (Node("add", (1, 0)),)
    graph = parse("x10 - x2", variables=("x10", "x2"))
    assert graph.variables == ("x10", "x2")
    assert graph.nodes == (Node("sub", (0, 1)),)
    assert value_of(graph, [10.0, 2.0]) == 8.0


def test_explicit_variables_may_include_unused_names():
    graph = parse("x", variables=["x", "unused"])
    assert graph.variables == ("x", "unused")
    assert value_of(graph, [4.0, 99.0]) == 4.0


def test_multiple_outputs():
    graph = parse("x*y, sin(x)")
    assert graph.nodes == (Node("mul", (0, 1)), Node("sin", (0,)))
    assert graph.outputs == (2, 3)

    # add has height 2, mul height 1: mul comes first although written later
    graph = parse("sin(x)+y, x*y")
    assert graph.nodes == (Node("sin", (0,)), Node("mul", (0, 1)), Node("add", (2, 1)))
    assert graph.outputs == (4, 3)
    values = evaluate(graph, [0.5, 3.0])
    assert values[graph.outputs[0]] == math.sin(0.5) + 3.0
    assert values[graph.outputs[1]] == 1.5


def test_bare_constant_is_an_identity_node():
    graph = parse("3")
    assert graph.variables == ()
    assert len(graph.nodes) == 1
    node = graph.nodes[0]
    assert node.op == "identity"
    assert isinstance(node.args[0], Const) and node.args[0].value == 3.0
    assert graph.outputs == (0,)
    assert value_of(graph, []) == 3.0


def test_bare_constant_among_outputs():
    graph = parse("x, 2")
    assert graph.variables == ("x",)
    assert graph.nodes[-1].op == "identity"
    assert graph.nodes[-1].args[0].value == 2.0
    values = evaluate(graph, [5.0])
    assert [float(values[s]) for s in graph.outputs] == [5.0, 2.0]


def test_unary_minus_on_literal_folds_into_constant():
    graph = parse("-3*x")
    assert len(graph.nodes) == 1
    node = graph.nodes[0]
    assert node.op == "mul"
    assert isinstance(node.args[0], Const)
    assert node.args[0].value == -3.0
    assert node.args[0].exact == Fraction(-3)
    assert node.args[1] == 0

    graph = parse("x^-2")
    assert len(graph.nodes) == 1 and graph.nodes[0].op == "pow"
    assert graph.nodes[0].args[1].value == -2.0


def test_unary_minus_elsewhere_is_a_neg_node():
    assert parse("-x").nodes == (Node("neg", (0,)),)
    graph = parse("2*-x")
    assert [n.op for n in graph.nodes] == ["neg", "mul"]
    assert graph.nodes[1].args[1] == 1
    # -2^2 is -(2^2): the minus is on the power, not on the literal
    assert [n.op for n in parse("-2^2").nodes] == ["pow", "neg"]
    assert [n.op for n in parse("-sin(x)").nodes] == ["sin", "neg"]


def test_constants_pi_and_e_are_constants_not_variables():
    graph = parse("pi*x + e")
    assert graph.variables == ("x",)
    consts = [a for n in graph.nodes for a in n.args if isinstance(a, Const)]
    assert sorted(c.value for c in consts) == sorted([math.pi, math.e])


# ---------------------------------------------------------------------------
# 3. Errors: ParseError with the right column and a specific message
# ---------------------------------------------------------------------------

CYRILLIC_X = "\u0445"      # looks like Latin x
UKRAINIAN_I = "\u0456"     # looks like Latin i
ANY = object()             # column not checked

# (text, column, [fragments]); each fragment is a string or a tuple of alternatives
BAD_INPUTS = [
    ("2x", 2, ["'*'"]),
    ("2 x", 3, ["'*'"]),
    ("2(x)", 2, ["'*'"]),
    ("x y", 3, ["'*'"]),
    ("sin x", 1, ["sin"]),
    ("sin", 1, ["sin"]),
    ("sin()", 5, ["')'"]),
    ("()", 2, ["')'"]),
    ("( )", 3, ["')'"]),
    ("(x", 1, ["')'"]),
    ("x)", 2, ["')'"]),
    ("(x))", 4, ["')'"]),
    ("foo(x)", 1, ["'foo'"]),
    ("x + bar(1)", 5, ["'bar'"]),
    ("pi(2)", 1, ["'pi'"]),
    ("sin(x, y)", 1, ["sin", "2"]),
    ("max(x)", 1, ["max", "2"]),
    ("pow(x, 2, 3)", 1, ["pow", "3"]),
    ("log(x, 2, 3)", 1, ["log", "3"]),
    ("1e400", 1, [("large", "range")]),
    ("x + 1e400", 5, [("large", "range")]),
    ("1e-400", 1, [("small", "range")]),
    ("x.__class__", 2, ["'.'"]),
    (CYRILLIC_X, 1, [("U+0445", CYRILLIC_X)]),
    (CYRILLIC_X + " + 1", 1, [("U+0445", CYRILLIC_X)]),
    ("x" + CYRILLIC_X, 2, [("U+0445", CYRILLIC_X)]),
    ("sin(" + CYRILLIC_X + ")", 5, [("U+0445", CYRILLIC_X)]),
    ("s" + UKRAINIAN_I + "n(x)", 2, [("U+0456", UKRAINIAN_I)]),
    ("x +", 4, ["end"]),
    ("x^", 3, ["end"]),
    ("x,", 3, ["end"]),
    (",x", 1, ["','"]),
    ("x,,y", 3, ["','"]),
    ("x + * y", 5, ["'*'"]),
    ("x ** * 2", 6, ["'*'"]),
    ("*x", 1, ["'*'"]),
    ("(x, y)", 3, ["','"]),
    ("sin(x,)", 7, ["')'"]),
    ("sin(x)(y)", 7, ["'*'"]),
    ("1 = x", 3, ["'='"]),   # (x = 1 names the output x)
    ("x; y", 2, ["';'"]),
    ("x[0]", 2, ["'['"]),
    ("'x'", 1, ["'''"]),
    ("lambda: 0", 7, ["':'"]),
    ("import os", 8, ["'os'"]),
    ("x % 2", 3, ["'%'"]),
    ("1..2", ANY, []),
]


def _check_fragments(message, fragments):
    for fragment in fragments:
        alternatives = fragment if isinstance(fragment, tuple) else (fragment,)
        assert any(a in message for a in alternatives), (message, fragment)


@pytest.mark.parametrize("text, column, fragments", BAD_INPUTS, ids=[repr(b[0]) for b in BAD_INPUTS])
def test_bad_input_raises_parse_error_with_column(text, column, fragments):
    error = parse_error(text)
    message = str(error)
    if column is not ANY:
        assert error.column == column, message
        assert f"column {column}" in message
    _check_fragments(message, fragments)


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_input(text):
    error = parse_error(text)
    assert "empty" in str(error)
    assert error.column is None
    assert error.caret_lines() == ()


def test_unknown_variable_with_explicit_variables():
    error = parse_error("x + y", variables=["x"])
    assert error.column == 5
    assert "'y'" in str(error) and "column 5" in str(error)
    error = parse_error("sin(zz)", variables=["x", "y"])
    assert error.column == 5
    assert "'zz'" in str(error)


@pytest.mark.parametrize("names", [
    ["sin"], ["pi"], ["e"], ["1x"], ["x-y"], ["x", "x"], [CYRILLIC_X], [""], ["x y"], ["log"],
])
def test_bad_variable_names_raise_input_error(names):
    with pytest.raises(InputError):
        parse("1", variables=names)


@pytest.mark.parametrize("text, column, char", [
    ("x + * y", 5, "*"),
    ("foo(x)", 1, "f"),
    ("x)", 2, ")"),
    ("2x", 2, "x"),
    ("x.__class__", 2, "."),
    ("sin(x, y)", 1, "s"),
])
def test_caret_lines_put_caret_under_the_column(text, column, char):
    error = parse_error(text)
    assert error.column == column
    source_line, caret_line = error.caret_lines()
    assert source_line.endswith(text)
    indent = len(source_line) - len(text)
    assert caret_line.rstrip() == " " * (indent + column - 1) + "^"
    assert source_line[caret_line.index("^")] == char


def test_caret_at_end_of_expression():
    error = parse_error("x +")
    source_line, caret_line = error.caret_lines()
    # caret one past the last character
    assert caret_line.index("^") == len(source_line)


def test_missing_paren_for_call_is_reported():
    error = parse_error("sin(x")
    assert "')'" in str(error)


def test_missing_paren_for_call_points_at_the_paren():
    text = "sin(x"
    error = parse_error(text)
    match = re.search(r"'\(' opened at column (\d+)", str(error))
    assert match is not None
    assert text[int(match.group(1)) - 1] == "("
    assert error.column == 4


@pytest.mark.parametrize("text", ["\u0663*x", "\uff13*x", "\U0001D7D7"])
def test_non_ascii_digits_are_rejected(text):
    error = parse_error(text)
    assert error.column == 1


def test_literal_with_huge_exponent_digits():
    error = parse_error("1e" + "1" * 5000)
    assert error.column == 1


def test_literal_with_long_but_convertible_exponent():
    error = parse_error("1e" + "9" * 100)
    assert error.column == 1


# ---------------------------------------------------------------------------
# 4. Limits
# ---------------------------------------------------------------------------

LIMIT_CASES = {
    # name: (text, limits, keyword)
    "length": ("x+x+xx", Limits(max_length=5), "long"),
    "depth": ("((x))", Limits(max_depth=1), "nest"),
    "operations": ("x+x+x", Limits(max_operations=1), "operations"),
    "digits": ("1234", Limits(max_digits=3), "digits"),
    "exponent": ("x^3", Limits(max_exponent=2), "exponent"),
    "derivatives": ("x, y", Limits(max_derivatives=3), "derivatives"),
}


def test_each_limit_has_its_own_message():
    messages = {}
    for name, (text, limits, keyword) in LIMIT_CASES.items():
        messages[name] = str(parse_error(text, limits=limits))
    for name, (_, _, keyword) in LIMIT_CASES.items():
        assert keyword in messages[name], (name, messages[name])
        for other, (_, _, other_keyword) in LIMIT_CASES.items():
            if other != name:
                assert other_keyword not in messages[name], (name, other, messages[name])
    assert len(set(messages.values())) == len(messages)


def test_length_limit():
    limits = Limits(max_length=5)
    assert value_of(parse("x+x+x", limits=limits), [1.0]) == 3.0
    message = str(parse_error("x+x+xx", limits=limits))
    assert "5" in message


def test_depth_limit():
    limits = Limits(max_depth=3)
    assert value_of(parse("(((x)))", limits=limits), [2.0]) == 2.0
    error = parse_error("((((x))))", limits=limits)
    assert error.column == 4
    assert "3" in str(error)
    # calls nest too: the fourth sin( starts at column 13
    assert value_of(parse("sin(sin(sin(x)))", limits=limits), [0.5]) == math.sin(math.sin(math.sin(0.5)))
    error = parse_error("sin(sin(sin(sin(x))))", limits=limits)
    assert error.column == 13
    error = parse_error("sin((x))", limits=Limits(max_depth=1))
    assert error.column == 5


def test_operations_limit():
    limits = Limits(max_operations=5)
    assert value_of(parse("x+x+x+x+x+x", limits=limits), [1.0]) == 6.0
    message = str(parse_error("x+x+x+x+x+x+x", limits=limits))
    assert "5" in message and "operations" in message
    parse_error("-(-(-(-(-(-x)))))", limits=limits)


def test_derivatives_limit():
    # The Jacobian has outputs × variables entries, each cross-checked and printed: that is
    # what grows as the square of the text ("x0,x1,…,x999": 1,000 × 1,000 took 141 s and
    # 3.9 GB), so it has a limit of its own. Here 2 outputs × 2 variables = 4 > 3.
    limits = Limits(max_derivatives=4)
    assert len(parse("x*y, x+y", limits=limits).outputs) == 2
    message = str(parse_error("x*y, x+y, x-y", limits=limits))
    assert message == "expression too large: 3 outputs × 2 variables = 6 derivatives, more than 4"
    assert str(parse_error("x", variables=["x", "y", "z", "w", "v"], limits=limits)).endswith(
        "1 output × 5 variables = 5 derivatives, more than 4")
    # The default admits 1 output of 50,000 variables (the most), and refuses 1,000 × 1,000.
    assert Limits().max_derivatives == 50_000
    parse_error(",".join(f"x{i}" for i in range(1000)))


def test_digits_limit():
    limits = Limits(max_digits=3)
    assert value_of(parse("123", limits=limits), []) == 123.0
    assert value_of(parse("12.3e5", limits=limits), []) == 12.3e5
    assert parse_error("1234", limits=limits).column == 1
    assert parse_error("1.234", limits=limits).column == 1
    assert parse_error("x+1234", limits=limits).column == 3


def test_exponent_limit():
    limits = Limits(max_exponent=2)
    for ok in ["x^2", "x^-2", "x^y", "pow(x, 2)", "2^2"]:
        assert isinstance(parse(ok, limits=limits), Graph), ok
    assert parse_error("x^3", limits=limits).column == 2
    assert parse_error("x^-3", limits=limits).column == 2
    assert parse_error("x^(1+2)", limits=limits).column == 2
    assert parse_error("pow(x, 3)", limits=limits).column == 1
    # right-assoc: 2^(2^(2^2)); 2^2 = 4 ok, 2^4 has exponent 4 > 2 at the middle '^' (column 4)
    assert parse_error("2^2^2^2", limits=limits).column == 4
    assert "exponent" in str(parse_error("x^3", limits=limits))


def test_constant_overflow_is_a_parse_error():
    error = parse_error("exp(1000)")
    assert error.column == 1
    assert "large" in str(error)
    # 1000^1000 overflows: the second '^' is at column 7
    error = parse_error("2^1000^1000")
    assert error.column == 7


HANG_GUARD = 30.0   # seconds: only against a hang; the work is measured by `ParserWork`, never by the clock


class ParserWork:
    """The parser's work on a text, counted, a measure that does not depend on the machine:
    the tokenizer's regular-expression matches, the digits of every number it converts to a
    Fraction, and the constant operations it folds (evaluates at parse time)."""

    def __init__(self, monkeypatch):
        import dataclasses
        parse_module = sys.modules["adcompare.parse"]
        self.matches, self.digits, self.folded = 0, [], 0
        pattern = parse_module._TOKEN
        work = self

        class Counting:
            def match(self, text, position):
                work.matches += 1
                return pattern.match(text, position)

        def fraction(text):
            work.digits.append(sum(c.isdigit() for c in str(text)))
            return Fraction(text)

        def counted(evaluate):
            def wrapper(*args):
                work.folded += 1
                return evaluate(*args)
            return wrapper

        monkeypatch.setattr(parse_module, "_TOKEN", Counting())
        monkeypatch.setattr(parse_module, "Fraction", fraction)
        for name, op in list(parse_module.OPERATIONS.items()):
            monkeypatch.setitem(parse_module.OPERATIONS, name, dataclasses.replace(op, evaluate=counted(op.evaluate)))

    def refuse(self, text):
        """The ParseError for ``text``, which must come within the hang guard."""
        start = time.perf_counter()
        with pytest.raises(ParseError) as info:
            parse(text)
        assert time.perf_counter() - start < HANG_GUARD, text[:30]
        return info.value


@pytest.fixture
def work(monkeypatch):
    return ParserWork(monkeypatch)


def test_default_limit_tower_of_nines(work):
    # 9^(9^(9^9)): 9^9 is fine, 9^387420489 has a too-large exponent at the middle '^'
    error = work.refuse("9^9^9^9")
    assert "exponent" in str(error)
    assert error.column == 4
    assert work.folded == 1           # 9^9, and not the power with 387,420,489 as its exponent


def test_default_limit_ten_tower(work):
    # 10^(10^10): the exponent 1e10 belongs to the first '^' at column 3
    error = work.refuse("10^10^10")
    assert "exponent" in str(error)
    assert error.column == 3
    assert work.folded == 1           # 10^10 only


def test_default_limit_literal_with_100000_digits(work):
    error = work.refuse("1" * 100_000)
    assert "digits" in str(error)
    assert error.column == 1
    assert work.matches == 1 and work.digits == []     # one token, never converted to a number


def test_default_limit_100000_nested_parentheses(work):
    text = "(" * 100_000 + "x" + ")" * 100_000
    error = work.refuse(text)
    assert "nest" in str(error)
    assert error.column == 201  # the 201st '(' is one level too deep for the default 200
    # Linear: each character is matched once (the parser then stops at the 201st token).
    assert work.matches == len(text)


def test_default_limit_length(work):
    error = work.refuse("x" * 1_000_001)
    assert "long" in str(error)
    assert work.matches == 0          # refused by its length before a character is read


def test_many_unary_minuses_do_not_crash():
    text = "-" * 100_000 + "x"
    start = time.perf_counter()
    try:
        graph = parse(text)
    except ParseError:
        graph = None
    assert time.perf_counter() - start < HANG_GUARD   # a hang guard, not a benchmark
    if graph is not None:
        assert value_of(graph, [1.5]) == 1.5


def test_variable_order_does_not_depend_on_hash_seed():
    code = "from adcompare.parse import parse; print(parse('x01 + x1').variables)"
    results = set()
    for seed in ["0", "1", "2", "3"]:
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=60, check=True)
        results.add(out.stdout.strip())
    assert len(results) == 1, results


# ---------------------------------------------------------------------------
# 5. A long flat chain does not recurse
# ---------------------------------------------------------------------------

def test_long_flat_chain():
    graph = parse("x" + "+x" * 100_000)
    assert graph.variables == ("x",)
    assert len(graph.nodes) == 100_000
    assert graph.nodes[0] == Node("add", (0, 0))
    # slots: x = 0, node i at slot i + 1 reads slot i
    assert graph.nodes[-1] == Node("add", (99_999, 0))
    assert graph.outputs == (100_000,)
    assert value_of(graph, [1.0]) == 100_001.0


# ---------------------------------------------------------------------------
# 6. Random strings: a Graph or ParseError/InputError, nothing else
# ---------------------------------------------------------------------------

ALPHABET = "x1y()+-*/^,.e0123456789 sinlogpw"
TOKENS = ["x1", "y", "(", ")", "+", "-", "*", "/", "^", "**", ",", ".5", "2", "1e3", "e", "pi",
          "sin(", "log(", "pow(", "max(", " ", "sqrt(", "0", "9", "1e308", "exp("]


def _heights(graph):
    height = [0] * graph.size
    for position, node in enumerate(graph.nodes):
        slot = graph.n_inputs + position
        height[slot] = 1 + max((height[a] for a in node.args if not isinstance(a, Const)), default=0)
    return height


def _check_random(text, merge_common):
    try:
        graph = parse(text, merge_common=merge_common)
    except (ParseError, InputError) as error:
        if isinstance(error, ParseError) and error.column is not None:
            assert 1 <= error.column <= len(text) + 1
        return
    assert isinstance(graph, Graph)
    assert graph.outputs
    assert list(graph.variables) == sorted(set(graph.variables), key=parse_module.natural_key)
    # Baydin order: heights never decrease (identity nodes of bare constants come last)
    height = _heights(graph)
    op_heights = [height[graph.n_inputs + i] for i, n in enumerate(graph.nodes) if n.op != "identity"]
    assert op_heights == sorted(op_heights)
    if merge_common:
        keys = [(n.op, n.args) for n in graph.nodes if n.op != "identity"]
        assert len(keys) == len(set(keys))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=ALPHABET, max_size=40), merge_common=st.booleans())
def test_random_strings_parse_or_raise_parse_error(text, merge_common):
    _check_random(text, merge_common)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.lists(st.sampled_from(TOKENS), max_size=25).map("".join), merge_common=st.booleans())
def test_random_token_strings_parse_or_raise_parse_error(text, merge_common):
    _check_random(text, merge_common)

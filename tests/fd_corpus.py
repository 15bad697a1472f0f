"""Do finite differences' error estimates hold? A seeded corpus of random expressions and
points, with the edge cases of issue 12 and others of their kinds, and an oracle that
shares nothing with adcompare's methods.

The oracle is forward mode over the Graph in mpmath, with its own table of each
operation's value and derivative written from calculus (`TANGENT_RULES`, not the operation
table's numpy code, partials or sympy counterparts), at 50 and at 80 digits. A case is kept
only when both agree to 30 digits: then the reference is established. (mpmath's own
``diff``, high-precision central differences, was tried first and is wrong where f's values
span more digits than its working precision: it gave σ′(252) = 0, which is 1.8e-110.) Constants are taken as the floats the program computes with (0.7 is
0.6999999999999999556): the estimate is a claim about the differences of that function,
and how far it is from the function with exact decimal constants is a question for the
reference (near 1/(x − 0.7) at 0.7 + 3e-10 it is 3e-7 relative, for every method). Cases where f or its derivative is not defined in exact arithmetic, where a
node is at a kink in floating point (the derivative does not exist), or where adcompare
refuses the point as bad input are not claims and are left out.

Used by tests/test_fd_estimates.py (a few hundred cases, and the full corpus marked slow)
and benchmarks/fd_estimates.py (the measurement written in docs/guarantees.md).
"""

import math
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np

from adcompare.backends import run_method
from adcompare.errors import AdcompareError
from adcompare.graph import Const, Graph, Node, evaluate, kink_mask
from adcompare.ops import OPERATIONS
from adcompare.parse import parse

FD_METHODS = ("central", "forward", "richardson", "complex-step")


class Undefined(Exception):
    """f or its derivative is not defined (as a real number) at the point in exact arithmetic."""


def _check(condition):
    if not condition:
        raise Undefined


def _pow(a, b, da, db):
    if a > 0:
        value = mpmath.power(a, b)
        return value, value * (b * da / a + db * mpmath.log(a))
    # A negative base needs an integer exponent, constant (a variable one needs ln a < 0).
    _check((a < 0 and b == mpmath.floor(b) and db == 0) or (a == 0 and b >= 1 and db == 0))
    return mpmath.power(a, b), (b * mpmath.power(a, b - 1) * da if b != 0 else mpmath.mpf(0))


def _sqrt(a, da):
    _check(a > 0 or (a == 0 and da == 0))
    value = mpmath.sqrt(a)
    return value, (da / (2 * value) if da != 0 else mpmath.mpf(0))


def _unit(function, derivative):
    def rule(a, da):
        _check(abs(a) < 1 or (abs(a) == 1 and da == 0))
        return function(a), (derivative(a) * da if da != 0 else mpmath.mpf(0))
    return rule


def _kinked(function, slope):
    def rule(a, da):
        _check(a != 0 or da == 0)
        return function(a), slope(a) * da
    return rule


def _choice(pick_first):
    def rule(a, b, da, db):
        _check(a != b or da == db)
        return (a, da) if pick_first(a, b) else (b, db)
    return rule


def _sigmoid(a):
    return 1 / (1 + mpmath.exp(-a))


TANGENT_RULES = {
    "add": lambda a, b, da, db: (a + b, da + db),
    "sub": lambda a, b, da, db: (a - b, da - db),
    "mul": lambda a, b, da, db: (a * b, da * b + a * db),
    "div": lambda a, b, da, db: (_check(b != 0), a / b, (da * b - a * db) / (b * b))[1:],
    "neg": lambda a, da: (-a, -da),
    "pow": _pow,
    "exp": lambda a, da: (mpmath.exp(a), mpmath.exp(a) * da),
    "ln": lambda a, da: (_check(a > 0), mpmath.log(a), da / a)[1:],
    "log": lambda a, b, da, db: (_check(a > 0 and b > 0 and b != 1), mpmath.log(a) / mpmath.log(b),
                                 (da / a - mpmath.log(a) / mpmath.log(b) * db / b) / mpmath.log(b))[1:],
    "sqrt": _sqrt,
    "sin": lambda a, da: (mpmath.sin(a), mpmath.cos(a) * da),
    "cos": lambda a, da: (mpmath.cos(a), -mpmath.sin(a) * da),
    "tan": lambda a, da: (mpmath.tan(a), da / mpmath.cos(a) ** 2),
    "asin": _unit(mpmath.asin, lambda a: 1 / mpmath.sqrt((1 - a) * (1 + a))),
    "acos": _unit(mpmath.acos, lambda a: -1 / mpmath.sqrt((1 - a) * (1 + a))),
    "atan": lambda a, da: (mpmath.atan(a), da / (1 + a * a)),
    "sinh": lambda a, da: (mpmath.sinh(a), mpmath.cosh(a) * da),
    "cosh": lambda a, da: (mpmath.cosh(a), mpmath.sinh(a) * da),
    "tanh": lambda a, da: (mpmath.tanh(a), mpmath.sech(a) ** 2 * da),
    "sigmoid": lambda a, da: (_sigmoid(a), _sigmoid(a) * _sigmoid(-a) * da),
    "softplus": lambda a, da: (mpmath.log1p(mpmath.exp(a)), _sigmoid(a) * da),
    "relu": _kinked(lambda a: max(a, 0), lambda a: 1 if a > 0 else 0),
    "abs": _kinked(abs, mpmath.sign),
    "max": _choice(lambda a, b: a > b),
    "min": _choice(lambda a, b: a < b),
    "identity": lambda a, da: (a, da),
}
"""Each operation's value and tangent in mpmath, written from calculus for this oracle (not
read from the operation table): rule(*args, *tangents) → (value, tangent). Undefined where
f or its derivative has no real value (a kink exactly at the point, a domain edge)."""


def exact_tangent(graph, point, output, variable):
    """The value and the derivative ∂y_output/∂x_variable in the current mpmath precision, by
    forward mode over the Graph's needed nodes (`Graph.needed`) with `TANGENT_RULES`
    (constants as their floats)."""
    values = [mpmath.mpf(x) for x in point]
    tangents = [mpmath.mpf(1 if i == variable else 0) for i in range(graph.n_inputs)]
    zero = mpmath.mpf(0)
    needed = graph.needed
    for slot in range(graph.n_inputs, graph.size):
        if not needed[slot]:
            # A node no output reads is no part of f (the float program skips it too); its
            # value can be astronomic (sinh of sinh of 1e300: mpmath never finishes).
            values.append(None)
            tangents.append(None)
            continue
        node = graph.node(slot)
        args = [mpmath.mpf(a.value) if isinstance(a, Const) else values[a] for a in node.args]
        dargs = [zero if isinstance(a, Const) else tangents[a] for a in node.args]
        value, tangent = TANGENT_RULES[node.op](*args, *dargs)
        values.append(mpmath.mpf(value))
        tangents.append(mpmath.mpf(tangent))
    slot = graph.outputs[output]
    return values[slot], tangents[slot]


def reference_jacobian(graph, point):
    """The exact Jacobian at ``point`` (mpmath numbers at 50 digits), or None when it is not
    established: f or its derivative undefined there in exact arithmetic, or the 50- and
    80-digit forward sweeps disagreeing beyond 30 digits (cancellation deeper than that)."""
    m, n = len(graph.outputs), graph.n_inputs
    jacobian = [[None] * n for _ in range(m)]
    try:
        for k in range(m):
            for j in range(n):
                with mpmath.workdps(50):
                    first = exact_tangent(graph, point, k, j)[1]
                with mpmath.workdps(80):
                    second = exact_tangent(graph, point, k, j)[1]
                with mpmath.workdps(50):
                    if not (mpmath.isfinite(first) and mpmath.isfinite(second)):
                        return None
                    if abs(first - second) > mpmath.mpf(10) ** -30 * abs(second):
                        return None
                    jacobian[k][j] = +first
    except (Undefined, ZeroDivisionError, ValueError, OverflowError):
        return None
    return jacobian


# ----------------------------------------------------------------------------- the corpus

@dataclass(frozen=True)
class Case:
    """One corpus entry: its kind (``random`` or an edge family), the Graph and the point."""

    kind: str
    graph: object
    point: tuple


OPERATION_NAMES = sorted(name for name, op in OPERATIONS.items() if not op.internal)
CONSTANTS = (0.5, 2.0, 3.0, -1.0, 0.1, 1.5)


def random_case(rng, max_operations=9, max_inputs=3):
    """A random trace over the whole operation table (as tests/strategies.py draws them,
    with a seeded generator): arguments from earlier slots, biased towards the latest so that
    graphs are deep, and now and then a constant; and a point, mostly in [−3, 3], sometimes
    tiny or large."""
    n = int(rng.integers(1, max_inputs + 1))
    nodes = []
    for k in range(int(rng.integers(1, max_operations + 1))):
        op = OPERATIONS[OPERATION_NAMES[int(rng.integers(len(OPERATION_NAMES)))]]
        args = []
        for position in range(op.arity):
            if position > 0 and rng.integers(5) == 0:
                value = float(rng.choice(CONSTANTS)) if rng.random() < 0.5 else float(np.float32(rng.uniform(-4, 4)))
                args.append(Const(value, Fraction(value), repr(value)))
            elif rng.random() < 0.5:
                args.append(n + k - 1)
            else:
                args.append(int(rng.integers(0, n + k)))
        nodes.append(Node(op.name, tuple(args)))
    graph = Graph(tuple(f"x{i + 1}" for i in range(n)), tuple(nodes), (n + len(nodes) - 1,))
    return Case("random", graph, tuple(_coordinate(rng) for _ in range(n)))


def _coordinate(rng):
    draw = rng.random()
    if draw < 0.8:
        return float(rng.uniform(-3, 3))
    sign = 1.0 if rng.random() < 0.5 else -1.0
    if draw < 0.9:
        return sign * 10.0 ** rng.uniform(-12, -1)    # tiny
    return sign * 10.0 ** rng.uniform(1, 4)           # large


def _near(a, rng, low=-12, high=-2):
    """A float at a random tiny distance from ``a``, on either side."""
    return float(a + (1 if rng.random() < 0.5 else -1) * 10.0 ** rng.uniform(low, high) * max(1.0, abs(a)))


def _edge_families():
    """Each edge kind: (name, expressions, point drawer(expression index, rng) → point)."""
    return {
        # exp overflows inside the stencil although f is defined: issue 12's first case and kin.
        "overflow nearby": (
            ["x + ln(1+exp(C - x))", "exp(x)", "ln(1 + exp(x))", "cosh(x)/2", "sinh(x)*exp(-x)"],
            lambda i, rng: ((float(10.0 ** rng.uniform(2, 15)),) if i == 0 else
                            (float(709.78 - 10.0 ** rng.uniform(-6, 0.5)),))),
        # A rounding of f that a later operation magnifies: acos(cos x) at 1e-4 and kin.
        "catastrophic rounding": (
            ["acos(cos(x))", "asin(cos(x))", "1 - cos(x)", "ln(cosh(x))", "(exp(x) - 1)/x", "sqrt(1 + x) - 1",
             "x - sin(x)", "acos(1 - x*x)", "tan(x) - sin(x)", "ln(1 + x*x)"],
            lambda i, rng: (float((1 if rng.random() < 0.5 else -1) * 10.0 ** rng.uniform(-8, -1)),)),
        # A step as wide as a period: x + cos(x) at 1e6 and kin.
        "periodic": (
            ["x + cos(x)", "sin(x)", "x*sin(x)", "cos(x)^2", "sin(x)*cos(x)", "exp(sin(x))"],
            lambda i, rng: (float((1 if rng.random() < 0.5 else -1) * 10.0 ** rng.uniform(2, 15)),)),
        # Functions whose scale is |x| at tiny |x|: ln(x) at 1e-3 and kin.
        "tiny |x|": (
            ["ln(x)", "sqrt(x)", "x^0.3", "1/x", "x*ln(x)", "ln(x)^2", "x^1.5", "atan(1/x)"],
            lambda i, rng: (float(10.0 ** rng.uniform(-300, -1)),)),
        # Poles beside the point.
        "near a pole": (
            ["1/(x - 0.7)", "tan(x)", "1/sin(x)", "x/(x*x - 2)", "log(3, x)"],
            lambda i, rng: (_near([0.7, math.pi / 2, math.pi, math.sqrt(2), 1.0][i], rng),)),
        # Domain edges beside the point.
        "near a domain edge": (
            ["ln(x - 0.3)", "sqrt(1 - x*x)", "asin(x)", "acos(x)", "sqrt(x - 2)", "(x - 1)^1.5"],
            lambda i, rng: (float([0.3, 1.0, 1.0, -1.0, 2.0, 1.0][i]
                                  + [1, -1, -1, 1, 1, 1][i] * 10.0 ** rng.uniform(-13, -2)),)),
        # Kinks beside the point.
        "near a kink": (
            ["abs(x - 0.7)", "relu(x - 1)", "max(x, 0.2) * x", "min(sin(x), 0.5)", "abs(x*x - 2)"],
            lambda i, rng: (_near([0.7, 1.0, 0.2, math.pi / 6, math.sqrt(2)][i], rng),)),
        # The scale is set by another variable.
        "scale set by another variable": (
            ["sigmoid(x/y)", "tanh(x*y)", "sin(x*y)", "ln(x + y)"],
            lambda i, rng: ((float(rng.uniform(-1, 1)) * 10.0 ** rng.uniform(-12, -3), float(10.0 ** rng.uniform(-12, -3)))
                            if i == 0 else
                            (float(rng.uniform(-1, 1)), float(10.0 ** rng.uniform(3, 9))) if i in (1, 2) else
                            (float(10.0 ** rng.uniform(-12, -3)), float(10.0 ** rng.uniform(-12, -3))))),
    }


def edge_case(rng, kind):
    """One case of the edge family ``kind`` (see `_edge_families`)."""
    expressions, draw = _edge_families()[kind]
    i = int(rng.integers(len(expressions)))
    text = expressions[i]
    point = draw(i, rng)
    if "C" in text:
        text = text.replace("C", repr(point[0]))
        point = (float(point[0] + rng.uniform(-20, 20)),)
    graph = parse(text, ["x", "y"][:len(point)] if len(point) > 1 else None)
    return Case(kind, graph, point)


EDGE_KINDS = tuple(_edge_families())
EDGE_SHARE = 0.3


def corpus(size, seed=20261212):
    """``size`` cases, seeded: 70% random traces, 30% spread over the edge families."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(size):
        if rng.random() < EDGE_SHARE:
            cases.append(edge_case(rng, EDGE_KINDS[int(rng.integers(len(EDGE_KINDS)))]))
        else:
            cases.append(random_case(rng))
    return cases


# ----------------------------------------------------------------------------- the measurement

@dataclass(frozen=True)
class Outcome:
    """One finite-difference entry against the reference: whether its estimate bounds its
    actual error (``held``), both numbers, and the stencil and fallback that made it."""

    kind: str
    method: str
    source: str
    point: tuple
    output: int
    variable: int
    value: float
    reference: object
    error: object
    estimate: float
    stencil: str
    fallback: object
    evaluations: int

    @property
    def held(self):
        return self.error <= self.estimate


def measure(case):
    """The outcomes of every finite-difference method at one case, [] when the case makes
    no claim (see the module doc)."""
    graph, point = case.graph, case.point
    try:
        values = evaluate(graph, point)
    except AdcompareError:
        return []
    if np.any(kink_mask(graph, values)):
        return []
    reference = reference_jacobian(graph, point)
    if reference is None:
        return []
    outcomes = []
    source = graph.source or repr(graph.nodes)
    for method in FD_METHODS:
        result = run_method("finite_difference", graph, point, method=method)
        if result.jacobian is None:
            continue     # refused (not analytic, no stencil inside the domain): no claim
        for k, row in enumerate(reference):
            for j, exact in enumerate(row):
                got = float(result.jacobian[k, j])
                estimate = float(result.details["error_estimate"][k, j])
                with mpmath.workdps(50):
                    error = abs(mpmath.mpf(got) - exact)
                fd_row = result.details["rows"][j]
                outcomes.append(Outcome(case.kind, method, source, point, k, j, got, exact, error, estimate,
                                        fd_row.stencil, fd_row.fallback, getattr(fd_row, "evaluations", 0)))
    return outcomes


def summarize(outcomes):
    """Per method: entries, how many estimates held, how many were infinite (no step
    resolved f: a claim that holds and says nothing), and how many were tight enough to
    confirm agreement at the cross-check's default tolerance for finite differences (an
    estimate within 1e-6·|f′| + 1e-8)."""
    table = {}
    for method in FD_METHODS:
        mine = [o for o in outcomes if o.method == method]
        table[method] = {
            "entries": len(mine),
            "held": sum(o.held for o in mine),
            "infinite": sum(not math.isfinite(o.estimate) for o in mine),
            "tight": sum(o.estimate <= 1e-6 * abs(float(o.reference)) + 1e-8 for o in mine),
        }
    return table


def misses(outcomes):
    """The outcomes whose estimate did not hold, grouped by kind and method."""
    grouped = {}
    for o in outcomes:
        if not o.held:
            grouped.setdefault((o.kind, o.method), []).append(o)
    return grouped


def run_corpus(size, seed=20261212):
    """All outcomes over a corpus of ``size`` cases, and how many cases made a claim."""
    outcomes, claimed = [], 0
    for case in corpus(size, seed):
        found = measure(case)
        claimed += bool(found)
        outcomes += found
    return outcomes, claimed

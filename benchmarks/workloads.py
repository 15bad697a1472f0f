"""The workloads of the performance issue (W1–W4), defined once for every case that times them.

Each workload gives: adcompare Graphs (built directly with `Graph`/`Node`, so the parser's
limits do not apply), the point, plain-Python and numpy versions of f, and a hand-written
gradient that is both the floor of the tables and the reference the harness checks every
case's answer against. Nothing here imports a peer; numpy and adcompare are imported lazily.

W1  f(x1, x2) = ln(x1) + x1·x2 − sin(x2) at (2, 5): one gradient per call.
W2  the deep chain  s = x1;  k times: s = sin(s)·x2 + ln(1 + s·s).  Each step is 6 elementary
    operations (sin, mul, mul, add, ln, add), so N = 6k: N = 60, 6,000, 600,000 are k = 10,
    1,000, 100,000.  At (x1, x2) = (2, 0.5) s settles at an attracting fixed point near 2.13,
    so every N runs on ordinary (not subnormal) numbers; ∂s/∂x1 decays like 0.5^k to 0.
W3  the wide function  Σ_{i=1}^{n−1} x_i·sin(x_{i+1}): 3n − 3 operations (n − 1 sin, n − 1
    mul, n − 2 add), at a seeded point in [−1, 1]^n.
W4  the W1 function at 10^6 points (seeded, x1 in [0.5, 4], x2 in [0.5, 6]).
"""

import math
from fractions import Fraction

W1_TEXT = "ln(x1)+x1*x2-sin(x2)"
W1_POINT = (2.0, 5.0)

W2_POINT = (2.0, 0.5)
W2_OPS_PER_STEP = 6
W2_SIZES = (60, 6_000, 600_000, 999_996)
W2_QUICK_SIZES = (60, 6_000, 60_000)
SWELL_SIZES = (12, 24, 48, 60)
SWELL_QUICK_SIZES = (12, 24, 48)

W3_SIZES = (10, 100, 1_000, 10_000)
W3_QUICK_SIZES = (10, 100, 1_000)

W4_POINTS = 1_000_000

# W5: the command line on large inputs (issue 15). Each is (label, expression, --at, extra
# arguments); the expressions are written out here, the points file made by `points_csv`.
W5_POINTS_ROWS = 100_000


def w5_cases(points_file):
    """The command-line cases: (key, label, expression, --at, extra arguments, runs). What
    the issue names, each at its stated size; the two at the parser's limits also at a fifth
    of it (with the full size: the time and bytes per operation, and whether they are
    linear); and many variables, where forward mode and finite differences pay once per
    variable (n sweeps, n step searches). The 5,000-term sum is run 5 times (median): it is
    compared with the import floor, which is about as long."""
    at10 = ",".join(str(1 + i / 10) for i in range(10))
    return [
        ("5k", "sum of 5,000 terms x0 + x1 + … (4,999 operations)", "+".join(f"x{i % 10}" for i in range(5000)),
         at10, (), 5),
        ("60k", "60,000 operations: Σ sin(x_i), 30,000 terms", "+".join(f"sin(x{i % 10})" for i in range(30000)),
         at10, (), 1),
        ("neg-fifth", "2·10^4 unary minus signs -----…x", "-" * 20_000 + "x", "1", (), 1),
        ("neg", "10^5 unary minus signs -----…x (limits allow it)", "-" * 100_000 + "x", "1", (), 1),
        ("sum-fifth", '"x"+"+x"*99999: 99,999 operations', "x" + "+x" * 99_999, "1", (), 1),
        ("sum", '"x"+"+x"*499999: 499,999 operations (limits allow it)', "x" + "+x" * 499_999, "1", (), 1),
        ("vars", "x0+x1+…+x49999: 50,000 variables", "+".join(f"x{i}" for i in range(50_000)),
         ",".join("1" for _ in range(50_000)), (), 1),
        ("jacobian", "x0,x1,…,x222: 223 outputs × 223 variables (49,729 derivatives, the limit 50,000)",
         ",".join(f"x{i}" for i in range(223)), ",".join("1" for _ in range(223)), (), 1),
        ("points", f"ln(x)+abs(y-1)*sqrt(x) --at points.csv, {W5_POINTS_ROWS:,} rows (one x = 5e-324)",
         "ln(x)+abs(y-1)*sqrt(x)", str(points_file), (), 1),
    ]


def points_csv(path, rows=W5_POINTS_ROWS):
    """The issue's points file: x, y uniform in (0, 3), row 18 with x = 5e-324."""
    import numpy as np
    rng = np.random.default_rng(15)
    x, y = rng.uniform(0, 3, rows), rng.uniform(0, 3, rows)
    x[18] = 5e-324
    with open(path, "w") as file:
        file.write("x,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in zip(x.tolist(), y.tolist())))
    return path


# ----------------------------------------------------------------------------- W1

def w1_graph():
    from adcompare import parse
    return parse(W1_TEXT)


def w1_f(x1, x2):
    return math.log(x1) + x1 * x2 - math.sin(x2)


def w1_hand_gradient(x1, x2):
    """The floor: the derivative written by hand."""
    return (1.0 / x1 + x2, x1 - math.cos(x2))


# ----------------------------------------------------------------------------- W2

def chain_steps(n_operations):
    if n_operations % W2_OPS_PER_STEP:
        raise ValueError(f"the chain has {W2_OPS_PER_STEP} operations per step; {n_operations} is not a multiple")
    return n_operations // W2_OPS_PER_STEP


def chain_graph(n_operations):
    """The W2 chain as a Graph of exactly ``n_operations`` nodes (slots 0, 1 are x1, x2)."""
    from adcompare.graph import Const, Graph, Node
    one = Const(1.0, Fraction(1), "1")
    nodes = []
    s = 0
    for _ in range(chain_steps(n_operations)):
        base = 2 + len(nodes)
        nodes += [Node("sin", (s,)),                 # base     sin(s)
                  Node("mul", (base, 1)),            # base + 1 sin(s)·x2
                  Node("mul", (s, s)),               # base + 2 s·s
                  Node("add", (one, base + 2)),      # base + 3 1 + s·s
                  Node("ln", (base + 3,)),           # base + 4 ln(1 + s·s)
                  Node("add", (base + 1, base + 4))]  # base + 5 the new s
        s = base + 5
    return Graph(("x1", "x2"), tuple(nodes), (s,), source=f"W2 chain, N = {n_operations:,}")


def random_graph(n_operations, seed=15):
    """A graph with no repeating structure (so that no two segments of its compiled sweeps
    are alike): steps of a binary operation (add, sub, mul) of two of the last 16 slots, then
    a bounded unary one (sin, tanh, atan) of it, so values stay within ±π/2. Inputs x1, x2."""
    import numpy as np
    from adcompare.graph import Graph, Node
    rng = np.random.default_rng(seed)
    nodes = []
    for _ in range(n_operations // 2):
        size = 2 + len(nodes)
        low = max(0, size - 16)
        a, b = (int(v) for v in rng.integers(low, size, 2))
        nodes.append(Node(("add", "sub", "mul")[int(rng.integers(3))], (a, b)))
        nodes.append(Node(("sin", "tanh", "atan")[int(rng.integers(3))], (size,)))
    return Graph(("x1", "x2"), tuple(nodes), (1 + len(nodes),), source=f"random graph, N = {n_operations:,}")


def chain_primal(x1, x2, k):
    """Plain-Python primal of the chain (math module)."""
    sin, log = math.sin, math.log
    s = x1
    for _ in range(k):
        s = sin(s) * x2 + log(1.0 + s * s)
    return s


def chain_hand_gradient(x1, x2, k):
    """The floor: hand-written tangent code carrying ∂s/∂x1 and ∂s/∂x2 in one forward pass."""
    sin, cos, log = math.sin, math.cos, math.log
    s, d1, d2 = x1, 1.0, 0.0
    for _ in range(k):
        sn = sin(s)
        q = 1.0 + s * s
        local = cos(s) * x2 + 2.0 * s / q       # ∂s_new/∂s
        d1, d2 = local * d1, local * d2 + sn    # x2 also enters directly, through sin(s)·x2
        s = sn * x2 + log(q)
    return (d1, d2)


def chain_sympy(k):
    """The chain as a sympy expression in symbols x1, x2 (for the expression-swell table)."""
    import sympy
    x1, x2 = sympy.symbols("x1 x2")
    s = x1
    for _ in range(k):
        s = sympy.sin(s) * x2 + sympy.log(1 + s * s)
    return (x1, x2), s


# ----------------------------------------------------------------------------- W3

def wide_point(n):
    import numpy as np
    return tuple(float(v) for v in np.random.default_rng(20261125 + n).uniform(-1.0, 1.0, n))


def wide_graph(n):
    """Σ x_i·sin(x_{i+1}) as a Graph: per term sin, mul, then add into the running sum."""
    from adcompare.graph import Graph, Node
    nodes = []
    total = None
    for i in range(n - 1):
        base = n + len(nodes)
        nodes.append(Node("sin", (i + 1,)))
        nodes.append(Node("mul", (i, base)))
        if total is None:
            total = base + 1
        else:
            nodes.append(Node("add", (total, base + 1)))
            total = base + 2
    return Graph(tuple(f"x{i + 1}" for i in range(n)), tuple(nodes), (total,), source=f"W3 wide, n = {n:,}")


def wide_primal(x):
    """The W3 denominator: one plain-Python evaluation (an explicit loop, math.sin)."""
    sin = math.sin
    total = 0.0
    for a, b in zip(x, x[1:]):
        total += a * sin(b)
    return total


def wide_hand_gradient(x):
    """The floor: ∂f/∂x_i = sin(x_{i+1}) + x_{i−1}·cos(x_i), written by hand."""
    sin, cos = math.sin, math.cos
    n = len(x)
    g = [0.0] * n
    for i in range(n - 1):
        g[i] = sin(x[i + 1])
    for i in range(1, n):
        g[i] += x[i - 1] * cos(x[i])
    return g


# ----------------------------------------------------------------------------- W4

def w4_point(points=W4_POINTS):
    import numpy as np
    rng = np.random.default_rng(20261125)
    return rng.uniform(0.5, 4.0, points), rng.uniform(0.5, 6.0, points)


def w4_numpy_f(x1, x2):
    import numpy as np
    return np.log(x1) + x1 * x2 - np.sin(x2)


def w4_hand_gradient(x1, x2):
    import numpy as np
    return (1.0 / x1 + x2, x1 - np.cos(x2))


# ----------------------------------------------------------------------------- plain central differences

def central_step(x):
    """h = ε^(1/3)·max(1, |x|), exactly representable from x."""
    h = 2.220446049250313e-16 ** (1.0 / 3.0) * max(1.0, abs(x))
    return (x + h) - x


def central_differences(f, x):
    """∇f by central differences in plain Python: 2n evaluations of f on a list."""
    xs = list(x)
    gradient = []
    for i, xi in enumerate(x):
        h = central_step(xi)
        xs[i] = xi + h
        plus = f(xs)
        xs[i] = xi - h
        minus = f(xs)
        xs[i] = xi
        gradient.append((plus - minus) / (2.0 * h))
    return gradient

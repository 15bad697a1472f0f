"""Compiled sweeps: the generated code agrees with the interpreted back ends on every
operation, over arrays of points, refuses bad values as the interpreter does, and never
contains user text."""

import ast
import math
import subprocess
import sys

import numpy as np
import pytest

import adcompare
from adcompare.backends import run_method
from adcompare.codegen import CompiledSweepError, compile_graph, reverse_source
from adcompare.errors import DomainError
from adcompare.graph import evaluate
from adcompare.ops import OPERATIONS, SCALAR_FUNCTIONS, TIMES, fill_code
from test_ops_table import composite_graph, sample_points, single_operation_graph


@pytest.mark.parametrize("shape", ["single", "composite"])
@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_compiled_sweeps_match_the_symbolic_reference(name, shape):
    graph = single_operation_graph(name) if shape == "single" else composite_graph(name)
    compiled = compile_graph(graph)
    points = sample_points(name)
    for point in points:
        reference = np.array(run_method("symbolic", graph, point).jacobian, dtype=float)
        gradient = compiled.gradient(*point)
        assert all(type(g) is float for g in gradient)        # the math-module variant ran
        np.testing.assert_allclose([gradient], reference, rtol=4e-15, atol=1e-15)
        forward = np.array(compiled.jacobian_forward(*point), dtype=float)
        np.testing.assert_allclose(forward, reference, rtol=4e-15, atol=1e-15)
        assert compiled.primal(*point)[0] == pytest.approx(float(evaluate(graph, point)[-1]), rel=4e-16, abs=0)
    # One call over all the points at once (the numpy variant) gives every point's gradient.
    columns = [np.array(column) for column in zip(*points)]
    many = compiled.gradient(*columns)
    assert all(isinstance(g, np.ndarray) and g.shape == (len(points),) for g in many)
    for k, point in enumerate(points):
        np.testing.assert_allclose([g[k] for g in many], compiled.gradient(*point), rtol=4e-15, atol=1e-15)


# Points where the math module and numpy part ways unless the vocabulary takes care:
# overflow inside a finite result, NaN handling, signed zeros, ties, domain edges.
EDGE_POINTS = {
    "sigmoid": [(800.0,), (-800.0,), (-745.5,), (0.0,), (float("nan"),)],
    "softplus": [(800.0,), (-800.0,), (0.0,), (float("nan"),)],
    "tanh": [(400.0,), (-800.0,), (0.0,), (float("nan"),)], "abs": [(0.0,), (-0.0,), (-3.0,)], "relu": [(0.0,), (-2.0,)],
    "max": [(1.0, 1.0), (-0.0, 0.0), (2.0, -1.0)], "min": [(1.0, 1.0), (2.0, -1.0)],
    "pow": [(-2.0, 3.0), (-2.0, 0.5), (0.0, 2.0), (0.0, 0.0), (0.0, -1.0)],
    "ln": [(0.0,), (-1.0,)], "sqrt": [(0.0,), (-1.0,)], "asin": [(1.0,), (1.5,)],
    "log": [(2.0, 1.0), (2.0, 0.5)], "div": [(1.0, 0.0)], "exp": [(700.0,), (-800.0,)],
}


def _scalar_callable(template, arity, with_output):
    names = [f"a{i}" for i in range(arity)] + (["y"] if with_output else [])
    return eval(f"lambda {', '.join(names)}: {fill_code(template, names[:arity])}", dict(SCALAR_FUNCTIONS))


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_the_math_vocabulary_means_what_numpy_does(name):
    # The compiled code at one point runs the table's code with the math module; the
    # interpreted back ends run it with numpy. Wherever numpy's answer is finite, the math
    # module's must be the same number (to an ulp or two of libm difference); where numpy's
    # is not, the math variant must not produce a finite number silently.
    op = OPERATIONS[name]
    value = _scalar_callable(op.code, op.arity, False)
    domain = op.domain_code and _scalar_callable(op.domain_code, op.arity, False)
    for point in sample_points(name) + EDGE_POINTS.get(name, []):
        with np.errstate(all="ignore"):
            expected = float(op.evaluate(*point))
            inside = True if op.domain is None else bool(op.domain(*point))
        if domain:
            assert bool(domain(*point)) == inside, (name, point)
        try:
            got = value(*point)
        except (ArithmeticError, ValueError):
            assert not (inside and np.isfinite(expected)), (name, point)
            continue
        if inside and not np.isfinite(expected):
            assert not math.isfinite(got), (name, point)      # NaN or ±∞ must stay visible
        if inside and np.isfinite(expected):
            assert got == pytest.approx(expected, rel=4e-16, abs=0), (name, point)
            for partial in op.partials:
                if partial.code is None:
                    continue
                code = partial.code if partial.kind == TIMES else f"1.0 / ({partial.code})"
                with np.errstate(all="ignore"):
                    want = float(partial.value(*point, expected))
                try:
                    have = _scalar_callable(code, op.arity, True)(*point, got)
                except (ArithmeticError, ValueError):
                    assert not np.isfinite(want), (name, point)
                    continue
                if np.isfinite(want):
                    assert have == pytest.approx(want, rel=4e-15, abs=0), (name, point)
                    assert math.copysign(1, have) == math.copysign(1, want) or want == 0, (name, point)
                else:
                    assert not math.isfinite(have), (name, point)


def test_reverse_code_reads_like_table_3():
    # Written by hand from Baydin's Table 3: the adjoint assignments in execution order,
    # each local partial as the table writes it, the fan-out of v₀ and v₋₁ as "+=".
    source = reverse_source(adcompare.parse("ln(x1)+x1*x2-sin(x2)"))
    adjoint_lines = [line.strip() for line in source.splitlines() if "_bar" in line and "=" in line
                     and not line.strip().startswith(("if", "return"))]
    assert adjoint_lines == [
        "v5_bar = 1.0", "v4_bar = v5_bar", "v3_bar = -v5_bar", "v1_bar = v4_bar", "v2_bar = v4_bar",
        "v0_bar = v3_bar * cos(v0)", "v_m1_bar = v2_bar * v0", "v0_bar += v2_bar * v_m1",
        "v_m1_bar += v1_bar / v_m1"]
    ast.parse(source)


def test_bad_values_are_refused_and_named():
    compiled = compile_graph(adcompare.parse("ln(x) + sqrt(y)"))
    with pytest.raises(DomainError, match="ln 0 = −∞"):
        compiled.gradient(0.0, 1.0)
    with pytest.raises(CompiledSweepError, match="the chain rule meets the local partial"):
        compiled.gradient(1.0, 0.0)       # √y at 0: defined, but its local partial is infinite
    with pytest.raises(DomainError, match=r"ln \(-1\)"):       # at the second of two points
        compiled.primal(np.array([1.0, -1.0]), np.array([1.0, 1.0]))
    with pytest.raises(CompiledSweepError):
        compiled.backward(np.array([1.0, -1.0]), np.array([1.0, 1.0]))
    zero_to_zero = compile_graph(adcompare.parse("x^y"))
    with pytest.raises(CompiledSweepError):      # math.pow says 0^0 = 1; the domain check does not
        zero_to_zero.backward(0.0, 0.0)
    with pytest.raises(DomainError, match="pow needs"):
        zero_to_zero.gradient(0.0, 0.0)


def test_overflow_inside_a_finite_derivative_is_not_an_error():
    # tanh′(400) = 1/cosh²(400) ≈ 5e-348 rounds to 0; cosh(400)² overflows on the way.
    compiled = compile_graph(adcompare.parse("tanh(x) + sigmoid(x) + softplus(-x)"))
    # d/dx = sech²x + σ(x)σ(−x) − σ(−x); at x = 400 every term is below the smallest float.
    assert compiled.gradient(400.0) == (0.0,)
    assert compiled.gradient(np.array([400.0]))[0].tolist() == [0.0]


def test_no_user_text_reaches_the_generated_code():
    names = ("__import__", "os", "system", "eval", "exec", "print")
    text = " + ".join(f"{name}*{k + 1}.25e0" for k, name in enumerate(names))
    graph = adcompare.parse(text)
    for mode in ("primal", "forward", "reverse"):
        done = subprocess.run([sys.executable, "-m", "adcompare", "codegen", text, "--mode", mode],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0
        for name in names:
            assert name not in done.stdout, (mode, name)
        assert "1.25e0" not in done.stdout and "1.25" in done.stdout   # constants as repr(float)
        ast.parse(done.stdout)
    coefficient = {name: k + 1.25 for k, name in enumerate(names)}
    assert list(compile_graph(graph).gradient(*[1.0] * 6)) == [coefficient[name] for name in graph.variables]


VALUE = math.log(2) + 10 - math.sin(5)            # f(2, 5) = ln x1 + x1·x2 − sin x2
GRADIENT = (1 / 2 + 5, 2 - math.cos(5))           # by hand: 1/x1 + x2, x1 − cos x2


@pytest.mark.parametrize("mode, call, expected", [
    ("primal", "primal(2.0, 5.0)", (VALUE,)),
    ("forward", "tangent(2.0, 5.0, 0.0, 1.0)", ((VALUE,), (GRADIENT[1],))),
    ("reverse", "backward(2.0, 5.0)", (VALUE, GRADIENT)),
])
def test_printed_code_runs_on_its_own(tmp_path, mode, call, expected):
    # What `adcompare codegen` prints is a module a student can run: its imports, then the sweep.
    done = subprocess.run([sys.executable, "-m", "adcompare", "codegen", "ln(x1)+x1*x2-sin(x2)", "--mode", mode],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    module = tmp_path / "sweep.py"
    module.write_text(done.stdout + f"\nprint(repr({call}))\n")
    ran = subprocess.run([sys.executable, str(module)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    got = ast.literal_eval(ran.stdout.strip())
    flat = lambda t: [x for part in t for x in (flat(part) if isinstance(part, tuple) else [part])]  # noqa: E731
    assert flat(got) == pytest.approx(flat(expected), rel=1e-15)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_a_sweep_compiled_in_parts_computes_the_same_floats(name, monkeypatch):
    # Long sweeps are compiled as consecutive segments passing values through lists; with
    # segments of one or two nodes every boundary case (an adjoint accumulated across
    # segments, the domain flag, a tangent read two segments later) occurs even in a small
    # graph. Same operations in the same order: same floats.
    import adcompare.segments as segments
    graph = composite_graph(name)
    points = sample_points(name)
    columns = tuple(np.array(column) for column in zip(*points))
    whole = compile_graph(graph)
    expected = [whole.gradient(*points[0]), whole.jacobian_forward(*points[0]), whole.primal(*points[0]),
                whole.gradient(*columns)]
    for nodes in (1, 2):
        monkeypatch.setattr(segments, "SEGMENT_NODES", nodes)
        parts = compile_graph(graph)
        got = [parts.gradient(*points[0]), parts.jacobian_forward(*points[0]), parts.primal(*points[0]),
               parts.gradient(*columns)]
        assert not parts.plan.whole
        assert got[:3] == expected[:3]
        assert all(np.array_equal(a, b) for a, b in zip(got[3], expected[3]))
    reference = np.array(run_method("symbolic", graph, points[0]).jacobian, dtype=float)   # independently
    np.testing.assert_allclose([got[0]], reference, rtol=4e-15, atol=1e-15)
    with pytest.raises(DomainError):             # and refuses what the whole sweep refuses
        compile_graph(adcompare.parse("ln(x) * y + sqrt(y)")).gradient(-1.0, 2.0)


# ----------------------------------------------------------------------------- segments with windows

def _constant(value):
    from fractions import Fraction
    from adcompare.graph import Const
    return Const(float(value), Fraction(value).limit_denominator(), repr(value))


def _random_graph(seed, n_inputs=3, steps=60, far=0.3, outputs=2):
    """A graph of every operation with arguments from the last few slots or, with
    probability ``far``, from anywhere before (long edges cross windows and segments);
    arguments are squashed by tanh and shifted into each operation's domain."""
    from adcompare.graph import Graph, Node
    rng = np.random.default_rng(seed)
    nodes = []

    def add(op, *args):
        nodes.append(Node(op, args))
        return n_inputs + len(nodes) - 1

    def pick():
        size = n_inputs + len(nodes)
        return int(rng.integers(0, size) if rng.random() < far else rng.integers(max(0, size - 6), size))

    names = sorted(name for name in OPERATIONS if name != "identity")
    for _ in range(steps):
        op, a, b = names[int(rng.integers(len(names)))], pick(), pick()
        squash = lambda x: add("tanh", x)                                  # noqa: E731
        positive = lambda x, shift=1.5: add("add", _constant(shift), squash(x))   # noqa: E731
        if op in ("ln", "sqrt"):
            result = add(op, positive(a))
        elif op == "log":
            result = add(op, positive(a), positive(b, 3.0))
        elif op in ("asin", "acos"):
            result = add(op, add("mul", _constant(0.9), squash(a)))
        elif op == "div":
            result = add(op, a, positive(b, 2.0))
        elif op in ("exp", "sinh", "cosh", "tan"):
            result = add(op, squash(a))
        elif op == "pow":
            result = add(op, positive(a), squash(b))
        elif OPERATIONS[op].arity == 2:
            result = add(op, a, b if rng.random() < 0.8 else _constant(-0.75))
        else:
            result = add(op, a)
        squash(result)
    size = n_inputs + len(nodes)
    chosen = sorted({int(x) for x in rng.integers(size - 10, size, outputs)})
    return Graph(tuple(f"x{i}" for i in range(n_inputs)), tuple(nodes), tuple(chosen))


def _every_sweep(graph, point):
    compiled = compile_graph(graph)
    arrays = tuple(np.array([x, 0.5 * x + 0.1]) for x in point)
    got = {"jacobian": compiled.jacobian_forward(*point), "primal": compiled.primal(*point),
           "tangent": compiled.tangent(*point, *[0.3 * (j + 1) for j in range(graph.n_inputs)]),
           "forward points": compiled.sweep_points("forward", *arrays),
           "jacobian points": compiled.jacobian_forward(*arrays)}
    for k in range(len(graph.outputs)):
        got[f"gradient {k}"] = compiled.gradient(*point, output=k)
        got[f"backward {k}"] = compiled.backward(*point, output=k)
        got[f"gradient points {k}"] = compiled.gradient(*arrays, output=k)
        got[f"reverse points {k}"] = compiled.sweep_points("reverse", *arrays, output=k)
    return got


def _same(x, y):
    if isinstance(x, (tuple, list)):
        return len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y))
    return np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True)


@pytest.mark.parametrize("seed, n_inputs, far", [(0, 3, 0.3), (1, 3, 0.6), (2, 1, 0.1), (3, 10, 0.5)])
def test_windowed_segments_compute_the_same_floats(seed, n_inputs, far, monkeypatch):
    # Registers reused every few slots, values loaded again from V, contributions sent to A
    # at once, tangents that are other names: with windows of 1–8 slots and segments of
    # 1–50 nodes every such case occurs in a graph of ~250 nodes, and each sweep must give
    # exactly the floats of the sweep in one function (the same operations in the same order).
    import adcompare.segments as segments
    graph = _random_graph(seed, n_inputs=n_inputs, far=far)
    point = tuple(float(v) for v in np.random.default_rng(seed).uniform(-1.5, 1.5, n_inputs))
    monkeypatch.setattr(segments, "SEGMENT_NODES", 10 ** 9)
    monkeypatch.setattr(segments, "FUNCTION_SLOTS", 10 ** 9)
    expected = _every_sweep(graph, point)
    reference = run_method("reverse", graph, point).jacobian     # the interpreted sweep
    for k in range(len(graph.outputs)):
        np.testing.assert_allclose(expected[f"gradient {k}"], reference[k], rtol=1e-13, atol=1e-14)
    monkeypatch.setattr(segments, "FUNCTION_SLOTS", 0)
    for nodes, window, externals in [(1, 1, 64), (7, 2, 3), (50, 1, 64), (13, 4, 5), (2, 1, 1), (40, 8, 64)]:
        monkeypatch.setattr(segments, "SEGMENT_NODES", nodes)
        monkeypatch.setattr(segments, "WINDOW", window)
        monkeypatch.setattr(segments, "SEGMENT_EXTERNALS", externals)
        got = _every_sweep(graph, point)
        for key, value in expected.items():
            assert _same(value, got[key]), (nodes, window, externals, key)


def _chain(steps):
    """s = x1, then ``steps`` times s = sin(s)·x2 + ln(1 + s·s): 6 operations a step."""
    from adcompare.graph import Graph, Node
    nodes, s = [], 0
    for _ in range(steps):
        base = 2 + len(nodes)
        nodes += [Node("sin", (s,)), Node("mul", (base, 1)), Node("mul", (s, s)),
                  Node("add", (_constant(1), base + 2)), Node("ln", (base + 3,)), Node("add", (base + 1, base + 4))]
        s = base + 5
    return Graph(("x1", "x2"), tuple(nodes), (s,))


def _wide(n):
    """Σ x_i·sin(x_{i+1}): n inputs, 3n − 3 operations."""
    from adcompare.graph import Graph, Node
    nodes = []
    total = None
    for i in range(n - 1):
        nodes += [Node("sin", (i + 1,)), Node("mul", (i, n + len(nodes)))]
        if total is None:
            total = n + len(nodes) - 1
        else:
            nodes.append(Node("add", (total, n + len(nodes) - 1)))
            total = n + len(nodes) - 1
    return Graph(tuple(f"x{i}" for i in range(n)), tuple(nodes), (total,))


@pytest.mark.parametrize("graph", [_chain(1000), _wide(2000), _random_graph(5, steps=1500)],
                         ids=["chain", "wide", "random"])
def test_every_compiled_function_has_a_small_frame(graph):
    # The cause of the cliff between one function and many (docs/speed.md): a frame that
    # does not fit what is left of CPython's 16 KB stack chunk allocates a chunk at every
    # call. Measured by the frames' sizes, not by the clock: variables plus evaluation stack.
    import adcompare.segments as segments
    compiled = compile_graph(graph)
    point = (0.5,) * graph.n_inputs
    compiled.gradient(*point)
    compiled.primal(*point)
    for kind, option in [("gradient", 0), ("primal", None)]:
        run = compiled._function(kind, "scalar", option)
        assert run.function is None and len(run.segments) > 2      # segments, at these sizes
        for function in run.segments:
            code = function.__code__
            assert code.co_nlocals + code.co_stacksize <= 400, (kind, code.co_nlocals, code.co_stacksize)
    small = compile_graph(_chain(50))
    small.gradient(0.5, 0.5)
    code = small._function("gradient", "scalar", 0).function().__code__
    assert code.co_nlocals + code.co_stacksize <= segments.FUNCTION_SLOTS


def test_a_gradient_computes_only_what_its_partials_read():
    # ∇(ln x1 + x1·x2 − sin x2) = (1/x1 + x2, x1 − cos x2): the sweep reads x1, x2 and
    # cos x2; ln x1, x1·x2, sin x2 and the sums are the value, which gradient() does not
    # return. The domain of ln is still checked.
    compiled = compile_graph(adcompare.parse("ln(x1)+x1*x2-sin(x2)"))
    assert compiled.gradient(2.0, 5.0) == (0.5 + 5.0, 2.0 - math.cos(5.0))
    lines = "\n".join(compiled._function("gradient", "scalar", 0).body[1])
    assert "cos(" in lines and "> 0.0" in lines
    assert "log(" not in lines and "sin(" not in lines and "*" not in lines
    with pytest.raises(DomainError, match="ln needs a positive argument"):
        compiled.gradient(-1.0, 5.0)
    backward = "\n".join(compiled._function("reverse", "scalar", 0).body[1])
    assert "log(" in backward and "sin(" in backward          # backward() returns the value too


@pytest.mark.parametrize("segmented", [False, True])
def test_the_derivative_of_an_output_that_is_an_input_is_one(segmented, monkeypatch):
    from adcompare.graph import Graph
    import adcompare.segments as segments
    if segmented:
        monkeypatch.setattr(segments, "FUNCTION_SLOTS", 0)
        monkeypatch.setattr(segments, "SEGMENT_NODES", 1)
    assert compile_graph(adcompare.parse("x")).gradient(2.0) == (1.0,)
    product = adcompare.parse("x*y")
    both = compile_graph(Graph(product.variables, product.nodes, (2, 0)))   # outputs x·y and x
    assert both.gradient(2.0, 3.0, output=1) == (1.0, 0.0)                 # ∂x/∂x, ∂x/∂y by hand
    assert both.gradient(2.0, 3.0) == (3.0, 2.0)
    assert both.jacobian_forward(2.0, 3.0) == [[3.0, 2.0], [1.0, 0.0]]


def test_gradient_becomes_the_generated_function():
    import inspect
    compiled = compile_graph(adcompare.parse("ln(x1)+x1*x2-sin(x2)"))
    first = compiled.gradient(2.0, 5.0)
    assert not inspect.ismethod(compiled.gradient)        # the sweep itself, no wrapper left
    assert compiled.gradient(2.0, 5.0) == first == GRADIENT
    many = compiled.gradient(np.array([2.0, 1.0]), np.array([5.0, 3.0]))  # arrays: the general path
    assert [g.tolist() for g in many] == [[5.5, 4.0], [2.0 - math.cos(5.0), 1.0 - math.cos(3.0)]]
    assert compiled.gradient(2, 5) == GRADIENT                        # ints too
    with pytest.raises(DomainError, match="ln needs a positive argument"):
        compiled.gradient(0.0, 5.0)
    with pytest.raises(TypeError):
        compiled.gradient(2.0, 5.0, 1.0)
    assert compiled.jacobian_forward(2.0, 5.0) == [list(GRADIENT)]
    assert not inspect.ismethod(compiled.jacobian_forward)

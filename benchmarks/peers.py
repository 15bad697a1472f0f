"""The table of cases that benchmarks/run.py times, and the child that times one of them.

    python benchmarks/peers.py '{"workload": "W2", "case": "torch", "size": 6000, "repeats": 7, ...}'

runs one case in this (fresh) process and prints one line ``RESULT {json}``. The driver,
run.py, starts one such process per case and size, so that no case inherits another's
imports, caches, compiled code or garbage. Imports, graph building, compilation (jax.jit,
adcompare.codegen) and one warm-up call happen in the case's setup, which is timed
separately and never counted in the per-call time.

Two tables define the cases:

- ``VARIANTS``: adcompare's ways of computing a gradient. Every workload times every
  variant (unless the variant says otherwise), so a new adcompare variant, such as a
  compiled sweep, is one entry here.
- ``PEER_CASES``: per workload, the floors, references and peer libraries.

A case's setup takes the size (N, n or number of points; None for W1) and returns a
`Prepared`: the call to time (it returns the gradient), optionally an untimed ``before``
hook run before every call (for cases that must start cold, such as sympy with its cache
cleared), and notes. Every answer is checked against the workload's hand-written gradient
before it is timed; a case whose answer is wrong is still timed, and marked.
"""

import gc
import json
import math
import os
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, Optional

import workloads as W

# ============================================================================ the case types


@dataclass
class Prepared:
    """What a case's setup hands to the timer."""

    call: Callable[[], object]              # one gradient; returns its components
    before: Optional[Callable[[], None]] = None   # untimed, before every call (forces one call per repeat)
    notes: dict = field(default_factory=dict)
    check: Optional[Callable[[object], tuple]] = None   # result → (ok, message); default: against the reference


@dataclass(frozen=True)
class Case:
    """One way of computing the workload's gradient (or its primal, for the denominators)."""

    key: str
    label: str
    setup: Callable                          # setup(size) -> Prepared
    kind: str = "peer"                       # reference | floor | adcompare | peer | context
    requires: tuple = ()                     # modules that must import, else the row says "not installed"
    growth: float = 1.0                      # per-call time ~ size**growth: sizes estimated over the limit are skipped
    max_size: Optional[int] = None           # larger sizes are skipped with ``skip_reason``
    quick_max_size: Optional[int] = None
    skip_reason: str = ""
    first_call_counts: bool = True           # a slow first call may be kept as a repeat (no JIT, no lazy init)


@dataclass(frozen=True)
class Variant:
    """One adcompare way of computing a gradient. ``prepare(graph, point)`` is its compile step
    (timed apart from the calls; the point is an example, as for jax.jit) and returns
    ``gradient(point)``; a point is a tuple of floats (W1–W3) or of numpy arrays (W4, one
    gradient per point)."""

    key: str
    label: str
    prepare: Callable
    requires: tuple = ("adcompare",)
    workloads: tuple = ("W1", "W2", "W3", "W4")
    growth: dict = field(default_factory=dict)    # workload -> growth exponent (default 1)
    first_call_counts: bool = True
    before: Optional[Callable] = None             # untimed before every call, e.g. to start cold


# ============================================================================ adcompare variants

def _run_method(name, **options):
    def prepare(graph, point):
        from adcompare.backends import run_method

        def gradient(point):
            result = run_method(name, graph, point, **options)
            if result.jacobian is None:
                raise RuntimeError(f"{name}: {result.error}")
            return result.jacobian[0]
        return gradient
    return prepare


def _codegen_reverse(graph, point):
    from adcompare.codegen import compile_graph
    compiled = compile_graph(graph)
    compiled.gradient(*point)          # the reverse sweep is compiled at its first call
    return lambda point: compiled.gradient(*point)


def _codegen_backward(graph, point):
    from adcompare.codegen import compile_graph
    compiled = compile_graph(graph)
    compiled.backward(*point)          # compiled at its first call
    return lambda point: compiled.backward(*point)[1]


def _codegen_forward(graph, point):
    from adcompare.codegen import compile_graph
    compiled = compile_graph(graph)
    compiled.jacobian_forward(*point)  # the tangent sweep is compiled at its first call
    return lambda point: compiled.jacobian_forward(*point)[0]


def _clear_sympy_cache():
    """Start sympy cold: a second diff of the same expression is a cache look-up."""
    from sympy.core.cache import clear_cache
    clear_cache()


VARIANTS = (
    Variant("reverse", "adcompare reverse (run_method, interpreted)", _run_method("reverse")),
    Variant("forward", "adcompare forward (run_method, interpreted, n sweeps)", _run_method("forward"),
            growth={"W3": 2.0}),
    Variant("finite_difference", "adcompare finite_difference (run_method, central + error estimate)",
            _run_method("finite_difference"), workloads=("W1", "W3"), growth={"W3": 2.0}),
    Variant("symbolic", "adcompare symbolic (run_method, sympy, 30 digits, cache cleared)", _run_method("symbolic"),
            workloads=("W1",), before=_clear_sympy_cache),
    # The compiled sweeps of issue 5 (adcompare.codegen). Rows say "not available" where the
    # module is not in the checkout being measured.
    Variant("codegen-reverse", "adcompare.codegen reverse (compiled sweep)", _codegen_reverse,
            requires=("adcompare.codegen",)),
    # backward() returns f's value too, so it computes everything gradient() leaves out.
    Variant("codegen-backward", "adcompare.codegen backward() (compiled sweep, value and gradient)",
            _codegen_backward, requires=("adcompare.codegen",), workloads=("W1", "W4")),
    Variant("codegen-forward", "adcompare.codegen forward (compiled, n tangent sweeps)", _codegen_forward,
            requires=("adcompare.codegen",), growth={"W3": 2.0}),
)


def _variant_setup(variant, workload):
    def setup(size):
        notes = {}
        start = time.perf_counter()
        if workload == "W1":
            graph, point = W.w1_graph(), W.W1_POINT
        elif workload == "W2":
            graph, point = W.chain_graph(size), W.W2_POINT
        elif workload == "W3":
            graph, point = W.wide_graph(size), W.wide_point(size)
        else:
            graph, point = W.w1_graph(), W.w4_point(size)
        notes["graph build s"] = time.perf_counter() - start
        if "adcompare.codegen" in variant.requires:
            # Importing the modules is once per process, as importing jax is for jax.jit:
            # "prepare" is what compiling this graph costs.
            import adcompare.codegen
            import adcompare.segments  # noqa: F401
        start = time.perf_counter()
        gradient = variant.prepare(graph, point)
        notes["prepare s"] = time.perf_counter() - start
        return Prepared(lambda: gradient(point), before=variant.before, notes=notes)
    return setup


def variant_cases(workload):
    return [Case(f"adcompare:{v.key}", v.label, _variant_setup(v, workload), kind="adcompare", requires=v.requires,
                 growth=v.growth.get(workload, 1.0), first_call_counts=v.first_call_counts)
            for v in VARIANTS if workload in v.workloads]


# ============================================================================ peer helpers

def _jax():
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    jax.config.update("jax_enable_x64", True)   # float64 everywhere, like numpy, torch and adcompare
    return jax


def _ready(values):
    """Block until jax has finished computing (jax dispatches asynchronously)."""
    import jax
    return jax.block_until_ready(values)


def _micrograd_ops():
    """sin and ln for micrograd's Value, written the way micrograd writes its own operations
    (micrograd 0.1.0 has +, *, ** and relu only)."""
    from micrograd.engine import Value

    def sin(v):
        out = Value(math.sin(v.data), (v,), "sin")

        def _backward():
            v.grad += math.cos(v.data) * out.grad
        out._backward = _backward
        return out

    def log(v):
        out = Value(math.log(v.data), (v,), "log")

        def _backward():
            v.grad += out.grad / v.data
        out._backward = _backward
        return out
    return Value, sin, log


def _recursion_limit(size, raise_limit):
    """micrograd's backward() recurses once per node: raise the limit for ``size`` nodes when
    asked (else leave Python's default); the limit in force, as a note."""
    if raise_limit:
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 20 * (size or 0) + 10_000))
    return {"recursion limit": sys.getrecursionlimit()}


def _torch(threads=None):
    import torch
    if threads is not None:
        torch.set_num_threads(threads)
    return torch


# ============================================================================ W1 cases

def w1_hand(size):
    return Prepared(lambda: W.w1_hand_gradient(*W.W1_POINT))


def w1_codegen_sweep(size):
    """The generated sweep that gradient() runs, alone and called directly: the function
    that checks its domains and its results and returns (None, gradient, inside). What
    gradient() adds around it is the difference to the compiled-sweep row."""
    from adcompare.codegen import compile_graph
    compiled = compile_graph(W.w1_graph())
    compiled.gradient(*W.W1_POINT)
    sweep = compiled._function("gradient", "scalar", 0).function()
    return Prepared(lambda: sweep(*W.W1_POINT)[1])


def w1_sympy_lambdify(size):
    import sympy
    x1, x2 = sympy.symbols("x1 x2")
    f = sympy.log(x1) + x1 * x2 - sympy.sin(x2)
    g = sympy.lambdify((x1, x2), [sympy.diff(f, x1), sympy.diff(f, x2)], "math")
    return Prepared(lambda: g(*W.W1_POINT))


def w1_sympy_once(size):
    import sympy
    from sympy.core.cache import clear_cache
    x1, x2 = sympy.symbols("x1 x2")

    def call():
        f = sympy.log(x1) + x1 * x2 - sympy.sin(x2)
        g = sympy.lambdify((x1, x2), [sympy.diff(f, x1), sympy.diff(f, x2)], "math")
        return g(*W.W1_POINT)
    return Prepared(call, before=clear_cache, notes={"sympy cache": "cleared before each call"})


def w1_central(size):
    f = lambda x: W.w1_f(x[0], x[1])   # noqa: E731
    return Prepared(lambda: W.central_differences(f, W.W1_POINT))


def w1_jax_jit(size):
    jax = _jax()
    import jax.numpy as jnp
    g = jax.jit(jax.grad(lambda a, b: jnp.log(a) + a * b - jnp.sin(b), argnums=(0, 1)))
    start = time.perf_counter()
    _ready(g(*W.W1_POINT))
    return Prepared(lambda: _ready(g(*W.W1_POINT)), notes={"compile s": time.perf_counter() - start})


def w1_jax_eager(size):
    jax = _jax()
    import jax.numpy as jnp
    g = jax.grad(lambda a, b: jnp.log(a) + a * b - jnp.sin(b), argnums=(0, 1))
    return Prepared(lambda: _ready(g(*W.W1_POINT)))


def w1_micrograd(size):
    Value, sin, log = _micrograd_ops()

    def call():
        x1, x2 = Value(W.W1_POINT[0]), Value(W.W1_POINT[1])
        y = log(x1) + x1 * x2 - sin(x2)
        y.backward()
        return (x1.grad, x2.grad)
    return Prepared(call)


def w1_torch(size):
    torch = _torch()
    a, b = W.W1_POINT

    def call():
        x1 = torch.tensor(a, dtype=torch.float64, requires_grad=True)
        x2 = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        y = torch.log(x1) + x1 * x2 - torch.sin(x2)
        return torch.autograd.grad(y, (x1, x2))
    return Prepared(call)


def w1_autograd(size):
    from autograd import grad
    import autograd.numpy as anp
    g = grad(lambda a, b: anp.log(a) + a * b - anp.sin(b), argnum=(0, 1))
    return Prepared(lambda: g(*W.W1_POINT))


def w1_numdifftools(size):
    import numdifftools as nd
    import numpy as np
    g = nd.Gradient(lambda x: np.log(x[0]) + x[0] * x[1] - np.sin(x[1]))
    point = np.array(W.W1_POINT)
    return Prepared(lambda: g(point))


# ============================================================================ W2 cases (the chain)

def w2_primal(size):
    k = W.chain_steps(size)
    return Prepared(lambda: W.chain_primal(*W.W2_POINT, k), check=lambda out: (math.isfinite(out), "primal only"))


def w2_hand(size):
    k = W.chain_steps(size)
    return Prepared(lambda: W.chain_hand_gradient(*W.W2_POINT, k))


def _w2_micrograd(raise_limit):
    def setup(size):
        notes = _recursion_limit(size, raise_limit)
        Value, sin, log = _micrograd_ops()
        k = W.chain_steps(size)

        def call():
            x1, x2 = Value(W.W2_POINT[0]), Value(W.W2_POINT[1])
            s = x1
            for _ in range(k):
                s = sin(s) * x2 + log(1.0 + s * s)
            s.backward()
            return (x1.grad, x2.grad)
        return Prepared(call, notes=notes)
    return setup


def w2_torch(size):
    torch = _torch()
    k = W.chain_steps(size)
    a, b = W.W2_POINT

    def call():
        x1 = torch.tensor(a, dtype=torch.float64, requires_grad=True)
        x2 = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        s = x1
        for _ in range(k):
            s = torch.sin(s) * x2 + torch.log(1.0 + s * s)
        return torch.autograd.grad(s, (x1, x2))
    return Prepared(call)


def w2_autograd(size):
    from autograd import grad
    import autograd.numpy as anp
    k = W.chain_steps(size)

    def chain(x1, x2):
        s = x1
        for _ in range(k):
            s = anp.sin(s) * x2 + anp.log(1.0 + s * s)
        return s
    g = grad(chain, argnum=(0, 1))
    return Prepared(lambda: g(*W.W2_POINT))


def _jax_chain(k):
    import jax.numpy as jnp

    def chain(x1, x2):
        s = x1
        for _ in range(k):
            s = jnp.sin(s) * x2 + jnp.log(1.0 + s * s)
        return s
    return chain


def w2_jax_eager(size):
    jax = _jax()
    g = jax.grad(_jax_chain(W.chain_steps(size)), argnums=(0, 1))
    return Prepared(lambda: _ready(g(*W.W2_POINT)))


def w2_jax_jit_unrolled(size):
    jax = _jax()
    g = jax.jit(jax.grad(_jax_chain(W.chain_steps(size)), argnums=(0, 1)))
    start = time.perf_counter()
    _ready(g(*W.W2_POINT))
    return Prepared(lambda: _ready(g(*W.W2_POINT)), notes={"compile s": time.perf_counter() - start})


def w2_jax_jit_loop(size):
    jax = _jax()
    import jax.numpy as jnp
    k = W.chain_steps(size)

    def chain(x1, x2):
        return jax.lax.fori_loop(0, k, lambda i, s: jnp.sin(s) * x2 + jnp.log(1.0 + s * s), x1)
    g = jax.jit(jax.grad(chain, argnums=(0, 1)))
    start = time.perf_counter()
    _ready(g(*W.W2_POINT))
    return Prepared(lambda: _ready(g(*W.W2_POINT)), notes={"compile s": time.perf_counter() - start})


# ---------------------------------------------------------------------------- W2 expression swell (sympy)

def _swell_check(out):
    return True, "not a gradient: see the counts"


def swell_sympy_diff(size):
    import sympy
    from sympy.core.cache import clear_cache
    symbols, f = W.chain_sympy(W.chain_steps(size))
    notes = {"count_ops f": int(sympy.count_ops(f))}

    def call():
        return [sympy.diff(f, x) for x in symbols]

    def check(derivatives):
        notes["count_ops df"] = int(sum(sympy.count_ops(d) for d in derivatives))
        return True, "derivatives of both variables"
    return Prepared(call, before=clear_cache, notes=notes, check=check)


def swell_adcompare_symbolic(size):
    from adcompare.backends import run_method
    from sympy.core.cache import clear_cache
    graph = W.chain_graph(size)
    notes = {}

    def call():
        return run_method("symbolic", graph, W.W2_POINT)

    def check(result):
        if result.jacobian is None:
            notes["outcome"] = result.error
            return True, result.error
        notes["outcome"] = "derivative computed"
        reference = W.chain_hand_gradient(*W.W2_POINT, W.chain_steps(size))
        return compare([float(v) for v in result.jacobian[0]], reference)
    return Prepared(call, before=clear_cache, notes=notes, check=check)


# ============================================================================ W3 cases (the wide function)

def w3_primal(size):
    x = list(W.wide_point(size))
    return Prepared(lambda: W.wide_primal(x), check=lambda out: (math.isfinite(out), "primal only"))


def w3_hand(size):
    x = list(W.wide_point(size))
    return Prepared(lambda: W.wide_hand_gradient(x))


def w3_central(size):
    x = list(W.wide_point(size))
    return Prepared(lambda: W.central_differences(W.wide_primal, x))


def w3_adcompare_evaluate(size):
    from adcompare.graph import evaluate
    graph, x = W.wide_graph(size), W.wide_point(size)
    return Prepared(lambda: evaluate(graph, x)[graph.outputs[0]],
                    check=lambda out: (math.isfinite(out), "primal only"))


def _w3_micrograd(raise_limit):
    def setup(size):
        notes = _recursion_limit(size, raise_limit)
        Value, sin, _ = _micrograd_ops()
        point = W.wide_point(size)

        def call():
            x = [Value(v) for v in point]
            total = x[0] * sin(x[1])
            for a, b in zip(x[1:], x[2:]):
                total = total + a * sin(b)
            total.backward()
            return [v.grad for v in x]
        return Prepared(call, notes=notes)
    return setup


def w3_torch(size):
    torch = _torch()
    point = W.wide_point(size)

    def call():
        x = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point]
        total = x[0] * torch.sin(x[1])
        for a, b in zip(x[1:], x[2:]):
            total = total + a * torch.sin(b)
        return torch.autograd.grad(total, x)
    return Prepared(call)


def w3_autograd(size):
    from autograd import grad
    import autograd.numpy as anp
    import numpy as np
    x = np.array(W.wide_point(size))

    def f(x):
        total = x[0] * anp.sin(x[1])
        for i in range(1, len(x) - 1):
            total = total + x[i] * anp.sin(x[i + 1])
        return total
    g = grad(f)
    return Prepared(lambda: g(x), notes={"input": "numpy array, indexed element by element"})


def w3_jax_jit_vector(size):
    jax = _jax()
    import jax.numpy as jnp
    x = jnp.array(W.wide_point(size))
    g = jax.jit(jax.grad(lambda x: jnp.sum(x[:-1] * jnp.sin(x[1:]))))
    start = time.perf_counter()
    _ready(g(x))
    return Prepared(lambda: _ready(g(x)), notes={"compile s": time.perf_counter() - start})


# ============================================================================ W4 cases (10^6 points)

def w4_numpy_primal(size):
    import numpy as np
    x1, x2 = W.w4_point(size)
    return Prepared(lambda: W.w4_numpy_f(x1, x2), check=lambda out: (bool(np.all(np.isfinite(out))), "primal only"))


def w4_hand(size):
    x1, x2 = W.w4_point(size)
    return Prepared(lambda: W.w4_hand_gradient(x1, x2))


def w4_adcompare_evaluate(size):
    import numpy as np
    from adcompare.graph import evaluate
    graph, point = W.w1_graph(), W.w4_point(size)
    return Prepared(lambda: evaluate(graph, point)[graph.outputs[0]],
                    check=lambda out: (bool(np.all(np.isfinite(out))), "primal only"))


def w4_reverse_internals(size):
    from adcompare.backends.reverse import adjoint_sweep, forward_pass
    graph, point = W.w1_graph(), W.w4_point(size)

    def call():
        _, partials = forward_pass(graph, point)
        return adjoint_sweep(graph, partials, 0)[0]
    return Prepared(call, notes={"api": "reverse.forward_pass + adjoint_sweep, no Result"})


def w4_forward_internals(size):
    from adcompare.backends.forward import tangent_sweep
    graph, point = W.w1_graph(), W.w4_point(size)
    seeds = [[1.0 if i == j else 0.0 for i in range(graph.n_inputs)] for j in range(graph.n_inputs)]

    def call():
        return [tangent_sweep(graph, point, seed)[0][graph.outputs[0]].tangent for seed in seeds]
    return Prepared(call, notes={"api": "forward.tangent_sweep per input, no Result"})


def w4_autograd(size):
    from autograd import elementwise_grad
    import autograd.numpy as anp
    x1, x2 = W.w4_point(size)
    g = elementwise_grad(lambda a, b: anp.log(a) + a * b - anp.sin(b), (0, 1))
    return Prepared(lambda: g(x1, x2))


def _w4_jax(kind):
    def setup(size):
        jax = _jax()
        import jax.numpy as jnp
        x1, x2 = (jnp.asarray(v) for v in W.w4_point(size))

        def f(a, b):
            return jnp.log(a) + a * b - jnp.sin(b)
        if kind == "vmap":
            g = jax.vmap(jax.grad(f, argnums=(0, 1)))
        elif kind == "sum":
            g = jax.grad(lambda a, b: jnp.sum(f(a, b)), argnums=(0, 1))
        else:
            g = jax.jit(jax.vmap(jax.grad(f, argnums=(0, 1))))
        start = time.perf_counter()
        _ready(g(x1, x2))
        notes = {"compile s": time.perf_counter() - start} if kind == "jit" else {}
        return Prepared(lambda: _ready(g(x1, x2)), notes=notes)
    return setup


def _w4_torch(threads):
    def setup(size):
        torch = _torch(threads)
        a, b = (torch.from_numpy(v) for v in W.w4_point(size))

        def call():
            x1 = a.detach().requires_grad_()
            x2 = b.detach().requires_grad_()
            (torch.log(x1) + x1 * x2 - torch.sin(x2)).sum().backward()
            return (x1.grad, x2.grad)
        return Prepared(call, notes={"torch threads": torch.get_num_threads()})
    return setup


# ============================================================================ the table

PEER_CASES = {
    "W1": [
        Case("hand", "hand-written formula (floor)", w1_hand, kind="reference"),
        Case("codegen-sweep", "the generated sweep of gradient() alone, no wrapper", w1_codegen_sweep, kind="context",
             requires=("adcompare.codegen",)),
        Case("sympy-lambdify", "sympy lambdify(..., 'math') of the derivative", w1_sympy_lambdify, requires=("sympy",)),
        Case("sympy-once", "sympy diff + lambdify, once (cache cleared)", w1_sympy_once, requires=("sympy",),
             kind="context"),
        Case("central", "central differences, plain Python", w1_central, kind="floor"),
        Case("jax-jit", "jax.jit(grad), after compilation", w1_jax_jit, requires=("jax",), first_call_counts=False),
        Case("jax-eager", "jax.grad, eager", w1_jax_eager, requires=("jax",), first_call_counts=False),
        Case("micrograd", "micrograd (+ sin, ln in its style)", w1_micrograd, requires=("micrograd",)),
        Case("torch", "torch, scalar leaves", w1_torch, requires=("torch",), first_call_counts=False),
        Case("autograd", "HIPS autograd", w1_autograd, requires=("autograd",)),
        Case("numdifftools", "numdifftools.Gradient", w1_numdifftools, requires=("numdifftools",)),
    ],
    "W2": [
        Case("primal", "plain-Python primal", w2_primal, kind="context"),
        Case("hand", "hand-written tangent code (floor)", w2_hand, kind="reference"),
        Case("micrograd", "micrograd, default recursion limit", _w2_micrograd(False), requires=("micrograd",)),
        Case("micrograd-deep", "micrograd, recursion limit raised", _w2_micrograd(True), requires=("micrograd",)),
        Case("torch", "torch, scalar leaves", w2_torch, requires=("torch",), first_call_counts=False),
        Case("autograd", "HIPS autograd", w2_autograd, requires=("autograd",)),
        Case("jax-eager", "jax.grad, eager", w2_jax_eager, requires=("jax",), first_call_counts=False,
             max_size=6_000, quick_max_size=60, skip_reason="eager jax at ~250 µs/op: minutes per call"),
        Case("jax-jit-unrolled", "jax.jit(grad), Python loop unrolled", w2_jax_jit_unrolled, requires=("jax",),
             first_call_counts=False, max_size=60,
             skip_reason="not attempted: XLA compile of the unrolled chain takes > 2 min at N = 6,000"),
        Case("jax-jit-loop", "jax.jit(grad), lax.fori_loop (not unrolled)", w2_jax_jit_loop, requires=("jax",),
             first_call_counts=False),
    ],
    "W2S": [
        Case("sympy-diff", "sympy diff of the chain (both variables, cache cleared)", swell_sympy_diff,
             requires=("sympy",), growth=3.0),
        Case("adcompare:symbolic", "adcompare symbolic run_method (its own 5 s budget)", swell_adcompare_symbolic,
             kind="adcompare"),
    ],
    "W3": [
        Case("primal", "plain-Python primal (the denominator)", w3_primal, kind="reference"),
        Case("hand", "hand-written gradient (floor)", w3_hand, kind="floor"),
        Case("central", "central differences, plain Python (2n evaluations)", w3_central, growth=2.0),
        Case("adcompare:evaluate", "adcompare evaluate (interpreted primal only)", w3_adcompare_evaluate,
             kind="context"),
        Case("micrograd", "micrograd, default recursion limit", _w3_micrograd(False), requires=("micrograd",)),
        Case("micrograd-deep", "micrograd, recursion limit raised", _w3_micrograd(True), requires=("micrograd",)),
        Case("torch", "torch, scalar leaves", w3_torch, requires=("torch",), first_call_counts=False),
        Case("autograd", "HIPS autograd (array indexed element by element)", w3_autograd, requires=("autograd",)),
        Case("jax-jit-vector", "jax.jit(grad) of vectorised jnp code (context: not a scalar graph)",
             w3_jax_jit_vector, requires=("jax",), kind="context", first_call_counts=False),
    ],
    "W4": [
        Case("numpy-primal", "numpy evaluating f alone (the denominator)", w4_numpy_primal, kind="reference",
             requires=("numpy",)),
        Case("hand", "hand-written numpy gradient (floor)", w4_hand, kind="floor"),
        Case("adcompare:evaluate", "adcompare evaluate over arrays (primal only, interpreted)", w4_adcompare_evaluate,
             kind="context"),
        Case("adcompare:reverse-internals", "adcompare reverse internals over arrays (forward_pass + adjoint_sweep)",
             w4_reverse_internals, kind="adcompare"),
        Case("adcompare:forward-internals", "adcompare forward internals over arrays (tangent_sweep × n)",
             w4_forward_internals, kind="adcompare"),
        Case("autograd", "HIPS autograd elementwise_grad", w4_autograd, requires=("autograd",)),
        Case("jax-vmap", "jax vmap(grad), eager", _w4_jax("vmap"), requires=("jax",), first_call_counts=False),
        Case("jax-sum", "jax grad(sum f), eager", _w4_jax("sum"), requires=("jax",), first_call_counts=False),
        Case("jax-jit", "jax.jit(vmap(grad)), after compilation", _w4_jax("jit"), requires=("jax",),
             first_call_counts=False),
        Case("torch", "torch .sum().backward(), default threads", _w4_torch(None), requires=("torch",),
             first_call_counts=False),
        Case("torch-1", "torch .sum().backward(), 1 thread", _w4_torch(1), requires=("torch",),
             first_call_counts=False),
    ],
}


def cases(workload):
    """All cases of a workload, in table order: references and floors, adcompare's variants, peers."""
    peers = PEER_CASES[workload]
    if workload == "W2S":
        return list(peers)
    head = [c for c in peers if c.kind in ("reference", "floor")]
    rest = [c for c in peers if c.kind not in ("reference", "floor")]
    return head + variant_cases(workload) + rest


def find_case(workload, key):
    for case in cases(workload):
        if case.key == key:
            return case
    raise KeyError(f"{workload} has no case {key!r}")


# ============================================================================ checking answers

def reference_gradient(workload, size):
    if workload == "W1":
        return W.w1_hand_gradient(*W.W1_POINT)
    if workload in ("W2", "W2S"):
        return W.chain_hand_gradient(*W.W2_POINT, W.chain_steps(size))
    if workload == "W3":
        return W.wide_hand_gradient(list(W.wide_point(size)))
    return W.w4_hand_gradient(*W.w4_point(size))


def _to_numpy(value):
    import numpy as np
    if hasattr(value, "detach"):                       # torch
        return value.detach().cpu().numpy().astype(float)
    try:
        return np.asarray(value, dtype=float)          # floats, numpy and jax arrays
    except (TypeError, ValueError):
        return np.asarray(float(value))                # mpmath / sympy numbers


def compare(result, reference, rtol=1e-6, atol=1e-9):
    import numpy as np
    try:
        got = [_to_numpy(v) for v in result]
    except Exception as error:   # noqa: BLE001
        return False, f"cannot read the answer: {type(error).__name__}: {error}"
    if len(got) != len(reference):
        return False, f"{len(got)} components, expected {len(reference)}"
    worst = 0.0
    for g, r in zip(got, reference):
        r = np.asarray(r, dtype=float)
        if g.shape != r.shape and g.size != r.size:
            return False, f"shape {g.shape}, expected {r.shape}"
        g = g.reshape(r.shape)
        if not np.all(np.isfinite(g)):
            return False, "non-finite gradient"
        error = np.abs(g - r) / (atol + rtol * np.abs(r))
        worst = max(worst, float(np.max(error)) if error.size else 0.0)
    return worst <= 1.0, f"max error {worst:.2g} × tolerance (rtol {rtol:g})"


# ============================================================================ the timer (child side)

def _time_calls(prepared, number):
    call, before = prepared.call, prepared.before
    if before is not None:
        before()
    start = time.perf_counter()
    for _ in range(number):
        call()
    return (time.perf_counter() - start) / number


def run_case(spec):
    """Set up and time one case; returns the result dictionary."""
    workload, size = spec["workload"], spec.get("size")
    repeats, target, budget = spec["repeats"], spec["target_s"], spec["budget_s"]
    case = find_case(workload, spec["case"])
    result = {"workload": workload, "case": case.key, "size": size, "ok": False}
    for module in case.requires:
        try:
            __import__(module)
        except ImportError as error:
            result.update(status="unavailable", error=f"{module} not importable: {error}")
            return result
    phase = "setup"
    try:
        start = time.perf_counter()
        prepared = case.setup(size)
        result["setup_s"] = time.perf_counter() - start
        phase = "first call"
        if prepared.before is not None:
            prepared.before()
        start = time.perf_counter()
        out = prepared.call()
        first = time.perf_counter() - start
        result["first_call_s"] = first
        checker = prepared.check or (lambda out: compare(out, reference_gradient(workload, size)))
        result["check_ok"], result["check"] = checker(out)
        del out
        phase = "timing"
        times = []
        number = 1
        per_call = first
        if prepared.before is None and first < target:
            # Short calls: `number` calls per repeat, enough to take about target_s (as timeit's autorange).
            while True:
                per_call = _time_calls(prepared, number)
                if per_call * number >= target / 5 or number >= 10 ** 7:
                    break
                number *= 10
            number = max(1, round(target / max(per_call, 1e-12)))
        elif case.first_call_counts and first >= 1.0:
            times.append(first)        # slow and not JIT-compiled: the first call is as good as any
            result["first call kept"] = True
        per_repeat = max(per_call, 1e-12) * number
        wanted = min(repeats, max(1, int(budget / per_repeat)))
        while len(times) < wanted:
            times.append(_time_calls(prepared, number))
            gc.collect()
        result.update(ok=True, status="ok", per_call_s=statistics.median(times), times=times, number=number,
                      repeats=len(times), notes=prepared.notes)
    except BaseException as error:   # noqa: BLE001  record what happens (RecursionError, MemoryError, ...)
        text = f"{type(error).__name__}: {error}".strip()
        result.update(status="error", phase=phase, error=text[:300],
                      traceback=traceback.format_exc(limit=4)[-1500:])
    return result


def main(argv):
    spec = json.loads(argv[1])
    result = run_case(spec)
    sys.stdout.write("\nRESULT " + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()
    # Skip interpreter teardown: freeing a deep autodiff graph is not part of any measurement.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)

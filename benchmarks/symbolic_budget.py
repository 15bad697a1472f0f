"""How long the symbolic method takes against its predicted size: the calibration of the
symbolic budget (`adcompare.backends.symbolic.DEFAULT_BUDGET`).

Run:  python benchmarks/symbolic_budget.py [largest predicted size to run, default 2e6]

For each case: the predicted sizes (`predicted_size`, a pass over the Graph: sympy's
expression tree unfolded, a chain-rule bound on its derivatives' trees), the sizes sympy's
trees really reached, and the seconds the symbolic method took at one point, with the
budget lifted (cases predicted beyond the argument are not run). Timings depend on the
machine and its load (printed); the budget does not: it is compared with the predicted size.
"""

import os
import sys
import time
from pathlib import Path

import numpy as np

from adcompare.backends import symbolic
from adcompare.graph import Graph, Node
from adcompare.parse import parse
from adcompare.tracing import trace_function

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from strategies import swelling_chain  # noqa: E402


def softmax_cross_entropy(rows, columns):
    """Mean cross-entropy of softmax(X·W) against fixed labels, traced (W is rows × columns)."""
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3, rows))
    labels = rng.integers(0, columns, 3)

    def loss(W):
        z = data @ W
        z = z - z.max(axis=1, keepdims=True) if False else z
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        return -np.mean(np.log(p[np.arange(3), labels]))

    traced = trace_function(loss, rng.standard_normal((rows, columns)))
    return traced.graph, traced.point


def expression(text, point):
    return parse(text), point


def cases():
    yield "Baydin's f", expression("ln(x1)+x1*x2-sin(x2)", (2.0, 5.0))
    for k in (2, 4, 6, 8, 10):
        yield f"swelling chain, {k} steps", (swelling_chain(k), (0.5, 0.5))
    for op in ("sin", "tanh"):
        for depth in (25, 50, 100):
            yield f"nest of {depth} {op}", (Graph(("x",), tuple(Node(op, (k,)) for k in range(depth)), (depth,)), (0.7,))
    for shape in ((2, 2), (3, 3), (5, 4), (8, 6)):
        yield f"softmax cross-entropy, W {shape[0]}×{shape[1]}", softmax_cross_entropy(*shape)
    yield "sigmoid of a sum of 40 products", expression(
        "sigmoid(" + "+".join(f"x{i}*x{i + 1}" for i in range(1, 40)) + ")", tuple(0.1 * i for i in range(1, 41)))
    yield "nested: 12 × tanh(x·y + ·)", expression("tanh(" * 12 + "x*y" + "+x)" * 12, (0.3, 0.7))


def main(largest=2e6):
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} on {os.cpu_count()} cores; "
          f"default budget {symbolic.DEFAULT_BUDGET:,}")
    print(f"{'case':42} {'ops':>6} {'vars':>5} {'predicted':>12} {'sympy':>10} {'seconds':>8} {'µs/node':>8}")
    for name, (graph, point) in cases():
        size = symbolic.predicted_size(graph)
        if size.total > largest:
            print(f"{name:42} {size.operations:6,} {graph.n_inputs:5} {size.total:12,} {'':>10} {'not run':>8}")
            continue
        start = time.perf_counter()
        result = symbolic.run(graph, point, budget=10 ** 18, time_limit=300)
        seconds = time.perf_counter() - start
        sizes = result.details.get("sizes", {})
        actual = sizes.get("expression", 0) + sizes.get("derivatives", 0)
        status = "" if result.error is None else f"  ({result.error_kind}: {result.error[:60]})"
        print(f"{name:42} {size.operations:6,} {graph.n_inputs:5} {size.total:12,} {actual:10,} {seconds:8.2f} "
              f"{1e6 * seconds / size.total:8.1f}{status}")


if __name__ == "__main__":
    main(*(float(a) for a in sys.argv[1:]))

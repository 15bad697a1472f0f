"""One parametrised test over the operation table: all four back ends agree at random
in-domain points, for every operation; and every entry has every field.

Adding an operation to adcompare.ops means adding one row to SAMPLERS below; the
completeness test fails until it is there.
"""

import re

import numpy as np
import pytest
import sympy

from adcompare.backends import METHODS, run_method
from adcompare.compare import compare
from adcompare.graph import Graph, Node, evaluate
from adcompare.ops import DIVIDE, MINUS_ONE, ONE, OPERATIONS, TIMES, Notation


def _uniform(low, high):
    return lambda rng: rng.uniform(low, high)


def _away_from_zero(rng):
    return rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 3.0)


ANY = _uniform(-3.0, 3.0)

# One sampler per argument, each drawing a point inside the domain and away from kinks.
SAMPLERS = {
    "add": (ANY, ANY), "sub": (ANY, ANY), "mul": (ANY, ANY),
    "div": (ANY, _away_from_zero), "neg": (ANY,),
    "pow": (_uniform(0.2, 3.0), _uniform(-2.0, 3.0)),
    "exp": (ANY,), "ln": (_uniform(0.05, 5.0),),
    "log": (_uniform(0.05, 5.0), _uniform(1.5, 6.0)),
    "sqrt": (_uniform(0.05, 5.0),),
    "sin": (ANY,), "cos": (ANY,), "tan": (_uniform(-1.3, 1.3),),
    "asin": (_uniform(-0.95, 0.95),), "acos": (_uniform(-0.95, 0.95),), "atan": (ANY,),
    "sinh": (ANY,), "cosh": (ANY,), "tanh": (ANY,),
    "sigmoid": (_uniform(-6.0, 6.0),), "relu": (_away_from_zero,), "softplus": (_uniform(-6.0, 6.0),),
    "abs": (_away_from_zero,),
    "max": (ANY, ANY), "min": (ANY, ANY),
    "identity": (ANY,),
}

POINTS_PER_OPERATION = 6


def single_operation_graph(name):
    """y = op(a, b, …) with one variable per argument."""
    arity = OPERATIONS[name].arity
    variables = tuple(f"a{i}" for i in range(arity))
    return Graph(variables, (Node(name, tuple(range(arity))),), (arity,))


def composite_graph(name):
    """y = op(a0·a0 / a0, a1, …): the same function through a chain of nodes, with fan-out
    from a0, so the chain rule and adjoint accumulation are exercised on every operation."""
    arity = OPERATIONS[name].arity
    variables = tuple(f"a{i}" for i in range(arity))
    square, same = arity, arity + 1
    nodes = (Node("mul", (0, 0)), Node("div", (square, 0)), Node(name, (same,) + tuple(range(1, arity))))
    return Graph(variables, nodes, (arity + 2,))


def sample_points(name):
    rng = np.random.default_rng(sum(map(ord, name)))   # seeded per operation: reproducible
    points = []
    while len(points) < POINTS_PER_OPERATION:
        point = tuple(float(draw(rng)) for draw in SAMPLERS[name])
        if name in ("max", "min") and abs(point[0] - point[1]) < 0.1:
            continue   # keep away from the tie, where max and min have a kink
        points.append(point)
    return points


def test_every_operation_has_a_sampler():
    assert set(SAMPLERS) == set(OPERATIONS)
    for name, samplers in SAMPLERS.items():
        assert len(samplers) == OPERATIONS[name].arity, name


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_operation_entry_is_complete(name):
    op = OPERATIONS[name]
    assert op.name == name
    assert callable(op.evaluate) and callable(op.to_sympy)
    assert op.arity >= 1
    placeholders = {f"${i}" for i in range(op.arity)}
    assert isinstance(op.notation, Notation)
    for template in (op.notation.text, op.notation.latex):
        used = set(re.findall(r"\$\d", template))
        assert used == placeholders, (name, template)
    for partial in op.partials:
        assert callable(partial.value)
        assert partial.kind in (ONE, MINUS_ONE, TIMES, DIVIDE)
        if partial.kind in (TIMES, DIVIDE):
            assert isinstance(partial.notation, Notation)
            for template in (partial.notation.text, partial.notation.latex):
                assert set(re.findall(r"\$\d", template)) <= placeholders, (name, template)
    if op.domain is not None:
        assert op.domain_text
    if op.kink_side is not None:
        assert op.kink_text and not op.analytic
    if op.pole_side is not None:
        assert op.pole_text
    assert op.internal or op.parser_names, f"{name} cannot be written by users"
    symbols = sympy.symbols(f"a0:{op.arity}", real=True)
    assert isinstance(op.to_sympy(*symbols), sympy.Expr)


@pytest.mark.parametrize("shape", ["single", "composite"])
@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_four_back_ends_agree_on_every_operation(name, shape):
    graph = single_operation_graph(name) if shape == "single" else composite_graph(name)
    for point in sample_points(name):
        results = {m: run_method(m, graph, point) for m in METHODS}
        comparison = compare(results)
        assert comparison.reference == "symbolic"
        assert comparison.agree, (name, point, [(c.method, c.value, c.rel_error)
                                                for e in comparison.entries for c in e.checks])
        # The two AD modes accumulate the same partials: they agree to rounding.
        np.testing.assert_allclose(results["forward"].jacobian, results["reverse"].jacobian,
                                   rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_evaluation_works_on_arrays(name):
    # One evaluation over many points: the Graph is not tied to scalars.
    graph = single_operation_graph(name)
    points = sample_points(name)
    columns = tuple(np.array(column) for column in zip(*points))
    many = evaluate(graph, columns)[graph.outputs[0]]
    one_by_one = [evaluate(graph, p)[graph.outputs[0]] for p in points]
    np.testing.assert_array_equal(many, one_by_one)

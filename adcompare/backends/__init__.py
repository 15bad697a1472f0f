"""The four back ends. Each consumes a Graph and a point and returns a `Result`.

A point is one value per variable: floats, or numpy arrays of one common shape S (many
points at once, evaluated by numpy in one pass over the Graph). With arrays, the
Jacobian has shape (m, n, *S), the values are arrays of shape S, and no traces are
recorded (nobody prints a trace of 10⁶ points).

They stay independent where it matters: finite differences call only primal
evaluation; the symbolic back end differentiates sympy's rendering of the Graph with
sympy's own rules and never reads the operation table's partials; forward and reverse
mode accumulate the same local partials in opposite orders.
"""

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..graph import broadcast_point, naming_points


@dataclass(frozen=True)
class Cost:
    """What a method spent: whole primal evaluations of f, derivative sweeps, elementary operations.

    ``operations`` counts operation evaluations, local-partial evaluations and
    multiply-accumulates (for the symbolic method: sympy's ``count_ops`` of the derivatives).
    """

    primal_evaluations: int
    sweeps: int
    operations: int


@dataclass(frozen=True)
class Result:
    """A back end's answer: output values, the Jacobian (m × n, or m × n × S over points of
    shape S), its traces and cost (per call, however many points).

    ``error`` is set, and ``jacobian`` is None, when the method could not produce a
    derivative at this point (the message says why); ``error_kind`` classifies it:
    'domain' (a stencil leaves the domain), 'overflow', 'not analytic' (complex step),
    'undefined' (no finite real value), 'unresolved' (a value that could not be
    established) or 'skipped' (not run, by policy: the symbolic budget; the cross-check
    counts it as not run, not as failed).
    """

    method: str
    value: tuple
    jacobian: Optional[np.ndarray]
    cost: Cost
    sweeps: tuple = ()
    details: dict = field(default_factory=dict)
    error: Optional[str] = None
    error_kind: Optional[str] = None


def output_values(graph, values):
    """The output values from a full list of slot values."""
    return tuple(values[slot] for slot in graph.outputs)


def _registry():
    from . import finite_difference, forward, reverse, symbolic
    return {"finite_difference": finite_difference.run, "symbolic": symbolic.run,
            "forward": forward.run, "reverse": reverse.run}


METHODS = ("finite_difference", "symbolic", "forward", "reverse")
METHOD_TITLES = {"finite_difference": "finite differences", "symbolic": "symbolic (sympy)",
                 "forward": "forward mode", "reverse": "reverse mode",
                 "one_sided": "the one-sided derivatives", "numerical": "numerical (high precision)"}
"""How each method (and the one-sided analysis of `adcompare.nonsmooth` and the numerical
derivative of `adcompare.reference`, references but not back ends) is named in every output."""


PER_VARIABLE_BUDGET = 10_000_000
"""The most work a trace gives the methods that pay once per variable (forward mode: one
tangent sweep per input; finite differences: a step search per input over points of n
coordinates), counted as n × the Graph's slots (inputs and operations). Over it they are
skipped, as the symbolic method is over its budget, so that every expression the parser
accepts is traced in time and memory linear in its size: reverse mode, which needs one
sweep whatever n, runs at every size."""


def skipped_for_size(name, graph, budget=None, **options):
    """A Result ``error_kind`` 'skipped' when method ``name`` pays once per variable and
    n × slots is over ``budget`` (the cross-check then counts it as not run); else None.
    ``options`` are the method's own (finite differences' ``method``), kept in its details.

        >>> from adcompare.parse import parse
        >>> skipped_for_size("forward", parse("+".join(f"x{i}" for i in range(4000)))).error[:40]
        'skipped: 4,000 variables × 7,999 slots ='
    """
    if name not in ("forward", "finite_difference"):
        return None
    budget = PER_VARIABLE_BUDGET if budget is None else budget
    work = graph.n_inputs * graph.size
    if work <= budget:
        return None
    why = "one tangent sweep per variable" if name == "forward" else "a step search per variable"
    return Result(name, tuple(None for _ in graph.outputs), None, Cost(0, 0, 0),
                  error=f"skipped: {graph.n_inputs:,} variables × {graph.size:,} slots = {work:,}, over the "
                        f"budget of {budget:,} for a method that needs {why}; reverse mode needs one sweep",
                  error_kind="skipped", details=dict(options))


def run_method(name, graph, point, **options):
    """Run one back end by name (one of METHODS) on ``graph`` at ``point``.

    ``point`` holds floats, or numpy arrays (scalars among them are repeated to the arrays'
    common shape); a DomainError at one of many points names that point.

        >>> from adcompare.parse import parse
        >>> run_method("reverse", parse("x*y"), (np.array([1.0, 2.0]), 3.0)).jacobian.tolist()
        [[[3.0, 3.0], [1.0, 2.0]]]
    """
    point = broadcast_point(point)
    with naming_points(graph, point):
        return _registry()[name](graph, point, **options)

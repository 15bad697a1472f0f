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
    'too large' (symbolic expression swell) or 'undefined' (no finite real value).
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
                 "one_sided": "the one-sided derivatives"}
"""How each method (and the one-sided analysis of `adcompare.nonsmooth`, a reference but
not a back end) is named in every output."""


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

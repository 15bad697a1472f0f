"""Studies that measure a method rather than use it. The finite-difference step study:
the error of forward and central differences against the symbolic reference as the
step shrinks from 1e-1 to 1e-15 — truncation error falling (O(h) and O(h²)) until
round-off error (O(ε/h)) takes over, the classic V on a log-log plot.

    >>> from adcompare.parse import parse
    >>> study = step_study(parse("exp(x)"), (1.0,), variable=0)
    >>> study.best("central").step > study.best("forward").step   # central tolerates larger steps
    True
"""

from dataclasses import dataclass

import mpmath

from .backends import run_method
from .backends.finite_difference import step_study as difference_estimates

STEPS = tuple(10.0 ** -k for k in range(1, 16))


@dataclass(frozen=True)
class StepRow:
    """One step size: the estimates of both schemes and their errors against the reference."""

    step: float
    forward: object
    central: object
    forward_error: object
    central_error: object


@dataclass(frozen=True)
class StepStudy:
    """The rows of a step study, the reference value and where it came from."""

    variable: int
    output: int
    reference: object
    reference_method: str
    rows: tuple

    def best(self, scheme):
        """The row with the smallest error for 'forward' or 'central'."""
        candidates = [r for r in self.rows if getattr(r, f"{scheme}_error") is not None]
        return min(candidates, key=lambda r: getattr(r, f"{scheme}_error"))


def step_study(graph, point, variable, output=0, steps=STEPS):
    """Forward and central difference errors for ∂y_output/∂x_variable at each step."""
    symbolic = run_method("symbolic", graph, point)
    if symbolic.error is None:
        reference, method = symbolic.jacobian[output, variable], "symbolic"
    else:
        reference, method = run_method("reverse", graph, point).jacobian[output, variable], "reverse"
    rows = []
    with mpmath.workdps(40):
        expected = mpmath.mpf(reference)
        for h, forward, central in difference_estimates(graph, point, variable, output, steps):
            errors = [None if e is None else float(abs(mpmath.mpf(e) - expected)) for e in (forward, central)]
            rows.append(StepRow(h, forward, central, *errors))
    return StepStudy(variable, output, reference, method, tuple(rows))

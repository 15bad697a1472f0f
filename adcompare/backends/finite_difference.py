"""Finite differences: derivatives from primal evaluations alone.

Methods (the step hᵢ is scaled to the point, hᵢ = ε^p·max(1, |xᵢ|), and rounded so that
xᵢ + hᵢ − xᵢ = hᵢ exactly):

- ``central`` (default, p = 1/3): (f(x + h) − f(x − h)) / 2h, error O(h²) + O(ε/h);
- ``forward`` (p = 1/2): (f(x + h) − f(x)) / h, error O(h) + O(ε/h);
- ``richardson`` (p = 1/5): central differences at 4h, 2h and h combined by Richardson
  extrapolation to remove the h² and h⁴ error terms, error O(h⁶) + O(ε/h);
- ``complex-step`` (h = 1e-20·|x|, 1e-20 at x = 0): Im f(x + ih) / h, no subtraction and so no
  cancellation: exact to rounding for functions that are complex-analytic. It refuses
  graphs with ``abs``, ``relu``, ``max`` or ``min``.

Each entry comes with an error estimate (the difference between estimates at h and 2h,
plus the round-off bound ε·|f|/h). When a stencil point falls outside the domain (ln(x)
at 1e-9), or the stencil straddles a kink or a pole (abs(x) at 1e-8, 1/x at 1e-130), the
derivative is taken with a
one-sided second-order stencil on the point's side, with the step among h·10⁻ᵏ whose
error estimate is smallest, and the result says so.
This back end calls nothing but `adcompare.graph.evaluate` (and, over many points,
`adcompare.graph.evaluate_where_defined`).

Over many points (numpy arrays, see `adcompare.backends`) every stencil is evaluated
over all points at once, with per-point steps and error estimates. The points where the
method's stencil is not usable — a stencil point leaves the domain, straddles a kink or
a pole, shows a jump in slope, the quotients converge too slowly, or the point is at a
kink — are recomputed one by one by
the single-point path above; ``details["fallback_points"]`` counts them.

    >>> from adcompare.parse import parse
    >>> result = run(parse("x^3"), (2.0,))
    >>> abs(float(result.jacobian[0, 0]) - 12.0) < 1e-8
    True
"""

from dataclasses import dataclass

import numpy as np

from ..errors import DomainError
from ..graph import evaluate, evaluate_where_defined, kink_mask, point_shape, point_text, singular_sides
from ..ops import OPERATIONS
from . import Cost, Result, output_values

EPS = np.finfo(float).eps
# Richardson's error is O(h⁶) + O(ε/h), optimal near ε^(1/7); ε^(1/5) keeps 4h further
# from nearby singularities at a cost of ~1e-12 in round-off (see benchmarks/fd_accuracy.py).
STEP_EXPONENTS = {"central": 1.0 / 3.0, "forward": 1.0 / 2.0, "richardson": 1.0 / 5.0}
COMPLEX_STEP = 1e-20
EDGE_SEARCH_DECADES = 17
FD_METHODS = ("central", "forward", "richardson", "complex-step")


@dataclass(frozen=True)
class DifferenceRow:
    """One column of the Jacobian by differences: variable j, the step, f at x ± h, the
    estimate, its error estimate, and how the stencil was chosen."""

    variable: int
    step: float
    plus: tuple
    minus: tuple
    estimate: tuple
    error_estimate: tuple
    stencil: str
    fallback: object = None   # why the method's own stencil was not used: 'domain', 'kink', 'pole', 'jump', 'slow'


def step_size(x, method="central", scale=None):
    """The step for one component, scaled to ``scale`` (default max(1, |x|)), exactly
    representable from x (elementwise when x is an array of points)."""
    if scale is None:
        scale = max(1.0, abs(x)) if np.ndim(x) == 0 else np.maximum(1.0, np.abs(x))
    if method == "complex-step":
        # No subtraction, so the step may be as small as we like: far below |x| (at x = 1e-20
        # a step of 1e-20 would be as large as x), but a normal float, not a subnormal one.
        return np.where(x == 0, COMPLEX_STEP, np.maximum(COMPLEX_STEP * np.abs(x), 1e-290))[()]
    h = EPS ** STEP_EXPONENTS[method] * scale
    return (x + h) - x


def primal_function(graph):
    """The outputs of ``graph`` as a function of a point: the only way this module evaluates f."""
    def f(x):
        return np.array(output_values(graph, evaluate(graph, x)))
    return f


class _Counted:
    """f, counting evaluations and noting, for each, which side of every kink and pole it is on."""

    def __init__(self, graph):
        self.graph, self.calls, self.sides = graph, 0, []

    def __call__(self, x):
        self.calls += 1
        values = evaluate(self.graph, x)
        self.sides.append(tuple((slot, kind, tuple(np.ravel(np.real(side))))
                                for slot, kind, side in singular_sides(self.graph, values)))
        return np.array(output_values(self.graph, values))

    def at(self, point, j, offset):
        """f at ``point`` with component j moved by ``offset``."""
        shifted = list(point)
        shifted[j] = point[j] + offset
        return self(shifted)

    def crossed_since(self, start, center_sides):
        """The kind ('kink' or 'pole') of the first singular point that an evaluation recorded
        since position ``start`` of ``sides`` lies across from the center, or None."""
        for sides in self.sides[start:]:
            for here, there in zip(center_sides, sides):
                if here != there:
                    return here[1]
        return None


def difference_quotient(f, point, j, h, method="central", center=None):
    """The plain difference quotient in component j with step h: (estimate, f(x + h), f(x − h) or f(x))."""
    shifted = list(point)
    shifted[j] = point[j] + h
    plus = f(shifted)
    if method == "central":
        shifted[j] = point[j] - h
        minus = f(shifted)
        return (plus - minus) / (2.0 * h), plus, minus
    minus = f(point) if center is None else center
    return (plus - minus) / h, plus, minus


def _roundoff(values, h):
    return EPS * np.maximum(np.abs(values), 1.0) / h


# Each stencil returns (estimate, f(x + h), f(x − h) or f(x), error estimate, evaluations
# for the derivative, further evaluations for the error estimate, whether the quotients
# converge too slowly as h shrinks for the step to resolve f: a bool, or a mask over points).

def _truncation_error(d1, d2, d4, rate, roundoff):
    """(error estimate, slow): |d1 − f′| estimated from the quotients d1, d2, d4 at steps h,
    2h, 4h of a method whose error shrinks by ``rate`` when h halves (4 for central, 2 for
    forward differences), |d1 − d2| / (rate − 1); and, per point, whether the quotients, far
    above round-off, converge much more slowly than that — a singular derivative inside
    the stencil ((x²)^x at 1e-6: they move by the same amount each time h halves). There
    the estimate is the tail of the ratio actually seen (∞ when they do not converge)."""
    step, next_step = np.abs(d1 - d2), np.abs(d2 - d4)
    with np.errstate(all="ignore"):
        ratio = np.where(step > 0, next_step / step, np.inf)
        slow = (ratio < rate / 2) & (next_step > 100 * roundoff)
        tail = np.where(ratio > 1, step / (ratio - 1), np.inf)
    error = np.where(slow, tail, step / (rate - 1))
    return (error[()], np.any(slow, axis=0)) if isinstance(error, np.ndarray) else (error, slow)


def _central(f, point, j, h, center):
    d1, plus, minus = difference_quotient(f, point, j, h, "central")
    d2, d4 = ((f.at(point, j, k * h) - f.at(point, j, -k * h)) / (2.0 * k * h) for k in (2, 4))
    roundoff = _roundoff(center, h)
    error, slow = _truncation_error(d1, d2, d4, 4.0, roundoff)
    return d1, plus, minus, error + roundoff, 2, 4, slow


def _forward(f, point, j, h, center):
    d1, plus, _ = difference_quotient(f, point, j, h, "forward", center)
    d2, d4 = ((f.at(point, j, k * h) - center) / (k * h) for k in (2, 4))
    roundoff = _roundoff(center, h)
    error, slow = _truncation_error(d1, d2, d4, 2.0, roundoff)
    return d1, plus, center, error + roundoff, 1, 2, slow


def _richardson(f, point, j, h, center):
    # Central differences at h, 2h, 4h; each level of the tableau removes one even power
    # of h, and the last two levels give the error estimate for free.
    plus, minus = f.at(point, j, h), f.at(point, j, -h)
    d = [(plus - minus) / (2 * h)]
    for k in (2, 4):
        d.append((f.at(point, j, k * h) - f.at(point, j, -k * h)) / (2 * k * h))
    r1 = [(4 * d[i] - d[i + 1]) / 3 for i in (0, 1)]
    r2 = (16 * r1[0] - r1[1]) / 15
    roundoff = _roundoff(center, h)
    _, slow = _truncation_error(*d, 4.0, roundoff)   # the tableau means nothing unless they converge as h²
    return r2, plus, minus, np.abs(r2 - r1[0]) + roundoff, 6, 0, slow


def _complex_step(f, point, j, h, center):
    plus = f.at(point, j, 1j * h)
    estimate = plus.imag / h
    # No subtraction, so no cancellation: what is left is the rounding of f itself.
    return estimate, plus.real, center, EPS * np.maximum(np.abs(estimate), 1.0), 1, 0, False


def _one_sided(f, point, j, h, center, side):
    """Second-order one-sided stencil: (−3f(x) + 4f(x + sh) − f(x + 2sh)) / 2sh, s = ±1,
    and the same with 2h for its error estimate."""
    near, far, farther = (f.at(point, j, k * side * h) for k in (1, 2, 4))
    d1 = (-3 * center + 4 * near - far) / (2 * side * h)
    d2 = (-3 * center + 4 * far - farther) / (4 * side * h)
    return d1, near, center, np.abs(d1 - d2) / 3.0 + _roundoff(center, h), 2, 1, False


STENCILS = {"central": _central, "forward": _forward, "richardson": _richardson, "complex-step": _complex_step}

NOT_ANALYTIC = tuple(name for name, op in OPERATIONS.items() if not op.analytic)


class _Straddles(Exception):
    """A stencil straddles a kink (abs, relu, max, min), a pole (div, tan, …) or a jump in
    slope hidden in smooth operations, or its quotients converge too slowly as h shrinks:
    its quotient means nothing. ``args[0]`` is 'kink', 'pole', 'jump' or 'slow'."""


def _inside(stencil, f, point, j, h, center, center_sides):
    """A stencil's result, refusing one whose points leave the domain or straddle a kink or pole."""
    start = len(f.sides)   # evaluations that raised recorded no sides, so count those recorded
    result = stencil(f, point, j, h, center)
    crossed = f.crossed_since(start, center_sides)
    if crossed is not None:
        raise _Straddles(crossed)
    return result


def _slope_jump_mask(result, center, h, x):
    """Per point, whether the slopes left and right of x differ within the stencil by far
    more than a smooth function allows: a kink hidden in smooth operations (√(x²) = |x| at
    1e-12), which no operation's kink test can see. The jump |f(x+h) − 2f(x) + f(x−h)| / h
    is |f″|·h for a smooth f; it is compared with the derivative and the scale of f."""
    estimate, plus, minus = result[0], result[1], result[2]
    jump = np.abs(plus - 2 * center + minus) / h
    scale = np.maximum(np.abs(estimate), np.maximum(1.0, np.abs(center)) / np.maximum(1.0, np.abs(x)))
    return np.any(jump >= 0.1 * scale, axis=0)


def _slope_jumps(result, center, h, x):
    """Whether `_slope_jump_mask` finds a jump (at one point)."""
    return bool(np.any(_slope_jump_mask(result, center, h, x)))


def _column(f, point, j, method, center, center_sides, variable_name):
    """One Jacobian column: a stencil's results (see STENCILS), the step, a description of
    the stencil (the method's name, or why another was used) and the fallback reason."""
    h = step_size(point[j], method)
    at_kink = any(kind == "kink" and 0 in side for _, kind, side in center_sides)
    try:
        if at_kink or method == "complex-step":
            return (*STENCILS[method](f, point, j, h, center), h, method, None)
        result = _inside(STENCILS[method], f, point, j, h, center, center_sides)
        if method in ("central", "richardson") and _slope_jumps(result, center, h, point[j]):
            raise _Straddles("jump")
        if np.any(result[6]):
            raise _Straddles("slow")
        return (*result, h, method, None)
    except DomainError as error:
        if method == "complex-step":
            raise
        reason, fallback = f"leaves the domain ({error})", "domain"
        refusal = error
    except _Straddles as crossing:
        fallback = crossing.args[0]
        reason = {"kink": "straddles a kink", "pole": "straddles a pole",
                  "jump": "straddles a jump in slope (a kink inside smooth operations, as √(x²) at 0)",
                  "slow": "gives quotients that converge too slowly as the step shrinks (the function "
                          "changes faster than the step resolves)"}[fallback]
        refusal = None
    # Near a domain edge or a kink the distance to it sets the scale, and it is not known:
    # try one-sided stencils that stay on this side, with steps h·10⁻ᵏ, and keep the one
    # whose own error estimate is smallest.
    h = step_size(point[j], "central")
    best = None
    spent = 0
    for k in range(EDGE_SEARCH_DECADES):
        step = (point[j] + h * 10.0 ** -k) - point[j]
        if step == 0:
            break
        for side, name in ((1, "forward"), (-1, "backward")):
            try:
                result = _inside(lambda *a: _one_sided(*a, side), f, point, j, step, center, center_sides)
            except (DomainError, _Straddles):
                continue
            spent += result[4] + result[5]
            if best is None or np.max(result[3]) < np.max(best[0][3]):
                best = (result, step, name)
    if best is None:
        if refusal is not None:
            raise refusal
        return (*STENCILS[method](f, point, j, h, center), h, f"{method} (its stencil {reason})", fallback)
    (estimate, near, _, error, used, _, _), step, name = best
    note = (f"one-sided ({name}) second-order stencil with h = {step:.3g}, the step of smallest "
            f"error estimate: the {method} stencil in {variable_name} {reason}")
    return estimate, near, center, error, used, spent - used, False, step, note, fallback


def run(graph, point, method="central"):
    """Finite-difference Jacobian of ``graph`` at ``point`` with ``method`` (see the module doc).

    The cost counts the evaluations that make the derivative (central: 2n + 1, with f(x));
    those spent on the error estimates are in ``details["estimate_evaluations"]``.
    """
    if method not in STENCILS:
        raise ValueError(f"unknown finite-difference method {method!r} (one of {', '.join(FD_METHODS)})")
    if point_shape(point) is not None:
        return _run_points(graph, point, method)
    n, m = graph.n_inputs, len(graph.outputs)
    f = _Counted(graph)
    center = f(point)
    center_sides = f.sides[0]
    details = {"method": method}
    refusal = _complex_step_refusal(graph, method, center, details)
    if refusal is not None:
        return refusal
    jacobian = np.zeros((m, n))
    errors = np.zeros((m, n))
    rows = []
    derivative_evaluations, estimate_evaluations = 1, 0   # f(x) first
    for j in range(n):
        try:
            estimate, plus, minus, error, used, checking, _, h, stencil, fallback = _column(
                f, point, j, method, center, center_sides, graph.variables[j])
        except DomainError as error:
            return Result("finite_difference", tuple(center), None,
                          Cost(f.calls, 0, f.calls * len(graph.nodes)), details=details,
                          error=f"no stencil in {graph.variables[j]} stays inside the domain ({error})",
                          error_kind=error.kind if error.kind == "overflow" else "domain")
        derivative_evaluations += used
        estimate_evaluations += checking
        jacobian[:, j] = estimate
        errors[:, j] = error
        rows.append(DifferenceRow(j, h, tuple(plus), tuple(minus), tuple(estimate), tuple(error), stencil,
                                  fallback))
    details.update(steps=tuple(r.step for r in rows), rows=tuple(rows), error_estimate=errors,
                   notes=tuple(r.stencil for r in rows if r.stencil != method),
                   estimate_evaluations=estimate_evaluations)
    return Result("finite_difference", tuple(np.real(center)), jacobian,
                  Cost(derivative_evaluations, 0, derivative_evaluations * len(graph.nodes)), details=details)


def _complex_step_refusal(graph, method, center, details):
    """The Result refusing the complex step on a graph with an operation that is not
    complex-analytic, or None."""
    if method != "complex-step":
        return None
    live = graph.live     # an operation no output depends on cannot spoil the complex step
    kinks = [OPERATIONS[graph.node(slot).op].name for slot in range(graph.n_inputs, graph.size)
             if live[slot] and graph.node(slot).op in NOT_ANALYTIC]
    if not kinks:
        return None
    return Result("finite_difference", tuple(center), None, Cost(1, 0, len(graph.nodes)), details=details,
                  error=f"the complex step needs complex-analytic operations, and {kinks[0]} is not "
                        "(choose --fd-method central)", error_kind="not analytic")


class _CountedPoints(_Counted):
    """f over arrays of points, counting evaluations. Each evaluation raises nothing; it
    marks, per point, whether a stencil point left the domain (``left_domain``) or lay on
    another side of a kink or pole than the center (``crossed``)."""

    def __init__(self, graph, shape, center_sides):
        super().__init__(graph)
        self.shape, self.center_sides = shape, center_sides
        self.left_domain = np.zeros(shape, dtype=bool)
        self.crossed = np.zeros(shape, dtype=bool)

    def __call__(self, x):
        self.calls += 1
        values, defined = evaluate_where_defined(self.graph, x)
        self.left_domain |= ~defined
        for here, (_, _, there) in zip(self.center_sides, singular_sides(self.graph, values)):
            self.crossed |= here != np.sign(np.real(there))
        return _outputs_over_points(self.graph, values, self.shape)


def _outputs_over_points(graph, values, shape):
    """The outputs as one array (m, *S); an output that is a constant is repeated."""
    return np.array([np.broadcast_to(value, shape) for value in output_values(graph, values)])


def _run_points(graph, point, method):
    """`run` over arrays of points of shape S: stencils over all points at once, and the
    single-point path only where the method's own stencil is not usable (see the module doc)."""
    shape = point_shape(point)
    n, m = graph.n_inputs, len(graph.outputs)
    values = evaluate(graph, point)   # a center outside the domain is the caller's error
    center = _outputs_over_points(graph, values, shape)
    details = {"method": method}
    refusal = _complex_step_refusal(graph, method, center, details)
    if refusal is not None:
        return refusal
    center_sides = [np.sign(np.real(side)) for _, _, side in singular_sides(graph, values)]
    at_kink = np.broadcast_to(kink_mask(graph, values), shape)
    jacobian = np.zeros((m, n) + shape)
    errors = np.zeros_like(jacobian)
    steps = []
    fallback = at_kink.copy() if method != "complex-step" else np.zeros(shape, dtype=bool)
    derivative_evaluations, estimate_evaluations = 1, 0
    for j in range(n):
        h = step_size(point[j], method)
        f = _CountedPoints(graph, shape, center_sides)
        result = STENCILS[method](f, point, j, h, center)
        estimate, _, _, error, used, checking, slow = result
        fallback |= f.left_domain | slow
        if method != "complex-step":
            fallback |= f.crossed
        if method in ("central", "richardson"):
            fallback |= _slope_jump_mask(result, center, h, point[j])
        jacobian[:, j], errors[:, j] = np.real(estimate), error
        steps.append(h)
        derivative_evaluations += used
        estimate_evaluations += checking
    fallback_evaluations = 0
    for position in map(tuple, np.argwhere(fallback)):
        single = run(graph, tuple(float(x[position]) for x in point), method)
        if single.error is not None:
            return Result("finite_difference", tuple(center), None,
                          Cost(derivative_evaluations, 0, derivative_evaluations * len(graph.nodes)),
                          details=details, error=f"{point_text(graph, point, position)}: {single.error}",
                          error_kind=single.error_kind)
        jacobian[(slice(None), slice(None), *position)] = single.jacobian
        errors[(slice(None), slice(None), *position)] = single.details["error_estimate"]
        fallback_evaluations += single.cost.primal_evaluations + single.details["estimate_evaluations"]
    details.update(steps=tuple(steps), error_estimate=errors, estimate_evaluations=estimate_evaluations,
                   fallback_points=int(fallback.sum()), fallback=fallback, fallback_evaluations=fallback_evaluations,
                   notes=())
    return Result("finite_difference", tuple(center), jacobian,
                  Cost(derivative_evaluations, 0, derivative_evaluations * len(graph.nodes)), details=details)


def step_study(graph, point, variable, output=0, steps=tuple(10.0 ** -k for k in range(1, 16))):
    """Forward and central estimates of ∂y_output/∂x_variable for each step in ``steps``.

    Returns rows (h, forward estimate, central estimate); an estimate is None where a
    stencil point leaves the domain.
    """
    f = primal_function(graph)
    center = f(point)
    rows = []
    for h in steps:
        h = (point[variable] + h) - point[variable]
        estimates = []
        for method in ("forward", "central"):
            try:
                estimates.append(float(difference_quotient(f, point, variable, h, method, center)[0][output]))
            except DomainError:
                estimates.append(None)
        rows.append((h, *estimates))
    return rows

"""Finite differences: derivatives from primal evaluations alone, each with an error estimate
that is a claim (``docs/guarantees.md`` measures how often it holds).

Methods (the base step hᵢ = ε^p·max(1, |xᵢ|), rounded so that xᵢ + hᵢ − xᵢ = hᵢ exactly):

- ``central`` (default, p = 1/3): (f(x + h) − f(x − h)) / 2h, error O(h²) + O(δ/h);
- ``forward`` (p = 1/2): (f(x + h) − f(x)) / h, error O(h) + O(δ/h);
- ``richardson`` (p = 1/5): central differences at h, 2h and 4h combined by Richardson
  extrapolation to remove the h² and h⁴ error terms, error O(h⁶) + O(δ/h);
- ``complex-step`` (h = 1e-20·min(1, |x|), 1e-20 at x = 0): Im f(x + ih) / h, no subtraction
  and so no cancellation (Squire & Trapp, SIAM Review 40(1), 1998). It refuses graphs with
  ``abs``, ``relu``, ``max`` or ``min``, which are not complex-analytic.

**The error estimate** of an entry is a claim, |estimate − ∂yₖ/∂xⱼ| ≤ error estimate, and it
is truncation + rounding (`adcompare.backends.stencils`). Truncation is read off the
quotients D(h), D(2h), D(4h) of the same stencil as Richardson extrapolation reads them,
2·|D(h) − D(2h)| / (2ᵖ − 1) (the factor 2 as numdifftools' ``dea3`` and Ridders are
cautious); quotients that, far above rounding, shrink more slowly than the order says (a
derivative singular inside the stencil) or far faster than the next order allows (a step
spanning many periods) mark the step as not resolving f. Rounding is the stencil's weights
times δ / min(h, 1), where δ bounds the rounding error of f itself at the stencil's points,
found by a running error analysis of the float program by primal evaluations alone
(`adcompare.rounding.float_error_bounds`): ε·|f| when f is well conditioned, far more when a
later operation magnifies an earlier rounding (acos(cos x) near 0). For the complex step,
the same analysis bounds the rounding of Im f(x + ih), whose cancellations it sees.

**The step** is searched for on the ladder hₖ = h·2⁻ᵏ (`adcompare.backends.step_search`),
after Ridders (Adv. Eng. Software 4(2), 1982; Numerical Recipes §5.7, ``dfridr``) and
numdifftools (Brodtkorb & D'Errico: ``MaxStepGenerator``, a geometric sequence of steps with
ratio 2, keeping the estimate whose error estimate is smallest). The base step is tried
first; the search moves down the ladder only when its estimate is dominated by truncation
(``ln(x)`` at 1e-3; ``x + cos(x)`` at 1e6, where h = 6 spans a period) or its stencil is
not usable: a point leaves the domain, makes f overflow, lies across a kink or pole, or the
slopes jump (a kink inside smooth operations, √(x²) at 0). From a usable level it jumps to
where truncation and rounding balance, h·(rounding / (p·truncation))^(1/(p+1)) (the
classical optimal step, e.g. Gill, Murray, Saunders & Wright, SIAM J. Sci. Stat. Comput.
4(2), 1983); from an unusable one, first to the level of ε^p·|x| when |x| < 1 (the scale of
ln, 1/x, √x at small x), then by 4, 8, 16 … levels, bisecting between the levels known too
coarse and too fine. Where |x| ≥ 8, a central quotient at the unit scale checks that f
varies on the scale of |x| as the base step assumes. Beside a domain edge, kink, pole or
jump — not an overflow, across which f is defined — one-sided second-order stencils
(−3f(x) + 4f(x + sh) − f(x + 2sh)) / 2sh, s = ±1, are candidates too. The candidates'
estimates are checked against each other (two that cannot both hold are not kept as they
are) and the smallest wins; where no step resolved f, the estimate is ∞. **The search costs
at most ``MAX_EVALUATIONS`` = 40 evaluations of f per variable besides f(x)**; the base
stencil alone, 6 (central, Richardson) or 3 (forward, complex step), of which 2 (or 1)
make the derivative and the rest its error estimate.

This back end calls nothing but `adcompare.graph.evaluate` (over many points,
`adcompare.graph.evaluate_where_defined`) and the primal-only rounding analysis.

Over many points (numpy arrays, see `adcompare.backends`) the base stencil, and where |x| ≥ 8
the unit-scale check, are evaluated over all points at once, with per-point steps and error
estimates; the points where the base stencil is not the answer — a stencil point leaves
the domain, straddles a kink or a pole, the slopes jump, the quotients do not behave as
their order says, the estimate is dominated by truncation, the check contradicts it, or the
point is at a kink — are recomputed one by one by the single-point search above;
``details["fallback_points"]`` counts them.

    >>> from adcompare.parse import parse
    >>> result = run(parse("x^3"), (2.0,))
    >>> abs(float(result.jacobian[0, 0]) - 12.0) < 1e-8
    True
    >>> abs(float(run(parse("ln(x)"), (1e-3,)).jacobian[0, 0]) - 1000) < 1e-6   # the step follows x down
    True
"""

import math
from dataclasses import dataclass

import numpy as np

from ..errors import DomainError
from ..graph import evaluate, evaluate_where_defined, kink_mask, point_shape, point_text, quiet, singular_sides
from ..ops import OPERATIONS
from ..rounding import float_error_bounds
from . import Cost, Result, output_values
from .stencils import (COMPLEX_STEP, EPS, STEP_EXPONENTS, candidate_at, contradicts, done, jumps,  # noqa: F401
                       ladder_points, step_size, unit_scale_level)
from .step_search import (MAX_EVALUATIONS, Search, evaluate_together, no_stencil, noise_at,  # noqa: F401
                          noise_at_points, note)

FD_METHODS = ("central", "forward", "richardson", "complex-step")


@dataclass(frozen=True)
class DifferenceRow:
    """One column of the Jacobian by differences: variable j, the step, f at x ± h (f(x) for
    one-sided stencils and the complex step), the estimate, its error estimate (the sum of
    ``truncation`` and ``rounding``), the stencil used (``central``, ``forward``,
    ``richardson``, ``complex-step``, ``one-sided forward`` or ``one-sided backward``), the
    rounding bound δ of f at x that ``rounding`` comes from, the evaluations of f the column
    took (besides f(x)), why the method's base stencil was not the answer (``fallback``), a
    sentence saying what was done instead (``note``), and whether a domain edge lies closer
    to x than the one-sided step taken (``edge_within_step``: the truncation part is then
    no estimate)."""

    variable: int
    step: float
    plus: tuple
    minus: tuple
    estimate: tuple
    error_estimate: tuple
    stencil: str
    fallback: object = None   # 'domain', 'overflow', 'kink', 'pole', 'jump' or 'coarse'
    note: object = None
    truncation: tuple = ()
    rounding: tuple = ()
    noise: tuple = ()
    evaluations: int = 0
    edge_within_step: bool = False


def primal_function(graph):
    """The outputs of ``graph`` as a function of a point: the only way this module evaluates f."""
    def f(x):
        return np.array(output_values(graph, evaluate(graph, x)))
    return f


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


def run(graph, point, method="central"):
    """Finite-difference Jacobian of ``graph`` at ``point`` with ``method`` (see the module doc).

    Returns a `Result` whose ``details`` hold ``rows`` (one `DifferenceRow` per variable),
    ``error_estimate`` (m × n, the claimed bound on |estimate − ∂yₖ/∂xⱼ|), ``steps`` and
    ``notes``. The cost counts the evaluations that make the derivative (central: 2n + 1,
    with f(x)); those spent on the error estimates and the step search are in
    ``details["estimate_evaluations"]``. Raises ValueError for an unknown method.
    """
    if method not in FD_METHODS:
        raise ValueError(f"unknown finite-difference method {method!r} (one of {', '.join(FD_METHODS)})")
    if point_shape(point) is not None:
        return _run_points(graph, point, method)
    n, m = graph.n_inputs, len(graph.outputs)
    values = evaluate(graph, point)
    center = np.array(output_values(graph, values))
    center_sides = [(slot, kind, tuple(np.ravel(np.real(side)))) for slot, kind, side in singular_sides(graph, values)]
    details = {"method": method}
    refusal = _complex_step_refusal(graph, method, center, details)
    if refusal is not None:
        return refusal
    _, real_errors, _ = float_error_bounds(graph, point)
    noise = np.array([real_errors[slot] for slot in graph.outputs], dtype=float)
    at_kink = any(kind == "kink" and 0 in side for _, kind, side in center_sides)
    jacobian, errors = np.zeros((m, n)), np.zeros((m, n))
    searches = [Search(graph, point, j, method, center, center_sides, noise, at_kink) for j in range(n)]
    evaluate_together(graph, [search.ladder for search in searches], ladder_points(method, 0))
    found = []
    spent = 1
    for j, search in enumerate(searches):
        best, fallback, ladder = search.run()
        spent += ladder.spent
        if best is None:
            return Result("finite_difference", tuple(np.real(center)), None, Cost(spent, 0, spent * len(graph.nodes)),
                          details=details, **no_stencil(graph.variables[j], fallback, ladder))
        found.append((best, fallback, ladder))
    # δ at the points of each stencil nearest x, all analysed at once.
    near = [j for j, (best, _, _) in enumerate(found) if best.stencil != "complex-step" and math.isfinite(best.key)]
    for j, noise_there in zip(near, noise_at_points(graph, point, [
            (j, [found[j][2].O[k] for k in found[j][0].near_keys()]) for j in near])):
        found[j][0].with_noise(np.maximum(noise, noise_there))
    rows = []
    derivative_evaluations, estimate_evaluations = 1, 0
    for j, (best, fallback, ladder) in enumerate(found):
        used = {"central": 2, "richardson": 6}.get(best.stencil, 1 if best.stencil in ("forward", "complex-step") else 2)
        derivative_evaluations += used
        estimate_evaluations += ladder.spent - used
        jacobian[:, j] = best.value
        errors[:, j] = best.estimate
        rows.append(DifferenceRow(j, float(best.step), tuple(best.plus), tuple(best.minus), tuple(best.value),
                                  tuple(best.estimate), best.stencil, fallback,
                                  note(best, fallback, method, graph.variables[j], ladder),
                                  tuple(np.broadcast_to(best.truncation, (m,))),
                                  tuple(np.broadcast_to(best.rounding, (m,))), tuple(noise), ladder.spent,
                                  searches[j].edge_within_step))
    details.update(steps=tuple(r.step for r in rows), rows=tuple(rows), error_estimate=errors,
                   notes=tuple(r.note for r in rows if r.note), estimate_evaluations=estimate_evaluations)
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


NOT_ANALYTIC = tuple(name for name, op in OPERATIONS.items() if not op.analytic)


# ----------------------------------------------------------------------------- many points

def _outputs_over_points(graph, values, shape):
    """The outputs as one array (m, *S); an output that is a constant is repeated."""
    return np.array([np.broadcast_to(value, shape) for value in output_values(graph, values)])


def _run_points(graph, point, method):
    """`run` over arrays of points of shape S: the base stencil over all points at once, and
    the single-point search only where it is not the answer (see the module doc)."""
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
    _, real_errors, _ = float_error_bounds(graph, point)
    noise = np.array([np.broadcast_to(real_errors[slot], shape) for slot in graph.outputs], dtype=float)
    jacobian = np.zeros((m, n) + shape)
    errors = np.zeros_like(jacobian)
    steps = []
    fallback = at_kink.copy() if method != "complex-step" else np.zeros(shape, dtype=bool)
    evaluations, checks = len(ladder_points(method, 0)), 0
    for j in range(n):
        h = step_size(point[j], method)
        F, O = {}, {}
        bad = np.zeros(shape, dtype=bool)
        for key in ladder_points(method, 0):
            axis, level = key
            nominal = h * 2.0 ** -level
            O[key] = nominal if axis == "i" else (point[j] + axis * nominal) - point[j]
            shifted = list(point)
            shifted[j] = point[j] + (1j * O[key] if axis == "i" else O[key])
            shifted_values, defined = evaluate_where_defined(graph, shifted)
            bad |= ~defined
            if method != "complex-step":
                for here, (_, _, there) in zip(center_sides, singular_sides(graph, shifted_values)):
                    bad |= here != np.sign(np.real(there))
            F[key] = _outputs_over_points(graph, shifted_values, shape)
        point_noise = noise
        if method == "complex-step":
            shifted = list(point)
            shifted[j] = point[j] + 1j * O[("i", 0)]
            _, _, imag = float_error_bounds(graph, shifted)
            point_noise = np.array([np.broadcast_to(imag[slot], shape) for slot in graph.outputs], dtype=float)
        with quiet():
            candidate = candidate_at(method, F, O, center, 0, point_noise)
            fallback |= bad | candidate.irregular | ~done(candidate)
            if method != "complex-step":
                fallback |= jumps(F, O, method, 0, center, candidate, point[j], noise)
                # Where |x| is large, the check the single-point search makes at the unit scale.
                unit = unit_scale_level(point[j], h, noise, method)
                check = (unit >= 2) & ~fallback
                if np.any(check):
                    step = np.where(check, h * 2.0 ** -np.maximum(unit, 0), h)
                    shifted = list(point)
                    shifted[j] = point[j] + step
                    plus_values, plus_defined = evaluate_where_defined(graph, shifted)
                    shifted[j] = point[j] - step
                    minus_values, minus_defined = evaluate_where_defined(graph, shifted)
                    plus = _outputs_over_points(graph, plus_values, shape)
                    minus = _outputs_over_points(graph, minus_values, shape)
                    offset = ((point[j] + step) - (point[j] - step)) / 2
                    contradicted = contradicts(plus, minus, offset, center, noise, candidate)
                    fallback |= check & (contradicted | ~plus_defined | ~minus_defined)
                    checks += 2
            if method != "complex-step":
                candidate.with_noise(np.maximum(noise, noise_at(graph, point, j, [O[k] for k in candidate.near_keys()])))
        jacobian[:, j], errors[:, j] = np.real(candidate.value), candidate.estimate
        steps.append(h)
    fallback_evaluations = 0
    failed, first_failure = np.zeros(shape, dtype=bool), None
    for position in map(tuple, np.argwhere(fallback)):
        single = run(graph, tuple(float(x[position]) for x in point), method)
        fallback_evaluations += single.cost.primal_evaluations
        if single.error is not None:
            # That point alone: no derivative there (NaN, which the cross-check counts as
            # inconclusive at that point); every other point keeps its own.
            jacobian[(slice(None), slice(None), *position)] = np.nan
            errors[(slice(None), slice(None), *position)] = np.nan
            failed[position] = True
            first_failure = first_failure or f"{point_text(graph, point, position)}: {single.error}"
            continue
        jacobian[(slice(None), slice(None), *position)] = single.jacobian
        errors[(slice(None), slice(None), *position)] = single.details["error_estimate"]
        fallback_evaluations += single.details["estimate_evaluations"]
    used = {"central": 2, "richardson": 6}.get(method, 1)
    derivative_evaluations = 1 + n * used
    count = int(failed.sum())
    notes = failure_notes(count, first_failure)
    details.update(steps=tuple(steps), error_estimate=errors, estimate_evaluations=n * (evaluations - used) + checks,
                   fallback_points=int(fallback.sum()), fallback=fallback, fallback_evaluations=fallback_evaluations,
                   failed=failed, failed_points=count, first_failure=first_failure, notes=notes)
    return Result("finite_difference", tuple(center), jacobian,
                  Cost(derivative_evaluations, 0, derivative_evaluations * len(graph.nodes)), details=details)


def failure_notes(count, first_failure):
    """The note on the points where the single-point path found no derivative."""
    return () if not count else (f"no derivative at {count:,} point{'s' if count > 1 else ''} (inconclusive "
                                 f"there); the first, {first_failure}",)


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

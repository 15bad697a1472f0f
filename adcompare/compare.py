"""The cross-check: every method's Jacobian entry against the most trustworthy reference.

The reference is the symbolic method (sympy, evaluated in high precision) when it ran;
otherwise reverse mode, forward mode, then finite differences, in that order. Errors are
computed in the reference's precision; an entry passes when
|value − reference| ≤ atol + rtol·|reference|, with tolerances per method.

    >>> from adcompare.parse import parse
    >>> from adcompare.backends import run_method, METHODS
    >>> g = parse("ln(x1) + x1*x2 - sin(x2)")
    >>> comparison = compare({m: run_method(m, g, (2.0, 5.0)) for m in METHODS})
    >>> comparison.agree, comparison.reference
    (True, 'symbolic')

Over many points (Results over numpy arrays), `compare_points` makes the same checks in
float64 for all points at once and summarises each method and entry: the largest errors,
the worst point and how many points disagree. The worst disagreeing points are then run
one at a time (see `adcompare.report.trace_points`) so that each gets the explanation a
single-point run gives.
"""

from dataclasses import dataclass, field

import mpmath
import numpy as np

EPS = np.finfo(float).eps

REFERENCE_PREFERENCE = ("symbolic", "reverse", "forward", "finite_difference")

VERDICT_STATES = {"agree": 0, "disagree": 1, "not-differentiable": 3, "inconclusive": 4}
"""The states a verdict can be in, each with its exit code (2 is bad input, never a verdict):

- ``agree``: every method that ran agrees with the reference within tolerance;
- ``disagree``: some method is out of tolerance (which entry, which method, by how much, why);
- ``not-differentiable``: the function's one-sided derivatives differ at this point;
- ``inconclusive``: a method could not compute the derivative here, and all that ran agree.
"""


@dataclass(frozen=True)
class Verdict:
    """The cross-check's decision: ``status`` (a key of VERDICT_STATES) and a one-line
    ``summary``, a sentence that names the state, which every renderer prints as it is
    (``Verdict: all 4 methods agree.``)."""

    status: str
    summary: str

    @property
    def exit_code(self):
        """The command line's exit code for this state (see VERDICT_STATES)."""
        return VERDICT_STATES[self.status]


@dataclass(frozen=True)
class Tolerance:
    """Entry passes when |error| ≤ atol + rtol·|reference|."""

    rtol: float
    atol: float

    def bound(self, reference):
        """The largest error allowed at ``reference``: atol + rtol·|reference| (elementwise
        for numpy arrays)."""
        return self.atol + self.rtol * abs(reference)

    def allows(self, error, reference):
        """Whether ``error`` is within tolerance of ``reference`` (floats, mpmath numbers, or
        numpy arrays elementwise)."""
        return error <= self.bound(reference)


# Exact methods agree to rounding; differences carry truncation and round-off error.
DEFAULT_TOLERANCES = {
    "symbolic": Tolerance(1e-12, 1e-12),
    "forward": Tolerance(1e-12, 1e-12),
    "reverse": Tolerance(1e-12, 1e-12),
    "finite_difference": Tolerance(1e-6, 1e-8),
}


@dataclass(frozen=True)
class Check:
    """One method's value for one Jacobian entry, and how far it is from the reference."""

    method: str
    value: object
    abs_error: float
    rel_error: float
    tolerance: Tolerance
    ok: bool
    explanation: str = None


@dataclass(frozen=True)
class Entry:
    """One Jacobian entry ∂y_output/∂x_variable: the reference value and every method's check."""

    output: int
    variable: int
    reference: object
    checks: tuple


@dataclass
class Comparison:
    """All entries, the reference method, methods that failed to run, kinks, and the verdict.

    ``kinks`` lists (slot, description) of nodes at a point where they are not
    differentiable: there the methods may each be right about a different one-sided
    derivative, so the verdict cannot be "agree". ``lost`` lists (slot, float value, exact
    value) of nodes whose value rounding has destroyed (see `symbolic.lost_to_rounding`).
    """

    reference: str
    entries: list
    failures: dict = field(default_factory=dict)
    kinks: list = field(default_factory=list)
    lost: list = field(default_factory=list)

    @property
    def mismatches(self):
        """Checks outside tolerance, as (entry, check) pairs."""
        return [(e, c) for e in self.entries for c in e.checks if not c.ok]

    @property
    def agree(self):
        """True when the verdict is ``agree``."""
        return self.verdict.status == "agree"

    @property
    def verdict(self):
        """The `Verdict`, decided here and only here."""
        ran = len({c.method for e in self.entries for c in e.checks}) + (self.reference is not None)
        if self.kinks:
            return Verdict("not-differentiable", "not differentiable here: the function has a kink at this point.")
        if self.mismatches:
            return Verdict("disagree", f"the methods disagree at {len({(e.output, e.variable) for e, _ in self.mismatches})} "
                                       f"entr{'y' if len(self.mismatches) == 1 else 'ies'}.")
        if self.reference is None or self.failures:
            return Verdict("inconclusive", f"inconclusive: {len(self.failures)} method(s) could not compute the "
                                           "derivative" + ("; all that ran agree." if self.reference else "."))
        if ran < 2:
            return Verdict("agree", "only one method ran; nothing to compare.")
        return Verdict("agree", f"all {ran} methods agree.")


def explain(result, output, variable, error, reference, kinks, rounding=None, lost=()):
    """Why a method may differ from the reference at one entry, or None when nothing explains it.

    - 'kink': the point is not differentiable, so the methods may each be right about a
      different one-sided derivative;
    - 'finite-difference error': the difference is within twice finite differences' own
      error estimate, whose truncation part dominates: the step cannot resolve it;
    - 'rounding of f': the same, but the rounding part dominates, and f carries more
      rounding error than its last operation's (a later operation magnified an earlier
      rounding: acos(cos x) at 1e-4), which the quotient divides by the step;
    - 'domain edge', 'overflow nearby', 'kink nearby', 'pole nearby' or 'jump in slope
      nearby': finite differences' base stencil left the domain, made f overflow (exp in
      x + ln(1 + exp(c − x)) near c), straddled a kink, a pole, or a jump in slope hidden in
      smooth operations (√(x²) at 0), so a smaller step or a one-sided stencil was used,
      and they still differ by more than their estimate says;
    - 'step too coarse': the base step was dominated by truncation or its quotients did not
      converge (x + cos(x) at 1e6: a step as wide as a period), or the function changes by
      |f′|·h, a tenth of |f| or more, across the step, or its second difference is a tenth
      of its first or more.
    - 'cancellation': forward or reverse mode differs by less than its rounding bound,
      ε·l·Σ|chain-rule terms|: large terms cancelled in floating point;
    - 'rounding': forward or reverse mode differs by less than the first-order bound on
      the rounding error of the float program (``rounding``, see `adcompare.rounding`), or
      rounding has destroyed the value of a node the output depends on (``lost``: tan of
      1e38, whose ulp is 1e22): the float program is not the function at this point.
    Any other mismatch of forward or reverse mode is a bug to report.
    """
    if kinks:
        return "kink"
    if result.method in ("forward", "reverse"):
        if error <= float(result.details["rounding_bound"][output, variable]):
            return "cancellation"
        if lost or (rounding and (output, variable) in rounding
                    and error <= rounding[(output, variable)].derivative):
            return "rounding"
        return None
    if result.method == "finite_difference":
        return _explain_differences(result, output, variable, error, reference, lost)
    return None


FALLBACK_EXPLANATIONS = {"domain": "domain edge", "overflow": "overflow nearby", "kink": "kink nearby",
                         "pole": "pole nearby", "jump": "jump in slope nearby", "coarse": "step too coarse",
                         "vanished": "step too coarse"}
"""Why the finite differences' base stencil was not used (`DifferenceRow.fallback`), as an explanation."""


def _explain_differences(result, output, variable, error, reference, lost):
    """`explain` for finite differences: their own error estimate first — which part of it
    dominates says whether the step (truncation) or the rounding of f does — then why their
    base stencil was not used, then the function's own scale against the step."""
    row = result.details["rows"][variable]
    estimate = float(result.details["error_estimate"][output, variable])
    # An infinite estimate (no step resolved f) explains nothing by itself: the reason is below.
    if error <= 2.0 * estimate < float("inf"):
        center = float(result.value[output])
        # f carries more than the rounding of its last operation: a later operation magnified
        # an earlier rounding (acos(cos x) near 0), and the quotient divides it by the step.
        if row.rounding[output] >= row.truncation[output] and row.noise[output] > 8 * EPS * abs(center):
            return "rounding of f"
        return "finite-difference error"
    if row.fallback is not None:
        return FALLBACK_EXPLANATIONS[row.fallback]
    center = float(result.value[output])
    if abs(reference) * row.step >= 0.1 * max(1.0, abs(center)):
        return "step too coarse"
    if row.stencil in ("central", "richardson"):
        # The slope changes on the scale of the step when the second difference is
        # comparable to the first ((x²)^(x²) at 1e-6: f″ is singular at 0).
        second = abs(row.plus[output] - 2.0 * center + row.minus[output])
        if second >= 0.1 * abs(row.plus[output] - row.minus[output]):
            return "step too coarse"
    if lost:
        return "rounding"   # they differentiate the float program, which lost a value
    return None


def _line_up(results, tolerances):
    """The tolerances with the defaults filled in, the methods that ran, the failures
    (method → message) and the reference method (None when no method ran)."""
    tolerances = {**DEFAULT_TOLERANCES, **(tolerances or {})}
    ran = {name: r for name, r in results.items() if r.error is None}
    failures = {name: r.error for name, r in results.items() if r.error is not None}
    reference = next((name for name in REFERENCE_PREFERENCE if name in ran), None)
    return tolerances, ran, failures, reference


def compare(results, tolerances=None, kinks=(), lost=(), rounding=None):
    """Line up ``results`` (method name → Result) against the best available reference.

    ``kinks`` are (slot, description) of nodes at a non-differentiable point; ``lost`` are
    (slot, float, exact) of nodes whose value rounding destroyed; ``rounding`` maps
    (output, variable) to the `adcompare.rounding.RoundingBounds` of the float program there.
    """
    tolerances, ran, failures, reference = _line_up(results, tolerances)
    if reference is None:
        return Comparison(None, [], failures, list(kinks), list(lost))
    reference_jacobian = ran[reference].jacobian
    m, n = reference_jacobian.shape
    entries = []
    with mpmath.workdps(40):
        for k in range(m):
            for j in range(n):
                expected = mpmath.mpf(reference_jacobian[k, j])
                checks = []
                for name in results:
                    if name == reference or name not in ran:
                        continue
                    got = ran[name].jacobian[k, j]
                    error = abs(mpmath.mpf(got) - expected)
                    relative = error / abs(expected) if expected != 0 else (0 if error == 0 else mpmath.inf)
                    tolerance = tolerances[name]
                    ok = bool(tolerance.allows(error, expected))
                    why = None if ok else explain(ran[name], k, j, float(error), float(expected), kinks,
                                                  rounding, lost)
                    checks.append(Check(name, got, float(error), float(relative), tolerance, ok, why))
                entries.append(Entry(k, j, expected, tuple(checks)))
    return Comparison(reference, entries, failures, list(kinks), list(lost))


@dataclass(frozen=True)
class EntrySummary:
    """One method against the reference at one Jacobian entry, over all points: the
    largest absolute and relative errors, the worst point (the index where the error is
    furthest beyond, or nearest to, its tolerance; None when there is no error at all) and
    how many points are out of tolerance."""

    output: int
    variable: int
    method: str
    tolerance: Tolerance
    max_abs_error: float
    max_rel_error: float
    worst_point: tuple
    disagreeing: int


@dataclass
class PointsComparison:
    """The cross-check over many points: per-entry summaries, failures, and per-point masks.

    ``disagree`` marks the points where some entry is out of tolerance or an operation is
    at a kink (``at_kink``); ``badness`` is each point's largest error as a multiple of its
    tolerance. ``worst`` is filled by `adcompare.report.trace_points`: (point index, the
    single-point Report there) for the worst disagreeing points.
    """

    reference: str
    shape: tuple
    summaries: list
    failures: dict
    at_kink: np.ndarray
    disagree: np.ndarray
    badness: np.ndarray
    worst: list = field(default_factory=list)

    @property
    def n_points(self):
        """How many points were compared."""
        return int(np.prod(self.shape))

    @property
    def agree(self):
        """True when the verdict is ``agree``."""
        return self.verdict.status == "agree"

    @property
    def verdict(self):
        """The `Verdict` over all points: disagree when some point disagrees, else
        not-differentiable when some point is at a kink, else inconclusive when a method
        could not run, else agree."""
        n = self.n_points
        wrong = int((self.disagree & ~self.at_kink).sum())
        kinks = int(self.at_kink.sum())
        ran = len({s.method for s in self.summaries}) + (self.reference is not None)
        if wrong:
            return Verdict("disagree", f"the methods disagree at {wrong:,} of {n:,} points.")
        if kinks:
            return Verdict("not-differentiable", f"not differentiable at {kinks:,} of {n:,} points (a kink).")
        if self.reference is None or self.failures:
            return Verdict("inconclusive", f"inconclusive: {len(self.failures)} method(s) could not compute the "
                                           "derivative" + ("; all that ran agree." if self.reference else "."))
        if ran < 2:
            return Verdict("agree", "only one method ran; nothing to compare.")
        return Verdict("agree", f"all {ran} methods agree at all {n:,} points.")

    def worst_positions(self, count=5):
        """The indices of up to ``count`` disagreeing points, the worst first."""
        flat = np.flatnonzero(self.disagree)
        order = np.argsort(-self.badness.ravel()[flat], kind="stable")[:count]
        return [tuple(int(i) for i in np.unravel_index(k, self.shape)) for k in flat[order]]


def compare_points(results, shape, tolerances=None, at_kink=False):
    """`compare` for Results over arrays of points of shape ``shape`` (Jacobians of shape
    (m, n, *shape)), in float64.

    ``at_kink`` is a mask over the points (or a bool) of those where an operation is at a
    kink: there the derivative does not exist and the points cannot agree.
    """
    tolerances, ran, failures, reference = _line_up(results, tolerances)
    at_kink = np.broadcast_to(at_kink, shape)
    badness = np.zeros(shape)
    disagree = at_kink.copy()
    summaries = []
    if reference is None:
        return PointsComparison(None, shape, summaries, failures, at_kink, disagree, badness)
    expected = np.asarray(ran[reference].jacobian, dtype=float)
    m, n = expected.shape[:2]
    with np.errstate(all="ignore"):
        for k in range(m):
            for j in range(n):
                for name in results:
                    if name == reference or name not in ran:
                        continue
                    tolerance = tolerances[name]
                    error = np.abs(np.asarray(ran[name].jacobian[k, j], dtype=float) - expected[k, j])
                    relative = np.where(error == 0, 0.0, error / np.abs(expected[k, j]))
                    ratio = np.where(error == 0, 0.0, error / tolerance.bound(expected[k, j]))
                    ratio = np.where(np.isnan(ratio), np.inf, ratio)
                    out = ~tolerance.allows(error, expected[k, j])
                    disagree |= out
                    badness = np.maximum(badness, ratio)
                    worst = None
                    if np.any(error != 0):
                        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), shape))
                    summaries.append(EntrySummary(k, j, name, tolerance, float(np.max(error)), float(np.max(relative)),
                                                  worst, int(out.sum())))
    return PointsComparison(reference, shape, summaries, failures, at_kink, disagree, badness)

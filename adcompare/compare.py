"""The cross-check: every method's Jacobian entry against the most trustworthy reference.

The reference is the symbolic method (sympy, certified in high precision) when it ran;
otherwise reverse mode, forward mode, then finite differences, in that order. Where sympy
and forward/reverse mode disagree beyond what rounding explains, a third reference that
shares nothing with either (`adcompare.reference`, high-precision numerical differentiation)
decides: where it refutes sympy, it is that entry's reference (``reference_method``
'numerical'). Errors are computed in the reference's precision; an entry passes when
|value − reference| ≤ atol + rtol·|reference|, with tolerances per method. A method skipped
by policy (``error_kind`` 'skipped': the symbolic budget) counts as not run, not as failed.

Where some node is on its kink or has an infinite local partial, the function's own
one-sided derivatives (`adcompare.nonsmooth`) decide each entry: where they are equal
the function is differentiable and that value is the reference, whatever any node's
convention says; where they differ, each method is checked against the interval between
them. The verdict (`Verdict`) is decided here, once, from all of it.

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

import math
from dataclasses import dataclass, field

import mpmath
import numpy as np

from .backends import METHOD_TITLES
from .graph import float_text
from .nonsmooth import TOLERANCE

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
    """One method's value for one Jacobian entry, and how far it is from the reference.

    ``abs_error`` and ``rel_error`` are floats, or mpmath numbers where the float would
    round to 0 (a reference of 3.7e-348, below the float range, against a method's 0).
    At an entry where the function is not differentiable there is no reference value:
    the errors are the distance to the interval between the one-sided derivatives, and
    ``ok`` says whether the value lies in it.
    """

    method: str
    value: object
    abs_error: object
    rel_error: object
    tolerance: Tolerance
    ok: bool
    explanation: str = None


@dataclass(frozen=True)
class Entry:
    """One Jacobian entry ∂y_output/∂x_variable: the reference value and every method's check.

    ``reference_method`` names what gave ``reference`` at this entry (a method;
    'one_sided': the exact one-sided derivatives where the function is differentiable at
    a kink; or 'numerical': the high-precision numerical derivative where it refuted
    sympy, `adcompare.reference`). ``one_sided`` is the function's `adcompare.nonsmooth.OneSided` where it was
    computed (at a kink or an infinite local partial); where the function is not
    differentiable, ``reference`` is None.
    """

    output: int
    variable: int
    reference: object
    checks: tuple
    reference_method: str = None
    one_sided: object = None

    @property
    def differentiable(self):
        """False where the one-sided derivatives show the function is not differentiable."""
        return self.one_sided is None or self.one_sided.differentiable


@dataclass
class Comparison:
    """All entries, the reference method, methods that failed to run, and the verdict.

    ``analysis`` is the `adcompare.nonsmooth.Analysis` at the point (None where the
    function is smooth there). ``kinks`` lists (slot, description) of points where the
    traced code took a branch at a tie and no one-sided analysis was made (gradcheck):
    there the verdict cannot be "agree". ``lost`` lists (slot, float value, exact value)
    of nodes whose value rounding has destroyed (see `symbolic.lost_to_rounding`).
    ``names`` maps (output, variable) to how a sentence names the entry (``∂y/∂x``).
    ``skipped`` maps methods skipped by policy to the reason (not failures). ``referee``
    maps (output, variable) to the `adcompare.reference.Decision` taken where sympy and
    forward/reverse mode disagreed.
    """

    reference: str
    entries: list
    failures: dict = field(default_factory=dict)
    kinks: list = field(default_factory=list)
    lost: list = field(default_factory=list)
    analysis: object = None
    names: object = None
    skipped: dict = field(default_factory=dict)
    referee: dict = field(default_factory=dict)

    @property
    def mismatches(self):
        """Checks outside tolerance, as (entry, check) pairs."""
        return [(e, c) for e in self.entries for c in e.checks if not c.ok]

    @property
    def agree(self):
        """True when the verdict is ``agree``."""
        return self.verdict.status == "agree"

    def entry_name(self, entry):
        """How a sentence names an entry: ``∂y/∂x``."""
        if self.names is None:
            return f"entry [{entry.output}, {entry.variable}]"
        return self.names(entry.output, entry.variable)

    @property
    def verdict(self):
        """The `Verdict`, decided here and only here: a mismatch is a disagreement; else an
        entry whose one-sided derivatives differ makes the point not differentiable; else a
        method that could not compute makes the verdict inconclusive; else all agree."""
        ran = len({c.method for e in self.entries for c in e.checks} | {self.reference} - {None, "one_sided"})
        mismatches = self.mismatches
        if mismatches:
            return Verdict("disagree", self._disagreement(mismatches))
        broken = [e for e in self.entries if not e.differentiable and e.one_sided.established]
        if broken or self.kinks:
            return Verdict("not-differentiable", self._not_differentiable(broken))
        unknown = [e for e in self.entries if not e.differentiable]     # sides no method could give
        if unknown:
            return Verdict("inconclusive", f"inconclusive: at {self.entry_name(unknown[0])} the "
                                           f"{_sides(unknown[0].one_sided)}.")
        if self.reference is None or self.failures:
            return Verdict("inconclusive", self._inconclusive())
        if ran < 2:
            return Verdict("agree", "only one method ran; nothing to compare.")
        return Verdict("agree", f"all {ran} methods agree.")

    def _disagreement(self, mismatches):
        entries = list(dict.fromkeys(id(e) for e, _ in mismatches))
        first = next(e for e, _ in mismatches)
        said = ", ".join(f"{METHOD_TITLES[c.method]} gives {_number(c.value)}"
                         + (f" ({c.explanation})" if c.explanation else " (not explained)")
                         for e, c in mismatches if e is first)
        if first.reference is None:
            reference = f"the {_sides(first.one_sided)}"
        else:
            verb = "give" if first.reference_method == "one_sided" else "gives"
            reference = f"{METHOD_TITLES[first.reference_method]} {verb} {_number(first.reference)}"
        more = len(entries) - 1
        tail = f"; and at {more} more entr{'y' if more == 1 else 'ies'}" if more else ""
        return f"the methods disagree at {self.entry_name(first)}: {said}, where {reference}{tail}."

    def _not_differentiable(self, broken):
        if not broken:
            where = "; ".join(text for _, text in self.kinks)
            return f"not differentiable here: the code takes a branch at a tie ({where})."
        parts = [f"{self.entry_name(e)} has {_sides(e.one_sided)}" for e in broken[:3]]
        more = f", and {len(broken) - 3} more entries" if len(broken) > 3 else ""
        return "not differentiable here: " + "; ".join(parts) + more + "."

    def _inconclusive(self):
        failed = [METHOD_TITLES[m] for m in self.failures]
        if not failed:          # every method asked for was skipped (by size): none ran
            skipped = [METHOD_TITLES[m] for m in self.skipped]
            return f"inconclusive: no method ran ({_listed(skipped)} skipped: see the notes)."
        text = f"inconclusive: {_listed(failed)} could not compute the derivative"
        if self.reference is None:
            return text + "."
        established = [e for e in self.entries if e.one_sided is not None]
        if established:
            values = ", ".join(f"{self.entry_name(e)} = {_number(e.reference)}" for e in established[:3])
            return text + f"; the derivative exists ({values}) and all that ran agree."
        return text + "; all that ran agree."


def _listed(items):
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _number(value):
    """A value in a sentence: all its digits, with a proper minus sign."""
    if isinstance(value, mpmath.mpf):
        text = mpmath.nstr(value, 17, min_fixed=-5, max_fixed=17)
        text = text[:-2] if text.endswith(".0") else text
    else:
        text = float_text(value)
    return text.replace("-", "−")


def side_words(one):
    """The left and right derivatives of a `OneSided` in words: a number, or why not."""
    return tuple(_number(v) if v is not None else why for v, why in zip((one.left, one.right), one.why))


def _sides(one):
    """The one-sided derivatives in words: ``one-sided derivatives −1 (left) and 1 (right)``."""
    words = side_words(one)
    if one.left is None and one.right is None and words[0] == words[1]:
        return f"one-sided derivatives: {words[0]}"
    if one.left is not None and one.right is not None:
        return f"one-sided derivatives {words[0]} (left) and {words[1]} (right)"
    return f"left derivative: {words[0]}; right derivative: {words[1]}"


def explain(result, output, variable, error, reference, kinks, rounding=None, lost=(), at_kink=False,
            decision=None):
    """Why a method may differ from the reference at one entry, or None when nothing explains it.

    - 'kink convention': the function is differentiable at this entry though a node is on
      its kink (``at_kink``), and the method took that node's conventional local
      derivative (relu′(0) = 0; sympy's Heaviside(0) = ½), which gives a wrong derivative
      here; JAX and PyTorch take the same conventions (see `adcompare.ops.KinkRule`);
    - 'stencil across a kink': finite differences' stencil is centred on a kink (``at_kink``)
      where the function is differentiable but its second derivative jumps (x·|x| at 0),
      so their error is O(h), not the O(h²) their estimate assumes;
    - 'kink': the code took a branch at a tie (``kinks``, from gradcheck), so the
      methods may each be right about a different one-sided derivative;
    - 'finite-difference error': the difference is within twice finite differences' own
      error estimate, whose truncation part dominates: the step cannot resolve it;
    - 'rounding of f': the same, but the rounding part dominates, and f carries more
      rounding error than its last operation's (a later operation magnified an earlier
      rounding: acos(cos x) at 1e-4), which the quotient divides by the step; or rounding
      has destroyed a value f depends on (``lost``: acos(tanh(19)) is 0 in floats), so the
      float function the quotients see is not f;
    - 'domain edge', 'overflow nearby', 'kink nearby', 'pole nearby' or 'jump in slope
      nearby': finite differences' base stencil left the domain, made f overflow (exp in
      x + ln(1 + exp(c − x)) near c), straddled a kink, a pole, or a jump in slope hidden in
      smooth operations (√(x²) at 0), so a smaller step or a one-sided stencil was used,
      and they still differ by more than their estimate says;
    - 'step too coarse': the base step was dominated by truncation or its quotients did not
      converge (x + cos(x) at 1e6: a step as wide as a period), or the function changes by
      |f′|·h, a tenth of |f| or more, across the step, or its second difference is a tenth
      of its first or more;
    - 'cancellation': forward or reverse mode differs by less than its rounding bound,
      ε·l·Σ|chain-rule terms|: large terms cancelled in floating point;
    - 'rounding': forward or reverse mode differs by less than the first-order bound on
      the rounding error of the float program (``rounding``, see `adcompare.rounding`), or
      rounding has destroyed the value of a node the output depends on (``lost``: tan of
      1e38, whose ulp is 1e22): the float program is not the function at this point.
    - 'symbolic wrong': sympy's value, where the high-precision numerical derivative
      (``decision``, an `adcompare.reference.Decision`) agrees with forward and reverse
      mode and refutes it;
    - 'reference undecided': forward or reverse mode, unexplained, where the numerical
      derivative could not decide between them and sympy.
    Any other mismatch of forward or reverse mode is a bug to report.
    """
    if at_kink and result.method in ("forward", "reverse", "symbolic"):
        return "kink convention"
    if at_kink and result.method == "finite_difference":
        # Rounding of f first: where it made the error, that says more than the kink does
        # (|x − 3|² is smooth at 3; beside tan of a rounded 1.3e10, rounding made it).
        why = _explain_differences(result, output, variable, error, reference, lost)
        return why if why == "rounding of f" else "stencil across a kink"
    if kinks:
        return "kink"
    if result.method == "symbolic":
        return "symbolic wrong" if decision is not None and decision.verdict == "symbolic wrong" else None
    if result.method in ("forward", "reverse"):
        if error <= float(result.details["rounding_bound"][output, variable]):
            return "cancellation"
        if lost or (rounding and (output, variable) in rounding
                    and error <= rounding[(output, variable)].derivative):
            return "rounding"
        if decision is not None and decision.verdict == "undecided":
            return "reference undecided"
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
        # Only where rounding clearly dominates (4×): where the two parts are alike, the split
        # of the estimate cannot say which made the error (acos(x₁/c) near 1 at a step of 1e-44).
        # And only well beyond the truncation part (twice, the slack the estimate is held to):
        # below it, the step alone may have made the error (tan of c^c at a step of 6.8e-14,
        # tan(ln(ln(cosh x))) near a pole of tan: exact arithmetic at the same points is as
        # far off as the floats).
        # Not where a domain edge is closer to x than the one-sided step taken: f's slope may
        # be singular there, and the truncation part is no estimate (acos(|x + 2|) at
        # −3 + 4.4e-16, a step of 4.4e-15 ten times the distance to the edge: exact
        # arithmetic at the same points is as far off as the floats).
        if row.rounding[output] >= 4 * row.truncation[output] and error > 2 * row.truncation[output] \
                and row.noise[output] > 8 * EPS * abs(center) and not row.edge_within_step:
            return "rounding of f"
        return "finite-difference error"
    if row.fallback is not None:
        return FALLBACK_EXPLANATIONS[row.fallback]
    if lost:
        return "rounding of f"          # a value f depends on is lost in floats: f's floats are not f
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
    (method → message), the reference method (None when no method ran) and the methods
    skipped by policy (method → reason)."""
    tolerances = {**DEFAULT_TOLERANCES, **(tolerances or {})}
    ran = {name: r for name, r in results.items() if r.error is None}
    skipped = {name: r.error for name, r in results.items() if r.error is not None and r.error_kind == "skipped"}
    failures = {name: r.error for name, r in results.items() if r.error is not None and name not in skipped}
    reference = next((name for name in REFERENCE_PREFERENCE if name in ran), None)
    return tolerances, ran, failures, reference, skipped


def compare(results, tolerances=None, kinks=(), lost=(), rounding=None, analysis=None, names=None, referee=None):
    """Line up ``results`` (method name → Result) against the best available reference.

    ``analysis`` is the `adcompare.nonsmooth.Analysis` at the point, when some node is on
    its kink or has an infinite local partial: where it finds the function differentiable,
    the entry's reference is the exact one-sided value (or sympy's, where sympy agrees
    with it), and a method that took a kink's convention instead is explained as such;
    where it does not, each method is checked against the interval between the one-sided
    derivatives. ``kinks`` are (slot, description) of branches taken at a tie with no
    analysis (gradcheck); ``lost`` are (slot, float, exact) of nodes whose value rounding
    destroyed; ``rounding`` maps (output, variable) to the
    `adcompare.rounding.RoundingBounds` of the float program there; ``names(output,
    variable)`` names an entry in the verdict's sentence; ``referee`` maps (output,
    variable) to the `adcompare.reference.Decision` taken there
    (`adcompare.reference.settle_disputes`): where it refutes sympy, its numerical value is
    that entry's reference.
    """
    tolerances, ran, failures, reference, skipped = _line_up(results, tolerances)
    referee = dict(referee or {})
    shape = next((r.jacobian.shape for r in ran.values()), None)
    if shape is None and analysis is not None and analysis.entries:
        shape = tuple(n + 1 for n in max(analysis.entries))
    if shape is None:
        return Comparison(None, [], failures, list(kinks), list(lost), analysis, names, skipped, referee)
    m, n = shape
    entries = []
    with mpmath.workdps(40):
        for k in range(m):
            for j in range(n):
                one = analysis.entries.get((k, j)) if analysis is not None else None
                if one is not None and not one.differentiable:
                    checks = tuple(_interval_check(name, ran[name].jacobian[k, j], one, tolerances[name])
                                   for name in results if name in ran)
                    entries.append(Entry(k, j, None, checks, None, one))
                    continue
                decision = referee.get((k, j))
                if decision is not None and decision.verdict == "symbolic wrong":
                    expected, by = mpmath.mpf(decision.numerical.value), "numerical"
                else:
                    expected, by = _entry_reference(ran, reference, one, tolerances, k, j)
                checks = []
                for name in results:
                    if name == by or name not in ran:
                        continue
                    got = ran[name].jacobian[k, j]
                    error = abs(mpmath.mpf(got) - expected)
                    relative = error / abs(expected) if expected != 0 else (0 if error == 0 else mpmath.inf)
                    tolerance = tolerances[name]
                    ok = bool(tolerance.allows(error, expected))
                    why = None if ok else explain(ran[name], k, j, float(error), float(expected), kinks,
                                                  rounding, lost, _convention_made_it(analysis, one, got), decision)
                    checks.append(Check(name, got, _error(error), _error(relative), tolerance, ok, why))
                entries.append(Entry(k, j, expected, tuple(checks), by, one))
    main = reference if reference is not None else ("one_sided" if entries else None)
    return Comparison(main, entries, failures, list(kinks), list(lost), analysis, names, skipped, referee)


def _convention_made_it(analysis, one, value):
    """Whether a kink's convention may have made a method's value differ at an entry where
    the function is differentiable: a node is on its kink, and the value is not what the
    float directional sweeps give, which apply each kink's one-sided rule to the same
    float primals (where it is, the convention changed nothing, and rounding of the float
    program is what is left: tan of a rounded 1.3e10 beside |x − 3|² at 3)."""
    if not (analysis and any(not kink.hidden for kink in analysis.kinks)):
        return False        # no node on its kink in floats: no convention was taken
    if one is None or not math.isfinite(float(value)):
        return True
    rtol, atol = TOLERANCE
    return not any(math.isfinite(s) and abs(float(value) - s) <= atol + rtol * abs(s) for s in one.swept)


def _error(value):
    """An error as a float, or as the mpmath number where the float would underflow to 0."""
    number = float(value)
    return value if number == 0 and value != 0 else number


def _entry_reference(ran, reference, one, tolerances, k, j):
    """(reference value as mpf, what gave it) at one entry: the best method, or at a point
    the one-sided analysis covers, its value — sympy's when sympy agrees with it, since
    sympy's carries more digits."""
    if one is None:
        return mpmath.mpf(ran[reference].jacobian[k, j]), reference
    exact = mpmath.mpf(one.value)
    symbolic = ran.get("symbolic")
    if symbolic is not None:
        value = mpmath.mpf(symbolic.jacobian[k, j])
        tolerance = tolerances["symbolic" if one.precise else "finite_difference"]
        if tolerance.allows(abs(value - exact), exact):
            return value, "symbolic"
    return exact, "one_sided"


def _interval_check(name, value, one, tolerance):
    """A method's value at an entry where the function is not differentiable: it is within
    the one-sided derivatives' interval (any convention or subgradient) or it is not; with
    a side that does not exist or is infinite there is no interval, and nothing is claimed."""
    if one.interval is None:
        return Check(name, value, 0.0, 0.0, tolerance, True,
                     "no finite derivative" if one.established else "one-sided derivatives not established")
    low, high = one.interval
    distance = max(low - float(value), float(value) - high, 0.0)
    scale = max(abs(low), abs(high))
    ok = one.contains(float(value), tolerance.rtol, tolerance.atol)
    return Check(name, value, distance, distance / scale if scale else (0.0 if distance == 0 else math.inf),
                 tolerance, ok, "between the one-sided derivatives" if ok else "outside the one-sided derivatives")


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
    worst_ratio: float = None      # the error at the worst point as a multiple of its tolerance


class _PointsVerdict:
    """What a cross-check over many points concludes from its counts of points by state
    (``state_counts()``), its summaries and its failures: shared by `PointsComparison` and
    `CombinedPointsComparison`, so that both say the same."""

    @property
    def n_points(self):
        """How many points were compared."""
        return int(np.prod(self.shape))

    @property
    def points_at_kink(self):
        """How many points are at a kink (not differentiable)."""
        return self.state_counts()["not-differentiable"]

    @property
    def points_disagreeing(self):
        """How many points the methods do not all agree at: out of tolerance, or at a kink."""
        counts = self.state_counts()
        return counts["disagree"] + counts["not-differentiable"]

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
        counts = self.state_counts()
        wrong, kinks, unsure = counts["disagree"], counts["not-differentiable"], counts["inconclusive"]
        ran = len({s.method for s in self.summaries}) + (self.reference is not None)
        if wrong:
            return Verdict("disagree", f"the methods disagree at {wrong:,} of {n:,} points.")
        if kinks:
            return Verdict("not-differentiable", f"not differentiable at {kinks:,} of {n:,} points (a kink).")
        if unsure and not self.failures and self.reference is not None:
            return Verdict("inconclusive", f"inconclusive at {unsure:,} of {n:,} points, where a method could not "
                                           "compute the derivative; all methods agree at the others.")
        if self.reference is None or self.failures:
            return Verdict("inconclusive", f"inconclusive: {len(self.failures)} method(s) could not compute the "
                                           "derivative" + ("; all that ran agree." if self.reference else "."))
        if ran < 2:
            return Verdict("agree", "only one method ran; nothing to compare.")
        return Verdict("agree", f"all {ran} methods agree at all {n:,} points.")


@dataclass
class PointsComparison(_PointsVerdict):
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
    # Points where some method could not compute the derivative (a value outside a domain,
    # a non-finite value or derivative): inconclusive there, and left out of the errors.
    unsure: np.ndarray = None
    reasons: list = field(default_factory=list)    # (reason, points, first point), filled by trace_points
    skipped: dict = field(default_factory=dict)    # methods skipped by policy, with the reason (not failures)

    def states(self):
        """Each point's state, as the codes of VERDICT_STATES (an integer array of the points' shape)."""
        codes = np.zeros(self.shape, dtype=np.int8)
        if self.unsure is not None:
            codes[self.unsure] = VERDICT_STATES["inconclusive"]
        codes[self.disagree & ~self.at_kink] = VERDICT_STATES["disagree"]
        codes[self.at_kink] = VERDICT_STATES["not-differentiable"]
        return codes

    def state_counts(self):
        """How many points are in each state, in the order of VERDICT_STATES."""
        counts = np.bincount(self.states().ravel(), minlength=max(VERDICT_STATES.values()) + 1)
        return {state: int(counts[code]) for state, code in VERDICT_STATES.items()}

    def worst_positions(self, count=5):
        """The indices of up to ``count`` disagreeing points, the worst first."""
        flat = np.flatnonzero(self.disagree)
        order = np.argsort(-self.badness.ravel()[flat], kind="stable")[:count]
        return [tuple(int(i) for i in np.unravel_index(k, self.shape)) for k in flat[order]]


def compare_points(results, shape, tolerances=None, at_kink=False, unsure=False):
    """`compare` for Results over arrays of points of shape ``shape`` (Jacobians of shape
    (m, n, *shape)), in float64.

    ``at_kink`` is a mask over the points (or a bool) of those where an operation is at a
    kink: there the derivative does not exist and the points cannot agree. ``unsure``
    marks points known to be inconclusive beforehand (f undefined there); a point where a
    method's derivative is not finite (NaN where it could not compute it) is inconclusive
    too, and neither enters the errors.
    """
    tolerances, ran, failures, reference, skipped = _line_up(results, tolerances)
    at_kink = np.broadcast_to(at_kink, shape)
    unsure = np.broadcast_to(unsure, shape).copy()
    for result in ran.values():
        unsure |= ~np.all(np.isfinite(np.asarray(result.jacobian, dtype=float)), axis=(0, 1))
    blank = unsure.copy()        # no error is computed here
    unsure &= ~at_kink
    badness = np.zeros(shape)
    disagree = at_kink.copy()
    summaries = []
    if reference is None:
        return PointsComparison(None, shape, summaries, failures, at_kink, disagree, badness, unsure=unsure,
                                skipped=skipped)
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
                    error[blank] = 0.0
                    relative = np.where(error == 0, 0.0, error / np.abs(expected[k, j]))
                    ratio = np.where(error == 0, 0.0, error / tolerance.bound(expected[k, j]))
                    ratio = np.where(np.isnan(ratio), np.inf, ratio)
                    out = ~tolerance.allows(error, expected[k, j]) & ~blank
                    disagree |= out
                    badness = np.maximum(badness, ratio)
                    worst = None
                    if np.any(error != 0):
                        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), shape))
                    summaries.append(EntrySummary(k, j, name, tolerance, float(np.max(error)), float(np.max(relative)),
                                                  worst, int(out.sum()), None if worst is None else float(ratio[worst])))
    return PointsComparison(reference, shape, summaries, failures, at_kink, disagree, badness, unsure=unsure,
                            skipped=skipped)


@dataclass
class CombinedPointsComparison(_PointsVerdict):
    """The cross-check over many points made of several `PointsComparison`s, one a chunk
    of the points (`adcompare.report.trace_point_chunks`): counts instead of per-point
    masks, so that its memory does not grow with the points. Its fields mean what
    PointsComparison's do, with indices counted over all chunks."""

    reference: str
    shape: tuple
    summaries: list
    failures: dict
    counts: dict                   # points in each state, as `state_counts`
    worst: list = field(default_factory=list)
    reasons: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)

    def state_counts(self):
        """How many points are in each state, in the order of VERDICT_STATES."""
        return dict(self.counts)

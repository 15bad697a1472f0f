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

**The error estimate** of an entry is truncation + rounding. Truncation is read off the
quotients D(h), D(2h), D(4h) of the same stencil, as in Richardson extrapolation: when D
converges as hᵖ, |D(h) − D(2h)| / (2ᵖ − 1); when the quotients, far above rounding,
converge more slowly than that (a derivative singular inside the stencil, a step as wide as
a period), the tail of the ratio actually seen, or ∞ when they do not converge. Rounding is
the stencil's weights times δ/h, where δ bounds the rounding error of f itself at x, found
by a running error analysis of the float program by primal evaluations alone
(`adcompare.rounding.float_error_bounds`): ε·|f| when f is well conditioned, far more when a
later operation magnifies an earlier rounding (acos(cos x) near 0). For the complex step,
the same analysis bounds the rounding of Im f(x + ih), whose cancellations it sees.

**The step** is chosen on the ladder hₖ = h·2⁻ᵏ, after Ridders (Adv. Eng. Software 4(2),
1982; Numerical Recipes §5.7, ``dfridr``) and numdifftools (Brodtkorb & D'Errico:
``MaxStepGenerator``, a geometric sequence of steps with ratio 2, keeping the estimate whose
error estimate is smallest). The base step is tried first; the search moves down the ladder
only when its estimate is dominated by truncation (the step is too coarse: ``ln(x)`` at
1e-3, ``x + cos(x)`` at 1e6 where h = 6 spans a period) or when its stencil is not usable:
a point leaves the domain, makes f overflow, lies across a kink or pole, or the slopes jump
(a kink inside smooth operations, √(x²) at 0). From a usable level it jumps to the level
where truncation and rounding balance, h* = h·(rounding / (p·truncation))^(1/(p+1)) (the
classical optimal step, e.g. Gill, Murray, Saunders & Wright, SIAM J. Sci. Stat. Comput.
4(2), 1983); from an unusable one, first to the level of ε^p·|x| when |x| < 1 (the scale of
ln, 1/x, √x at small x), then by 4, 8, 16 … levels. Where the method's own stencil is not
usable, one-sided second-order stencils on each usable side, (−3f(x) + 4f(x + sh) −
f(x + 2sh)) / 2sh, s = ±1, are candidates too. It stops at a level whose error is balanced
or small, when an estimate is more than twice the best so far below it (Ridders' SAFE), or
when its budget is spent: **at most ``MAX_EVALUATIONS`` = 40 evaluations of f per variable
besides f(x)**; the base stencil alone costs 6 (central, Richardson) or 3 (forward, complex
step), of which 2 (or 1) make the derivative and the rest its error estimate.

This back end calls nothing but `adcompare.graph.evaluate` (over many points,
`adcompare.graph.evaluate_where_defined`) and the primal-only rounding analysis.

Over many points (numpy arrays, see `adcompare.backends`) the base stencil is evaluated over
all points at once, with per-point steps and error estimates; the points where it is not
the answer — a stencil point leaves the domain, straddles a kink or a pole, the slopes
jump, the quotients converge too slowly, the estimate is dominated by truncation, or the
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
from ..rounding import LOCAL_ROUNDING, UNDERFLOW, float_error_bounds
from . import Cost, Result, output_values

EPS = np.finfo(float).eps
# Richardson's error is O(h⁶) + O(ε/h), optimal near ε^(1/7); ε^(1/5) keeps 4h further
# from nearby singularities at a cost of ~1e-12 in round-off (see benchmarks/fd_accuracy.py).
STEP_EXPONENTS = {"central": 1.0 / 3.0, "forward": 1.0 / 2.0, "richardson": 1.0 / 5.0}
COMPLEX_STEP = 1e-20
FD_METHODS = ("central", "forward", "richardson", "complex-step")

ORDER = {"central": 2, "forward": 1, "richardson": 4, "complex-step": 2, "one-sided": 2}
"""The power of h in each stencil's leading error term (Richardson: of the error left after
one extrapolation, which its estimate measures)."""
NOISE_WEIGHT = {"central": 1.0, "forward": 2.0, "richardson": 74.25 / 45.0, "complex-step": 1.0,
                "one-sided": 4.0}
"""How much each stencil magnifies an error δ in f's values: Σ|weights|·h (central: ½ + ½;
forward: 1 + 1; one-sided: (3 + 4 + 1)/2; Richardson: (64·1 + 20·½ + ¼)/45 over the central
quotients at h, 2h, 4h)."""
TARGET = {"central": EPS ** (2.0 / 3.0), "forward": EPS ** 0.5, "richardson": EPS ** 0.8, "complex-step": EPS,
          "one-sided": EPS ** (2.0 / 3.0)}
"""The error a stencil reaches at its base step for a function of unit scale (relative to
max(1, |D|)); the search goes no further once it is there (within 4 times)."""
GOOD_ENOUGH = 1e-9
"""Nor once the estimate is below this, relative to max(1, |D|): a thousandth of the
cross-check's default tolerance for finite differences (`adcompare.compare`)."""
MAX_EVALUATIONS = 40
MAX_LEVEL = 1100   # h·2⁻¹¹⁰⁰ is below the smallest float: the budget ends the search first
FIRST_JUMP = 4
BALANCE = 4.0     # truncation ≤ BALANCE·rounding: a smaller step would not help
SAFETY = 2.0      # on the Richardson estimate of the truncation error


@dataclass(frozen=True)
class DifferenceRow:
    """One column of the Jacobian by differences: variable j, the step, f at x ± h (f(x) for
    one-sided stencils and the complex step), the estimate, its error estimate (the sum of
    ``truncation`` and ``rounding``), the stencil used (``central``, ``forward``,
    ``richardson``, ``complex-step``, ``one-sided forward`` or ``one-sided backward``), the
    rounding bound δ of f at x that ``rounding`` comes from, the evaluations of f the column
    took (besides f(x)), why the method's base stencil was not the answer (``fallback``) and a
    sentence saying what was done instead (``note``)."""

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


def step_size(x, method="central", scale=None):
    """The base step for one component, scaled to ``scale`` (default max(1, |x|)), exactly
    representable from x (elementwise when x is an array of points)."""
    if method == "complex-step":
        # No subtraction, so the step may be as small as we like: far below |x| (at x = 1e-20
        # a step of 1e-20 would be as large as x) and below 1 (at x = 1e20 a step of 1 would
        # span periods), but a normal float, not a subnormal one.
        size = COMPLEX_STEP * np.minimum(1.0, np.abs(x))
        return np.where(x == 0, COMPLEX_STEP, np.maximum(size, 1e-290))[()]
    if scale is None:
        scale = max(1.0, abs(x)) if np.ndim(x) == 0 else np.maximum(1.0, np.abs(x))
    h = EPS ** STEP_EXPONENTS[method] * scale
    return (x + h) - x


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


# ----------------------------------------------------------------------------- the arithmetic of one level
#
# A ladder level k has the nominal step h·2⁻ᵏ. Its points are keyed (axis, k): axis +1 or −1
# for x ± h·2⁻ᵏ, 'i' for x + i·h·2⁻ᵏ. F maps keys to f's values there (arrays over the outputs,
# and over the points when there are many), and O to the exact offsets (x + s) − x.

def _points(stencil, k):
    """The ladder points a stencil's candidate at level k needs: its quotients at levels k,
    k − 1 and k − 2 (steps s, 2s, 4s)."""
    if stencil in ("central", "richardson"):
        return [(axis, k - i) for i in range(3) for axis in (1, -1)]
    if stencil == "forward":
        return [(1, k - i) for i in range(3)]
    if stencil == "complex-step":
        return [("i", k - i) for i in range(3)]
    side = 1 if stencil == "one-sided forward" else -1
    return [(side, k - i) for i in range(4)]


def _quotient(stencil, F, O, f0, level):
    """The stencil's difference quotient at one level, with the exact offsets."""
    if stencil in ("central", "richardson"):
        a, b = O[(1, level)], -O[(-1, level)]
        return (F[(1, level)] - F[(-1, level)]) / (a + b)
    if stencil == "forward":
        return (F[(1, level)] - f0) / O[(1, level)]
    if stencil == "complex-step":
        return np.imag(F[("i", level)]) / O[("i", level)]
    # Second order through f(x), f(x + a₁), f(x + a₂) (a₂ ≈ 2a₁): the derivative at 0 of
    # the parabola through the three points.
    side = 1 if stencil == "one-sided forward" else -1
    a1, a2 = O[(side, level)], O[(side, level - 1)]
    return (-(a1 + a2) / (a1 * a2) * f0 + a2 / (a1 * (a2 - a1)) * F[(side, level)]
            - a1 / (a2 * (a2 - a1)) * F[(side, level - 1)])


def _truncation_error(d1, d2, d4, rate, roundoff):
    """(error estimate, irregular): |d1 − f′| estimated from the quotients d1, d2, d4 at steps
    h, 2h, 4h of a stencil whose error shrinks by ``rate`` when h halves (4 for central, 2 for
    forward differences): SAFETY·|d1 − d2| / (rate − 1), the Richardson estimate of the
    leading error term with a safety factor for the next ones (numdifftools' ``dea3`` sums
    the last differences; Ridders takes the larger of two); and, per point, whether the
    quotients, far above rounding, converge much more slowly than that (shrink by less than
    √rate when h halves) — a singular
    derivative inside the stencil ((x²)^x at 1e-6: they move by the same amount each time h
    halves), where the estimate is the tail of the ratio actually seen (∞ when they do not
    converge) — or much faster (by more than rate^2.5: a vanishing leading term, as for x³
    at 0 by forward differences, gives rate², which is fine), which quotients as random as
    those of a step spanning many
    periods do by chance as often as slowly. Irregular quotients say the step does not
    resolve f, whatever their estimate."""
    step, next_step = np.abs(d1 - d2), np.abs(d2 - d4)
    with np.errstate(all="ignore"):
        ratio = np.where(step > 0, next_step / step, np.inf)
        above = next_step > 10 * roundoff
        slow = (ratio < np.sqrt(rate)) & above
        fast = (ratio > rate ** 2.5) & above & (step > 10 * roundoff)
        # Where the quotients converge more slowly than the order says, but still converge,
        # the tail of the ratio seen is the estimate (x^1.5 at 1e-150 with a step far above
        # x: its forward quotients converge as h^½).
        tail = np.where(ratio > 1, step / (ratio - 1), np.inf)
        error = SAFETY * np.where(above & (ratio < rate), np.maximum(tail, step / (rate - 1)), step / (rate - 1))
    irregular = slow | fast | ~np.isfinite(d1)
    return (error[()], np.any(irregular, axis=0)) if isinstance(error, np.ndarray) else (error, irregular)


@dataclass
class _Candidate:
    """One stencil's estimate at one ladder level, with its truncation and rounding errors,
    and whether its quotients behaved as the stencil's order says (``regular``)."""

    stencil: str
    level: int
    step: object
    value: object
    truncation: object
    rounding: object
    irregular: object
    plus: object
    minus: object
    spread: object = 0.0

    @property
    def estimate(self):
        return self.truncation + self.rounding

    @property
    def key(self):
        """The error estimate that ranks candidates: the largest over the outputs."""
        return float(np.max(self.estimate))

    @property
    def regular(self):
        return not np.any(self.irregular) and math.isfinite(self.key)

    @property
    def kind(self):
        """The stencil's family: its name, or 'one-sided'."""
        return "one-sided" if self.stencil.startswith("one-sided") else self.stencil

    def with_noise(self, noise):
        """The rounding part again, with δ = ``noise`` (a bound over the stencil's points)."""
        with quiet():
            self.rounding = NOISE_WEIGHT[self.kind] * (noise + self.spread) / np.minimum(self.step, 1.0) + UNDERFLOW

    def near_keys(self):
        """The ladder points nearest x, which carry most of the stencil's weight."""
        if self.stencil in ("central", "richardson"):
            return [(1, self.level), (-1, self.level)]
        side = -1 if self.stencil == "one-sided backward" else 1
        return [(side, self.level)] + ([(side, self.level - 1)] if self.kind == "one-sided" else [])


def _candidate(stencil, F, O, f0, level, noise):
    """The candidate of ``stencil`` at ``level`` from f's values F at the offsets O (see
    `_points`); ``noise`` bounds the rounding error of f's values (δ at x, or of Im f at
    x + is for the complex step)."""
    kind = "one-sided" if stencil.startswith("one-sided") else stencil
    step = np.abs(O[_points(stencil, level)[0]])
    used = [F[key] for key in _points(stencil, level)]
    with quiet():
        d = [_quotient(stencil, F, O, f0, level - i) for i in range(3)]
        if stencil == "complex-step":
            rounding = (noise + LOCAL_ROUNDING * np.abs(np.imag(F[("i", level)]))) / step
        else:
            spread = LOCAL_ROUNDING * np.max(np.abs(np.array(used + [f0])), axis=0)
            # Over min(h, 1): a term of f below its rounding δ is invisible to any difference,
            # and its derivative may be as large as δ over the smallest scale steps assume, 1
            # (x + ln(1 + exp(c − x)) at c − 14 and x ≈ 5e9: the softplus term, 1e-6, is below
            # δ = 2e-6 there, yet its slope 8e-7 is all of f′).
            noise_in_quotient = NOISE_WEIGHT[kind] * (noise + spread) / step
            rounding = NOISE_WEIGHT[kind] * (noise + spread) / np.minimum(step, 1.0)
        if stencil == "complex-step":
            noise_in_quotient = rounding
        # No float is closer to the derivative than rounding to floats allows.
        rounding = rounding + UNDERFLOW
        rate = 2.0 ** ORDER["central" if stencil == "richardson" else kind]
        truncation, irregular = _truncation_error(d[0], d[1], d[2], rate, noise_in_quotient)
        value = d[0]
        if stencil == "richardson":
            # Neville's tableau in u = t², t the half-width of each central stencil as
            # rounding placed it (a ratio of 2 only nominally, where x's ulps are coarse):
            # each level removes one even power of t; the last two levels give the error
            # estimate, which means nothing unless the quotients converge as t².
            half = [(O[(1, level - i)] - O[(-1, level - i)]) / 2 for i in range(3)]
            u = [(t / half[0]) ** 2 for t in half]      # relative, so that t² cannot underflow
            r1 = [d[i] + (d[i] - d[i + 1]) * u[i] / (u[i + 1] - u[i]) for i in (0, 1)]
            value = r1[0] + (r1[0] - r1[1]) * u[0] / (u[2] - u[0])
            truncation = np.where(irregular, truncation, SAFETY * np.abs(value - r1[0]))
        irregular = irregular | ~np.all(np.isfinite(value), axis=0)
    if stencil == "complex-step":
        plus, minus = np.real(F[("i", level)]), f0
    elif kind == "one-sided" or stencil == "forward":
        plus, minus = F[_points(stencil, level)[0]], f0
    else:
        plus, minus = F[(1, level)], F[(-1, level)]
    return _Candidate(stencil, level, step, value, truncation, rounding, irregular, plus, minus,
                      0.0 if stencil == "complex-step" else spread)


def _jump_mask(left, middle, right, f0, h, value, x, noise):
    """Per point, whether the slopes on either side of ``middle`` (f at three points h apart:
    x − h, x, x + h for the central stencil; x, x + h, x + 2h for a one-sided one) differ by
    far more than a smooth function allows: a kink hidden in smooth operations (√(x²) = |x|
    at 1e-12), which no operation's kink test can see, or a step that spans many periods.
    The jump |left − 2·middle + right| / h is |f″|·h for a smooth f; it is compared with the
    derivative and the scale of f, beyond what the rounding δ of f can make of it (any
    output)."""
    with quiet():
        jump = np.abs((left - middle) + (right - middle)) / h     # no overflow near the largest floats
        scale = np.maximum(np.abs(value), np.maximum(1.0, np.abs(f0)) / np.maximum(1.0, np.abs(x)))
        return np.any(jump >= 0.1 * scale + 4.0 * noise / h, axis=0)


def _done(candidate):
    """Per point, whether a smaller step would not help or is not needed: rounding is as large
    as truncation (within BALANCE), or the error is already as small as the stencil's target
    (`TARGET`) or `GOOD_ENOUGH`."""
    with quiet():
        balanced = candidate.truncation <= BALANCE * candidate.rounding
        goal = max(4.0 * TARGET[candidate.kind], GOOD_ENOUGH)
        small = candidate.estimate <= goal * np.maximum(1.0, np.abs(candidate.value))
    return np.all(balanced | small, axis=0)


def _unit_scale_level(x, h, noise, method):
    """Per point, when |x| ≥ 8, the ladder level of the step a function of unit scale would
    want — the scale the base step does not assume: (3δ)^(1/3), where central differences'
    truncation (f‴ ≈ 1) and rounding (δ over the step) balance, and at least ε^(1/3) — or
    the finest level the float spacing at x allows (20 ulps); −1 elsewhere."""
    if method == "complex-step":
        return np.full(np.shape(x), -1)[()]
    with quiet():
        wanted = np.maximum(np.max(3.0 * noise, axis=0) ** (1.0 / 3.0), EPS ** (1.0 / 3.0))
        finest = np.floor(np.log2(h / (20 * np.spacing(np.abs(x)))))
        level = np.minimum(np.round(np.log2(h / wanted)), finest)
        return np.where((np.abs(x) >= 8) & np.isfinite(level), level, -1).astype(int)[()]


def _contradicts(plus, minus, step, center, noise, candidate):
    """Per point, whether the central quotient (plus − minus)/2·step at a finer step
    disagrees with ``candidate`` by more than both their errors allow: the candidate's
    estimate; at the finer step, a quarter of the rounding bound, which is pessimistic by a
    few times (a false alarm costs a search from there, never a wrong claim), and the
    candidate's truncation scaled down to the finer step."""
    with quiet():
        value = (plus - minus) / (2 * step)
        spread = LOCAL_ROUNDING * np.maximum(np.maximum(np.abs(plus), np.abs(minus)), np.abs(center))
        rounding = NOISE_WEIGHT["central"] * (noise + spread) / step
        allowed = (candidate.estimate + rounding / 4
                   + candidate.truncation * (step / candidate.step) ** ORDER[candidate.kind])
        return np.any(np.abs(value - candidate.value) > allowed, axis=0)


def _balance_levels(candidate):
    """How many levels down (negative: up) the step where truncation and rounding balance
    lies: h* = h·(R / (p·T))^(1/(p+1)) for an error T·(h/s)ᵖ + R·s/h (for the complex step,
    whose rounding does not grow as h shrinks, where T falls to R/4); the most demanding
    output decides."""
    p = ORDER[candidate.kind]
    with quiet():
        t = np.maximum(np.asarray(candidate.truncation, dtype=float), 1e-300)
        r = np.maximum(np.asarray(candidate.rounding, dtype=float), 1e-300)
        ratio = np.sqrt(r / (4.0 * t)) if candidate.kind == "complex-step" else (r / (p * t)) ** (1.0 / (p + 1))
        levels = np.where(np.isfinite(ratio) & (ratio > 0), -np.log2(ratio), FIRST_JUMP)
    return int(round(float(np.max(levels))))


# ----------------------------------------------------------------------------- one point

class _Exhausted(Exception):
    """The search's budget of evaluations is spent."""


class _Ladder:
    """f on the ladder of one variable at one point: each point evaluated once (and counted),
    with its status: usable, or why not ('domain', 'overflow', 'kink', 'pole')."""

    def __init__(self, graph, point, j, h, center_sides, ignore_sides=False):
        self.graph, self.point, self.j, self.h = graph, point, j, h
        self.center_sides = center_sides
        self.ignore_sides = ignore_sides
        self.F, self.O, self.status, self.errors = {}, {}, {}, {}
        self.spent = 0
        self.overflowed = False      # some quotient was not finite though f's values were

    def offset(self, key):
        axis, level = key
        nominal = self.h * 2.0 ** -level
        if axis == "i":
            return nominal
        return (self.point[self.j] + axis * nominal) - self.point[self.j]

    def get(self, key):
        """The status of one ladder point, evaluating it first if needed."""
        if key in self.status:
            return self.status[key]
        axis, level = key
        offset = self.offset(key)
        nominal = self.h * 2.0 ** -level
        # A step that rounding moves by more than 5% (a few ulps of x), or a complex step in
        # the subnormal range, is below what the ladder can use.
        if (axis == "i" and nominal < 1e-290) or (axis != "i" and abs(offset - axis * nominal) > 0.05 * nominal):
            self.status[key] = "vanished"
            return "vanished"
        if self.spent >= MAX_EVALUATIONS:
            raise _Exhausted()
        self.spent += 1
        shifted = list(self.point)
        shifted[self.j] = self.point[self.j] + (1j * offset if axis == "i" else offset)
        try:
            values = evaluate(self.graph, shifted)
        except DomainError as error:
            self.errors[key] = error
            self.status[key] = "overflow" if error.kind == "overflow" else "domain"
            return self.status[key]
        status = "ok"
        if not self.ignore_sides:
            for (_, kind, here), (_, _, there) in zip(self.center_sides, singular_sides(self.graph, values)):
                if here != tuple(np.ravel(np.real(np.sign(there)))):
                    status = kind
                    break
        self.F[key] = np.array(output_values(self.graph, values))
        self.O[key] = offset
        self.status[key] = status
        return status

    def usable(self, keys):
        """None when every point is usable, else the first reason one is not (evaluating in
        order and stopping at the first that fails)."""
        for key in keys:
            status = self.get(key)
            if status != "ok":
                return status
        return None


FALLBACK_WORDS = {"domain": "leaves the domain", "overflow": "makes f overflow",
                  "kink": "straddles a kink", "pole": "straddles a pole",
                  "vanished": "has a step below the spacing of floats at x",
                  "jump": "straddles a jump in slope (a kink inside smooth operations, as √(x²) at 0)",
                  "coarse": "is too coarse: truncation dominates its error estimate (the function changes "
                            "faster than the step resolves)"}


def _own_candidate(ladder, method, level, center, noise, x, graph, point, j):
    """(candidate or None, why not): the method's own stencil at ``level``."""
    reason = ladder.usable(_points(method, level))
    if reason is not None:
        return None, reason
    F, O = ladder.F, ladder.O
    if method == "complex-step":
        shifted = list(point)
        shifted[j] = point[j] + 1j * O[("i", level)]
        _, _, imag = float_error_bounds(graph, shifted)
        noise = np.array([imag[slot] for slot in graph.outputs], dtype=float)
    candidate = _candidate(method, F, O, center, level, noise)
    ladder.overflowed |= not np.all(np.isfinite(candidate.value))
    if method != "complex-step" and not ladder.ignore_sides and np.any(_jumps(F, O, method, level, center, candidate,
                                                                               x, noise)):
        candidate.irregular = True      # usable only if nothing else is, with an infinite estimate
        return candidate, "jump"
    return candidate, None


def _jumps(F, O, stencil, level, center, candidate, x, noise):
    """Per point, whether the slopes jump (`_jump_mask`) at any of the three levels a
    candidate uses: x − s, x, x + s for central stencils; x, x + s, x + 2s on the side of
    forward and one-sided ones."""
    found = False
    for k in range(level - 2, level + 1):
        if stencil in ("central", "richardson"):
            left, middle, right, h = F[(-1, k)], center, F[(1, k)], O[(1, k)]
        else:
            side = -1 if stencil == "one-sided backward" else 1
            if (side, k - 1) not in F:      # the forward stencil's top level: x, x + s only
                continue
            left, middle, right, h = center, F[(side, k)], F[(side, k - 1)], np.abs(O[(side, k)])
        found = found | _jump_mask(left, middle, right, center, h, candidate.value, x, noise)
    return found


def _one_sided_candidates(ladder, level, center, noise, x):
    """The one-sided second-order candidates at ``level`` on each side whose points are
    usable and whose slopes do not jump."""
    found = []
    for side, stencil in ((1, "one-sided forward"), (-1, "one-sided backward")):
        if ladder.usable(_points(stencil, level)) is None:
            candidate = _candidate(stencil, ladder.F, ladder.O, center, level, noise)
            jumps = _jumps(ladder.F, ladder.O, stencil, level, center, candidate, x, noise)
            if np.all(np.isfinite(candidate.value)) and not np.any(jumps):
                found.append(candidate)
    return found


class _Search:
    """The step search for one variable at one point (see the module doc): the ladder, the
    candidates found, and the bracket of levels known too coarse (unusable, irregular or
    dominated by truncation) and too fine (dominated by rounding, or a step below the spacing
    of floats)."""

    def __init__(self, graph, point, j, method, center, center_sides, noise, at_kink):
        self.graph, self.point, self.j, self.method = graph, point, j, method
        self.center, self.noise, self.x = center, noise, point[j]
        self.ladder = _Ladder(graph, point, j, step_size(self.x, method), center_sides,
                              ignore_sides=at_kink or method == "complex-step")
        self.regular, self.irregular, self.unusable = [], [], []
        self.coarse, self.fine, self.visited = -1, MAX_LEVEL + 1, set()
        self.fallback = None

    def own(self, level):
        return _own_candidate(self.ladder, self.method, level, self.center, self.noise, self.x, self.graph,
                              self.point, self.j)

    def explore(self, level):
        """Probe levels from ``level`` until one is balanced (`_done`), the bracket closes or
        the budget is spent."""
        x, jump = self.x, FIRST_JUMP
        small_x_level = int(round(-math.log2(abs(x)))) if self.method != "complex-step" and 0 < abs(x) < 1 else None
        while True:
            self.visited.add(level)
            own, reason = self.own(level)
            if reason == "jump":
                self.irregular.append(own)
                own = None
            if level == 0 and own is None:
                self.fallback = reason
                if self.method == "complex-step" or self.ladder.ignore_sides:
                    return
            if own is not None and own.regular:
                self.regular.append(own)
                shift = _balance_levels(own)
                if not bool(_done(own)):
                    self.coarse = level
                    next_level = level + max(1, shift)
                elif shift < -1 and level - self.coarse > 1 and own.key <= min(c.key for c in self.regular):
                    self.fine = level              # dominated by rounding, with room above: step back up
                    next_level = max(self.coarse + 1, level + shift)
                else:
                    return
            else:
                if reason == "vanished":
                    self.fine = min(self.fine, level)
                else:
                    self.coarse = max(self.coarse, level)
                    (self.irregular.append(own) if own is not None else self.unusable.append(level))
                if small_x_level is not None and self.coarse < small_x_level < self.fine \
                        and small_x_level not in self.visited:
                    next_level = small_x_level
                else:
                    next_level, jump = level + jump, jump * 2
            if next_level >= self.fine:
                next_level = (self.coarse + self.fine) // 2
            if next_level in self.visited or not self.coarse < next_level < self.fine or next_level > MAX_LEVEL:
                return
            level = next_level

    def contradicted(self, best, level):
        """Whether the central quotient at ``level`` disagrees with ``best`` (`_contradicts`)."""
        if self.ladder.usable([(1, level), (-1, level)]) is not None:
            return False
        F, O = self.ladder.F, self.ladder.O
        step = (O[(1, level)] - O[(-1, level)]) / 2
        return bool(_contradicts(F[(1, level)], F[(-1, level)], step, self.center, self.noise, best))

    def run(self):
        """(the chosen candidate or None, the fallback reason, the ladder)."""
        try:
            self.explore(0)
            self.one_sided()
            # The base step assumes f varies on the scale of |x|. Where |x| is large, one
            # quotient at the unit scale checks it (x + cos(x) at 1e12: the base step spans
            # 10⁵ periods, and its quotients, all 1 ± 1e-7, look converged).
            unit = int(_unit_scale_level(self.x, self.ladder.h, self.noise, self.method))
            best = min(self.regular, key=lambda c: c.key) if self.regular else None
            if best is not None and unit >= 0 and best.level <= unit - 2 and unit not in self.visited:
                if self.contradicted(best, unit):
                    self.irregular += self.regular
                    self.regular, self.unusable = [], []
                    self.coarse, self.fine = max(self.coarse, unit - 1), MAX_LEVEL + 1
                    self.explore(unit)
                    self.one_sided()
        except _Exhausted:
            pass
        best = _choose(self.regular, self.irregular)
        fallback = self.fallback
        if best is None:
            return None, fallback, self.ladder
        if best.stencil == self.method and best.level == 0:
            fallback = None
        elif fallback is None:
            fallback = "coarse"
        return best, fallback, self.ladder

    def one_sided(self):
        """One-sided stencils, the remedy where f changes character on one side: at the base
        level when the base stencil left the domain or straddled a kink, a pole or a jump
        (σ(|ln|x||) at 1e-168 is 1/(1 + x) on x's side of the kink at 0, smooth on the scale
        of 1, while steps below x see nothing but the rounding of 1); and, where the
        method's stencil resolved f nowhere, at the deepest two levels where it could not be
        used. Not across an overflow, where f is defined on both sides: from the far side,
        structure on the near one is invisible (x + ln(1 + exp(c − x)) beyond c is exactly
        linear in floats, while its derivative at c + 15 is not 1)."""
        levels = sorted(self.unusable, reverse=True)[:2] if not self.regular else []
        if self.fallback in ("domain", "kink", "pole", "jump") and 0 not in levels:
            levels.append(0)
        for level in levels:
            for candidate in _one_sided_candidates(self.ladder, level, self.center, self.noise, self.x):
                (self.regular if candidate.regular else self.irregular).append(candidate)


def _choose(regular, irregular):
    """The candidate to answer with. Among regular candidates, each estimate is checked
    against those from steps no larger: if both claims held, |D₁ − D₂| could not exceed the
    sum of their estimates, so a candidate whose estimate is smaller than |D₁ − D₂| − e₂ is
    wrong (the quotients of a step spanning many periods can look regular by chance), and
    its estimate becomes |D₁ − D₂| + e₂, which holds if the other's does. The smallest
    estimate so checked wins. With no regular candidate, the least bad irregular one is returned with an
    infinite estimate: no step on the ladder resolved f."""
    finite = [c for c in irregular if np.all(np.isfinite(c.value))]
    if not regular:
        if not finite:
            return None
        best = min(finite, key=lambda c: c.key)
        best.truncation = np.full(np.shape(best.value), np.inf)
        return best
    claimed = [c.estimate for c in regular]
    for c, own in zip(regular, claimed):
        checked = own
        with quiet():
            for other, theirs in zip(regular, claimed):
                # Of two claims that contradict each other, the one from the larger step gives
                # way (a coarse step aliases what a fine one resolves; a fine step's rounding
                # is in its own claim); of equal steps, both.
                if other is not c and np.all(c.step >= other.step):
                    gap = np.abs(c.value - other.value)
                    checked = np.where(checked < gap - theirs, np.maximum(checked, gap + theirs), checked)
        c.truncation = c.truncation + (checked - own)
    return min(regular, key=lambda c: c.key)


def _note(best, fallback, method, variable_name, ladder):
    """What was done instead of the base stencil, in a sentence (None when it was the answer)."""
    if fallback is None:
        return None
    why = FALLBACK_WORDS[fallback]
    if fallback in ("domain", "overflow"):
        error = next((e for e in ladder.errors.values()), None)
        if error is not None:
            why += f" ({error})"
    if best.stencil == method:
        what = f"{method} with h = {float(best.step):.3g}"
    else:
        what = f"one-sided ({best.stencil.split()[1]}) second-order stencil with h = {float(best.step):.3g}"
    return (f"{what}, the step of smallest error estimate on the ladder h·2⁻ᵏ: the {method} stencil in "
            f"{variable_name} with its base step {why}")


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
    rows = []
    derivative_evaluations, estimate_evaluations, spent = 1, 0, 1
    for j in range(n):
        best, fallback, ladder = _Search(graph, point, j, method, center, center_sides, noise, at_kink).run()
        spent += ladder.spent
        if best is not None and best.stencil != "complex-step" and math.isfinite(best.key):
            best.with_noise(np.maximum(noise, _noise_at(graph, point, j, [ladder.O[k] for k in best.near_keys()])))
        if best is None:
            return Result("finite_difference", tuple(np.real(center)), None, Cost(spent, 0, spent * len(graph.nodes)),
                          details=details, **_no_stencil(graph.variables[j], fallback, ladder))
        used = {"central": 2, "richardson": 6}.get(best.stencil, 1 if best.stencil in ("forward", "complex-step") else 2)
        derivative_evaluations += used
        estimate_evaluations += ladder.spent - used
        jacobian[:, j] = best.value
        errors[:, j] = best.estimate
        rows.append(DifferenceRow(j, float(best.step), tuple(best.plus), tuple(best.minus), tuple(best.value),
                                  tuple(best.estimate), best.stencil, fallback,
                                  _note(best, fallback, method, graph.variables[j], ladder),
                                  tuple(np.broadcast_to(best.truncation, (m,))),
                                  tuple(np.broadcast_to(best.rounding, (m,))), tuple(noise), ladder.spent))
    details.update(steps=tuple(r.step for r in rows), rows=tuple(rows), error_estimate=errors,
                   notes=tuple(r.note for r in rows if r.note), estimate_evaluations=estimate_evaluations)
    return Result("finite_difference", tuple(np.real(center)), jacobian,
                  Cost(derivative_evaluations, 0, derivative_evaluations * len(graph.nodes)), details=details)


def _no_stencil(variable, fallback, ladder):
    """The error (and its kind) of a column no stencil could make."""
    if ladder.overflowed:
        return {"error": f"every difference quotient in {variable} overflows: the derivative is beyond the "
                         "range of floats", "error_kind": "overflow"}
    error = next((e for e in ladder.errors.values()), None)
    why = f"({error})" if error is not None else f"(every stencil {FALLBACK_WORDS.get(fallback, fallback)})"
    kind = "overflow" if error is not None and error.kind == "overflow" else "domain"
    return {"error": f"no stencil in {variable} stays inside the domain {why}", "error_kind": kind}


def _noise_at(graph, point, j, offsets):
    """The largest bound δ on the rounding error of f's outputs at the points x + offset·eⱼ
    (`adcompare.rounding.float_error_bounds`): δ at x alone can miss what the stencil's points
    carry (ln(cosh(x3))^x1 at x1 = 0 is exactly 1, while at x1 = ±h the 9% error of
    ln(cosh(1e-7)) shows)."""
    largest = 0.0
    for offset in offsets:
        shifted = list(point)
        shifted[j] = point[j] + offset
        _, real, _ = float_error_bounds(graph, shifted)
        largest = np.maximum(largest, np.array([np.broadcast_to(real[slot], np.shape(real[slot])) for slot in graph.outputs],
                                               dtype=float))
    return largest


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
    evaluations, checks = len(_points(method, 0)), 0
    for j in range(n):
        h = step_size(point[j], method)
        F, O = {}, {}
        bad = np.zeros(shape, dtype=bool)
        for key in _points(method, 0):
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
            candidate = _candidate(method, F, O, center, 0, point_noise)
            fallback |= bad | candidate.irregular | ~_done(candidate)
            if method != "complex-step":
                fallback |= _jumps(F, O, method, 0, center, candidate, point[j], noise)
                # Where |x| is large, the check the single-point search makes at the unit scale.
                unit = _unit_scale_level(point[j], h, noise, method)
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
                    contradicted = _contradicts(plus, minus, offset, center, noise, candidate)
                    fallback |= check & (contradicted | ~plus_defined | ~minus_defined)
                    checks += 2
            if method != "complex-step":
                candidate.with_noise(np.maximum(noise, _noise_at(graph, point, j, [O[k] for k in candidate.near_keys()])))
        jacobian[:, j], errors[:, j] = np.real(candidate.value), candidate.estimate
        steps.append(h)
    fallback_evaluations = 0
    for position in map(tuple, np.argwhere(fallback)):
        single = run(graph, tuple(float(x[position]) for x in point), method)
        if single.error is not None:
            return Result("finite_difference", tuple(center), None,
                          Cost(1 + n * evaluations, 0, (1 + n * evaluations) * len(graph.nodes)),
                          details=details, error=f"{point_text(graph, point, position)}: {single.error}",
                          error_kind=single.error_kind)
        jacobian[(slice(None), slice(None), *position)] = single.jacobian
        errors[(slice(None), slice(None), *position)] = single.details["error_estimate"]
        fallback_evaluations += single.cost.primal_evaluations + single.details["estimate_evaluations"]
    used = {"central": 2, "richardson": 6}.get(method, 1)
    derivative_evaluations = 1 + n * used
    details.update(steps=tuple(steps), error_estimate=errors, estimate_evaluations=n * (evaluations - used) + checks,
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

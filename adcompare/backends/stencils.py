"""The arithmetic of finite differences at one level of their step ladder (see
`adcompare.backends.finite_difference` for the method and its sources).

A ladder level k has the nominal step h·2⁻ᵏ, h the base step (`step_size`). Its points are
keyed (axis, k): axis +1 or −1 for x ± h·2⁻ᵏ, 'i' for x + i·h·2⁻ᵏ. A mapping F takes keys to
f's values there (arrays over the outputs, and over the points when there are many), and O
to the exact offsets (x + s) − x. From them: each stencil's quotient, its `Candidate` (the
estimate with its truncation and rounding errors, and whether its quotients behave as the
stencil's order says), the jump-in-slope test, and the numbers the step search steers by.
Everything here works on single points and on arrays of points alike.
"""

import math
from dataclasses import dataclass

import numpy as np

from ..graph import quiet
from ..rounding import LOCAL_ROUNDING, UNDERFLOW

EPS = np.finfo(float).eps
# Richardson's error is O(h⁶) + O(ε/h), optimal near ε^(1/7); ε^(1/5) keeps 4h further
# from nearby singularities at a cost of ~1e-12 in round-off (see benchmarks/fd_accuracy.py).
STEP_EXPONENTS = {"central": 1.0 / 3.0, "forward": 1.0 / 2.0, "richardson": 1.0 / 5.0}
COMPLEX_STEP = 1e-20

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
FIRST_JUMP = 4    # levels the search jumps from an unusable one, doubling each time
BALANCE = 4.0     # truncation ≤ BALANCE·rounding: a smaller step would not help
SAFETY = 2.0      # on the Richardson estimate of the truncation error


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


def ladder_points(stencil, k):
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


def quotient(stencil, F, O, f0, level):
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


def truncation_error(d1, d2, d4, rate, roundoff):
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
class Candidate:
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


def candidate_at(stencil, F, O, f0, level, noise):
    """The candidate of ``stencil`` at ``level`` from f's values F at the offsets O (see
    `ladder_points`); ``noise`` bounds the rounding error of f's values (δ at x, or of Im f at
    x + is for the complex step)."""
    kind = "one-sided" if stencil.startswith("one-sided") else stencil
    step = np.abs(O[ladder_points(stencil, level)[0]])
    used = [F[key] for key in ladder_points(stencil, level)]
    with quiet():
        d = [quotient(stencil, F, O, f0, level - i) for i in range(3)]
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
        truncation, irregular = truncation_error(d[0], d[1], d[2], rate, noise_in_quotient)
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
        plus, minus = F[ladder_points(stencil, level)[0]], f0
    else:
        plus, minus = F[(1, level)], F[(-1, level)]
    return Candidate(stencil, level, step, value, truncation, rounding, irregular, plus, minus,
                      0.0 if stencil == "complex-step" else spread)


def jump_mask(left, middle, right, f0, h, value, x, noise):
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


def done(candidate):
    """Per point, whether a smaller step would not help or is not needed: rounding is as large
    as truncation (within BALANCE), or the error is already as small as the stencil's target
    (`TARGET`) or `GOOD_ENOUGH`."""
    with quiet():
        balanced = candidate.truncation <= BALANCE * candidate.rounding
        goal = max(4.0 * TARGET[candidate.kind], GOOD_ENOUGH)
        small = candidate.estimate <= goal * np.maximum(1.0, np.abs(candidate.value))
    return np.all(balanced | small, axis=0)


def unit_scale_level(x, h, noise, method):
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


def contradicts(plus, minus, step, center, noise, candidate):
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


def balance_levels(candidate):
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


def jumps(F, O, stencil, level, center, candidate, x, noise):
    """Per point, whether the slopes jump (`jump_mask`) at any of the three levels a
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
        found = found | jump_mask(left, middle, right, center, h, candidate.value, x, noise)
    return found

"""A second reference that shares nothing with sympy or with the operation table's partials:
high-precision numerical differentiation of f from primal evaluations only.

f is the Graph's primal evaluated over certified enclosures (`adcompare.certified`: each
operation's ``code`` with its interval meaning, exact constants, the point's floats taken
exactly), at x ± h for steps h that are powers of two, at a working precision raised until
each difference quotient is known to ``digits`` + 10 digits. Richardson extrapolation
(L. F. Richardson, Phil. Trans. R. Soc. A 210 (1911)) of the quotients at h, h/4, h/16, …
removes the truncation error term by term (h², h⁴, … for the central quotient
(f(x+h) − f(x−h))/2h; h, h², … for the one-sided ones (f(x+h) − f(x))/h and
(f(x) − f(x−h))/h), in the tableau of C. J. F. Ridders, "Accurate computation of F′(x) and
F′(x)F″(x)", Adv. Eng. Software 4 (1982) 75–76 (Numerical Recipes' ``dfridr``): each entry's
error is estimated from its neighbours, and a value is accepted once that estimate is below
10^-digits of the value (or of the size of f's quotients, for a derivative that is 0).

This is an estimate, not a proof: it holds when the tableau has reached the asymptotic
regime, which agreement to 50 digits across steps that differ by 4^k makes very likely but
cannot prove (a feature of f finer than every step tried would go unseen). Rounding is
controlled (the enclosures), truncation is estimated. One kind of fine feature is ruled
out: a piecewise operation (abs, relu, max, min) that is off its kink at x but changes
piece within the first step (x/max(asin x, y) at x = y = 2.8e-85, where asin x exceeds y
by x³/6 ≈ 3.7e-255). Before any quotient is taken, each such operation's kink argument is
enclosed over the whole stencil interval (interval arithmetic over [x, x + h]), and the
step is shrunk until the enclosure keeps the sign the argument has at x, so that every
step of the tableau stays on the piece that holds at x.

A central derivative (``side=0``) is returned only when both one-sided derivatives exist
and agree with it: at a kink the central quotient converges to their mean, which is not a
derivative.

    >>> from adcompare.parse import parse
    >>> r = numerical_derivative(parse("x^acos(tanh(10))"), (3.0,))
    >>> mpmath.nstr(r.value, 17), r.error < 1e-50
    ('3.0269639183049611e-5', True)
"""

import math
from dataclasses import dataclass
from typing import Optional

import mpmath
from mpmath import libmp

from .certified import MAX_DIGITS, certify_graph, evaluate_graph, node_arguments, schedule
from .intervals import Undefined, Unresolved, context, sign_of
from .ops import OPERATIONS, kink_argument

RATIO = 4                # each step is the previous one divided by 4
FIRST_STEP_BITS = 34     # the first step is about 2^-34 ≈ 6e-11 of the smallest of 1 and the nonzero |xᵢ|
MAX_LEVELS = 40          # steps tried: down to 4^-40 ≈ 1e-24 of the first
WINDOW = 10              # rows of the tableau kept (older ones are dropped)
QUOTIENT_FLOOR = mpmath.ldexp(1, -1080)   # a quotient's radius that no float can show
SHRINK_TRIES = 30        # where f is undefined at x ± h, the first step is divided by 2^10, this often
PIECE_BITS = 3_600       # a piece change is sought down to 2^-3600 (about 10^-1084) of the first step


@dataclass(frozen=True)
class ReferenceValue:
    """A numerical derivative: ``value`` (an mpmath mpf) with ``error``, an estimated bound
    on |value − ∂f/∂x| (absolute), and ``how`` it was obtained (the quotient, the steps, the
    levels, the working digits); or ``value`` None, ``how`` saying why it could not be
    established, and ``failure`` the kind of reason: 'undefined' (f is not defined on that
    side within the step), 'unresolved' (f's values could not be enclosed at any precision,
    or a piece change may lie within every step), 'not converged' (the quotients did not
    converge), 'not differentiable' (central: the one-sided derivatives differ) or a
    one-sided derivative's own failure (central: it could not be established).
    ``side``: 0 central, +1 right, −1 left."""

    value: Optional[object]
    error: Optional[object]
    how: str
    side: int = 0
    failure: Optional[str] = None

    @property
    def established(self):
        """True when ``value`` is a number."""
        return self.value is not None

    def agrees_with(self, other, tolerance=0.0):
        """Whether ``other`` (a float or mpf) lies within ``error`` + ``tolerance`` of ``value``."""
        with mpmath.workdps(60):
            return bool(abs(mpmath.mpf(other) - self.value) <= self.error + tolerance)


def numerical_derivative(graph, point, output=0, variable=0, side=0, digits=50):
    """∂(output ``output``)/∂(variable ``variable``) of ``graph`` at ``point`` (one float per
    variable), by Richardson extrapolation of difference quotients of certified primal
    values: a `ReferenceValue` (its ``value`` is None, with the reason in ``how``, when it
    cannot be established). ``side`` = +1 or −1 gives the one-sided derivative from the
    right or the left; ``digits`` (≥ 1) is the relative accuracy sought.

    Raises ValueError for an output, variable or side out of range.
    """
    if not 0 <= output < len(graph.outputs) or not 0 <= variable < graph.n_inputs or side not in (-1, 0, 1):
        raise ValueError("numerical_derivative: output, variable or side out of range")
    return numerical_column(graph, point, variable, side, digits)[output]


def numerical_jacobian(graph, point, side=0, digits=50):
    """Every entry of the Jacobian at once: a list of m rows of n `ReferenceValue` each
    (one set of evaluations of f per variable serves all outputs)."""
    columns = [numerical_column(graph, point, j, side, digits) for j in range(graph.n_inputs)]
    return [[columns[j][k] for j in range(graph.n_inputs)] for k in range(len(graph.outputs))]


def numerical_column(graph, point, variable, side=0, digits=50):
    """The derivatives of all outputs with respect to ``variable``, as `numerical_derivative`
    gives each (side 0: central, confirmed by both one-sided ones): a list of m
    `ReferenceValue`, from one set of evaluations of f."""
    if side != 0:
        return _Differences(graph, point, variable, side, digits).derivatives()
    central = _Differences(graph, point, variable, 0, digits).derivatives()
    right = _Differences(graph, point, variable, 1, digits).derivatives()
    left = _Differences(graph, point, variable, -1, digits).derivatives()
    results = []
    for c, r, l in zip(central, right, left):
        for one_sided, word in ((l, "left"), (r, "right")):
            if not one_sided.established:
                c = ReferenceValue(None, None, f"the {word} derivative could not be established: {one_sided.how}",
                                   failure=one_sided.failure)
                break
        if c.established and not (_close(c, r) and _close(c, l)):
            c = ReferenceValue(None, None, f"not differentiable here: the one-sided derivatives are "
                                           f"{mpmath.nstr(l.value, 17)} (left) and {mpmath.nstr(r.value, 17)} "
                                           "(right)", failure="not differentiable")
        results.append(c)
    return results


def _close(a, b):
    return abs(a.value - b.value) <= a.error + b.error


class _Differences:
    """Difference quotients of all outputs in one variable, on one side, and their tableau."""

    def __init__(self, graph, point, variable, side, digits):
        self.graph, self.point, self.variable, self.side, self.digits = graph, point, variable, side, digits
        self.m = len(graph.outputs)
        x = float(point[variable])
        # The first step is below every nonzero coordinate's size, not only x's: f may vary
        # on another's scale (x₁/|x₁ + x₂| in x₂ at x₂ = 0 varies on x₁'s, 4.4e-84; steps from
        # 6e-11 down did not reach it in 40 levels).
        scale = min([1.0] + [abs(float(v)) for v in point if float(v) != 0])
        self.first_step = mpmath.ldexp(mpmath.mpf(1), math.frexp(scale)[1] - 1 - FIRST_STEP_BITS)   # exact
        self.x = mpmath.mpf(x)
        self.piece_signs = None     # (the kink arguments' signs at x, the digits that settled them)

    # -- f over enclosures

    def _f(self, offset, working):
        """Enclosures of the outputs at x + offset (exact), at ``working`` digits."""
        values = evaluate_graph(self.graph, self._moved(offset), context(working))
        outputs = [values[slot] for slot in self.graph.outputs]
        failed = next((v for v in outputs if isinstance(v, ArithmeticError)), None)
        if failed is not None:
            raise failed
        return outputs

    def _quotients(self, h, working):
        """The quotients at step h (an mpf power of two): (midpoints, radii) per output, or
        raise Undefined / Unresolved."""
        ctx = context(working)
        hh = ctx.make_mpf((h._mpf_, h._mpf_))
        if self.side == 0:
            plus, minus = self._f(h, working), self._f(-h, working)
            quotients = [(p - q) / (2 * hh) for p, q in zip(plus, minus)]
        elif self.side > 0:
            plus, center = self._f(h, working), self._f(mpmath.mpf(0), working)
            quotients = [(p - c) / hh for p, c in zip(plus, center)]
        else:
            center, minus = self._f(mpmath.mpf(0), working), self._f(-h, working)
            quotients = [(c - q) / hh for c, q in zip(center, minus)]
        return quotients

    def _precise_quotients(self, h, scale):
        """Quotients at step h whose enclosures are narrower than 10^-(digits+10) of
        max(|quotient|, scale): (midpoints, radii), raising the working precision as needed."""
        working = self.digits + 20 + max(0, int(mpmath.log10(max(abs(self.x), h) / h)) + 1)
        reason = ""
        while working <= 2 * MAX_DIGITS:
            try:
                quotients = self._quotients(h, working)
            except Unresolved as error:
                reason = str(error)
                working *= 2
                continue
            middles, radii, narrow = [], [], True
            with mpmath.workdps(working):
                for q in quotients:
                    a, b = (mpmath.mp.make_mpf(e) for e in q._mpi_)
                    middle, radius = (a + b) / 2, (b - a) / 2
                    if not (mpmath.isfinite(middle) and radius <= mpmath.mpf(10) ** -(self.digits + 10)
                            * max(abs(middle), scale)):
                        narrow = False
                    middles.append(middle)
                    radii.append(radius)
            if narrow:
                return middles, radii, working
            reason = "the quotients' enclosures stay too wide"
            working *= 2
        raise Unresolved(f"{reason} at {2 * MAX_DIGITS:,} digits")

    def _moved(self, offset):
        moved = list(self.point)
        moved[self.variable] = mpmath.mp.make_mpf(libmp.mpf_add(self.x._mpf_, offset._mpf_, 0))
        return moved

    def _kink_signs(self, low, high, working):
        """{slot: the sign of its kink argument, or None where the enclosure does not
        settle it} for each live piecewise operation whose arguments can be enclosed (where
        they cannot, f's domain is `_start`'s concern), with the variable enclosed over
        [x + low, x + high] (offsets exact mpf), at ``working`` digits."""
        slots = [slot for slot in range(self.graph.n_inputs, self.graph.size)
                 if self.graph.live[slot] and OPERATIONS[self.graph.node(slot).op].kink_side is not None]
        ctx = context(working)
        point = list(self.point)
        point[self.variable] = ctx.make_mpf(tuple(libmp.mpf_add(self.x._mpf_, o._mpf_, 0) for o in (low, high)))
        values = evaluate_graph(self.graph, point, ctx, set(slots))
        signs = {}
        for slot in slots:
            args = node_arguments(ctx, self.graph.node(slot), values)
            if any(isinstance(a, ArithmeticError) for a in args):
                continue
            try:
                signs[slot] = sign_of(kink_argument(args), "a kink argument")
            except Unresolved:
                signs[slot] = None
        return signs

    def _within_pieces(self, h):
        """The largest step, h or a power of two below it, whose whole stencil interval keeps
        every kink argument that is not 0 at x on the sign it has at x (see the module's
        docstring): the pieces at x hold at every step of the tableau. Raises Unresolved
        when no step down to 2^-`PIECE_BITS` of h does."""
        if self.piece_signs is None:
            zero, signs = mpmath.mpf(0), {}
            for working in schedule(17):
                signs = self._kink_signs(zero, zero, working)
                if all(s is not None for s in signs.values()):
                    break
            # On its kink at x (sign 0) the point's own kink, which the sides are about;
            # unsettled at every precision, nothing to keep.
            self.piece_signs = {slot: s for slot, s in signs.items() if s}, working
        signs, working = self.piece_signs
        if not signs:
            return h
        low, high = {0: (-1, 1), 1: (0, 1), -1: (-1, 0)}[self.side]

        def fits(exponent):
            step = mpmath.ldexp(mpmath.mpf(1), exponent)
            found = self._kink_signs(low * step, high * step, working + 10)
            return all(found.get(slot, s) == s for slot, s in signs.items())

        top = int(mpmath.frexp(h)[1]) - 1        # h is a power of two: 2^top
        if fits(top):
            return h
        bottom = top - PIECE_BITS
        if not fits(bottom):
            raise Unresolved(f"a piecewise operation may change piece within every step down to "
                             f"{mpmath.nstr(mpmath.ldexp(1, bottom), 3)}")
        while top - bottom > 1:        # bottom fits, top does not
            middle = (top + bottom) // 2
            top, bottom = (top, middle) if fits(middle) else (middle, bottom)
        return mpmath.ldexp(mpmath.mpf(1), bottom)

    def _start(self):
        """The first step at which f is defined on the stencil and the stencil stays on the
        pieces that hold at x (`_within_pieces`): (h, `_scale` at h)."""
        h = self.first_step
        for _ in range(SHRINK_TRIES):
            h = self._within_pieces(h)
            values = [certify_graph(self.graph, self._moved(offset), self.digits + 10) for offset in self._offsets(h)]
            if not any(c.failure == "undefined" for row in values for c in row):
                return h, self._scale(h)
            h = h / 1024
        side = {0: "on both sides", 1: "on the right", -1: "on the left"}[self.side]
        raise Undefined(f"f is not defined {side} of x within a step of {mpmath.nstr(h * 1024, 3)}")

    def _scale(self, h):
        """How fast f varies at step h, the largest |f(x ± h) − f(x)| / h of certified
        values, which sets the accuracy sought for a derivative that is 0 or nearly so
        (max |f| / |x| does not: at x = 2e-313 it is 1e313, and accepts anything).

        Only a difference beyond the two values' radii counts, read at the first precision
        of `adcompare.certified.schedule` that shows one: the variation may be far below f
        (|x| + acos x at 0 varies as h³/6, 3e-32 of f at the first step; x/asin x at
        x = 2.8e-85 by about 1e-340 of f at h = 2e-255), and read at too few digits the
        values' own noise was taken for it (a scale of 1e214, which accepted any quotient).
        Where no precision shows a difference (f constant at the stencil: max(√(x²), 1e-10)
        at 0), the scale is such that 10^-(digits+10) of it is 2^-1080, below half the
        smallest float."""
        zero = mpmath.mpf(0)
        for working in schedule(self.digits):
            center = certify_graph(self.graph, self._moved(zero), working)
            rows = [certify_graph(self.graph, self._moved(offset), working) for offset in self._offsets(h)]
            pairs = [(c, c0) for row in rows for c, c0 in zip(row, center) if c.established and c0.established]
            with mpmath.workdps(working + 20):
                seen = [abs(c.value - c0.value) for c, c0 in pairs if abs(c.value - c0.value) > 2 * (c.radius + c0.radius)]
            if seen:
                return max(seen) / h
            if all(c.radius == 0 and c0.radius == 0 for c, c0 in pairs):
                break                  # exact values, and equal: f is constant at the stencil
        return QUOTIENT_FLOOR * mpmath.mpf(10) ** (self.digits + 10)

    def _offsets(self, h):
        return {0: (h, -h), 1: (mpmath.mpf(0), h), -1: (mpmath.mpf(0), -h)}[self.side]

    # -- the tableau

    def derivatives(self):
        """One `ReferenceValue` per output."""
        name = {0: "central", 1: "right one-sided", -1: "left one-sided"}[self.side]
        try:
            h, scale = self._start()
        except Undefined as error:
            return [ReferenceValue(None, None, str(error), self.side, "undefined")] * self.m
        except Unresolved as error:
            return [ReferenceValue(None, None, f"the {name} quotients could not be evaluated: {error}", self.side,
                                   "unresolved")] * self.m
        order = 2 if self.side == 0 else 1           # the truncation error's powers of h
        rows = [[] for _ in range(self.m)]             # per output: tableau rows of (value, radius)
        best = [None] * self.m                          # per output: (error, value, level, k)
        done = [None] * self.m
        working = self.digits + 20
        first = h
        for level in range(MAX_LEVELS):
            try:
                middles, radii, working = self._precise_quotients(h, scale)
            except (Undefined, Unresolved) as error:
                for k in range(self.m):
                    if done[k] is None:
                        done[k] = ReferenceValue(None, None, f"the {name} quotient at h = {mpmath.nstr(h, 3)} "
                                                             f"could not be evaluated: {error}", self.side,
                                                             "unresolved")
                break
            with mpmath.workdps(working):
                for k in range(self.m):
                    if done[k] is not None:
                        continue
                    previous = rows[k][-1] if rows[k] else []
                    row = [(middles[k], radii[k])]
                    for p in range(1, min(len(previous) + 1, WINDOW)):
                        factor = mpmath.mpf(RATIO) ** (order * p)
                        (a, ra), (b, rb) = row[p - 1], previous[p - 1]
                        row.append(((factor * a - b) / (factor - 1), (factor * ra + rb) / (factor - 1)))
                        estimate = max(abs(row[p][0] - a), abs(row[p][0] - b)) + row[p][1]
                        if best[k] is None or estimate < best[k][0]:
                            best[k] = (estimate, row[p][0], level, p)
                    rows[k].append(row)
                    if best[k] is not None:
                        estimate, value = best[k][0], best[k][1]
                        if estimate <= mpmath.mpf(10) ** -self.digits * max(abs(value), scale):
                            done[k] = ReferenceValue(
                                +value, +estimate,
                                f"{name} differences at h = {mpmath.nstr(first, 3)} … {mpmath.nstr(h, 3)}, Richardson "
                                f"extrapolated over {best[k][3] + 1} steps (Ridders' tableau), f evaluated over "
                                f"certified enclosures at {working} digits", self.side)
            if all(d is not None for d in done):
                break
            h = h / RATIO
        for k in range(self.m):
            if done[k] is None and self.side != 0:
                done[k] = _aitken(rows[k], self.digits, scale, working, first, h, name, self.side)
            if done[k] is None:
                reached = "" if best[k] is None else f" (best error estimate {mpmath.nstr(best[k][0], 3)})"
                done[k] = ReferenceValue(None, None, f"the {name} differences did not converge to {self.digits} digits "
                                                     f"with steps down to {mpmath.nstr(h, 3)}{reached}", self.side,
                                                     "not converged")
        return done


AITKEN_RUN = 4   # successive Δ² values that must agree


def _aitken(rows, digits, scale, working, first, h, name, side):
    """A one-sided derivative whose quotients converge as a power of h that is not an
    integer (x·√|x| at 0: the quotient is √h), which the tableau's integer powers cannot
    remove: Aitken's Δ² process (A. C. Aitken, Proc. R. Soc. Edinburgh 46 (1926) 289–305)
    on the plain quotients at h, h/4, h/16, …, exact for q(h) = L + C·h^p with any p > 0.
    Accepted only when the quotients contract (successive differences shrink by a ratio
    below 1, the same on AITKEN_RUN triples) and the last AITKEN_RUN values of L agree to
    ``digits`` digits; None otherwise."""
    with mpmath.workdps(working):
        q = [row[0][0] for row in rows]
        if len(q) < AITKEN_RUN + 2:
            return None
        limits, ratios = [], []
        for i in range(len(q) - AITKEN_RUN - 2, len(q) - 2):
            d1, d2 = q[i + 1] - q[i], q[i + 2] - q[i + 1]
            if d1 == 0 or d2 == d1:
                return None
            ratios.append(d2 / d1)
            limits.append(q[i + 2] - d2 * d2 / (d2 - d1))
        if not all(0 < r < 1 for r in ratios) or max(ratios) - min(ratios) > mpmath.mpf(10) ** -3 * max(ratios):
            return None
        value = limits[-1]
        estimate = max(abs(a - value) for a in limits) + abs(q[-1] - q[-2]) * mpmath.mpf(10) ** -digits
        if estimate > mpmath.mpf(10) ** -digits * max(abs(value), scale):
            return None
        return ReferenceValue(+value, +estimate,
                              f"{name} differences at h = {mpmath.nstr(first, 3)} … {mpmath.nstr(h, 3)}, converging as "
                              f"h^{mpmath.nstr(-mpmath.log(ratios[-1], RATIO), 3)} and extrapolated by Aitken's Δ², "
                              f"f evaluated over certified enclosures at {working} digits", side)


# ----------------------------------------------------------------------------- the referee

SETTLING_DIGITS = 50
SYMPY_DIGITS = 20      # how closely a certified sympy value must match the numerical derivative


@dataclass(frozen=True)
class Decision:
    """How a dispute between sympy and forward/reverse mode at one entry was settled:
    ``numerical`` (the `ReferenceValue`), ``verdict`` ('symbolic wrong': it agrees with
    forward and reverse mode and not with sympy; 'forward/reverse wrong': the opposite;
    'undecided': with both, neither, or it could not be established) and ``text``, one
    sentence for a report."""

    output: int
    variable: int
    numerical: ReferenceValue
    verdict: str
    text: str


def settle_disputes(graph, point, comparison, recompare, digits=SETTLING_DIGITS):
    """Decide, before anyone is blamed, the entries where forward or reverse mode differ
    from sympy's certified value beyond what every explanation (rounding among them)
    accounts for: the high-precision numerical derivative of f (`numerical_derivative`),
    which shares nothing with either, is computed there and compared with both, each
    within its own tolerance (the method's, plus the derivative's error estimate).

    ``recompare(referee)`` redoes the cross-check with the decisions ({(output, variable):
    Decision}; `adcompare.compare.compare`'s ``referee``); its Comparison is returned, or
    ``comparison`` itself when nothing is disputed.
    """
    disputed = {}
    for entry, check in comparison.mismatches:
        if entry.reference_method == "symbolic" and check.method in ("forward", "reverse") \
                and check.explanation is None:
            disputed.setdefault((entry.output, entry.variable), (entry, []))[1].append(check)
    if not disputed:
        return comparison
    decisions = {}
    for (k, j), (entry, checks) in disputed.items():
        numerical = numerical_derivative(graph, point, k, j, digits=digits)
        decisions[(k, j)] = _decide(k, j, numerical, entry, checks)
    return recompare(decisions)


def refute_expression(graph, point, symbolic, lost_constants=(), digits=SETTLING_DIGITS):
    """Decisions ({(output, variable): Decision}, for `adcompare.compare.compare`'s
    ``referee``) where sympy's result cannot be the reference although the float methods
    may agree with it, because they can share its error:

    - sympy's expression for f is not f: its certified value at ``point`` differs from the
      Graph's own, evaluated over certified enclosures from the trace. Every entry's
      reference is then the high-precision numerical derivative of f.
    - a folded constant's float value is lost to rounding (``lost_constants``, from
      `adcompare.backends.symbolic.lost_to_rounding`): tanh(20) rounds to 1, so
      acos(tanh(20)) is 0 in floats, 4.1e-9 exactly, and sympy 1.14, deciding that it is
      zero, differentiates exp(acos(tanh(20))·x) to 0 as well. Each entry's sympy value is
      then compared with the numerical derivative, and refuted where they differ.

    {} when neither holds, or sympy did not run."""
    if symbolic is None or symbolic.error is not None or not symbolic.details.get("certified"):
        return {}
    m = len(graph.outputs)
    exact = certify_graph(graph, point, 17)
    wrong = []
    with mpmath.workdps(60):
        for k, (theirs, ours) in enumerate(zip(symbolic.details["certified"][:m], exact)):
            if theirs.established and ours.established and \
                    abs(theirs.value - ours.value) > theirs.radius + ours.radius:
                wrong.append((k, theirs.value, ours.value))
    if wrong:
        k, theirs, ours = wrong[0]
        why = (f"sympy's expression for f is not f here: its value at the point is {mpmath.nstr(theirs, 17)}, "
               f"where f's, evaluated exactly from the trace, is {mpmath.nstr(ours, 17)}")
    elif lost_constants:
        slot, value, truth = lost_constants[0]
        why = (f"a constant is lost to rounding in floats (v{graph.baydin_number(slot)} is {value!r} in floats, "
               f"{mpmath.nstr(truth, 6)} exactly), so the float methods cannot confirm sympy")
    else:
        return {}
    decisions = {}
    for j in range(graph.n_inputs):
        for k, numerical in enumerate(numerical_column(graph, point, j, 0, digits)):
            if not numerical.established:
                decisions[(k, j)] = Decision(k, j, numerical, "undecided",
                                             f"{why}; the high-precision numerical derivative of f could not be "
                                             f"established either: {numerical.how}")
                continue
            # sympy's value is certified to its digits: held to them, not to a float tolerance
            # (whose 1e-12 absolute part would pass 1.37410241496e-9 for 1.37410241218e-9).
            sympy_value = symbolic.jacobian[k, j]
            if not wrong and numerical.agrees_with(sympy_value, abs(numerical.value) * mpmath.mpf(10) ** -SYMPY_DIGITS):
                continue
            decisions[(k, j)] = Decision(k, j, numerical, "symbolic wrong",
                                         f"{why}; the high-precision numerical derivative of f, "
                                         f"{mpmath.nstr(numerical.value, 17)} (error estimate "
                                         f"{mpmath.nstr(numerical.error, 2)}; {numerical.how}), is the reference")
    return decisions


def _decide(k, j, numerical, entry, checks):
    from .compare import DEFAULT_TOLERANCES
    methods = " and ".join(f"{c.method} mode" for c in checks)
    if not numerical.established:
        return Decision(k, j, numerical, "undecided",
                        f"sympy and {methods} disagree, and the high-precision numerical derivative of f could not "
                        f"decide between them: {numerical.how}")
    value = mpmath.nstr(numerical.value, 17)
    error = mpmath.nstr(numerical.error, 2)
    with mpmath.workdps(60):
        with_sympy = numerical.agrees_with(entry.reference, DEFAULT_TOLERANCES["symbolic"].bound(numerical.value))
        with_ad = all(numerical.agrees_with(c.value, c.tolerance.bound(numerical.value)) for c in checks)
    if with_ad and not with_sympy:
        return Decision(k, j, numerical, "symbolic wrong",
                        f"sympy's derivative is wrong here; the high-precision numerical derivative of f, {value} "
                        f"(error estimate {error}; {numerical.how}), agrees with {methods}")
    if with_sympy and not with_ad:
        return Decision(k, j, numerical, "forward/reverse wrong",
                        f"the high-precision numerical derivative of f, {value} (error estimate {error}), agrees with "
                        f"sympy, not with {methods}")
    both = "both" if with_ad else "neither"
    return Decision(k, j, numerical, "undecided",
                    f"the high-precision numerical derivative of f, {value} (error estimate {error}), agrees with "
                    f"{both} of sympy and {methods}: it cannot decide between them")

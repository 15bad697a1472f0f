"""Certified evaluation: interval arithmetic, with the precision raised until each value is
known to the digits asked for, or a stated reason why it cannot be.

An enclosure is an interval [lo, hi] (mpmath's ``iv`` context, outward rounding) that is
guaranteed to contain the exact value. A value is *established* when its enclosure is
narrower than 10^-digits relative (or is exactly one number, or lies within ±2^-1080, below
half the smallest float, so that its float value is 0). Otherwise the enclosure is computed
again at four times the working precision, up to `MAX_DIGITS`; an argument that may lie on
either side of a point where a function jumps (Heaviside, sign, Abs's derivative, max, min,
a pole, a domain edge) counts as not yet resolved in the same way. Where the highest
precision does not settle it, the value is "could not be established" with the reason:
nothing here returns a number it has not enclosed.

Two evaluators use this:

- `evaluate_graph`: the Graph's primal, each operation's ``code`` (`adcompare.ops`) read
  with the interval meaning of the code vocabulary (`FUNCTIONS`), at a point of exact
  binary rationals (floats taken exactly) and exact constants (0.1 is 1/10);
- `certify_sympy`: sympy expressions, walked node by node (iteratively, each shared
  subexpression once), never printed, compiled or lambdified.

mpmath's ``iv`` context provides exp, log, sqrt, sin, cos, tan and the arithmetic; asin,
acos, atan, sinh, cosh, tanh and atan2 are written here from their monotonicity, each
endpoint evaluated at `GUARD_BITS` more bits and then widened by 2^6 units of that last
place (mpmath's elementary functions are accurate to a few units; measured ≤ 2) before
rounding outward. Exact zeros follow sympy's conventions: Heaviside(0) = ½, sign(0) = 0.

    >>> from adcompare.parse import parse
    >>> value = certify_graph(parse("cos(x + 1)"), (1e200,), 17)[0]
    >>> mpmath.nstr(value.value, 17)      # x + 1 needs 201 digits; 40 would give cos(1e200)
    '0.9552402550266111'
"""

import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

import mpmath
from mpmath import libmp
from mpmath.ctx_iv import MPIntervalContext

GUARD_BITS = 40
MAX_DIGITS = 2560
"""The highest working precision, in decimal digits. A value still unresolved there is
reported as "could not be established"."""
_MAX_MAGNITUDE = 1 << 14   # a transcendental function's argument beyond 2^16384 is not evaluated
_ZERO_EXPONENT = -1080     # |value| < 2^-1080: rounds to 0 in float64 (whose least is 2^-1074)
_FZERO, _FONE = libmp.fzero, libmp.fone


class Unresolved(ArithmeticError):
    """The enclosure at this precision does not decide the value (it straddles a jump,
    a pole or a domain edge, or is not finite): more precision may."""


class Undefined(ArithmeticError):
    """The exact value is certainly not a finite real number (an exact argument outside an
    operation's domain, an exact pole, or a value sympy writes as nan or zoo)."""


# ----------------------------------------------------------------------------- contexts

_LOCAL = threading.local()


def context(digits):
    """A private mpmath interval context at ``digits`` decimal digits, one per thread and
    precision (mpmath's global contexts are shared by all threads)."""
    cache = getattr(_LOCAL, "contexts", None)
    if cache is None:
        cache = _LOCAL.contexts = {}
    ctx = cache.get(digits)
    if ctx is None:
        ctx = cache[digits] = MPIntervalContext()
        ctx.dps = digits
    return ctx


def schedule(digits, most=MAX_DIGITS):
    """The working precisions tried for ``digits`` digits: digits + 10, then four times as
    many each time, the last being ``most``."""
    precisions = []
    current = digits + 10
    while current < most:
        precisions.append(current)
        current *= 4
    return precisions + [max(most, digits + 10)]


# ----------------------------------------------------------------------------- helpers


def _ends(x):
    return x._mpi_


def _sign(raw):
    return libmp.mpf_sign(raw)


def _exact(x):
    a, b = x._mpi_
    return a == b


def _is_zero(x):
    return x._mpi_ == (_FZERO, _FZERO)


def _finite(raw):
    return raw not in (libmp.finf, libmp.fninf, libmp.fnan)


def _magnitude(raw):
    """log2 of |raw|, roughly (the exponent of its leading bit); None for 0."""
    if raw == _FZERO:
        return None
    return raw[2] + raw[3]


def check(x, what="a value"):
    """``x`` when both its ends are finite, else Unresolved."""
    a, b = x._mpi_
    if not (_finite(a) and _finite(b)):
        raise Unresolved(f"{what} is not finite")
    return x


def _reducible(x, what):
    """``x``, checked finite and within ±2^16384: the argument of a function that reduces
    it (exp by ln 2, sin and cos by π) with that many more bits."""
    for raw in check(x, what)._mpi_:
        magnitude = _magnitude(raw)
        if magnitude is not None and magnitude > _MAX_MAGNITUDE:
            raise Unresolved(f"{what} exceeds 2^{_MAX_MAGNITUDE}")
    return x


def _widened(raw, wp, prec, down):
    """``raw``, computed at ``wp`` bits to within a few units in its last place, moved
    outward by 2^6 such units and rounded outward to ``prec`` bits."""
    if raw == _FZERO:
        return raw
    slack = libmp.mpf_shift(libmp.mpf_abs(raw), 6 - wp)
    if down:
        return libmp.mpf_sub(raw, slack, prec, libmp.round_floor)
    return libmp.mpf_add(raw, slack, prec, libmp.round_ceiling)


def _make(ctx, lo, hi, wp):
    return ctx.make_mpf((_widened(lo, wp, ctx.prec, True), _widened(hi, wp, ctx.prec, False)))


def _monotone(x, raw_function, increasing=True):
    """f([a, b]) for a monotone f: f at each end at raised precision, widened outward."""
    ctx = x.ctx
    wp = ctx.prec + GUARD_BITS
    a, b = x._mpi_
    fa, fb = raw_function(a, wp, libmp.round_nearest), raw_function(b, wp, libmp.round_nearest)
    return _make(ctx, fa, fb, wp) if increasing else _make(ctx, fb, fa, wp)


def _exact_number(ctx, raw):
    return ctx.make_mpf((raw, raw))


def from_fraction(ctx, fraction):
    """The enclosure of an exact rational ``fraction`` (a Fraction or an int)."""
    fraction = Fraction(fraction)
    if fraction.denominator == 1:
        return ctx.mpf(fraction.numerator)
    return ctx.mpf(fraction.numerator) / fraction.denominator


def exact_value(ctx, value):
    """The exact enclosure [value, value] of a float (every float is a binary rational) or
    of an mpmath mpf."""
    if isinstance(value, mpmath.mpf):
        return _exact_number(ctx, value._mpf_)
    return _exact_number(ctx, libmp.from_float(float(value)))


# ----------------------------------------------------------------------------- the functions
#
# Each takes and returns enclosures (ivmpf of one context). Outside the domain it raises
# Undefined when the whole enclosure is outside, Unresolved when it straddles the edge.


def exp(x):
    return x.ctx.exp(_reducible(x, "the argument of exp"))


def log(x):
    a, b = _ends(check(x, "the argument of ln"))
    if _sign(a) > 0:
        return x.ctx.ln(x)
    if _sign(b) <= 0:
        raise Undefined("ln of a number ≤ 0")
    raise Unresolved("the argument of ln may be ≤ 0")


def sqrt(x):
    a, b = _ends(check(x, "the argument of sqrt"))
    if _sign(a) >= 0:
        return x.ctx.sqrt(x)
    if _sign(b) < 0:
        raise Undefined("sqrt of a negative number")
    raise Unresolved("the argument of sqrt may be negative")


def _integer(x):
    """The integer an exact enclosure holds, else None."""
    a, b = x._mpi_
    if a != b or not _finite(a):
        return None
    if a == _FZERO:
        return 0
    sign, man, exponent, _ = a
    if exponent < 0:
        return None
    return (-1) ** sign * (man << exponent)


def power(x, y):
    """x^y with numpy's and sympy's real domain: a positive base; any base with an integer
    exponent (exact enclosure); 0 with a positive exponent."""
    check(x, "the base of a power")
    check(y, "the exponent of a power")
    ctx = x.ctx
    n = _integer(y)
    a, b = x._mpi_
    if n is not None:
        if _is_zero(x) and n <= 0:
            raise Undefined(f"0^{n}")
        if n < 0 and _sign(a) <= 0 <= _sign(b):
            raise Unresolved("the base of a negative power may be 0")
        return x ** n if n != 0 else ctx.mpf(1)
    if _sign(a) > 0:
        return exp(y * log(x))
    ya, yb = y._mpi_
    if _is_zero(x):
        if _sign(ya) > 0:
            return ctx.mpf(0)
        if _sign(yb) <= 0:
            raise Undefined("0 to a power ≤ 0")
        raise Unresolved("the exponent of a power of 0 may be ≤ 0")
    if _sign(a) == 0 and _sign(ya) > 0:
        top = exp(y * log(ctx.make_mpf((b, b))))
        return ctx.make_mpf((_FZERO, top._mpi_[1]))
    if _sign(b) < 0 and _exact(y):
        raise Undefined("a negative base to a non-integer power")
    raise Unresolved("the base of a non-integer power may be ≤ 0")


def sin(x):
    return x.ctx.sin(_reducible(x, "the argument of sin"))


def cos(x):
    return x.ctx.cos(_reducible(x, "the argument of cos"))


def tan(x):
    value = x.ctx.tan(_reducible(x, "the argument of tan"))
    if not all(map(_finite, value._mpi_)):
        raise Unresolved("the argument of tan may be at a pole")
    return value


def _in_unit_interval(x, name):
    a, b = _ends(check(x, f"the argument of {name}"))
    if libmp.mpf_ge(a, libmp.fnone) and libmp.mpf_le(b, _FONE):
        return
    if libmp.mpf_lt(b, libmp.fnone) or libmp.mpf_gt(a, _FONE):
        raise Undefined(f"{name} of a number outside [−1, 1]")
    raise Unresolved(f"the argument of {name} may be outside [−1, 1]")


def asin(x):
    _in_unit_interval(x, "asin")
    return _monotone(x, libmp.mpf_asin)


def acos(x):
    _in_unit_interval(x, "acos")
    return _monotone(x, libmp.mpf_acos, increasing=False)


def atan(x):
    return _monotone(check(x, "the argument of atan"), libmp.mpf_atan)


def sinh(x):
    return _monotone(_reducible(x, "the argument of sinh"), libmp.mpf_sinh)


def tanh(x):
    return _monotone(_reducible(x, "the argument of tanh"), libmp.mpf_tanh)


def cosh(x):
    a, b = _ends(_reducible(x, "the argument of cosh"))
    if _sign(a) >= 0:
        return _monotone(x, libmp.mpf_cosh)
    if _sign(b) <= 0:
        return _monotone(x, libmp.mpf_cosh, increasing=False)
    ctx = x.ctx
    wp = ctx.prec + GUARD_BITS
    top = max(libmp.mpf_cosh(a, wp), libmp.mpf_cosh(b, wp), key=mpmath.mpf)
    return ctx.make_mpf((_FONE, _widened(top, wp, ctx.prec, False)))


def atan2(y, x):
    """atan2(y, x) in (−π, π], sympy's and numpy's convention; continuous except across
    the negative x-axis and at the origin (atan2(0, 0) is undefined, as sympy's nan)."""
    check(y, "an argument of atan2")
    check(x, "an argument of atan2")
    ctx = x.ctx
    ya, yb = y._mpi_
    xa, xb = x._mpi_
    if _is_zero(y):
        if _sign(xa) > 0:
            return ctx.mpf(0)
        if _sign(xb) < 0:
            return +ctx.pi
        if _is_zero(x):
            raise Undefined("atan2(0, 0)")
        raise Unresolved("atan2(0, x) with x of either sign")
    if not (_sign(ya) > 0 or _sign(yb) < 0 or _sign(xa) > 0):
        raise Unresolved("atan2 across the negative x-axis")
    # Continuous on the box and monotone along each edge: the extremes are at corners.
    wp = ctx.prec + GUARD_BITS
    corners = [libmp.mpf_atan2(v, u, wp) for v in (ya, yb) for u in (xa, xb)]
    low = min(corners, key=mpmath.mpf)
    high = max(corners, key=mpmath.mpf)
    return _make(ctx, low, high, wp)


def sigmoid(x):
    # x appears once, so the interval extension is tight.
    return 1 / (1 + exp(-x))


def softplus(x):
    return log(1 + exp(x))


def sech_squared(x):
    c = cosh(x)
    return 1 / (c * c)


def absolute(x):
    return abs(check(x))


def _sign_of(x, what):
    """−1, 0 or 1: the sign of the exact value, or Unresolved."""
    a, b = _ends(check(x, what))
    if _sign(a) > 0:
        return 1
    if _sign(b) < 0:
        return -1
    if a == b == _FZERO:
        return 0
    raise Unresolved(f"{what} may be 0 or of either sign")


def sign(x):
    return x.ctx.mpf(_sign_of(x, "the argument of sign"))


def heaviside(x, at_zero=None):
    """Heaviside's step: 1 for x > 0, 0 for x < 0, ``at_zero`` (½, sympy's default) at an
    exact 0."""
    s = _sign_of(x, "the argument of Heaviside")
    if s == 0:
        return at_zero if at_zero is not None else x.ctx.mpf(0.5)
    return x.ctx.mpf(1 if s > 0 else 0)


def _interval(x, like):
    # A literal of the code ("maximum($0, 0.0)") as an exact enclosure.
    return x if hasattr(x, "_mpi_") else exact_value(like.ctx, x)


def maximum(x, y):
    x, y = _interval(x, y), _interval(y, x)
    (xa, xb), (ya, yb) = _ends(check(x)), _ends(check(y))
    return x.ctx.make_mpf((max(xa, ya, key=mpmath.mpf), max(xb, yb, key=mpmath.mpf)))


def minimum(x, y):
    x, y = _interval(x, y), _interval(y, x)
    (xa, xb), (ya, yb) = _ends(check(x)), _ends(check(y))
    return x.ctx.make_mpf((min(xa, ya, key=mpmath.mpf), min(xb, yb, key=mpmath.mpf)))


FUNCTIONS = {
    "exp": exp, "log": log, "sqrt": sqrt, "power": power,
    "sin": sin, "cos": cos, "tan": tan, "asin": asin, "acos": acos, "atan": atan,
    "sinh": sinh, "cosh": cosh, "tanh": tanh, "sech_squared": sech_squared,
    "sigmoid": sigmoid, "softplus": softplus, "absolute": absolute, "sign": sign,
    "maximum": maximum, "minimum": minimum,
}
"""The interval meaning of the operation table's code vocabulary (`adcompare.ops`): every
name that an operation's ``code`` (its value) calls. The names only its partials or its
domain call (step, tie_split, floor) have none: nothing here evaluates those."""


# ----------------------------------------------------------------------------- certifying


@dataclass(frozen=True)
class Certified:
    """A certified value: ``value`` (an mpmath mpf, the midpoint of an enclosure narrower
    than 10^-digits relative) and ``radius`` (half its width: |value − exact| ≤ radius),
    or ``value`` None with ``failure`` ('undefined': certainly not a finite real number;
    'unresolved': could not be established up to `MAX_DIGITS` digits) and ``reason``.
    ``digits`` is the working precision that settled it (or the last one tried)."""

    value: Optional[object]
    radius: Optional[object] = None
    digits: int = 0
    failure: Optional[str] = None
    reason: str = ""

    @property
    def established(self):
        """True when ``value`` is a certified number."""
        return self.value is not None


def _settled(x, digits):
    """The Certified for enclosure ``x`` when it is narrow enough, else None."""
    a, b = x._mpi_
    if not (_finite(a) and _finite(b)):
        return None
    if a == b:
        return Certified(_number(a), _number(_FZERO))
    magnitudes = [_magnitude(r) for r in (a, b)]
    if all(m is None or m < _ZERO_EXPONENT for m in magnitudes):
        return Certified(_number(_FZERO), _number(libmp.mpf_shift(_FONE, _ZERO_EXPONENT)))
    if _sign(a) * _sign(b) <= 0:
        return None
    width = libmp.mpf_sub(b, a, 0)
    smaller = min(libmp.mpf_abs(a), libmp.mpf_abs(b), key=mpmath.mpf)
    bits = int(digits * 3.3219280948873626) + 1
    if libmp.mpf_gt(libmp.mpf_shift(width, bits), smaller):
        return None
    middle = libmp.mpf_shift(libmp.mpf_add(a, b, 0), -1)
    return Certified(_number(middle), _number(libmp.mpf_shift(width, -1)))


def _number(raw):
    # An mpf holding ``raw`` exactly (mpmath.mpf(raw) would round it to the global precision).
    return mpmath.mp.make_mpf(raw)


def certify(evaluate, count, digits, most=MAX_DIGITS):
    """Certified values of ``count`` quantities to ``digits`` digits.

    ``evaluate(ctx, indices)`` returns, for each index, an enclosure in ``ctx`` or the
    Unresolved/Undefined it raised. Indices not yet settled are evaluated again at each
    precision of `schedule`.
    """
    results = [None] * count
    reasons = [""] * count
    pending = list(range(count))
    for working in schedule(digits, most):
        if not pending:
            break
        values = evaluate(context(working), pending)
        still = []
        for k, value in zip(pending, values):
            if isinstance(value, Undefined):
                results[k] = Certified(None, digits=working, failure="undefined", reason=str(value))
                continue
            if isinstance(value, Unresolved):
                reasons[k] = str(value)
                still.append(k)
                continue
            settled = _settled(value, digits)
            if settled is None:
                reasons[k] = f"its enclosure is wider than 10^-{digits} relative"
                still.append(k)
            else:
                results[k] = Certified(settled.value, settled.radius, working)
        pending = still
    for k in pending:
        results[k] = Certified(None, digits=most, failure="unresolved",
                               reason=f"{reasons[k]}, at every precision up to {most:,} digits")
    return results


# ----------------------------------------------------------------------------- the Graph


def _constant(ctx, const):
    if isinstance(const.exact, Fraction):
        return from_fraction(ctx, const.exact)
    return +{"pi": ctx.pi, "e": ctx.e}[const.exact]


def evaluate_graph(graph, point, ctx, slots=None):
    """Enclosures of the Graph's slot values at ``point`` (floats, taken exactly), in
    ``ctx``; only live slots (and ``slots``, a set, when given) are evaluated, others are None.
    Raises Unresolved or Undefined (with the node's slot as ``error.slot``)."""
    from .ops import interval_function
    wanted = graph.live if slots is None else [graph.live[s] or s in slots for s in range(graph.size)]
    values = [exact_value(ctx, x) for x in point]
    for slot in range(graph.n_inputs, graph.size):
        if not wanted[slot]:
            values.append(None)
            continue
        node = graph.node(slot)
        args = [_constant(ctx, a) if not isinstance(a, int) else values[a] for a in node.args]
        try:
            value = check(interval_function(node.op)(*args), f"the value of {node.op} (a divisor may be 0)")
        except (Unresolved, Undefined) as error:
            if isinstance(error, Unresolved) and all(_exact(a) for a in args):
                error = Undefined(str(error))
            error.slot = slot
            raise error
        except ZeroDivisionError:
            error = Undefined("division by 0") if all(_exact(a) for a in args) else Unresolved("a divisor may be 0")
            error.slot = slot
            raise error from None
        values.append(value)
    return values


def certify_graph(graph, point, digits, slots=None):
    """Certified values of the Graph's outputs (or of ``slots``, a list of slot indices)
    at ``point``: a list of `Certified`."""
    wanted = list(graph.outputs if slots is None else slots)

    def evaluate(ctx, indices):
        try:
            values = evaluate_graph(graph, point, ctx, set(wanted))
        except (Unresolved, Undefined) as error:
            return [error] * len(indices)
        return [values[wanted[k]] for k in indices]

    return certify(evaluate, len(wanted), digits)


# ----------------------------------------------------------------------------- sympy


def _sympy_rules():
    import sympy
    one_argument = {
        sympy.exp: exp, sympy.log: log, sympy.sin: sin, sympy.cos: cos, sympy.tan: tan,
        sympy.asin: asin, sympy.acos: acos, sympy.atan: atan, sympy.sinh: sinh, sympy.cosh: cosh,
        sympy.tanh: tanh, sympy.Abs: absolute, sympy.sign: sign,
        sympy.re: lambda x: x, sympy.im: lambda x: x.ctx.mpf(0), sympy.arg: _arg,
        sympy.sec: lambda x: 1 / _nonzero(cos(x), "sec"), sympy.csc: lambda x: 1 / _nonzero(sin(x), "csc"),
        sympy.cot: lambda x: 1 / _nonzero(tan(x), "cot"),
    }
    return one_argument


def _nonzero(x, name):
    if _sign_of(x, f"the argument of {name}'s reciprocal") == 0:
        raise Undefined(f"{name} at a pole")
    return x


def _arg(x):
    s = _sign_of(x, "the argument of arg")
    if s == 0:
        raise Undefined("arg(0)")
    return x.ctx.mpf(0) if s > 0 else +x.ctx.pi


class _Walker:
    """Evaluates sympy expressions over enclosures, each distinct subexpression once."""

    def __init__(self, ctx, substitutions):
        import sympy
        self.sympy = sympy
        self.ctx = ctx
        self.memo = {symbol: exact_value(ctx, value) for symbol, value in substitutions.items()}
        self.rules = _sympy_rules()

    def value(self, root):
        memo = self.memo
        stack = [root]
        while stack:
            expression = stack[-1]
            if expression in memo:
                stack.pop()
                continue
            children = [a for a in expression.args if a not in memo]
            if children:
                stack.extend(children)
                continue
            stack.pop()
            arguments = [memo[a] for a in expression.args]
            failed = next((a for a in arguments if isinstance(a, ArithmeticError)), None)
            if failed is not None:
                memo[expression] = failed
                continue
            try:
                memo[expression] = check(self.apply(expression, arguments), f"the value of {expression.func.__name__} "
                                                                            "(a divisor may be 0)")
            except (Unresolved, Undefined) as error:
                memo[expression] = error
            except ZeroDivisionError:
                memo[expression] = Undefined("division by 0") if all(map(_exact, arguments)) else (
                    Unresolved("a divisor may be 0"))
        return memo[root]

    def apply(self, expression, arguments):
        sympy, ctx = self.sympy, self.ctx
        if expression.is_Atom:
            return self.atom(expression)
        if expression.is_Add:
            total = arguments[0]
            for a in arguments[1:]:
                total = total + a
            return total
        if expression.is_Mul:
            product = arguments[0]
            for a in arguments[1:]:
                product = product * a
            return product
        if expression.is_Pow:
            base, exponent = arguments
            if expression.exp.is_Integer:
                return power(base, ctx.mpf(int(expression.exp)))
            if expression.exp in (sympy.S.Half, -sympy.S.Half):     # exact where the root is (√4 = 2)
                root = sqrt(base)
                return root if expression.exp > 0 else power(root, ctx.mpf(-1))
            return power(base, exponent)
        function = expression.func
        if function in self.rules and len(arguments) == 1:
            return self.rules[function](arguments[0])
        if function is sympy.Heaviside:
            return heaviside(*arguments)
        if function is sympy.Max or function is sympy.Min:
            combine = maximum if function is sympy.Max else minimum
            result = arguments[0]
            for a in arguments[1:]:
                result = combine(result, a)
            return result
        if function is sympy.atan2:
            return atan2(*arguments)
        raise Unresolved(f"the certified evaluator does not know sympy's {function.__name__}")

    def atom(self, expression):
        sympy, ctx = self.sympy, self.ctx
        if expression.is_Rational:
            return from_fraction(ctx, Fraction(int(expression.p), int(expression.q)))
        if expression.is_Float:
            return _exact_number(ctx, expression._mpf_)
        if expression is sympy.pi:
            return +ctx.pi
        if expression is sympy.E:
            return +ctx.e
        if expression in (sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            raise Undefined(f"sympy's value is {expression}")
        if expression is sympy.I:
            raise Undefined("the value is not real (sympy's I)")
        raise Unresolved(f"the certified evaluator does not know sympy's {expression}")


def certify_sympy(expressions, substitutions, digits):
    """Certified values of sympy ``expressions`` with ``substitutions`` (symbol → float,
    taken exactly): a list of `Certified`, in order."""
    def evaluate(ctx, indices):
        walker = _Walker(ctx, substitutions)
        return [walker.value(expressions[k]) for k in indices]

    return certify(evaluate, len(expressions), digits)

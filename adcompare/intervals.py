"""Interval arithmetic for certified values: enclosures, intervals [lo, hi] rounded outward
that are certain to contain the exact value (`adcompare.certified` raises their precision
until they are narrow enough).

mpmath's ``iv`` context provides the arithmetic (correctly rounded outward) and exp, log,
sqrt, sin, cos, tan, which are evaluated here at `GUARD_BITS` more bits and then widened
by 2^6 units of that last place before rounding outward: mpmath's elementary functions are
accurate to a few units (measured ≤ 2), but their directed rounding is not exact. asin,
acos, atan, sinh, cosh, tanh and atan2, which ``iv`` lacks, are written here from their
monotonicity, each endpoint evaluated and widened the same way. Each function raises `Undefined` where its argument is certainly outside
its domain, and `Unresolved` where the enclosure straddles a domain edge, a pole or a jump
(Heaviside, sign, max's tie): more precision may decide it. Exact zeros follow sympy's
conventions: Heaviside(0) = ½, sign(0) = 0. `FUNCTIONS` is the interval meaning of the
operation table's code vocabulary (`adcompare.ops`).

    >>> ctx = context(30)
    >>> asin(ctx.mpf([0.5, 0.5]))       # π/6, enclosed
    mpi('0.523598775598298873077107230546523', '0.523598775598298873077107230546621')
"""

import functools
import threading
from fractions import Fraction

import mpmath
from mpmath import libmp
from mpmath.ctx_iv import MPIntervalContext

EXACT_ORDER = functools.cmp_to_key(libmp.mpf_cmp)
"""A sort key that orders raw mpf values exactly (``key=mpmath.mpf`` rounds them to the
global 53 bits first: sin(1.1e-35) and 1.1e-35, 2e-71 apart relative, compared equal, and
max took the wrong one)."""

GUARD_BITS = 40
_MAX_MAGNITUDE = 1 << 14   # a transcendental function's argument beyond 2^16384 is not evaluated
_FZERO, _FONE = libmp.fzero, libmp.fone


class Unresolved(ArithmeticError):
    """The enclosure at this precision does not decide the value (it straddles a jump,
    a pole or a domain edge, or is not finite): more precision may."""


class Undefined(ArithmeticError):
    """The exact value is certainly not a finite real number (an exact argument outside an
    operation's domain, an exact pole, or a value sympy writes as nan or zoo)."""


# ----------------------------------------------------------------------------- contexts

_LOCAL = threading.local()


def context(digits=None, bits=None):
    """A private mpmath interval context at ``digits`` decimal digits (or ``bits`` bits),
    one per thread and precision (mpmath's global contexts are shared by all threads)."""
    cache = getattr(_LOCAL, "contexts", None)
    if cache is None:
        cache = _LOCAL.contexts = {}
    key = (digits, bits)
    ctx = cache.get(key)
    if ctx is None:
        ctx = cache[key] = MPIntervalContext()
        if bits is not None:
            ctx.prec = bits
        else:
            ctx.dps = digits
    return ctx


# ----------------------------------------------------------------------------- helpers


def _ends(x):
    return x._mpi_


def _sign(raw):
    return libmp.mpf_sign(raw)


def is_exact(x):
    """Whether enclosure ``x`` is a single number."""
    a, b = x._mpi_
    return a == b


def _is_zero(x):
    return x._mpi_ == (_FZERO, _FZERO)


def finite(raw):
    """Whether an mpf end is a finite number."""
    return raw not in (libmp.finf, libmp.fninf, libmp.fnan)


def magnitude(raw):
    """log2 of |raw|, roughly (the exponent of its leading bit); None for 0."""
    if raw == _FZERO:
        return None
    return raw[2] + raw[3]


def check(x, what="a value"):
    """``x`` when both its ends are finite, else Unresolved."""
    a, b = x._mpi_
    if not (finite(a) and finite(b)):
        raise Unresolved(f"{what} is not finite")
    return x


def _reducible(x, what):
    """``x``, checked finite and within ±2^16384: the argument of a function that reduces
    it (exp by ln 2, sin and cos by π) with that many more bits."""
    for raw in check(x, what)._mpi_:
        size = magnitude(raw)
        if size is not None and size > _MAX_MAGNITUDE:
            raise Unresolved(f"{what} exceeds 2^{_MAX_MAGNITUDE}")
    return x


def _widened(raw, wp, prec, down):
    """``raw``, computed at ``wp`` bits to within a few units in its last place, moved
    outward by 2^6 such units and rounded outward to ``prec`` bits."""
    if raw == _FZERO or not finite(raw):
        return raw
    slack = libmp.mpf_shift(libmp.mpf_abs(raw), 6 - wp)
    if down:
        return libmp.mpf_sub(raw, slack, prec, libmp.round_floor)
    return libmp.mpf_add(raw, slack, prec, libmp.round_ceiling)


def _make(ctx, lo, hi, wp):
    return ctx.make_mpf((_widened(lo, wp, ctx.prec, True), _widened(hi, wp, ctx.prec, False)))


def _raised(x, name):
    """mpmath's interval ``name`` (exp, ln, sqrt, sin, cos, tan) of ``x``, evaluated with
    GUARD_BITS more bits and widened like `_monotone`'s ends: mpmath's directed rounding of
    its elementary functions is not exact (its exp rounded up came out below e^-(7e-165) at
    1,000 bits), so the widening, not the rounding mode, makes the enclosure."""
    ctx = x.ctx
    exact = _EXACT.get((name, x._mpi_))
    if exact is not None:
        return ctx.make_mpf((exact, exact))
    wp = ctx.prec + GUARD_BITS
    high = context(bits=wp)
    lo, hi = getattr(high, name)(high.make_mpf(x._mpi_))._mpi_
    return _make(ctx, lo, hi, wp)


# The exact values at exact points that the widening would otherwise blur (exp 0 = 1).
_EXACT = {("exp", (_FZERO, _FZERO)): _FONE, ("ln", (_FONE, _FONE)): _FZERO, ("cos", (_FZERO, _FZERO)): _FONE,
          ("sin", (_FZERO, _FZERO)): _FZERO, ("tan", (_FZERO, _FZERO)): _FZERO, ("cosh", (_FZERO, _FZERO)): _FONE}


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
    of an mpmath mpf; an enclosure of ``ctx`` is returned as it is."""
    if hasattr(value, "_mpi_"):
        return value
    if isinstance(value, mpmath.mpf):
        return _exact_number(ctx, value._mpf_)
    return _exact_number(ctx, libmp.from_float(float(value)))


# ----------------------------------------------------------------------------- the functions
#
# Each takes and returns enclosures (ivmpf of one context). Outside the domain it raises
# Undefined when the whole enclosure is outside, Unresolved when it straddles the edge.


def exp(x):
    return _raised(_reducible(x, "the argument of exp"), "exp")


def log(x):
    a, b = _ends(check(x, "the argument of ln"))
    if _sign(a) > 0:
        return _raised(x, "ln")
    if _sign(b) <= 0:
        raise Undefined("ln of a number ≤ 0")
    raise Unresolved("the argument of ln may be ≤ 0")


def sqrt(x):
    a, b = _ends(check(x, "the argument of sqrt"))
    if _sign(a) >= 0:
        return x.ctx.sqrt(x)       # correctly rounded, as mpmath's arithmetic is: √4 = 2 exactly
    if _sign(b) < 0:
        raise Undefined("sqrt of a negative number")
    raise Unresolved("the argument of sqrt may be negative")


def _integer(x):
    """The integer an exact enclosure holds, else None."""
    a, b = x._mpi_
    if a != b or not finite(a):
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
    if _sign(b) < 0 and libmp.mpf_gt(libmp.mpf_ceil(ya), yb):
        # Every exponent in the enclosure lies strictly between two integers.
        raise Undefined("a negative base to a non-integer power")
    raise Unresolved("the base of a non-integer power may be ≤ 0")


def sin(x):
    return _raised(_reducible(x, "the argument of sin"), "sin")


def cos(x):
    return _raised(_reducible(x, "the argument of cos"), "cos")


def tan(x):
    value = _raised(_reducible(x, "the argument of tan"), "tan")
    if not all(map(finite, value._mpi_)):
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
    if (a, b) == (_FZERO, _FZERO):
        return x.ctx.mpf(1)
    if _sign(a) >= 0:
        return _monotone(x, libmp.mpf_cosh)
    if _sign(b) <= 0:
        return _monotone(x, libmp.mpf_cosh, increasing=False)
    ctx = x.ctx
    wp = ctx.prec + GUARD_BITS
    top = max(libmp.mpf_cosh(a, wp), libmp.mpf_cosh(b, wp), key=EXACT_ORDER)
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
    low = min(corners, key=EXACT_ORDER)
    high = max(corners, key=EXACT_ORDER)
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


def sign_of(x, what):
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
    return x.ctx.mpf(sign_of(x, "the argument of sign"))


def heaviside(x, at_zero=None):
    """Heaviside's step: 1 for x > 0, 0 for x < 0, ``at_zero`` (½, sympy's default) at an
    exact 0."""
    s = sign_of(x, "the argument of Heaviside")
    if s == 0:
        return at_zero if at_zero is not None else x.ctx.mpf(0.5)
    return x.ctx.mpf(1 if s > 0 else 0)


def _interval(x, like):
    # A literal of the code ("maximum($0, 0.0)") as an exact enclosure.
    return x if hasattr(x, "_mpi_") else exact_value(like.ctx, x)


def maximum(x, y):
    x, y = _interval(x, y), _interval(y, x)
    (xa, xb), (ya, yb) = _ends(check(x)), _ends(check(y))
    return x.ctx.make_mpf((max(xa, ya, key=EXACT_ORDER), max(xb, yb, key=EXACT_ORDER)))


def minimum(x, y):
    x, y = _interval(x, y), _interval(y, x)
    (xa, xb), (ya, yb) = _ends(check(x)), _ends(check(y))
    return x.ctx.make_mpf((min(xa, ya, key=EXACT_ORDER), min(xb, yb, key=EXACT_ORDER)))


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

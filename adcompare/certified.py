"""Certified evaluation: enclosures (`adcompare.intervals`) with the working precision
raised until each value is known to the digits asked for, or a stated reason why it cannot be.

A value is *established* when its enclosure is narrower than 10^-digits relative (or is
exactly one number, or, at the highest precision, lies within ±2^-1080, below half the
smallest float, so that its float value is 0: it is given as 0 with that radius). Otherwise the enclosure is computed again at four times the working
precision, up to `MAX_DIGITS`; an argument that may lie on either side of a point where a
function jumps (Heaviside, sign, max at a tie, a pole, a domain edge) counts as not yet
resolved in the same way. Where the highest precision does not settle it, the value is
"could not be established", with the reason: nothing here returns a number it has not
enclosed.

Two evaluators:

- `certify_graph`: the Graph's primal, each operation's ``code`` read with its interval
  meaning (`adcompare.ops.interval_function`), at a point of exact binary rationals (floats
  taken exactly) and exact constants (0.1 is 1/10);
- `certify_sympy`: sympy expressions, walked node by node (iteratively, each shared
  subexpression once, `postorder`), never printed, compiled or lambdified.

    >>> from adcompare.parse import parse
    >>> value = certify_graph(parse("cos(x + 1)"), (1e200,), 17)[0]
    >>> mpmath.nstr(value.value, 17)      # x + 1 needs 201 digits; 40 would give cos(1e200)
    '0.9552402550266111'
"""

from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

import mpmath
from mpmath import libmp

from .graph import Const

from .intervals import (EXACT_ORDER, Undefined, Unresolved, absolute, acos, asin, atan, atan2, check, context, cos, cosh,
                        exact_value, exp, finite, from_fraction, heaviside, is_exact, log, magnitude, maximum, minimum,
                        power, sign, sign_of, sin, sinh, sqrt, tan, tanh)

MAX_DIGITS = 2560
"""The highest working precision, in decimal digits. A value still unresolved there is
reported as "could not be established"."""
SYMPY_RATIONAL = 1000
"""The largest numerator or denominator of a rational that sympy's exact algebra is given
(0, ½, 3 are; a float such as 0.1 or 2.2e-313 is a rational with a denominator of 2^55 or
2^1074). Over larger ones sympy's expansion at a point took minutes, its limit of x^(p/q)
with q = 2^53 ran out of memory, and exp's simplification built c^c for the float 0.1 (an
integer of 5.6e16 digits, one C call): a point's coordinate is substituted, a limit taken
and a literal written as a rational only within it (`small_rational`)."""

_ZERO_EXPONENT = -1080     # |value| < 2^-1080: rounds to 0 in float64 (whose least is 2^-1074)
_FZERO, _FONE = libmp.fzero, libmp.fone


def small_rational(r):
    """Whether a rational (sympy's or a Fraction) is within `SYMPY_RATIONAL`."""
    p, q = (r.p, r.q) if hasattr(r, "p") else (r.numerator, r.denominator)
    return abs(p) <= SYMPY_RATIONAL and abs(q) <= SYMPY_RATIONAL


def schedule(digits, most=MAX_DIGITS):
    """The working precisions tried for ``digits`` digits: digits + 10, then four times as
    many each time, the last being ``most``."""
    precisions = []
    current = digits + 10
    while current < most:
        precisions.append(current)
        current *= 4
    return precisions + [max(most, digits + 10)]



def postorder(roots, done, compute):
    """Visit the distinct subexpressions of sympy ``roots`` children first, without recursion:
    ``done[e] = compute(e)`` for each e not already in ``done`` (a dict, also the memo)."""
    for root in roots:
        stack = [root]
        while stack:
            expression = stack[-1]
            if expression in done:
                stack.pop()
                continue
            missing = [a for a in expression.args if a not in done]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            done[expression] = compute(expression)
    return done


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


def _settled(x, digits, last=False):
    """The Certified for enclosure ``x`` when it is narrow enough, else None. At the
    ``last`` precision, an enclosure within ±2^-1080 is settled as 0 (with that radius)."""
    a, b = x._mpi_
    if not (finite(a) and finite(b)):
        return None
    if a == b:
        return Certified(_number(a), _number(_FZERO))
    magnitudes = [magnitude(r) for r in (a, b)]
    if last and all(m is None or m < _ZERO_EXPONENT for m in magnitudes):
        return Certified(_number(_FZERO), _number(libmp.mpf_shift(_FONE, _ZERO_EXPONENT)))
    if libmp.mpf_sign(a) * libmp.mpf_sign(b) <= 0:
        return None
    bits = int(digits * 3.3219280948873626) + 1
    # Rounded up to a few more bits than asked: the exact difference of ends whose exponents
    # are far apart (1e-300000 and 1) is an integer too large to make.
    width = libmp.mpf_sub(b, a, bits + 64, libmp.round_up)
    smaller = min(libmp.mpf_abs(a), libmp.mpf_abs(b), key=EXACT_ORDER)
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
    precisions = schedule(digits, most)
    for working in precisions:
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
            settled = _settled(value, digits, working == precisions[-1])
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


def _constant(ctx, const, values):
    if const.slot is not None:          # a folded constant subexpression: that slot's exact value
        return values[const.slot]
    if isinstance(const.exact, Fraction):
        return from_fraction(ctx, const.exact)
    return +{"pi": ctx.pi, "e": ctx.e}[const.exact]


def node_arguments(ctx, node, values):
    """Enclosures of ``node``'s arguments in ``ctx``: slots' from ``values`` (what
    `evaluate_graph` returns), constants' exactly."""
    return [values[a] if not isinstance(a, Const) else _constant(ctx, a, values) for a in node.args]


def needed_slots(graph, slots=None):
    """For each slot, whether an output or one of ``slots`` depends on it, through the slots
    that folded constants stand for too."""
    return list(graph.needed) if not slots else graph.needed_for(slots)


def evaluate_graph(graph, point, ctx, slots=None):
    """Enclosures of the Graph's slot values at ``point`` (floats, taken exactly), in
    ``ctx``; only the slots an output (or one of ``slots``, a set) depends on are
    evaluated, others are None. A slot that cannot be enclosed holds the Unresolved or
    Undefined that says why (with ``error.slot``, where it arose), and so does every slot
    that reads it; the others are still evaluated."""
    from .ops import interval_function
    wanted = needed_slots(graph, slots)
    values = [exact_value(ctx, x) for x in point]
    for slot in range(graph.n_inputs, graph.size):
        if not wanted[slot]:
            values.append(None)
            continue
        node = graph.node(slot)
        args = node_arguments(ctx, node, values)
        failed = next((a for a in args if isinstance(a, ArithmeticError)), None)
        if failed is not None:
            values.append(failed)
            continue
        try:
            if node.op == "mul" and node.args[0] == node.args[1]:
                # u·u is u², never negative: the product of an enclosure with itself is not
                # (u = [−δ, δ] gives [−δ², δ²], and √(u·u) then "may be negative").
                value = check(power(args[0], ctx.mpf(2)), "the value of mul")
            else:
                value = check(interval_function(node.op)(*args), f"the value of {node.op} (a divisor may be 0)")
        except (Unresolved, Undefined, ZeroDivisionError) as error:
            exact = all(is_exact(a) for a in args)
            if isinstance(error, ZeroDivisionError):
                error = Undefined("division by 0") if exact else Unresolved("a divisor may be 0")
            elif isinstance(error, Unresolved) and exact:
                error = Undefined(str(error))
            error.slot = slot
            value = error
        values.append(value)
    return values


def certify_graph(graph, point, digits, slots=None):
    """Certified values of the Graph's outputs (or of ``slots``, a list of slot indices)
    at ``point``: a list of `Certified`."""
    wanted = list(graph.outputs if slots is None else slots)

    def evaluate(ctx, indices):
        values = evaluate_graph(graph, point, ctx, {wanted[k] for k in indices})
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
        sympy.conjugate: lambda x: x,       # of a real value (every enclosure here is real)
        sympy.sec: lambda x: 1 / _nonzero(cos(x), "sec"), sympy.csc: lambda x: 1 / _nonzero(sin(x), "csc"),
        sympy.cot: lambda x: 1 / _nonzero(tan(x), "cot"),
    }
    return one_argument


def _nonzero(x, name):
    if sign_of(x, f"the argument of {name}'s reciprocal") == 0:
        raise Undefined(f"{name} at a pole")
    return x


def _arg(x):
    s = sign_of(x, "the argument of arg")
    if s == 0:
        raise Undefined("arg(0)")
    return x.ctx.mpf(0) if s > 0 else +x.ctx.pi


class _Walker:
    """Evaluates sympy expressions over enclosures, each distinct subexpression once."""

    def __init__(self, ctx, substitutions):
        import sympy
        self.sympy = sympy
        self.ctx = ctx
        self.memo = {symbol: from_fraction(ctx, value) if isinstance(value, Fraction) else exact_value(ctx, value)
                     for symbol, value in substitutions.items()}
        self.substitutions = substitutions
        self.rules = _sympy_rules()

    def value(self, root):
        return postorder([root], self.memo, self.node)[root]

    def node(self, expression):
        arguments = [self.memo[a] for a in expression.args]
        failed = next((a for a in arguments if isinstance(a, ArithmeticError)), None)
        if failed is not None:
            return failed
        try:
            return check(self.apply(expression, arguments), f"the value of {expression.func.__name__} "
                                                            "(a divisor may be 0)")
        except (Unresolved, Undefined) as error:
            return error
        except ZeroDivisionError:
            return Undefined("division by 0") if all(map(is_exact, arguments)) else Unresolved("a divisor may be 0")

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
        if function in (sympy.Heaviside, sympy.sign) and self.proved_zero(expression.args[0]):
            zero = ctx.mpf(0)
            return (arguments[1] if len(arguments) > 1 else ctx.mpf(0.5)) if function is sympy.Heaviside else zero
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

    def proved_zero(self, argument):
        """Whether the argument of a step function, whose enclosure contains 0, is exactly 0:
        sympy's algebra shows it once each Abs, sign, Max, Min, re and im in it is replaced
        by what the certified enclosures of their arguments decide (|acos x| − acos x: acos x
        is certainly positive, so |acos x| is acos x, and the difference is 0). Interval
        arithmetic alone cannot show it (an enclosure minus itself is not [0, 0])."""
        sympy = self.sympy
        value = self.memo.get(argument)
        if value is None or isinstance(value, ArithmeticError) or is_exact(value):
            return False
        a, b = value._mpi_
        if libmp.mpf_sign(a) > 0 or libmp.mpf_sign(b) < 0:
            return False                   # the enclosure decides the sign: no need
        if sympy.count_ops(argument) > 200:
            return False
        reduced = self.reduced(argument)
        if sympy.expand(reduced) == 0:
            return True
        # Or 0 at this point: sympy's own exact evaluation at the point's rationals
        # (|atan(cos x)/cos x| − atan(cos x) at x = 0, where cos 0 is 1), where they are
        # small: with −2.2e-313 (a denominator of 2^1074) under a cosine and a power, sympy's
        # expansion took minutes.
        point = {symbol: sympy.Rational(value if isinstance(value, Fraction) else float(value))
                 for symbol, value in self.substitutions.items() if symbol in reduced.free_symbols}
        if not all(map(small_rational, point.values())):
            return False
        return sympy.expand(reduced.xreplace(point)) == 0

    def reduced(self, expression):
        """``expression`` (already evaluated by `value`) with each Abs, sign, Max, Min, re
        and im in it replaced by what the enclosures of their arguments decide."""
        sympy = self.sympy
        replacements = {}
        for e in sympy.preorder_traversal(expression):
            if e.func in (sympy.Abs, sympy.sign, sympy.re, sympy.im, sympy.conjugate, sympy.Max, sympy.Min):
                choice = self.decided(e)
                if choice is not None:
                    replacements[e] = choice
        # Again until nothing changes: a choice may itself hold a decided node
        # (|min(a, b)| is min(a, b), which is b). Each pass removes a node, so this ends.
        reduced, previous = expression.xreplace(replacements), expression
        while reduced != previous:
            reduced, previous = reduced.xreplace(replacements), reduced
        return reduced

    def decided(self, e):
        """What Abs, sign, Max, Min, re or im of real arguments is, where the arguments'
        enclosures decide it (None where they do not)."""
        sympy = self.sympy
        values = [self.memo.get(a) for a in e.args]
        if any(v is None or isinstance(v, ArithmeticError) for v in values):
            return None
        if e.func in (sympy.re, sympy.conjugate):
            return e.args[0]
        if e.func is sympy.im:
            return sympy.S.Zero
        if e.func in (sympy.Abs, sympy.sign):
            try:
                s = sign_of(values[0], "")
            except Unresolved:
                return None
            return (e.args[0] * s if e.func is sympy.Abs else sympy.Integer(s)) if s != 0 else sympy.S.Zero
        # Max or Min: the argument that is certainly above (below) every other one.
        better = (lambda x, y: libmp.mpf_gt(x._mpi_[0], y._mpi_[1])) if e.func is sympy.Max else (
            lambda x, y: libmp.mpf_lt(x._mpi_[1], y._mpi_[0]))
        for k, v in enumerate(values):
            if all(better(v, w) for i, w in enumerate(values) if i != k):
                return e.args[k]
        return None

    def atom(self, expression):
        sympy, ctx = self.sympy, self.ctx
        if expression.is_Rational:
            return from_fraction(ctx, Fraction(int(expression.p), int(expression.q)))
        if expression.is_Float:
            return exact_value(ctx, mpmath.mp.make_mpf(expression._mpf_))
        if expression is sympy.pi:
            return +ctx.pi
        if expression is sympy.E:
            return +ctx.e
        if expression in (sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            raise Undefined(f"sympy's value is {expression}")
        if expression is sympy.I:
            raise Undefined("the value is not real (sympy's I)")
        raise Unresolved(f"the certified evaluator does not know sympy's {expression}")


def certify_sympy(expressions, substitutions, digits, steps_free=True):
    """Certified values of sympy ``expressions`` with ``substitutions`` (symbol → float,
    taken exactly, or Fraction, enclosed): a list of `Certified`, in order.

    Where a value is unresolved because a Heaviside or sign has an argument no precision
    settles (max(x, asin(sin x)) at 7.6e-298: x − asin(sin x) is 0 exactly, which no
    enclosure shows), and ``steps_free``, the expression is evaluated again with each such
    argument taken negative, 0 and positive in turn (`_whatever_the_steps`): where every
    choice gives the same value, that value is established, whatever the argument is."""
    def evaluate(ctx, indices):
        walker = _Walker(ctx, substitutions)
        return [walker.value(expressions[k]) for k in indices]

    import sympy
    results = certify(evaluate, len(expressions), digits)
    if steps_free:
        for k, result in enumerate(results):
            if result.failure == "unresolved" and expressions[k].has(sympy.Heaviside, sympy.sign):
                results[k] = _whatever_the_steps(expressions[k], substitutions, digits) or result
    return results


STEP_GROUPS = 3
"""At most this many undecided step arguments (up to sign) are tried every way: 3³ = 27
evaluations."""


def _whatever_the_steps(expression, substitutions, digits):
    """The Certified value of ``expression`` when it is the same for every sign of the
    arguments of its Heaviside and sign functions (an argument and its negation taken
    together; Heaviside(0) is sympy's ½ or its second argument), or None."""
    import itertools

    import sympy
    steps = [e for e in sympy.preorder_traversal(expression) if e.func in (sympy.Heaviside, sympy.sign)]
    # The arguments with their decided Max, Min, Abs, … replaced: x − Max(½, asin(sin x)) and
    # asin(sin x) − Max(½, x) at 0.92 are u and −u, one argument, not two.
    # Those whose sign the enclosures settle are left to the evaluator.
    walker = _Walker(context(MAX_DIGITS), substitutions)
    undecided, arguments = [], []
    for e in steps:
        value = walker.value(e.args[0])
        if not isinstance(value, ArithmeticError):
            try:
                sign_of(value, "")
                continue
            except Unresolved:
                pass
        undecided.append(e)
        arguments.append(walker.reduced(e.args[0]))
    steps = undecided
    groups, placed = [], []           # distinct arguments up to sign; each step's (group, ±1)
    for argument in arguments:
        same = next(((k, orientation) for k, g in enumerate(groups) for orientation in (1, -1)
                     if sympy.expand(argument - orientation * g) == 0), None)
        if same is None:
            groups.append(argument)
            same = (len(groups) - 1, 1)
        placed.append(same)
    if not groups or len(groups) > STEP_GROUPS:
        return None
    found = []
    for signs in itertools.product((-1, 0, 1), repeat=len(groups)):
        replace = {}
        for e, (k, orientation) in zip(steps, placed):
            s = orientation * signs[k]
            if e.func is sympy.sign:
                replace[e] = sympy.Integer(s)
            else:
                replace[e] = (e.args[1] if len(e.args) > 1 else sympy.S.Half) if s == 0 else sympy.Integer(s > 0)
        value = certify_sympy([expression.xreplace(replace)], substitutions, digits, steps_free=False)[0]
        if not value.established:
            return None
        found.append(value)
    with mpmath.workdps(digits + 20):
        low = min(v.value - v.radius for v in found)
        high = max(v.value + v.radius for v in found)
        middle, radius = (low + high) / 2, (high - low) / 2
        if radius > mpmath.mpf(10) ** -digits * max(abs(middle), mpmath.ldexp(1, _ZERO_EXPONENT)):
            return None
    return Certified(middle, radius, max(v.digits for v in found))

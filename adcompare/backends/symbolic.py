"""The symbolic reference: sympy differentiates the whole expression with its own rules.

The sympy expression is built from the Graph node by node through each operation's
sympy counterpart (never from the user's text, and never from our local partials),
differentiated with ``sympy.diff``, and evaluated at the point in high precision with
mpmath (``digits`` significant digits, 30 by default, confirmed at higher precisions) with
the point's float values taken exactly. The other methods are compared against these values.

Over many points (numpy arrays, see `adcompare.backends`), the same derivatives are turned
into numpy functions by ``sympy.lambdify`` (with dummy argument names: no user text is
ever compiled) and evaluated in float64 over the arrays; ``details["precision"]`` then
says "float64" (for one point it is "high").

    >>> from adcompare.parse import parse
    >>> result = run(parse("ln(x1) + x1*x2 - sin(x2)"), (2.0, 5.0))
    >>> result.details["derivatives"][0]
    (x2 + 1/x1, x1 - cos(x2))
"""

import signal
import threading
from contextlib import contextmanager
from fractions import Fraction

import mpmath
import numpy as np
import sympy

from ..graph import Const, point_shape, point_text, quiet
from ..ops import OPERATIONS
from . import Cost, Result

_NAMED_CONSTANTS = {"pi": sympy.pi, "e": sympy.E}


def to_sympy_constant(const):
    """The exact sympy value of a literal."""
    if isinstance(const.exact, Fraction):
        return sympy.Rational(const.exact.numerator, const.exact.denominator)
    return _NAMED_CONSTANTS[const.exact]


def slot_expressions(graph):
    """The variables' symbols and one sympy expression per slot, built from the Graph."""
    symbols = [sympy.Symbol(name, real=True) for name in graph.variables]
    expressions = list(symbols)
    for node in graph.nodes:
        # A folded constant (Const.slot set) is that slot's own exact expression.
        args = [expressions[a.slot] if isinstance(a, Const) and a.slot is not None
                else to_sympy_constant(a) if isinstance(a, Const) else expressions[a] for a in node.args]
        expressions.append(OPERATIONS[node.op].to_sympy(*args))
    return symbols, expressions


def to_sympy(graph):
    """The variables' symbols and one sympy expression per output, built from the Graph."""
    symbols, expressions = slot_expressions(graph)
    return symbols, [expressions[slot] for slot in graph.outputs]


def lost_to_rounding(graph, point, values, digits=30, threshold=1e-8):
    """Operation slots whose float value is off its exact value by more than ``threshold``
    relative: (slot, float value, exact value). Where rounding has destroyed a value
    (exp(4e-27) = 1 exactly in floats, so ln of it is 0, not 4e-27), the float program's
    derivative may differ from the exact one however carefully it is accumulated."""
    if len(graph.nodes) > MAX_OPERATIONS:
        return []
    symbols, expressions = slot_expressions(graph)
    substitutions = {x: sympy.Rational(float(v)) for x, v in zip(symbols, point)}
    lost = []
    live = graph.live
    try:
        with time_budget(TIME_BUDGET), mpmath.workdps(digits + 10):
            for slot in range(graph.n_inputs, graph.size):
                if not live[slot]:
                    continue
                exact = _high_precision(expressions[slot], substitutions, digits)
                if exact is None:
                    continue
                error = abs(mpmath.mpf(float(values[slot])) - exact)
                if error > threshold * abs(exact):
                    lost.append((slot, float(values[slot]), exact))
    except _OverBudget:
        pass    # what was found in the symbolic method's time budget
    return lost


# What sympy may raise while evaluating at a point where an expression is undefined (a
# Heaviside or Max at a tie, 0**-1 …): the value is then reported as undefined.
_EVALUATION_ERRORS = (ArithmeticError, ValueError, TypeError, KeyError, AttributeError)


def _heaviside(x, at_zero=0.5):
    return 0 if x < 0 else (1 if x > 0 else at_zero)


def _numeric(expression, symbols):
    """``expression`` as a function of ``symbols`` over mpmath numbers: our own sympy
    expression printed by lambdify (dummy argument names), never user text. Where
    lambdify cannot print it, sympy's evalf at the same working precision stands in."""
    try:
        # Heaviside (from max, min and relu) as itself: printing it otherwise sends sympy
        # into its inequality solver.
        return sympy.lambdify(symbols, expression, modules=[{"Heaviside": _heaviside}, "mpmath"], dummify=True)
    except Exception:   # noqa: BLE001 — any printer failure: evaluate without it
        def with_evalf(*arguments):
            value = expression.evalf(mpmath.mp.dps, subs=dict(zip(symbols, map(sympy.Float, arguments))))
            if not value.is_Number:
                raise ValueError("not a number")
            return value._to_mpmath(mpmath.mp.prec)
        return with_evalf


def _real(value):
    """An mpmath result as a finite real mpf, or None (complex: ln, √, asin … outside their domain)."""
    if isinstance(value, mpmath.mpc):
        if value.imag != 0:
            return None
        value = value.real
    value = mpmath.mpf(value)
    return value if mpmath.isfinite(value) else None


def _evaluate(function, arguments, digits):
    """``function`` at exact ``arguments`` (sympy Rationals) with ``digits`` working digits
    (and 10 guard digits): its value(s) as finite reals (None for one that is not), or
    None when the evaluation raised."""
    with mpmath.workdps(digits + 10):
        try:
            value = function(*[mpmath.mpf(a.p) / a.q for a in arguments])
        except (*_EVALUATION_ERRORS, NameError):
            return None
        return [_real(v) for v in value] if isinstance(value, list) else _real(value)


def _high_precision(expression, substitutions, digits, most_digits=2000):
    """An mpmath number for ``expression`` at the point, or None where it is not a finite real.

    Evaluated with mpmath at ``digits``, then at four times as many, and so on, until two
    successive precisions agree to ``digits`` (and two zeros only at the last precision):
    one precision alone can return a large finite number at a pole (tan(acos(0))), or lose
    a term whose argument rounds (log(1 + 2e-113) as 0, leaving 4.9e112 where cancellation
    gives −0.5). mpmath rather than sympy's evalf, which returned 0 for asin(acos(σ(e³)))
    (6.15e-5) at every precision.
    """
    return _high_precision_all([expression], substitutions, digits, most_digits)[0]


def _high_precision_all(expressions, substitutions, digits, most_digits=2000):
    """`_high_precision` of each of ``expressions``, lambdified as one function (printing
    and compiling one each costs more than evaluating them); where evaluating them together
    raises (one divides by zero), each is evaluated alone."""
    symbols = list(substitutions)
    arguments = [sympy.Rational(substitutions[x]) for x in symbols]
    function = _numeric(list(expressions), symbols) if len(expressions) > 1 else _numeric(expressions[0], symbols)
    alone = []     # one function per expression, made when evaluating them together first raises

    def evaluate(precision):
        values = _evaluate(function, arguments, precision)
        if len(expressions) == 1:
            return [values]
        if values is None:
            alone[:] = alone or [_numeric(e, symbols) for e in expressions]
            return [_evaluate(f, arguments, precision) for f in alone]
        return values

    previous = evaluate(digits)
    results = [None] * len(expressions)
    undecided = {k for k, value in enumerate(previous) if value is not None}
    precision = digits
    while undecided and precision < most_digits:
        precision *= 4
        last = precision * 4 >= most_digits
        current = evaluate(precision)
        for k in sorted(undecided):
            if current[k] is None:
                undecided.discard(k)
                continue
            # Two zeros agree only at the last precision: cancellation wipes a value out to
            # exactly 0 at every precision short of its depth (1 − tanh²(−334) = 4e-290).
            both_zero = current[k] == 0 and previous[k] == 0
            with mpmath.workdps(precision):
                agree = abs(current[k] - previous[k]) <= mpmath.mpf(10) ** (5 - digits) * max(1, abs(current[k]))
            if agree and (last or not both_zero):
                results[k] = current[k]
                undecided.discard(k)
        previous = current
    return results


MAX_OPERATIONS = 2000
TIME_BUDGET = 5.0     # seconds; settable per call (--symbolic-budget on the command line)


class _OverBudget(Exception):
    pass


@contextmanager
def time_budget(seconds):
    """Raise _OverBudget in the block after ``seconds`` (SIGALRM: main thread, Unix; elsewhere
    the block runs unbounded)."""
    usable = (seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def over(signum, frame):
        raise _OverBudget()

    previous = signal.signal(signal.SIGALRM, over)
    # Repeat: an exception raised while Python runs a callback (a GC hook) is swallowed.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.25)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run(graph, point, digits=30, max_operations=MAX_OPERATIONS, budget=TIME_BUDGET):
    """Symbolic Jacobian of ``graph``, evaluated at ``point`` to ``digits`` significant digits.

    Graphs of more than ``max_operations`` operations, and work over ``budget`` seconds,
    are skipped with a reason: sympy's expressions swell, its algorithms recurse over
    expression depth, and some evaluations (piecewise functions at a tie) are slow.
    """
    if len(graph.nodes) > max_operations:
        return _skipped(graph, f"skipped: symbolic expression too large ({len(graph.nodes):,} operations; "
                               f"the symbolic method's limit is {max_operations:,})")
    sizes = {}
    try:
        with time_budget(budget):
            return _run(graph, point, digits, sizes)
    except RecursionError:
        return _skipped(graph, "skipped: the expression is nested too deeply for sympy")
    except _OverBudget:
        return _skipped(graph, f"skipped: sympy took longer than its budget of {budget:g} s "
                               f"(expression swell: {_swell(graph, sizes)})")


def _swell(graph, sizes):
    """How far sympy got, in sizes: the Graph shares subexpressions, sympy's tree repeats them."""
    if "expression" not in sizes:
        return f"the graph's {len(graph.nodes):,} operations did not finish as one sympy expression"
    text = f"the graph's {len(graph.nodes):,} operations are {sizes['expression']:,} in sympy's expression tree"
    if "derivatives" not in sizes:
        return text + ", and differentiating it did not finish"
    return text + f", its derivatives {sizes['derivatives']:,}, and evaluating those did not finish"


def _skipped(graph, reason):
    return Result("symbolic", tuple(None for _ in graph.outputs), None, Cost(0, 0, 0), error=reason,
                  error_kind="too large", details={"expressions": (), "derivatives": (), "digits": 0})


def _run(graph, point, digits, sizes):
    symbols, outputs = to_sympy(graph)
    sizes["expression"] = int(sum(sympy.count_ops(f) for f in outputs))
    derivatives = tuple(tuple(sympy.diff(f, x) for x in symbols) for f in outputs)
    sizes["derivatives"] = int(sum(sympy.count_ops(d) for row in derivatives for d in row))
    if point_shape(point) is not None:
        return _run_points(graph, point, symbols, outputs, derivatives, sizes["derivatives"])
    substitutions = {x: sympy.Rational(float(v)) for x, v in zip(symbols, point)}
    m, n = len(outputs), len(symbols)
    numbers = _high_precision_all([*outputs, *(d for row in derivatives for d in row)], substitutions, digits)
    values = tuple(numbers[:m])
    jacobian = [numbers[m + k * n:m + (k + 1) * n] for k in range(m)]
    undefined = [(k, j) for k, row in enumerate(jacobian) for j, d in enumerate(row) if d is None]
    error = None
    if undefined:
        k, j = undefined[0]
        error = (f"sympy's derivative {sympy.sstr(derivatives[k][j])} with respect to "
                 f"{graph.variables[j]} is not a finite real number at this point")
    elif any(value is None for value in values):
        # Rounding can move a point into the float program's domain that the exact function
        # is not defined at: ln(cos(acos(x))) at x < 0 is ln of 6e-17 in floats, of x exactly.
        k = values.index(None)
        error = (f"sympy's value {sympy.sstr(outputs[k])} is not a finite real number at this point "
                 "(rounding moved the float program into its domain)")
    return Result("symbolic", values, None if error else np.array(jacobian, dtype=object),
                  Cost(0, 0, sizes["derivatives"]),
                  details={"expressions": tuple(outputs), "derivatives": derivatives, "digits": digits,
                           "precision": "high"},
                  error=error, error_kind="undefined" if error else None)


def _run_points(graph, point, symbols, outputs, derivatives, size):
    """The symbolic Jacobian over arrays of points, in float64 (see the module doc)."""
    shape = point_shape(point)
    details = {"expressions": tuple(outputs), "derivatives": derivatives, "digits": None, "precision": "float64"}
    formulas = [*outputs, *(d for row in derivatives for d in row)]
    try:
        with quiet():
            numeric = sympy.lambdify(symbols, formulas, modules="numpy", dummify=True)(*point)
    except (NameError, TypeError, ValueError, AttributeError, ArithmeticError) as error:
        return Result("symbolic", tuple(None for _ in outputs), None, Cost(0, 0, size), details=details,
                      error=f"sympy's derivatives could not be evaluated with numpy ({type(error).__name__}: "
                            f"{error})", error_kind="undefined")
    numeric = [_real_array(value, shape) for value in numeric]
    m, n = len(outputs), len(symbols)
    jacobian = np.array(numeric[m:]).reshape((m, n) + shape)
    values = tuple(numeric[:m])
    finite = np.isfinite(jacobian)
    if not finite.all() and finite.all(axis=(0, 1)).any():
        # Some points only (scale branch): those are marked and inconclusive, not the run.
        return Result("symbolic", values, jacobian, Cost(0, 0, size),
                      details={**details, "failed": ~finite.all(axis=(0, 1))})
    if not finite.all():
        k, j, *position = np.argwhere(~finite)[0]
        return Result("symbolic", values, None, Cost(0, 0, size), details=details,
                      error=f"{point_text(graph, point, tuple(position))}: sympy's derivative "
                            f"{sympy.sstr(derivatives[k][j])} with respect to {graph.variables[j]} is not a "
                            "finite real number in float64", error_kind="undefined")
    return Result("symbolic", values, jacobian, Cost(0, 0, size), details=details)


def _real_array(value, shape):
    """A lambdified formula's value as a float64 array of the points' shape (a constant
    formula gives one number; a value with a non-zero imaginary part is not real: NaN)."""
    value = np.broadcast_to(np.asarray(value), shape)
    if np.iscomplexobj(value):
        value = np.where(value.imag == 0, value.real, np.nan)
    return np.array(value, dtype=float)

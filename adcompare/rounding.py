"""First-order rounding-error analysis of a function and its forward-mode derivative in
floating point.

Used to explain, when a method differs from the exact derivative, whether rounding alone
can account for it: for forward and reverse mode, the derivative's own rounding error; for
finite differences, the rounding error of f itself, which the difference quotient divides
by its step. Each slot carries a bound on the error of its float
value (inputs are exact; each operation adds ε·|v| and passes on Σ |∂v/∂u|·err(u)), and
each local partial's sensitivity to those errors is measured by re-evaluating it at
arguments moved by their error bounds. The tangent's error bound then accumulates
|∂v/∂u|·err(u̇) + Δ(∂v/∂u)·|u̇| + ε·|terms|. It is computed only on demand.

    >>> from adcompare.parse import parse
    >>> bounds = error_bounds(parse("acos(cos(x))"), (1e-4,), 0, 0)
    >>> bounds.derivative > 1e-9, bounds.value > 1e-13   # acos′ near 1 magnifies cos(1e-4)'s rounding
    (True, True)
"""

import math
from typing import NamedTuple

import numpy as np

from .graph import Const, argument_values, quiet
from .ops import OPERATIONS

EPS = np.finfo(float).eps


def _partials(op, args, node_args):
    value = op.evaluate(*args)
    return value, [None if isinstance(a, Const) else p.value(*args, value) for a, p in zip(node_args, op.partials)]


def _times(factor, amount):
    """factor · amount, 0 where the amount is 0 whatever the factor: an argument without
    error, or without tangent, passes none (√′ = ∞ at an exact 0; x^c·ln x at x = 0 for an
    exponent that does not move)."""
    return 0.0 if amount == 0 else factor * amount


def _underflow(op, args, value):
    """The absolute error a result below the normal range may carry (Higham, §2.1: the η
    of fl(x op y) = (x op y)(1 + δ) + η): x2·x2 at 6.3e-187 is 0 in floats, 4e-373
    exactly. Sums and differences below the normal range are exact, as are choices and
    signs (`EXACT`), and a result made 0 by an argument that is 0 (0·y, sin 0)."""
    if abs(value) >= TINY or op in EXACT or op in ("add", "sub") or any(np.real(a) == 0 for a in args):
        return 0.0
    return UNDERFLOW


class RoundingBounds(NamedTuple):
    """First-order bounds on the rounding error of an output's float value and of its derivative."""

    value: float
    derivative: float


def error_bounds(graph, point, output, variable, decided=()):
    """First-order bounds on the rounding error of output ``output`` and of
    ∂(output)/∂(variable) as forward mode computes them in float64 (infinite where a
    partial is undefined within rounding). At the slots in ``decided`` (nodes on their
    kink, whose piece a directional sweep takes from the exact values or the one-sided
    rule, `adcompare.nonsmooth`), a partial that changes within rounding is no error."""
    n = graph.n_inputs
    values, errors = list(point), [0.0] * n
    tangents = [1.0 if i == variable else 0.0 for i in range(n)]
    tangent_errors = [0.0] * n
    with quiet():
        for slot in range(n, graph.size):
            node = graph.node(slot)
            op = OPERATIONS[node.op]
            args = argument_values(node.args, values)
            arg_errors = [0.0 if isinstance(a, Const) else errors[a] for a in node.args]
            value, partials = _partials(op, args, node.args)
            sensitivity = [0.0] * op.arity
            for sign in (() if slot in decided else (1.0, -1.0)):
                moved = [a + sign * e for a, e in zip(args, arg_errors)]
                _, moved_partials = _partials(op, moved, node.args)
                for i, (p, q) in enumerate(zip(partials, moved_partials)):
                    if p is not None:
                        change = abs(q - p)
                        sensitivity[i] = max(sensitivity[i], change if np.isfinite(change) else np.inf)
            if op.kink_rule is not None and np.real(op.kink_side(*args)) == 0:
                # On its kink a piecewise operation's partials are a convention (abs′(0) = 0);
                # on either side each is at most 1 in size (abs, relu, max and min are
                # 1-Lipschitz): the bound takes 1, and the tangent at its largest.
                partials = [None if p is None else 1.0 for p in partials]
                tangent = sum(abs(tangents[a]) for p, a in zip(partials, node.args) if p is not None)
            else:
                tangent = None
            # A piecewise operation that does not read an argument (partial 0, and still 0 with
            # the arguments moved by their errors: max(√(x²), 1e-10) at 0) passes none of
            # that argument's errors, even infinite ones.
            terms = [(p, a, s) for p, a, s in zip(partials, node.args, sensitivity)
                     if p is not None and not (p == 0 and s == 0 and op.kink_rule is not None)]
            errors.append(EPS * abs(value) + _underflow(node.op, args, value)
                          + sum(_times(abs(p), errors[a]) for p, a, _ in terms))
            values.append(value)
            if tangent is None:
                tangent = sum(_times(p, tangents[a]) for p, a, _ in terms)
            tangent_errors.append(
                EPS * (sum(_times(abs(p), abs(tangents[a])) for p, a, _ in terms) + abs(tangent))
                + sum(_times(abs(p), tangent_errors[a]) + _times(s, abs(tangents[a])) for p, a, s in terms))
            tangents.append(tangent)
    slot = graph.outputs[output]
    return RoundingBounds(float(errors[slot]), float(tangent_errors[slot]))


# ----------------------------------------------------------------------------- by primal evaluations alone

LOCAL_ROUNDING = 2.0 * EPS
"""Each operation's own rounding error, relative to its value: numpy's elementary functions
are within an ulp or two (IEEE 754 rounds +, −, ×, / and √ correctly; libm's exp, log, sin, …
are not correctly rounded but are within one ulp almost everywhere)."""
EXACT = frozenset({"neg", "abs", "relu", "max", "min", "identity"})
"""Operations whose float result is exact: a change of sign, or a choice among their
arguments (identity adds 0.0). They add no rounding of their own."""
TINY = np.finfo(float).tiny     # the smallest normal float
UNDERFLOW = np.finfo(float).smallest_subnormal
"""Each operation's absolute rounding error near zero: a result below the normal range keeps
fewer digits, and one below the smallest subnormal is 0 (Higham, §2.1: fl(x op y) =
(x op y)(1 + δ) + η)."""


def _moved(op, args, position, size, imaginary):
    """|Δ Re| and |Δ Im| of op's value when argument ``position`` moves by ±``size`` (along
    the real axis, or the imaginary axis when ``imaginary``), to first order: a move below an
    ulp of the argument would be lost, so the argument moves by at least an ulp and the
    change is scaled back. A side whose move leaves the domain or gives a non-finite value
    is not used; when neither side can be, the change is unbounded (∞)."""
    a = args[position]
    base = np.imag(a) if imaginary else np.real(a)
    probe = np.maximum(size, np.spacing(np.abs(base)))
    scale = np.where(probe > 0, size / np.where(probe > 0, probe, 1.0), 0.0)
    value = op.evaluate(*args)
    changes = []
    for sign in (1.0, -1.0):
        moved = list(args)
        moved[position] = a + sign * probe * (1j if imaginary else 1.0)
        there = op.evaluate(*moved)
        usable = np.isfinite(there) & (True if op.domain is None else op.domain(*[np.real(m) for m in moved]))
        difference = there - value
        changes.append((np.where(usable, np.abs(np.real(difference)), np.nan),
                        np.where(usable, np.abs(np.imag(difference)), np.nan)))
    real, imag = (np.fmax(changes[0][part], changes[1][part]) for part in (0, 1))
    unbounded = np.isnan(real) | ~np.isfinite(size)
    return (np.where(unbounded, np.inf, real * scale), np.where(unbounded | np.isnan(imag), np.inf, imag * scale))


def float_error_bounds(graph, point):
    """A running error analysis of the float program (Wilkinson; Higham, *Accuracy and
    Stability of Numerical Algorithms*, 2nd ed., §3.3) by primal evaluations alone: for each
    slot, bounds on the error of the real part and of the imaginary part of its float value.

    Inputs are exact. Each operation adds its own rounding, ``LOCAL_ROUNDING``·|value| +
    ``UNDERFLOW`` (none for the exact ones, `EXACT`), and
    passes on the errors of its arguments as the change of its value when each argument is
    moved by its error bound, evaluated (`_moved`), not taken from a derivative: finite
    differences, which use this bound, read nothing but primal evaluations (the operation
    table's ``evaluate`` and ``domain``, never its partials). With complex values (the
    complex step evaluates f at x + ih), the imaginary part carries the tangent, and its own
    rounding is that of the terms it is summed from, |Im op(…, aᵢ, …)| with only argument i
    complex (x/x at x + ih: two terms ±h/x cancel): the first-order bound of forward mode's
    rounding, found without a derivative rule. First order: a bound, not a guarantee, where
    an error is so large that the operation is far from linear over it (then the change
    itself is what is used). Values may be numpy arrays (many points at once).

    Returns (values, real errors, imaginary errors), one entry per slot; at a real point
    the imaginary errors are 0. An argument whose error is not a number (its value is not
    finite: f is not defined there) makes the error of what reads it infinite.

    Cost: one pass over the Graph with three evaluations of an operation per argument that
    carries an error (its value, and the argument moved either way). At a point of floats
    the pass is plain Python over floats (a few µs per operation; numpy only inside the
    operation table's ``evaluate``), which gives the same floats as numpy's elementwise
    arithmetic; over arrays of points each step is one numpy call over all points.

        >>> from adcompare.parse import parse
        >>> values, real, _ = float_error_bounds(parse("acos(cos(x))"), (1e-4,))
        >>> 1e-13 < float(real[-1]) < 1e-11    # cos(1e-4) = 1 − 5e-9 ± 1e-16; acos′ ≈ 1e4 magnifies it
        True
    """
    if any(np.iscomplexobj(x) for x in point):
        return _complex_error_bounds(graph, point)
    if all(np.ndim(x) == 0 for x in point):
        values, real = _scalar_error_bounds(graph, point)
    else:
        values, real = _array_error_bounds(graph, point)
    return values, real, [0.0] * len(real)


_LOCAL, _UNDERFLOW, _LARGEST = float(LOCAL_ROUNDING), float(UNDERFLOW), float(np.finfo(float).max)


def _scalar_error_bounds(graph, point):
    """`float_error_bounds`' real errors at one point of floats: `_moved`'s arithmetic on
    Python floats (the same IEEE operations, without numpy's per-call cost), and `_moved`
    itself wherever a value, an argument or an error is not finite."""
    n, nodes = graph.n_inputs, graph.nodes
    values = [float(x) for x in point]
    real = [0.0] * n
    isfinite, ulp = math.isfinite, math.ulp
    with quiet():
        for slot in range(n, graph.size):
            node = nodes[slot - n]
            op = OPERATIONS[node.op]
            args = [a.value if type(a) is Const else values[a] for a in node.args]
            value = float(op.evaluate(*args))
            error = 0.0 * abs(value) if node.op in EXACT else _LOCAL * abs(value) + _UNDERFLOW
            for position, arg in enumerate(node.args):
                if type(arg) is Const or real[arg] <= 0:
                    continue
                size, a = real[arg], args[position]
                if not (isfinite(size) and isfinite(value) and isfinite(a) and abs(a) < _LARGEST):
                    error += float(_moved(op, args, position, size, False)[0])
                    continue
                probe = max(size, ulp(abs(a)))      # np.spacing(|a|) below the largest float
                change = math.nan           # the larger change of the two sides that can be used
                moved = list(args)
                for sign in (1.0, -1.0):
                    moved[position] = a + sign * probe
                    there = op.evaluate(*moved)
                    if isfinite(there) and (op.domain is None or op.domain(*moved)):
                        here = abs(float(there) - value)
                        if not change >= here:
                            change = here
                error += math.inf if change != change else change * (size / probe)
            values.append(value)
            real.append(error)
    return values, real


def _array_error_bounds(graph, point):
    """`float_error_bounds`' real errors over arrays of points: `_moved` for real values,
    one numpy call per step over all points."""
    n, nodes = graph.n_inputs, graph.nodes
    values = list(point)
    real = [np.zeros(np.shape(x)) for x in point]
    with quiet():
        for slot in range(n, graph.size):
            node = nodes[slot - n]
            op = OPERATIONS[node.op]
            args = [a.value if type(a) is Const else values[a] for a in node.args]
            value = op.evaluate(*args)
            error = 0.0 * np.abs(value) if node.op in EXACT else LOCAL_ROUNDING * np.abs(value) + UNDERFLOW
            for position, arg in enumerate(node.args):
                if type(arg) is Const:
                    continue
                size = real[arg]
                positive = ~(size <= 0)         # an error that is NaN is unbounded
                if not positive.any():
                    continue
                a = args[position]
                probe = np.maximum(size, np.spacing(np.abs(a)))
                moved = list(args)
                sides = []
                for sign in (1.0, -1.0):
                    moved[position] = a + sign * probe
                    there = op.evaluate(*moved)
                    usable = np.isfinite(there) if op.domain is None else np.isfinite(there) & op.domain(*moved)
                    sides.append(np.where(usable, np.abs(there - value), np.nan))
                change = np.fmax(*sides)
                scale = np.where(probe > 0, size / probe, 0.0)
                moved_by = np.where(np.isnan(change) | ~np.isfinite(size), np.inf, change * scale)
                error = error + np.where(positive, moved_by, 0.0)
            values.append(value)
            real.append(error)
    return values, real


def _complex_error_bounds(graph, point):
    """`float_error_bounds` where some value is complex (the complex step)."""
    n = graph.n_inputs
    values = list(point)
    real = [np.zeros(np.shape(x)) for x in point]
    imag = [np.zeros(np.shape(x)) for x in point]
    with quiet():
        for slot in range(n, graph.size):
            node = graph.node(slot)
            op = OPERATIONS[node.op]
            args = argument_values(node.args, values)
            value = op.evaluate(*args)
            complex_value = np.iscomplexobj(value)
            local = 0.0 if node.op in EXACT else LOCAL_ROUNDING
            tiny = 0.0 if node.op in EXACT else UNDERFLOW
            slot_real = local * np.abs(np.real(value)) + tiny
            slot_imag = local * np.abs(np.imag(value)) + tiny if complex_value else 0.0
            if complex_value and node.op == "pow":
                # numpy raises a complex number to a power as exp(b·log a): the rounding of
                # b·log a, relative, is magnified by |b·log a| ((x − 1)^1.5 at 1 + 4e-9: 29).
                magnified = np.abs(np.real(args[1] * np.log(np.where(args[0] == 0, 1.0, args[0]))))
                local = LOCAL_ROUNDING * (1.0 + np.where(np.isfinite(magnified), magnified, 0.0))
                slot_imag = local * np.abs(np.imag(value)) + UNDERFLOW
            for position, arg in enumerate(node.args):
                if isinstance(arg, Const):
                    continue
                if complex_value:
                    alone = [a if i == position else np.real(a) for i, a in enumerate(args)]
                    slot_imag = slot_imag + local * np.abs(np.imag(op.evaluate(*alone)))
                for size, imaginary in ((real[arg], False), (imag[arg], True)):
                    if np.any(size > 0):
                        d_real, d_imag = _moved(op, args, position, size, imaginary)
                        slot_real = slot_real + np.where(size > 0, d_real, 0.0)
                        slot_imag = slot_imag + np.where(size > 0, d_imag, 0.0)
            values.append(value)
            real.append(slot_real)
            imag.append(slot_imag * np.ones(np.shape(slot_real)) if np.ndim(slot_imag) == 0 else slot_imag)
    return values, real, imag

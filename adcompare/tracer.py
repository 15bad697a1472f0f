"""The scalar tracer: a `Tracer` stands for one value slot of the Graph being recorded.

This module knows no calculus and no numpy arrays (`adcompare.tracing` adds those). A
`_Recorder` collects the nodes of one trace; Python arithmetic on Tracers (``+ - * / **``,
unary minus, ``abs``) appends one `Node(op, args)` naming an entry of the operation table
and returns a new Tracer holding the primal value. Slots are numbered in the order the
operations ran, which is already a valid evaluation order.

Three rules make traces of real code possible:

- **A domain error is deferred.** ``np.where(x < 1, x, np.sqrt(x))`` evaluates both
  branches; the one not taken may be outside its domain. The node is recorded with a NaN
  value and the error kept; `pending_error` raises it only if the node turns out to be
  live (some output depends on it), once the trace is over (see `graph.prune`).
- **A tracer from an ended trace is a constant.** State kept between calls (running
  statistics in a ``bn_param`` dict or on a layer) holds Tracers of an earlier trace; they
  stand for their primal values, as plain numbers would.
- **Comparisons are answered from the primal values** and return ordinary booleans, so
  masks and branches trace the path taken at this point. Each is counted, and one decided
  at a tie (both sides equal, ``x <= 0`` at ``x = 0``) is recorded as a `Tie`: a point
  where the traced path may change and the function may have a kink.
"""

import math
import numbers
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .errors import AdcompareError, DomainError
from .graph import Const, Graph, Node, apply, float_text, quiet
from .ops import OPERATIONS

MAX_OPERATIONS = 2_000_000


class TracingError(AdcompareError):
    """The traced function did something the tracer cannot follow; the message names it.

    ``where`` is the line of the user's code where it happened ("line 12 of layers.py, in
    conv_forward: out[n, f, i, j] = ..."), when it could be found, else None.
    """

    where = None


@dataclass(frozen=True)
class Tie:
    """A comparison decided at a tie: ``description`` says which (e.g. ``x[2] <= 0``).

    ``slot`` is the slot of a traced operand of the comparison.
    """

    slot: int
    description: str


_ACTIVE = []
"""The open recorder, while a trace runs (at most one: nested tracing is not supported)."""


def active_recorder():
    """The recorder of the trace now running, or None."""
    return _ACTIVE[-1] if _ACTIVE else None


def is_live(value):
    """Whether ``value`` is a Tracer of the trace now running (not a number, not a stale Tracer)."""
    return isinstance(value, Tracer) and value.recorder.open


def value_of(value):
    """A number's float value; a Tracer's primal value."""
    return value.value if isinstance(value, Tracer) else float(value)


def is_number(value):
    """A real number that is not a live Tracer (a stale Tracer counts as its value)."""
    return (isinstance(value, numbers.Real) and not isinstance(value, Tracer)) or \
        (isinstance(value, Tracer) and not value.recorder.open)


class _Recorder:
    """Collects the nodes of one trace. Tracers point back to it."""

    def __init__(self, names, max_operations):
        self.names = list(names)
        self.n_inputs = len(self.names)
        self.values = []
        self.nodes = []
        self.ties = []
        self.pending = {}      # slot → (operation name, argument values): a deferred domain error
        self.steady = set()    # slots constant near the point (max(0, v) at v < 0, and what only they make)
        self.constants = {}    # float → its Const, made once
        self.comparisons = 0
        self.max_operations = max_operations
        self.open = True

    def variable(self, value):
        slot = len(self.values)
        self.values.append(value)
        return Tracer(self, slot, value)

    def constant(self, value):
        number = value_of(value)
        key = (number, math.copysign(1.0, number))    # 0.0 and −0.0 are different constants
        const = self.constants.get(key)
        if const is None:
            if not math.isfinite(number):
                raise TracingError(f"the constant {number!r} cannot enter a traced computation")
            const = self.constants[key] = Const(number, Fraction(number), float_text(number))
        return const

    def describe(self, slot):
        """How a message names a slot: the variable's name, or the operation that made it."""
        if slot < self.n_inputs:
            return self.names[slot]
        return f"the result of {self.nodes[slot - self.n_inputs].op} (node {slot - self.n_inputs + 1})"

    def record(self, name, args):
        """Append one node applying operation ``name`` to ``args`` (live Tracers or numbers)."""
        if len(self.nodes) >= self.max_operations:
            raise TracingError(f"the traced function performs more than {self.max_operations:,} operations")
        op = OPERATIONS[name]
        values = [value_of(a) for a in args]
        value = float(op.evaluate(*values))      # under quiet(), which trace_function holds for the whole trace
        slot = len(self.values)
        if (op.domain is not None and not op.domain(*values)) or not math.isfinite(value):
            self.pending[slot] = (name, values)
            value = math.nan
        self.nodes.append(Node(name, tuple(a.slot if is_live(a) else self.constant(a) for a in args)))
        self.values.append(value)
        if self._steady(name, args, values):
            self.steady.add(slot)
        return Tracer(self, slot, value)

    def _steady(self, name, args, values):
        """Whether the node's value is constant near the point: every traced argument is,
        or a max/min/relu strictly picks a constant side (a clipped SVM margin)."""
        def constant(a):
            return not is_live(a) or a.slot in self.steady
        if all(constant(a) for a in args):
            return True
        if name in ("max", "min") and values[0] != values[1]:
            return constant(args[0 if (values[0] > values[1]) == (name == "max") else 1])
        return name == "relu" and values[0] < 0

    def pending_error(self, slot):
        """The DomainError deferred at ``slot``, worded as the Graph words it."""
        name, values = self.pending[slot]
        arity = len(values)
        single = Graph(tuple(f"a{i}" for i in range(arity)), (Node(name, tuple(range(arity))),), (arity,))
        try:
            with quiet():
                apply(single, arity, values)
        except DomainError as error:
            return DomainError(f"{error} (while tracing, at {self.describe(slot)})")
        # The arguments were NaN: an earlier pending node is the cause.
        return DomainError(f"{name} of an undefined value (while tracing, at {self.describe(slot)})")

    def compare(self, left, symbol, right):
        """Answer a comparison from the primal values; record it, and a tie."""
        a, b = value_of(left), value_of(right)
        self.comparisons += 1
        steady = all(not is_live(x) or x.slot in self.steady for x in (left, right))
        if a == b and not steady:   # a tie of values constant near the point cannot change side
            traced = left if is_live(left) else right
            names = [self.describe(x.slot) if is_live(x) else float_text(value_of(x)) for x in (left, right)]
            self.ties.append(Tie(traced.slot, f"{names[0]} {symbol} {names[1]} (both sides {float_text(a)})"))
        return bool(COMPARE[symbol](a, b))

    def tie(self, tracer, description):
        """Record a tie of a piecewise-constant function at its jump (``sign`` at 0)."""
        self.ties.append(Tie(tracer.slot, description))


_OPERATOR_UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power}
_COMPARISON_UFUNCS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
                      "==": np.equal, "!=": np.not_equal}
COMPARE = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
           ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def recorder_of(args):
    """The open recorder behind the live Tracers among ``args``, or None when there are none
    (numbers and Tracers of ended traces only)."""
    recorder = None
    for arg in args:
        if isinstance(arg, Tracer):
            if not arg.recorder.open:
                continue
            if recorder is not None and arg.recorder is not recorder:
                raise TracingError("traced values from two different traces were combined")
            recorder = arg.recorder
        elif not isinstance(arg, numbers.Real):
            raise TracingError(f"a traced value was combined with a {type(arg).__name__}, "
                               "which is neither a number nor a numpy array")
    return recorder


def apply_operation(name, *args):
    """Apply operation ``name`` of the table to numbers or Tracers (recorded when traced).

    ``max`` and ``min`` with an infinite constant (``np.full(shape, -np.inf)`` as the start
    of a running maximum) return the other argument: max(−∞, v) = v exactly; a power with
    a constant exponent 0 is the constant 1, as Python and numpy define it (0**0 = 1).

    >>> apply_operation("relu", -2.0), apply_operation("max", 1.0, 3.0)
    (0.0, 3.0)
    """
    recorder = recorder_of(args)
    if recorder is None:
        with quiet():
            return float(OPERATIONS[name].evaluate(*[value_of(a) for a in args]))
    if name in ("max", "min"):
        identity = -math.inf if name == "max" else math.inf
        for this, other in (args, args[::-1]):
            if not is_live(this) and value_of(this) == identity:
                return other
    if name == "pow" and not is_live(args[1]) and value_of(args[1]) == 0.0:
        return 1.0      # x**0 is 1 for every x in Python and numpy (0**0 too): a constant
    return recorder.record(name, args)


class Tracer:
    """A traced scalar: a value slot of the Graph being recorded, with its primal value.

    Arithmetic with numbers or other Tracers of the same trace records a node.
    """

    __slots__ = ("recorder", "slot", "value")

    def __init__(self, recorder, slot, value):
        self.recorder = recorder
        self.slot = slot
        self.value = value

    def __repr__(self):
        if not self.recorder.open:
            return repr(self.value)
        return f"<traced {self.recorder.describe(self.slot)} = {self.value!r}>"

    # Arithmetic: Python's operators are spelled as the operations they are. Operands keep
    # the written order; arrays on the other side go to numpy (see adcompare.tracing).
    def _binary(self, op, other, reflected=False):
        if isinstance(other, np.ndarray):
            ufunc = _OPERATOR_UFUNCS[op]
            return ufunc(other, self) if reflected else ufunc(self, other)
        if not isinstance(other, (numbers.Real, Tracer)):
            return NotImplemented
        return apply_operation(op, other, self) if reflected else apply_operation(op, self, other)

    def __add__(self, other):
        return self._binary("add", other)

    def __radd__(self, other):
        return self._binary("add", other, reflected=True)

    def __sub__(self, other):
        return self._binary("sub", other)

    def __rsub__(self, other):
        return self._binary("sub", other, reflected=True)

    def __mul__(self, other):
        return self._binary("mul", other)

    def __rmul__(self, other):
        return self._binary("mul", other, reflected=True)

    def __truediv__(self, other):
        return self._binary("div", other)

    def __rtruediv__(self, other):
        return self._binary("div", other, reflected=True)

    def __pow__(self, other, modulo=None):
        if modulo is not None:
            raise TracingError("pow(x, y, modulo) is not supported on traced values")
        return self._binary("pow", other)

    def __rpow__(self, other):
        return self._binary("pow", other, reflected=True)

    def __neg__(self):
        return apply_operation("neg", self)

    def __pos__(self):
        return self

    def __abs__(self):
        return apply_operation("abs", self)

    # Comparisons: answered from the primal values, recorded (see the module docstring).
    def _compare(self, symbol, other):
        if isinstance(other, np.ndarray):
            return _COMPARISON_UFUNCS[symbol](self, other)
        if not isinstance(other, (numbers.Real, Tracer)):
            return NotImplemented
        recorder = recorder_of((self, other))
        if recorder is None:
            return bool(COMPARE[symbol](value_of(self), value_of(other)))
        return recorder.compare(self, symbol, other)

    def __lt__(self, other):
        return self._compare("<", other)

    def __le__(self, other):
        return self._compare("<=", other)

    def __gt__(self, other):
        return self._compare(">", other)

    def __ge__(self, other):
        return self._compare(">=", other)

    def __eq__(self, other):
        return self._compare("==", other)

    def __ne__(self, other):
        return self._compare("!=", other)

    __hash__ = object.__hash__

    # What the tracer cannot follow. A stale Tracer is its value, and converts freely.
    def __bool__(self):
        if not self.recorder.open:
            return bool(self.value)
        raise TracingError(
            "data-dependent control flow on a traced value is not supported: the truth value of "
            f"{self.recorder.describe(self.slot)} (= {self.value!r}) was asked for (`if x:`, `while x:`, "
            "`and`, `or`, `not`); write the comparison you mean (x != 0, x > 0) or use "
            "np.where / np.maximum")

    def _conversion(self, what, convert):
        if not self.recorder.open:
            return convert(self.value)
        raise TracingError(
            f"a traced value ({self.recorder.describe(self.slot)} = {self.value!r}) was converted to {what}: "
            "the tracer cannot follow it through the conversion (use numpy functions, np.exp, not "
            "math.exp; a float32 array loses the trace too)")

    def __float__(self):
        return self._conversion("a float", float)

    def __int__(self):
        return self._conversion("an int", int)

    def __index__(self):
        return self._conversion("an index", int)

    def __complex__(self):
        return self._conversion("a complex number", complex)

    def __round__(self, ndigits=None):
        return self._conversion("a rounded number", lambda v: round(v, ndigits))

    def __floor__(self):
        return self._conversion("an integer (math.floor)", math.floor)

    def __ceil__(self):
        return self._conversion("an integer (math.ceil)", math.ceil)

    def __trunc__(self):
        return self._conversion("an integer (math.trunc)", math.trunc)

    def _not_differentiable(self, operator):
        raise TracingError(f"the operator {operator} is not supported on traced values "
                           "(it is piecewise constant; its derivative is not traced)")

    def __floordiv__(self, other):
        self._not_differentiable("//")

    __rfloordiv__ = __floordiv__

    def __mod__(self, other):
        self._not_differentiable("%")

    __rmod__ = __mod__

    def __divmod__(self, other):
        self._not_differentiable("divmod")

    __rdivmod__ = __divmod__

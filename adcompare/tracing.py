"""Tracing Python callables into a `Graph`: run the function on tracer values and record
every elementary operation it performs, in evaluation order.

This module knows no calculus. A `Tracer` stands for one value slot; Python arithmetic
(``+ - * / **``, unary minus, ``abs``), numpy ufuncs (through ``__array_ufunc__``) and the
functions in `functions` each append one `Node(op, args)` naming an entry of the
operation table, and return a new Tracer holding the primal value. Array arguments
become `TracedArray`s, numpy object arrays of tracers, so that ``X @ W``, ``.sum()``,
broadcasting, slicing and masks work unchanged, element by element. Slots are numbered
in the order the operations ran, which is already a valid evaluation order.

Variables are named after the function's parameters: ``x`` for a scalar, ``W[0,1]`` for
an entry of an array. Python and numpy numbers met along the way become `Const`
literals, ``Const(value, Fraction(value), repr(value))`` (a float's Fraction is exact;
the text drops a trailing ``.0``, so that ``x ** 2`` reads as the parser writes it).

    >>> import numpy as np
    >>> traced = trace_function(lambda x, W: np.sum((W @ x) ** 2),
    ...                         np.array([0.2, 0.4]), np.array([[0.1, 0.5], [-0.3, 0.8]]))
    >>> traced.graph.variables
    ('x[0]', 'x[1]', 'W[0,0]', 'W[0,1]', 'W[1,0]', 'W[1,1]')
    >>> [node.op for node in traced.graph.nodes]
    ['mul', 'mul', 'add', 'mul', 'mul', 'add', 'pow', 'pow', 'add']
    >>> round(traced.value[0], 12)      # ‖W x‖² = 0.22² + 0.26²
    0.116

What the tracer cannot follow raises `TracingError` naming it: asking for the truth
value of a traced number (``if x:``), converting one to a float (``math.exp(x)``,
storing it into a float array), or a numpy function without an operation-table entry
(``np.sign``, ``np.floor``).

Comparisons (``x > 0``, ``x <= y``, ``np.less``) are answered from the primal values and
return ordinary booleans, so masks such as ``out[x <= 0] = 0`` and branches trace the
path taken at this point. They are honest about not being differentiable: each one is
recorded, and one decided at a tie (both sides equal, as in ``x <= 0`` at ``x = 0``) is
reported as a `Tie`, a point where the traced path may change and the function may
have a kink.
"""

import inspect
import math
import numbers
from dataclasses import dataclass
from fractions import Fraction
from types import SimpleNamespace

import numpy as np

from .errors import AdcompareError, DomainError
from .graph import Const, Graph, Node, apply, float_text, quiet
from .ops import FUNCTIONS, OPERATIONS

MAX_OPERATIONS = 2_000_000


class TracingError(AdcompareError):
    """The traced function did something the tracer cannot follow; the message names it."""


@dataclass(frozen=True)
class Tie:
    """A comparison decided at a tie: ``description`` says which (e.g. ``x[2] <= 0``).

    ``slot`` is the slot of a traced operand of the comparison.
    """

    slot: int
    description: str


@dataclass(frozen=True)
class Argument:
    """One argument of the traced function: its name, shape and its variables' slots."""

    name: str
    shape: tuple
    first_slot: int

    @property
    def size(self):
        """Number of scalar variables (1 for a scalar)."""
        return math.prod(self.shape)

    def index(self, slot):
        """The index of ``slot`` within this argument, as a tuple (empty for a scalar)."""
        return tuple(int(i) for i in np.unravel_index(slot - self.first_slot, self.shape)) if self.shape else ()


@dataclass(frozen=True)
class TracedFunction:
    """The result of `trace_function`: the Graph, the point it was traced at, and the layout.

    ``point`` holds one float per graph variable (arguments flattened in C order);
    ``value`` the outputs' values at the point, flattened the same way, with
    ``output_shape`` the shape of the function's result (``()`` for a scalar);
    ``comparisons`` counts the comparisons on traced values, ``ties`` lists those decided
    at a tie.
    """

    graph: Graph
    point: tuple
    arguments: tuple
    output_shape: tuple
    value: tuple
    comparisons: int
    ties: tuple


def _constant_text(value):
    return float_text(value)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, Tracer)


class _Recorder:
    """Collects the nodes of one trace. Tracers point back to it."""

    def __init__(self, names, max_operations):
        self.names = list(names)
        self.n_inputs = len(self.names)
        self.values = []
        self.nodes = []
        self.ties = []
        self.comparisons = 0
        self.max_operations = max_operations
        self.open = True

    def variable(self, value):
        slot = len(self.values)
        self.values.append(value)
        return Tracer(self, slot, value)

    def constant(self, value):
        number = float(value)
        if not math.isfinite(number):
            raise TracingError(f"the constant {number!r} cannot enter a traced computation")
        return Const(number, Fraction(number), _constant_text(number))

    def describe(self, slot):
        """How a message names a slot: the variable's name, or the operation that made it."""
        if slot < self.n_inputs:
            return self.names[slot]
        return f"the result of {self.nodes[slot - self.n_inputs].op} (node {slot - self.n_inputs + 1})"

    def record(self, name, args):
        """Append one node applying operation ``name`` to ``args`` (Tracers or numbers)."""
        if len(self.nodes) >= self.max_operations:
            raise TracingError(f"the traced function performs more than {self.max_operations:,} operations")
        op = OPERATIONS[name]
        values = [a.value if isinstance(a, Tracer) else float(a) for a in args]
        with quiet():
            value = op.evaluate(*values)
        if (op.domain is not None and not op.domain(*values)) or not math.isfinite(value):
            self._raise_domain_error(name, values)
        node_args = tuple(a.slot if isinstance(a, Tracer) else self.constant(a) for a in args)
        self.nodes.append(Node(name, node_args))
        slot = len(self.values)
        self.values.append(float(value))
        return Tracer(self, slot, float(value))

    @staticmethod
    def _raise_domain_error(name, values):
        # Reuse the Graph's own checks for the message, on a one-node graph.
        arity = len(values)
        single = Graph(tuple(f"a{i}" for i in range(arity)), (Node(name, tuple(range(arity))),), (arity,))
        try:
            with quiet():
                apply(single, arity, values)
        except DomainError as error:
            raise DomainError(f"{error} (while tracing)") from None
        raise AssertionError("unreachable: the domain check failed but apply accepted the values")

    def compare(self, left, symbol, right):
        """Answer a comparison from the primal values; record it, and a tie."""
        a = left.value if isinstance(left, Tracer) else float(left)
        b = right.value if isinstance(right, Tracer) else float(right)
        self.comparisons += 1
        if a == b:
            traced = left if isinstance(left, Tracer) else right
            names = [self.describe(x.slot) if isinstance(x, Tracer) else _constant_text(float(x))
                     for x in (left, right)]
            self.ties.append(Tie(traced.slot, f"{names[0]} {symbol} {names[1]} (both sides {_constant_text(a)})"))
        return bool(_COMPARE[symbol](a, b))


_COMPARE = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def _recorder_of(args):
    """The one open recorder behind the Tracers among ``args``, or None when there are none."""
    recorder = None
    for arg in args:
        if isinstance(arg, Tracer):
            if not arg.recorder.open:
                raise TracingError("a traced value was used after its trace ended "
                                   "(it was kept, e.g. on an object, from an earlier trace)")
            if recorder is not None and arg.recorder is not recorder:
                raise TracingError("traced values from two different traces were combined")
            recorder = arg.recorder
        elif not _is_number(arg):
            raise TracingError(f"a traced value was combined with a {type(arg).__name__}, "
                               "which is neither a number nor a numpy array")
    return recorder


def apply_operation(name, *args):
    """Apply operation ``name`` of the table to numbers or Tracers (recorded when traced).

    >>> apply_operation("relu", -2.0), apply_operation("max", 1.0, 3.0)
    (0.0, 3.0)
    """
    recorder = _recorder_of(args)
    if recorder is None:
        with quiet():
            return float(OPERATIONS[name].evaluate(*[float(a) for a in args]))
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
        return f"<traced {self.recorder.describe(self.slot)} = {self.value!r}>"

    # Arithmetic: Python's operators are spelled as the numpy ufuncs they match, so that
    # one table (UFUNCS) maps both to the operation table. Operands keep the written order.
    def _binary(self, ufunc_name, other, reflected=False):
        if isinstance(other, np.ndarray):
            ufunc = getattr(np, ufunc_name)
            return ufunc(other, self) if reflected else ufunc(self, other)
        if not (_is_number(other) or isinstance(other, Tracer)):
            return NotImplemented
        function = UFUNCS[ufunc_name]
        return function(other, self) if reflected else function(self, other)

    def __add__(self, other):
        return self._binary("add", other)

    def __radd__(self, other):
        return self._binary("add", other, reflected=True)

    def __sub__(self, other):
        return self._binary("subtract", other)

    def __rsub__(self, other):
        return self._binary("subtract", other, reflected=True)

    def __mul__(self, other):
        return self._binary("multiply", other)

    def __rmul__(self, other):
        return self._binary("multiply", other, reflected=True)

    def __truediv__(self, other):
        return self._binary("divide", other)

    def __rtruediv__(self, other):
        return self._binary("divide", other, reflected=True)

    def __pow__(self, other, modulo=None):
        if modulo is not None:
            raise TracingError("pow(x, y, modulo) is not supported on traced values")
        return self._binary("power", other)

    def __rpow__(self, other):
        return self._binary("power", other, reflected=True)

    def __neg__(self):
        return UFUNCS["negative"](self)

    def __pos__(self):
        return UFUNCS["positive"](self)

    def __abs__(self):
        return UFUNCS["absolute"](self)

    # Comparisons: answered from the primal values, recorded (see the module docstring).
    def _compare(self, symbol, other):
        if isinstance(other, np.ndarray):
            return _COMPARISON_UFUNC[symbol](self, other)
        if not (_is_number(other) or isinstance(other, Tracer)):
            return NotImplemented
        recorder = _recorder_of((self, other))
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

    # What the tracer cannot follow.
    def __bool__(self):
        raise TracingError(
            "data-dependent control flow on a traced value is not supported: the truth value of "
            f"{self.recorder.describe(self.slot)} (= {self.value!r}) was asked for (`if x:`, `while x:`, "
            "`and`, `or`, `not`); write the comparison you mean (x != 0, x > 0) or use "
            "np.where / np.maximum")

    def _no_conversion(self, what):
        raise TracingError(
            f"a traced value ({self.recorder.describe(self.slot)} = {self.value!r}) was converted to {what}: "
            "the tracer cannot follow it through the conversion. Use numpy functions (np.exp, not "
            "math.exp) and keep traced values in the arrays they came in (do not store them into a float "
            "array)")

    def __float__(self):
        self._no_conversion("a float")

    def __int__(self):
        self._no_conversion("an int")

    def __index__(self):
        self._no_conversion("an index")

    def __complex__(self):
        self._no_conversion("a complex number")

    def __round__(self, ndigits=None):
        self._no_conversion("a rounded number")

    def __floor__(self):
        self._no_conversion("an integer (math.floor)")

    def __ceil__(self):
        self._no_conversion("an integer (math.ceil)")

    def __trunc__(self):
        self._no_conversion("an integer (math.trunc)")

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

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _array_ufunc(ufunc, method, inputs, kwargs)


class TracedArray(np.ndarray):
    """A numpy object array of Tracers (and numbers), as a traced array argument arrives.

    numpy runs ``@``, ``.sum()``, broadcasting and indexing element by element on it;
    ufuncs are routed through the operation table by `_array_ufunc`.
    """

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        try:
            return super().__array_function__(func, types, args, kwargs)
        except TypeError as error:
            name = f"{func.__module__.replace('numpy.', 'np.').replace('numpy', 'np')}.{func.__name__}"
            raise TracingError(f"{name} could not be traced: {error}") from error


def _as_traced(result):
    if isinstance(result, np.ndarray) and result.dtype == object:
        return result.view(TracedArray)
    return result


# numpy ufuncs → operations of the table, as functions of scalar elements. A few are
# compositions of table operations (np.square is x·x; np.log10 is log(x, 10)).
def _unary(name):
    return lambda x: apply_operation(name, x)


def _binary(name):
    return lambda x, y: apply_operation(name, x, y)


def _logaddexp(x, y):
    # Only logaddexp(0, z) = ln(1 + exp z) = softplus(z), the stable logistic loss.
    for zero, other in ((x, y), (y, x)):
        if _is_number(zero) and float(zero) == 0.0:
            return apply_operation("softplus", other)
    raise TracingError("np.logaddexp is traced only with a constant 0 as one argument "
                       "(np.logaddexp(0, z), which is softplus(z))")


UFUNCS = {
    "add": _binary("add"), "subtract": _binary("sub"), "multiply": _binary("mul"),
    "divide": _binary("div"), "power": _binary("pow"), "float_power": _binary("pow"),
    "negative": _unary("neg"), "positive": lambda x: x, "conjugate": lambda x: x,   # real values: conj x = x
    "exp": _unary("exp"), "log": _unary("ln"), "sqrt": _unary("sqrt"),
    "sin": _unary("sin"), "cos": _unary("cos"), "tan": _unary("tan"),
    "arcsin": _unary("asin"), "arccos": _unary("acos"), "arctan": _unary("atan"),
    "sinh": _unary("sinh"), "cosh": _unary("cosh"), "tanh": _unary("tanh"),
    "absolute": _unary("abs"), "maximum": _binary("max"), "minimum": _binary("min"),
    "square": lambda x: apply_operation("mul", x, x),
    "reciprocal": lambda x: apply_operation("div", 1.0, x),
    "log2": lambda x: apply_operation("log", x, 2.0),
    "log10": lambda x: apply_operation("log", x, 10.0),
    "exp2": lambda x: apply_operation("pow", 2.0, x),
    "expm1": lambda x: apply_operation("sub", apply_operation("exp", x), 1.0),
    "log1p": lambda x: apply_operation("ln", apply_operation("add", 1.0, x)),
    "clip": lambda x, low, high: apply_operation("min", apply_operation("max", x, low), high),
    "logaddexp": _logaddexp,
}
"""The one mapping table: numpy ufunc name → function of scalar elements (Tracers or
numbers). Python's operators use it under their ufunc names (``+`` is ``add``)."""


def _install_object_loop_methods():
    # numpy's own object-dtype loops (a plain object array of Tracers, np.clip on a Tracer)
    # call x.exp(), x.sin(), x.clip(low, high) on each element: send those to the table too.
    for name, function in UFUNCS.items():
        ufunc = getattr(np, name)
        if name not in vars(Tracer) and isinstance(ufunc, np.ufunc) and ufunc.nin == 1:
            setattr(Tracer, name, lambda self, function=function: function(self))

    def clip(self, low=None, high=None, out=None, **kwargs):
        if out is not None or kwargs:
            raise TracingError("np.clip with out= or other options is not supported on a traced scalar")
        value = self if low is None else apply_operation("max", self, low)
        return value if high is None else apply_operation("min", value, high)

    Tracer.clip = clip


_install_object_loop_methods()

_COMPARISON_NAMES = {"less": "<", "less_equal": "<=", "greater": ">", "greater_equal": ">=",
                     "equal": "==", "not_equal": "!="}
_COMPARISON_UFUNC = {symbol: getattr(np, name) for name, symbol in _COMPARISON_NAMES.items()}


def _elementwise(function):
    """``function`` on scalar elements, with a numeric answer when no element is traced."""
    def on_elements(*args):
        if any(isinstance(a, Tracer) for a in args):
            return function(*args)
        return function(*[float(a) for a in args])
    return on_elements


def _compare_elements(symbol):
    def compare(a, b):
        if isinstance(a, Tracer) or isinstance(b, Tracer):
            return _recorder_of((a, b)).compare(a, symbol, b)
        return bool(_COMPARE[symbol](a, b))
    return compare


def _plain(value):
    """A plain ndarray for numpy's own loops: a TracedArray viewed as ndarray, a Tracer as a
    0-d object array (so that numpy does not ask the Tracer's __array_ufunc__ again)."""
    if isinstance(value, TracedArray):
        return value.view(np.ndarray)
    if isinstance(value, Tracer):
        boxed = np.empty((), dtype=object)
        boxed[()] = value
        return boxed
    return value


def _reduce(elementwise, array, axis=0, keepdims=False, **kwargs):
    # A frompyfunc ufunc reduces one axis at a time (np.max(W) reduces them all).
    array = np.asarray(array, dtype=object)
    axes = range(array.ndim) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    for ax in sorted((a % array.ndim for a in axes), reverse=True):
        array = elementwise.reduce(array, axis=ax, keepdims=keepdims, **kwargs)
    return array


def _array_ufunc(ufunc, method, inputs, kwargs):
    """A numpy ufunc on traced operands: element by element through the operation table."""
    name = ufunc.__name__
    out = kwargs.pop("out", None)
    plain = [_plain(x) for x in inputs]
    if name in _COMPARISON_NAMES:
        if method != "__call__":
            raise TracingError(f"np.{name}.{method} is not supported on traced values")
        result = np.frompyfunc(_compare_elements(_COMPARISON_NAMES[name]), 2, 1)(*plain, **kwargs)
        result = np.asarray(result, dtype=bool)[()]
    elif name == "matmul" and method == "__call__":
        result = ufunc(*plain, **kwargs)   # numpy's object loop: sums of products, element by element
    elif name in ("add", "multiply") and method != "__call__":
        result = getattr(ufunc, method)(*plain, **kwargs)   # numpy's object loop calls + and * on Tracers
    elif name in UFUNCS:
        elementwise = np.frompyfunc(_elementwise(UFUNCS[name]), ufunc.nin, 1)
        if method == "reduce":
            result = _reduce(elementwise, plain[0], **kwargs)
        else:
            result = getattr(elementwise, method)(*plain, **kwargs)
    else:
        raise TracingError(f"np.{name} is not supported on traced values: it has no entry in the operation "
                           f"table (traced ufuncs: {', '.join(sorted(UFUNCS))}, matmul and the comparisons)")
    result = _as_traced(result)
    if out is not None:
        target = out[0]
        target[...] = result
        return target
    return result


def _function(name):
    arities = FUNCTIONS[name]

    def function(*args):
        if len(args) not in arities:
            expected = " or ".join(str(n) for n in sorted(arities))
            raise TypeError(f"{name} takes {expected} argument{'s' if expected != '1' else ''}, got {len(args)}")
        op_name = arities[len(args)]
        if any(isinstance(a, np.ndarray) for a in args):
            if not any(isinstance(a, np.ndarray) and a.dtype == object for a in args):
                with quiet():   # a float array: numpy evaluates it at once
                    return OPERATIONS[op_name].evaluate(*[np.asarray(a, dtype=float) for a in args])
            plain = [_plain(a) for a in args]
            return _as_traced(np.frompyfunc(_elementwise(lambda *xs: apply_operation(op_name, *xs)),
                                            len(args), 1)(*plain))
        return apply_operation(op_name, *args)

    function.__name__ = name
    function.__doc__ = (f"``{name}`` of the operation table on numbers, float arrays or traced values "
                        "(element by element).")
    return function


functions = SimpleNamespace(**{name: _function(name) for name in FUNCTIONS})
"""The operation table's functions by the names the parser knows (``sigmoid``, ``relu``,
``softplus``, ``ln``, ``log``, ``max``, …): they work on numbers and float arrays, and are
recorded as one node per element on traced values.

    >>> functions.sigmoid(0.0), functions.log(8.0, 2.0)
    (0.5, 3.0)
"""


def argument_names(function, count):
    """Names for ``count`` positional arguments of ``function``, from its signature.

    Parameters beyond the named ones (``*args``) and unnamed callables give ``arg0``, ``arg1``, ….
    """
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = []
    for position in range(count):
        if position < len(parameters) and parameters[position].kind in (
                inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            names.append(parameters[position].name)
        else:
            names.append(f"arg{position}")
    if len(set(names)) != len(names):
        names = [f"arg{position}" for position in range(count)]
    return names


def as_float_argument(name, value):
    """A function argument as a float or a float array, or TracingError saying why it cannot be."""
    if isinstance(value, Tracer):
        raise TracingError(f"argument {name} is already a traced value (nested tracing is not supported)")
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, np.ndarray) and value.dtype == bool):
        raise TracingError(f"argument {name} is a boolean; pass numbers to differentiate with respect to")
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise TracingError(f"argument {name} must be finite, got {number!r}")
        return number
    if isinstance(value, np.ndarray):
        if not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)):
            raise TracingError(f"argument {name} is an array of {value.dtype}; real numbers are needed")
        array = np.array(value, dtype=float)
        if array.size == 0:
            raise TracingError(f"argument {name} is an empty array")
        if not np.all(np.isfinite(array)):
            raise TracingError(f"argument {name} has a value that is not finite")
        return array
    raise TracingError(f"argument {name} is a {type(value).__name__}; pass a number or a numpy array "
                       "(np.asarray(..., dtype=float) for a list)")


def variable_names(name, shape):
    """The Graph variable names of one argument: ``x`` for a scalar, ``W[0,1]`` for array entries."""
    if shape == ():
        return [name]
    return [f"{name}[{','.join(str(i) for i in index)}]" for index in np.ndindex(*shape)]


def _output_slots(recorder, result):
    """The output slots for what the function returned, and the shape of its result."""
    if isinstance(result, Tracer) or _is_number(result):
        elements, shape = [result], ()
    elif isinstance(result, (np.ndarray, list, tuple)):
        try:
            array = np.asarray(result, dtype=object)
        except ValueError as error:
            raise TracingError(f"the traced function returned a ragged sequence: {error}") from None
        elements, shape = list(array.reshape(-1)), array.shape
        if not elements:
            raise TracingError("the traced function returned an empty array")
    else:
        raise TracingError(f"the traced function returned a {type(result).__name__}; "
                           "it must return a number or an array of numbers")
    slots = []
    for element in elements:
        if isinstance(element, Tracer):
            _recorder_of((element,))
            if element.recorder is not recorder:
                raise TracingError("the traced function returned a value from a different trace")
            slots.append(element.slot)
        elif _is_number(element) and not isinstance(element, (bool, np.bool_)):
            # A constant output (e.g. relu's masked entries): the identity node of the table.
            slots.append(recorder.record("identity", (float(element),)).slot)
        else:
            raise TracingError(f"the traced function returned a {type(element).__name__} "
                               "where a number was expected")
    return slots, tuple(int(n) for n in shape)


def trace_function(f, *args, names=None, max_operations=MAX_OPERATIONS):
    """Run ``f(*args)`` on tracer values and record the Graph of what it computed.

    Scalar arguments become one variable each, arrays one variable per entry (named
    ``W[0,1]``); ``names`` overrides the argument names taken from ``f``'s signature. The
    result is a `TracedFunction`; raises `TracingError` for what cannot be traced and
    DomainError for an operation outside its domain.

    >>> traced = trace_function(lambda x, y: x * y + np.sin(x), 2.0, 5.0)
    >>> traced.graph.variables, [node.op for node in traced.graph.nodes]
    (('x', 'y'), ['mul', 'sin', 'add'])
    """
    if not callable(f):
        raise TracingError(f"the function to trace is a {type(f).__name__}, not a callable")
    if not args:
        raise TracingError("no arguments to differentiate with respect to")
    names = list(names) if names is not None else argument_names(f, len(args))
    if len(names) != len(args) or len(set(names)) != len(names):
        raise TracingError(f"{len(args)} distinct argument names are needed, got {names!r}")
    values = [as_float_argument(name, value) for name, value in zip(names, args)]
    shapes = [np.shape(value) for value in values]
    recorder = _Recorder([v for name, shape in zip(names, shapes) for v in variable_names(name, shape)],
                         max_operations)
    arguments, traced_args = [], []
    for name, value, shape in zip(names, values, shapes):
        arguments.append(Argument(name, shape, len(recorder.values)))
        if shape == ():
            traced_args.append(recorder.variable(value))
        else:
            traced = np.empty(shape, dtype=object)
            for index in np.ndindex(*shape):
                traced[index] = recorder.variable(float(value[index]))
            traced_args.append(traced.view(TracedArray))
    point = tuple(recorder.values)
    try:
        result = f(*traced_args)
        slots, output_shape = _output_slots(recorder, result)
    finally:
        recorder.open = False
    source = getattr(f, "__qualname__", type(f).__name__)
    graph = Graph(tuple(recorder.names), tuple(recorder.nodes), tuple(slots), source=f"{source} (traced)")
    return TracedFunction(graph, point, tuple(arguments), output_shape,
                          tuple(recorder.values[s] for s in slots), recorder.comparisons, tuple(recorder.ties))

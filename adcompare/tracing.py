"""Tracing Python callables into a `Graph`: run the function on tracer values and record
every elementary operation it performs, in evaluation order.

This module knows no calculus. Scalars are `Tracer`s (`adcompare.tracer`); array
arguments become `TracedArray`s, numpy object arrays of Tracers, so that ``X @ W``,
``.sum()``, broadcasting, slicing, masks and ``np.pad`` work unchanged, element by
element. Numpy ufuncs reach the operation table through ``__array_ufunc__``, other numpy
functions run numpy's own object-array code through ``__array_function__``.

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

Code as students write it. While a trace runs, a float array the user's code allocates
(``out = np.zeros((N, F, H, W))``, ``np.empty``, ``np.ones``, ``np.full``, the ``_like``
forms of a float array) is an object array of floats, so that traced values can be stored
into it; ``np.array``/``np.asarray``/``np.ascontiguousarray`` of traced values with a
float64 dtype, ``.astype(float)`` and ``np.array(x, copy=True)`` keep them traced. Only
calls from outside numpy are redirected (numpy's own code allocates as it always does),
and only for float64: ``astype(np.float32)`` stops the trace, since the float32 code
would not be what is differentiated. The redirection is undone when the trace ends.

What the tracer cannot follow raises `TracingError` naming it, with the line of the
user's code (``where``): the truth value of a traced number (``if x:``), converting one to
a float (``math.exp(x)``, ``float(x)``), a numpy function without an operation-table entry
(``np.arctan2``). `adcompare.gradient_check` then checks the function black-box.

Piecewise-constant numpy functions (``np.sign``, ``np.floor``, ``np.ceil``, ``np.rint``,
``np.trunc``) are constants of the graph (their derivative is 0 wherever it exists); at a
jump they record a `Tie`. Predicates (``np.isfinite``, ``np.isnan``, ``np.isinf``) answer
from the primal values.

The traced graph is pruned to what reaches the outputs (`graph.prune`): a domain error
in a branch not taken (``np.where`` evaluates both) is kept in ``dead_errors``, not raised.
"""

import inspect
import math
import numbers
import os
import sys
import sysconfig
import traceback
import types
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from .graph import Graph, prune, quiet
from .ops import FUNCTIONS, OPERATIONS
from .tracer import (COMPARE, MAX_OPERATIONS, Tie, Tracer, TracingError, _ACTIVE, _Recorder, active_recorder,
                     apply_operation, is_live, is_number, recorder_of, value_of)

__all__ = ["Argument", "Tie", "TracedArray", "TracedFunction", "Tracer", "TracingError", "UFUNCS",
           "apply_operation", "argument_names", "functions", "trace_function"]


@dataclass(frozen=True)
class Argument:
    """One differentiated argument of the traced function: its name, position, shape and
    the slot of its first variable."""

    name: str
    shape: tuple
    first_slot: int
    position: int = 0

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

    ``graph`` holds only what reaches the outputs (pruned); ``point`` one float per graph
    variable (differentiated arguments flattened in C order); ``value`` the outputs' values
    at the point, flattened the same way, with ``output_shape`` the shape of the
    function's result (``()`` for a scalar); ``comparisons`` counts the comparisons on
    traced values, ``ties`` lists those decided at a tie (their ``slot`` in the pruned
    graph, None when only a dead value was compared); ``dead_errors`` the domain errors
    met in nodes that no output depends on (a branch not taken), as messages.
    """

    graph: Graph
    point: tuple
    arguments: tuple
    output_shape: tuple
    value: tuple
    comparisons: int
    ties: tuple
    dead_errors: tuple = ()


class TracedArray(np.ndarray):
    """A numpy object array of Tracers (and numbers), as a traced array argument arrives.

    numpy runs ``@``, ``.sum()``, broadcasting and indexing element by element on it;
    ufuncs are routed through the operation table by `_array_ufunc`; every other numpy
    function runs numpy's own code and its object-array result stays a TracedArray.
    """

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        try:
            return _as_traced(super().__array_function__(func, types, args, kwargs))
        except TypeError as error:
            name = f"{func.__module__.replace('numpy.', 'np.').replace('numpy', 'np')}.{func.__name__}"
            raise TracingError(f"{name} could not be traced: {error}") from error

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        """float64: a copy that stays traced; float32 stops the trace; other types (int,
        bool) take the primal values, being piecewise constant."""
        if _is_float64(dtype):
            return self.copy(order=order) if copy else self
        if np.dtype(dtype).kind in "fc":
            raise TracingError(f"astype({np.dtype(dtype).name}) of a traced array: the tracer follows float64 only")
        return _values(self).astype(dtype, order=order, casting=casting, copy=True)


def _values(array):
    """The primal values of an object array of Tracers and numbers, as a float array."""
    flat = [value_of(v) for v in np.asarray(array, dtype=object).reshape(-1)]
    return np.array(flat, dtype=float).reshape(np.shape(array))


def _as_traced(result):
    """An object-array result as a TracedArray while a trace runs; after it (stale Tracers
    in a layer's state meeting float code), as the float array of its values."""
    if isinstance(result, np.ndarray) and result.dtype == object:
        if active_recorder() is None:
            return _values(result)
        return result.view(TracedArray)
    if isinstance(result, tuple):
        return tuple(_as_traced(r) for r in result)
    if isinstance(result, list):
        return [_as_traced(r) for r in result]
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
        if is_number(zero) and value_of(zero) == 0.0:
            return apply_operation("softplus", other)
    raise TracingError("np.logaddexp is traced only with a constant 0 as one argument "
                       "(np.logaddexp(0, z), which is softplus(z))")


UFUNCS = {
    "add": _binary("add"), "subtract": _binary("sub"), "multiply": _binary("mul"),
    "divide": _binary("div"), "power": _binary("pow"),
    "float_power": _binary("pow"),
    "negative": _unary("neg"), "positive": lambda x: x, "conjugate": lambda x: x,   # real values: conj x = x
    "exp": _unary("exp"), "log": _unary("ln"), "sqrt": _unary("sqrt"),
    "sin": _unary("sin"), "cos": _unary("cos"), "tan": _unary("tan"),
    "arcsin": _unary("asin"), "arccos": _unary("acos"), "arctan": _unary("atan"),
    "sinh": _unary("sinh"), "cosh": _unary("cosh"), "tanh": _unary("tanh"),
    "absolute": _unary("abs"), "maximum": _binary("max"), "minimum": _binary("min"),
    "fmax": _binary("max"), "fmin": _binary("min"),
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
numbers). Python's operators on arrays reach it through numpy under these names."""


def _piecewise_constant(name, function, jumps):
    """A piecewise-constant ufunc: its value from the primal, a Tie where it jumps."""
    def on_element(x):
        value = function(value_of(x))
        if is_live(x) and jumps(x.value):
            x.recorder.tie(x, f"np.{name}({x.recorder.describe(x.slot)}) at its jump ({x.value!r})")
        return value
    return on_element


_integral = lambda v: float(v).is_integer()                     # noqa: E731
PIECEWISE_CONSTANT = {
    "sign": _piecewise_constant("sign", lambda v: float(np.sign(v)), lambda v: v == 0),
    "floor": _piecewise_constant("floor", math.floor, _integral),
    "ceil": _piecewise_constant("ceil", math.ceil, _integral),
    "trunc": _piecewise_constant("trunc", math.trunc, _integral),
    "rint": _piecewise_constant("rint", lambda v: float(np.rint(v)), lambda v: (v - 0.5).is_integer()),
}
"""Ufuncs whose derivative is 0 wherever it exists: constants of the graph, with a Tie at a jump."""

PREDICATES = {"isfinite": math.isfinite, "isnan": math.isnan, "isinf": math.isinf, "signbit": lambda v: v < 0}
"""Ufuncs answered from the primal values (boolean results carry no derivative)."""


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
    Tracer.__array_ufunc__ = lambda self, ufunc, method, *inputs, **kwargs: _array_ufunc(ufunc, method, inputs,
                                                                                         kwargs)


_install_object_loop_methods()

_COMPARISON_NAMES = {"less": "<", "less_equal": "<=", "greater": ">", "greater_equal": ">=",
                     "equal": "==", "not_equal": "!="}


def _elementwise(function):
    """``function`` on scalar elements, with a numeric answer when no element is traced."""
    def on_elements(*args):
        if any(is_live(a) for a in args):
            return function(*args)
        return function(*[value_of(a) for a in args])
    return on_elements


def _compare_elements(symbol):
    def compare(a, b):
        recorder = recorder_of((a, b))
        if recorder is not None:
            return recorder.compare(a, symbol, b)
        return bool(COMPARE[symbol](value_of(a), value_of(b)))
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
    if method == "at":
        # np.add.at(dW, idx, values): numpy's unbuffered object loop calls + on the elements.
        target = inputs[0]
        getattr(ufunc, "at")(target.view(np.ndarray) if isinstance(target, np.ndarray) else target, *plain[1:])
        return None
    if name in _COMPARISON_NAMES:
        if method != "__call__":
            raise TracingError(f"np.{name}.{method} is not supported on traced values")
        result = np.frompyfunc(_compare_elements(_COMPARISON_NAMES[name]), 2, 1)(*plain, **kwargs)
        result = np.asarray(result, dtype=bool)[()]
    elif name in PREDICATES or name in PIECEWISE_CONSTANT:
        if method != "__call__":
            raise TracingError(f"np.{name}.{method} is not supported on traced values")
        function = PREDICATES.get(name)
        function = (lambda v, f=function: f(value_of(v))) if function else PIECEWISE_CONSTANT[name]
        result = np.frompyfunc(function, 1, 1)(*plain, **kwargs)
        result = np.asarray(result, dtype=bool if name in PREDICATES else float)[()]
    elif name == "matmul" and method == "__call__":
        result = ufunc(*plain, **kwargs)   # numpy's object loop: sums of products, element by element
    elif name in ("add", "multiply") and method != "__call__":
        result = getattr(ufunc, method)(*plain, **kwargs)   # numpy's object loop calls + and * on Tracers
    elif name in UFUNCS:
        elementwise = np.frompyfunc(_elementwise(UFUNCS[name]), ufunc.nin, 1)
        with quiet():   # a NaN of a deferred domain error is not numpy's to warn about
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


# ---- Float arrays allocated by the user's code, while a trace runs ---------------------

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_NUMPY = os.path.dirname(os.path.abspath(np.__file__))

def _is_float64(dtype):
    try:
        return dtype is None or np.dtype(dtype) == np.float64
    except TypeError:
        return False


def _holds_live(obj):
    """Whether ``obj`` (a Tracer, an array, a nested list) holds a Tracer of the running trace."""
    if isinstance(obj, Tracer):
        return obj.recorder.open
    if isinstance(obj, np.ndarray):
        return obj.dtype == object and any(is_live(v) for v in obj.reshape(-1))
    if isinstance(obj, (list, tuple)):
        return any(_holds_live(v) for v in obj)
    return False


def _object_filled(shape, fill):
    array = np.empty(shape, dtype=object)
    array.fill(fill)
    return array.view(TracedArray)


def _redirections():
    """numpy function name → its replacement for the user's code while a trace runs (see
    the module docstring): float64 allocations become object arrays of floats, float64
    conversions of traced values keep them traced."""
    original = {name: getattr(np, name) for name in (
        "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like",
        "array", "asarray", "asanyarray", "ascontiguousarray")}

    def allocator(name, fill):
        def allocate(shape, dtype=None, *args, **kwargs):
            if not _is_float64(dtype) or args or kwargs.get("like") is not None:
                return original[name](shape, dtype, *args, **kwargs)
            return _object_filled(shape, fill)
        return allocate

    def full(shape, fill_value, dtype=None, *args, **kwargs):
        float_fill = isinstance(fill_value, (float, np.floating)) or _holds_live(fill_value)
        if not (_is_float64(dtype) and (dtype is not None or float_fill)) or args or kwargs:
            return original["full"](shape, fill_value, dtype, *args, **kwargs)
        return _object_filled(shape, fill_value)

    def like(name, fill):
        def allocate(prototype, dtype=None, *args, **kwargs):
            if isinstance(prototype, TracedArray) or args or kwargs:
                return original[name](prototype, dtype, *args, **kwargs)
            array = original["asarray"](prototype)
            if not (array.dtype == np.float64 if dtype is None else _is_float64(dtype)):
                return original[name](prototype, dtype)
            return _object_filled(array.shape, fill)
        return allocate

    def full_like(prototype, fill_value, dtype=None, *args, **kwargs):
        if isinstance(prototype, TracedArray) or args or kwargs:
            return original["full_like"](prototype, fill_value, dtype, *args, **kwargs)
        array = original["asarray"](prototype)
        if not (array.dtype == np.float64 if dtype is None else _is_float64(dtype)):
            return original["full_like"](prototype, fill_value, dtype)
        return _object_filled(array.shape, fill_value)

    def converter(name, copies):
        def convert(obj, dtype=None, *args, **kwargs):
            if not _holds_live(obj):
                return original[name](obj, dtype, *args, **kwargs)
            if not _is_float64(dtype) and np.dtype(dtype) != object:
                if np.dtype(dtype).kind in "fc":
                    raise TracingError(f"np.{name}(..., dtype={np.dtype(dtype).name}) of traced values: the tracer "
                                       "follows float64 only")
                return _values(original[name](obj, object)).astype(dtype)
            if copies and kwargs.get("copy") is False:
                raise TracingError("np.array(..., copy=False) of traced values to float64 needs a copy")
            return original[name](obj, object).view(TracedArray)   # np.array copies, np.asarray does not
        return convert

    return {"zeros": allocator("zeros", 0.0), "ones": allocator("ones", 1.0), "empty": allocator("empty", 0.0),
            "full": full, "zeros_like": like("zeros_like", 0.0), "ones_like": like("ones_like", 1.0),
            "empty_like": like("empty_like", 0.0), "full_like": full_like,
            "array": converter("array", True), "asarray": converter("asarray", False),
            "asanyarray": converter("asanyarray", False), "ascontiguousarray": converter("ascontiguousarray", False)}


_REPLACEMENTS = _redirections()
_ORIGINALS = {id(getattr(np, name)): name for name in _REPLACEMENTS}


def _numpy_for_users():
    """A module that is numpy but for the replacements: the user's ``np`` while a trace runs."""
    proxy = types.ModuleType("numpy", np.__doc__)
    proxy.__dict__.update(vars(np))
    proxy.__dict__.update(_REPLACEMENTS)
    proxy.__getattr__ = lambda name: getattr(np, name)    # numpy's lazily loaded submodules
    return proxy


_PROXY = _numpy_for_users()
_LIBRARY = tuple(os.path.abspath(p) + os.sep for p in {sysconfig.get_paths()[k] for k in ("stdlib", "purelib",
                                                                                           "platlib")})


def _user_globals(f):
    """The global namespaces of the user's code: every imported module outside the standard
    library, site-packages, numpy and adcompare, ``__main__``, and ``f``'s own."""
    spaces = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if getattr(module, "__name__", None) == "__main__" or (
                path and not os.path.abspath(path).startswith(_LIBRARY + (_PACKAGE + os.sep, _NUMPY + os.sep))):
            namespace = getattr(module, "__dict__", None)
            if isinstance(namespace, dict):
                spaces[id(namespace)] = namespace
    function = getattr(f, "__func__", f)
    for candidate in (function, getattr(type(f), "__call__", None), getattr(f, "forward", None)):
        namespace = getattr(getattr(candidate, "__func__", candidate), "__globals__", None)
        if isinstance(namespace, dict):
            spaces[id(namespace)] = namespace
    return list(spaces.values())


@contextmanager
def _following_numpy(f):
    """Within the block, the user's ``np`` (and names imported from numpy) allocate and
    convert float64 arrays as object arrays that can hold traced values. numpy's own code,
    and compiled code such as numpy.random, are untouched."""
    swapped = []
    for namespace in _user_globals(f):
        for key, value in list(namespace.items()):
            if value is np:
                swapped.append((namespace, key, value, _PROXY))
            elif id(value) in _ORIGINALS and value is getattr(np, _ORIGINALS[id(value)]):
                swapped.append((namespace, key, value, _REPLACEMENTS[_ORIGINALS[id(value)]]))
    for namespace, key, _, replacement in swapped:
        namespace[key] = replacement
    try:
        yield
    finally:
        for namespace, key, original, replacement in swapped:
            if namespace.get(key) is replacement:
                namespace[key] = original


# ---- The operation table's own functions (sigmoid, relu, …) ---------------------------

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


# ---- Arguments --------------------------------------------------------------------------

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


def differentiable(value):
    """Whether an argument is differentiated by default: real numbers and arrays of
    floats. Integer and boolean arrays (labels, masks, indices), booleans and anything
    else (a ``conv_param`` dict) are passed through as they are."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, np.ndarray):
        return np.issubdtype(value.dtype, np.floating)
    return isinstance(value, numbers.Real)


def as_float_argument(name, value):
    """A differentiated argument as a float or a float array, or TracingError saying why it cannot be."""
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
    if isinstance(result, Tracer) or is_number(result):
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
        if is_live(element):
            if element.recorder is not recorder:
                raise TracingError("the traced function returned a value from a different trace")
            slots.append(element.slot)
        elif is_number(element) and not isinstance(element, (bool, np.bool_)):
            # A constant output (e.g. relu's masked entries): the identity node of the table.
            slots.append(recorder.record("identity", (value_of(element),)).slot)
        else:
            raise TracingError(f"the traced function returned a {type(element).__name__} "
                               "where a number was expected")
    return slots, tuple(int(n) for n in shape)


def user_line(error):
    """The innermost line of the user's code in ``error``'s traceback, as a message names it:
    ``line 12 of layers.py, in conv_forward: out[n, f] = ...``; None when there is none."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if not os.path.abspath(frame.filename).startswith((_PACKAGE, _NUMPY))]
    if not frames:
        return None
    frame = frames[-1]
    code = f": {frame.line.strip()}" if frame.line else ""
    return f"line {frame.lineno} of {os.path.basename(frame.filename)}, in {frame.name}{code}"


def trace_function(f, *args, names=None, wrt=None, max_operations=MAX_OPERATIONS, user=None):
    """Run ``f(*args)`` on tracer values and record the Graph of what it computed.

    The differentiated arguments (``wrt``: their positions; default, every one for which
    `differentiable` holds) become variables: a scalar one variable, an array one per entry
    (named ``W[0,1]``); the others are passed as they are. ``names`` overrides the argument
    names taken from ``f``'s signature; ``user`` is the user's own callable when ``f``
    wraps it (its module's ``np`` is the one redirected). The result is a `TracedFunction`; raises
    `TracingError` for what cannot be traced (with ``where``, the user's line) and
    DomainError for a live operation outside its domain.

    >>> traced = trace_function(lambda x, y: x * y + np.sin(x), 2.0, 5.0)
    >>> traced.graph.variables, [node.op for node in traced.graph.nodes]
    (('x', 'y'), ['mul', 'sin', 'add'])
    """
    if not callable(f):
        raise TracingError(f"the function to trace is a {type(f).__name__}, not a callable")
    names = list(names) if names is not None else argument_names(f, len(args))
    if len(names) != len(args) or len(set(names)) != len(names):
        raise TracingError(f"{len(args)} distinct argument names are needed, got {names!r}")
    wrt = [i for i, value in enumerate(args) if differentiable(value)] if wrt is None else sorted(wrt)
    if not wrt:
        raise TracingError("no arguments to differentiate with respect to")
    values = {i: as_float_argument(names[i], args[i]) for i in wrt}
    shapes = {i: np.shape(values[i]) for i in wrt}
    recorder = _Recorder([v for i in wrt for v in variable_names(names[i], shapes[i])], max_operations)
    arguments, call_args = [], list(args)
    for i in wrt:
        arguments.append(Argument(names[i], shapes[i], len(recorder.values), i))
        if shapes[i] == ():
            call_args[i] = recorder.variable(values[i])
        else:
            traced = np.empty(shapes[i], dtype=object)
            for index in np.ndindex(*shapes[i]):
                traced[index] = recorder.variable(float(values[i][index]))
            call_args[i] = traced.view(TracedArray)
    point = tuple(recorder.values)
    if _ACTIVE:
        raise TracingError("nested tracing is not supported (a trace is already running)")
    _ACTIVE.append(recorder)
    try:
        with _following_numpy(user or f), quiet():
            result = f(*call_args)
        slots, output_shape = _output_slots(recorder, result)
    except TracingError as error:
        error.where = error.where or user_line(error)
        raise
    except (TypeError, ValueError, AttributeError, IndexError, np.linalg.LinAlgError) as error:
        # numpy or the user's code choked on a traced value (np.linalg on object arrays, a
        # library that wants floats). On floats the function may run: the check goes black-box.
        stopped = TracingError(f"{type(error).__name__}: {error}")
        stopped.where = user_line(error)
        raise stopped from error
    finally:
        recorder.open = False
        _ACTIVE.remove(recorder)
    source = getattr(f, "__qualname__", type(f).__name__)
    full = Graph(tuple(recorder.names), tuple(recorder.nodes), tuple(slots), source=f"{source} (traced)")
    graph, slot_map = prune(full)
    live_errors = [slot for slot in sorted(recorder.pending) if slot in slot_map]
    if live_errors:
        raise recorder.pending_error(live_errors[0])
    dead_errors = tuple(str(recorder.pending_error(slot)).replace(" (while tracing,", " (in a branch not taken,")
                        for slot in sorted(recorder.pending)
                        if not any(isinstance(a, int) and a in recorder.pending for a in
                                   recorder.nodes[slot - recorder.n_inputs].args))
    ties = tuple(Tie(slot_map.get(tie.slot), tie.description) for tie in recorder.ties)
    return TracedFunction(graph, point, tuple(arguments), output_shape,
                          tuple(recorder.values[s] for s in slots), recorder.comparisons, ties, dead_errors)

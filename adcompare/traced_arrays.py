"""The numpy half of tracing: traced arrays, numpy's ufuncs through the operation table,
and the user's float arrays while a trace runs (see `adcompare.tracing` for the whole).

A `TracedArray` is a numpy object array of Tracers and numbers: numpy runs ``@``,
``.sum()``, broadcasting and indexing element by element on it. Ufuncs reach the
operation table through ``__array_ufunc__`` (`UFUNCS`, the one mapping table); other numpy
functions run numpy's own object-array code through ``__array_function__``, and their
object results stay TracedArrays. `following_numpy` lets the user's own code allocate
float64 arrays that can hold traced values.
"""

import math
import os
import sys
import sysconfig
import types
from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np

from .graph import quiet
from .ops import FUNCTIONS, OPERATIONS
from .tracer import (COMPARE, Tracer, TracingError, active_recorder, apply_operation, is_live, is_number,
                     recorder_of, value_of)


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
        """float64 or object (``x.astype(x.dtype)``, a traced array's dtype being object): a
        copy that stays traced; float32 stops the trace; other types (int, bool) take the
        primal values, being piecewise constant."""
        if _is_float64(dtype) or np.dtype(dtype) == object:
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
def following_numpy(f):
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

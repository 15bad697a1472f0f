"""Tracing Python callables into a `Graph`: run the function on tracer values and record
every elementary operation it performs, in evaluation order.

This module knows no calculus. Scalars are `Tracer`s (`adcompare.tracer`); array
arguments become `TracedArray`s (`adcompare.traced_arrays`), numpy object arrays of
Tracers, so that ``X @ W``, ``.sum()``, broadcasting, slicing, masks and ``np.pad`` work
unchanged, element by element. Numpy ufuncs reach the operation table through
``__array_ufunc__``, other numpy functions run numpy's own object-array code through
``__array_function__``. This module runs the function and turns what it recorded into a
pruned Graph.

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
the user's own modules see this (their ``np`` is swapped for the trace); numpy's own code
and compiled code such as numpy.random allocate as they always do. Only float64:
``astype(np.float32)`` stops the trace, since the float32 code would not be what is
differentiated. Everything is put back when the trace ends.

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
import traceback
from dataclasses import dataclass

import numpy as np

from .graph import Graph, prune, quiet
from .traced_arrays import _NUMPY, _PACKAGE, UFUNCS, TracedArray, following_numpy, functions
from .tracer import (MAX_OPERATIONS, Tie, Tracer, TracingError, _ACTIVE, _Recorder, apply_operation, is_live,
                     is_number, value_of)

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
        with following_numpy(user or f), quiet():
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

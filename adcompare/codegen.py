"""Compiled sweeps: straight-line Python generated from a Graph (source transformation, as
Tapenade and tangent do), for the primal, the tangent (forward) sweep and the adjoint
(reverse) sweep. The interpreted back ends stay for traces; this is for speed, and for
reading: the reverse code is the ``backward()`` a student would write by hand.

Each line is an operation's code from the operation table, with the arguments filled in:
``v1 = log(v_m1)``, ``v_m1_bar += v1_bar / v_m1``. The same source is compiled twice, over
the table's two code vocabularies: with the math module for one point (``gradient(2.0,
5.0)``: no numpy call per operation, so a gradient costs a few primal evaluations), and
with numpy for arrays of points (``gradient(x1_array, x2_array)``: one numpy call per
operation over all points). Which one runs is decided by the first input's type.

The generated code names its variables itself — ``v_m1``, ``v0``, ``v1`` for Baydin's
v₋₁, v₀, v₁; ``v1_dot`` for tangents, ``v1_bar`` for adjoints. No text the user wrote
reaches it: constants are written with ``repr(float)``, and variable names appear nowhere.

Every compiled sweep checks each operation's domain, and that its results are finite; a
value outside a domain, a non-finite result, or an error the math module raises stops it
with `CompiledSweepError`. ``primal``, ``gradient`` and ``jacobian_forward`` then run the
interpreted sweep, which names the node and the value (or, where only the compiled sweep's
intermediate arithmetic overflowed, gives the answer). An intermediate overflow that the
function maps back to a finite value (1/(x·x) at x = 1e200 is 0) gives that IEEE value,
where the interpreted sweep stops at the overflowing node.

    >>> from adcompare.parse import parse
    >>> compiled = compile_graph(parse("ln(x1) + x1*x2 - sin(x2)"))
    >>> compiled.gradient(2.0, 5.0)
    (5.5, 1.7163378145367738)
"""

import math
import re

import numpy as np

from .graph import Const
from .ops import DIVIDE, MINUS_ONE, NUMPY_FUNCTIONS, ONE, OPERATIONS, SCALAR_FUNCTIONS, TIMES, fill_code


class CompiledSweepError(ArithmeticError):
    """A compiled sweep met a value outside a domain, or a non-finite result."""


# What the generated code calls besides the operation table's vocabulary, per variant.
_ARRAY_CHECKS = {"_all": np.all, "_finite": lambda values: all(np.all(np.isfinite(v)) for v in values),
                 "_as_float": lambda v: np.asarray(v, dtype=float), "_CompiledSweepError": CompiledSweepError}
NAMESPACES = {"scalar": {**SCALAR_FUNCTIONS, "isfinite": math.isfinite},
              "array": {**NUMPY_FUNCTIONS, **_ARRAY_CHECKS}}
_MATH_ERRORS = (ArithmeticError, ValueError)   # ZeroDivisionError, OverflowError, "math domain error"
_SCALAR_ERRORS = _MATH_ERRORS                   # and segments.BadValue, an ArithmeticError


def slot_name(graph, slot, suffix=""):
    """v_m1, v0, v1 … for slot ``slot`` (Baydin's numbering), with ``_dot``/``_bar``."""
    number = graph.baydin_number(slot)
    return (f"v_m{-number}" if number < 0 else f"v{number}") + suffix


def _argument(graph, arg):
    return repr(float(arg.value)) if isinstance(arg, Const) else slot_name(graph, arg)


def _arguments(graph, slot):
    return [_argument(graph, a) for a in graph.node(slot).args]


def _operand(text):
    """``text`` as one operand of * or /: parenthesised where it has an operator outside
    parentheses (``-v3 / v1``), as it is for a name, a number or a call (``cos(v0)``)."""
    depth = 0
    for character in text:
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth == 0 and character in " +-*/<>=&|":
            try:
                float(text)          # a numeral such as 1e-05
                return text
            except ValueError:
                return f"({text})"
    return text


def _scaled(graph, slot, position, incoming):
    """(sign, term): ``incoming`` (a tangent or adjoint) times the local partial of argument
    ``position`` of the node at ``slot``, written with the table's code."""
    partial = OPERATIONS[graph.node(slot).op].partials[position]
    if partial.kind in (ONE, MINUS_ONE):
        return (1 if partial.kind == ONE else -1), incoming
    factor = _operand(fill_code(partial.code, _arguments(graph, slot), slot_name(graph, slot)))
    return 1, f"{incoming} {'*' if partial.kind == TIMES else '/'} {factor}"


def _primal_lines(graph, slot):
    op = OPERATIONS[graph.node(slot).op]
    args = _arguments(graph, slot)
    lines = []
    if op.domain_code is not None:
        lines.append(f"    inside = inside & ({fill_code(op.domain_code, args)})")
    lines.append(f"    {slot_name(graph, slot)} = {fill_code(op.code, args)}")
    return lines


def _tuple(names):
    """A tuple display of ``names``: (a, b), or (a,) for one."""
    return f"({names[0]},)" if len(names) == 1 else f"({', '.join(names)})"


def _check(names, vectorised):
    if vectorised:
        return [f"    if not (_all(inside) and _finite({_tuple(names)})):",
                "        raise _CompiledSweepError('a value outside a domain, or not finite')"]
    # One sum is cheaper than a test per value: a NaN or ±∞ anywhere makes it non-finite
    # (a finite sum that overflows only sends the call to the interpreted sweep).
    total = " + ".join(names) if len(names) <= 8 else f"sum({_tuple(names)})"   # a long a + b + … nests too deep
    return [f"    if not (inside and isfinite({total})):",
            "        raise ArithmeticError('a value outside a domain, or not finite')"]


def _header(graph, name, suffixes, vectorised):
    inputs = [slot_name(graph, i, suffix) for suffix in suffixes for i in range(graph.n_inputs)]
    lines = [f"def {name}({', '.join(inputs)}):"]
    if vectorised:
        # Arrays of points as float64, so that 1/0 is ∞ to be checked, not an exception.
        lines += [f"    {v} = _as_float({v})" for v in inputs]
    return lines + ["    inside = True"]


def primal_source(graph, vectorised=False):
    """Python source of ``primal(inputs…) -> outputs``."""
    outputs = [slot_name(graph, s) for s in graph.outputs]
    lines = _header(graph, "primal", ("",), vectorised)
    for slot in range(graph.n_inputs, graph.size):
        lines += _primal_lines(graph, slot)
    lines += _check(outputs, vectorised)
    lines.append(f"    return {_tuple(outputs)}")
    return "\n".join(lines) + "\n"


def forward_source(graph, vectorised=False):
    """Python source of ``tangent(inputs…, input tangents…) -> (outputs, output tangents)``:
    one forward sweep, v̇ = Σ ∂v/∂u · u̇, with the local partials of the operation table."""
    lines = _header(graph, "tangent", ("", "_dot"), vectorised)
    for slot in range(graph.n_inputs, graph.size):
        lines += _primal_lines(graph, slot)
        text = ""
        for position, arg in enumerate(graph.node(slot).args):
            if isinstance(arg, Const):
                continue
            sign, term = _scaled(graph, slot, position, slot_name(graph, arg, "_dot"))
            text += (" - " if sign < 0 else " + ") + term if text else ("-" if sign < 0 else "") + term
        lines.append(f"    {slot_name(graph, slot, '_dot')} = {text or '0.0'}")
    outputs = [slot_name(graph, s) for s in graph.outputs]
    tangents = [slot_name(graph, s, "_dot") for s in graph.outputs]
    lines += _check(outputs + tangents, vectorised)
    lines.append(f"    return {_tuple(outputs)}, {_tuple(tangents)}")
    return "\n".join(lines) + "\n"


def reverse_source(graph, output=0, vectorised=False):
    """Python source of ``backward(inputs…) -> (output, input adjoints)``: the forward pass
    keeps the primals, then the adjoint sweep from ȳ = 1, assigning an adjoint at its first
    contribution and accumulating (+=) at the later ones, as Baydin's Table 3 does."""
    n = graph.n_inputs
    lines = _header(graph, "backward", ("",), vectorised)
    lines.append("    # forward pass: primal values")
    for slot in range(n, graph.size):
        lines += _primal_lines(graph, slot)
    lines.append("    # reverse pass: adjoints, from the output back to the inputs")
    start = graph.outputs[output]
    lines.append(f"    {slot_name(graph, start, '_bar')} = 1.0")
    assigned = {start}
    for slot in range(graph.size - 1, n - 1, -1):
        if slot not in assigned:
            continue
        for position, arg in enumerate(graph.node(slot).args):
            if isinstance(arg, Const):
                continue
            sign, term = _scaled(graph, slot, position, slot_name(graph, slot, "_bar"))
            target = slot_name(graph, arg, "_bar")
            if arg in assigned:
                lines.append(f"    {target} {'-=' if sign < 0 else '+='} {term}")
            else:
                lines.append(f"    {target} = {'-' if sign < 0 else ''}{term}")
            assigned.add(arg)
    adjoints = [slot_name(graph, i, "_bar") if i in assigned else "0.0" for i in range(n)]
    lines += _check([slot_name(graph, start)] + [a for a in adjoints if a != "0.0"], vectorised)
    lines.append(f"    return {slot_name(graph, start)}, {_tuple(adjoints)}")
    return "\n".join(lines) + "\n"


SOURCES = {"primal": primal_source, "forward": forward_source, "reverse": reverse_source}


def module_source(graph, kind):
    """A runnable module of one sweep at one point (what ``adcompare codegen`` prints): the
    imports of the functions it calls, then the function ``SOURCES[kind]`` generates."""
    source = SOURCES[kind](graph)
    used = sorted(name for name in NAMESPACES["scalar"] if re.search(rf"\b{name}\(", source))
    from_math = [name if name == function.__name__ else f"{function.__name__} as {name}"
                 for name in used for function in [NAMESPACES["scalar"][name]]
                 if getattr(math, function.__name__, None) is function]
    builtins = [f"{name} = {function.__name__}" for name in used for function in [NAMESPACES["scalar"][name]]
                if function in (abs, float)]
    ours = [name for name in used if name not in {n.split(" as ")[-1] for n in from_math}
            and not any(line.startswith(f"{name} =") for line in builtins)]
    lines = [f"# adcompare codegen --mode {kind}: Baydin's v₋₁, v₀, v₁ … are v_m1, v0, v1 …",
             f"from math import {', '.join(from_math)}" if from_math else None, *builtins]
    if ours:
        lines += ["from adcompare.ops import SCALAR_FUNCTIONS   # numerically careful versions",
                  f"{', '.join(ours)} = {', '.join(f'SCALAR_FUNCTIONS[{name!r}]' for name in ours)}"]
    return "\n".join(line for line in lines if line is not None) + "\n\n\n" + source


FUSED_DIRECTIONS = 8      # up to this many inputs, jacobian_forward writes one tangent per input and node


def _finite(values):
    """Whether every value (floats or arrays) is finite: one isfinite of a sum (a finite sum
    that overflows only sends the call to the slower path, which checks each value)."""
    try:
        return math.isfinite(sum(values))
    except TypeError:       # arrays: one sum each
        return bool(np.isfinite(sum(float(np.sum(v)) for v in values)))


class CompiledGraph:
    """The compiled primal, tangent and adjoint sweeps of one Graph (see `adcompare.segments`),
    for one point (floats: the math module) or for arrays of points (numpy); each is
    generated and compiled when first called.

    A sweep computes only what its results read: `gradient` and `jacobian_forward` never
    compute the function's value (it is not what they return) and leave out every value
    that no local partial reads, while every domain is still checked; `backward`, `primal`,
    `tangent` and `sweep_points` return values and compute them. After their first call at a
    point of floats, ``gradient`` and ``jacobian_forward`` are the generated functions
    themselves (`adcompare.segments.entry`), so that a call costs the sweep and one type
    test; anything but floats takes the general path, as before.
    """

    def __init__(self, graph):
        self.graph = graph
        self._functions = {}
        self._plan = None
        self._compilers = {}
        self._direct = {}      # output → the one-function reverse sweep at one point, when there is one

    @property
    def plan(self):
        if self._plan is None:
            from .segments import Plan
            self._plan = Plan(self.graph)
        return self._plan

    def compiled_segments(self):
        """How many distinct segments were compiled (segments of the same shape share code)."""
        return sum(c.compiled_segments for c in self._compilers.values())

    def _compiler(self, variant):
        compiler = self._compilers.get(variant)
        if compiler is None:
            from .segments import Compiler
            compiler = self._compilers[variant] = Compiler(NAMESPACES[variant])
        return compiler

    def _function(self, kind, variant, option=None):
        """The sweep ``kind`` of ``variant`` ("scalar" or "array"): "reverse" (value and the
        gradient of output ``option``), "gradient" (the gradient alone), "primal", "unit" (one
        direction per input, unit seeds written in; ``option``: whether the outputs' values
        are returned too) or "seeded" (one direction, seeds passed in; values returned)."""
        key = (kind, variant, option)
        function = self._functions.get(key)
        if function is None:
            from .segments import build_forward, build_reverse
            compiler = self._compiler(variant)
            vectorised = variant == "array"
            n = self.graph.n_inputs
            if kind in ("reverse", "gradient"):
                function = build_reverse(self.plan, compiler, vectorised, option, value=kind == "reverse")
            elif kind == "primal":
                function = build_forward(self.plan, compiler, vectorised, ())
            elif kind == "unit":           # one direction per input, unit seeds written in
                function = build_forward(self.plan, compiler, vectorised,
                                         [["1.0" if i == j else None for i in range(n)] for j in range(n)],
                                         values=bool(option))
            else:                          # "seeded": one direction, seed values passed in
                function = build_forward(self.plan, compiler, vectorised, [["seed"] * n], values=option is not False)
            self._functions[key] = function
        return function

    def _variant(self, values):
        return "scalar" if not values or type(values[0]) in (float, int) else "array"

    def _call(self, kind, values, *extra, option=None):
        """Run a sweep; the math-module variant for floats, numpy's for arrays. Raises
        CompiledSweepError at a bad value (of any point)."""
        from .segments import BadValue
        if len(values) != self.graph.n_inputs:
            raise TypeError(f"the graph has {self.graph.n_inputs} inputs; {len(values)} given")
        variant = self._variant(values)
        if variant == "scalar":
            try:
                result = self._function(kind, "scalar", option)(values, *extra)
            except TypeError:
                variant = "array"     # an array among the later inputs
            except BadValue:
                raise CompiledSweepError("a value outside a domain") from None
            except _MATH_ERRORS as error:
                raise CompiledSweepError(f"a value outside a domain, or not finite ({error})") from None
            else:
                if not result[-1]:
                    raise CompiledSweepError("a value outside a domain")
                return result
        values = tuple(_as_array(v) for v in values)
        with np.errstate(all="ignore"):   # bad values are checked, not warned about
            result = self._function(kind, "array", option)(values, *extra)
        if not np.all(result[-1]):
            raise CompiledSweepError("a value outside a domain")
        return result

    def _install(self, kind):
        """Make ``self.gradient`` or ``self.jacobian_forward`` the generated function itself
        (`adcompare.segments.entry`); returns it, or None where there is none (no inputs,
        or more inputs than one tangent each)."""
        from .segments import entry
        n = self.graph.n_inputs
        if n == 0 or (kind == "jacobian" and n > FUSED_DIRECTIONS):
            return None
        if kind == "gradient":
            run, general = self._function("gradient", "scalar", 0), self._gradient
        else:
            run, general = self._function("unit", "scalar", False), self._jacobian_forward
        function = entry(self.plan, self._compiler("scalar"), run, kind, general)
        setattr(self, "gradient" if kind == "gradient" else "jacobian_forward", function)
        return function

    def primal(self, *inputs):
        """The outputs at ``inputs`` (floats, or arrays of points), by the compiled primal."""
        try:
            outputs = self._call("primal", inputs)[0]
            if not _finite(outputs):
                raise CompiledSweepError("not finite")
            return _points_shaped(outputs, inputs)
        except CompiledSweepError:
            from .graph import broadcast_point, evaluate, naming_points
            point = broadcast_point(inputs)
            with naming_points(self.graph, point):     # names the node, and the point of many
                values = evaluate(self.graph, point)
            return tuple(values[slot] for slot in self.graph.outputs)

    def tangent(self, *inputs_and_tangents):
        """(outputs, output tangents) for input values followed by input tangents (one
        direction; the tangents may be arrays, such as unit vectors: vector forward mode)."""
        n = self.graph.n_inputs
        inputs, seeds = inputs_and_tangents[:n], inputs_and_tangents[n:]
        outputs, (tangents,), _ = self._call("seeded", inputs, [list(seeds)])
        if not _finite(outputs + tangents):
            raise CompiledSweepError("a value not finite")
        return _points_shaped(outputs, inputs), _points_shaped(tangents, inputs)

    def backward(self, *inputs, output=0):
        """Output ``output`` and its gradient, by one compiled reverse sweep."""
        direct = self._direct.get(output)
        if direct is not None and inputs and type(inputs[0]) is float:
            # One point, one function (it checks its domain and results itself).
            try:
                return direct(*inputs)[:2]
            except _SCALAR_ERRORS:
                raise CompiledSweepError("a value outside a domain, or not finite") from None
            except TypeError:
                pass
        value, gradient = self._reverse(inputs, output, True)
        if direct is None and self._variant(inputs) == "scalar":
            function = self._function("reverse", "scalar", output).function
            if function is not None:
                self._direct[output] = function()
        return value, gradient

    def _reverse(self, inputs, output, value):
        """(value or None, gradient) by the compiled reverse sweep; CompiledSweepError at a
        bad value."""
        result, gradient, _ = self._call("reverse" if value else "gradient", inputs, option=output)
        if not _finite(((result,) if value else ()) + gradient):
            raise CompiledSweepError("a value not finite")
        return (_points_shaped(result, inputs) if value else None), _points_shaped(gradient, inputs)

    def gradient(self, *inputs, output=0):
        """The gradient of output ``output`` (one reverse sweep), one entry per input;
        arrays of points give one gradient per point. The function's value is not computed."""
        if output == 0 and inputs and type(inputs[0]) is float:   # the first input's type chooses
            function = self._install("gradient")
            if function is not None:
                return function(*inputs)
        return self._gradient(*inputs, output=output)

    def _gradient(self, *inputs, output=0):
        """`gradient`'s general path: any inputs, any output; names a bad value."""
        try:
            return self._reverse(inputs, output, False)[1]
        except CompiledSweepError:
            return tuple(self._interpreted("reverse", inputs)[output])

    def jacobian_forward(self, *inputs):
        """The Jacobian by one compiled forward sweep carrying every input's tangent: rows
        are outputs, columns inputs. The function's value is not computed."""
        if inputs and type(inputs[0]) is float:
            function = self._install("jacobian")
            if function is not None:
                return function(*inputs)
        return self._jacobian_forward(*inputs)

    def _jacobian_forward(self, *inputs):
        """`jacobian_forward`'s general path."""
        n = self.graph.n_inputs
        try:
            if n <= FUSED_DIRECTIONS:
                _, columns, _ = self._call("unit", inputs, option=False)
                if not _finite(tuple(t for column in columns for t in column)):
                    raise CompiledSweepError("a value not finite")
                columns = [_points_shaped(column, inputs) for column in columns]
                return [[columns[j][k] for j in range(n)] for k in range(len(self.graph.outputs))]
            shape = np.broadcast_shapes(*map(np.shape, inputs))
            units = np.eye(n).reshape((n, n) + (1,) * len(shape))
            _, (tangents,), _ = self._call("seeded", inputs, [list(units)], option=False)
            if not _finite(tangents):
                raise CompiledSweepError("a value not finite")
            rows = [np.broadcast_to(t, (n,) + shape) for t in tangents]
            if not shape:
                return [[float(x) for x in row] for row in rows]
            return [[np.array(row[j]) for j in range(n)] for row in rows]
        except CompiledSweepError:
            return [list(row) for row in self._interpreted("forward", inputs)]

    def sweep_points(self, kind, *inputs, output=0):
        """A sweep over arrays of points that marks bad points instead of raising: (outputs,
        derivatives, ok) where ``ok`` is a mask over the points, False where a value was
        outside a domain or not finite (an output, or a derivative: ∞·0 in the chain rule,
        a partial that is not finite). ``kind``: "reverse" (derivatives: the gradient of
        ``output``) or "forward" (the Jacobian's rows, one tuple per output)."""
        values = tuple(_as_array(v) for v in inputs)
        shape = np.broadcast_shapes(*map(np.shape, values))
        with np.errstate(all="ignore"):
            if kind == "reverse":
                value, derivatives, inside = self._function("reverse", "array", output)(values)
                outputs, flat = (value,), derivatives
            else:
                outputs, columns, inside = self._function("unit", "array", True)(values)
                n = self.graph.n_inputs
                derivatives = tuple(tuple(columns[j][k] for j in range(n)) for k in range(len(outputs)))
                flat = tuple(x for row in derivatives for x in row)
            ok = np.broadcast_to(inside, shape).copy() if np.ndim(inside) else np.full(shape, bool(inside))
            for value in outputs + tuple(flat):
                ok &= np.isfinite(value)
        return _points_shaped(outputs, inputs), _points_shaped(derivatives, inputs), ok

    def _interpreted(self, method, inputs):
        """The interpreted back end's Jacobian: it names the node of a bad value (DomainError)."""
        from .backends import run_method
        result = run_method(method, self.graph, inputs)
        if result.jacobian is None:
            raise CompiledSweepError(result.error)
        return result.jacobian


def _as_array(value):
    """Points as float64 arrays (so that 1/0 is ∞ to be checked, not an exception); an array
    of another library (dask) that is float64 already is left as it is, lazy."""
    if getattr(value, "dtype", None) == np.float64:
        return value
    return np.asarray(value, dtype=float)


def _points_shaped(result, inputs):
    """Floats as they are; over arrays of points, every array of the result in the points'
    shape (a derivative that is a constant comes out as one value per point)."""
    if not inputs or type(inputs[0]) in (float, int) and all(type(x) in (float, int) for x in inputs):
        return result
    return _over_points(result, np.broadcast_shapes(*map(np.shape, inputs)))


def _over_points(result, shape):
    """Every array of a (nested) result tuple in the points' shape: a derivative that is a
    constant (∂(x + y)/∂x = 1) comes out as one value per point, like the others."""
    if isinstance(result, tuple):
        return tuple(_over_points(part, shape) for part in result)
    return result if np.shape(result) == shape else np.full(shape, result, dtype=float)


def compile_graph(graph):
    """The compiled sweeps of ``graph`` (see the module docstring)."""
    return CompiledGraph(graph)

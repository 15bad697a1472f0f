"""`check_layer`: a layer's backward against the vector–Jacobian product of its forward.

Layers as people write them:

- an object with ``forward(*inputs)`` and ``backward(dout)`` (the book "Deep Learning from
  Scratch"; the seeds' layers), keeping parameters on itself (``self.W``, or
  ``self.params["W"]`` / ``self.params[0]``) and writing their gradients in ``backward``
  (``self.dW``, or ``self.grads["W"]`` / ``self.grads[0]``). ``params=("W", "b")`` names
  them; ``grads=`` says where their gradients are when it is not ``d`` + the name or the
  ``grads`` container: a dict ``{"W": "grad_W"}`` of attribute names, or a function
  ``layer → {"W": array, …}``. A forward returning several arrays is a layer with several
  outputs, and ``backward`` takes one upstream gradient for each;
- the pair of functions of the CS231n assignments, ``check_layer((affine_forward,
  affine_backward), x, w, b)``: ``forward(*inputs)`` returns ``(*outputs, cache)`` and
  ``backward(*douts, cache)`` the gradients of the inputs.

Integer and boolean arrays (labels, masks, indices), booleans and dicts (``bn_param``)
are passed as they are and never differentiated; ``wrt=`` names the inputs to
differentiate when a float input should not be (a one-hot label).

The upstream gradient u of each output is drawn from a standard normal (seeded), and
s = Σ uᵢ·outᵢ is checked: its gradient is uᵀJ, which ``backward(u)`` must return. The
backward is also called with 2u: if it returns the same, it ignores its upstream
gradient. For a layer with one scalar output (a loss, which is called last with
dout = 1, as the book's ``SoftmaxWithLoss.backward(dout=1)``) that is said in one line and
the layer is checked at dout = 1; for any other layer it fails the check, in one line.
"""

import numbers

import numpy as np

from .errors import InputError
from .black_box import random_states, replay
from .gradient_check import DEFAULT_ATOL, DEFAULT_RTOL, GradcheckError, run_check
from .tracing import Tracer, argument_names, differentiable


class _Layer:
    """One of the two layer conventions, with its parameters: calls forward and backward."""

    def __init__(self, layer, params, grads):
        if isinstance(layer, (tuple, list)) and len(layer) == 2 and all(callable(f) for f in layer):
            self.forward, self.backward = layer
            self.pair, self.object = True, None
            self.name = getattr(self.forward, "__name__", "forward")
            self.backward_title = getattr(self.backward, "__name__", "backward")
            self.user_title = f"{self.backward_title}(u, cache)"
        else:
            forward, backward = getattr(layer, "forward", None), getattr(layer, "backward", None)
            if not (callable(forward) and callable(backward)):
                raise InputError(f"a {type(layer).__name__} has no forward() and backward() methods to check "
                                 "(for CS231n-style functions pass the pair: check_layer((affine_forward, "
                                 "affine_backward), x, w, b))")
            self.forward, self.backward = forward, backward
            self.pair, self.object = False, layer
            self.name = type(layer).__name__
            self.backward_title = f"{self.name}.backward"
            self.user_title = f"{self.backward_title}(u)"
        params = (params,) if isinstance(params, (str, int)) else tuple(params or ())
        if params and self.pair:
            raise InputError("params= is for a layer object; CS231n-style functions take their parameters as inputs")
        self.params, self.grads = params, grads
        self.originals = [self.get(p) for p in params]
        self.cache = None

    # Parameters: attributes, or entries of a params dict or list.
    def _container(self, name):
        if isinstance(name, str) and hasattr(self.object, name):
            return None
        container = getattr(self.object, "params", None)
        if isinstance(container, dict) and name in container:
            return container
        if isinstance(container, (list, tuple)) and isinstance(name, int) and -len(container) <= name < len(container):
            return container
        raise InputError(f"{self.name} has no parameter {name!r} (an attribute, or a key or index of its params)")

    def get(self, name):
        container = self._container(name)
        return getattr(self.object, name) if container is None else container[name]

    def set(self, name, value):
        container = self._container(name)
        if container is None:
            setattr(self.object, name, value)
        else:
            container[name] = value

    def restore(self):
        for name, value in zip(self.params, self.originals):
            self.set(name, value)

    def param_name(self, name):
        return name if isinstance(name, str) else f"params[{name}]"

    def read_grad(self, name):
        """The gradient ``backward`` left for parameter ``name`` (see the module docstring)."""
        grads = self.grads
        if callable(grads):
            found = grads(self.object)
            if name not in found:
                raise GradcheckError(f"grads(layer) returned no gradient for {self.param_name(name)}")
            return found[name]
        if isinstance(grads, dict):
            where = grads.get(name)
            if where is None:
                raise GradcheckError(f"grads= names no gradient for {self.param_name(name)}")
            return where(self.object) if callable(where) else getattr(self.object, where)
        if isinstance(name, str) and hasattr(self.object, f"d{name}"):
            return getattr(self.object, f"d{name}")
        container = getattr(self.object, "grads", None)
        if isinstance(container, dict) and name in container:
            return container[name]
        if isinstance(container, (list, tuple)) and isinstance(name, int):
            return container[name]
        raise GradcheckError(f"{self.name}.backward left no gradient for {self.param_name(name)}: looked for "
                             f"{self.name}.d{name} and {self.name}.grads[{name!r}]; say where with grads=")

    def outputs(self, inputs, params):
        """forward's outputs (a tuple) at ``inputs`` with the parameters set to ``params``."""
        for name, value in zip(self.params, params):
            self.set(name, value)
        result = self.forward(*inputs)
        if self.pair:
            if not (isinstance(result, tuple) and len(result) >= 2):
                raise InputError(f"{getattr(self.forward, '__name__', 'forward')} returned a "
                                 f"{type(result).__name__}; a CS231n-style forward returns (out, cache)")
            self.cache = result[-1]
            return result[:-1]
        if isinstance(result, tuple):
            if len(result) >= 2 and not _numeric(result[-1]):
                raise InputError(f"{self.name}.forward returned (out, cache): for CS231n-style layers pass the two "
                                 "functions, check_layer((layer_forward, layer_backward), *inputs)")
        elif result is None:
            raise InputError(f"{self.name}.forward returned None; it must return its output (return out)")
        return result if isinstance(result, tuple) else (result,)

    def call_backward(self, upstream):
        """backward at the upstream gradients ``upstream`` (copies: backward may write into them)."""
        douts = [u.copy() if isinstance(u, np.ndarray) else u for u in upstream]
        if self.pair:
            return self.backward(*douts, self.cache)
        return self.backward(*douts)


def _numeric(value):
    if isinstance(value, (numbers.Real, Tracer)):
        return True
    return isinstance(value, np.ndarray) and (value.dtype.kind in "fiu" or value.dtype == object)


def _as_scalar(u):
    return float(u) if np.ndim(u) == 0 else u


def check_layer(layer, *inputs, params=(), grads=None, wrt=None, seed=0, atol=DEFAULT_ATOL, rtol=DEFAULT_RTOL,
                strict=False, methods=None, symbolic_budget=None):
    """Check a layer's ``backward`` against the vector–Jacobian product of its ``forward``.

    ``layer`` is an object with ``forward``/``backward`` or a CS231n pair of functions (see
    the module docstring). ``params`` names parameters kept on the layer, whose
    gradients ``backward`` leaves on it (``dW``, ``grads["W"]``, or as ``grads=`` says).
    ``wrt`` names (or positions of) the inputs to differentiate (default: every float
    input). The upstream gradient u is drawn from a standard normal with ``seed``; the
    reference uᵀJ comes from reverse mode on the traced forward (or, where the tracer
    cannot follow the code, finite differences of it). ``forward`` is called on traced
    values and on floats; the last call is at the inputs as given, just before ``backward``.
    The parameters are put back on the layer afterwards. Returns a GradcheckReport; raises
    GradcheckError naming the wrong entries, grouped by argument.

    >>> class Square:
    ...     def forward(self, x):
    ...         self.x = x
    ...         return x * x
    ...     def backward(self, dout):
    ...         return 2 * self.x * dout
    >>> check_layer(Square(), np.array([1.0, -2.0, 3.0])).passed
    True
    """
    __tracebackhide__ = True
    spec = _Layer(layer, params, grads)
    try:
        return _check(spec, inputs, wrt, seed, atol, rtol, strict, methods, symbolic_budget)
    finally:
        spec.restore()


def _check(spec, inputs, wrt, seed, atol, rtol, strict, methods, symbolic_budget):
    __tracebackhide__ = True
    n_inputs = len(inputs)
    input_names = argument_names(spec.forward, n_inputs)
    names = input_names + [spec.param_name(p) for p in spec.params]
    params = [np.array(value, dtype=float) if isinstance(value, np.ndarray) else value for value in spec.originals]
    args = list(inputs) + params
    if wrt is None:
        differentiated = [i for i, value in enumerate(inputs) if differentiable(value)]
    else:
        wanted = (wrt,) if isinstance(wrt, (str, int)) else tuple(wrt)
        differentiated = [input_names.index(w) if isinstance(w, str) else int(w) for w in wanted]
    positions = sorted(differentiated) + [n_inputs + i for i in range(len(params))]
    default_inputs = [i for i, value in enumerate(inputs) if differentiable(value)]

    # The upstream gradients: drawn once the shapes of forward's outputs are known. Every
    # call of forward starts from the same global random state (a dropout mask).
    states = random_states()
    spec.states = states
    replay(states)
    outputs = spec.outputs(list(inputs), params)
    rng = np.random.default_rng(seed)
    upstream = [_as_scalar(rng.standard_normal(np.shape(out))) for out in outputs]
    notes, headline = [], None
    first = _gradients(spec, inputs, params, upstream)
    second = _gradients(spec, inputs, params, [2 * u for u in upstream])
    if _ignores_upstream(first, second):
        scalar = len(outputs) == 1 and np.ndim(outputs[0]) == 0
        line = f"{spec.backward_title} ignores its upstream gradient: backward(u) and backward(2u) returned the same"
        if scalar:
            notes.append(line + "; checked at dout = 1, as a loss layer is called last (it would be wrong "
                                "anywhere else in a network)")
            upstream = [1.0]
        else:
            headline = line + "; it must return uᵀJ (multiply by dout)"

    def objective(*arguments):
        outs = spec.outputs(list(arguments[:n_inputs]), list(arguments[n_inputs:]))
        total = 0.0
        for u, out in zip(upstream, outs):
            elements = np.asarray(out, dtype=object).reshape(-1)
            weights = np.reshape(u, -1)
            if elements.size != weights.size:
                raise InputError(f"{spec.name}.forward returned {elements.size} values, then {weights.size}")
            for weight, element in zip(weights, elements):
                total = total + float(weight) * element
        return total

    def vector_jacobian_product(*arguments):
        returned = _gradients(spec, list(arguments[:n_inputs]), list(arguments[n_inputs:]), upstream)
        return _select(returned, spec, differentiated, default_inputs, n_inputs, input_names)

    title = (f"check_layer of {spec.name}" + (f" and {spec.backward_title}" if spec.pair else "") +
             f": backward(u) against uᵀJ (u seeded with {seed})")
    return run_check(objective, args, names=names, wrt=positions, grad=vector_jacobian_product, rtol=rtol,
                     atol=atol, strict=strict, methods=methods, symbolic_budget=symbolic_budget, title=title,
                     grad_title=spec.backward_title, user_title=spec.user_title,
                     user=spec.forward, headline=headline, notes=notes, random_state=states)


def _gradients(spec, inputs, params, upstream):
    """(what backward returned for the inputs, the parameters' gradients), after a fresh forward."""
    replay(spec.states)
    spec.outputs(list(inputs), list(params))
    try:
        returned = spec.call_backward(upstream)
    except TypeError as error:
        if len(upstream) > 1:
            raise InputError(f"{spec.name}: forward returned {len(upstream)} values, so backward was called with "
                             f"{len(upstream)} upstream gradients, and raised TypeError: {error}") from error
        raise
    grads = [np.array(spec.read_grad(p), dtype=float) for p in spec.params]
    return returned, grads


def _flat(returned):
    if returned is None:
        return ()
    return tuple(returned) if isinstance(returned, (tuple, list)) else (returned,)


def _ignores_upstream(first, second):
    a = [np.asarray(v, dtype=float) for v in _flat(first[0]) + tuple(first[1]) if v is not None]
    b = [np.asarray(v, dtype=float) for v in _flat(second[0]) + tuple(second[1]) if v is not None]
    if not a or len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
        return False
    nonzero = any(np.any(x != 0) for x in a)
    return nonzero and all(np.array_equal(x, y) for x, y in zip(a, b))


def _select(returned, spec, differentiated, default_inputs, n_inputs, names):
    """The gradients of the differentiated inputs, then the parameters' (for user_jacobian)."""
    input_grads, param_grads = returned
    found = _flat(input_grads)
    k = len(differentiated)
    if k == 0:
        chosen = []
    elif len(found) == k:
        chosen = list(found)
    elif len(found) == n_inputs:
        chosen = [found[i] for i in differentiated]
    elif len(found) == len(default_inputs) and set(differentiated) <= set(default_inputs):
        chosen = [found[default_inputs.index(i)] for i in differentiated]
    else:
        differentiated_names = ", ".join(names[i] for i in differentiated)
        hint = (f": pass wrt=({names[differentiated[0]]!r},) to hold the others fixed (a float label, a mask)"
                if len(found) < k else "")
        raise GradcheckError(f"{spec.backward_title} returned {len(found)} gradient{'s' if len(found) != 1 else ''}; "
                             f"expected {k}, one per differentiated input ({differentiated_names}){hint}")
    return tuple(chosen) + tuple(param_grads)

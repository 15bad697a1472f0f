"""The user's function as written, evaluated on floats: the black-box half of gradcheck.

An `Evaluation` calls the function at flat points (the differentiated arguments
flattened in C order, one after the other, as the Graph numbers its variables), with
every other argument passed as given. Before every call numpy's and Python's global
random states are put back as they were before the first, so that a dropout mask drawn
with ``np.random.rand`` is the same in every call of a check.

From it, finite differences of the function with an error estimate:

- `richardson`: the central difference D(h) = (f(x + hv) − f(x − hv)) / 2h at h, h/2 and
  h/4, extrapolated twice (Richardson; error O(h⁶)), 6 evaluations per direction, the
  step shrunk tenfold until the quotients converge as h² does; the estimate is the last
  correction |R − R₂| plus the round-off 8ε·max|f| / h, with ε the resolution of f's
  values as measured (`Evaluation.relative_noise`: float32 code has 6e-8);
- `complex_step`: Im f(x + ihv) / h with h = 1e-20, one complex evaluation per direction
  and no cancellation (Squire & Trapp, SIAM Review 40, 1998), used only where the code
  keeps complex values (no ComplexWarning, no error, a complex result) and only once it
  agrees with Richardson along the same direction: ``abs``, ``np.maximum`` and
  comparisons are not analytic, and there the complex step is silently wrong.

`directional` gives Jv along one direction v for O(1) evaluations (the check of
PyTorch's fast mode and JAX's ``check_grads``); `entries` gives the columns of J for a
chosen set of variables, to name the wrong entries once something fails.
"""

import math
import random
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import AdcompareError
from .tracing import Argument, TracingError, argument_names, as_float_argument, differentiable

EPS = np.finfo(float).eps
NOISE_WINDOW = (1e-9, 1e-5)
"""Measured relative resolutions taken as the code's (float32's is about 6e-8); outside it,
float64's ε is used: below, it is float64 code whose values vary a little; above, not
rounding at all."""
COMPLEX_STEP = 1e-20


def layout(args, names, wrt):
    """The differentiated arguments as `Argument`s (name, shape, first variable, position)
    and their values as floats or float arrays."""
    arguments, values, first = [], {}, 0
    for position in wrt:
        value = as_float_argument(names[position], args[position])
        values[position] = value
        shape = np.shape(value)
        arguments.append(Argument(names[position], shape, first, position))
        first += math.prod(shape)
    return tuple(arguments), values


def default_wrt(args, names, wrt=None):
    """The positions of the arguments to differentiate: ``wrt`` (names or positions), or
    every argument `differentiable` holds for."""
    if wrt is None:
        return [i for i, value in enumerate(args) if differentiable(value)]
    if isinstance(wrt, (str, int)):
        wrt = (wrt,)
    positions = []
    for item in wrt:
        if isinstance(item, str):
            if item not in names:
                raise TracingError(f"wrt names {item!r}, which is not an argument ({', '.join(names)})")
            positions.append(names.index(item))
        else:
            positions.append(int(item))
    return sorted(set(positions))


def random_states():
    """numpy's and Python's global random states, to put back with `replay`."""
    return np.random.get_state(), random.getstate()


def replay(states):
    """Put the global random states ``states`` (from `random_states`) back."""
    np.random.set_state(states[0])
    random.setstate(states[1])


def _moved(states):
    """Whether the global random states are no longer ``states`` (random numbers were drawn)."""
    now = np.random.get_state()
    return random.getstate() != states[1] or not all(
        np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b for a, b in zip(now, states[0]))


class Evaluation:
    """``function(*args)`` on floats at flat points of its differentiated arguments.

    ``point`` is the flat point of ``args``; ``output_shape`` and ``m`` are known after the
    first call; ``calls`` counts the calls made (traced or not).
    """

    def __init__(self, function, args, names=None, wrt=None, random_state=None):
        self.function = function
        self.args = list(args)
        self.names = list(names) if names is not None else argument_names(function, len(args))
        self.wrt = default_wrt(self.args, self.names, wrt)
        if not self.wrt:
            raise TracingError("no arguments to differentiate with respect to (integer and boolean arrays "
                               "never are; pass floats, or name them with wrt=)")
        self.arguments, values = layout(self.args, self.names, self.wrt)
        self.point = np.concatenate([np.ravel(values[i]) for i in self.wrt]).astype(float)
        self.output_shape = None
        self.calls = 0
        self.draws = None   # whether the function draws from the global generators (known after a call)
        self._random = random_state or random_states()
        self._noise = None

    def relative_noise(self):
        """The relative resolution of the function's values: float64's ε (2.2e-16) for code
        in float64, about 6e-8 for code that computes in float32 (``dtype='f'``), which no
        dtype of the result need show (``float(np.float32(x))``).

        Measured once, as in ECnoise (J. J. Moré and S. M. Wild, "Estimating computational
        noise", SIAM J. Sci. Comput. 33 (2011) 1292–1314): f at x + iδv, i = −4 … 4, along a
        fixed direction v, δ = 1e-7·max(1, |x|) (1e-7·|x| for |x| < 1); the k-th differences of a smooth f shrink as
        δᵏ while those of rounding noise σ keep the size σ·√((2k)!/(k!)²), so the smallest of
        σₖ = √(γₖ·mean(Δᵏf²)), γₖ = (k!)²/(2k)!, over k = 3 … 6 estimates σ, relative to
        max |f|. ε where f cannot be evaluated there, or where the estimate is outside
        `NOISE_WINDOW`."""
        if self._noise is None:
            self._noise = EPS
            direction = np.random.default_rng(1).standard_normal(self.n)
            direction /= max(float(np.max(np.abs(direction))), 1e-300)
            size = float(np.max(np.abs(self.point))) if self.n else 0.0
            delta = 1e-7 * (size if 0 < size < 1 else max(1.0, size))      # the point's own scale
            try:
                with np.errstate(all="ignore"):
                    table = np.array([self.outputs(self.point + i * delta * direction) for i in range(-4, 5)])
            except (ValueError, ArithmeticError) as error:
                if isinstance(error, AdcompareError):
                    raise
                return self._noise
            if np.all(np.isfinite(table)):
                sigmas = []
                for k in range(3, 7):
                    differences = np.diff(table, n=k, axis=0)
                    gamma = math.factorial(k) ** 2 / math.factorial(2 * k)
                    sigmas.append(np.sqrt(gamma * np.mean(differences ** 2, axis=0)))
                sigma = float(np.max(np.min(sigmas, axis=0)))
                scale = float(np.max(np.abs(table)))
                # Outside NOISE_WINDOW the differences show f's own variation (cos at 1e14 moves by
                # 1e-14 of f across 9δ = 9e7), not the rounding of lower-precision code.
                if scale > 0 and NOISE_WINDOW[0] <= sigma / scale <= NOISE_WINDOW[1]:
                    self._noise = sigma / scale
        return self._noise

    @property
    def n(self):
        """Number of variables."""
        return self.point.size

    @property
    def m(self):
        """Number of outputs (after the first call)."""
        return math.prod(self.output_shape)

    def replay(self):
        """Put the global random states back as they were before the first call (once the
        function is known not to draw random numbers, there is nothing to put back)."""
        if self.draws is not False:
            replay(self._random)

    def call(self, *call_args):
        """Call the function on ``call_args`` after `replay`."""
        self.replay()
        self.calls += 1
        result = self.function(*call_args)
        if self.draws is None:
            self.draws = _moved(self._random)
        return result

    def arguments_at(self, flat):
        """The function's arguments with the differentiated ones taken from ``flat``
        (fresh arrays: the function may write into them)."""
        call_args = list(self.args)
        for argument in self.arguments:
            values = np.array(flat[argument.first_slot:argument.first_slot + argument.size])
            call_args[argument.position] = values[0] if argument.shape == () else values.reshape(argument.shape)
        return call_args

    def outputs(self, flat):
        """The function's result at ``flat``, flattened to floats (shape (m,))."""
        with np.errstate(all="ignore"):    # np.where evaluates the branch not taken too
            result = self.call(*self.arguments_at(flat))
        try:
            values = np.asarray(result, dtype=float)
        except (TypeError, ValueError):
            raise TracingError(f"the function returned a {type(result).__name__} on float arguments; it must "
                               "return a number or an array of numbers") from None
        if self.output_shape is None:
            self.output_shape = values.shape
        elif values.shape != self.output_shape:
            raise TracingError(f"the function returned shape {values.shape}, then {self.output_shape}")
        return values.reshape(-1)

    def complex_outputs(self, flat):
        """The result at a complex point, or None when the code does not keep complex values."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", np.exceptions.ComplexWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                result = np.asarray(self.call(*self.arguments_at(flat)))
        except Exception:   # the code refuses complex input somewhere: no complex step here
            return None
        if result.dtype.kind != "c" or result.size != self.m:
            return None
        return result.reshape(-1)


@dataclass(frozen=True)
class Difference:
    """Finite differences of the function along some directions: ``value`` (m, k), an
    ``error`` estimate of the same shape, the ``method`` ('richardson', 'complex step') and
    the ``evaluations`` of f it cost."""

    value: np.ndarray
    error: np.ndarray
    method: str
    evaluations: int


def _step(point, direction):
    # ε^(1/5)·max(1, |x|) along the direction's largest component (Richardson's step in
    # backends.finite_difference), so that no coordinate moves by more than that.
    scale = max(1.0, float(np.max(np.abs(point)))) if point.size else 1.0
    return EPS ** 0.2 * scale / max(float(np.max(np.abs(direction))), 1e-300)


SHRINKS = 6
"""How many times Richardson's step may shrink tenfold before its quotients converge."""


def _levels(evaluation, x, direction, h, center):
    """Central differences at h, h/2, h/4, once and twice extrapolated; the second
    differences |f(x + sv) − 2f(x) + f(x − sv)| / s at each step s; and max |f| seen."""
    quotients, seconds, largest = [], [], float(np.max(np.abs(center)))
    for step in (h, h / 2, h / 4):
        plus, minus = evaluation.outputs(x + step * direction), evaluation.outputs(x - step * direction)
        largest = max(largest, float(np.max(np.abs(plus))), float(np.max(np.abs(minus))))
        quotients.append((plus - minus) / (2 * step))
        seconds.append(np.abs(plus - 2 * center + minus) / step)
    first = [(4 * quotients[1] - quotients[0]) / 3, (4 * quotients[2] - quotients[1]) / 3]
    return quotients, seconds, first, (16 * first[1] - first[0]) / 15, largest


def richardson(evaluation, direction, point=None):
    """Jv by central differences at h, h/2, h/4 extrapolated twice; (value, error).

    The quotients must converge as h² does: the differences D(h) − D(h/2) and
    D(h/2) − D(h/4) shrink by about 4 (between 2 and 8 is accepted) or lie below
    round-off, and the second differences |f(x + hv) − 2f(x) + f(x − hv)| / h shrink with
    h (they are f″h for a smooth f, but stay at the jump of the slope where a kink lies
    within the step, which an even function's central quotients hide). Where they do not
    (sin(10⁴x) at h = 7e-4 spans seven radians), h shrinks tenfold and the table is made
    again, up to `SHRINKS` times, as it is where the code raises at a stencil point (f not
    defined there: math.log at x − h); 6 evaluations each, 1 more for f(x). The error estimate
    is the last correction |R − R₂| plus the round-off 8ε·max|f|/(h/4); of the two ladders
    (`_first_steps`), the one with the smaller estimate is taken; where no step
    converged (√|x| at 1e-12, whose derivative 5e5 no step wider than x can see), it is
    infinite: the quotients establish nothing, and the value is the last one tried.
    """
    x = evaluation.point if point is None else point
    center = evaluation.outputs(x)
    found = []            # one (value, error) per ladder that converged
    with np.errstate(all="ignore"):
        for h in _first_steps(x, direction):
            for _ in range(SHRINKS + 1):
                try:
                    quotients, seconds, first, value, largest = _levels(evaluation, x, direction, h, center)
                except (ValueError, ArithmeticError) as error:
                    # The code refuses a stencil point (math.log of a negative number at
                    # x − h, x = 1e-10): f is not defined that far from x; a smaller step.
                    if isinstance(error, AdcompareError):
                        raise
                    value = np.full(center.shape, np.nan)
                    h /= 10
                    continue
                roundoff = 8 * evaluation.relative_noise() * max(largest, 1.0) / (h / 4)
                coarse, fine = np.abs(quotients[0] - quotients[1]), np.abs(quotients[1] - quotients[2])
                converged = np.all((coarse <= 8 * fine + roundoff) & (fine <= coarse / 2 + roundoff)
                                   & (seconds[2] <= seconds[0] / 2 + roundoff))
                if converged:
                    found.append((value, np.abs(value - first[1]) + roundoff))
                    break
                h /= 10
    if found:
        # The ladder whose estimate is smallest: at 1e-12, x³·1e30's unit-scale quotients
        # converge with a round-off of 1e9 against a derivative of 3e6; its own scale's do not.
        return min(found, key=lambda pair: float(np.max(pair[1])))
    return value, np.full(value.shape, np.inf)


def _first_steps(x, direction):
    """Richardson's first step (`_step`), and where every coordinate is small (max |xᵢ| below
    1e-6 of the unit scale the first step assumes), a second one at the point's own scale:
    arctan2(y, x) at (5.7e-14, 1e-13) varies on the scale 1e-13, which no step of the first
    ladder (down to 7e-10) resolves."""
    h = _step(x, direction)
    steps = [h]
    scale = float(np.max(np.abs(x))) if x.size else 0.0
    if 0 < scale < 10.0 ** -SHRINKS:
        steps.append(h * scale)
    return steps


def complex_step(evaluation, direction, point=None):
    """Jv as Im f(x + ihv)/h, or None where the code does not keep complex values; 1 call."""
    x = evaluation.point if point is None else point
    result = evaluation.complex_outputs(x + 1j * COMPLEX_STEP * direction)
    if result is None or not np.all(np.isfinite(result)):
        return None
    return np.imag(result) / COMPLEX_STEP


class Differences:
    """Finite differences of one Evaluation, deciding once whether the complex step holds
    (``complex_step=False``: Richardson only, so that no complex value reaches state the
    function keeps between calls, when a trace is the reference anyway)."""

    def __init__(self, evaluation, seed=0, complex_step=True):
        self.evaluation = evaluation
        self.rng = np.random.default_rng(seed)
        self.complex_ok = None if complex_step else False   # undecided until the first direction

    def random_direction(self):
        """A direction v with standard normal components (seeded)."""
        return self.rng.standard_normal(self.evaluation.n)

    def directional(self, direction):
        """Jv along ``direction`` as a `Difference` with one column."""
        calls = self.evaluation.calls
        if self.complex_ok is not False:
            exact = complex_step(self.evaluation, direction)
            if exact is not None and self.complex_ok:
                return self._done(exact, self._complex_error(exact, direction), "complex step", calls)
            value, error = richardson(self.evaluation, direction)
            # The complex step is trusted once it agrees with Richardson within its estimate.
            self.complex_ok = exact is not None and bool(np.all(np.abs(exact - value) <= 2 * error))
            if self.complex_ok:
                return self._done(exact, self._complex_error(exact, direction), "complex step", calls)
            return self._done(value, error, "richardson", calls)
        value, error = richardson(self.evaluation, direction)
        return self._done(value, error, "richardson", calls)

    def _complex_error(self, value, direction):
        # No subtraction: the rounding of f's own evaluation, relative to the terms of Jv.
        return 64 * EPS * (np.abs(value) + EPS * float(np.sum(np.abs(direction))))

    def _done(self, value, error, method, calls):
        return Difference(value.reshape(-1, 1), np.asarray(error).reshape(-1, 1), method,
                          self.evaluation.calls - calls)

    def entries(self, variables):
        """Columns of J for ``variables`` (indices), each along its unit vector: (m, k)."""
        calls = self.evaluation.calls
        values, errors, methods = [], [], set()
        for j in variables:
            unit = np.zeros(self.evaluation.n)
            unit[j] = 1.0
            column = self.directional(unit)
            values.append(column.value[:, 0])
            errors.append(column.error[:, 0])
            methods.add(column.method)
        m = self.evaluation.m
        return Difference(np.array(values).T.reshape(m, len(variables)),
                          np.array(errors).T.reshape(m, len(variables)),
                          " and ".join(sorted(methods)) or "none", self.evaluation.calls - calls)

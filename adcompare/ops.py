"""The operation table: the one place where an elementary operation is defined.

Each `Op` carries everything the rest of adcompare needs to know about it:

- ``code``: the value as a Python expression over ``$0``, ``$1`` (the arguments), calling
  only the functions of the code vocabulary below, which has a numpy meaning and a scalar
  (math module) meaning and an interval meaning (`adcompare.intervals`). ``evaluate(*args)``
  is made from it, with numpy, so arguments may be floats or arrays; the compiled sweeps
  (`adcompare.codegen`) write it into their code; `interval_function` reads it over
  enclosures, for certified values (`adcompare.certified`);
- ``partials``: one `Partial` per argument, the local derivative ∂y/∂argᵢ as code over the
  arguments and the output ``$y`` (``value(*args, y)`` is made from it), and how to write it
  in a trace. Forward mode (ẏ = Σ ∂y/∂xᵢ · ẋᵢ) and reverse mode (x̄ᵢ += ∂y/∂xᵢ · ȳ) are both
  written once, over these partials, in `adcompare.backends` and `adcompare.codegen`;
- ``to_sympy(*args)``: the sympy counterpart, used only by the symbolic back end, which
  differentiates with sympy's own rules and never reads ``partials``;
- ``domain_code``: where the operation is defined (a condition, made into the mask
  ``domain``), and ``domain_text``, the same in words;
- ``kink_side`` and ``pole_side``: for an operation with a kink (``abs`` at 0, ``max`` at
  a tie) or a pole (``div`` at a zero divisor, ``tan`` where cos = 0), a function of the
  arguments whose sign tells which side of it they are on (0: at it), and the point in
  words. A finite-difference stencil whose points differ in sign straddles it;
- ``kink_rule``: for an operation with a kink, its one-sided directional derivative at the
  kink as code over the arguments' *tangents* (``|$0|`` for abs: |u|′(0; u̇) = |u̇|), exact
  because the operation is piecewise linear there, and the convention that forward and
  reverse mode follow at the kink (and PyTorch's and JAX's). `adcompare.nonsmooth` reads it;
- ``analytic``: whether it extends to a complex-analytic function (what the complex-step
  method needs; ``abs``, ``relu``, ``max`` and ``min`` do not);
- ``notation``: how the operation is written in a trace, as plain text and as LaTeX.

Templates use ``$0``, ``$1`` for the arguments. Adding an operation means adding one
entry to `OPERATIONS` (and one row to the tests' table of sample points).
"""

import math
from dataclasses import dataclass, replace
from typing import Callable, Optional

import numpy as np
import sympy


@dataclass(frozen=True)
class Notation:
    """How something is written: a template in plain text and in LaTeX (``$0`` = first argument)."""

    text: str
    latex: str

    def fill(self, template_field, args):
        """The template of ``template_field`` ('text' or 'latex') with rendered ``args`` substituted."""
        template = getattr(self, template_field)
        # Replace higher indices first so "$1" is never read as "$1" inside "$10".
        for position in reversed(range(len(args))):
            template = template.replace(f"${position}", args[position])
        return template


# ----------------------------------------------------------------------------- the code vocabulary
#
# An operation's value, local partials and domain are written once, as Python expressions
# over ``$0``, ``$1`` (the arguments) and ``$y`` (the output), calling only the functions
# named below. Each name has a numpy meaning (floats, arrays or complex arrays: what the
# interpreted back ends evaluate) and a scalar meaning (the math module, for compiled
# straight-line code at one point, where numpy's per-call overhead would dominate). The
# names an operation's value calls also have an interval meaning (adcompare.intervals.
# FUNCTIONS: enclosures with outward rounding, for certified values).


def _sigmoid(a):
    # exp(-logaddexp(0, -a)) = 1 / (1 + exp(-a)), without overflow for large |a|;
    # logaddexp has no complex version, so the complex step uses the plain formula.
    if np.iscomplexobj(a):
        return 1.0 / (1.0 + np.exp(-a))
    return np.exp(-np.logaddexp(0.0, -a))


def _softplus(a):
    if np.iscomplexobj(a):
        # a + log1p(exp(−a)) where Re a > 0, so that exp does not overflow for large a.
        return np.where(np.real(a) > 0, a + np.log1p(np.exp(-a)), np.log1p(np.exp(a)))[()]
    return np.logaddexp(0.0, a)


def _step(condition):
    return np.where(condition, 1.0, 0.0)[()]


def _tie_split(a, b):
    # ∂max(a, b)/∂a: 1 where a > b, 0 where a < b, ½ at a tie (the convention of JAX and PyTorch).
    return np.where(a > b, 1.0, np.where(a < b, 0.0, 0.5))[()]


NUMPY_FUNCTIONS = {
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "power": np.power, "floor": np.floor,
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "sech_squared": lambda a: 1.0 / np.cosh(a) ** 2,
    "sigmoid": _sigmoid, "softplus": _softplus, "absolute": np.abs, "sign": np.sign,
    "maximum": np.maximum, "minimum": np.minimum, "step": _step, "tie_split": _tie_split,
}


def _scalar_sigmoid(a):
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    if a < 0.0:
        t = math.exp(a) if a > -745.2 else 0.0
        return t / (1.0 + t)
    return a      # NaN stays NaN, for the final check to see


def _scalar_softplus(a):
    # max(a, 0) + log1p(exp(−|a|)): logaddexp(0, a) without overflow.
    return (a if a > 0.0 else 0.0) + math.log1p(math.exp(-abs(a)))


def _scalar_sech_squared(a):
    # cosh overflows (math raises) beyond |a| ≈ 710, where sech² is 0 in floats anyway.
    c = math.inf if abs(a) >= 710.0 else math.cosh(a)      # and NaN stays NaN
    return 1.0 / (c * c)


def _scalar_sign(a):
    return 1.0 if a > 0.0 else (-1.0 if a < 0.0 else a * 0.0)   # sign(±0) = ±0·0, sign(nan) = nan


def _scalar_maximum(a, b):
    # np.maximum's rule: a NaN on either side gives NaN (Python's max would drop it).
    return a if a > b else (b if b > a else a + b * 0.0)


def _scalar_minimum(a, b):
    return a if a < b else (b if b < a else a + b * 0.0)


def _scalar_tie_split(a, b):
    return 1.0 if a > b else (0.0 if a < b else 0.5)


SCALAR_FUNCTIONS = {
    "exp": math.exp, "log": math.log, "sqrt": math.sqrt, "power": math.pow, "floor": math.floor,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin, "acos": math.acos, "atan": math.atan,
    "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh, "sech_squared": _scalar_sech_squared,
    "sigmoid": _scalar_sigmoid, "softplus": _scalar_softplus, "absolute": abs, "sign": _scalar_sign,
    "maximum": _scalar_maximum, "minimum": _scalar_minimum, "step": float, "tie_split": _scalar_tie_split,
}


def fill_code(template, args, output="y"):
    """``template`` with ``$0``, ``$1`` replaced by the argument expressions and ``$y`` by ``output``.

    Negative numerals are parenthesised, so that "-2.0" stays one operand wherever it lands.
    """
    for position in reversed(range(len(args))):
        text = args[position]
        template = template.replace(f"${position}", f"({text})" if text.startswith("-") else text)
    return template.replace("$y", output)


def _to_numpy(a):
    # Python floats and complex numbers (the complex step's x + ih) raise ZeroDivisionError
    # where numpy gives ±∞ or NaN, which the callers check and name; numpy scalars behave as
    # arrays do.
    return np.float64(a) if type(a) is float else np.complex128(a) if type(a) is complex else a


def _numpy_function(template, arity, with_output):
    """The numpy callable of a code template (our own table's text, never a user's)."""
    names = [f"a{i}" for i in range(arity)] + (["y"] if with_output else [])
    body = fill_code(template, names[:arity])
    function = eval(f"lambda {', '.join(names)}: {body}", dict(NUMPY_FUNCTIONS))   # noqa: S307 — table text
    if "/" not in body:
        return function
    return lambda *args: function(*map(_to_numpy, args))


_INTERVAL_FUNCTIONS = {}


def interval_function(name):
    """The interval meaning of operation ``name``'s ``code``: a function of enclosures
    (`adcompare.intervals`) that encloses the exact value, raising
    `adcompare.intervals.Unresolved` or `~adcompare.intervals.Undefined` where it cannot."""
    function = _INTERVAL_FUNCTIONS.get(name)
    if function is None:
        from .intervals import FUNCTIONS
        op = OPERATIONS[name]
        names = [f"a{i}" for i in range(op.arity)]
        body = fill_code(op.code, names)
        function = eval(f"lambda {', '.join(names)}: {body}", dict(FUNCTIONS))   # noqa: S307 — table text
        _INTERVAL_FUNCTIONS[name] = function
    return function


# ----------------------------------------------------------------------------- the table

# How a local partial combines with an incoming tangent or adjoint g:
ONE = "one"              # g
MINUS_ONE = "minus_one"  # −g (forward) or g × (−1) (reverse)
TIMES = "times"          # g × code
DIVIDE = "divide"        # g / code


@dataclass(frozen=True)
class Partial:
    """A local partial derivative ∂y/∂argᵢ: ``value(*args, y)``, how it is written in a
    trace (``notation``) and in code (``code``: the factor for TIMES, the divisor for
    DIVIDE). ``value`` is made from ``code`` unless given."""

    value: Optional[Callable] = None
    kind: str = TIMES
    notation: Optional[Notation] = None
    code: Optional[str] = None

    def bind(self, arity):
        """This partial with ``value`` made from its code (a constant for ONE and MINUS_ONE)."""
        if self.value is not None:
            return self
        if self.kind in (ONE, MINUS_ONE):
            unit = 1.0 if self.kind == ONE else -1.0
            return replace(self, value=lambda *args: unit)
        code = self.code if self.kind == TIMES else f"1.0 / ({self.code})"
        return replace(self, value=_numpy_function(code, arity, with_output=True))


def kink_argument(args):
    """The quantity whose sign places a piecewise operation on its kink: the argument of
    abs or relu, a − b of max or min (``kink_side`` is its sign), for floats or enclosures."""
    return args[0] if len(args) == 1 else args[0] - args[1]


@dataclass(frozen=True)
class KinkRule:
    """An operation's one-sided directional derivative at its kink (kink_side = 0).

    ``code`` is the tangent of the result as code over the arguments' tangents ``$0``,
    ``$1`` (``value(*tangents)`` is made from it): for a direction d, the operation moves as
    ``value(ȧ, ḃ)·t`` to first order, exactly, since it is piecewise linear at the kink
    (Griewank, "Automatic directional differentiation of nonsmooth composite functions",
    1995; Griewank & Walther, *Evaluating Derivatives*, 2nd ed., 2008, ch. 14).
    ``notation`` writes the rule in a tangent trace; ``convention`` says which value the
    local partials take at the kink (what forward and reverse mode use) and what PyTorch
    and JAX take there.
    """

    code: str
    notation: Notation
    convention: str
    value: Optional[Callable] = None

    def bind(self, arity):
        """This rule with ``value`` made from its code."""
        return self if self.value is not None else replace(
            self, value=_numpy_function(self.code, arity, with_output=False))


@dataclass(frozen=True)
class Op:
    """One elementary operation; see the module docstring for the fields. ``evaluate`` and
    ``domain`` are made from ``code`` and ``domain_code`` unless given."""

    name: str
    code: str
    partials: tuple
    to_sympy: Callable
    notation: Notation
    domain_code: Optional[str] = None
    domain_text: str = ""
    kink_side: Optional[Callable] = None
    kink_text: str = ""
    pole_side: Optional[Callable] = None
    pole_text: str = ""
    kink_rule: Optional[KinkRule] = None
    parser_names: tuple = ()
    internal: bool = False
    analytic: bool = True    # complex-analytic, so the complex-step method may evaluate it
    evaluate: Optional[Callable] = None
    domain: Optional[Callable] = None

    def __post_init__(self):
        arity = len(self.partials)
        object.__setattr__(self, "partials", tuple(p.bind(arity) for p in self.partials))
        if self.kink_rule is not None:
            object.__setattr__(self, "kink_rule", self.kink_rule.bind(arity))
        if self.evaluate is None:
            object.__setattr__(self, "evaluate", _numpy_function(self.code, arity, with_output=False))
        if self.domain is None and self.domain_code is not None:
            object.__setattr__(self, "domain", _numpy_function(self.domain_code, arity, with_output=False))

    @property
    def arity(self):
        """Number of arguments."""
        return len(self.partials)


def _n(text, latex=None):
    return Notation(text, text if latex is None else latex)


def _one():
    return Partial(kind=ONE)


def _minus_one():
    return Partial(kind=MINUS_ONE)


def _times(code, text, latex=None):
    return Partial(kind=TIMES, notation=_n(text, latex), code=code)


def _divide(code, text, latex=None):
    return Partial(kind=DIVIDE, notation=_n(text, latex), code=code)


# √((1 − a)(1 + a)) rather than √(1 − a²): near |a| = 1, 1 − a is exact (Sterbenz) while
# 1 − a² cancels away the digits asin′ and acos′ need.
_SQRT_ONE_MINUS_SQUARE = "sqrt((1.0 - $0) * (1.0 + $0))"

_OPERATION_LIST = (
    Op("add", "$0 + $1", (_one(), _one()),
       lambda a, b: a + b, _n("$0 + $1"), parser_names=("+",)),
    Op("sub", "$0 - $1", (_one(), _minus_one()),
       lambda a, b: a - b, _n("$0 − $1", "$0 - $1"), parser_names=("-",)),
    Op("mul", "$0 * $1", (_times("$1", "$1"), _times("$0", "$0")),
       lambda a, b: a * b, _n("$0 × $1", r"$0 \times $1"), parser_names=("*",)),
    Op("div", "$0 / $1",
       (_divide("$1", "$1"),
        _times("-$y / $1", "(−$0 / $1²)", r"\left(-\frac{$0}{$1^{2}}\right)")),
       lambda a, b: a / b, _n("$0 / $1", r"\frac{$0}{$1}"),
       domain_code="$1 != 0.0", domain_text="a nonzero divisor", parser_names=("/",),
       pole_side=lambda a, b: np.sign(b), pole_text="division by zero"),
    Op("neg", "-$0", (_minus_one(),),
       lambda a: -a, _n("−$0", "-$0"), parser_names=("unary -",)),
    Op("pow", "power($0, $1)",
       (_times("$1 * power($0, $1 - 1.0)", "$1 × $0^($1 − 1)", r"$1 \times {$0}^{$1 - 1}"),
        _times("$y * log($0)", "$0^$1 × ln $0", r"{$0}^{$1} \ln $0")),
       lambda a, b: a ** b, _n("$0^$1", "{$0}^{$1}"),
       domain_code="($0 > 0.0) | (($0 < 0.0) & ($1 == floor($1))) | (($0 == 0.0) & ($1 > 0.0))",
       domain_text="a positive base, an integer exponent for a negative base, "
                   "or a positive exponent for a zero base",
       parser_names=("^", "**", "pow"),
       pole_side=lambda a, b: np.where(np.real(b) < 0, np.sign(np.real(a)), 1.0)[()],
       pole_text="a negative power of 0"),
    Op("exp", "exp($0)", (_times("$y", "exp $0", r"\exp $0"),),
       sympy.exp, _n("exp $0", r"\exp $0"), parser_names=("exp",)),
    Op("ln", "log($0)", (_divide("$0", "$0"),),
       sympy.log, _n("ln $0", r"\ln $0"),
       domain_code="$0 > 0.0", domain_text="a positive argument", parser_names=("ln", "log")),
    Op("log", "log($0) / log($1)",
       (_divide("$0 * log($1)", "($0 ln $1)", r"($0 \ln $1)"),
        _times("-$y / ($1 * log($1))", "(−log($0, $1) / ($1 ln $1))",
               r"\left(-\frac{\log_{$1} $0}{$1 \ln $1}\right)")),
       lambda a, b: sympy.log(a, b), _n("log($0, $1)", r"\log_{$1} $0"),
       domain_code="($0 > 0.0) & ($1 > 0.0) & ($1 != 1.0)",
       domain_text="a positive argument and a positive base other than 1", parser_names=("log",),
       pole_side=lambda a, b: np.sign(b - 1.0), pole_text="a logarithm to base 1"),
    Op("sqrt", "sqrt($0)", (_divide("2.0 * $y", "(2 √$0)", r"\left(2\sqrt{$0}\right)"),),
       sympy.sqrt, _n("√$0", r"\sqrt{$0}"),
       domain_code="$0 >= 0.0", domain_text="a non-negative argument", parser_names=("sqrt",)),
    Op("sin", "sin($0)", (_times("cos($0)", "cos $0", r"\cos $0"),),
       sympy.sin, _n("sin $0", r"\sin $0"), parser_names=("sin",)),
    Op("cos", "cos($0)", (_times("-sin($0)", "(−sin $0)", r"(-\sin $0)"),),
       sympy.cos, _n("cos $0", r"\cos $0"), parser_names=("cos",)),
    Op("tan", "tan($0)", (_times("1.0 + $y * $y", "(1 + tan² $0)", r"(1 + \tan^{2} $0)"),),
       sympy.tan, _n("tan $0", r"\tan $0"), parser_names=("tan",),
       pole_side=lambda a: np.sign(np.cos(a)), pole_text="tan where cos = 0"),
    Op("asin", "asin($0)", (_divide(_SQRT_ONE_MINUS_SQUARE, "√(1 − $0²)", r"\sqrt{1 - $0^{2}}"),),
       sympy.asin, _n("asin $0", r"\arcsin $0"),
       domain_code="absolute($0) <= 1.0", domain_text="an argument in [−1, 1]", parser_names=("asin",)),
    Op("acos", "acos($0)",
       (_times(f"-1.0 / {_SQRT_ONE_MINUS_SQUARE}", "(−1 / √(1 − $0²))",
               r"\left(-\frac{1}{\sqrt{1 - $0^{2}}}\right)"),),
       sympy.acos, _n("acos $0", r"\arccos $0"),
       domain_code="absolute($0) <= 1.0", domain_text="an argument in [−1, 1]", parser_names=("acos",)),
    Op("atan", "atan($0)", (_divide("1.0 + $0 * $0", "(1 + $0²)", r"(1 + $0^{2})"),),
       sympy.atan, _n("atan $0", r"\arctan $0"), parser_names=("atan",)),
    Op("sinh", "sinh($0)", (_times("cosh($0)", "cosh $0", r"\cosh $0"),),
       sympy.sinh, _n("sinh $0", r"\sinh $0"), parser_names=("sinh",)),
    Op("cosh", "cosh($0)", (_times("sinh($0)", "sinh $0", r"\sinh $0"),),
       sympy.cosh, _n("cosh $0", r"\cosh $0"), parser_names=("cosh",)),
    # 1/cosh² a = 1 − tanh² a, but keeps its digits where tanh a rounds to ±1.
    Op("tanh", "tanh($0)", (_times("sech_squared($0)", "(1 − tanh² $0)", r"(1 - \tanh^{2} $0)"),),
       sympy.tanh, _n("tanh $0", r"\tanh $0"), parser_names=("tanh",)),
    # σ(a)·σ(−a) = σ(1 − σ), but keeps its digits where σ(a) rounds to 1.
    Op("sigmoid", "sigmoid($0)",
       (_times("sigmoid($0) * sigmoid(-$0)", "σ $0 × (1 − σ $0)", r"\sigma($0)(1 - \sigma($0))"),),
       lambda a: 1 / (1 + sympy.exp(-a)), _n("σ $0", r"\sigma($0)"), parser_names=("sigmoid",)),
    Op("relu", "maximum($0, 0.0)", (_times("step($0 > 0.0)", "[$0 > 0]"),),
       lambda a: sympy.Max(0, a), _n("relu $0", r"\operatorname{relu}($0)"),
       kink_side=np.sign, kink_text="relu at 0", parser_names=("relu",), analytic=False,
       kink_rule=KinkRule("maximum($0, 0.0)", _n("max($0, 0)", r"\max($0, 0)"),
                          "relu′(0) = 0, as PyTorch and JAX take it")),
    Op("softplus", "softplus($0)", (_times("sigmoid($0)", "σ $0", r"\sigma($0)"),),
       lambda a: sympy.log(1 + sympy.exp(a)), _n("softplus $0", r"\operatorname{softplus}($0)"),
       parser_names=("softplus",)),
    Op("abs", "absolute($0)", (_times("sign($0)", "sign $0", r"\operatorname{sign} $0"),),
       sympy.Abs, _n("|$0|", r"\left|$0\right|"),
       kink_side=np.sign, kink_text="abs at 0", parser_names=("abs",), analytic=False,
       kink_rule=KinkRule("absolute($0)", _n("|$0|", r"\left|$0\right|"),
                          "abs′(0) = sign 0 = 0, as PyTorch takes it (JAX takes 1)")),
    Op("max", "maximum($0, $1)",
       (_times("tie_split($0, $1)", "[$0 > $1]"), _times("tie_split($1, $0)", "[$1 > $0]")),
       sympy.Max, _n("max($0, $1)", r"\max($0, $1)"),
       kink_side=lambda a, b: np.sign(a - b), kink_text="max with equal arguments", parser_names=("max",),
       analytic=False,
       kink_rule=KinkRule("maximum($0, $1)", _n("max($0, $1)", r"\max($0, $1)"),
                          "½ to each argument at a tie, as PyTorch and JAX take it")),
    Op("min", "minimum($0, $1)",
       (_times("tie_split($1, $0)", "[$0 < $1]"), _times("tie_split($0, $1)", "[$1 < $0]")),
       sympy.Min, _n("min($0, $1)", r"\min($0, $1)"),
       kink_side=lambda a, b: np.sign(a - b), kink_text="min with equal arguments", parser_names=("min",),
       analytic=False,
       kink_rule=KinkRule("minimum($0, $1)", _n("min($0, $1)", r"\min($0, $1)"),
                          "½ to each argument at a tie, as PyTorch and JAX take it")),
    # Not written by users: the node of an expression that is a bare constant ("y = 2").
    Op("identity", "$0 + 0.0", (_one(),),
       lambda a: a, _n("$0"), internal=True),
)

OPERATIONS = {op.name: op for op in _OPERATION_LIST}


def function_table():
    """Map each callable name the parser accepts ('sin', 'log', ...) to its ops, keyed by arity."""
    table = {}
    for op in _OPERATION_LIST:
        for name in op.parser_names:
            if name.isidentifier():
                table.setdefault(name, {})[op.arity] = op.name
    return table


FUNCTIONS = function_table()

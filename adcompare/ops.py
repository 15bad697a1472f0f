"""The operation table: the one place where an elementary operation is defined.

Each `Op` carries everything the rest of adcompare needs to know about it:

- ``evaluate(*args)``: the value, with numpy, so arguments may be floats or arrays;
- ``partials``: one `Partial` per argument, the local derivative ∂y/∂argᵢ as a function
  of the arguments and the output, and how to write it in a trace. Forward mode
  (ẏ = Σ ∂y/∂xᵢ · ẋᵢ) and reverse mode (x̄ᵢ += ∂y/∂xᵢ · ȳ) are both written once,
  over these partials, in `adcompare.backends`;
- ``to_sympy(*args)``: the sympy counterpart, used only by the symbolic back end, which
  differentiates with sympy's own rules and never reads ``partials``;
- ``domain``: where the operation is defined (a mask over the arguments), in words too;
- ``kink_side`` and ``pole_side``: for an operation with a kink (``abs`` at 0, ``max`` at
  a tie) or a pole (``div`` at a zero divisor, ``tan`` where cos = 0), a function of the
  arguments whose sign tells which side of it they are on (0: at it), and the point in
  words. A finite-difference stencil whose points differ in sign straddles it;
- ``analytic``: whether it extends to a complex-analytic function (what the complex-step
  method needs; ``abs``, ``relu``, ``max`` and ``min`` do not);
- ``notation``: how the operation is written in a trace, as plain text and as LaTeX.

Templates use ``$0``, ``$1`` for the arguments. Adding an operation means adding one
entry to `OPERATIONS` (and one row to the tests' table of sample points).
"""

from dataclasses import dataclass
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


# How a local partial combines with an incoming tangent or adjoint g:
ONE = "one"              # g
MINUS_ONE = "minus_one"  # −g (forward) or g × (−1) (reverse)
TIMES = "times"          # g × notation
DIVIDE = "divide"        # g / notation


@dataclass(frozen=True)
class Partial:
    """A local partial derivative ∂y/∂argᵢ: ``value(*args, y)`` and how it is written."""

    value: Callable
    kind: str = TIMES
    notation: Optional[Notation] = None


@dataclass(frozen=True)
class Op:
    """One elementary operation; see the module docstring for the fields."""

    name: str
    evaluate: Callable
    partials: tuple
    to_sympy: Callable
    notation: Notation
    domain: Optional[Callable] = None
    domain_text: str = ""
    kink_side: Optional[Callable] = None
    kink_text: str = ""
    pole_side: Optional[Callable] = None
    pole_text: str = ""
    parser_names: tuple = ()
    internal: bool = False
    analytic: bool = True    # complex-analytic, so the complex-step method may evaluate it

    @property
    def arity(self):
        """Number of arguments."""
        return len(self.partials)


def _n(text, latex=None):
    return Notation(text, text if latex is None else latex)


def _one():
    return Partial(lambda *args: 1.0, ONE)


def _minus_one():
    return Partial(lambda *args: -1.0, MINUS_ONE)


def _sigmoid(a):
    # exp(-logaddexp(0, -a)) = 1 / (1 + exp(-a)), without overflow for large |a|;
    # logaddexp has no complex version, so the complex step uses the plain formula.
    if np.iscomplexobj(a):
        return 1.0 / (1.0 + np.exp(-a))
    return np.exp(-np.logaddexp(0.0, -a))


def _softplus(a):
    if np.iscomplexobj(a):
        return np.log1p(np.exp(a))
    return np.logaddexp(0.0, a)


def _sqrt_one_minus_square(a):
    # √((1 − a)(1 + a)) rather than √(1 − a²): near |a| = 1, 1 − a is exact (Sterbenz) while
    # 1 − a² cancels away the digits asin′ and acos′ need.
    return np.sqrt((1.0 - a) * (1.0 + a))


def _step(condition):
    return np.where(condition, 1.0, 0.0)[()]


def _tie_split(a, b):
    # ∂max(a, b)/∂a: 1 where a > b, 0 where a < b, ½ at a tie (the convention of JAX and PyTorch).
    return np.where(a > b, 1.0, np.where(a < b, 0.0, 0.5))[()]


_OPERATION_LIST = (
    Op("add", np.add, (_one(), _one()),
       lambda a, b: a + b, _n("$0 + $1"), parser_names=("+",)),
    Op("sub", np.subtract, (_one(), _minus_one()),
       lambda a, b: a - b, _n("$0 − $1", "$0 - $1"), parser_names=("-",)),
    Op("mul", np.multiply,
       (Partial(lambda a, b, y: b, TIMES, _n("$1")),
        Partial(lambda a, b, y: a, TIMES, _n("$0"))),
       lambda a, b: a * b, _n("$0 × $1", r"$0 \times $1"), parser_names=("*",)),
    Op("div", np.divide,
       (Partial(lambda a, b, y: 1.0 / b, DIVIDE, _n("$1")),
        Partial(lambda a, b, y: -y / b, TIMES, _n("(−$0 / $1²)", r"\left(-\frac{$0}{$1^{2}}\right)"))),
       lambda a, b: a / b, _n("$0 / $1", r"\frac{$0}{$1}"),
       domain=lambda a, b: b != 0, domain_text="a nonzero divisor", parser_names=("/",),
       pole_side=lambda a, b: np.sign(b), pole_text="division by zero"),
    Op("neg", np.negative, (_minus_one(),),
       lambda a: -a, _n("−$0", "-$0"), parser_names=("unary -",)),
    Op("pow", np.power,
       (Partial(lambda a, b, y: b * np.power(a, b - 1.0), TIMES,
                _n("$1 × $0^($1 − 1)", r"$1 \times {$0}^{$1 - 1}")),
        Partial(lambda a, b, y: y * np.log(a), TIMES, _n("$0^$1 × ln $0", r"{$0}^{$1} \ln $0"))),
       lambda a, b: a ** b, _n("$0^$1", "{$0}^{$1}"),
       domain=lambda a, b: (a > 0) | ((a < 0) & (b == np.floor(b))) | ((a == 0) & (b > 0)),
       domain_text="a positive base, an integer exponent for a negative base, "
                   "or a positive exponent for a zero base",
       parser_names=("^", "**", "pow"),
       pole_side=lambda a, b: np.where(np.real(b) < 0, np.sign(np.real(a)), 1.0)[()],
       pole_text="a negative power of 0"),
    Op("exp", np.exp, (Partial(lambda a, y: y, TIMES, _n("exp $0", r"\exp $0")),),
       sympy.exp, _n("exp $0", r"\exp $0"), parser_names=("exp",)),
    Op("ln", np.log, (Partial(lambda a, y: 1.0 / a, DIVIDE, _n("$0")),),
       sympy.log, _n("ln $0", r"\ln $0"),
       domain=lambda a: a > 0, domain_text="a positive argument", parser_names=("ln", "log")),
    Op("log", lambda a, b: np.log(a) / np.log(b),
       (Partial(lambda a, b, y: 1.0 / (a * np.log(b)), DIVIDE, _n("($0 ln $1)", r"($0 \ln $1)")),
        Partial(lambda a, b, y: -y / (b * np.log(b)), TIMES,
                _n("(−log($0, $1) / ($1 ln $1))", r"\left(-\frac{\log_{$1} $0}{$1 \ln $1}\right)"))),
       lambda a, b: sympy.log(a, b), _n("log($0, $1)", r"\log_{$1} $0"),
       domain=lambda a, b: (a > 0) & (b > 0) & (b != 1),
       domain_text="a positive argument and a positive base other than 1", parser_names=("log",),
       pole_side=lambda a, b: np.sign(b - 1.0), pole_text="a logarithm to base 1"),
    Op("sqrt", np.sqrt, (Partial(lambda a, y: 0.5 / y, DIVIDE, _n("(2 √$0)", r"\left(2\sqrt{$0}\right)")),),
       sympy.sqrt, _n("√$0", r"\sqrt{$0}"),
       domain=lambda a: a >= 0, domain_text="a non-negative argument", parser_names=("sqrt",)),
    Op("sin", np.sin, (Partial(lambda a, y: np.cos(a), TIMES, _n("cos $0", r"\cos $0")),),
       sympy.sin, _n("sin $0", r"\sin $0"), parser_names=("sin",)),
    Op("cos", np.cos, (Partial(lambda a, y: -np.sin(a), TIMES, _n("(−sin $0)", r"(-\sin $0)")),),
       sympy.cos, _n("cos $0", r"\cos $0"), parser_names=("cos",)),
    Op("tan", np.tan, (Partial(lambda a, y: 1.0 + y * y, TIMES, _n("(1 + tan² $0)", r"(1 + \tan^{2} $0)")),),
       sympy.tan, _n("tan $0", r"\tan $0"), parser_names=("tan",),
       pole_side=lambda a: np.sign(np.cos(a)), pole_text="tan where cos = 0"),
    Op("asin", np.arcsin,
       (Partial(lambda a, y: 1.0 / _sqrt_one_minus_square(a), DIVIDE, _n("√(1 − $0²)", r"\sqrt{1 - $0^{2}}")),),
       sympy.asin, _n("asin $0", r"\arcsin $0"),
       domain=lambda a: np.abs(a) <= 1, domain_text="an argument in [−1, 1]", parser_names=("asin",)),
    Op("acos", np.arccos,
       (Partial(lambda a, y: -1.0 / _sqrt_one_minus_square(a), TIMES,
                _n("(−1 / √(1 − $0²))", r"\left(-\frac{1}{\sqrt{1 - $0^{2}}}\right)")),),
       sympy.acos, _n("acos $0", r"\arccos $0"),
       domain=lambda a: np.abs(a) <= 1, domain_text="an argument in [−1, 1]", parser_names=("acos",)),
    Op("atan", np.arctan, (Partial(lambda a, y: 1.0 / (1.0 + a * a), DIVIDE, _n("(1 + $0²)", r"(1 + $0^{2})")),),
       sympy.atan, _n("atan $0", r"\arctan $0"), parser_names=("atan",)),
    Op("sinh", np.sinh, (Partial(lambda a, y: np.cosh(a), TIMES, _n("cosh $0", r"\cosh $0")),),
       sympy.sinh, _n("sinh $0", r"\sinh $0"), parser_names=("sinh",)),
    Op("cosh", np.cosh, (Partial(lambda a, y: np.sinh(a), TIMES, _n("sinh $0", r"\sinh $0")),),
       sympy.cosh, _n("cosh $0", r"\cosh $0"), parser_names=("cosh",)),
    # 1/cosh² a = 1 − tanh² a, but keeps its digits where tanh a rounds to ±1.
    Op("tanh", np.tanh, (Partial(lambda a, y: 1.0 / np.cosh(a) ** 2, TIMES,
                                 _n("(1 − tanh² $0)", r"(1 - \tanh^{2} $0)")),),
       sympy.tanh, _n("tanh $0", r"\tanh $0"), parser_names=("tanh",)),
    Op("sigmoid", _sigmoid,
       # σ(a)·σ(−a) = σ(1 − σ), but keeps its digits where σ(a) rounds to 1.
       (Partial(lambda a, y: _sigmoid(a) * _sigmoid(-a), TIMES,
                _n("σ $0 × (1 − σ $0)", r"\sigma($0)(1 - \sigma($0))")),),
       lambda a: 1 / (1 + sympy.exp(-a)), _n("σ $0", r"\sigma($0)"), parser_names=("sigmoid",)),
    Op("relu", lambda a: np.maximum(a, 0.0), (Partial(lambda a, y: _step(a > 0), TIMES, _n("[$0 > 0]")),),
       lambda a: sympy.Max(0, a), _n("relu $0", r"\operatorname{relu}($0)"),
       kink_side=np.sign, kink_text="relu at 0", parser_names=("relu",), analytic=False),
    Op("softplus", _softplus, (Partial(lambda a, y: _sigmoid(a), TIMES, _n("σ $0", r"\sigma($0)")),),
       lambda a: sympy.log(1 + sympy.exp(a)), _n("softplus $0", r"\operatorname{softplus}($0)"),
       parser_names=("softplus",)),
    Op("abs", np.abs, (Partial(lambda a, y: np.sign(a), TIMES, _n("sign $0", r"\operatorname{sign} $0")),),
       sympy.Abs, _n("|$0|", r"\left|$0\right|"),
       kink_side=np.sign, kink_text="abs at 0", parser_names=("abs",), analytic=False),
    Op("max", np.maximum,
       (Partial(lambda a, b, y: _tie_split(a, b), TIMES, _n("[$0 > $1]")),
        Partial(lambda a, b, y: _tie_split(b, a), TIMES, _n("[$1 > $0]"))),
       sympy.Max, _n("max($0, $1)", r"\max($0, $1)"),
       kink_side=lambda a, b: np.sign(a - b), kink_text="max with equal arguments", parser_names=("max",),
       analytic=False),
    Op("min", np.minimum,
       (Partial(lambda a, b, y: _tie_split(b, a), TIMES, _n("[$0 < $1]")),
        Partial(lambda a, b, y: _tie_split(a, b), TIMES, _n("[$1 < $0]"))),
       sympy.Min, _n("min($0, $1)", r"\min($0, $1)"),
       kink_side=lambda a, b: np.sign(a - b), kink_text="min with equal arguments", parser_names=("min",),
       analytic=False),
    # Not written by users: the node of an expression that is a bare constant ("y = 2").
    Op("identity", lambda a: np.add(a, 0.0), (_one(),),
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

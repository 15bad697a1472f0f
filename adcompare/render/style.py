"""Names and numbers for one output format, and the generic formula renderer.

A `Style` is data: which notation template to use (plain text or LaTeX), how to write
a trace quantity (v₋₁, v̇₂, v̄₀, ẋ1, ȳ), and how to write a number. `render_formula`
walks a formula from `adcompare.formula` and fills the operation table's templates.
Values are rounded here for reading only; nothing downstream compares them.

    >>> format_number(10.693147180559945)
    '10.693'
    >>> format_number(-0.9589242746631385)
    '−0.959'
"""

import math
import unicodedata
from typing import Callable, NamedTuple

from ..formula import Apply, Num, Var
from ..graph import Const, float_text

_SUBSCRIPT = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")
DOT, BAR = "\u0307", "\u0304"   # combining dot above, combining macron


def format_number(value, digits=3, minus="−"):
    """A number rounded for reading: ``digits`` decimals, trailing zeros dropped, 10 not 10.000.

    Tiny and huge magnitudes switch to scientific notation so that rounding never turns
    a nonzero value into 0.
    """
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return ("−" if value < 0 else "") + "∞"
    if value == 0:
        return "0"
    if abs(value) >= 1e7 or abs(value) < 10.0 ** -digits:
        mantissa, exponent = f"{value:.{max(digits, 1)}e}".split("e")
        text = f"{_strip(mantissa)}e{int(exponent)}"
    else:
        text = _strip(f"{value:.{digits}f}")
        if text in ("-0", "0"):
            text = f"{value:.{digits}g}"
    return text.replace("-", minus)


def _strip(text):
    return text.rstrip("0").rstrip(".") if "." in text else text


def full_precision(value):
    """The shortest text that reads back as the same float (for values compared, not read)."""
    return float_text(value)


class Style(NamedTuple):
    """How one output format writes quantities, numbers and templates."""

    template: str                      # Notation field: 'text' or 'latex'
    name: Callable                     # (base, mark, subscript) -> str; mark is '', DOT or BAR
    number: Callable                   # (value, digits) -> str
    wrap_negative: str                 # how a negative number inside a formula is bracketed
    minus: str                         # the minus sign
    constants: dict                    # how 'pi' and 'e' are written


def _text_name(base, mark, subscript):
    # NFC turns y + combining macron into the single character ȳ where Unicode has one.
    return unicodedata.normalize("NFC", base[:1] + mark + base[1:] + subscript.translate(_SUBSCRIPT))


TEXT = Style("text", _text_name, lambda v, d: format_number(v, d), "({})", "−", {"pi": "π", "e": "e"})

_KIND = {"v": ("v", ""), "vdot": ("v", DOT), "vbar": ("v", BAR),
         "x": ("x", ""), "xdot": ("x", DOT), "xbar": ("x", BAR),
         "y": ("y", ""), "ydot": ("y", DOT), "ybar": ("y", BAR)}


def quantity_name(var, graph, style=TEXT):
    """The name of a trace quantity: v₋₁ for slot 0 of two inputs, ẋ1 for variable x1, ȳ."""
    base, mark = _KIND[var.kind]
    if base == "v":
        return style.name("v", mark, str(graph.baydin_number(var.index)))
    if base == "x":
        return style.name(graph.variables[var.index], mark, "")
    return style.name("y", mark, str(var.index + 1) if len(graph.outputs) > 1 else "")


def output_name(graph, output, style=TEXT):
    """The name of output ``output`` (y, or y₁, y₂ … for several)."""
    return quantity_name(Var("y", output), graph, style)


def derivative_name(graph, output, variable):
    """A Jacobian entry as a sentence names it, in plain text: ``∂y/∂x1``."""
    return f"∂{output_name(graph, output)}/∂{quantity_name(Var('x', variable), graph)}"


def constant_text(const, style=TEXT):
    """A literal as written, with the style's minus sign and constant symbols."""
    if isinstance(const.exact, str):
        return style.constants[const.exact]
    return const.text.replace("-", style.minus)


def render_formula(formula, graph, style=TEXT, digits=3, nested=False):
    """A formula as text in ``style``; negative numbers inside an operation get brackets."""
    if isinstance(formula, Var):
        return quantity_name(formula, graph, style)
    if isinstance(formula, (Num, Const)):
        negative = (formula.value < 0)
        text = style.number(formula.value, digits) if isinstance(formula, Num) else constant_text(formula, style)
        return style.wrap_negative.format(text) if negative and nested else text
    if isinstance(formula, Apply):
        return formula.notation.fill(style.template, [render_formula(a, graph, style, digits, True)
                                                      for a in formula.args])
    raise TypeError(f"not a formula: {formula!r}")


_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
          "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega"}


def _latex_name(base, mark, subscript):
    """v, DOT, '-1' → \\dot{v}_{-1}; x1 → x_{1}; theta2 → \\theta_{2}; w_out → \\mathit{w\\_out}."""
    letters = base.rstrip("0123456789")
    digits = base[len(letters):]
    if len(letters) == 1:
        core = letters
    elif letters in _GREEK:
        core = "\\" + letters
    else:
        core = r"\mathit{" + letters.replace("_", r"\_") + "}"
    if mark:
        core = (r"\dot{" if mark == DOT else r"\bar{") + core + "}"
    sub = subscript or digits
    return core + ("_{" + sub + "}" if sub else "")


def latex_number(value, digits=3):
    """A number for LaTeX math: 1.2 \\times 10^{-5} rather than 1.2e-5."""
    text = format_number(value, digits, minus="-")
    if text.endswith("∞"):
        return text.replace("∞", r"\infty")
    if text == "nan":
        return r"\mathrm{NaN}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{exponent}}}"
    return text


LATEX = Style("latex", _latex_name, latex_number, r"\left({}\right)", "-", {"pi": r"\pi", "e": "e"})

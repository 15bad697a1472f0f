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
import re
import unicodedata
from typing import Callable, NamedTuple

from ..formula import Apply, Num, Var
from ..graph import Const, float_text

_SUBSCRIPT = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")
DOT, BAR = "\u0307", "\u0304"   # combining dot above, combining macron
OVERLINE = "\u0305"            # combining overline: joins into one line over a word


def format_number(value, digits=3, minus="−"):
    """A number rounded for reading: ``digits`` decimals, so that the numbers of one column
    have the same number of decimals (−0.590 beside −0.393), except that a value exact at
    fewer decimals is written so (10, 5.5 and 0.5, as Baydin's tables write them): a
    trailing zero says the value was rounded.

    Tiny and huge magnitudes switch to scientific notation so that rounding never turns
    a nonzero value into 0.

        >>> format_number(-0.58983), format_number(5.5), format_number(10.0), format_number(1.2e-5)
        ('−0.590', '5.5', '10', '1.2e−5')
    """
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return ("−" if value < 0 else "") + "∞"
    if value == 0:
        return "0"
    if abs(value) >= 1e7 or abs(value) < 10.0 ** -digits:
        text = _strip(f"{value:.{max(digits, 1)}e}", value)
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    else:
        text = _strip(f"{value:.{digits}f}", value)
    return text.replace("-", minus)


def _strip(text, value):
    """Trailing zeros dropped where the text is the value exactly."""
    if "." not in text or float(text) != value:
        return text
    mantissa, e, exponent = text.partition("e")
    return mantissa.rstrip("0").rstrip(".") + e + exponent


def full_precision(value):
    """The shortest text that reads back as the same float (for values compared, not read)."""
    return float_text(value)


class Style(NamedTuple):
    """How one output format writes quantities, numbers and templates."""

    template: str                      # Notation field: 'text' or 'latex'
    name: Callable                     # (name, mark, subscript) -> str; mark is '', DOT or BAR
    number: Callable                   # (value, digits) -> str
    wrap_negative: str                 # how a negative number inside a formula is bracketed
    minus: str                         # the minus sign
    constants: dict                    # how 'pi' and 'e' are written


# ----------------------------------------------------------------------------- names
#
# One rule for every format: a name is a symbol and an optional subscript. ``x1``, ``x_1``
# → x₁; ``sigma_1``, ``theta2`` → σ₁, θ₂ (every Greek letter's name, lower and upper case);
# ``w_out`` → w with subscript "out"; any other name (``apple``) is one multi-letter symbol.
# A tangent's dot and an adjoint's bar go over the whole symbol, never its subscript: one
# letter takes one accent (ẋ₁, σ̄₁); a multi-letter symbol takes one that spans it (an
# overline in LaTeX, a combining overline on every letter in Unicode, which joins into one
# line; the dot likewise on every letter, since no Unicode or LaTeX dot spans a word).

GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
         "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega")
_GREEK_TEXT = dict(zip(GREEK, "αβγδεζηθικλμνξοπρστυφχψω"))
_GREEK_TEXT.update({name.capitalize(): letter for name, letter in zip(GREEK, "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ")})
# LaTeX has no macro for the Greek capitals that look Latin, nor for omicron.
_LATIN_LOOKING = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H", "Iota": "I", "Kappa": "K",
                  "Mu": "M", "Nu": "N", "Omicron": "O", "Rho": "P", "Tau": "T", "Chi": "X", "omicron": "o"}
_SUBSCRIPT_LETTERS = dict(zip("aehijklmnoprstuvx", "ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))
_NAME_WITH_NUMBER = re.compile(r"([A-Za-z]+?)_?([0-9]+)")
_NAME_WITH_SUBSCRIPT = re.compile(r"([A-Za-z]+)_([A-Za-z0-9]+)")


def split_name(name):
    """(symbol, subscript) of a name: 'x1' and 'x_1' → ('x', '1'); 'w_out' → ('w', 'out');
    'apple' → ('apple', '').

        >>> split_name("sigma_12"), split_name("x_i"), split_name("a_b_c")
        (('sigma', '12'), ('x', 'i'), ('a_b_c', ''))
    """
    match = _NAME_WITH_NUMBER.fullmatch(name) or _NAME_WITH_SUBSCRIPT.fullmatch(name)
    return (match.group(1), match.group(2)) if match else (name, "")


_SPANNING_BAR = re.compile("((?:[^\u0305]\u0305)+)")


def spanning_bars(text, start, end):
    """Text whose combining overlines (a multi-letter name's bar) are drawn by markup that
    spans the word: fonts set U+0305 at a different height over tall letters, while an
    HTML ``text-decoration: overline`` or Graphviz's ``<o>`` draws one straight line.

        >>> spanning_bars(text_name("ab", BAR) + " = 1", "<o>", "</o>")
        '<o>ab</o> = 1'
    """
    return _SPANNING_BAR.sub(lambda match: start + match.group(1).replace(OVERLINE, "") + end, text)


def _one_letter(symbol):
    return len(symbol) == 1 or symbol in _GREEK_TEXT


def text_name(name, mark="", subscript=None):
    """A name in Unicode (text, Markdown, HTML, the graph): ``x1`` → x₁, ``sigma_1`` with a
    dot → σ̇₁. ``subscript``, when given, replaces the name's own (v, '-1' → v₋₁).

        >>> text_name("x_1", BAR), text_name("theta2"), text_name("w_out"), text_name("ab", BAR)
        ('x̄₁', 'θ₂', 'w_out', 'a̅b̅')
    """
    symbol, own = split_name(name)
    subscript = own if subscript is None else subscript
    letters = _GREEK_TEXT.get(symbol, symbol)
    if mark:
        if _one_letter(symbol):
            letters = letters + mark
        else:   # spans: a combining overline (U+0305) joins into one line over the word
            letters = "".join(char + (OVERLINE if mark == BAR else mark) for char in letters)
    if subscript.lstrip("-").isdigit():
        subscript = subscript.translate(_SUBSCRIPT)
    elif len(subscript) == 1 and subscript in _SUBSCRIPT_LETTERS:   # x_i → xᵢ (longer ones read badly)
        subscript = _SUBSCRIPT_LETTERS[subscript]
    elif subscript:
        subscript = "_" + subscript
    # NFC turns y + combining macron into the single character ȳ where Unicode has one.
    return unicodedata.normalize("NFC", letters + subscript)


def sympy_text(expression):
    """A sympy expression in Unicode text, its symbols named as `text_name` names them and
    its minus signs as minus signs (x2 - 1/x1 → x₂ − 1/x₁), for text, Markdown and HTML.

        >>> import sympy
        >>> sympy_text(sympy.Symbol("x2") - 1 / sympy.Symbol("sigma_1"))
        'x₂ − 1/σ₁'
    """
    import re
    from sympy.printing.str import StrPrinter

    class Printer(StrPrinter):
        def _print_Symbol(self, symbol):
            return text_name(symbol.name)

    text = Printer().doprint(expression)
    # A minus between terms, in front of an expression, or after an opening bracket or an
    # operator; not in a number's exponent (1.0e-5).
    return re.sub(r"(^|[\s(*/,^])-", lambda m: m.group(1) + "−", text)


def latex_name(name, mark="", subscript=None):
    r"""A name in LaTeX math: ``x1`` → x_{1}; ``sigma_1`` with a bar → \bar{\sigma}_{1};
    ``apple`` with a bar → \overline{\mathit{apple}}.

        >>> latex_name("v", DOT, "-1"), latex_name("theta2"), latex_name("w_out", BAR)
        ('\\dot{v}_{-1}', '\\theta_{2}', '\\bar{w}_{\\mathit{out}}')
        >>> latex_name("ab", DOT)
        '\\dot{\\mathit{a}\\vphantom{l}}\\dot{\\mathit{b}\\vphantom{l}}'
    """
    symbol, own = split_name(name)
    subscript = own if subscript is None else subscript
    accent = {"": "", DOT: r"\dot", BAR: r"\bar"}[mark]
    if symbol in _LATIN_LOOKING:
        core = r"\mathrm{" + _LATIN_LOOKING[symbol] + "}" if symbol[0].isupper() else _LATIN_LOOKING[symbol]
        core = accent + "{" + core + "}" if accent else core
    elif symbol in _GREEK_TEXT:
        core = accent + "{\\" + symbol + "}" if accent else "\\" + symbol
    elif len(symbol) == 1:
        core = accent + "{" + symbol + "}" if accent else symbol
    else:
        word = symbol.replace("_", r"\_")
        if mark == BAR:
            core = r"\overline{\mathit{" + word + "}}"
        elif mark == DOT:
            # A row of dots at one height (each over its letter and an ascender's phantom), each
            # from the math font: \dot inside \mathit takes T1's "_" and strikes the word through.
            core = "".join(r"\dot{\mathit{" + c + r"}\vphantom{l}}" if c.isalpha() else r"\mathit{" + c + "}"
                           for c in re.findall(r"\\_|.", word))
        else:
            core = r"\mathit{" + word + "}"
    if subscript and not subscript.lstrip("-").isdigit() and len(subscript) > 1:
        subscript = r"\mathit{" + subscript + "}"
    return core + ("_{" + subscript + "}" if subscript else "")


TEXT = Style("text", text_name, lambda v, d: format_number(v, d), "({})", "−", {"pi": "π", "e": "e"})

_KIND = {"v": ("v", ""), "vdot": ("v", DOT), "vbar": ("v", BAR),
         "x": ("x", ""), "xdot": ("x", DOT), "xbar": ("x", BAR),
         "y": ("y", ""), "ydot": ("y", DOT), "ybar": ("y", BAR)}
DEFAULT_OUTPUT_NAMES = ("y", "f", "g", "h", "z", "out")


def _per_graph(function):
    """``function(graph)`` computed once per Graph (kept in the instance, as cached_property
    does), so that naming the rows of a long trace costs no pass over its inputs per row."""
    key = f"_render_{function.__name__}"

    def cached(graph):
        store = getattr(graph, "__dict__", None)
        if store is None:
            return function(graph)
        if key not in store:
            store[key] = function(graph)
        return store[key]

    cached.__doc__, cached.__name__, cached.__wrapped__ = function.__doc__, function.__name__, function
    return cached


@_per_graph
def output_names(graph):
    """The name of each output: the user's (``f = …``, ``--output-name``), else one that no
    input has: y (y1, y2 … for several), else f, g, h, z, out.

        >>> from adcompare.parse import parse
        >>> output_names(parse("(x+y)*z")), output_names(parse("x*z, sin(x)")), output_names(parse("f = x"))
        (('f',), ('y1', 'y2'), ('f',))
    """
    given = tuple(getattr(graph, "output_names", ()) or ())
    count = len(graph.outputs)
    if len(given) == count and all(given):
        return given
    taken = {split_name(name)[0] for name in graph.variables} | set(graph.variables) | {n for n in given if n}
    for base in DEFAULT_OUTPUT_NAMES:
        names = (base,) if count == 1 else tuple(f"{base}{k + 1}" for k in range(count))
        if base not in taken and not taken & set(names):
            break
    else:   # every usual letter is an input's name: number a fresh one
        base = next(f"out{k}" for k in range(len(taken) + 1) if f"out{k}" not in taken)
        names = (base,) if count == 1 else tuple(f"{base}_{k + 1}" for k in range(count))
    return tuple(given[k] if k < len(given) and given[k] else names[k] for k in range(count))


@_per_graph
def node_letter(graph):
    """The letter of the trace's intermediate variables: Baydin's v, unless an input's
    symbol is v (then u, then w), so that v₁ never names both."""
    symbols = {split_name(name)[0] for name in (*graph.variables, *output_names(graph))}
    return next(letter for letter in ("v", "u", "w", "vv") if letter not in symbols)


def expression_source(graph):
    """The expression as the user wrote it, without the output's name on its left when the
    user named it (``f = (x+y)*z`` gives ``(x+y)*z``), for titles that put the name there
    themselves: ``f(x, y, z) = (x+y)*z``, a graph's ``f = (x+y)*z``.

        >>> from adcompare.parse import parse
        >>> expression_source(parse("f = (x+y)*z")), expression_source(parse("(x+y)*z"))
        ('(x+y)*z', '(x+y)*z')
    """
    source = graph.source
    names = getattr(graph, "output_names", ())
    if len(names) == 1 and names[0]:
        source = re.sub(rf"^\s*{re.escape(names[0])}\s*=\s*", "", source)
    return source


def quantity_name(var, graph, style=TEXT):
    """The name of a trace quantity: v₋₁ for slot 0 of two inputs, ẋ₁ for variable x1, ȳ."""
    base, mark = _KIND[var.kind]
    if base == "v":
        return style.name(node_letter(graph), mark, str(graph.baydin_number(var.index)))
    if base == "x":
        return style.name(graph.variables[var.index], mark)
    return style.name(output_names(graph)[var.index], mark)


def output_name(graph, output, style=TEXT):
    """The name of output ``output`` (y, or y₁, y₂ … for several; see `output_names`)."""
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


LATEX = Style("latex", latex_name, latex_number, r"\left({}\right)", "-", {"pi": r"\pi", "e": "e"})

"""LaTeX for slides and papers, in Baydin's layout: the primal trace beside the tangent
trace (Table 2) and beside the adjoint trace (Table 3), rules between inputs, body and
outputs. Without ``standalone`` the output is a fragment to \\input; with it, a complete
document that compiles with pdflatex as it is.

    >>> from adcompare import trace
    >>> text = " ".join(render_report(trace("ln(x1)+x1*x2-sin(x2)", at=(2, 5))).split())
    >>> r"$\\dot{v}_{2}$ & $= \\dot{v}_{-1} \\times v_{0} + \\dot{v}_{0} \\times v_{-1}$" in text
    True
"""

import sympy

from . import common
from .style import LATEX

_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
# Characters of the shared prose (titles, notes) that pdflatex cannot typeset as text.
_UNICODE = {"−": "$-$", "∂": r"$\partial$", "ε": r"$\varepsilon$", "·": r"$\cdot$", "ᵢ": "$_i$",
            "×": r"$\times$", "≥": r"$\geq$", "√": r"$\surd$", "σ": r"$\sigma$", "π": r"$\pi$",
            "∞": r"$\infty$", "|": r"$|$", "<": r"$<$", ">": r"$>$", "′": r"$'$", "½": r"$\frac{1}{2}$",
            "—": "---", "⁺": "$^+$", "⁻": "$^-$", "±": r"$\pm$",
            **{chr(0x2080 + d): f"$_{d}$" for d in range(10)}, "₋": "$_-$"}


def escape(text):
    """Plain text made safe for LaTeX: special characters escaped, Unicode symbols as math."""
    return "".join(_ESCAPES.get(char, _UNICODE.get(char, char)) for char in text)


def _math(body):
    return f"${body}$"


def tabular(sections, headers, groups):
    """A tabular with rules between sections and the groups' titles spanning their columns."""
    text = common.tabulate_sections(sections, headers, "latex_raw")
    if groups:
        spanning = " & ".join(rf"\multicolumn{{{span}}}{{l}}{{{group}}}" for group, span in groups)
        begin, rule, rest = text.partition("\\hline\n")
        text = f"{begin}{rule}{spanning} \\\\\n\\hline\n{rest}"
    return text


def _table(title, headers, groups, sections):
    text = tabular(sections, headers, groups)
    heading = f"\\medskip\\noindent\\textbf{{{title}}}\\par\\nobreak\\smallskip\n" if title else "\\medskip\n"
    return heading + "\\noindent" + text


_PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[utf8]{inputenc}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{amsmath}
\usepackage[landscape,margin=1.5cm]{geometry}
\pagestyle{empty}
\begin{document}
\small
"""


def _document(pieces, standalone):
    body = "\n\n".join(text if kind == "table" else f"\\noindent {text}\\par" for kind, text in pieces) + "\n"
    return _PREAMBLE + body + "\\end{document}\n" if standalone else body


LATEX_FORMAT = common.Format(
    name="latex", style=LATEX, math=_math, text=escape, code=lambda s: rf"\texttt{{{escape(s)}}}",
    sympy=sympy.latex, title=escape, note=lambda t: t, table=_table, document=_document, side_by_side=True)


def render_report(report, digits=3, wrt=None, standalone=False, **view):
    """The report as LaTeX: a fragment, or a complete document with ``standalone``."""
    return common.render_report(report, LATEX_FORMAT, digits, wrt, standalone, **view)

"""Markdown (GitHub tables) for course pages and notes: Baydin's side-by-side layout,
Unicode names (v̇₂, v̄₀), laid out by tabulate.

    >>> from adcompare import trace
    >>> text = render_report(trace("x*y", at=(2, 3)))
    >>> text.splitlines()[0]
    'f(x, y) = `x*y`'
"""

import re

from tabulate import tabulate

from . import common
from .style import TEXT, sympy_text

_SPECIAL = re.compile(r"([\\|*_`\[\]<>#])")


def escape(text):
    """Backslash-escape the characters Markdown would read as markup (| * _ ` [ ] < > #)."""
    return _SPECIAL.sub(r"\\\1", text)


def _table(title, headers, groups, sections):
    # Titles go above the table, not into its first column's header (which would widen
    # that column and wrap the others); a row of blank cells stands between sections,
    # since GitHub's tables draw no rules.
    width = len(sections[0][0])
    if groups:
        title = " · ".join(f"{group} ({where})" for (group, _), where in
                           zip(groups, ("left", "right") if len(groups) == 2 else [""] * len(groups)))
    rows = []
    for section in sections:
        if rows:
            rows.append([""] * width)
        rows.extend(section)
    table = tabulate(rows, headers=headers or [""] * width, tablefmt="github", disable_numparse=True)
    return f"**{title}**\n\n{table}" if title else table


MARKDOWN_FORMAT = common.Format(
    name="markdown", style=TEXT, math=escape, text=escape, code=lambda s: f"`{s}`",
    sympy=sympy_text,   # names as everywhere else; escaped once, as math
    title=lambda t: f"**{t}**", note=lambda t: t,
    table=_table, document=lambda pieces, standalone: "\n\n".join(text for _, text in pieces) + "\n",
    side_by_side=True)


def render_report(report, digits=3, wrt=None, standalone=False, **view):
    """The report as Markdown (``standalone`` makes no difference: Markdown is a document)."""
    return common.render_report(report, MARKDOWN_FORMAT, digits, wrt, standalone, **view)

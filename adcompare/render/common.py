"""The generic renderer: walks a report's blocks (`layout`) and writes each cell, title,
table and note with one `Format`. A format is data — its `Style` and a few functions —
not a branch here.

    >>> from adcompare import trace
    >>> from adcompare.render.text import TEXT_FORMAT
    >>> print(render_report(trace("x*y", at=(2, 3)), TEXT_FORMAT).splitlines()[0])
    f(x, y) = x*y
"""

from typing import Callable, NamedTuple, Optional

import mpmath
from tabulate import SEPARATING_LINE, tabulate

from .layout import Cell, Note, Table, View, report_blocks
from .style import Style, full_precision, quantity_name, render_formula


class Format(NamedTuple):
    """How one output format writes a report."""

    name: str
    style: Style
    math: Callable          # a rendered formula or name → the format's math markup
    text: Callable          # plain text → escaped for the format
    code: Callable          # expression source text → monospace markup
    sympy: Callable         # a sympy expression → the format's notation
    title: Callable         # rendered title → a title line
    note: Callable          # rendered prose → a paragraph
    table: Callable         # (title, headers, groups, sections) of rendered strings → text
    document: Callable      # ([(kind 'table' or 'note', text)], standalone) → the whole output
    side_by_side: bool      # Baydin's layout of traces (Tables 2 and 3) or one table per trace
    reveal: Optional[Callable] = None   # (rendered cell, step) → the cell shown from that step on (slides)
    columns: str = "all"    # the trace columns unless asked otherwise: 'all' or 'paper'


def tabulate_sections(sections, headers, tablefmt):
    """tabulate's layout of sections of rows, with its rule (SEPARATING_LINE) between sections."""
    rows = []
    for section in sections:
        if rows:
            rows.append(SEPARATING_LINE)
        rows.extend(section)
    return tabulate(rows, headers=headers or (), tablefmt=tablefmt, disable_numparse=True)


def reference_text(value, method):
    """A reference value: 17 significant digits of a high-precision one, else the float as is."""
    if method == "symbolic" or isinstance(value, mpmath.mpf):
        return mpmath.nstr(value, 17, min_fixed=-5, max_fixed=17)
    return full_precision(value)


def exact_text(text, style):
    """A number in full precision as the style writes it: as Python reads it back in text
    (5e-324), and in LaTeX math (-2, 5 \times 10^{-324}), where '-' is a minus sign."""
    if style.template == "latex" and "e" in text:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def render_cell(cell, graph, fmt, digits):
    """One cell (or note part) in ``fmt``."""
    if isinstance(cell, str):
        return fmt.text(cell)
    style = fmt.style
    kind, content = cell.kind, cell.content
    if kind == "text":
        return fmt.text(content)
    if kind == "code":
        return fmt.code(content)
    if kind == "exact":
        return fmt.math(exact_text(full_precision(content), style))
    if kind == "reference":
        return fmt.math(exact_text(reference_text(*content), style))
    if kind == "quantity":
        body = quantity_name(content, graph, style)
    elif kind == "formula":
        body = render_formula(content, graph, style, digits)
    elif kind == "value":
        body = style.number(content, digits)
    elif kind == "sympy":
        body = fmt.sympy(content)
    else:
        raise ValueError(f"unknown cell kind {kind!r}")
    return fmt.math(("= " if cell.equals else "") + body)


def render_parts(parts, graph, fmt, digits):
    """A title or note: its parts rendered and joined."""
    return "".join(render_cell(part, graph, fmt, digits) for part in parts)


def render_table(table, graph, fmt, digits):
    """A Table in ``fmt``."""
    sections = [[[render_cell(cell, graph, fmt, digits) for cell in row] for row in section]
                for section in table.sections]
    if fmt.reveal is not None and table.reveal:
        steps = iter(table.reveal)
        sections = [[[fmt.reveal(text, step) if step and text else text for text, step in zip(row, next(steps))]
                     for row in section] for section in sections]
    groups = [(render_parts(title, graph, fmt, digits), span) for title, span in table.groups]
    headers = None if table.headers is None else [fmt.text(h) for h in table.headers]
    title = render_parts(table.title, graph, fmt, digits) if table.title else ""
    return fmt.table(title, headers, groups, sections)


def render_report(report, fmt, digits=3, wrt=None, standalone=False, tables=None, columns=None, rows="summary"):
    """The whole report in ``fmt``; ``tables``, ``columns`` and ``rows`` as in `layout.View`."""
    graph = report.graph
    pieces = []
    view = View(tables=None if tables is None else tuple(tables), wrt=wrt, columns=columns or fmt.columns, rows=rows,
                side_by_side=fmt.side_by_side)
    for block in report_blocks(report, view):
        if isinstance(block, Table):
            pieces.append(("table", render_table(block, graph, fmt, digits)))
        elif isinstance(block, Note):
            pieces.append(("note", fmt.note(render_parts(block.parts, graph, fmt, digits))))
    return fmt.document(pieces, standalone)


__all__ = ["Cell", "Format", "render_report"]

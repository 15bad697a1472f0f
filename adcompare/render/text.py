"""Plain text for the terminal: one table per trace, laid out by tabulate, with rules
between a trace's input rows, working rows and output rows as in Baydin's tables.

    >>> from adcompare import trace
    >>> print(render_report(trace("x*y", at=(2, 3))).splitlines()[3])
    Forward primal trace
"""

from . import common, layout
from .layout import slot_cells
from .traces import pad as traces_pad
from .style import TEXT, sympy_text


def _table(title, headers, groups, sections):
    table = common.tabulate_sections(sections, headers, "simple")
    return f"{title}\n{table}" if title else table


def join_pieces(pieces):
    """Notes in a row run together as lines; a table stands apart with blank lines."""
    out = []
    for position, (kind, text) in enumerate(pieces):
        if position and (kind == "table" or pieces[position - 1][0] == "table"):
            out.append("")
        out.append(text.rstrip("\n"))
    return "\n".join(out) + "\n"


def _document(pieces, standalone):
    return join_pieces(pieces)


def _note(text):
    return text


TEXT_FORMAT = common.Format(
    name="text", style=TEXT, math=str, text=str, code=str, sympy=sympy_text, title=str, note=_note,
    table=_table, document=_document, side_by_side=False)


def render_report(report, digits=3, wrt=None, standalone=False, **view):
    """The report as terminal text; ``wrt`` limits the tangent traces to one variable."""
    return common.render_report(report, TEXT_FORMAT, digits, wrt, standalone, **view)


def describe_slot(graph, slot):
    """A node as a trace names it, e.g. ``v₁ = ln v₋₁``."""
    return common.render_parts(slot_cells(graph, slot), graph, TEXT_FORMAT, 3)


def trace_text(graph, rows, digits=3):
    """One trace (a sequence of TraceRows) as a text table, every row."""
    from .traces import trace_cells
    width = max(len(trace_cells(row)) for row in rows)
    sections = []
    for row in rows:
        if not sections or row.section != sections[-1][0]:
            sections.append((row.section, []))
        sections[-1][1].append(tuple(traces_pad(trace_cells(row), width)))
    table = layout.Table((), tuple(tuple(section) for _, section in sections))
    return common.render_table(table, graph, TEXT_FORMAT, digits)

"""The evaluation traces as format-independent tables: one table per trace, or Baydin's
side-by-side Tables 2 and 3; all columns or exactly the paper's; every row, or a summary
of a long trace.

Columns: ``all`` gives name | = definition | [= local] | = with values | = value;
``paper`` gives exactly Baydin's columns: a forward row is name | = definition | = with
values (a body row) or = value (an input or output row), an adjoint row is name |
= definition | = local | = value.

A trace longer than `ROW_LIMIT` rows is summarised unless every row is asked for: its first
and last rows, the rows where something happens (a node at a kink, fan-out — a value used
by several operations, an adjoint that accumulates several contributions — and the largest
adjoints and tangents), with a row saying how many rows each gap leaves out. Rows are picked
from `formula.RowMeta` (a few lookups a row) and only the rows shown are formatted, so the
cost is linear in the length of the trace and the table's size is bounded.

Each table also says when each of its cells is revealed on a slide built row by row
(`Table.reveal`): Table 2 row by row; Table 3 the primal rows top down (the forward sweep),
then the adjoint rows in the order the reverse sweep executes them, bottom up.
"""

import numpy as np

from ..formula import RowMeta, TraceRows, Var
from .layout import BLANK, EDGE_ROWS, ROW_LIMIT, Cell, Note, Table, gap_row

NOTABLE_ROWS = 12      # at most this many rows for each kind of event
TANGENTS_SHOWN = 8     # with more inputs, only the first input's tangent trace (unless all rows)
PRIMAL_TITLE = ("Forward primal trace",)


def widths(columns):
    """Cells of a forward row and of an adjoint row."""
    return (3, 4) if columns == "paper" else (4, 5)


def trace_cells(row, columns="all"):
    """A TraceRow's cells: name, = definition, then the columns ``columns`` keeps, = value."""
    cells = [Cell("quantity", row.target), Cell("formula", row.definition, True)]
    value = Cell("value", row.value, True)
    if columns == "paper":
        if row.local is not None:
            return cells + [Cell("formula", row.local, True), value]
        if row.substituted is not None:
            return cells + [Cell("formula", row.substituted, True)]
        return cells + [value]
    for extra in (row.local, row.substituted):
        if extra is not None:
            cells.append(Cell("formula", extra, True))
    return cells + [value]


def pad(cells, width):
    """Right-align the value: blanks go between the definition and the value."""
    return list(cells[:-1]) + [BLANK] * (width - len(cells)) + list(cells[-1:])


# ----------------------------------------------------------------------------- summaries

def _largest(scores, candidates, count):
    """The ``count`` candidate indices with the largest scores."""
    if len(candidates) <= count:
        return candidates.tolist()
    return candidates[np.argpartition(-scores[candidates], count)[:count]].tolist()


def notable_rows(rows, graph=None, kinks=frozenset()):
    """Indices of the rows where something happens: nodes at a kink, fan-out, the largest
    adjoints or tangents (at most NOTABLE_ROWS of each). Linear in the rows, with numpy."""
    columns = rows.columns()
    inputs, body_count, _ = rows.sizes
    body = np.arange(inputs, inputs + body_count)
    if not body_count:
        return set()
    kind = rows.meta(inputs).target.kind
    adjoint = kind == "vbar"
    node = columns["source"] if adjoint else columns["slot"]
    keep = set()
    if kinks:
        at_kink = np.isin(node[body], np.fromiter(kinks, dtype=int))
        keep.update(body[at_kink][:NOTABLE_ROWS].tolist())
    if adjoint:
        # Fan-out: the last contribution to each adjoint that accumulates several, the most
        # accumulated first.
        targets = columns["slot"][body]
        counts = np.bincount(targets)
        last = np.full(len(counts), -1)
        last[targets] = body                     # later rows overwrite earlier ones
        fanned = np.flatnonzero(counts > 1)
        keep.update(last[_largest(counts.astype(float), fanned, NOTABLE_ROWS)].tolist())
    elif kind == "v" and graph is not None:
        # Fan-out in the forward trace: the values read by the most operations.
        reads = [arg for node_ in graph.nodes for arg in node_.args if isinstance(arg, int)]
        uses = np.bincount(np.array(reads, dtype=int), minlength=len(rows)) if reads else np.zeros(len(rows))
        keep.update(_largest(uses.astype(float), np.flatnonzero(uses > 1), NOTABLE_ROWS))
    if kind != "v":
        keep.update(_largest(np.abs(columns["value"]), body, NOTABLE_ROWS))
    return {int(i) for i in keep}


def selection(rows, view, graph=None, kinks=frozenset()):
    """The indices of the rows to show (all of them, or a summary), in order."""
    count = len(rows)
    if view.rows == "all" or count <= ROW_LIMIT:
        return list(range(count))
    keep = set(range(EDGE_ROWS)) | set(range(count - EDGE_ROWS, count)) | notable_rows(rows, graph, kinks)
    return sorted(keep)


def summary_note(shown, count):
    """What a summarised table leaves out, and how to see it all."""
    return Note((f"{len(shown):,} of {count:,} rows shown: the first and last, and those at a kink, with fan-out "
                 "or with the largest adjoints or tangents; --rows all (rows='all') shows every row.",))


# ----------------------------------------------------------------------------- tables

def _sectioned(entries, width):
    """Sections of rows from (index, section, cells, steps) in the order printed; a gap row
    where the indices of two rows of one section are not neighbours."""
    sections, reveal = [], []
    previous_section, previous_index = None, None
    for index, section, cells, steps in entries:
        if section != previous_section:
            sections.append([])
            reveal.append([])
            previous_section = section
        elif abs(index - previous_index) > 1:
            sections[-1].append(gap_row(abs(index - previous_index) - 1, width))
            reveal[-1].append((0,) * width)
        previous_index = index
        sections[-1].append(tuple(cells))
        reveal[-1].append(tuple(steps))
    return tuple(tuple(s) for s in sections), tuple(step for section in reveal for step in section)


def as_trace_rows(rows):
    """Rows as a `TraceRows`: a sequence of TraceRows (inputs, body, outputs) is wrapped."""
    if isinstance(rows, TraceRows):
        return rows
    rows = list(rows)
    sections = [row.section for row in rows]
    sizes = tuple(sections.count(name) for name in ("input", "body", "output"))

    def meta(index, section):
        row = rows[index]
        return RowMeta(row.target, section, row.value, row.source, False)

    def columns():
        value = np.array([float(row.value) for row in rows])
        slot = np.array([row.target.index if row.target.kind in ("v", "vdot", "vbar") else -1 for row in rows])
        source = np.array([-1 if row.source is None else row.source.index for row in rows])
        return {"value": value, "slot": slot, "source": source, "accumulates": np.zeros(len(rows), dtype=bool)}

    return TraceRows(sizes, meta, lambda index, section: rows[index], columns)


def trace_table(title, rows, view, order=None, graph=None, kinks=frozenset()):
    """One trace as a table with its input, body and output sections (``order``: the
    indices in the order printed; by default execution order). Returns the blocks: the
    table, and a note when it is summarised."""
    rows = as_trace_rows(rows)
    shown = selection(rows, view, graph, kinks)
    adjoint = bool(len(rows)) and rows.meta(0).target.kind == "vbar"
    width = widths(view.columns)[1 if adjoint else 0]
    entries = []
    for index in (shown if order is None else order(rows, shown)):
        cells = pad(trace_cells(rows[index], view.columns), width)
        entries.append((index, rows.section(index), cells, [index + 1] * width))
    sections, reveal = _sectioned(entries, width)
    blocks = [Table(title, sections, reveal=reveal)]
    return blocks + ([summary_note(shown, len(rows))] if len(shown) < len(rows) else [])


def table_3_indices(rows, shown):
    """Shown adjoint rows as Baydin's Table 3 prints them: x̄1, x̄2, … on top, then the
    sweep from its last step up to its seed ȳ = 1 at the bottom."""
    outputs = [i for i in shown if rows.section(i) == "output"]
    return outputs + [i for i in shown if rows.section(i) != "output"][::-1]


def table_3_order(rows):
    """Adjoint rows (a sequence of TraceRows) in the order of Baydin's Table 3."""
    outputs = [row for row in rows if row.section == "output"]
    return outputs + [row for row in rows if row.section != "output"][::-1]


def primal_index(var, graph):
    """The primal row a quantity's row stands beside: v slots by slot, outputs after them."""
    return graph.size + var.index if var.kind in ("y", "ydot") else var.index


def _beside(primal, shown_primal, rights, right_title, view):
    """Primal rows on the left; on each primal row's line, the right rows ``rights``
    ({primal index: [(cells, step)]}) grouped under it."""
    left_width, _ = widths(view.columns)
    right_width = len(next(iter(rights.values()))[0][0]) if rights else left_width
    entries = []
    for index in shown_primal:
        left = pad(trace_cells(primal[index], view.columns), left_width)
        for position, (right, step) in enumerate(rights.get(index) or [([BLANK] * right_width, 0)]):
            cells = (left if position == 0 else [BLANK] * left_width) + list(right)
            steps = [index + 1 if position == 0 else 0] * left_width + [step] * right_width
            entries.append((index, primal.section(index), cells, steps))
    sections, reveal = _sectioned(entries, left_width + right_width)
    return Table((), sections, groups=((PRIMAL_TITLE, left_width), (right_title, right_width)), reveal=reveal)


def table_2(report, sweep, title, view, kinks=frozenset()):
    """Baydin's Table 2: the primal trace beside a tangent trace, row by row."""
    primal, tangent = report.primal, sweep.rows
    graph = report.graph
    shown = sorted(set(selection(primal, view, graph, kinks)) | set(selection(tangent, view, graph, kinks)))
    width = widths(view.columns)[0]
    rights = {i: [(pad(trace_cells(tangent[i], view.columns), width), i + 1)] for i in shown}
    blocks = [_beside(primal, shown, rights, title, view)]
    return blocks + ([summary_note(shown, len(primal))] if len(shown) < len(primal) else [])


def table_3(report, sweep, title, view, kinks=frozenset()):
    """Baydin's Table 3: the primal trace beside the adjoint trace, each adjoint row on the
    line of the primal row it comes from, in the order the paper prints them."""
    primal, adjoint, graph = report.primal, sweep.rows, report.graph
    shown_adjoint = selection(adjoint, view, graph, kinks)
    width = widths(view.columns)[1]
    rights = {}
    for index in table_3_indices(adjoint, shown_adjoint):
        source = primal_index(adjoint.meta(index).source, graph)
        rights.setdefault(source, []).append((pad(trace_cells(adjoint[index], view.columns), width),
                                              len(primal) + index + 1))
    shown = sorted(set(selection(primal, view, graph, kinks)) | set(rights))
    blocks = [_beside(primal, shown, rights, title, view)]
    summarised = len(shown_adjoint) < len(adjoint) or len(shown) < len(primal)
    return blocks + ([summary_note(shown_adjoint, len(adjoint))] if summarised else [])


def seed_title(graph, sweep, seeds_listed=6):
    """A tangent or adjoint trace's title, with its seed."""
    if sweep.kind == "tangent":
        parts = ["Forward tangent trace for ∂/∂", Cell("quantity", Var("x", sweep.seed)), " ("]
        if graph.n_inputs > seeds_listed:   # a title as long as the trace helps nobody
            return tuple(parts + [Cell("quantity", Var("xdot", sweep.seed)),
                                  f" = 1, the other {graph.n_inputs - 1:,} tangents of the inputs = 0)"])
        for i in range(graph.n_inputs):
            parts += [", " if i else "", Cell("quantity", Var("xdot", i)), f" = {1 if i == sweep.seed else 0}"]
        return tuple(parts + [")"])
    return ("Reverse adjoint trace for ", Cell("quantity", Var("y", sweep.seed)), " (",
            Cell("quantity", Var("ybar", sweep.seed)), " = 1; read top to bottom, executed bottom to top)")


def sweeps(report, kind, view):
    """The tangent or adjoint sweeps to show: one per input (only ``wrt``'s; only the first
    of many inputs unless every row is asked for) or one per output."""
    result = report.results.get("forward" if kind == "tangent" else "reverse")
    if result is None:
        return [], None
    graph = report.graph
    chosen = [s for s in result.sweeps if s.kind == kind
              and not (view.wrt is not None and kind == "tangent" and graph.variables[s.seed] != view.wrt)]
    if kind == "tangent" and view.wrt is None and view.rows != "all" and len(chosen) > TANGENTS_SHOWN:
        note = Note((f"Forward tangent traces: the first of {len(chosen):,} shown (one per input); --wrt NAME shows "
                     "another, --rows all (rows='all') every one.",))
        return chosen[:1], note
    return chosen, None


def kink_slots(report):
    """The slots at a kink, as the non-smoothness analysis (or, for a traced program, the
    cross-check) found them."""
    analysis = getattr(report.comparison, "analysis", None)
    slots = {kink.slot for kink in analysis.kinks} if analysis is not None else set()
    return frozenset(slots | {slot for slot, _ in report.comparison.kinks})


def primal_blocks(report, view):
    """The forward primal trace alone."""
    return trace_table(PRIMAL_TITLE, report.primal, view, graph=report.graph, kinks=kink_slots(report))


def tangent_blocks(report, view):
    """Each forward tangent trace alone."""
    chosen, note = sweeps(report, "tangent", view)
    blocks = []
    for sweep in chosen:
        blocks += trace_table(seed_title(report.graph, sweep), sweep.rows, view, graph=report.graph,
                              kinks=kink_slots(report))
    return blocks + ([note] if note else [])


def adjoint_blocks(report, view):
    """Each reverse adjoint trace alone, in Table 3's order."""
    chosen, _ = sweeps(report, "adjoint", view)
    blocks = []
    for sweep in chosen:
        blocks += trace_table(seed_title(report.graph, sweep), sweep.rows, view, order=table_3_indices,
                              graph=report.graph, kinks=kink_slots(report))
    return blocks


def table_2_blocks(report, view):
    """Baydin's Table 2 for each tangent sweep shown."""
    chosen, note = sweeps(report, "tangent", view)
    blocks = []
    for sweep in chosen:
        blocks += table_2(report, sweep, seed_title(report.graph, sweep), view, kink_slots(report))
    return blocks + ([note] if note else [])


def table_3_blocks(report, view):
    """Baydin's Table 3 for each adjoint sweep."""
    chosen, _ = sweeps(report, "adjoint", view)
    blocks = []
    for sweep in chosen:
        blocks += table_3(report, sweep, seed_title(report.graph, sweep), view, kink_slots(report))
    return blocks


def trace_blocks(report, view):
    """The traces in the format's layout: one table per trace, or Tables 2 and 3 side by
    side (the primal trace alone when no tangent or adjoint trace ran)."""
    if not view.side_by_side:
        return primal_blocks(report, view) + tangent_blocks(report, view) + adjoint_blocks(report, view)
    blocks = table_2_blocks(report, view) + table_3_blocks(report, view)
    return blocks or primal_blocks(report, view)

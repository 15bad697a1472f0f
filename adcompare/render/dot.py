"""The computational graph in Graphviz DOT, drawn the way CS231n draws circuits: inputs on
the left (in variable order, top to bottom), one node per operation, the output on the
right; on each edge the value flowing forward above the line and the adjoint flowing back
along it below (ȳ·∂y/∂ of that edge, so at a fan-out the two edges' adjoints add up).
Node names are the trace's (v₋₁, v₁, …), so the drawing and the tables match.

The line of an edge passes through a small label node whose middle row is the line itself,
so the value sits above it and the adjoint below (left and right of it when the graph runs
top to bottom): Graphviz alone puts an edge's label beside the edge, never across it.

Colours: the value and the adjoint in Okabe and Ito's colour-blind-safe blue and
vermillion by default (B. Wong, "Points of view: Color blindness", Nature Methods 8:441,
2011); ``colors`` sets any pair, e.g. CS231n's green and red.

    >>> from adcompare import trace
    >>> text = render_graph(trace("x*y", at=(2, 3), methods=("reverse",)))
    >>> '"v0" -> "e0_2_0":line:w' in text   # x (slot 0) feeds the product (slot 2) through its label
    True
"""

import html
import re
import shutil
import subprocess

from ..errors import AdcompareError
from ..formula import Var
from ..graph import Const
from ..ops import OPERATIONS
from .style import TEXT, constant_text, expression_source, format_number, quantity_name, spanning_bars

PALETTES = {"okabe-ito": ("#0072B2", "#D55E00"),   # blue, vermillion: safe for every colour vision
            "cs231n": ("#2ca02c", "#d62728")}      # CS231n's green and red (not safe for red-green)
DEFAULT_PALETTE = "okabe-ito"
RANKDIRS = ("LR", "TB")
DEFAULT_DPI = 200
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}|[a-z]+[0-9]*")


def colours(spec=None):
    """(value colour, adjoint colour) from a palette name or 'VALUE,ADJOINT' (#rrggbb or a
    Graphviz colour name); ValueError otherwise."""
    if spec is None:
        return PALETTES[DEFAULT_PALETTE]
    if spec in PALETTES:
        return PALETTES[spec]
    parts = [part.strip() for part in spec.split(",")]
    if len(parts) != 2 or not all(_COLOUR.fullmatch(part) for part in parts):
        raise ValueError(f"colours: {spec!r} is neither a palette ({', '.join(PALETTES)}) nor two colours "
                         "VALUE,ADJOINT such as #0072B2,#D55E00")
    return tuple(parts)


def _id(slot):
    return f'"v{slot}"'


def edge_id(source, target, position):
    """The id of the label node on the edge from slot ``source`` into argument ``position``
    of slot ``target`` (the stepping page finds edges by it)."""
    return f"e{source}_{target}_{position}"


def operation_symbol(op_name):
    """The short symbol drawn in an operation's node: ×, +, ln, sin, σ, max …"""
    template = OPERATIONS[op_name].notation.text
    symbol = template.replace("$0", "").replace("$1", "").strip()
    return op_name if "(" in symbol or not symbol else symbol


def _font(text, colour, size=None):
    size = f' point-size="{size}"' if size else ""
    return f'<font color="{colour}"{size}>{html.escape(text)}</font>'


def _edge_label_node(name, value, adjoint, rankdir, palette, line_colour="black"):
    """The label node an edge runs through: value above the line, adjoint below (TB: left, right)."""
    top = f"<td>{_font(value, palette[0])}</td>"
    bottom = f"<td>{_font(adjoint, palette[1])}</td>" if adjoint is not None else "<td> </td>"
    if rankdir == "LR":
        line = f'<td port="line" height="1" cellpadding="0" bgcolor="{line_colour}"></td>'
        rows = f"<tr>{top}</tr><tr>{line}</tr><tr>{bottom}</tr>"
    else:
        line = f'<td port="line" width="1" cellpadding="0" bgcolor="{line_colour}"></td>'
        rows = f"<tr>{top}{line}{bottom}</tr>"
    table = f'<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{rows}</table>'
    return f'  "{name}" [shape=plain, id="{name}", label=<{table}>];'


def _box(name, rows):
    """A rounded box whose every line is inside it (an HTML table as the node's label)."""
    cells = "".join(f"<tr><td>{row}</td></tr>" for row in rows)
    return (f'  {name} [shape=plain, id={name}, label=<<table border="1" style="rounded" cellborder="0" '
            f'cellspacing="0" cellpadding="3">{cells}</table>>];')


def render_graph(report, digits=3, output=0, rankdir="LR", colors=None):
    """DOT text of the report's graph, with the adjoints of output ``output``'s reverse sweep.

    ``rankdir``: 'LR' (inputs on the left) or 'TB' (inputs on top); ``colors``: see `colours`.
    """
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}")
    palette = colours(colors)
    graph = report.graph
    if not 0 <= output < len(graph.outputs):
        raise ValueError(f"output {output} does not exist (the graph has {len(graph.outputs)})")
    values = {row.target.index: row.value for row in report.primal if row.target.kind == "v"}
    contributions = {}
    reverse = report.results.get("reverse")
    if reverse is not None and reverse.sweeps:
        sweep = next(s for s in reverse.sweeps if s.kind == "adjoint" and s.seed == output)
        for slot, position, _, contribution, _, _ in sweep.record:
            contributions[(slot, position)] = contribution
    else:
        reverse = None
    where = ("above the line", "below") if rankdir == "LR" else ("left of the line", "right of it")
    legend = (f"{_font('value', palette[0])}&#160;{where[0]}, {_font('adjoint', palette[1])}&#160;{where[1]}"
              if reverse is not None else _font("value", palette[0]))
    out_name = quantity_name(Var("y", output), graph)
    title = (f"{html.escape(out_name)} = {html.escape(expression_source(graph))}" if len(graph.outputs) == 1 else
             f"{html.escape(graph.source)}: the reverse sweep of {html.escape(out_name)}")
    lines = [f"digraph adcompare {{",
             f'  rankdir={rankdir}; nodesep=0.25; ranksep=0.3; fontname="Helvetica";',
             '  node [shape=circle, fontname="Helvetica", fontsize=12, margin=0.02];',
             '  edge [fontname="Helvetica", fontsize=10, arrowsize=0.7];',
             f'  label=<{title}<br/><font point-size="10">{legend}</font>>;',
             "  labelloc=t;"]
    inputs = []
    for i in range(graph.n_inputs):
        rows = [f"<b>{html.escape(quantity_name(Var('x', i), graph))}</b>&#160;= "
                f"{html.escape(format_number(values[i], digits))}",
                _font(quantity_name(Var("v", i), graph), "#555555", 10)]
        if reverse is not None:
            total = format_number(reverse.jacobian[output, i], digits)
            rows.append(_font(f"{quantity_name(Var('xbar', i), graph)} = {total}", palette[1], 11))
        inputs.append(_box(_id(i), rows))
    order = " -> ".join(_id(i) for i in range(graph.n_inputs))
    lines += ["  { rank=source;", *inputs] + ([f"    {order} [style=invis];"] if graph.n_inputs > 1 else []) + ["  }"]
    constants = 0
    for slot in range(graph.n_inputs, graph.size):
        node = graph.node(slot)
        name = html.escape(quantity_name(Var("v", slot), graph))
        lines.append(f"  {_id(slot)} [id=\"v{slot}\", label=<{html.escape(operation_symbol(node.op))}<br/>"
                     f"<font point-size=\"9\">{name}</font>>];")
        for position, arg in enumerate(node.args):
            if isinstance(arg, Const) and arg.slot is not None:   # a folded constant: its node
                lines.append(f"  {_id(arg.slot)} -> {_id(slot)} [label={_edge_label(values[arg.slot], None, digits)}];")
            elif isinstance(arg, Const):
                constants += 1
                lines.append(f'  "c{constants}" [shape=plaintext, label="{html.escape(constant_text(arg, TEXT))}"];')
                lines.append(f'  "c{constants}" -> {_id(slot)};')
                continue
            label = edge_id(arg, slot, position)
            adjoint = contributions.get((slot, position))
            lines.append(_edge_label_node(label, format_number(values[arg], digits),
                                          None if adjoint is None else format_number(adjoint, digits),
                                          rankdir, palette))
            tail, head = ("w", "e") if rankdir == "LR" else ("n", "s")
            lines.append(f'  {_id(arg)} -> "{label}":line:{tail} [arrowhead=none, id="{label}_in"];')
            lines.append(f'  "{label}":line:{head} -> {_id(slot)} [id="{label}_out"];')
    slot = graph.outputs[output]
    seed = f"{quantity_name(Var('ybar', output), graph)} = 1" if reverse is not None else None
    rows = [f"<b>{html.escape(out_name)}</b>&#160;= {html.escape(format_number(values[slot], digits))}"]
    if seed:
        rows.append(_font(seed, palette[1], 11))
    lines.append(_box('"y"', rows))
    tail, head = ("w", "e") if rankdir == "LR" else ("n", "s")
    lines.append(_edge_label_node("out", format_number(values[slot], digits), "1" if reverse is not None else None,
                                  rankdir, palette))
    lines.append(f'  {_id(slot)} -> "out":line:{tail} [arrowhead=none, id="out_in"];')
    lines.append(f'  "out":line:{head} -> "y" [id="out_out"];')
    lines.append("}")
    return spanning_bars("\n".join(lines) + "\n", "<o>", "</o>")


def render_graphs(report, digits=3, rankdir="LR", colors=None):
    """One drawing per output: [(output name, DOT text)]."""
    from .style import output_names
    return [(name, render_graph(report, digits, k, rankdir, colors))
            for k, name in enumerate(output_names(report.graph))]


def run_graphviz(dot_text, image_format, dpi=DEFAULT_DPI):
    """SVG, PNG (at ``dpi``) or PDF bytes from DOT text, with Graphviz's ``dot`` program."""
    program = shutil.which("dot")
    if program is None:
        raise AdcompareError(f"drawing {image_format.upper()} needs Graphviz's 'dot' program, which is not "
                             "installed (Debian: apt-get install graphviz); --format dot writes the DOT text")
    command = [program, f"-T{image_format}"] + ([f"-Gdpi={dpi}"] if image_format == "png" else [])
    done = subprocess.run(command, input=dot_text.encode(), capture_output=True, timeout=60)
    if done.returncode != 0:
        raise AdcompareError(f"Graphviz's dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


class GraphDrawing:
    """A drawing that a notebook shows as a picture: SVG, drawn by Graphviz's dot when it
    is installed. Only the picture is offered (with the DOT source as plain text), so that
    Jupyter and nbconvert never choose the source over it."""

    def __init__(self, dot_text):
        self.dot = dot_text

    def _repr_svg_(self):
        if shutil.which("dot") is None:
            return None
        return run_graphviz(self.dot, "svg").decode("utf-8")

    def __repr__(self):
        return self.dot

    def __str__(self):
        return self.dot


class GraphDrawings(list):
    """One drawing per output, shown one after another in a notebook."""

    def _repr_html_(self):
        if shutil.which("dot") is None:
            return None
        return "".join(f"<div>{drawing._repr_svg_()}</div>" for drawing in self)

    def __repr__(self):
        return "".join(drawing.dot for drawing in self)

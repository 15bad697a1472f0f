"""The command line: argument handling only; the mathematics lives in the package.

    adcompare trace EXPR --at VALUES|FILE.csv|FILE.npy [--vars x1,x2] [--wrt x1] [--digits N]
                    [--methods LIST] [--format text|markdown|latex|html|json] [--out FILE]
                    [--standalone] [--rtol R] [--atol A] [--fd-rtol R] [--fd-atol A] [--merge]
                    [--fd-method central|forward|richardson|complex-step]
                    [--jacobian-out FILE.csv|FILE.npy]
    adcompare graph EXPR --at VALUES [--format dot|svg|png] [--out FILE]
    adcompare steps EXPR --at VALUES [--wrt x1] [--plot FILE.svg|png]
    adcompare codegen EXPR [--mode primal|forward|reverse]
    adcompare lecture [--out DIR] [--check]

Exit codes (the verdict's state, `adcompare.compare.VERDICT_STATES`): 0 agree (or the
command did what was asked), 1 disagree (for ``lecture --check``: traces out of date),
2 bad input or a missing program, 3 not differentiable at this point, 4 inconclusive (a
method could not compute the derivative; all that ran agree).
"""

import argparse
import gc
import re
import sys
import warnings
from pathlib import Path

import numpy as np

from . import __version__
from .backends import METHODS
from .backends.finite_difference import FD_METHODS
from .backends.symbolic import DEFAULT_BUDGET
from .compare import DEFAULT_TOLERANCES, Tolerance
from .errors import AdcompareError, DomainError, ParseError
from .parse import DEFAULT_LIMITS, parse
from .points_file import (JACOBIAN_FILE_SUFFIXES, NUMBER, JacobianWriter, check_columns, is_points_file, iter_points,
                          points_by_name)
from .render.dot import DEFAULT_DPI, RANKDIRS
from .render.layout import DEFAULT_TABLES, TABLE_KINDS
from .formula import name_outputs
from .report import resolve_point, trace, trace_point_chunks

EXIT_AGREE, EXIT_DISAGREE, EXIT_BAD_INPUT = 0, 1, 2
METHOD_ALIASES = {"fd": "finite_difference", "finite-difference": "finite_difference", "sym": "symbolic",
                  "symbolic": "symbolic", "forward": "forward", "reverse": "reverse",
                  "finite_difference": "finite_difference"}
TRACE_FORMATS = {".txt": "text", ".md": "markdown", ".tex": "latex", ".html": "html", ".htm": "html",
                 ".json": "json"}
NAMES = r"[A-Za-z_][A-Za-z0-9_]*"
GRAPH_FORMATS = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png", ".pdf": "pdf"}


EXIT_CODES_HELP = """exit codes (the verdict's state):
  0  agree               every method that ran agrees with the reference
  1  disagree            a method is outside tolerance (which entry, which method, why)
  2  bad input           one line on standard error says what
  3  not-differentiable  the function's one-sided derivatives differ at this point
  4  inconclusive        a method could not compute the derivative; all that ran agree"""


class UsageError(Exception):
    """A command-line usage problem (exit 2, one line)."""


def _budget(text):
    """--symbolic-budget: a whole number of nodes > 0 (10000 or 1e4)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (0 < value < float("inf") and value == int(value)):
        raise UsageError(f"--symbolic-budget must be a whole number of nodes > 0, got {text!r}")
    return int(value)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parse_point(text):
    """``--at`` text: '2,5' → [2.0, 5.0]; 'x1=2,x2=5' → {'x1': 2.0, 'x2': 5.0}."""
    if is_points_file(text):
        raise UsageError(f"--at: a file of points ({text}) is for the trace command")
    items = [item.strip() for item in text.split(",")]
    if any(item == "" for item in items):
        raise UsageError(f"--at: empty value in {text!r} (write e.g. --at 2,5 or --at x1=2,x2=5)")
    named = ["=" in item for item in items]
    if any(named) and not all(named):
        raise UsageError("--at: give all values by name (x1=2,x2=5) or none (2,5)")
    pairs = [item.split("=", 1) if "=" in item else (None, item) for item in items]
    for name, value in pairs:
        if not re.fullmatch(NUMBER, value.strip()):
            raise UsageError(f"--at: {value.strip()!r} is not a number")
    if all(named):
        point = {}
        for name, value in pairs:
            name = name.strip()
            if name in point:
                raise UsageError(f"--at: {name} is given twice")
            point[name] = float(value)
        return point
    return [float(value) for _, value in pairs]


def _tables(text):
    chosen = []
    for item in text.split(","):
        name = item.strip()
        if name not in TABLE_KINDS:
            raise UsageError(f"--table: unknown table {name!r} (choose from {', '.join(TABLE_KINDS)})")
        chosen.append(name)
    return chosen


def _methods(text):
    chosen = []
    for item in text.split(","):
        name = METHOD_ALIASES.get(item.strip())
        if name is None:
            raise UsageError(f"--methods: unknown method {item.strip()!r} "
                             f"(choose from {', '.join(METHODS)} or fd, sym)")
        chosen.append(name)
    return tuple(chosen)


POINTS_HELP = ("; or, for trace, a file of many points, FILE.csv or FILE.npy: one row a point, one column a "
               "variable. A CSV may start with a header row naming the variables, in any order; without one (and "
               "in a .npy) the columns are in variable order: --vars when given, else the natural order of the "
               "names (x2 before x10)")


def _add_expression_arguments(command, points_help=""):
    command.add_argument("expression", metavar="EXPR", help='e.g. "ln(x1)+x1*x2-sin(x2)"; several outputs '
                         "separated by commas; - reads it from standard input")
    command.add_argument("--at", required=True, metavar="VALUES",
                         help="the point: 2,5 or x1=2,x2=5 (negative values as typed: --at -1,2)" + points_help)
    command.add_argument("--vars", metavar="NAMES", help="variable order, e.g. x2,x1 (default: the order in "
                         "--at name=value, else natural order of the names)")
    command.add_argument("--merge", action="store_true", help="merge identical subexpressions into one node")


def build_parser():
    """The argparse parser for the ``adcompare`` command."""
    parser = _Parser(prog="adcompare", description="Derivatives four ways, cross-checked, "
                     "with Baydin-style evaluation traces.")
    parser.add_argument("--version", action="version", version=f"adcompare {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    command = commands.add_parser("trace", help="evaluation traces and the four-way cross-check",
                                  description="Print the primal, tangent and adjoint traces of EXPR at a "
                                  "point, then compare finite differences, symbolic, forward and reverse mode.",
                                  epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_expression_arguments(command, POINTS_HELP)
    command.add_argument("--wrt", metavar="NAME", help="show the forward tangent trace for this variable only")
    command.add_argument("--digits", type=int, default=3, metavar="N",
                         help="decimals shown in traces (display only; default 3)")
    command.add_argument("--jacobian-out", metavar="FILE", help="write reverse mode's Jacobian, one row a point, "
                         "to FILE.csv (a header d(y)/d(x1),…; full precision) or FILE.npy (the same columns)")
    command.add_argument("--methods", type=_methods, default=METHODS, metavar="LIST",
                         help="comma-separated subset of " + ",".join(METHODS))
    command.add_argument("--format", choices=("text", "markdown", "latex", "beamer", "html", "json"),
                         help="output format (default text, or guessed from --out's extension); beamer: LaTeX "
                              "frames sized for slides, each trace revealed row by row")
    command.add_argument("--out", metavar="FILE", help="write to FILE (.txt .md .tex .html .json)")
    command.add_argument("--table", action="append", type=_tables, metavar="LIST",
                         help="what to print, in order (comma-separated or repeated): " + ", ".join(
                             f"{name} ({TABLE_KINDS[name][0]})" for name in TABLE_KINDS)
                         + "; default: " + ",".join(DEFAULT_TABLES))
    command.add_argument("--columns", choices=("all", "paper"),
                         help="trace columns: all (with the values substituted; the default, but for beamer) or "
                              "exactly the paper's (Baydin et al. Tables 2 and 3; beamer's default)")
    command.add_argument("--rows", choices=("summary", "all"), default="summary",
                         help="a trace longer than a few hundred rows is summarised (first and last rows, kinks, "
                              "fan-out, the largest adjoints) unless all (default summary)")
    command.add_argument("--output-name", metavar="NAMES",
                         help="name the output(s), e.g. f or f,g (as 'f = EXPR' does; default: a name no input has)")
    command.add_argument("--standalone", action="store_true",
                         help="LaTeX: a complete document for pdflatex; HTML: a complete page")
    command.add_argument("--rtol", type=float, default=DEFAULT_TOLERANCES["forward"].rtol,
                         help="relative tolerance for forward and reverse mode (default %(default)g)")
    command.add_argument("--atol", type=float, default=DEFAULT_TOLERANCES["forward"].atol,
                         help="absolute tolerance for forward and reverse mode (default %(default)g)")
    command.add_argument("--fd-rtol", type=float, default=DEFAULT_TOLERANCES["finite_difference"].rtol,
                         help="relative tolerance for finite differences (default %(default)g)")
    command.add_argument("--fd-atol", type=float, default=DEFAULT_TOLERANCES["finite_difference"].atol,
                         help="absolute tolerance for finite differences (default %(default)g)")
    command.add_argument("--symbolic-budget", type=_budget, default=DEFAULT_BUDGET, metavar="SIZE",
                         help="the largest work the symbolic method takes on, in nodes of the expression trees "
                              "sympy builds (the expression, and the derivative of each of its subexpressions; "
                              "a shared subexpression counted each time it is used), predicted before sympy "
                              "runs; beyond it the method is skipped with the sizes (default %(default)s)")
    command.add_argument("--fd-method", "--fd-scheme", dest="fd_method", choices=FD_METHODS, default="central",
                         help="finite differences: central (default), forward, richardson (extrapolated) "
                              "or complex-step (exact to rounding for analytic functions)")

    command = commands.add_parser("graph", help="the computational graph in DOT, SVG or PNG",
                                  description="Draw EXPR's computational graph: each edge labelled with its "
                                  "value and the adjoint flowing back along it (in blue and vermillion by default; --colors).")
    _add_expression_arguments(command)
    command.add_argument("--format", choices=("dot", "svg", "png", "pdf"),
                         help="dot (default), or svg/png/pdf drawn by Graphviz's dot program")
    command.add_argument("--out", metavar="FILE", help="write to FILE (.dot .svg .png .pdf); with several outputs "
                         "and no --output, one file per output, FILE-NAME.ext")
    command.add_argument("--digits", type=int, default=3, metavar="N", help="decimals on the edges (default 3)")
    command.add_argument("--output", metavar="NAME", help="draw this output's adjoints (default: one drawing per "
                         "output)")
    command.add_argument("--output-name", metavar="NAMES", help="name the output(s), e.g. f or f,g")
    command.add_argument("--rankdir", choices=RANKDIRS, default="LR",
                         help="LR: inputs on the left, values above the edges (default); TB: inputs on top")
    command.add_argument("--dpi", type=int, default=DEFAULT_DPI, metavar="N",
                         help="resolution of a PNG (default %(default)s)")
    command.add_argument("--colors", metavar="PALETTE", help="value and adjoint colours: okabe-ito (default; "
                         "safe for colour-blind readers), cs231n (green and red), or VALUE,ADJOINT (#rrggbb)")

    command = commands.add_parser("stepping", help="an HTML page stepping through the forward and reverse sweep",
                                  description="Write a self-contained HTML page that steps through EXPR's forward "
                                  "and reverse sweep (buttons and arrow keys), Table 3 beside the graph.")
    _add_expression_arguments(command)
    command.add_argument("--out", metavar="FILE", help="write to FILE (default: standard output)")
    command.add_argument("--digits", type=int, default=3, metavar="N", help="decimals shown (default 3)")
    command.add_argument("--output", metavar="NAME", help="step through this output's reverse sweep (needed with "
                         "several outputs)")
    command.add_argument("--output-name", metavar="NAMES", help="name the output(s), e.g. f or f,g")
    command.add_argument("--rankdir", choices=RANKDIRS, default="LR", help="the graph's direction (default LR)")
    command.add_argument("--colors", metavar="PALETTE", help="as for the graph command")

    command = commands.add_parser("steps", help="finite-difference error against the step size",
                                  description="Error of forward and central differences against the symbolic "
                                  "reference for steps 1e-1 … 1e-15: truncation error falls, round-off rises.")
    _add_expression_arguments(command)
    command.add_argument("--wrt", metavar="NAME", help="the variable (default: the first)")
    command.add_argument("--plot", metavar="FILE", help="also draw the log-log plot (.svg or .png; "
                         "needs matplotlib: pip install 'adcompare[plot]')")

    command = commands.add_parser("codegen", help="the compiled sweeps as Python source",
                                  description="Print the straight-line Python that adcompare generates from "
                                  "EXPR's evaluation trace: the primal, the tangent (forward) sweep or the "
                                  "adjoint (reverse) sweep, the backward() a student would write by hand.")
    command.add_argument("expression", metavar="EXPR", help="the expression (- reads standard input)")
    command.add_argument("--mode", choices=("primal", "forward", "reverse"), default="reverse",
                         help="which sweep (default reverse)")
    command.add_argument("--vars", metavar="NAMES", help="variable order (default: natural order of the names)")
    command.add_argument("--merge", action="store_true", help="merge identical subexpressions into one node")

    command = commands.add_parser("lecture", help="regenerate the lecture catalogue's traces",
                                  description="Write each catalogue example's Markdown, LaTeX and beamer traces, its graph (DOT, PNG) and stepping page, "
                                  "and an index, into a folder.")
    command.add_argument("--out", default="traces", metavar="DIR", help="the folder (default: traces)")
    command.add_argument("--check", action="store_true",
                         help="write nothing; exit 1 if the folder is not what would be written")
    return parser


def _options():
    """Every option any command accepts (``--at``, ``-h``, …), and those that take a value."""
    parsers = [build_parser()]
    for action in parsers[0]._actions:
        parsers += list((getattr(action, "choices", None) or {}).values())
    actions = [action for parser in parsers for action in parser._actions]
    every = {option for action in actions for option in action.option_strings}
    with_values = {option for action in actions if action.option_strings and action.nargs != 0
                   for option in action.option_strings}
    return every, with_values


def _join_option_values(argv):
    """Let values start with '-' as users type them.

    '--at -1,2' becomes '--at=-1,2', and an expression that begins with minus signs ('-x^2',
    '--x', which argparse would take for an option) is moved behind '--': a word that begins
    with '-', is no option of adcompare and comes where the expression would (after the
    command, before any other word), and the word after '--' (options may follow it:
    ``trace -- "--x" --at x=1``).
    """
    options, with_values = _options()
    joined, expression, words = [], [], 0
    index = 0
    while index < len(argv):
        item = argv[index]
        if item in with_values and index + 1 < len(argv):
            joined.append(f"{item}={argv[index + 1]}")
            index += 2
            continue
        if item == "--" and not expression and index + 1 < len(argv):
            expression.append(argv[index + 1])
            index += 2
            continue
        if item.startswith("-") and item != "-" and item.split("=", 1)[0] not in options:
            if words == 1 and not expression:    # after the command, where the expression goes
                expression.append(item)
            else:
                joined.append(item)             # argparse's to refuse
        else:
            words += not item.startswith("-") or item == "-"
            joined.append(item)
        index += 1
    return joined + (["--"] + expression if expression else [])


def _error(message, extra=()):
    print(f"adcompare: error: {message}", file=sys.stderr)
    for line in extra:
        print(line, file=sys.stderr)
    return EXIT_BAD_INPUT


def _output_format(args, by_extension, default):
    if args.format is not None:
        return args.format
    if args.out is None:
        return default
    suffix = Path(args.out).suffix.lower()
    if suffix not in by_extension:
        raise UsageError(f"--out: cannot tell the format from {suffix or 'no extension'!r}; "
                         f"give --format (extensions: {' '.join(by_extension)})")
    return by_extension[suffix]


def _emit(args, content):
    """Write text or bytes to --out, or to standard output."""
    if args.out is None:
        if isinstance(content, bytes):
            sys.stdout.buffer.write(content)
        else:
            sys.stdout.write(content)
        return
    try:
        if isinstance(content, bytes):
            Path(args.out).write_bytes(content)
        else:
            Path(args.out).write_text(content, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--out: cannot write {args.out}: {error.strerror}") from None


def read_expression(args):
    """The expression argument, or standard input when it is '-' (how a large one arrives).

    At most one character more than the parser's length limit is read, so a 10 MB input
    is refused at once by the parser's own message.
    """
    if args.expression != "-":
        return args.expression
    cap = 4 * DEFAULT_LIMITS.max_length + 4   # a character is at most 4 bytes
    data = sys.stdin.buffer.read(cap)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        if len(data) < cap:
            raise UsageError("standard input is not text (UTF-8)") from None
        text = data.decode("utf-8", errors="ignore")   # cut mid-character; too long anyway
    return text[:-1] if text.endswith("\n") else text


def _variables(args):
    return None if args.vars is None else [name.strip() for name in args.vars.split(",")]


def _output_names(args):
    return None if args.output_name is None else [name.strip() for name in args.output_name.split(",")]


def _check_digits(args):
    if args.digits < 0 or args.digits > 17:
        raise UsageError("--digits must be between 0 and 17")


def run_trace(args):
    """The ``trace`` command; returns the exit code."""
    _check_digits(args)
    for option in ("rtol", "atol", "fd_rtol", "fd_atol"):
        value = getattr(args, option)
        if not (value >= 0 and value != float("inf")):
            raise UsageError(f"--{option.replace('_', '-')} must be a finite number ≥ 0")
    output_format = _output_format(args, TRACE_FORMATS, "text")
    tolerances = {"forward": Tolerance(args.rtol, args.atol), "reverse": Tolerance(args.rtol, args.atol),
                  "finite_difference": Tolerance(args.fd_rtol, args.fd_atol)}
    if args.jacobian_out is not None:
        if Path(args.jacobian_out).suffix.lower() not in JACOBIAN_FILE_SUFFIXES:
            raise UsageError("--jacobian-out: the file must end in .csv or .npy")
        if "reverse" not in args.methods:
            raise UsageError("--jacobian-out writes reverse mode's Jacobian: include reverse in --methods")
    expression = read_expression(args)
    variables = _variables(args)
    if is_points_file(args.at):
        if args.wrt is not None:
            raise UsageError("--wrt chooses a tangent trace, and a report over many points has no traces")
        return _trace_points_file(args, expression, variables, tolerances, output_format)
    report = trace(expression, parse_point(args.at), variables=variables, methods=args.methods,
                   merge_common=args.merge, fd_method=args.fd_method, tolerances=tolerances,
                   symbolic_budget=args.symbolic_budget, output_names=_output_names(args))
    if args.wrt is not None and args.wrt not in report.graph.variables:
        raise UsageError(f"--wrt: {args.wrt} is not a variable ({', '.join(report.graph.variables)})")
    _emit_report(args, report, output_format)
    return report.comparison.verdict.exit_code


def _emit_report(args, report, output_format):
    from .render import FORMATS
    tables = None if args.table is None else [name for names in args.table for name in names]
    _emit(args, FORMATS[output_format](report, digits=args.digits, wrt=args.wrt, standalone=args.standalone,
                                       tables=tables, columns=args.columns, rows=args.rows))


def _trace_points_file(args, expression, variables, tolerances, output_format):
    """``trace --at FILE``: the file read and traced a chunk of `CHUNK_ROWS` points at a
    time (`trace_point_chunks`), its Jacobian written a chunk at a time: memory is that of
    one chunk, whatever the file's size."""
    chunks = iter_points(args.at)
    names, array, _ = next(chunks)
    at, variables = _points(args.at, names, array, expression, variables, args.merge)
    graph, first = resolve_point(expression, at, variables, args.merge)
    if _output_names(args) is not None:
        graph = name_outputs(graph, _output_names(args))

    def points():
        yield first
        for names, array, _ in chunks:
            at, _ = _points(args.at, names, array, expression, variables, args.merge)
            yield tuple(at[name] for name in graph.variables) if names else tuple(array.T)
    options = dict(methods=args.methods, fd_method=args.fd_method, tolerances=tolerances,
                   symbolic_budget=args.symbolic_budget)
    if args.jacobian_out is None:
        report = trace_point_chunks(graph, points(), **options)
        _emit_report(args, report, output_format)
        return report.comparison.verdict.exit_code
    failed = []
    m, n = len(graph.outputs), graph.n_inputs
    with JacobianWriter(args.jacobian_out, graph) as writer:
        def write(results, count):
            reverse = results.get("reverse")
            if reverse is not None and reverse.jacobian is None:
                failed.append(reverse.error)
            elif not failed:
                writer.add(np.full((m, n, count), np.nan) if reverse is None else reverse.jacobian)
        report = trace_point_chunks(graph, points(), on_chunk=write, **options)
        if failed:
            writer.discard()
    _emit_report(args, report, output_format)
    if failed:
        print(f"adcompare: --jacobian-out: nothing written, reverse mode could not be computed: {failed[0]}",
              file=sys.stderr)
        return EXIT_DISAGREE
    return report.comparison.verdict.exit_code


def _points(path, names, array, expression, variables, merge):
    """A chunk of ``--at FILE``: the points, as a mapping name → column (a file with a
    header) or a 2-D array in variable order, and the variable order."""
    order = variables or list(parse(expression, None, merge).variables)
    if names is None:
        check_columns(path, array, order)
        return array, variables
    return points_by_name(path, names, array, order), order


def run_graph(args):
    """The ``graph`` command: one drawing per output, or the one ``--output`` names."""
    from .render.dot import colours, render_graph, run_graphviz
    from .render.style import output_names
    _check_digits(args)
    if not 10 <= args.dpi <= 2400:
        raise UsageError("--dpi must be between 10 and 2400")
    try:
        colours(args.colors)
    except ValueError as error:
        raise UsageError(f"--colors: {error}") from None
    output_format = _output_format(args, GRAPH_FORMATS, "dot")
    report = trace(read_expression(args), parse_point(args.at), variables=_variables(args), methods=("reverse",),
                   merge_common=args.merge, output_names=_output_names(args))
    names = output_names(report.graph)
    if args.output is not None:
        if args.output not in names:
            raise UsageError(f"--output: {args.output} is not an output ({', '.join(names)})")
        chosen = [names.index(args.output)]
    else:
        chosen = list(range(len(names)))

    def drawing(k):
        dot_text = render_graph(report, args.digits, k, args.rankdir, args.colors)
        return dot_text if output_format == "dot" else run_graphviz(dot_text, output_format, args.dpi)

    if len(chosen) == 1:
        _emit(args, drawing(chosen[0]))
    elif args.out is not None:
        path = Path(args.out)
        for k in chosen:
            args_k = argparse.Namespace(**{**vars(args), "out": str(path.with_name(f"{path.stem}-{names[k]}"
                                                                                     f"{path.suffix}"))})
            _emit(args_k, drawing(k))
            print(args_k.out)
    elif output_format == "dot":
        _emit(args, "".join(drawing(k) for k in chosen))
    else:
        raise UsageError(f"{len(names)} outputs ({', '.join(names)}): choose one with --output NAME, or give "
                         "--out FILE for one file per output")
    return EXIT_AGREE


def _chosen_output(args, graph):
    """The output ``--output`` names (the only one when there is one)."""
    from .render.style import output_names
    names = output_names(graph)
    if args.output is None:
        if len(names) > 1:
            raise UsageError(f"{len(names)} outputs ({', '.join(names)}): choose one with --output NAME")
        return 0
    if args.output not in names:
        raise UsageError(f"--output: {args.output} is not an output ({', '.join(names)})")
    return names.index(args.output)


def run_stepping(args):
    """The ``stepping`` command."""
    from .render.dot import colours
    from .render.stepping import stepping_page
    _check_digits(args)
    try:
        colours(args.colors)
    except ValueError as error:
        raise UsageError(f"--colors: {error}") from None
    report = trace(read_expression(args), parse_point(args.at), variables=_variables(args), methods=("reverse",),
                   merge_common=args.merge, output_names=_output_names(args))
    _emit(args, stepping_page(report, args.digits, _chosen_output(args, report.graph), args.rankdir, args.colors))
    return EXIT_AGREE


def run_steps(args):
    """The ``steps`` command."""
    from .render.steps import render_step_study
    from .studies import step_study
    graph, point = resolve_point(read_expression(args), parse_point(args.at), _variables(args), args.merge)
    if not graph.variables:
        raise UsageError("the expression has no variable to differentiate")
    if args.wrt is not None and args.wrt not in graph.variables:
        raise UsageError(f"--wrt: {args.wrt} is not a variable ({', '.join(graph.variables)})")
    variable = graph.variables.index(args.wrt) if args.wrt else 0
    study = step_study(graph, point, variable)
    sys.stdout.write(render_step_study(study, graph, point))
    if args.plot is not None:
        from .render.plot import plot_step_study
        plot_step_study(study, graph, args.plot)
    return EXIT_AGREE


def run_codegen(args):
    """The ``codegen`` command."""
    from .codegen import module_source
    from .parse import parse
    graph = parse(read_expression(args), _variables(args), args.merge)
    sys.stdout.write(module_source(graph, args.mode))
    return EXIT_AGREE


def _lecture_folder(text, creating):
    """``lecture --out``: a folder (or, when writing, one to create in an existing folder)."""
    folder = Path(text)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out: {text} is a file, not a folder")
    if creating and not folder.exists() and not folder.parent.is_dir():
        raise UsageError(f"--out: cannot create {text}: its parent folder {folder.parent} does not exist")
    return folder


def run_lecture(args):
    """The ``lecture`` command."""
    from .lecture import check_catalogue, write_catalogue
    folder = _lecture_folder(args.out, creating=not args.check)
    if args.check:
        stale = check_catalogue(folder)
        for name in stale:
            print(f"out of date: {folder / name}", file=sys.stderr)
        if stale:
            print(f"adcompare: {len(stale)} file(s) in {folder} are out of date; run: adcompare lecture "
                  f"--out {folder}", file=sys.stderr)
        return EXIT_DISAGREE if stale else EXIT_AGREE
    try:
        written = write_catalogue(folder)
    except OSError as error:
        raise UsageError(f"--out: cannot write into {folder}: {error.strerror}") from None
    for path in written:
        print(path)
    return EXIT_AGREE


COMMANDS = {"trace": run_trace, "graph": run_graph, "stepping": run_stepping, "steps": run_steps, "codegen": run_codegen,
            "lecture": run_lecture}


def main(argv=None):
    """Entry point of the ``adcompare`` command; returns the exit code."""
    # What the imports made (sympy's 10⁵ objects) lives as long as the process: out of the
    # cyclic garbage collector's sight, its passes scan only what the command makes.
    gc.freeze()
    argv = _join_option_values(sys.argv[1:] if argv is None else list(argv))
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_BAD_INPUT
        # Values are checked where they are computed, and a problem is one line of ours: no
        # library's floating-point warning reaches the user.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return COMMANDS[args.command](args)
    except UsageError as error:
        return _error(f"{error} (see adcompare {argv[0] if argv else ''} --help)".replace("  ", " "))
    except ParseError as error:
        return _error(str(error), error.caret_lines())
    except DomainError as error:
        where = ""
        if error.node is not None and error.graph is not None:
            from .render.text import describe_slot
            where = describe_slot(error.graph, error.node) + ": "
        at_point = f"{error.at_point}: " if error.at_point else ""
        return _error(f"{at_point}{where}{error.message}")
    except AdcompareError as error:
        return _error(str(error))


if __name__ == "__main__":
    sys.exit(main())

"""The command line: argument handling only; the mathematics lives in the package.

    adcompare trace EXPR --at VALUES [--vars x1,x2] [--wrt x1] [--digits N]
                    [--methods finite_difference,symbolic,forward,reverse]
                    [--format text|json] [--rtol R] [--atol A] [--fd-rtol R] [--fd-atol A]
                    [--fd-scheme central|forward] [--merge]

Exit codes: 0 when every method ran and all agree, 1 when they do not (a mismatch, a
method that could not run, or a kink), 2 for bad input.
"""

import argparse
import re
import sys

from . import __version__
from .backends import METHODS
from .compare import DEFAULT_TOLERANCES, Tolerance
from .errors import AdcompareError, DomainError, ParseError
from .render import json as json_render
from .render import text as text_render
from .report import trace

EXIT_AGREE, EXIT_DISAGREE, EXIT_BAD_INPUT = 0, 1, 2
METHOD_ALIASES = {"fd": "finite_difference", "finite-difference": "finite_difference", "sym": "symbolic",
                  "symbolic": "symbolic", "forward": "forward", "reverse": "reverse",
                  "finite_difference": "finite_difference"}
OPTIONS_WITH_VALUES = ("--at", "--vars", "--wrt", "--digits", "--methods", "--format", "--rtol", "--atol",
                       "--fd-rtol", "--fd-atol", "--fd-scheme")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


class UsageError(Exception):
    """A command-line usage problem (exit 2, one line)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parse_point(text):
    """``--at`` text: '2,5' → [2.0, 5.0]; 'x1=2,x2=5' → {'x1': 2.0, 'x2': 5.0}."""
    items = [item.strip() for item in text.split(",")]
    if any(item == "" for item in items):
        raise UsageError(f"--at: empty value in {text!r} (write e.g. --at 2,5 or --at x1=2,x2=5)")
    named = ["=" in item for item in items]
    if any(named) and not all(named):
        raise UsageError("--at: give all values by name (x1=2,x2=5) or none (2,5)")
    pairs = [item.split("=", 1) if "=" in item else (None, item) for item in items]
    for name, value in pairs:
        if not re.fullmatch(_NUMBER, value.strip()):
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


def _methods(text):
    chosen = []
    for item in text.split(","):
        name = METHOD_ALIASES.get(item.strip())
        if name is None:
            raise UsageError(f"--methods: unknown method {item.strip()!r} "
                             f"(choose from {', '.join(METHODS)} or fd, sym)")
        chosen.append(name)
    return tuple(chosen)


def build_parser():
    """The argparse parser for the ``adcompare`` command."""
    parser = _Parser(prog="adcompare", description="Derivatives four ways, cross-checked, "
                     "with Baydin-style evaluation traces.")
    parser.add_argument("--version", action="version", version=f"adcompare {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    command = commands.add_parser("trace", help="evaluation traces and the four-way cross-check",
                                  description="Print the primal, tangent and adjoint traces of EXPR at a "
                                  "point, then compare finite differences, symbolic, forward and reverse mode.")
    command.add_argument("expression", metavar="EXPR", help='e.g. "ln(x1)+x1*x2-sin(x2)"; several outputs '
                         "separated by commas")
    command.add_argument("--at", required=True, metavar="VALUES",
                         help="the point: 2,5 or x1=2,x2=5 (negative values as typed: --at -1,2)")
    command.add_argument("--vars", metavar="NAMES", help="variable order, e.g. x2,x1 (default: the order in "
                         "--at name=value, else natural order of the names)")
    command.add_argument("--wrt", metavar="NAME", help="show the forward tangent trace for this variable only")
    command.add_argument("--digits", type=int, default=3, metavar="N",
                         help="decimals shown in traces (display only; default 3)")
    command.add_argument("--methods", type=_methods, default=METHODS, metavar="LIST",
                         help="comma-separated subset of " + ",".join(METHODS))
    command.add_argument("--format", choices=("text", "json"), default="text")
    command.add_argument("--rtol", type=float, default=DEFAULT_TOLERANCES["forward"].rtol,
                         help="relative tolerance for forward and reverse mode (default %(default)g)")
    command.add_argument("--atol", type=float, default=DEFAULT_TOLERANCES["forward"].atol,
                         help="absolute tolerance for forward and reverse mode (default %(default)g)")
    command.add_argument("--fd-rtol", type=float, default=DEFAULT_TOLERANCES["finite_difference"].rtol,
                         help="relative tolerance for finite differences (default %(default)g)")
    command.add_argument("--fd-atol", type=float, default=DEFAULT_TOLERANCES["finite_difference"].atol,
                         help="absolute tolerance for finite differences (default %(default)g)")
    command.add_argument("--fd-scheme", choices=("central", "forward"), default="central",
                         help="finite-difference stencil (default central)")
    command.add_argument("--merge", action="store_true", help="merge identical subexpressions into one node")
    return parser


def _join_option_values(argv):
    """Let values start with '-' as users type them.

    '--at -1,2' becomes '--at=-1,2', and an expression such as '-x^2' (which argparse
    would take for an option) is moved behind '--'.
    """
    joined = []
    expression = []
    index = 0
    while index < len(argv):
        item = argv[index]
        if item in OPTIONS_WITH_VALUES and index + 1 < len(argv):
            joined.append(f"{item}={argv[index + 1]}")
            index += 2
            continue
        if item == "--":
            expression.extend(argv[index + 1:])
            break
        if item.startswith("-") and not item.startswith("--") and item != "-h" and not expression:
            expression.append(item)
        else:
            joined.append(item)
        index += 1
    return joined + (["--"] + expression if expression else [])


def _error(message, extra=()):
    print(f"adcompare: error: {message}", file=sys.stderr)
    for line in extra:
        print(line, file=sys.stderr)
    return EXIT_BAD_INPUT


def run_trace(args):
    """The ``trace`` command; returns the exit code."""
    if args.digits < 0 or args.digits > 17:
        raise UsageError("--digits must be between 0 and 17")
    for option in ("rtol", "atol", "fd_rtol", "fd_atol"):
        value = getattr(args, option)
        if not (value >= 0 and value != float("inf")):
            raise UsageError(f"--{option.replace('_', '-')} must be a finite number ≥ 0")
    variables = None
    if args.vars is not None:
        variables = [name.strip() for name in args.vars.split(",")]
    point = parse_point(args.at)
    tolerances = {"forward": Tolerance(args.rtol, args.atol), "reverse": Tolerance(args.rtol, args.atol),
                  "finite_difference": Tolerance(args.fd_rtol, args.fd_atol)}
    report = trace(args.expression, point, variables=variables, methods=args.methods,
                   merge_common=args.merge, fd_scheme=args.fd_scheme, tolerances=tolerances)
    if args.wrt is not None and args.wrt not in report.graph.variables:
        raise UsageError(f"--wrt: {args.wrt} is not a variable ({', '.join(report.graph.variables)})")
    if args.format == "json":
        sys.stdout.write(json_render.render_report(report))
    else:
        sys.stdout.write(text_render.render_report(report, digits=args.digits, wrt=args.wrt))
    return EXIT_AGREE if report.agree else EXIT_DISAGREE


def main(argv=None):
    """Entry point of the ``adcompare`` command; returns the exit code."""
    argv = _join_option_values(sys.argv[1:] if argv is None else list(argv))
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_BAD_INPUT
        return run_trace(args)
    except UsageError as error:
        return _error(f"{error} (see adcompare trace --help)")
    except ParseError as error:
        return _error(str(error), error.caret_lines())
    except DomainError as error:
        where = ""
        if error.node is not None and error.graph is not None:
            where = text_render.describe_slot(error.graph, error.node) + ": "
        return _error(f"{where}{error}")
    except AdcompareError as error:
        return _error(str(error))


if __name__ == "__main__":
    sys.exit(main())

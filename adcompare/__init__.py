"""adcompare: derivatives of one function four independent ways, cross-checked and shown as
Baydin-style evaluation traces.

    >>> import adcompare
    >>> report = adcompare.trace("ln(x1) + x1*x2 - sin(x2)", at=(2, 5))
    >>> report.agree
    True
"""

from .errors import AdcompareError, DomainError, InputError, ParseError
from .graph import Const, Graph, Node, evaluate
from .parse import Limits, parse
from .report import PointsReport, Report, trace, trace_graph

__all__ = ["AdcompareError", "CompiledGraph", "Const", "DomainError", "GradcheckError", "GradcheckReport", "Graph", "InputError",
           "Limits", "Node", "ParseError", "PointsReport", "Report", "TracedFunction", "TracingError", "check_layer", "compile_graph", "evaluate",
           "functions", "gradcheck", "parse", "trace", "trace_function", "trace_graph"]
__version__ = "0.1.0"

# Gradient checks of Python code and the compiled sweeps load on first use: the command
# line's trace never needs them.
_LAZY = {"CompiledGraph": "codegen", "compile_graph": "codegen",
         "GradcheckError": "gradient_check", "GradcheckReport": "findings", "check_layer": "layer_check",
         "gradcheck": "gradient_check", "TracedFunction": "tracing", "TracingError": "tracing",
         "functions": "tracing", "trace_function": "tracing"}


def __getattr__(name):
    """The gradcheck, tracing and codegen names, imported when first asked for."""
    if name not in _LAZY:
        raise AttributeError(f"module 'adcompare' has no attribute {name!r}")
    from importlib import import_module
    value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_LAZY])

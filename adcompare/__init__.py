"""adcompare: derivatives of one function four independent ways, cross-checked and shown as
Baydin-style evaluation traces.

    >>> import adcompare
    >>> report = adcompare.trace("ln(x1) + x1*x2 - sin(x2)", at=(2, 5))
    >>> report.agree
    True
"""

from .errors import AdcompareError, DomainError, InputError, ParseError
from .gradcheck import GradcheckError, GradcheckReport, check_layer, gradcheck
from .graph import Const, Graph, Node, evaluate
from .parse import Limits, parse
from .report import PointsReport, Report, trace, trace_graph
from .tracing import TracedFunction, TracingError, functions, trace_function

__all__ = ["AdcompareError", "Const", "DomainError", "GradcheckError", "GradcheckReport", "Graph", "InputError",
           "Limits", "Node", "ParseError", "PointsReport", "Report", "TracedFunction", "TracingError", "check_layer", "evaluate",
           "functions", "gradcheck", "parse", "trace", "trace_function", "trace_graph"]
__version__ = "0.1.0"

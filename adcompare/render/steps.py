"""The finite-difference step study as a text table, the best step of each scheme marked."""

from tabulate import tabulate

from .common import reference_text
from .style import full_precision


def _error(value):
    return "outside the domain" if value is None else ("0" if value == 0 else f"{value:.2e}")


def render_step_study(study, graph, point):
    """The study as text: one row per step, errors against the reference, best steps marked."""
    best = {scheme: study.best(scheme).step for scheme in ("forward", "central")}
    rows = []
    for row in study.rows:
        rows.append([f"{row.step:.0e}",
                     "" if row.forward is None else full_precision(row.forward), _error(row.forward_error),
                     "◀ best" if row.step == best["forward"] else "",
                     "" if row.central is None else full_precision(row.central), _error(row.central_error),
                     "◀ best" if row.step == best["central"] else ""])
    name = graph.variables[study.variable]
    at = ", ".join(f"{n} = {full_precision(x)}" for n, x in zip(graph.variables, point))
    lines = [f"Finite-difference step study of ∂/∂{name} of {graph.source} at {at}",
             f"reference ({study.reference_method}): {reference_text(study.reference, study.reference_method)}",
             "",
             tabulate(rows, headers=["h", "forward difference", "error", "", "central difference", "error", ""],
                      tablefmt="simple", disable_numparse=True),
             "",
             "Forward differences lose O(h) to truncation, central O(h²); both lose O(ε/h) to round-off,",
             "so the error falls with h, then rises: the best step is near ε^(1/2) (forward) and ε^(1/3) (central)."]
    return "\n".join(lines) + "\n"

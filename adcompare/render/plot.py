"""The step study as the classic V-shaped log-log plot (needs matplotlib: the ``plot`` extra)."""

from ..errors import AdcompareError


def plot_step_study(study, graph, path):
    """Write the error-versus-step plot of ``study`` to ``path`` (.svg, .png or .pdf)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise AdcompareError("--plot needs matplotlib, which is not installed: "
                             "pip install 'adcompare[plot]'") from None
    figure, axes = plt.subplots(figsize=(6, 4.2))
    for scheme, marker in (("forward", "o"), ("central", "s")):
        points = [(r.step, getattr(r, f"{scheme}_error")) for r in study.rows
                  if getattr(r, f"{scheme}_error") not in (None, 0.0)]
        axes.loglog([p[0] for p in points], [p[1] for p in points], marker=marker, label=f"{scheme} difference")
        best = study.best(scheme)
        axes.annotate("best", (best.step, max(getattr(best, f"{scheme}_error"), 1e-300)),
                      textcoords="offset points", xytext=(0, -14), ha="center", fontsize=8)
    axes.set_xlabel("step h")
    axes.set_ylabel(f"absolute error against the {study.reference_method} reference")
    axes.set_title(f"∂/∂{graph.variables[study.variable]} of {graph.source}", fontsize=10)
    axes.grid(True, which="major", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)

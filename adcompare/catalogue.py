"""The lecture catalogue: classic worked examples of automatic differentiation, with their
sources. ``adcompare lecture`` regenerates each one's Markdown, LaTeX and DOT into
``traces/``.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    """One catalogue entry: a file-name key, the expression, the point, what it is, where it is from."""

    key: str
    expression: str
    point: tuple          # (name, value) pairs, in variable order
    title: str
    source: str


CATALOGUE = (
    Example("baydin", "ln(x1)+x1*x2-sin(x2)", (("x1", 2), ("x2", 5)),
            "Baydin's worked example of forward and reverse mode",
            "A. G. Baydin et al., Automatic differentiation in machine learning: a survey, JMLR 18(153), 2018, "
            "Tables 2 and 3"),
    Example("cs231n-circuit", "(x+y)*z", (("x", -2), ("y", 5), ("z", -4)),
            "The first backpropagation circuit: q = x + y, f = q z",
            "Stanford CS231n, Backpropagation (lecture 4 and its 2023 section notes)"),
    Example("cs231n-sigmoid-neuron", "1/(1+exp(-(w0*x0+w1*x1+w2)))",
            (("w0", 2), ("x0", -1), ("w1", -3), ("x1", -2), ("w2", -3)),
            "A 2-D sigmoid neuron, gate by gate (f = 0.73)",
            "Stanford CS231n, Backpropagation, intuitions (the sigmoid example)"),
    Example("apples-and-watermelon", "(apple*apples+watermelon*watermelons)*tax",
            (("apple", 10), ("apples", 2), ("watermelon", 30), ("watermelons", 1), ("tax", 1.05)),
            "Shopping as a computational graph: 2 apples at 10 and a watermelon at 30, plus 5% tax",
            "F. Steen and X. You, Deep Learning Basics 3: Backpropagation, Red Hen Lab, 2019"),
    Example("square-of-sum", "(x+y)^2", (("x", 1), ("y", 2)),
            "The chain rule: f = g², g = x + y",
            "F. Steen and X. You, Deep Learning Basics 3: Backpropagation, Red Hen Lab, 2019"),
    Example("logistic-loss", "ln(1+exp(-y*(w1*x1+w2*x2+b)))",
            (("w1", 0.5), ("w2", -0.3), ("b", 0.1), ("x1", 1.5), ("x2", 2), ("y", 1)),
            "Logistic-regression loss of one example, label y = ±1",
            "M. Soleymani, Multi-Layer Networks & Back-Propagation, Sharif University of Technology, 2024"),
    Example("softplus-unit", "softplus(w*x+b)", (("w", 2), ("x", -0.5), ("b", 0.3)),
            "A softplus unit, the smooth ReLU: softplus′ = σ",
            "I. Goodfellow, Y. Bengio, A. Courville, Deep Learning, section 6.3.3"),
    Example("tanh-neuron", "tanh(x1*w1+x2*w2+b)",
            (("x1", 2), ("x2", 0), ("w1", -3), ("w2", 1), ("b", 6.8813735870195432)),
            "A tanh neuron with output 0.7071, as built by hand in micrograd",
            "A. Karpathy, The spelled-out intro to neural networks and backpropagation: building micrograd, 2022"),
    Example("relu-squared-error", "(relu(w*x+b)-t)^2", (("w", 0.8), ("x", 1.5), ("b", -0.2), ("t", 2)),
            "Squared error of a ReLU unit",
            "Roarke Horstmeyer, BME 590L Lecture 10: Backpropagation (the ReLU network loss)"),
    Example("jacobian-two-outputs", "x1*x2, sin(x1)", (("x1", 1), ("x2", 2)),
            "A Jacobian: forward mode needs n = 2 sweeps, reverse mode m = 2",
            "Baydin et al. 2018, section 3.2 (the cost of forward and reverse mode)"),
)

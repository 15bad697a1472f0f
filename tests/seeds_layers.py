"""The seeds' hand-written layers, copied faithfully, and versions with one realistic bug each.

Sources (shared/seeds):

- 004, Steen & You, "Deep Learning Basics 3: Backpropagation" (Red Hen Lab, 2019):
  ``AddLayer``, ``MulLayer``, ``Relu``, ``Sigmoid``;
- 001, Soleymani, "Multi-Layer Networks & Back-Propagation" (Sharif, 2024, after
  cs231n): ``MultiplyGate`` and the vectorized example f(x, W) = ‖W·x‖²;
- 002, Durante, "Backpropagation" (cs231n section, 2023): the two-layer ``Classifier``.

Deviations from the slides, each forced by the slides not running as printed:

- ``MultiplyGate``'s methods take ``self`` (the slide's pseudo code omits it and uses it);
- ``Relu.__init__`` is spelled with its underscores (lost in the slide's extraction);
- ``sigmoid``, ``get_weights`` and ``cross_entropy`` are called but not shown by the
  slides; they are written here as the slides define them (σ(x) = 1 / (1 + e⁻ˣ), as in
  002's ``Neuron``; L = −[y ln ŷ + (1 − y) ln(1 − ŷ)], summed over samples as ``backward``
  sums its gradients);
- 002 writes W₂ ∈ R^{2×100}, but its code needs W₂ of shape (100, 1): ``h @ w2`` with
  h of shape (N, 100), and ``w2.T * (N, 1)`` in ``backward``.

The classes below are otherwise the slides' code, line for line. The bug versions are
subclasses overriding one method, with the one changed line marked ``# BUG``.
"""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---- seed 004 ----------------------------------------------------------------------

class AddLayer:
    def __init__(self):
        pass
    def forward(self, x, y):
        out = x + y
        return out
    def backward(self, dout):
        dx = dout * 1
        dy = dout * 1
        return dx, dy


class MulLayer:
    def __init__(self):
        self.x = None
        self.y = None
    def forward(self, x, y):
        self.x = x
        self.y = y
        out = x * y
        return out
    def backward(self, dout):
        dx = dout * self.y
        dy = dout * self.x
        return dx, dy


class Relu:
    def __init__(self):
        self.mask = None
    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out
    def backward(self, dout):
        dout[self.mask] = 0
        dx = dout
        return dx


class Sigmoid:
    def __init__(self):
        self.out = None
    def forward(self, x):
        out = sigmoid(x)
        self.out = out
        return out
    def backward(self, dout):
        dx = dout * (1.0 - self.out) * self.out
        return dx


# ---- seed 001 ----------------------------------------------------------------------

class MultiplyGate(object):
    def forward(self, x, y):
        z = x*y
        self.x = x # must keep these around!
        self.y = y
        return z
    def backward(self, dz):
        dx = self.y * dz # [dz/dx * dL/dz]
        dy = self.x * dz # [dz/dy * dL/dz]
        return [dx, dy]


# f(x, W) = ‖W·x‖², with the slide's numbers: W = [[0.1, 0.5], [−0.3, 0.8]], x = [0.2, 0.4].
# By hand (the slide's own values): q = W x = [0.22, 0.26], f = 0.22² + 0.26² = 0.116,
# ∇ₓf = 2 Wᵀq = [−0.112, 0.636], ∇_W f = 2 q xᵀ = [[0.088, 0.176], [0.104, 0.208]].
SLIDE_W = np.array([[0.1, 0.5], [-0.3, 0.8]])
SLIDE_X = np.array([0.2, 0.4])


def squared_norm_of_product(x, W):
    q = W.dot(x)
    return np.sum(q ** 2)


def squared_norm_gradient(x, W):
    q = W.dot(x)
    return 2 * W.T.dot(q), 2 * np.outer(q, x)


# ---- seed 002 ----------------------------------------------------------------------

def get_weights(seed=2023):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0, size=(2, 100)), rng.normal(0.0, 0.3, size=(100, 1))


def cross_entropy(y_pred, y):
    return -np.sum(y * np.log(y_pred) + (1 - y) * np.log(1 - y_pred))


class Classifier():
    def __init__(self):
        self.w1, self.w2 = get_weights()

    def forward(self, x):
        self.x = x
        z1 = self.x @ self.w1
        self.h = sigmoid(z1)
        z2 = self.h @ self.w2
        y_pred = sigmoid(z2)
        return y_pred

    def backward(self, y_pred, y):
        grad_y_pred = -(np.divide(y, y_pred) - np.divide(1-y, 1-y_pred))
        grad_w2 = self.h.T @ (y_pred * (1-y_pred) * grad_y_pred)
        grad_h = self.w2.T * (grad_y_pred * y_pred * (1-y_pred))
        grad_w1 = self.x.T @ (self.h * (1-self.h) * grad_h)

        # Update parameters
        self.w1 -= 1e-4 * grad_w1
        self.w2 -= 1e-4 * grad_w2


def classifier_loss(classifier_class, x, y):
    """L(w1, w2): the classifier's cross-entropy on (x, y) with the given weights."""
    def loss(w1, w2):
        classifier = classifier_class()
        classifier.w1, classifier.w2 = w1, w2
        return cross_entropy(classifier.forward(x), y)
    return loss


def classifier_gradient(classifier_class, x, y):
    """(∂L/∂w1, ∂L/∂w2) as the class's own ``backward`` computes them.

    ``backward`` returns nothing: it applies w ← w − 10⁻⁴·grad. The gradient is read back
    from that step, grad = (w_before − w_after) / 10⁻⁴. The subtraction of two nearby
    floats is exact; w_after carries one rounding, ≤ ½ ulp(w) ≈ 10⁻¹⁶·|w|, so the
    recovered gradient is within about 10⁻¹²·|w| of the one ``backward`` computed, far
    inside gradcheck's tolerance (10⁻⁷ relative + 10⁻⁹).
    """
    def gradient(w1, w2):
        classifier = classifier_class()
        classifier.w1, classifier.w2 = w1.copy(), w2.copy()
        y_pred = classifier.forward(x)
        classifier.backward(y_pred, y)
        return (w1 - classifier.w1) / 1e-4, (w2 - classifier.w2) / 1e-4
    return gradient


# ---- one realistic bug each ---------------------------------------------------------

class SigmoidMissingFactor(Sigmoid):
    def backward(self, dout):
        dx = dout * self.out  # BUG: the factor (1 − σ) is missing
        return dx


class MulLayerUnswapped(MulLayer):
    def backward(self, dout):
        dx = dout * self.x  # BUG: the "swap multiplier" not swapped
        dy = dout * self.x
        return dx, dy


class ReluWithoutMask(Relu):
    def backward(self, dout):
        dx = dout  # BUG: the mask is not applied
        return dx


class ReluStrictMask(Relu):
    """Not a bug: masks x < 0 instead of x ≤ 0, so relu′(0) = 1 rather than 0. Both are
    subgradients at the kink."""

    def forward(self, x):
        self.mask = (x < 0)
        out = x.copy()
        out[self.mask] = 0
        return out


def squared_norm_gradient_transposed(x, W):
    q = W.dot(x)
    return 2 * W.dot(q), 2 * np.outer(q, x)  # BUG: W where Wᵀ is needed


class ClassifierMissingFactor(Classifier):
    def backward(self, y_pred, y):
        grad_y_pred = -(np.divide(y, y_pred) - np.divide(1-y, 1-y_pred))
        grad_w2 = self.h.T @ (y_pred * (1-y_pred) * grad_y_pred)
        grad_h = self.w2.T * (grad_y_pred * y_pred * (1-y_pred))
        grad_w1 = self.x.T @ (self.h * grad_h)  # BUG: the factor (1 − h) is missing

        # Update parameters
        self.w1 -= 1e-4 * grad_w1
        self.w2 -= 1e-4 * grad_w2


class ClassifierWrongSign(Classifier):
    def backward(self, y_pred, y):
        grad_y_pred = (np.divide(y, y_pred) - np.divide(1-y, 1-y_pred))  # BUG: the leading minus is dropped
        grad_w2 = self.h.T @ (y_pred * (1-y_pred) * grad_y_pred)
        grad_h = self.w2.T * (grad_y_pred * y_pred * (1-y_pred))
        grad_w1 = self.x.T @ (self.h * (1-self.h) * grad_h)

        # Update parameters
        self.w1 -= 1e-4 * grad_w1
        self.w2 -= 1e-4 * grad_w2

"""Code the tracer cannot follow: np.linalg.norm in an L2 term, as many students write it.
CS231n softmax_loss (published) plus reg * np.linalg.norm(W)**2 over a linear classifier."""
import time, numpy as np
from adcompare import gradcheck
from load import load
L = load("cs231n_layers")
rng = np.random.default_rng(5)
X = rng.normal(size=(20, 8)); y = rng.integers(5, size=20); W = 0.01 * rng.normal(size=(8, 5)); reg = 0.1

def loss(W):
    scores = X.dot(W)
    data_loss, _ = L.softmax_loss(scores, y)
    return data_loss + reg * np.linalg.norm(W) ** 2

def grad(W):
    _, dscores = L.softmax_loss(X.dot(W), y)
    return X.T.dot(dscores) + 2 * reg * W

def grad_bug(W):
    _, dscores = L.softmax_loss(X.dot(W), y)
    g = X.T.dot(dscores) + reg * W          # BUG: missing factor 2 in the L2 term
    return g

for g in (grad, grad_bug):
    t = time.perf_counter()
    try:
        print(gradcheck(loss, W, grad=g))
    except AssertionError as e:
        print(f"{type(e).__name__}: {e}")
    print(f"-- {g.__name__}: {time.perf_counter() - t:.2f} s\n")

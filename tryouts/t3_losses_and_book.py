"""gradcheck on the published loss functions (softmax 50x10, SVM), and check_layer on the
book's classes with parameters, correct and with a bug."""
import time, os, sys, numpy as np
from adcompare import gradcheck, check_layer
from load import load, rel_error

rng = np.random.default_rng(1)
L = load("cs231n_layers")
S = load("svm_snippet")
R = load("rnn_layers")
import common.layers as B  # the book's classes (thirdparty/dlfs/common)


def run(name, thunk):
    t = time.perf_counter()
    try:
        out = str(thunk())
        out = "\n".join(out.splitlines()[:1] + [l for l in out.splitlines() if "close" in l or "Note" in l][:3])
    except Exception as e:
        out = f"{type(e).__name__}: {str(e)[:2500]}"
    print(f"== {name}: {time.perf_counter() - t:.2f} s\n{out}\n", flush=True)


x = 0.001 * rng.normal(size=(50, 10)); y = rng.integers(10, size=50)
run("cs231n softmax_loss 50x10 (eps guard 1e-7)",
    lambda: gradcheck(lambda x, y: L.softmax_loss(x, y)[0], x, y, grad=lambda x, y: L.softmax_loss(x, y)[1]))
Lb = load("cs231n_layers", ("dx = dx / num_x", "dx = dx"))
run("cs231n softmax_loss, bug: no /N",
    lambda: gradcheck(lambda x, y: Lb.softmax_loss(x, y)[0], x, y, grad=lambda x, y: Lb.softmax_loss(x, y)[1]))

W = 0.01 * rng.normal(size=(20, 10)); X = rng.normal(size=(50, 20)); yy = rng.integers(10, size=50)
run("svm_loss_vectorized W 20x10, X 50x20 (float32 indicator in the gradient)",
    lambda: gradcheck(lambda W: S.svm_loss_vectorized(W, X, yy, 0.0)[0], W, grad=lambda W: S.svm_loss_vectorized(W, X, yy, 0.0)[1]))
Sb = load("svm_snippet", ("indicator[np.arange(num_train), y] = -indicator_sums", "indicator[np.arange(num_train), y] = indicator_sums"))
run("svm_loss_vectorized, bug: + instead of - at the correct class",
    lambda: gradcheck(lambda W: Sb.svm_loss_vectorized(W, X, yy, 0.0)[0], W, grad=lambda W: Sb.svm_loss_vectorized(W, X, yy, 0.0)[1]))

# temporal softmax as in the notebook's check: N, T, V = 7, 8, 9
xt = 0.1 * rng.normal(size=(7, 8, 9)); yt = rng.integers(9, size=(7, 8)); mask = rng.random((7, 8)) > 0.5
run("temporal_softmax_loss 7x8x9",
    lambda: gradcheck(lambda x, y, m: R.temporal_softmax_loss(x, y, m)[0], xt, yt, mask,
                      grad=lambda x, y, m: R.temporal_softmax_loss(x, y, m)[1]))

# The book's classes with parameters
A = B.Affine(rng.normal(size=(6, 6)), rng.normal(size=6))
run("book Affine (params W, b)", lambda: check_layer(A, rng.normal(size=(4, 6)), params=("W", "b")))
class AffineBug(B.Affine):
    def backward(self, dout):
        dx = super().backward(dout); self.dW = self.dW.T; return dx
run("book Affine, bug: dW transposed", lambda: check_layer(AffineBug(rng.normal(size=(6, 6)), rng.normal(size=6)), rng.normal(size=(4, 6)), params=("W", "b")))
run("book SoftmaxWithLoss (no eps in this fork)", lambda: check_layer(B.SoftmaxWithLoss(), rng.normal(size=(5, 4)), np.array([0, 3, 1, 2, 2])))
run("book Relu at exact zeros", lambda: check_layer(B.Relu(), np.array([[-1.0, 0.0, 2.0], [0.0, 3.0, -0.5]])))
run("book BatchNormalization", lambda: check_layer(B.BatchNormalization(rng.normal(size=5), rng.normal(size=5)), rng.normal(size=(4, 5)), params=("gamma", "beta")))
run("book Convolution im2col 4x3x5x5, W 2x3x3x3 pad 1", lambda: check_layer(B.Convolution(rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2), 1, 1), rng.normal(size=(4, 3, 5, 5)), params=("W", "b")))
xp = rng.normal(size=(2, 2, 4, 4)); xp[0, 0, 0, 0] = xp[0, 0, 0, 1] = 5.0  # a tie inside one window
run("book Pooling 2x2 with a max tie", lambda: check_layer(B.Pooling(2, 2, 2), xp))
run("cs231n max_pool_naive with a max tie", lambda: check_layer((L.max_pool_forward_naive, L.max_pool_backward_naive), xp, {"pool_width": 2, "pool_height": 2, "stride": 2}))
run("book Dropout train", lambda: check_layer(B.Dropout(0.5), rng.normal(size=(4, 5))))

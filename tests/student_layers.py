"""Nineteen layers as students write them, each with its correct backward and two
realistic bugs: the set of issue 13, written here in our own words.

Two styles:

- the CS231n assignments' functions: ``layer_forward(*inputs) -> (out, cache)`` and
  ``layer_backward(dout, cache) -> gradients of the inputs``; losses
  ``loss(x, y) -> (loss, dx)``. Loops over preallocated ``np.zeros`` arrays (naive conv,
  naive max-pool, the RNN over time) and running statistics in a shared ``bn_param`` dict
  are written as students write them;
- the book "Deep Learning from Scratch" (Saitoh): classes keeping ``self.W``, ``self.b``,
  writing ``self.dW``, ``self.db`` in ``backward(dout)``; ``SoftmaxWithLoss.backward(dout=1)``
  ignores ``dout``; ``im2col``/``col2im`` fill preallocated arrays; ``BatchNormalization``
  keeps running statistics on itself.

Each bug is one changed line, marked ``# BUG`` (where a correct and a buggy version
share the rest, one function with a ``bug`` argument holds both). `CASES` lists every case with a builder
of its inputs at two sizes: "test" (small, for the test suite) and "assignment" (the
sizes the assignments' own gradient checks use, for benchmarks/gradcheck_layers.py).
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---- 1. affine ------------------------------------------------------------------------

def affine_forward(x, w, b):
    x_rows = x.reshape(x.shape[0], -1)
    out = x_rows.dot(w) + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def affine_backward_mean_bias(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.mean(dout, axis=0)                            # BUG: the bias gradient averaged, not summed
    return dx, dw, db


def affine_backward_scrambled_rows(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(-1, x.shape[0]).dot(dout)              # BUG: x reshaped (D, N): its entries scrambled
    db = np.sum(dout, axis=0)
    return dx, dw, db


# ---- 2. relu ----------------------------------------------------------------------------

def relu_forward(x):
    out = np.maximum(0, x)
    return out, x


def relu_backward(dout, cache):
    x = cache
    return dout * (x > 0)


def relu_backward_no_upstream(dout, cache):
    x = cache
    return (x > 0).astype(float)                          # BUG: the local derivative only


def relu_backward_relu_of_dout(dout, cache):
    x = cache
    return np.maximum(0, dout)                            # BUG: relu applied to the upstream gradient


# ---- 3, 4. batch normalization (train mode, running statistics in bn_param) ---------------

def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    if mode == "train":
        mu = x.mean(axis=0)
        xc = x - mu
        var = np.mean(xc ** 2, axis=0)
        std = np.sqrt(var + eps)
        xhat = xc / std
        out = gamma * xhat + beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (xhat, xc, std, gamma)
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
        cache = None
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def _batchnorm_backward(dout, cache, bug=None):
    xhat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    if bug == "dgamma like dbeta":
        dgamma = np.sum(dout, axis=0)                     # BUG: copied from dbeta, without xhat
    else:
        dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    dxc = dxhat / std
    if bug != "no variance path":                         # (BUG "no variance path": these four lines left out)
        dstd = -np.sum(dxhat * xc, axis=0) / std ** 2
        dvar = 0.5 * dstd / std
        dxc += 2.0 / N * xc * dvar
    dmu = -np.sum(dxc, axis=0)
    dx = dxc + dmu / N
    return dx, dgamma, dbeta


def batchnorm_backward(dout, cache):
    return _batchnorm_backward(dout, cache)


def batchnorm_backward_no_variance_path(dout, cache):
    return _batchnorm_backward(dout, cache, "no variance path")


def batchnorm_backward_dgamma_like_dbeta(dout, cache):
    return _batchnorm_backward(dout, cache, "dgamma like dbeta")


def _batchnorm_backward_alt(dout, cache, bug=None):
    xhat, xc, std, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    N = dout.shape[0]
    if bug == "sums":
        dx = (N * dxhat - dxhat.sum(axis=0) - xhat * np.sum(dxhat * xhat, axis=0)) / std   # BUG: the 1/N is lost
    else:
        dx = (dxhat - dxhat.mean(axis=0) - xhat * np.mean(dxhat * xhat, axis=0)) / std
    if bug == "over variance":
        dx = dx / std                                     # BUG: divided by var, not std
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    return _batchnorm_backward_alt(dout, cache)


def batchnorm_backward_alt_sums(dout, cache):
    return _batchnorm_backward_alt(dout, cache, "sums")


def batchnorm_backward_alt_over_variance(dout, cache):
    return _batchnorm_backward_alt(dout, cache, "over variance")


# ---- 5. layer normalization --------------------------------------------------------------

def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    xc = x - mu
    var = np.mean(xc ** 2, axis=1, keepdims=True)
    std = np.sqrt(var + eps)
    xhat = xc / std
    return gamma * xhat + beta, (xhat, std, gamma)


def _layernorm_backward(dout, cache, bug=None):
    xhat, std, gamma = cache
    dbeta = dout.sum(axis=0)
    if bug == "gamma twice":
        dgamma = np.sum(dout * xhat * gamma, axis=0)      # BUG: an extra factor gamma
    else:
        dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    axis = 0 if bug == "batch axes" else 1                # BUG "batch axes": batchnorm's axis kept
    dx = (dxhat - dxhat.mean(axis=axis, keepdims=True)
          - xhat * np.mean(dxhat * xhat, axis=axis, keepdims=True)) / std
    return dx, dgamma, dbeta


def layernorm_backward(dout, cache):
    return _layernorm_backward(dout, cache)


def layernorm_backward_batch_axes(dout, cache):
    return _layernorm_backward(dout, cache, "batch axes")


def layernorm_backward_gamma_twice(dout, cache):
    return _layernorm_backward(dout, cache, "gamma twice")


# ---- 6. dropout (inverted, seeded as the assignment seeds it) ----------------------------

def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    else:
        out = x
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    return dout * mask if dropout_param["mode"] == "train" else dout


def dropout_backward_unscaled(dout, cache):
    dropout_param, mask = cache
    return dout * (mask > 0)                              # BUG: the 1/p of the inverted mask is lost


def dropout_backward_mask_only(dout, cache):
    dropout_param, mask = cache
    return mask                                           # BUG: the upstream gradient is forgotten


# ---- 7. naive convolution --------------------------------------------------------------------

def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


def _conv_backward(dout, cache, accumulate_w=True, crop_pad=True):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    dx_pad, dw, db = np.zeros_like(x_pad), np.zeros_like(w), np.zeros_like(b)
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    hs, ws = i * stride, j * stride
                    window = x_pad[n, :, hs:hs + HH, ws:ws + WW]
                    db[f] += dout[n, f, i, j]
                    if accumulate_w:
                        dw[f] += window * dout[n, f, i, j]
                    else:
                        dw[f] = window * dout[n, f, i, j]          # BUG: = instead of +=
                    dx_pad[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]
    if crop_pad:
        dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    else:
        dx = dx_pad[:, :, :H, :W]                                   # BUG: the padding is not skipped
    return dx, dw, db


def conv_backward_naive(dout, cache):
    return _conv_backward(dout, cache)


def conv_backward_naive_assigned_dw(dout, cache):
    return _conv_backward(dout, cache, accumulate_w=False)


def conv_backward_naive_uncropped(dout, cache):
    return _conv_backward(dout, cache, crop_pad=False)


# ---- 8. naive max pooling ---------------------------------------------------------------------

def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // stride, 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw])
    return out, (x, pool_param)


def _max_pool_backward(dout, cache, how="max"):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    N, C, H_out, W_out = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride
                    window = x[n, c, hs:hs + ph, ws:ws + pw]
                    mask = window == np.max(window)
                    if how == "max":
                        dx[n, c, hs:hs + ph, ws:ws + pw] += mask * dout[n, c, i, j]
                    elif how == "average":
                        dx[n, c, hs:hs + ph, ws:ws + pw] += dout[n, c, i, j] / (ph * pw)   # BUG: average pooling's
                    else:
                        dx[n, c, hs:hs + ph, ws:ws + pw] += mask                           # BUG: dout forgotten
    return dx


def max_pool_backward_naive(dout, cache):
    return _max_pool_backward(dout, cache)


def max_pool_backward_naive_average(dout, cache):
    return _max_pool_backward(dout, cache, "average")


def max_pool_backward_naive_mask_only(dout, cache):
    return _max_pool_backward(dout, cache, "mask")


# ---- 9, 10, 11. losses -----------------------------------------------------------------------

def softmax_loss(x, y, bug=None):
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    probs = np.exp(log_probs)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    if bug == "columns":
        dx[:, y] -= 1                                     # BUG: every row, at every label's column
    else:
        dx[np.arange(N), y] -= 1
    if bug != "unscaled":
        dx /= N                                           # (BUG "unscaled": this line is forgotten)
    return loss, dx


def svm_loss(x, y, bug=None):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, np.newaxis]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N
    positive = np.sum(margins > 0, axis=1)
    dx = np.zeros_like(x)
    if bug == "nonnegative":
        dx[margins >= 0] = 1                              # BUG: >= counts the clipped margins too
    else:
        dx[margins > 0] = 1
    if bug == "one":
        dx[np.arange(N), y] -= 1                          # BUG: −1 where it is −(number of positive margins)
    else:
        dx[np.arange(N), y] -= positive
    dx /= N
    return loss, dx


def temporal_softmax_loss(x, y, mask, bug=None):
    N, T, V = x.shape
    x_flat, y_flat, mask_flat = x.reshape(N * T, V), y.reshape(N * T), mask.reshape(N * T)
    probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
    dx_flat = probs.copy()
    dx_flat[np.arange(N * T), y_flat] -= 1
    dx_flat /= N * T if bug == "per step" else N          # BUG "per step": divided by N·T
    if bug != "unmasked":
        dx_flat *= mask_flat[:, None]                     # (BUG "unmasked": the mask is forgotten)
    return loss, dx_flat.reshape(N, T, V)


# ---- 12. a vanilla RNN over a sequence -------------------------------------------------------

def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache, bug=None):
    x, prev_h, Wx, Wh, next_h = cache
    if bug == "tanh":
        da = dnext_h * (1 - next_h)                       # BUG: tanh' written as 1 − tanh
    else:
        da = dnext_h * (1 - next_h ** 2)
    return da.dot(Wx.T), da.dot(Wh.T), x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    caches, prev_h = [], h0
    for t in range(T):
        prev_h, cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        caches.append(cache)
    return h, caches


def _rnn_backward(dh, caches, bug=None):
    N, T, H = dh.shape
    D = caches[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros_like(caches[0][2]), np.zeros_like(caches[0][3]), np.zeros(H)
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        upstream = dh[:, t, :] if bug == "no carry" else dh[:, t, :] + dprev_h   # BUG "no carry": + dprev_h lost
        dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(upstream, caches[t], bug)
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db


def rnn_backward(dh, caches):
    return _rnn_backward(dh, caches)


def rnn_backward_no_carry(dh, caches):
    return _rnn_backward(dh, caches, "no carry")


def rnn_backward_tanh(dh, caches):
    return _rnn_backward(dh, caches, "tanh")


# ---- 13. an LSTM step ---------------------------------------------------------------------------

def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)


def _lstm_step_backward(dnext_h, dnext_c, cache, bug=None):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    if bug == "no h path":
        dc = dnext_c                                      # BUG: the path from next_h into next_c is left out
    else:
        dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    di, df, do, dg = dc * g, dc * prev_c, dnext_h * tanh_c, dc * i
    gates = [di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)]
    if bug == "gate order":
        gates[2], gates[3] = gates[3], gates[2]           # BUG: o and g stacked in the wrong order
    da = np.hstack(gates)
    return da.dot(Wx.T), da.dot(Wh.T), dc * f, x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)


def lstm_step_backward(dnext_h, dnext_c, cache):
    return _lstm_step_backward(dnext_h, dnext_c, cache)


def lstm_step_backward_no_h_path(dnext_h, dnext_c, cache):
    return _lstm_step_backward(dnext_h, dnext_c, cache, "no h path")


def lstm_step_backward_gate_order(dnext_h, dnext_c, cache):
    return _lstm_step_backward(dnext_h, dnext_c, cache, "gate order")


# ---- 14. word embedding --------------------------------------------------------------------------

def word_embedding_forward(x, W):
    return W[x], (x, W.shape)


def word_embedding_backward(dout, cache):
    x, shape = cache
    dW = np.zeros(shape)
    np.add.at(dW, x, dout)
    return dW


def word_embedding_backward_fancy_index(dout, cache):
    x, shape = cache
    dW = np.zeros(shape)
    dW[x] += dout                                         # BUG: a repeated word is counted once
    return dW


def word_embedding_backward_averaged(dout, cache):
    x, shape = cache
    dW = np.zeros(shape)
    np.add.at(dW, x, dout / x.shape[0])                   # BUG: averaged over the batch, as a loss would be
    return dW


# ---- 15. the book's Affine ------------------------------------------------------------------------

class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = self.original_x_shape = None
        self.dW = self.db = None

    def forward(self, x):
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)


class AffineTransposedDW(Affine):
    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout).T                # BUG: transposed (W is square, so it fits)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)


class AffineUntransposedW(Affine):
    def backward(self, dout):
        dx = np.dot(dout, self.W)                         # BUG: W, not W.T
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)


# ---- 16. the book's SoftmaxWithLoss ---------------------------------------------------------------

def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t, y = t.reshape(1, t.size), y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = self.y = self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size
        return dx


class SoftmaxWithLossUnscaled(SoftmaxWithLoss):
    def backward(self, dout=1):
        dx = self.y.copy()
        dx[np.arange(self.t.shape[0]), self.t] -= 1       # BUG: the / batch_size is forgotten
        return dx


class SoftmaxWithLossPlusOne(SoftmaxWithLoss):
    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        dx = self.y.copy()
        dx[np.arange(batch_size), self.t] += 1            # BUG: + for −
        return dx / batch_size


# ---- 17. the book's BatchNormalization (running statistics on the layer) ---------------------------

class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma, self.beta, self.momentum = gamma, beta, momentum
        self.input_shape = None
        self.running_mean, self.running_var = running_mean, running_var
        self.batch_size = self.xc = self.xn = self.std = None
        self.dgamma = self.dbeta = None

    def forward(self, x, train_flg=True):
        self.input_shape = x.shape
        if x.ndim != 2:
            x = x.reshape(x.shape[0], -1)
        return self._forward(x, train_flg).reshape(*self.input_shape)

    def _forward(self, x, train_flg):
        if self.running_mean is None:
            N, D = x.shape
            self.running_mean = np.zeros(D)
            self.running_var = np.zeros(D)
        if train_flg:
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc ** 2, axis=0)
            std = np.sqrt(var + 10e-7)
            xn = xc / std
            self.batch_size, self.xc, self.xn, self.std = x.shape[0], xc, xn, std
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            xn = (x - self.running_mean) / np.sqrt(self.running_var + 10e-7)
        return self.gamma * xn + self.beta

    def backward(self, dout):
        if dout.ndim != 2:
            dout = dout.reshape(dout.shape[0], -1)
        return self._backward(dout).reshape(*self.input_shape)

    def _backward(self, dout, sign=-1.0, swap=False):
        dbeta = dout.sum(axis=0)
        dgamma = np.sum(self.xn * dout, axis=0)
        dxn = self.gamma * dout
        dxc = dxn / self.std
        dstd = sign * np.sum((dxn * self.xc) / (self.std * self.std), axis=0)
        dvar = 0.5 * dstd / self.std
        dxc += (2.0 / self.batch_size) * self.xc * dvar
        dmu = np.sum(dxc, axis=0)
        dx = dxc - dmu / self.batch_size
        self.dgamma, self.dbeta = (dbeta, dgamma) if swap else (dgamma, dbeta)
        return dx


class BatchNormalizationSign(BatchNormalization):
    def _backward(self, dout):
        return super()._backward(dout, sign=1.0)          # BUG: dstd = +Σ… (the minus sign dropped)


class BatchNormalizationSwapped(BatchNormalization):
    def _backward(self, dout):
        return super()._backward(dout, swap=True)         # BUG: self.dgamma, self.dbeta = dbeta, dgamma


# ---- 18, 19. the book's im2col Convolution and Pooling ------------------------------------------

def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            col[:, :, y, x, :, :] = img[:, :, y:y_max:stride, x:x_max:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0, accumulate=True):
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1))
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            if accumulate:
                img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]
            else:
                img[:, :, y:y_max:stride, x:x_max:stride] = col[:, :, y, x, :, :]   # BUG: = instead of +=
    return img[:, :, pad:H + pad, pad:W + pad]


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad
        self.x = self.col = self.col_W = None
        self.dW = self.db = None

    def forward(self, x):
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        out_h = 1 + int((H + 2 * self.pad - FH) / self.stride)
        out_w = 1 + int((W + 2 * self.pad - FW) / self.stride)
        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W.reshape(FN, -1).T
        out = np.dot(col, col_W) + self.b
        out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)
        self.x, self.col, self.col_W = x, col, col_W
        return out

    def backward(self, dout, transpose_dW=True, accumulate=True):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout)
        if transpose_dW:
            self.dW = self.dW.transpose(1, 0).reshape(FN, C, FH, FW)
        else:
            self.dW = self.dW.reshape(FN, C, FH, FW)      # BUG: reshaped without transposing back
        dcol = np.dot(dout, self.col_W.T)
        return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad, accumulate)


class ConvolutionUntransposedDW(Convolution):
    def backward(self, dout):
        return super().backward(dout, transpose_dW=False)


class ConvolutionAssignedCol2im(Convolution):
    def backward(self, dout):
        return super().backward(dout, accumulate=False)


class Pooling:
    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad
        self.x = self.arg_max = None

    def forward(self, x):
        N, C, H, W = x.shape
        out_h = int(1 + (H - self.pool_h) / self.stride)
        out_w = int(1 + (W - self.pool_w) / self.stride)
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad).reshape(-1, self.pool_h * self.pool_w)
        arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1).reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)
        self.x, self.arg_max = x, arg_max
        return out

    def backward(self, dout, transpose=True, scale=1.0):
        if transpose:
            dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size))
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten() * scale
        dmax = dmax.reshape(dout.shape + (pool_size,))
        dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


class PoolingUntransposed(Pooling):
    def backward(self, dout):
        return super().backward(dout, transpose=False)    # BUG: dout not transposed to (N, h, w, C)


class PoolingAveraged(Pooling):
    def backward(self, dout):
        return super().backward(dout, scale=1.0 / (self.pool_h * self.pool_w))   # BUG: / pool_size


# ---- The cases ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One layer: how to check it (``kind``: 'pair' for CS231n functions, 'object' for a
    book class, 'loss' for a function returning (loss, dx)), its correct version, its two
    bugs, and ``inputs(size, rng)`` → (inputs, options) at size 'test' or 'assignment'.
    ``traced_today``: whether its forward traced before issue 13."""

    name: str
    kind: str
    correct: object
    bugs: tuple
    inputs: Callable
    traced_today: bool = True


def _normal(rng, *shape):
    return rng.standard_normal(shape)


def _labels(rng, n, classes):
    return rng.integers(0, classes, size=n)


def _pool_input(rng, shape):
    # Distinct values, so that no window has a tie for its maximum.
    return rng.permutation(np.prod(shape)).reshape(shape) / np.prod(shape) + 0.01 * rng.standard_normal(shape)


def _sizes(size, test, assignment):
    return test if size == "test" else assignment


def _affine_inputs(size, rng):
    N, d = _sizes(size, (2, (2, 3)), (2, (4, 5, 6)))
    D, M = int(np.prod(d)), 3
    return (_normal(rng, N, *d), _normal(rng, D, M), _normal(rng, M)), {}


def _bn_inputs(size, rng):
    N, D = _sizes(size, (4, 3), (4, 5))
    return (_normal(rng, N, D) * 2 + 1, 1 + 0.1 * _normal(rng, D), _normal(rng, D), {"mode": "train"}), {}


def _conv_inputs(size, rng):
    x_shape, w_shape = _sizes(size, ((1, 2, 4, 4), (2, 2, 3, 3)), ((4, 3, 5, 5), (2, 3, 3, 3)))
    return (_normal(rng, *x_shape), _normal(rng, *w_shape), _normal(rng, w_shape[0]), {"stride": 1, "pad": 1}), {}


def _pool_inputs(size, rng):
    shape = _sizes(size, (1, 2, 4, 4), (3, 2, 8, 8))
    return (_pool_input(rng, shape), {"pool_height": 2, "pool_width": 2, "stride": 2}), {}


def _softmax_inputs(size, rng):
    N, C = _sizes(size, (4, 5), (50, 10))
    return (0.5 * _normal(rng, N, C), _labels(rng, N, C)), {}


def _temporal_inputs(size, rng):
    N, T, V = _sizes(size, (2, 3, 4), (7, 8, 9))
    mask = rng.random((N, T)) > 0.4
    return (_normal(rng, N, T, V), _labels(rng, (N, T), V), mask), {}


def _rnn_inputs(size, rng):
    N, T, D, H = _sizes(size, (2, 3, 2, 3), (2, 10, 3, 5))
    return (_normal(rng, N, T, D), _normal(rng, N, H), 0.5 * _normal(rng, D, H), 0.5 * _normal(rng, H, H),
            _normal(rng, H)), {}


def _lstm_inputs(size, rng):
    N, D, H = _sizes(size, (2, 3, 2), (4, 5, 6))
    return (_normal(rng, N, D), _normal(rng, N, H), _normal(rng, N, H), 0.5 * _normal(rng, D, 4 * H),
            0.5 * _normal(rng, H, 4 * H), _normal(rng, 4 * H)), {}


def _embedding_inputs(size, rng):
    N, T, V, D = _sizes(size, (2, 3, 4, 3), (50, 3, 5, 6))
    x = _labels(rng, (N, T), V)
    x[0, 0] = x[1, 1] = 0             # at least one repeated word
    return (x, _normal(rng, V, D)), {}


def _book_affine_inputs(size, rng):
    N, D = _sizes(size, (2, 3), (5, 6))
    return (_normal(rng, N, D),), {"W": _normal(rng, D, D), "b": _normal(rng, D)}


def _book_softmax_inputs(size, rng):
    N, C = _sizes(size, (3, 4), (50, 10))
    return (_normal(rng, N, C), _labels(rng, N, C)), {}


def _book_bn_inputs(size, rng):
    N, D = _sizes(size, (4, 3), (10, 5))
    return (_normal(rng, N, D) * 2 + 1,), {"gamma": 1 + 0.1 * _normal(rng, D), "beta": _normal(rng, D)}


def _book_conv_inputs(size, rng):
    x_shape, w_shape = _sizes(size, ((1, 2, 4, 4), (2, 2, 3, 3)), ((2, 3, 7, 7), (2, 3, 3, 3)))
    return (_normal(rng, *x_shape),), {"W": 0.5 * _normal(rng, *w_shape), "b": _normal(rng, w_shape[0]),
                                       "stride": 1, "pad": 1}


def _book_pool_inputs(size, rng):
    shape = _sizes(size, (1, 2, 4, 4), (2, 3, 8, 8))
    return (_pool_input(rng, shape),), {"pool_h": 2, "pool_w": 2, "stride": 2}


def _dropout_inputs(size, rng):
    shape = _sizes(size, (3, 4), (10, 10))
    return (_normal(rng, *shape), {"p": 0.6, "mode": "train", "seed": 123}), {}


def _layernorm_inputs(size, rng):
    N, D = _sizes(size, (3, 4), (4, 5))
    return (_normal(rng, N, D) * 2 + 1, 1 + 0.1 * _normal(rng, D), _normal(rng, D), {}), {}


def _relu_inputs(size, rng):
    shape = _sizes(size, (3, 4), (10, 10))
    x = _normal(rng, *shape)
    x[np.abs(x) < 0.05] = 0.5          # no entry at the kink
    return (x,), {}


def _loss(function, bug):
    def loss(*args):
        return function(*args, bug=bug)
    loss.__name__ = f"{function.__name__}[{bug or 'correct'}]"
    return loss


CASES = (
    Case("affine", "pair", (affine_forward, affine_backward),
         ((affine_forward, affine_backward_mean_bias), (affine_forward, affine_backward_scrambled_rows)),
         _affine_inputs),
    Case("relu", "pair", (relu_forward, relu_backward),
         ((relu_forward, relu_backward_no_upstream), (relu_forward, relu_backward_relu_of_dout)), _relu_inputs),
    Case("batchnorm", "pair", (batchnorm_forward, batchnorm_backward),
         ((batchnorm_forward, batchnorm_backward_no_variance_path),
          (batchnorm_forward, batchnorm_backward_dgamma_like_dbeta)), _bn_inputs, traced_today=False),
    Case("batchnorm (alternative form)", "pair", (batchnorm_forward, batchnorm_backward_alt),
         ((batchnorm_forward, batchnorm_backward_alt_sums), (batchnorm_forward, batchnorm_backward_alt_over_variance)),
         _bn_inputs, traced_today=False),
    Case("layernorm", "pair", (layernorm_forward, layernorm_backward),
         ((layernorm_forward, layernorm_backward_batch_axes), (layernorm_forward, layernorm_backward_gamma_twice)),
         _layernorm_inputs),
    Case("dropout", "pair", (dropout_forward, dropout_backward),
         ((dropout_forward, dropout_backward_unscaled), (dropout_forward, dropout_backward_mask_only)),
         _dropout_inputs),
    Case("naive conv", "pair", (conv_forward_naive, conv_backward_naive),
         ((conv_forward_naive, conv_backward_naive_assigned_dw), (conv_forward_naive, conv_backward_naive_uncropped)),
         _conv_inputs, traced_today=False),
    Case("naive max-pool", "pair", (max_pool_forward_naive, max_pool_backward_naive),
         ((max_pool_forward_naive, max_pool_backward_naive_average),
          (max_pool_forward_naive, max_pool_backward_naive_mask_only)), _pool_inputs, traced_today=False),
    Case("softmax loss", "loss", _loss(softmax_loss, None),
         (_loss(softmax_loss, "unscaled"), _loss(softmax_loss, "columns")), _softmax_inputs),
    Case("SVM loss", "loss", _loss(svm_loss, None), (_loss(svm_loss, "one"), _loss(svm_loss, "nonnegative")),
         _softmax_inputs),
    Case("temporal softmax loss", "loss", _loss(temporal_softmax_loss, None),
         (_loss(temporal_softmax_loss, "unmasked"), _loss(temporal_softmax_loss, "per step")), _temporal_inputs),
    Case("RNN", "pair", (rnn_forward, rnn_backward),
         ((rnn_forward, rnn_backward_no_carry), (rnn_forward, rnn_backward_tanh)), _rnn_inputs, traced_today=False),
    Case("LSTM step", "pair", (lstm_step_forward, lstm_step_backward),
         ((lstm_step_forward, lstm_step_backward_no_h_path), (lstm_step_forward, lstm_step_backward_gate_order)),
         _lstm_inputs),
    Case("word embedding", "pair", (word_embedding_forward, word_embedding_backward),
         ((word_embedding_forward, word_embedding_backward_fancy_index),
          (word_embedding_forward, word_embedding_backward_averaged)), _embedding_inputs),
    Case("book Affine", "object", Affine, (AffineTransposedDW, AffineUntransposedW), _book_affine_inputs),
    Case("book SoftmaxWithLoss", "object", SoftmaxWithLoss, (SoftmaxWithLossUnscaled, SoftmaxWithLossPlusOne),
         _book_softmax_inputs),
    Case("book BatchNormalization", "object", BatchNormalization, (BatchNormalizationSign, BatchNormalizationSwapped),
         _book_bn_inputs, traced_today=False),
    Case("book Convolution (im2col)", "object", Convolution, (ConvolutionUntransposedDW, ConvolutionAssignedCol2im),
         _book_conv_inputs, traced_today=False),
    Case("book Pooling (im2col)", "object", Pooling, (PoolingUntransposed, PoolingAveraged), _book_pool_inputs,
         traced_today=False),
)
"""The 19 layers; seven forwards (traced_today=False) did not trace before issue 13."""

BOOK_PARAMS = {"book Affine": ("W", "b"), "book SoftmaxWithLoss": (), "book BatchNormalization": ("gamma", "beta"),
               "book Convolution (im2col)": ("W", "b"), "book Pooling (im2col)": ()}
"""The parameters each book layer keeps on itself (check_layer's params=)."""


def build(case, version, size="test", seed=1):
    """(layer or loss function, inputs, params) for one version of ``case`` (its correct
    version or one of its bugs), with fresh inputs from ``seed``."""
    rng = np.random.default_rng(seed)
    inputs, options = case.inputs(size, rng)
    if case.kind == "object":
        layer = version(**options)
        return layer, inputs, BOOK_PARAMS[case.name]
    return version, inputs, ()

"""The same student pairs with one bug edited into the published backward each, as a
student would make it; check_layer should fail and name exactly the wrong entries.
Also the plain numeric check of the assignments (central differences, h = 1e-5) on each."""
import time, os, numpy as np
from adcompare import check_layer
from load import load, numeric_gradient_array, rel_error

rng = np.random.default_rng(231)
BUGS = [
    # name, module, edit, (forward, backward) names, inputs
    ("affine: dw transposed (w square)", "cs231n_layers", ("dw = t.T.dot(dout)", "dw = t.T.dot(dout).T"),
     ("affine_forward", "affine_backward"), lambda: (rng.normal(size=(10, 2, 3)), rng.normal(size=(6, 6)), rng.normal(size=6))),
    ("affine: db doubled (an extra factor)", "cs231n_layers", ("db = np.sum(dout, axis=0)\n\n    return dx, dw, db\n\n\ndef relu_forward", "db = np.sum(dout, axis=0) * 2\n\n    return dx, dw, db\n\n\ndef relu_forward"),
     ("affine_forward", "affine_backward"), lambda: (rng.normal(size=(10, 2, 3)), rng.normal(size=(6, 5)), rng.normal(size=5))),
    ("relu: >= instead of > (kink at exact 0 entries)", "cs231n_layers", ("dx = np.where(x > 0, dout, 0)", "dx = np.where(x >= 0, dout, 0)"),
     ("relu_forward", "relu_backward"), lambda: (np.where(rng.random((10, 10)) < 0.2, 0.0, rng.normal(size=(10, 10))),)),
    ("relu: mask on dout not x", "cs231n_layers", ("dx = np.where(x > 0, dout, 0)", "dx = np.where(dout > 0, dout, 0)"),
     ("relu_forward", "relu_backward"), lambda: (rng.normal(size=(10, 10)),)),
    ("batchnorm_alt: 2/N -> 1/N in dx", "cs231n_layers", ("dx = dx_hat * ((cache['var'] + cache['eps']) ** (-0.5)) + (cache['x'] - cache['mean']) * 2 / N * dvar", "dx = dx_hat * ((cache['var'] + cache['eps']) ** (-0.5)) + (cache['x'] - cache['mean']) * 1 / N * dvar"),
     ("batchnorm_forward", "batchnorm_backward_alt"), lambda: (5 * rng.normal(size=(4, 5)) + 12, rng.normal(size=5), rng.normal(size=5), {"mode": "train"})),
    ("conv: dw sign wrong in one filter", "cs231n_layers", ("    dx[:,:,:,:] = dpad_x[:,:,pad:-pad,pad:-pad]\n", "    dx[:,:,:,:] = dpad_x[:,:,pad:-pad,pad:-pad]\n    dw[1] = -dw[1]\n"),
     ("conv_forward_naive", "conv_backward_naive"), lambda: (rng.normal(size=(4, 3, 5, 5)), rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2), {"stride": 1, "pad": 1})),
    ("conv: one entry of dx wrong sign", "cs231n_layers", ("    dx[:,:,:,:] = dpad_x[:,:,pad:-pad,pad:-pad]\n", "    dx[:,:,:,:] = dpad_x[:,:,pad:-pad,pad:-pad]\n    dx[2,1,3,4] = -dx[2,1,3,4]\n"),
     ("conv_forward_naive", "conv_backward_naive"), lambda: (rng.normal(size=(4, 3, 5, 5)), rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2), {"stride": 1, "pad": 1})),
    ("maxpool: argmin instead of argmax", "cs231n_layers", ("position = np.argmax(x[i,j,p-p_h:p,q-p_w:q])", "position = np.argmin(x[i,j,p-p_h:p,q-p_w:q])"),
     ("max_pool_forward_naive", "max_pool_backward_naive"), lambda: (rng.normal(size=(3, 2, 8, 8)), {"pool_width": 2, "pool_height": 2, "stride": 2})),
    ("rnn_step: dWh transposed", "rnn_layers", ("dWh = prev_h.T @ da # (H, H)", "dWh = (prev_h.T @ da).T # (H, H)"),
     ("rnn_step_forward", "rnn_step_backward"), lambda: (rng.normal(size=(4, 5)), rng.normal(size=(4, 6)), rng.normal(size=(5, 6)), rng.normal(size=(6, 6)), rng.normal(size=6))),
    ("lstm_step: forget-gate slope wrong", "rnn_layers", ("da_f = df * f * (1 - f)", "da_f = df * f * (1 + f)"),
     ("lstm_step_forward", "lstm_step_backward"), lambda: (rng.normal(size=(4, 5)), rng.normal(size=(4, 6)), rng.normal(size=(4, 6)), rng.normal(size=(5, 24)), rng.normal(size=(6, 24)), rng.normal(size=24))),
    ("word_embedding: = instead of add.at", "rnn_layers", ("np.add.at(dW, x, dout)", "dW[x] = dout"),
     ("word_embedding_forward", "word_embedding_backward"), lambda: (np.array([[0, 3, 1], [2, 3, 0]]), rng.normal(size=(5, 6)))),
]
only = os.environ.get("ONLY")
for name, module, edit, (fw, bw), make in BUGS:
    if only and only not in name:
        continue
    M = load(module, edit)
    args = make()
    t = time.perf_counter()
    try:
        rep = check_layer((getattr(M, fw), getattr(M, bw)), *args)
        out = "NOT CAUGHT: " + str(rep).splitlines()[0]
    except Exception as e:
        out = f"{type(e).__name__}: {e}"
    dt = time.perf_counter() - t
    # the assignments' check: numeric gradient of the first input against dx
    x0 = np.array(args[0], dtype=float if np.issubdtype(np.asarray(args[0]).dtype, np.floating) else None)
    rest = args[1:]
    res = getattr(M, fw)(x0, *rest)
    out0 = res[0]
    dout = rng.normal(size=np.shape(out0))
    t = time.perf_counter()
    if len(res) > 2:
        numeric = "numeric check: skipped (several outputs)"
    elif np.issubdtype(np.asarray(args[0]).dtype, np.floating):
        num = numeric_gradient_array(lambda x: getattr(M, fw)(x, *rest)[0], x0.copy(), dout)
        got = getattr(M, bw)(dout.copy(), getattr(M, fw)(x0, *rest)[1])
        got0 = got[0] if isinstance(got, tuple) else got
        numeric = f"numeric check, first input: rel_error {rel_error(num, got0):.2e} ({time.perf_counter() - t:.2f} s)"
    else:
        numeric = "numeric check: first input is integer"
    print(f"== {name}: {dt:.2f} s\n{out}\n{numeric}\n", flush=True)

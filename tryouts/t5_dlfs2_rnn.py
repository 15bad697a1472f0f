"""The second book's RNN (params/grads lists) and TimeRNN (float32 buffers: dtype='f')."""
import time, numpy as np
from adcompare import check_layer
from load import load
T = load("dlfs2_time_layers")
rng = np.random.default_rng(2)
N, Tn, D, H = 2, 3, 4, 5


def run(name, thunk):
    t = time.perf_counter()
    try:
        out = str(thunk())
    except Exception as e:
        out = f"{type(e).__name__}: {str(e)[:3000]}"
    print(f"== {name}: {time.perf_counter() - t:.2f} s\n{out}\n", flush=True)


mk = lambda: (rng.normal(size=(D, H)), rng.normal(size=(H, H)), rng.normal(size=H))
run("RNN params=(0,1,2), grads list", lambda: check_layer(T.RNN(*mk()), rng.normal(size=(N, D)), rng.normal(size=(N, H)), params=(0, 1, 2)))
Tb = load("dlfs2_time_layers", ("dWh = np.dot(h_prev.T, dt)", "dWh = np.dot(dt.T, h_prev)"))
run("RNN bug dWh transposed", lambda: check_layer(Tb.RNN(*mk()), rng.normal(size=(N, D)), rng.normal(size=(N, H)), params=(0, 1, 2)))
run("TimeRNN (float32 buffers) params=(0,1,2)", lambda: check_layer(T.TimeRNN(*mk()), rng.normal(size=(N, Tn, D)), params=(0, 1, 2)))
run("TimeRNN bug dWh transposed", lambda: check_layer(Tb.TimeRNN(*mk()), rng.normal(size=(N, Tn, D)), params=(0, 1, 2)))

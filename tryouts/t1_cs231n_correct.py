"""check_layer on the CS231n student pairs, as published, at the notebooks' sizes."""
import time, os, numpy as np
from adcompare import check_layer
from load import load

L = load("cs231n_layers")
R = load("rnn_layers")
rng = np.random.default_rng(231)

cases = {
    "affine": lambda: ((L.affine_forward, L.affine_backward),
                       rng.normal(size=(10, 2, 3)), rng.normal(size=(6, 5)), rng.normal(size=5)),
    "relu": lambda: ((L.relu_forward, L.relu_backward), rng.normal(size=(10, 10))),
    "batchnorm": lambda: ((L.batchnorm_forward, L.batchnorm_backward), 5 * rng.normal(size=(4, 5)) + 12,
                          rng.normal(size=5), rng.normal(size=5), {"mode": "train"}),
    "batchnorm_alt": lambda: ((L.batchnorm_forward, L.batchnorm_backward_alt), 5 * rng.normal(size=(4, 5)) + 12,
                              rng.normal(size=5), rng.normal(size=5), {"mode": "train"}),
    "layernorm": lambda: ((L.layernorm_forward, L.layernorm_backward), 5 * rng.normal(size=(4, 5)) + 12,
                          rng.normal(size=5), rng.normal(size=5), {}),
    "dropout": lambda: ((L.dropout_forward, L.dropout_backward), rng.normal(size=(10, 10)) + 10,
                        {"mode": "train", "p": 0.2, "seed": 123}),
    "conv_naive": lambda: ((L.conv_forward_naive, L.conv_backward_naive), rng.normal(size=(4, 3, 5, 5)),
                           rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2), {"stride": 1, "pad": 1}),
    "maxpool_naive": lambda: ((L.max_pool_forward_naive, L.max_pool_backward_naive), rng.normal(size=(3, 2, 8, 8)),
                              {"pool_width": 2, "pool_height": 2, "stride": 2}),
    "rnn_step": lambda: ((R.rnn_step_forward, R.rnn_step_backward), rng.normal(size=(4, 5)), rng.normal(size=(4, 6)),
                         rng.normal(size=(5, 6)), rng.normal(size=(6, 6)), rng.normal(size=6)),
    "lstm_step": lambda: ((R.lstm_step_forward, R.lstm_step_backward), rng.normal(size=(4, 5)), rng.normal(size=(4, 6)),
                          rng.normal(size=(4, 6)), rng.normal(size=(5, 24)), rng.normal(size=(6, 24)), rng.normal(size=24)),
    "word_embedding": lambda: ((R.word_embedding_forward, R.word_embedding_backward), rng.integers(5, size=(2, 3)),
                               rng.normal(size=(5, 6))),
    "rnn_seq": lambda: ((R.rnn_forward, R.rnn_backward), rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5)),
                        rng.normal(size=(4, 5)), rng.normal(size=(5, 5)), rng.normal(size=5)),
}
only = os.environ.get("ONLY")
for name, make in cases.items():
    if only and name not in only.split(","):
        continue
    args = make()
    t = time.perf_counter()
    try:
        rep = check_layer(*args)
        verdict = str(rep).splitlines()[0]
    except Exception as e:
        verdict = f"{type(e).__name__}: {str(e)[:1500]}"
    print(f"== {name}: {time.perf_counter() - t:.2f} s\n{verdict}\n", flush=True)

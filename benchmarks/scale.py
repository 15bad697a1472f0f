"""Graphs of up to 10^6 elementary operations: build, evaluate, differentiate, and the memory
each node costs (the performance issue's part 3). Not part of the test run.

Run:  python benchmarks/scale.py [--sizes 10002,100002,999996] [--out benchmarks/results/scale.md]

The graph is W2's chain (workloads.chain_graph: sin, mul, mul, add, ln, add per step), built
directly as a Graph. Every size runs in fresh child processes: once timed (no tracing),
once under tracemalloc for the bytes per node (Python allocations, numpy's included), and
the compiled sweep once more for its peak resident memory, which the Python compiler
dominates and tracemalloc does not see in full.
"""

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
POINT = (2.0, 0.5)

CHILD = r"""
import gc, json, resource, sys, time, tracemalloc
sys.path.insert(0, {here!r})
import workloads
from adcompare.backends import run_method
from adcompare.graph import evaluate

size, mode = {size}, {mode!r}
point = {point!r}
out = {{}}

def timed(name, work):
    start = time.perf_counter()
    result = work()
    out[name + "_s"] = time.perf_counter() - start
    return result

def timed_once(work):
    start = time.perf_counter()
    work()
    return time.perf_counter() - start

def traced(name, work, keep=True):
    gc.collect()
    tracemalloc.start()
    result = work()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out[name + "_bytes"] = current if keep else 0
    out[name + "_peak_bytes"] = peak
    return result

if mode == "time":
    graph = timed("build", lambda: workloads.chain_graph(size))
    timed("evaluate", lambda: evaluate(graph, point))
    reverse = timed("reverse", lambda: run_method("reverse", graph, point))
    timed("forward", lambda: run_method("forward", graph, point))
    expected = workloads.chain_hand_gradient(*point, size // 6)
    out["reverse_matches_hand"] = all(abs(a - b) <= 1e-9 * max(1.0, abs(b))
                                      for a, b in zip(reverse.jacobian[0], expected))
elif mode == "memory":
    graph = traced("graph", lambda: workloads.chain_graph(size))
    values = traced("evaluate", lambda: evaluate(graph, point))
    del values
    result = traced("reverse", lambda: run_method("reverse", graph, point))
    del result
elif mode.startswith("graph-rss:"):
    # Resident memory a recorded graph of the chain holds, read from /proc before and after
    # building it (tracemalloc cannot see torch's C++ allocations).
    import math, os
    way = mode.split(":", 1)[1]
    page = os.sysconf("SC_PAGE_SIZE")

    def resident():
        gc.collect()
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * page

    k = size // 6
    if way == "micrograd":
        import peers
        Value, sin, log = peers._micrograd_ops()
        x1, x2 = Value(point[0]), Value(point[1])
    elif way == "torch":
        import torch
        x1 = torch.tensor(point[0], dtype=torch.float64, requires_grad=True)
        x2 = torch.tensor(point[1], dtype=torch.float64, requires_grad=True)
        sin, log = torch.sin, torch.log
    before = resident()
    if way == "adcompare":
        kept = workloads.chain_graph(size)
    else:
        s = x1
        for _ in range(k):
            s = sin(s) * x2 + log(1.0 + s * s)
        kept = s
    out["graph_rss_bytes"] = resident() - before
elif mode in ("codegen", "codegen-random"):
    from adcompare.codegen import compile_graph
    graph = workloads.chain_graph(size) if mode == "codegen" else workloads.random_graph(size)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    compiled = compile_graph(graph)
    timed("codegen_prepare", lambda: compiled.gradient(*point))
    best = min(timed_once(lambda: compiled.gradient(*point)) for _ in range(5))
    out["codegen_gradient_s"] = best
    out["codegen_max_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out["codegen_rss_per_node"] = (out["codegen_max_rss_bytes"] - before) / size
    out["codegen_segments"] = compiled.compiled_segments()
    timed("codegen_forward_prepare", lambda: compiled.jacobian_forward(*point))
    out["codegen_forward_s"] = min(timed_once(lambda: compiled.jacobian_forward(*point)) for _ in range(5))
    if mode == "codegen":
        k = size // 6
        out["primal_s"] = min(timed_once(lambda: workloads.chain_primal(*point, k)) for _ in range(5))
        expected = workloads.chain_hand_gradient(*point, k)
        out["codegen_matches_hand"] = all(abs(a - b) <= 1e-9 * max(1.0, abs(b))
                                          for a, b in zip(compiled.gradient(*point), expected))
    else:
        reference = run_method("reverse", graph, point).jacobian[0]
        out["codegen_matches_hand"] = all(abs(a - b) <= 1e-9 * max(1.0, abs(b))
                                          for a, b in zip(compiled.gradient(*point), reference))
print(json.dumps(out))
"""


def loadavg():
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def run_child(size, mode, timeout):
    code = CHILD.format(here=str(HERE), size=size, mode=mode, point=POINT)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def per_node(value, size):
    return f"{value / size:,.0f}"


def seconds(value):
    return f"{value:.2f}" if value >= 0.1 else f"{value * 1e3:.1f} ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="6000,60000,600000,999996")
    parser.add_argument("--out", default=str(HERE / "results" / "scale.md"))
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--peers", default="adcompare,micrograd,torch",
                        help="graphs whose resident memory is compared (run with the peers' venv for micrograd, torch)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.time()
    load_start = loadavg()
    rows = {}
    for size in sizes:
        rows[size] = {}
        for mode in ("time", "memory", "codegen", "codegen-random"):
            if mode == "codegen-random":
                measured = run_child(size, mode, args.timeout)
                rows[size].update({f"random_{k}": v for k, v in measured.items()})
                continue
            print(f"N = {size:,}: {mode} ...", file=sys.stderr, flush=True)
            rows[size].update(run_child(size, mode, args.timeout))
        for way in args.peers.split(","):
            print(f"N = {size:,}: resident memory of a {way} graph ...", file=sys.stderr, flush=True)
            measured = run_child(size, f"graph-rss:{way}", args.timeout)
            rows[size][f"rss:{way}"] = measured.get("graph_rss_bytes", measured.get("error"))

    import adcompare
    commit = subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    lines = ["# Graphs of up to 10^6 operations: time and memory per node", "",
             f"- date: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; wall time {time.time() - started:.0f} s",
             f"- Python {platform.python_version()}, adcompare {adcompare.__version__} at git {commit}; "
             f"{platform.platform()}",
             "- graph: the W2 chain (6 operations per step) at (x1, x2) = (2, 0.5); every cell from a fresh process",
             f"- load average at start / end: {load_start} / {loadavg()} (2 cores, shared)",
             "- bytes per node: tracemalloc, what stays allocated after the step (peak in brackets)", "",
             "| operations | build s | graph B/node | evaluate s | values B/node | reverse s | reverse B/node "
             "(peak) | forward s | compiled: prepare s | compiled: gradient s | compiled: peak RSS MB | "
             "reverse = hand |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |"]
    for size, r in rows.items():
        if "error" in r:
            lines.append(f"| {size:,} | {r['error']} |" + " |" * 10)
            continue
        lines.append(
            f"| {size:,} | {seconds(r['build_s'])} | {per_node(r['graph_bytes'], size)} | {seconds(r['evaluate_s'])} "
            f"| {per_node(r['evaluate_bytes'], size)} | {seconds(r['reverse_s'])} "
            f"| {per_node(r['reverse_bytes'], size)} ({per_node(r['reverse_peak_bytes'], size)}) "
            f"| {seconds(r['forward_s'])} | {seconds(r['codegen_prepare_s'])} | {seconds(r['codegen_gradient_s'])} "
            f"| {r['codegen_max_rss_bytes'] / 2**20:,.0f} | {'yes' if r['reverse_matches_hand'] else 'NO'} |")
    lines += ["", "Compiled sweeps (`compile_graph(graph).gradient(x1, x2)`, best of 5 after the first call, which "
              "generates and compiles): the W2 chain, whose segments repeat, and a random graph of the same size whose "
              "segments do not (`workloads.random_graph`). Peak RSS per node: the process's peak resident memory "
              "after compiling and running, minus before building the graph, ÷ N.", "",
              "| operations | chain: prepare µs/node | segments compiled | reverse µs/op | × 6k per op "
              "| ÷ plain primal | forward (one pass) µs/op | peak RSS B/node | random: prepare µs/node "
              "| segments | reverse µs/op | peak RSS B/node | answers right |",
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |"]
    base = next((r["codegen_gradient_s"] / n for n, r in rows.items() if n == 6000 and "codegen_gradient_s" in r),
                None)
    for size, r in rows.items():
        if "codegen_gradient_s" not in r:
            continue
        per_op = r["codegen_gradient_s"] / size
        lines.append(
            f"| {size:,} | {r['codegen_prepare_s'] / size * 1e6:.1f} | {r['codegen_segments']} | {per_op * 1e6:.3f} "
            f"| {per_op / base if base else float('nan'):.2f} | {r['codegen_gradient_s'] / r['primal_s']:.1f} "
            f"| {r['codegen_forward_s'] / size * 1e6:.3f} | {r['codegen_rss_per_node']:,.0f} "
            f"| {r.get('random_codegen_prepare_s', float('nan')) / size * 1e6:.1f} | {r.get('random_codegen_segments')} "
            f"| {r.get('random_codegen_gradient_s', float('nan')) / size * 1e6:.3f} "
            f"| {r.get('random_codegen_rss_per_node', float('nan')):,.0f} "
            f"| {'yes' if r['codegen_matches_hand'] and r.get('random_codegen_matches_hand') else 'NO'} |")
    ways = args.peers.split(",")
    lines += ["", "Resident memory of the recorded graph of the same chain, bytes per operation (RSS after "
              "building it minus before; for micrograd and torch the graph their backward() walks):", "",
              "| operations | " + " | ".join(ways) + " |", "| ---: |" + " ---: |" * len(ways)]
    for size, r in rows.items():
        cells = [per_node(r[f"rss:{w}"], size) if isinstance(r.get(f"rss:{w}"), int) else str(r.get(f"rss:{w}"))
                 for w in ways]
        lines.append(f"| {size:,} | " + " | ".join(cells) + " |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    Path(args.out).with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

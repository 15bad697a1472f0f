"""adcompare against its peers, in one run, as ratios (the performance issue's W0–W4).

    bash benchmarks/setup_peers.sh                     # once: benchmarks/.venv-peers
    python benchmarks/run.py [--quick] [--workloads W0,W1,W2,W3,W4] [--only KEY,...] [--out FILE]

Every case runs in a fresh subprocess of the peers' venv (benchmarks/peers.py), with its
imports, graph building and compilation excluded from the timing, and reports the median of
7 repeats (3 with --quick); a repeat is one call, or a loop of calls long enough to time.
Slow cases get fewer repeats within a per-case time budget, and the tables say so. Every
subprocess has a timeout. The machine is noisy (15–30 % run to run), so the tables give
ratios to a floor or a denominator measured in the same run; the denominators are measured
at the start and at the end of their workload, and the drift between the two is reported.

Results go to stdout and to benchmarks/results/latest.md (plus latest.json with every raw
time). Nothing here is a test: no timing is ever asserted.

The driver itself needs only the standard library; any Python 3.10+ can run it.
"""

import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(HERE))

import peers  # noqa: E402  (the case table; imports no peer)
import workloads as W  # noqa: E402

PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"
ALL_WORKLOADS = ("W0", "W1", "W2", "W3", "W4", "W5")


class Settings:
    def __init__(self, quick):
        self.quick = quick
        self.repeats = 3 if quick else 7
        self.target_s = 0.05 if quick else 0.2     # one repeat of a fast call loops for about this long
        self.budget_s = 6.0 if quick else 40.0     # timed repeats of one case stop after about this long
        self.max_call_s = 10.0 if quick else 60.0  # a size whose estimated call exceeds this is skipped
        self.timeout_s = 120.0 if quick else 360.0
        self.swell_timeout_s = 45.0 if quick else 120.0
        self.w0_runs = 5 if quick else 15
        self.w2_sizes = W.W2_QUICK_SIZES if quick else W.W2_SIZES
        self.swell_sizes = W.SWELL_QUICK_SIZES if quick else W.SWELL_SIZES
        self.w3_sizes = W.W3_QUICK_SIZES if quick else W.W3_SIZES
        self.w5_timeout_s = 120.0 if quick else 600.0


def log(message):
    print(message, file=sys.stderr, flush=True)


# ============================================================================ running children

def signal_name(code):
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def run_child(python, spec, timeout):
    command = [str(python), str(HERE / "peers.py"), json.dumps(spec)]
    start = time.monotonic()
    try:
        process = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=HERE,
                                 stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "error": f"timed out after {timeout:g} s", "wall_s": time.monotonic() - start}
    wall = time.monotonic() - start
    for line in reversed(process.stdout.splitlines()):
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
            result["wall_s"] = wall
            return result
    if process.returncode < 0:
        error = f"crashed ({signal_name(process.returncode)})"
    else:
        error = f"exited {process.returncode} without a result"
    tail = (process.stderr.strip().splitlines() or [""])[-1][:200]
    return {"status": "crashed", "error": error + (f": {tail}" if tail else ""), "wall_s": wall,
            "stderr": process.stderr[-2000:]}


def run_workload(workload, sizes, settings, python, only, timeout):
    """Run every case of ``workload`` at every size; returns {case key: {size: result}}."""
    table = peers.cases(workload)
    if only:
        table = [c for c in table if c.key in only or c.kind == "reference"]
    results = {case.key: {} for case in table}
    references = [c for c in table if c.kind == "reference"]
    order = references + [c for c in table if c.kind != "reference"] + references   # denominators first and last
    done = set()
    for case in order:
        again = case.key in done     # a denominator's second measurement, at the end
        done.add(case.key)
        previous = None
        for size in sizes:
            label = f"[{workload}{'' if size is None else f' {size:,}'}] {case.label}"
            skip = skip_reason(case, size, previous, settings)
            if skip and not again:
                results[case.key][size] = {"status": "skipped", "error": skip}
                log(f"{label}: skipped ({skip})")
                continue
            if skip:
                continue
            spec = {"workload": workload, "case": case.key, "size": size, "repeats": settings.repeats,
                    "target_s": settings.target_s, "budget_s": settings.budget_s}
            result = run_child(python, spec, timeout)
            result["size"] = size
            log(f"{label}{' (again, at the end)' if again else ''}: {summary(result)}")
            if again:
                results[case.key][size]["end_run"] = result
            else:
                results[case.key][size] = result
                previous = (size, result)
    for case in references:
        for size, result in results[case.key].items():
            end = result.get("end_run")
            if result.get("status") == "ok" and end and end.get("status") == "ok":
                result["drift"] = end["per_call_s"] / result["per_call_s"]
                result["per_call_s"] = statistics.median(result["times"] + end["times"])
                result["repeats"] = len(result["times"]) + len(end["times"])
    return table, results


def skip_reason(case, size, previous, settings):
    limit = case.quick_max_size if settings.quick and case.quick_max_size is not None else case.max_size
    if limit is not None and size is not None and size > limit:
        return case.skip_reason or f"not run above {limit:,}"
    if previous is None:
        return None
    last_size, last = previous
    if last.get("status") == "unavailable":
        return last["error"]
    if last.get("status") in ("error", "timeout", "crashed"):
        return f"not run: failed at {last_size:,} ({short_error(last)})"
    if last.get("status") == "skipped":
        return last["error"]
    if last.get("status") == "ok" and size and last_size:
        estimate = last["per_call_s"] * (size / last_size) ** case.growth
        if estimate > settings.max_call_s:
            return (f"skipped: estimated {estimate:,.0f} s per call from {last_size:,} "
                    f"(×{size / last_size:g}^{case.growth:g}), over the {settings.max_call_s:g} s limit")
    return None


def short_error(result):
    text = result.get("error", result.get("status", "?"))
    if text.startswith("RecursionError"):
        return "RecursionError"
    return text.split(":")[0] if len(text) > 60 else text


def summary(result):
    status = result.get("status")
    if status == "ok":
        check = "" if result.get("check_ok") else f"  CHECK FAILED: {result.get('check')}"
        return f"{fmt_seconds(result['per_call_s'])} per call, {result['repeats']} repeats{check}"
    return f"{status}: {result.get('error', '')}"


# ============================================================================ formatting

def fmt_seconds(seconds):
    if seconds < 1e-6:
        return f"{seconds * 1e9:.3g} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt_number(value):
    """Three significant figures, thousands separated."""
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.2g}"


class Footnotes:
    def __init__(self):
        self.notes = []

    def mark(self, text):
        if text not in self.notes:
            self.notes.append(text)
        return f"[{self.notes.index(text) + 1}]"

    def render(self):
        return "".join(f"\n[{i + 1}] {text}" for i, text in enumerate(self.notes)) + ("\n" if self.notes else "")


def markdown_table(header, rows, align=None):
    align = align or ["---"] + ["---" if h == "notes" else "---:" for h in header[1:]]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def status_cell(result, notes):
    """A short cell for a result that has no time, with the reason in a footnote."""
    status = result.get("status", "?")
    if status == "skipped":
        return "skipped " + notes.mark(result["error"])
    if status == "unavailable":
        return "not available " + notes.mark(result["error"])
    if status == "timeout":
        return result["error"]
    if status == "crashed":
        return "crashed " + notes.mark(result["error"])
    where = result.get("phase", "")
    return short_error(result) + " " + notes.mark(f"{result.get('error', '')}" + (f" (in {where})" if where else ""))


def quality(result, notes, settings):
    """Marks after a time: fewer repeats than asked, a wrong answer."""
    marks = ""
    if result.get("status") == "ok":
        if not result.get("check_ok", True):
            marks += " WRONG " + notes.mark(f"answer check failed: {result.get('check')}")
        if result.get("repeats", settings.repeats) < settings.repeats:
            marks += f" ({result['repeats']}×)"
    return marks


def label_of(case):
    return f"**{case.label}**" if case.kind == "adcompare" else case.label


def extra_notes(result):
    notes = result.get("notes") or {}
    parts = []
    for key in ("compile s", "prepare s"):
        if key in notes and notes[key] >= 1e-3:
            parts.append(f"{key.split()[0]} {fmt_seconds(notes[key])}")
    return parts


# ============================================================================ W1

def table_w1(table, results, settings):
    notes = Footnotes()
    reference = results[table[0].key][None]
    floor = reference.get("per_call_s")
    rows = []
    for case in table:
        result = results[case.key][None]
        if result.get("status") == "ok":
            ratio = fmt_number(result["per_call_s"] / floor) if floor else "—"
            if case.kind == "context":
                ratio = "—"
            extra = extra_notes(result)
            if case.kind == "reference" and "drift" in result:
                extra.append(f"end/start drift ×{result['drift']:.2f}")
            rows.append((result["per_call_s"], [label_of(case), fmt_number(result["per_call_s"] * 1e6)
                                                + quality(result, notes, settings), ratio, "; ".join(extra)]))
        else:
            rows.append((float("inf"), [label_of(case), status_cell(result, notes), "", ""]))
    rows.sort(key=lambda r: r[0])
    text = ("### W1 — one gradient of ln(x1)+x1·x2−sin(x2) at (2, 5), µs per call\n\n"
            + markdown_table(["way", "µs per call", "× hand formula", "notes"], [r[1] for r in rows],
                           ["---", "---:", "---:", "---"]))
    return text + notes.render()


# ============================================================================ W2

def per_op(result, size):
    return result["per_call_s"] / size * 1e6


def table_w2(table, results, sizes, settings):
    notes = Footnotes()
    floor_case = next(c for c in table if c.kind == "reference")
    header = ["way"] + [f"N = {n:,}" for n in sizes] + ["notes"]
    rows = []
    for case in table:
        cells = [label_of(case)]
        extra = []
        for n in sizes:
            result = results[case.key].get(n, {"status": "skipped", "error": "not run"})
            if result.get("status") == "ok":
                floor = results[floor_case.key].get(n, {})
                ratio = (f" (×{fmt_number(result['per_call_s'] / floor['per_call_s'])})"
                         if floor.get("status") == "ok" and case is not floor_case else "")
                cells.append(f"{fmt_number(per_op(result, n))}{ratio}" + quality(result, notes, settings))
                extra += [f"{part} at {n:,}" for part in extra_notes(result)]
                if case.kind == "reference" and "drift" in result:
                    extra.append(f"drift ×{result['drift']:.2f} at {n:,}")
            else:
                cells.append(status_cell(result, notes))
        cells.append("; ".join(extra))
        rows.append(cells)
    text = ("### W2 — deep chain s = sin(s)·x2 + ln(1 + s·s), reverse gradient, µs per elementary operation "
            "(× hand-written tangent floor)\n\n" + markdown_table(header, rows))
    text += notes.render()
    text += "\n" + table_w2_speedups(table, results, sizes)
    return text


W2_PEERS = ("micrograd", "micrograd-deep", "autograd", "torch", "jax-eager")


def table_w2_speedups(table, results, sizes):
    """How many times faster per operation each adcompare row is than each peer (> 1: adcompare faster)."""
    header = ["adcompare ÷ peer, per op"] + [f"N = {n:,}" for n in sizes]
    rows = []
    for case in table:
        if case.kind != "adcompare":
            continue
        for peer in W2_PEERS:
            cells = [f"{case.label} vs {peer}"]
            any_value = False
            for n in sizes:
                mine, theirs = results[case.key].get(n, {}), results.get(peer, {}).get(n, {})
                if mine.get("status") == "ok" and theirs.get("status") == "ok":
                    cells.append(f"{fmt_number(theirs['per_call_s'] / mine['per_call_s'])}× faster"
                                 if theirs["per_call_s"] >= mine["per_call_s"]
                                 else f"{fmt_number(mine['per_call_s'] / theirs['per_call_s'])}× slower")
                    any_value = True
                else:
                    cells.append("—")
            if any_value:
                rows.append(cells)
    if not rows:
        return ""
    return "Speed per operation against the peers (the issue's W2 target: ≥ 3× faster than micrograd, faster than " \
           "autograd, eager torch and jax):\n\n" + markdown_table(header, rows)


def table_swell(table, results, sizes, settings):
    notes = Footnotes()
    header = ["N (steps)", "count_ops f", "count_ops ∂f/∂x1 + ∂f/∂x2", "sympy diff", "adcompare symbolic run_method"]
    rows = []
    for n in sizes:
        diff = results.get("sympy-diff", {}).get(n, {})
        symbolic = results.get("adcompare:symbolic", {}).get(n, {})
        counts = (diff.get("notes") or {})
        row = [f"{n:,} ({W.chain_steps(n)})", f"{counts.get('count_ops f', '—'):,}"
               if isinstance(counts.get("count_ops f"), int) else "—",
               f"{counts['count_ops df']:,}" if isinstance(counts.get("count_ops df"), int) else "—"]
        row.append(fmt_seconds(diff["per_call_s"]) + quality(diff, notes, settings)
                   if diff.get("status") == "ok" else status_cell(diff, notes) if diff else "—")
        if symbolic.get("status") == "ok":
            outcome = (symbolic.get("notes") or {}).get("outcome", "")
            mark = "" if outcome == "derivative computed" else " " + notes.mark(outcome)
            word = "" if outcome == "derivative computed" else " (skipped by its budget)"
            row.append(fmt_seconds(symbolic["per_call_s"]) + word + mark + quality(symbolic, notes, settings))
        else:
            row.append(status_cell(symbolic, notes) if symbolic else "—")
        rows.append(row)
    text = ("### W2 — sympy's expression swell on the same chain (sympy cache cleared before each diff; "
            f"per-case timeout {settings.swell_timeout_s:g} s)\n\n" + markdown_table(header, rows))
    return text + notes.render()


# ============================================================================ W3

def table_w3(table, results, sizes, settings):
    notes = Footnotes()
    reference = next(c for c in table if c.kind == "reference")
    header = ["way"] + [f"n = {n:,}" for n in sizes] + ["notes"]
    primal_row = ["plain-Python primal, µs (the denominator)"]
    for n in sizes:
        r = results[reference.key].get(n, {})
        primal_row.append(fmt_number(r["per_call_s"] * 1e6) + (f" (drift ×{r['drift']:.2f})" if "drift" in r else "")
                          if r.get("status") == "ok" else status_cell(r, notes))
    rows = [primal_row + [""]]
    for case in table:
        if case is reference:
            continue
        cells, extra = [label_of(case)], []
        for n in sizes:
            result = results[case.key].get(n, {"status": "skipped", "error": "not run"})
            denominator = results[reference.key].get(n, {})
            if result.get("status") == "ok" and denominator.get("status") == "ok":
                cells.append(fmt_number(result["per_call_s"] / denominator["per_call_s"])
                             + quality(result, notes, settings))
                extra += [f"{part} at {n:,}" for part in extra_notes(result)]
            else:
                cells.append(status_cell(result, notes))
        cells.append("; ".join(extra))
        rows.append(cells)
    text = ("### W3 — wide Σ x_i·sin(x_{i+1}): gradient time ÷ one plain-Python primal evaluation\n\n"
            + markdown_table(header, rows))
    return text + notes.render()


# ============================================================================ W4

def table_w4(table, results, settings, points):
    notes = Footnotes()
    reference = next(c for c in table if c.kind == "reference")
    denominator = results[reference.key][points]
    rows = []
    for case in table:
        result = results[case.key][points]
        if result.get("status") == "ok":
            ratio = fmt_number(result["per_call_s"] / denominator["per_call_s"]) \
                if denominator.get("status") == "ok" else "—"
            extra = extra_notes(result)
            if "drift" in result:
                extra.append(f"end/start drift ×{result['drift']:.2f}")
            if (result.get("notes") or {}).get("torch threads"):
                extra.append(f"{result['notes']['torch threads']} thread(s)")
            rows.append((result["per_call_s"], [label_of(case), fmt_number(result["per_call_s"] * 1e3)
                                                + quality(result, notes, settings), ratio, "; ".join(extra)]))
        else:
            cell = status_cell(result, notes)
            if case.kind == "adcompare" and result.get("status") == "error":
                cell = "not supported yet " + notes.mark(f"{result.get('error')} (in {result.get('phase')})")
            rows.append((float("inf"), [label_of(case), cell, "", ""]))
    rows.sort(key=lambda r: r[0])
    text = (f"### W4 — ∇f of the W1 function at {points:,} points: time ÷ numpy evaluating f alone\n\n"
            + markdown_table(["way", "ms per call", "× numpy primal", "notes"], [r[1] for r in rows],
                           ["---", "---:", "---:", "---"]))
    return text + notes.render()


# ============================================================================ W0

def run_w0(python, settings):
    bin_dir = Path(python).parent
    cli = bin_dir / "adcompare"
    trace = ([str(cli)] if cli.exists() else [str(python), "-m", "adcompare"]) + \
        ["trace", W.W1_TEXT, "--at", "2,5"]
    commands = [
        ("python -c pass", [str(python), "-c", "pass"], "context"),
        ('python -c "import numpy, sympy, tabulate" (the floor)', [str(python), "-c", "import numpy, sympy, tabulate"],
         "reference"),
        ('python -c "import adcompare"', [str(python), "-c", "import adcompare"], "context"),
        (f'adcompare trace "{W.W1_TEXT}" --at 2,5', trace, "target"),
    ]
    times = {label: [] for label, _, _ in commands}
    codes = {}
    # One warm-up round (page cache), then interleaved rounds so drift hits every command alike.
    for round_number in range(settings.w0_runs + 1):
        for label, command, _ in commands:
            start = time.perf_counter()
            try:
                process = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         stdin=subprocess.DEVNULL, timeout=60, cwd=HERE)
                code = process.returncode
            except subprocess.TimeoutExpired:
                code = "timeout"
            elapsed = time.perf_counter() - start
            codes.setdefault(label, code)
            if round_number:
                times[label].append(elapsed)
    log(f"[W0] {settings.w0_runs} interleaved runs each: done")
    return commands, times, codes


def table_w0(commands, times, codes, settings):
    floor_label = next(label for label, _, kind in commands if kind == "reference")
    floor = statistics.median(times[floor_label])
    rows = []
    for label, _, kind in commands:
        median = statistics.median(times[label])
        spread = f"{min(times[label]) * 1e3:.0f}–{max(times[label]) * 1e3:.0f}"
        code = codes[label]
        rows.append([f"**{label}**" if kind == "target" else label, f"{median * 1e3:.0f}", spread,
                     f"{median / floor:.2f}", "" if code == 0 else f"exit code {code}"])
    return ("### W0 — whole process, wall time (median of "
            f"{settings.w0_runs} interleaved runs after one warm-up round)\n\n"
            + markdown_table(["command", "ms", "min–max ms", "× import floor", "notes"], rows))


# ============================================================================ W5: the command line on large inputs

def run_measured(command, stdin_text, timeout):
    """Wall time and exit code of ``command`` reading ``stdin_text``; the command is wrapped
    in RSS_WRAPPER, which prints the case's own peak resident memory last on stderr."""
    import tempfile
    with tempfile.TemporaryFile("w+") as stdin:
        stdin.write(stdin_text)
        stdin.seek(0)
        start = time.perf_counter()
        process = subprocess.Popen(command, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   cwd=HERE, text=True)
        try:
            _, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return {"status": "timeout", "wall_s": time.perf_counter() - start, "error": f"killed after {timeout:g} s"}
        wall = time.perf_counter() - start
    return {"status": "ok", "wall_s": wall, "exit": process.returncode, "stderr": err[-300:]}


RSS_WRAPPER = (
    "import resource, subprocess, sys; "
    "code = subprocess.call(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code, file=sys.stderr)")


def run_w5(python, settings):
    """Each command-line case of W5 once (they take seconds to minutes), its wall time and
    peak memory; the import floor and np.loadtxt of the points file for the ratios."""
    points = W.points_csv(HERE / "results" / "w5-points.csv")
    floor = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([str(python), "-c", "import numpy, sympy, tabulate"], check=False)
        floor.append(time.perf_counter() - start)
    rows = {"floor_s": statistics.median(floor), "cases": []}
    read = subprocess.run([str(python), "-c", (
        "import time, numpy as np, sys; from adcompare.points_file import read_points\n"
        "best = lambda f: min((lambda s: (f(), time.perf_counter() - s)[1])(time.perf_counter()) for _ in range(5))\n"
        f"p = {str(points)!r}\n"
        "a = best(lambda: np.loadtxt(p, delimiter=',', skiprows=1)); b = best(lambda: read_points(p))\n"
        "print(a, b)")], capture_output=True, text=True, timeout=600)
    try:
        rows["loadtxt_s"], rows["read_points_s"] = map(float, read.stdout.split())
    except ValueError:
        rows["read_error"] = read.stderr[-300:]
    for key, label, expression, at, extra, runs in W.w5_cases(points):
        command = [str(python), "-c", RSS_WRAPPER, str(python), "-m", "adcompare", "trace", "-", *extra]
        if at:
            command += ["--at", at]
        tries, floors = [], []
        for _ in range(runs):
            tries.append(run_measured(command, expression, settings.w5_timeout_s))
            if runs > 1:     # the floor again between runs: the two medians are of the same minutes
                start = time.perf_counter()
                subprocess.run([str(python), "-c", "import numpy, sympy, tabulate"], check=False)
                floors.append(time.perf_counter() - start)
        result = tries[0]
        if result["status"] == "ok":
            if runs > 1:
                result = dict(result, wall_s=statistics.median(t["wall_s"] for t in tries),
                              walls=[t["wall_s"] for t in tries], floor_s=statistics.median(floors))
            last = result["stderr"].strip().splitlines()[-1].split()
            result["max_rss_bytes"], result["exit"] = int(last[0]) * 1024, int(last[1])
            result["stderr"] = "\n".join(result["stderr"].strip().splitlines()[:-1])[-200:]
        result.update(key=key, label=label, chars=len(expression), runs=runs)
        rows["cases"].append(result)
        log(f"[W5] {label}: {result['wall_s']:.1f} s, {result.get('max_rss_bytes', 0) / 2**20:.0f} MB, "
            f"exit {result.get('exit')}")
    return rows


def table_w5(rows):
    lines = [["python -c \"import numpy, sympy, tabulate\" (the floor)", f"{rows['floor_s']:.2f}", "1.00", "", ""]]
    for case in rows["cases"]:
        if case["status"] != "ok":
            lines.append([case["label"], case["error"], "", "", ""])
            continue
        lines.append([case["label"], f"{case['wall_s']:.2f}", f"{case['wall_s'] / rows['floor_s']:.1f}",
                      f"{case['max_rss_bytes'] / 2**20:,.0f}", str(case["exit"])
                      + (f": {case['stderr'].splitlines()[-1][:120]}" if case.get("stderr") else "")])
    text = ("### W5 — the command line on large inputs: wall time (one run each unless the notes say), × the "
            "import floor, peak "
            "memory\n\n" + markdown_table(["command (`adcompare trace - --at …`, the expression on stdin)", "s",
                                            "× import floor", "peak MB", "exit code"], lines))
    if "loadtxt_s" in rows:
        text += (f"\nReading the {W.W5_POINTS_ROWS:,}-row points file: `np.loadtxt` {rows['loadtxt_s'] * 1e3:.0f} ms, "
                 f"`read_points` {rows['read_points_s'] * 1e3:.0f} ms "
                 f"({rows['read_points_s'] / rows['loadtxt_s']:.2f}×; best of 5 each).\n")
    return text


# ============================================================================ the targets of issue 15

def _ok(results, workload, key, size):
    result = results.get(workload, {}).get(key, {}).get(size, {})
    return result if result.get("status") == "ok" else None


def table_targets(raw, settings):
    """Every target of issue 15 that this run measured, as a ratio of this run."""
    results = raw["results"]
    rows = []

    def add(target, figure, met):
        rows.append([target, figure, "yes" if met else ("no" if met is False else "—")])

    w1 = results.get("W1", {})
    full, sweep = _ok(results, "W1", "adcompare:codegen-reverse", None), _ok(results, "W1", "codegen-sweep", None)
    hand = _ok(results, "W1", "hand", None)
    if full and sweep and hand:
        wrapper = full["per_call_s"] - sweep["per_call_s"]
        add("W1: the wrapper around the generated backward() costs no more than the sweep itself",
            f"gradient() {full['per_call_s'] * 1e6:.2f} µs = sweep {sweep['per_call_s'] * 1e6:.2f} µs + wrapper "
            f"{wrapper * 1e6:.2f} µs (wrapper ÷ sweep {wrapper / sweep['per_call_s']:.2f}); ÷ hand formula "
            f"{full['per_call_s'] / hand['per_call_s']:.1f}× (≤ 10×)", wrapper <= sweep["per_call_s"])
    if "W2" in results:
        sizes = [n for n in settings.w2_sizes if _ok(results, "W2", "adcompare:codegen-reverse", n)
                 and _ok(results, "W2", "primal", n)]
        per_op = {n: _ok(results, "W2", "adcompare:codegen-reverse", n)["per_call_s"] / n for n in sizes}
        ratios = {n: _ok(results, "W2", "adcompare:codegen-reverse", n)["per_call_s"]
                  / _ok(results, "W2", "primal", n)["per_call_s"] for n in sizes}
        if ratios:
            add("W2: compiled reverse per op ÷ plain-Python primal per op ≤ 10× at every N",
                ", ".join(f"{ratios[n]:.1f}× at {n:,}" for n in sizes), max(ratios.values()) <= 10)
        if 6000 in per_op:
            big = [n for n in sizes if n >= 600_000]
            if big:
                add("W2: per-operation cost at 600k and 10⁶ operations within 1.5× of the 6k figure",
                    ", ".join(f"{per_op[n] / per_op[6000]:.2f}× at {n:,}" for n in big)
                    + f" (6k: {per_op[6000] * 1e6:.3f} µs/op)", max(per_op[n] / per_op[6000] for n in big) <= 1.5)
        prepare = {n: (_ok(results, "W2", "adcompare:codegen-reverse", n).get("notes") or {}).get("prepare s")
                   for n in sizes}
        prepare = {n: v for n, v in prepare.items() if v}
        if prepare:
            add("W2: compile time linear in N at ≤ 20 µs per node (the repetitive chain: see scale.py for a graph "
                "with no repeats)", ", ".join(f"{v / n * 1e6:.1f} µs at {n:,}" for n, v in prepare.items()),
                max(v / n * 1e6 for n, v in prepare.items()) <= 20)
    w3_size = max(settings.w3_sizes)
    w3 = _ok(results, "W3", "adcompare:codegen-reverse", w3_size)
    w3_primal = _ok(results, "W3", "primal", w3_size)
    if w3 and w3_primal:
        ratio = w3["per_call_s"] / w3_primal["per_call_s"]
        add(f"W3 reverse ÷ one evaluation at n = {w3_size:,} ≤ 5× (compiled reverse ÷ plain-Python primal)",
            f"{ratio:.2f}×" + ("" if w3_size == 10_000 else " (not n = 10⁴: --quick)"), ratio <= 5)
    w4 = results.get("W4", {})
    primal = _ok(results, "W4", "numpy-primal", W.W4_POINTS)
    for key, target, limit in (("adcompare:codegen-forward", "W4 forward ≤ 3× the numpy primal", 3.0),
                               ("adcompare:codegen-reverse", "W4 reverse ≤ 2× the numpy primal", 2.0),
                               ("adcompare:codegen-backward", "W4 backward(): value and gradient (context)", None),
                               ("adcompare:reverse", "W4 reverse, run_method (what --at points.csv runs)", None),
                               ("adcompare:forward", "W4 forward, run_method (what --at points.csv runs)", None)):
        result = _ok(results, "W4", key, W.W4_POINTS)
        if primal and result:
            ratio = result["per_call_s"] / primal["per_call_s"]
            add(target, f"{ratio:.2f}×", None if limit is None else ratio <= limit)
    w5 = results.get("W5")
    if w5:
        floor = w5["floor_s"]
        cases = {case.get("key"): case for case in w5["cases"]}

        def figure(case):
            return (f"{case['wall_s']:.2f} s ({case['wall_s'] / case.get('floor_s', floor):.2f}× the floor"
                    + (f", medians of {case['runs']} interleaved runs" if case.get("runs", 1) > 1 else "") + "), "
                    f"{case['max_rss_bytes'] / 2**20:,.0f} MB, exit {case['exit']}")

        for key, target, check in (
                ("5k", "An expression of 5,000 operations traces in ≤ 2× the import floor",
                 lambda c: c["wall_s"] / c.get("floor_s", floor) <= 2),
                ("60k", "one of 60,000 in ≤ 10 s and ≤ 500 MB",
                 lambda c: c["wall_s"] <= 10 and c["max_rss_bytes"] <= 500 * 2**20),
                ("points", "One point where the derivative does not exist never aborts the run (10⁵ rows, one "
                           "x = 5e-324)", lambda c: c["exit"] != 2)):
            case = cases.get(key)
            if case is None:
                continue
            if case["status"] != "ok":
                add(target, case["error"], False)
            else:
                add(target, figure(case), check(case))
        for small, big, target in (
                ("neg-fifth", "neg", "every input the documented limits accept finishes in time and memory linear "
                                     "in its size (state the constants): 10⁵ unary minus signs"),
                ("sum-fifth", "sum", 'every input the documented limits accept …: "x"+"+x"*499999')):
            a, b = cases.get(small), cases.get(big)
            if not (a and b):
                continue
            if a["status"] != "ok" or b["status"] != "ok":
                add(target, (a if a["status"] != "ok" else b)["error"], False)
                continue
            size = {"neg-fifth": 20_000, "neg": 100_000, "sum-fifth": 99_999, "sum": 499_999}
            grow = size[big] / size[small]
            per_op_s = (b["wall_s"] - a["wall_s"]) / (size[big] - size[small])
            per_op_b = (b["max_rss_bytes"] - a["max_rss_bytes"]) / (size[big] - size[small])
            time_ratio, memory_ratio = b["wall_s"] / a["wall_s"], b["max_rss_bytes"] / a["max_rss_bytes"]
            add(target, f"{figure(b)}; at a fifth of the size {a['wall_s']:.1f} s, {a['max_rss_bytes'] / 2**20:,.0f} "
                        f"MB: {per_op_s * 1e6:.0f} µs and {per_op_b:,.0f} bytes per operation more; time ×{time_ratio:.1f}, "
                        f"memory ×{memory_ratio:.1f} for ×{grow:.0f} the size",
                b["exit"] != 2 and b["exit"] is not None and time_ratio <= 1.5 * grow and memory_ratio <= 1.5 * grow)
        for key, target in (("vars", "every input the documented limits accept …: 50,000 variables (forward mode "
                                     "and finite differences pay per variable)"),
                            ("jacobian", "every input the documented limits accept …: 223 outputs × 223 variables "
                                         "(a Jacobian at the limit of 50,000 derivatives)")):
            case = cases.get(key)
            if case:
                add(target, figure(case) if case["status"] == "ok" else case["error"],
                    case["status"] == "ok" and case["exit"] in (0, 4))
        if "loadtxt_s" in w5:
            ratio = w5["read_points_s"] / w5["loadtxt_s"]
            add("Reading 10⁵ CSV rows costs no more than 2× `np.loadtxt`", f"{ratio:.2f}×", ratio <= 2)
    return ("### The targets of issue 15, from this run\n\n"
            + markdown_table(["target (as the issue states it)", "measured in this run", "met"], rows,
                             ["---", "---", "---"]))


# ============================================================================ machine information

VERSION_SCRIPT = r"""
import json, os, sys, platform
from importlib.metadata import version, PackageNotFoundError
info = {"python": sys.version.split()[0], "implementation": platform.python_implementation()}
for name in ("adcompare", "numpy", "sympy", "tabulate", "autograd", "jax", "jaxlib", "torch", "micrograd",
             "numdifftools", "scipy"):
    try:
        info[name] = version(name)
    except PackageNotFoundError:
        info[name] = "not installed"
try:
    from threadpoolctl import threadpool_info
    import numpy
    info["blas"] = [{k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                    for p in threadpool_info()]
except Exception as error:
    info["blas"] = f"threadpoolctl not available: {error}"
try:
    import torch
    info["torch threads"] = torch.get_num_threads()
except Exception:
    pass
print(json.dumps(info))
"""


def machine_info(python):
    info = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "nproc": os.cpu_count(), "platform": platform.platform()}
    try:
        with open("/proc/cpuinfo") as handle:
            info["cpu"] = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "?")
    except OSError:
        info["cpu"] = platform.processor() or "?"
    try:
        with open("/proc/meminfo") as handle:
            info["memory"] = f"{int(handle.readline().split()[1]) / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    info["OPENBLAS_CORETYPE"] = os.environ.get("OPENBLAS_CORETYPE", "not set")
    info["OPENBLAS_L2_SIZE"] = os.environ.get("OPENBLAS_L2_SIZE", "not set")
    try:
        info["versions"] = json.loads(subprocess.run([str(python), "-c", VERSION_SCRIPT], capture_output=True,
                                                     text=True, timeout=120).stdout)
    except (subprocess.SubprocessError, json.JSONDecodeError, OSError) as error:
        info["versions"] = {"error": str(error)}
    try:
        head = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(PROJECT), "status", "--porcelain", "--", "adcompare"],
                               capture_output=True, text=True, timeout=30).stdout.split("\n")
        info["git"] = head
        info["adcompare changes"] = [line.strip() for line in dirty if line.strip()]
    except (subprocess.SubprocessError, OSError):
        info["git"] = "?"
    return info


def loadavg():
    try:
        with open("/proc/loadavg") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return "?"


def render_machine(info, settings, python, started, elapsed, load_start, load_end):
    v = info.get("versions", {})
    peers_line = ", ".join(f"{name} {v.get(name, '?')}" for name in
                           ("autograd", "jax", "jaxlib", "torch", "micrograd", "numdifftools"))
    blas = v.get("blas")
    if isinstance(blas, list):
        blas = "; ".join(f"{b.get('internal_api')} {b.get('version')} ({b.get('architecture')}, "
                         f"{b.get('num_threads')} threads)" for b in blas) or "none loaded"
    changes = info.get("adcompare changes") or []
    lines = [
        f"- date: {info['date']}; wall time of this run: {elapsed / 60:.1f} min "
        f"({'--quick' if settings.quick else 'full run'})",
        f"- machine: {info['nproc']} cores ({info['cpu']}), {info.get('memory', '?')} memory, {info['platform']}",
        f"- load average at start / end: {load_start} / {load_end} (other jobs share this machine: "
        "ratios, not absolute times, are the result)",
        f"- Python {v.get('python', '?')} ({python}); adcompare {v.get('adcompare', '?')} at git {info.get('git', '?')}"
        + (f" with uncommitted changes in adcompare/: {', '.join(changes)}" if changes else ""),
        f"- numpy {v.get('numpy', '?')}, sympy {v.get('sympy', '?')}, tabulate {v.get('tabulate', '?')}",
        f"- peers: {peers_line}",
        f"- OPENBLAS_CORETYPE: {info['OPENBLAS_CORETYPE']}; OPENBLAS_L2_SIZE: {info['OPENBLAS_L2_SIZE']} "
        f"(left as found); BLAS that numpy loads: {blas}. None of these workloads calls BLAS: they are "
        "elementwise numpy and scalar Python.",
        f"- method: each case in a fresh process, imports, graph building and compilation excluded; median of "
        f"{settings.repeats} repeats (fewer where marked (k×), within a {settings.budget_s:g} s budget per case); "
        f"per-case timeout {settings.timeout_s:g} s; jax in float64 (jax_enable_x64), torch in float64; "
        "garbage collection on, as in ordinary use; adcompare's modules compiled to bytecode first (compileall), "
        "as an installed package has them.",
    ]
    return "\n".join(lines) + "\n"


# ============================================================================ main

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller largest sizes, short budgets")
    parser.add_argument("--workloads", default=",".join(ALL_WORKLOADS),
                        help="comma-separated, from W0,W1,W2,W3,W4 (W2 includes the sympy swell table; "
                             "W2S alone is that table)")
    parser.add_argument("--only", default="", help="comma-separated case keys to run (with the denominators), "
                                                   "e.g. adcompare:reverse,torch")
    parser.add_argument("--python", default=str(PEERS_PYTHON if PEERS_PYTHON.exists() else sys.executable),
                        help="interpreter for the cases (default: benchmarks/.venv-peers)")
    parser.add_argument("--out", default=str(HERE / "results" / "latest.md"), help="Markdown results file")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    settings = Settings(args.quick)
    selected = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in selected if w not in ALL_WORKLOADS + ("W2S",)]
    if unknown:
        sys.exit(f"unknown workload {unknown[0]} (choose from {', '.join(ALL_WORKLOADS)}, W2S)")
    only = {key.strip() for key in args.only.split(",") if key.strip()}
    args.python = os.path.abspath(args.python)   # not resolve(): a venv's python is a symlink out of the venv
    if not Path(args.python).exists():
        sys.exit(f"no interpreter at {args.python}: run benchmarks/setup_peers.sh first")
    # adcompare's modules as an installed package has them, compiled to bytecode: where
    # PYTHONDONTWRITEBYTECODE is set (as on the machine of these runs) an editable install
    # would otherwise compile every module from source in every process.
    subprocess.run([args.python, "-m", "compileall", "-q", str(PROJECT / "adcompare")], check=False,
                   stdout=subprocess.DEVNULL)
    started = time.monotonic()
    load_start = loadavg()
    info = machine_info(args.python)
    sections = []
    raw = {"settings": vars(settings), "machine": info, "results": {}}

    if "W1" in selected:
        table, results = run_workload("W1", [None], settings, args.python, only, settings.timeout_s)
        sections.append(table_w1(table, results, settings))
        raw["results"]["W1"] = results
    if "W2" in selected:
        table, results = run_workload("W2", settings.w2_sizes, settings, args.python, only, settings.timeout_s)
        sections.append(table_w2(table, results, settings.w2_sizes, settings))
        raw["results"]["W2"] = results
    if "W2S" in selected or ("W2" in selected and not only):
        table, results = run_workload("W2S", settings.swell_sizes, settings, args.python, set(),
                                      settings.swell_timeout_s)
        sections.append(table_swell(table, results, settings.swell_sizes, settings))
        raw["results"]["W2S"] = results
    if "W3" in selected:
        table, results = run_workload("W3", settings.w3_sizes, settings, args.python, only, settings.timeout_s)
        sections.append(table_w3(table, results, settings.w3_sizes, settings))
        raw["results"]["W3"] = results
    if "W4" in selected:
        table, results = run_workload("W4", [W.W4_POINTS], settings, args.python, only, settings.timeout_s)
        sections.append(table_w4(table, results, settings, W.W4_POINTS))
        raw["results"]["W4"] = results
    if "W0" in selected:
        commands, times, codes = run_w0(args.python, settings)
        sections.append(table_w0(commands, times, codes, settings))
        raw["results"]["W0"] = {label: {"times": times[label], "exit code": codes[label]} for label in times}

    if "W5" in selected:
        rows = run_w5(args.python, settings)
        sections.append(table_w5(rows))
        raw["results"]["W5"] = rows
    sections.append(table_targets(raw, settings))

    elapsed = time.monotonic() - started
    title = "# adcompare against its peers" + (" (--quick)" if settings.quick else "")
    report = (title + "\n\n" + render_machine(info, settings, args.python, started, elapsed, load_start, loadavg())
              + "\n" + "\n".join(sections))
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    out.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str))
    log(f"written {out} and {out.with_suffix('.json').name} ({elapsed / 60:.1f} min)")


if __name__ == "__main__":
    main()

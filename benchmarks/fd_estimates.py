"""Do finite differences' error estimates hold? The measurement behind docs/guarantees.md.

Run:  python benchmarks/fd_estimates.py [cases] [seed]      (default 10,000 cases, seed 20261212)

The corpus and the oracle are tests/fd_corpus.py: seeded random traces over the whole
operation table (70%) and edge families (30%: overflow inside the stencil, catastrophic
rounding, periodic functions at large |x|, tiny |x|, poles, domain edges and kinks nearby,
a scale set by another variable), each entry compared with forward mode in mpmath at 50
digits, confirmed at 80, with derivative rules of its own. For each finite-difference
method it prints how often the claimed error estimate bounds the actual error, how many
estimates were infinite (no step resolved f) and how many were tight enough to confirm
agreement at the default tolerance, the evaluations of f each variable cost, the rate per
kind, and every miss.
"""

import collections
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import fd_corpus  # noqa: E402


def main(size=10_000, seed=20261212):
    load_before = os.getloadavg()
    start = time.perf_counter()
    outcomes, claimed = fd_corpus.run_corpus(size, seed)
    seconds = time.perf_counter() - start
    load_after = os.getloadavg()
    kinds = collections.Counter(case.kind for case in fd_corpus.corpus(size, seed))
    print(f"{size:,} cases (seed {seed}; {', '.join(f'{k} {v:,}' for k, v in kinds.most_common())}); "
          f"{claimed:,} made a claim (the others: f or f′ undefined in exact arithmetic, a node at a kink, "
          f"bad input, or no reference established)")
    print(f"{seconds:.0f} s; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after\n")
    print("| method | entries | estimate ≥ actual error | infinite estimates | tight (≤ 1e-6·|f′| + 1e-8) "
          "| evaluations per variable: mean, max |")
    print("|---|---:|---:|---:|---:|---:|")
    table = fd_corpus.summarize(outcomes)
    for method in fd_corpus.FD_METHODS:
        counts = table[method]
        evaluations = [o.evaluations for o in outcomes if o.method == method]
        print(f"| {method} | {counts['entries']:,} | {counts['held'] / counts['entries']:.2%} | "
              f"{counts['infinite']:,} | {counts['tight'] / counts['entries']:.1%} | "
              f"{sum(evaluations) / len(evaluations):.1f}, {max(evaluations)} |")
    print("\nPer kind, estimates that held (all four methods):\n")
    print("| kind | entries | held |")
    print("|---|---:|---:|")
    by_kind = collections.defaultdict(list)
    for o in outcomes:
        by_kind[o.kind].append(o.held)
    for kind, held in sorted(by_kind.items(), key=lambda item: -len(item[1])):
        print(f"| {kind} | {len(held):,} | {sum(held) / len(held):.2%} |")
    print("\nMisses, by kind:\n")
    for (kind, method), found in sorted(fd_corpus.misses(outcomes).items()):
        for o in found:
            print(f"- {kind}, {method}: `{o.source}` at {o.point}: {o.value:.8g} for {float(o.reference):.8g}, "
                  f"error {float(o.error):.2g} > estimate {o.estimate:.2g} ({o.stencil}"
                  f"{', base stencil ' + o.fallback if o.fallback else ''})")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))

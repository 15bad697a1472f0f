"""The long run of the agreement property (tests/test_properties.py runs a bounded one).

Run:  python benchmarks/fuzz_agreement.py [examples] [max operations per graph]

Random traces over the whole operation table at random points: the four back ends must
agree, or disagree for a classified reason that is checked to be right (see
tests/strategies.py). Prints how many examples were tried and how they were classified;
a failure prints the shrunk counterexample. With FUZZ_CASE_LOG=path set, each case is
written there before it is checked, after a line with how many were checked so far (a run
stopped by a memory limit leaves its case; a long run shows its progress), and the first
case that fails, before hypothesis shrinks it, to that path + ".first".
"""

import collections
import os
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis.errors import UnsatisfiedAssumption

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from strategies import check_agreement, graphs_and_points  # noqa: E402


def main(examples=20_000, max_operations=9):
    outcomes = collections.Counter()

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(graphs_and_points(max_operations=max_operations))
    def property_holds(case):
        if log is not None:      # written before the check: a process the kernel kills leaves its case here
            log.seek(0)
            log.truncate()
            log.write(f"# {sum(outcomes.values())} examples checked in {time.perf_counter() - start:.0f} s; the next:\n")
            log.write(repr(case) + "\n")
            log.flush()
        try:
            outcomes[check_agreement(*case)] += 1
        except UnsatisfiedAssumption:
            raise               # a point outside the domain: not an example, not a failure
        except Exception:
            # The first failure is kept apart: hypothesis then shrinks it, and the log above
            # holds the last case tried (a MemoryError's shrunk case may run in 0.04 s).
            if log is not None and not os.path.exists(log.name + ".first"):
                Path(log.name + ".first").write_text(repr(case) + "\n")
            raise

    log = open(os.environ["FUZZ_CASE_LOG"], "w") if os.environ.get("FUZZ_CASE_LOG") else None
    start = time.perf_counter()

    property_holds()
    seconds = time.perf_counter() - start
    tried = sum(outcomes.values())
    print(f"{tried} examples checked in {seconds:.0f} s (points outside the domain, which hypothesis also "
          "drew, are not examples)")
    for outcome, count in outcomes.most_common():
        print(f"  {outcome:26} {count:7d}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))

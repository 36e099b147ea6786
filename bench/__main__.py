"""``python -m bench``: every benchmark, in one run; exits non-zero if one misses its target.

``BENCH_QUICK=1`` (``make bench-quick``): a few seconds each on small data, nothing enforced (CI runs
it so the benchmarks cannot rot). The figures of the run go to ``bench/results/<run>.json``.
"""

import sys

from bench import (
    bench_calendar,
    bench_catalogue,
    bench_events,
    bench_http,
    bench_notify,
    bench_pipeline,
    bench_stats,
)

if __name__ == "__main__":
    results = [
        bench_calendar.main(),
        bench_http.main(),
        bench_catalogue.main(),
        bench_notify.main(),
        bench_events.main(),
        bench_pipeline.main(),
        bench_stats.main(),
    ]
    sys.exit(1 if any(results) else 0)

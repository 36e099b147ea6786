"""``python -m bench``: every benchmark, in one run; exits non-zero if one misses its target."""

import sys

from bench import bench_calendar, bench_catalogue, bench_intake, bench_notify, bench_stats

if __name__ == "__main__":
    results = [
        bench_calendar.main(),
        bench_intake.main(),
        bench_catalogue.main(),
        bench_notify.main(),
        bench_stats.main(),
    ]
    sys.exit(1 if any(results) else 0)

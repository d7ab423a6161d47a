"""`python -m bench [a b c d e f]`: run the benchmarks (all by default) and print one table."""

import os
import sys
import time
import traceback

from .common import QUICK, Result

BENCHMARKS = {
    "a": ("http_lifecycle", "(a) HTTP lifecycles/s"),
    "b": ("inprocess", "(b) in-process lifecycle vs the SQL floor"),
    "c": ("pickup_latency", "(c) pickup latency"),
    "d": ("fetch_scaling", "(d) fetch-and-lock 1k vs 100k"),
    "e": ("ratios", "(e) windowsvc vs a bare Flask app under wrk"),
    "f": ("memory", "(f) gunicorn worker memory over many lifecycles"),
}


def _verdict(result: Result) -> str:
    if result.passed is None:
        return ""
    return "pass" if result.passed else "FAIL"


def print_table(results):
    """One table: ungrouped rows first, then each group under its name; notes below."""
    groups = {}
    for result in results:
        groups.setdefault(result.group, []).append(result)
    ordered = groups.pop("", []) + [r for rows in groups.values() for r in rows]
    headers = ("benchmark", "measured", "ratio", "target", "pass")
    rows = [(r.benchmark, r.measured, r.ratio, r.target, _verdict(r)) for r in ordered]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print(line)
    group = ""
    for result, row in zip(ordered, rows, strict=True):
        if result.group != group:
            group = result.group
            print(f"-- {group} --")
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    print(line)
    print(
        "ratio: windowsvc / its baseline where the target is a ratio; targets in parentheses "
        "are reported, not gated"
    )
    for result in ordered:
        if result.note:
            label = result.benchmark.split(", ", 1)[0]
            if result.group:
                label += f" [{result.group.split(' ', 1)[0]}]"
            print(f"note: {label}: {result.note}")


def main(argv) -> int:
    import importlib

    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {unknown}; choose from {' '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    print(
        f"windowsvc benchmarks ({'BENCH_QUICK' if QUICK else 'full'} sizes), "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start",
        flush=True,
    )
    results, broken = [], False
    started = time.perf_counter()
    for name in chosen:
        module_name, title = BENCHMARKS[name]
        t0 = time.perf_counter()
        print(f"running {title} ...", flush=True)
        try:
            module = importlib.import_module(f".{module_name}", __package__)
            results += module.run()
        except Exception as exc:
            broken = True
            traceback.print_exc()
            results.append(Result(title, "error", "-", "-", False, f"{type(exc).__name__}: {exc}"))
        print(f"  done in {time.perf_counter() - t0:.1f} s", flush=True)
    print()
    print_table(results)
    print(
        f"total {time.perf_counter() - started:.0f} s; "
        f"load average {os.getloadavg()[0]:.2f} at the end (other processes share these cores)"
    )
    failed = [r for r in results if r.passed is False]
    print(f"{len(failed)} of {sum(r.passed is not None for r in results)} gated rows failed")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

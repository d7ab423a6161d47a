"""(f) The resident memory of gunicorn's workers while they serve many lifecycles.

The harness of (a) (window threads and three long-polling department systems over HTTP) runs
10,000 lifecycles (BENCH_QUICK: 1,000) on gunicorn with the production defaults (2 workers x 16
threads) on SQLite, and reads each worker's VmRSS from /proc after every tenth of them. The
first samples include what every worker grows into (imports, caches filling, SQLite's page cache
of every pooled connection, malloc arenas); a leak shows as growth that goes on. So the verdict
is on the second half only: each worker's RSS may grow at most LATE_GROWTH_LIMIT_KIB per 1,000
lifecycles between the middle and the last sample (a least-squares slope over those samples, so
one noisy sample does not decide). A worker that was replaced meanwhile fails the row (its
memory was not measured over the run). BENCH_QUICK's run ends while the caches still fill: its
row is reported, not gated.
"""

import time

from . import http_lifecycle
from .common import PARALLEL_DEPARTMENTS, QUICK, Result, Server, prepared_sqlite, scratch_dir

LIFECYCLES = 1_000 if QUICK else 10_000
SAMPLES = 10
LATE_GROWTH_LIMIT_KIB = 1024  # per 1,000 lifecycles and worker: about 1 KiB per lifecycle
CHUNK_DEADLINE_SECONDS = 600  # a tenth of the run, on a loaded machine


def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB."""
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def slope(points) -> float:
    """Least-squares slope of (x, y) points."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def run() -> list[Result]:
    chunk = LIFECYCLES // SAMPLES
    samples = []  # (lifecycles done, {pid: KiB})
    started = time.perf_counter()
    with scratch_dir("memory") as workdir:
        url, window_token, tokens = prepared_sqlite(workdir)
        with Server(url, workdir) as server:
            harness = http_lifecycle.Harness(server.url, window_token, tokens)
            harness.start()
            replaced = None  # a worker that died (or was killed for its memory) fails the row
            try:
                pids = server.worker_pids()
                samples.append((0, {pid: rss_kib(pid) for pid in pids}))
                for n in range(1, SAMPLES + 1):
                    harness.run(chunk, f"memory-{n}", CHUNK_DEADLINE_SECONDS)
                    if server.worker_pids() != pids:
                        replaced = f"workers replaced after {n * chunk:,}: {pids} -> "
                        replaced += str(server.worker_pids())
                        break
                    samples.append((n * chunk, {pid: rss_kib(pid) for pid in pids}))
            finally:
                server_errors = server.error_lines()
                harness.close(server)
            errors = list(harness.errors)
        database_mib = sum(path.stat().st_size for path in workdir.glob("windowsvc.db*")) / 2**20
    minutes = (time.perf_counter() - started) / 60
    if replaced:
        row = f"(f) gunicorn worker RSS over {LIFECYCLES:,} HTTP lifecycles, SQLite"
        return [Result(row, "worker replaced", "-", "-", False, f"{replaced}; {minutes:.1f} min")]
    late = [s for s in samples if s[0] >= LIFECYCLES // 2]
    slopes = {pid: slope([(done / 1000, kib[pid]) for done, kib in late]) for pid in samples[0][1]}
    worst = max(slopes.values())
    mib = {pid: [kib[pid] / 1024 for _, kib in samples] for pid in samples[0][1]}
    trace = "; ".join(
        f"worker {pid}: " + " ".join(f"{value:.0f}" for value in values) + " MiB"
        for pid, values in mib.items()
    )
    first, middle, last = samples[1], late[0], samples[-1]
    note = (
        f"RSS after 0, {chunk:,}, {2 * chunk:,} ... {LIFECYCLES:,} lifecycles: {trace}; "
        f"second-half slope per worker "
        + ", ".join(f"{value:+.0f}" for value in slopes.values())
        + f" KiB per 1,000 lifecycles; database {database_mib:.0f} MiB at the end; "
        f"{minutes:.1f} min; {len(PARALLEL_DEPARTMENTS)} departments, gunicorn 2x16"
    )
    if errors or server_errors:
        note += f"; client errors {len(errors)}: {errors[:2]}; server: {server_errors[:2]}"
    target = f"<= {LATE_GROWTH_LIMIT_KIB} KiB/1k"
    if QUICK:
        note += "; BENCH_QUICK: too few lifecycles to judge growth, the full run gates"
    growth_first = max(last[1][p] - first[1][p] for p in first[1]) / 1024
    growth_late = max(last[1][p] - middle[1][p] for p in middle[1]) / 1024
    return [
        Result(
            f"(f) gunicorn worker RSS after {LIFECYCLES:,} HTTP lifecycles, SQLite (largest)",
            f"{max(last[1].values()) / 1024:.0f} MiB",
            "-",
            "-",
            None,
        ),
        Result(
            f"(f) worker RSS growth {middle[0]:,} → {LIFECYCLES:,} lifecycles, least-squares "
            f"slope (largest; {first[0]:,} → {LIFECYCLES:,}: +{growth_first:.1f} MiB)",
            f"{worst:+.0f} KiB/1k (+{growth_late:.1f} MiB)",
            # BENCH_QUICK's 1,000 lifecycles end while the caches still fill: reported only
            f"({target})" if QUICK else target,
            "-",
            None if QUICK else worst <= LATE_GROWTH_LIMIT_KIB and not errors and not server_errors,
            note,
        ),
    ]

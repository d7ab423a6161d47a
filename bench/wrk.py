"""wrk (Debian package ``wrk``) driven from Python: a generated Lua script per endpoint that sends
the requests and checks every answer's status code, and the figures it reports.

The Lua script counts every response whose status is not the expected one (a benchmark of 4xx
answers measures nothing) and keeps the first such answer for the report. Requests are either
one fixed request, a list rotated through (each wrk thread starts at its own offset), or a
fixed body with a fresh ``Idempotency-Key`` per request.
"""

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

THREADS, CONNECTIONS = 2, 16  # wrk -t2 -c16, as issue 15 measured
MAX_ERROR_SHARE = 0.01

_COMMON = r"""
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
    if first_bad == "" then first_bad = status .. " " .. string.sub(body or "", 1, 300) end
  end
end

function done(summary, latency, requests)
  local bad, sample = 0, ""
  for _, t in ipairs(threads) do
    bad = bad + t:get("unexpected")
    local b = t:get("first_bad")
    if sample == "" and b ~= "" then sample = b end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d unexpected=%d connect=%d read=%d write=%d timeout=%d "
    .. "p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
  io.write("BENCH_SAMPLE " .. string.gsub(sample, "[\r\n]", " ") .. "\n")
end
"""

_FIXED = r"""
function init(args)
  unexpected, first_bad = 0, ""
  prepared = wrk.format(method, path, headers, body)
end

function request()
  return prepared
end
"""

_ROTATE = r"""
function init(args)
  unexpected, first_bad = 0, ""
  prepared = {}
  for i, item in ipairs(items) do
    prepared[i] = wrk.format(method, item[1], headers, item[2])
  end
  index = math.floor((tid - 1) * #prepared / nthreads)
end

function request()
  index = index % #prepared + 1
  return prepared[index]
end
"""

_FRESH_KEY = r"""
function init(args)
  unexpected, first_bad = 0, ""
  prefix = (args[1] or "wrk") .. "-" .. tid .. "-"
  counter = 0
end

function request()
  counter = counter + 1
  headers["Idempotency-Key"] = prefix .. counter
  return wrk.format(method, path, headers, body)
end
"""


def _lua(value) -> str:
    """A Lua literal for a str, int, None, list or dict (ASCII: JSON escapes do for Lua)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)  # "\uXXXX" never occurs: ASCII in, ASCII out
    if isinstance(value, list | tuple):
        return "{" + ", ".join(_lua(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


@dataclass
class Load:
    """What wrk sends: ``path`` with ``body``, or ``items`` [(path, body)] rotated through;
    ``fresh_key`` adds a new Idempotency-Key to every request."""

    method: str
    expected: int
    path: str = "/"
    body: str | None = None
    items: list | None = None
    headers: dict | None = None
    fresh_key: bool = False

    def script(self) -> str:
        head = "\n".join(
            [
                f"method = {_lua(self.method)}",
                f"path = {_lua(self.path)}",
                f"body = {_lua(self.body)}",
                f"headers = {_lua(self.headers or {})}",
                f"expected = {self.expected}",
                f"nthreads = {THREADS}",
                f"items = {_lua([list(item) for item in self.items or []])}",
            ]
        )
        if self.items:
            kind = _ROTATE
        elif self.fresh_key:
            kind = _FRESH_KEY
        else:
            kind = _FIXED
        for text in (self.body or "", *(b or "" for _, b in self.items or [])):
            if not text.isascii():
                raise ValueError("wrk bodies are written as ASCII JSON (ensure_ascii)")
        return head + "\n" + _COMMON + kind


@dataclass
class Outcome:
    """One wrk run's figures."""

    requests: int
    seconds: float
    unexpected: int  # answers with another status than expected
    socket_errors: int  # connect, read, write errors and timeouts
    p50_ms: float
    p99_ms: float
    sample: str  # the first unexpected answer, if any

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def error_share(self) -> float:
        return (self.unexpected + self.socket_errors) / max(1, self.requests)

    @property
    def valid(self) -> bool:
        return self.requests > 0 and self.error_share <= MAX_ERROR_SHARE

    @classmethod
    def combined(cls, rounds) -> "Outcome":
        """Several rounds as one: their requests over their time; the median p50, worst p99."""
        rounds = list(rounds)
        p50s = sorted(r.p50_ms for r in rounds)
        return cls(
            requests=sum(r.requests for r in rounds),
            seconds=sum(r.seconds for r in rounds),
            unexpected=sum(r.unexpected for r in rounds),
            socket_errors=sum(r.socket_errors for r in rounds),
            p50_ms=p50s[len(p50s) // 2],
            p99_ms=max(r.p99_ms for r in rounds),
            sample=next((r.sample for r in rounds if r.sample), ""),
        )

    def describe(self) -> str:
        text = f"{self.requests} requests, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms"
        if self.unexpected or self.socket_errors:
            text += (
                f", {self.unexpected} unexpected answers + {self.socket_errors} socket errors"
                f" ({self.error_share:.1%}; first: {self.sample[:160]!r})"
            )
        return text


def executable() -> str:
    """The wrk binary; `make bench` installs Debian's package where it is missing."""
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    return found


def run(url: str, load: Load, seconds: float, workdir: Path, label: str) -> Outcome:
    """Run wrk -t2 -c16 for ``seconds`` against ``url`` with ``load``; its figures."""
    script = workdir / f"wrk-{label}.lua"
    script.write_text(load.script(), encoding="ascii")
    completed = subprocess.run(
        [
            executable(),
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds:g}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            url,
            "--",
            label,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    figures, sample = None, ""
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH "):
            figures = dict(pair.split("=", 1) for pair in line.split()[1:])
        elif line.startswith("BENCH_SAMPLE"):
            sample = line[len("BENCH_SAMPLE") :].strip()
    if completed.returncode != 0 or figures is None:
        raise RuntimeError(
            f"wrk {label} failed ({completed.returncode}): {completed.stdout[-500:]}"
            f" {completed.stderr[-500:]}"
        )
    return Outcome(
        requests=int(figures["requests"]),
        seconds=int(figures["duration_us"]) / 1e6,
        unexpected=int(figures["unexpected"]),
        socket_errors=sum(int(figures[k]) for k in ("connect", "read", "write", "timeout")),
        p50_ms=int(figures["p50_us"]) / 1000,
        p99_ms=int(figures["p99_us"]) / 1000,
        sample=sample,
    )

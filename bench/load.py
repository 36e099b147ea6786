"""The one load generator of the HTTP benchmarks: wrk, driven with a Lua script of ours.

Why wrk: a C event loop that keeps 32+ connections busy with a fraction of one core, so on this
2-core machine the client does not starve the server it measures (a Python client tops out near
the server's own rate and then measures itself). It reports latency percentiles from its
per-request histogram. Debian's package (``make bench`` installs it) is wrk 4, a closed-loop
generator; a lower rate (the "p99 at half the throughput" targets) is held with the script's
``delay()``: each wrk thread sends on a schedule of its own, one request every ``threads / rate`` on
whichever of its connections is free, the clock read through LuaJIT's FFI (``clock_gettime``); a
thread that fell behind starts its schedule afresh instead of bursting to catch up. The rate
actually reached is what is reported. (Before 2026-12-06 each connection waited ``connections / rate``
*after* its answer: the latency added to every wait, so no server could reach the asked rate.)

The script counts non-2xx answers per thread (wrk's own ``errors.status`` counts only ≥ 400) and
prints one JSON line from ``done()``, so no text is scraped. ``X-Forwarded-For`` varies per
request (10,000 addresses from TEST-NET-2/3): the services believe it from 127.0.0.1 as they do
from nginx, so per-address limits spread over many citizens as in real traffic.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

_SCRIPT = r"""
wrk.method = "%(method)s"
wrk.body = %(body)s
%(headers)s
local spacing = %(spacing)f
local fresh = %(fresh)s
local paths = {%(paths)s}
local bodies = {%(bodies)s}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  non2xx = 0
  counter = 0
  if fresh then
    math.randomseed(os.time() * 100 + id)  -- each thread its own keys
  end
end

function request()
  counter = counter + 1
  local n = (counter * 7919 + math.random(0, 9999)) %% 10000
  local prefix = n %% 2 == 0 and "198.51" or "203.0"
  local address = string.format("%%s.%%d.%%d", prefix, math.floor(n / 100) %% 100, n %% 100)
  wrk.headers["X-Forwarded-For"] = address
  if fresh then
    wrk.headers[fresh] = string.format("%%d-%%d-%%d", counter, math.random(1, 999999999), math.random(1, 999999999))
  end
  local path = nil
  local body = nil
  if #paths > 0 then
    path = paths[math.random(#paths)]
  end
  if #bodies > 0 then
    body = bodies[math.random(#bodies)]
  end
  return wrk.format(nil, path, nil, body)
end

if spacing > 0 then
  local ffi = require("ffi")
  ffi.cdef[[
    typedef struct { long tv_sec; long tv_nsec; } motcua_timespec;
    int clock_gettime(int clock, motcua_timespec *now);
  ]]
  local clock = ffi.new("motcua_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
    return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
  end
  local next_at = nil

  function delay()
    local now = now_ms()
    if next_at == nil or next_at < now - spacing then
      next_at = now  -- the first request, or behind the schedule: start it afresh, no burst
    end
    local wait = next_at - now
    next_at = next_at + spacing
    return math.floor(wait)
  end
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
  end
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "max_us": %%d, "non_2xx": %%d, ' ..
    '"connect_errors": %%d, "read_errors": %%d, "write_errors": %%d, "timeouts": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max, bad,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
"""


@dataclass(frozen=True)
class Load:
    """What one wrk run measured."""

    name: str
    requests: int
    seconds: float
    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int
    connections: int
    target_rate: float | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    return path


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def run(
    name: str,
    url: str,
    *,
    seconds: float,
    connections: int = 32,
    threads: int = 2,
    method: str = "GET",
    body: str | None = None,
    headers: dict[str, str] | None = None,
    rate: float | None = None,
    paths: Sequence[str] = (),
    bodies: Sequence[str] = (),
    fresh_header: str | None = None,
) -> Load:
    """Drive ``url`` for ``seconds``; with ``rate``, hold about that many requests per second in all; with
    ``paths`` (path and query on ``url``'s server) or ``bodies``, each request takes one of them at random;
    ``fresh_header`` (e.g. ``Idempotency-Key``) gets a new random value on every request."""
    threads = min(threads, connections)
    spacing_ms = threads / rate * 1000.0 if rate else 0.0  # each thread's own schedule (module notes)
    header_lines = "\n".join(f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in (headers or {}).items())
    script = _SCRIPT % {
        "method": method,
        "body": _lua_string(body) if body is not None else "nil",
        "headers": header_lines,
        "spacing": spacing_ms,
        "paths": ", ".join(_lua_string(path) for path in paths),
        "bodies": ", ".join(_lua_string(body) for body in bodies),
        "fresh": _lua_string(fresh_header) if fresh_header else "nil",
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "load.lua"
        path.write_text(script, encoding="utf-8")
        completed = subprocess.run(
            [
                wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                "--timeout", "10s", "-s", str(path), url,
            ],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    line = next((ln for ln in reversed(completed.stdout.splitlines()) if ln.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{completed.stdout}\n{completed.stderr}")
    figures = json.loads(line)
    elapsed = figures["duration_us"] / 1e6
    errors = sum(figures[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    return Load(
        name=name,
        requests=figures["requests"],
        seconds=round(elapsed, 2),
        rate=round(figures["requests"] / elapsed, 1) if elapsed else 0.0,
        p50_ms=round(figures["p50_us"] / 1000, 2),
        p99_ms=round(figures["p99_us"] / 1000, 2),
        max_ms=round(figures["max_us"] / 1000, 2),
        non_2xx=figures["non_2xx"],
        socket_errors=errors,
        connections=connections,
        target_rate=round(rate, 1) if rate else None,
    )

"""Running ``wrk`` against a server and reading its figures."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def available() -> bool:
    return shutil.which("wrk") is not None


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return round(float(match.group(1)) * _UNITS[match.group(2)], 3)


def parse(output: str) -> dict:
    """Requests/s, latency percentiles (ms), non-2xx responses and socket errors."""
    figures: dict = {}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rps is None:
        raise ValueError(f"wrk printed no rate:\n{output}")
    figures["requests_per_s"] = round(float(rps.group(1)), 1)
    for pct in ("50", "90", "99"):
        found = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", output, re.M)
        if found:
            figures[f"p{pct}_ms"] = _ms(found.group(1))
    total = re.search(r"(\d+) requests in", output)
    figures["requests"] = int(total.group(1)) if total else None
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    figures["non_2xx"] = int(non_2xx.group(1)) if non_2xx else 0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    figures["socket_errors"] = sum(map(int, errors.groups())) if errors else 0
    return figures


def run(url: str, *, seconds: int, connections: int, threads: int = 2,
        script: Path | None = None, timeout: int = 10) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
           "--timeout", f"{timeout}s"]
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(url)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + timeout + 60,
                          check=True)
    figures = parse(done.stdout)
    figures["wrk"] = " ".join(cmd[1:-1]).replace(str(script), script.name) if script else \
        " ".join(cmd[1:-1])
    return figures


BEARER_SCRIPT = """\
wrk.headers["Authorization"] = "Bearer {token}"
"""

# Each request logs in a different generated resident, as a crowd of phones would.
LOGIN_SCRIPT = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
math.randomseed(os.time())
request = function()
  local phone = "{prefix}" .. string.format("%0{digits}d", math.random(0, {count} - 1))
  local body = '{{"phone": "' .. phone .. '", "password": "{password}"}}'
  return wrk.format(nil, nil, nil, body)
end
"""

# Each request: a random resident (bearer token) books a random slot of the bench facility.
BOOKING_SCRIPT = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local tokens = {{{tokens}}}
local slots = {{{slots}}}
-- Each wrk thread seeds with its own table address: seeded with the time alone, both threads
-- would draw the same (resident, slot) sequence and half the requests would be duplicates.
function init(args)
  math.randomseed(os.time() + tonumber(tostring({{}}):match("0x(%x+)"), 16) % 100000)
end
request = function()
  local headers = {{}}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)]
  local body = '{{"slot_id": ' .. slots[math.random(1, #slots)] .. '}}'
  return wrk.format("POST", nil, headers, body)
end
"""

# The same load on the bare booking endpoint: user ids instead of tokens.
BARE_BOOKING_SCRIPT = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local users = {{{users}}}
local slots = {{{slots}}}
-- Each wrk thread seeds with its own table address: seeded with the time alone, both threads
-- would draw the same (resident, slot) sequence and half the requests would be duplicates.
function init(args)
  math.randomseed(os.time() + tonumber(tostring({{}}):match("0x(%x+)"), 16) % 100000)
end
request = function()
  local body = '{{"slot_id": ' .. slots[math.random(1, #slots)] .. ', "user_id": ' ..
    users[math.random(1, #users)] .. '}}'
  return wrk.format(nil, nil, nil, body)
end
"""


# Staff scan booking passes, each pass once: each thread walks the list from its own offset.
PASS_SCRIPT = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local passes = {{{passes}}}
local threads = 0
function setup(thread)
  thread:set("first", threads * math.floor(#passes / {threads}))
  threads = threads + 1
end
local i = 0
request = function()
  i = i + 1
  local n = (first + i) % #passes + 1
  return wrk.format(nil, nil, nil, '{{"pass_code": "SPB:' .. passes[n] .. '"}}')
end
"""

# The bare check-in: each booking once, as above.
BARE_CHECKIN_SCRIPT = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local ids = {{{ids}}}
local threads = 0
function setup(thread)
  thread:set("first", threads * math.floor(#ids / {threads}))
  threads = threads + 1
end
local i = 0
request = function()
  i = i + 1
  local n = (first + i) % #ids + 1
  return wrk.format(nil, nil, nil, '{{"booking_id": ' .. ids[n] .. '}}')
end
"""

# Residents scan the venue's screen: a random resident each request (a repeat scan finds the
# open visit, as on site).
SCREEN_SCRIPT = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local tokens = {{{tokens}}}
function init(args)
  math.randomseed(os.time() + tonumber(tostring({{}}):match("0x(%x+)"), 16) % 100000)
end
request = function()
  local headers = {{}}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)]
  return wrk.format("POST", nil, headers, '{{"code": "{code}"}}')
end
"""

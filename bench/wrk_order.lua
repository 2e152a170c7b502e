-- wrk script for bench/mock_rate.py: JSON-RPC order creates, each with its own order id, and a count of
-- the answers that are not a success (a status outside 2xx, or a body without a JSON-RPC result).
--
--   wrk -t1 -c8 -d5s -s bench/wrk_order.lua http://127.0.0.1:8765/api -- BODY_FILE TOKEN ID_PREFIX
--
-- BODY_FILE holds the request body, with @N@ wherever the request's unique number goes (the order id and
-- the JSON-RPC id). TOKEN may be empty (the bare endpoint needs none). done() prints one line,
-- "wrk-result {...}", as JSON; the first failed answer, if any, follows on a "wrk-first-failure" line.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

local parts, headers, unique_prefix
local counter = 0
failed = 0 -- globals, so that done() can read them from each thread
first_failure = ""

function init(args)
  local file = assert(io.open(args[1], "r"))
  local template = file:read("*a")
  file:close()
  parts = {}
  local start = 1
  while true do
    local from, to = template:find("@N@", start, true)
    if not from then break end
    table.insert(parts, template:sub(start, from - 1))
    start = to + 1
  end
  table.insert(parts, template:sub(start))
  headers = { ["Content-Type"] = "application/json" }
  if args[2] and args[2] ~= "" then
    headers["Authorization"] = "Bearer " .. args[2]
  end
  unique_prefix = (args[3] or "bench") .. "-t" .. thread_number .. "-"
end

function request()
  counter = counter + 1
  return wrk.format("POST", nil, headers, table.concat(parts, unique_prefix .. counter))
end

function response(status, _, body)
  local ok = status >= 200 and status < 300 and body:find('"result":', 1, true) and not body:find('"error":', 1, true)
  if not ok then
    failed = failed + 1
    if first_failure == "" then
      first_failure = status .. " " .. body:sub(1, 300):gsub("%s+", " ")
    end
  end
end

function done(summary, latency, _)
  local failures, sample = 0, ""
  for _, thread in ipairs(threads) do
    failures = failures + thread:get("failed")
    if sample == "" then sample = thread:get("first_failure") end
  end
  local e = summary.errors
  io.write(string.format(
    'wrk-result {"requests": %d, "seconds": %.6f, "failed": %d, "socket_errors": %d, '
      .. '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, failures, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  if sample ~= "" then io.write("wrk-first-failure " .. sample .. "\n") end
end

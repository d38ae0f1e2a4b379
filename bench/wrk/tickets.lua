-- wrk script: POST 12345 tickets with a fresh ticket number each (the ledger would call a reused one a
-- duplicate). Bodies come from BENCH_BODIES (one JSON per line, "@@NO@@" where the number goes).
local counter = 0
local bodies = {}
local run = os.getenv("BENCH_RUN") or "R"
local path = os.getenv("BENCH_PATH") or "/v1/hotline/tickets"
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Api-Key"] = "dev-hotline-key"
end

function request()
  counter = counter + 1
  local no = run .. "-" .. tostring(tid) .. "-" .. tostring(counter)
  local body = bodies[(counter % #bodies) + 1]:gsub("@@NO@@", no)
  return wrk.format(nil, path, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "socket_errors": %d, "non2xx": %d, ' ..
    '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "mean_ms": %.3f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000))
end

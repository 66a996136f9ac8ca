-- wrk script for qorgan serve: POST card top-ups, one per request
-- (BATCH=1, /v1/evaluate) or BATCH per request as a JSON array
-- (/v1/evaluate/batch). Each has its own transaction id (one run's ids never
-- repeat another's with another BATCH, so no request is answered as a
-- retry) and one of 5,000 senders and 7,000 recipients, without an IIN: one
-- IIN shared by every sender would make one key hold every event. Prints
-- requests/s, transactions/s and latency percentiles.

local batch = tonumber(os.getenv("BATCH") or "1")
-- Set apart the ids of several wrk processes run at once (a cluster's
-- replicas, each driven by its own wrk).
local prefix = os.getenv("PREFIX") or ""
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local function tx(n)
  return string.format(
    '{"id":"wrk-%s%d-%d-%d","timestamp":"2025-03-01T10:15:00Z","kind":"card-topup","channel":"mobile-app",' ..
    '"amount":"600000.00","currency":"KZT",' ..
    '"sender":{"account":"KZ-S-%d","kind":"individual"},' ..
    '"recipient":{"account":"KZ-R-%d","kind":"individual"},"verified":[]}',
    prefix, batch, id, n, n % 5000, n % 7000)
end

function request()
  if batch <= 1 then
    counter = counter + 1
    return wrk.format(nil, nil, nil, tx(counter))
  end
  local items = {}
  for i = 1, batch do
    counter = counter + 1
    items[i] = tx(counter)
  end
  return wrk.format(nil, nil, nil, "[" .. table.concat(items, ",") .. "]")
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local rps = summary.requests / seconds
  local failed = summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "RESULT requests/s %.0f  transactions/s %.0f  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  requests %d  failed %d\n",
    rps, rps * batch, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, summary.requests, failed))
end

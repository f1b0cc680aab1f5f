-- wrk script: POST /readings/store, each request 10 readings one minute apart
-- for a random one of 1000 meters (bench-s-0 .. bench-s-999).  Times only ever
-- increase and never repeat across wrk threads, so every reading is a new one.
--
--   wrk -t2 -c16 -d8s -s tests/bench/store.lua http://127.0.0.1:PORT -- [METERS [PER-REQUEST]]

local meters, per = 1000, 10
local seq, base = 0, 0
local headers = { ["Content-Type"] = "application/json" }
local nthreads = 0

function setup(thread)
    thread:set("id", nthreads)
    nthreads = nthreads + 1
end

function init(args)
    meters = tonumber(args[1]) or meters
    per = tonumber(args[2]) or per
    math.randomseed(1000 + id)
    -- 2020-01-01 plus 10^8 s per thread: a thread would need 10^7 requests to
    -- reach the next one's times.
    base = 1577836800 + id * 100000000
end

function request()
    local t0 = base + seq * per * 60
    seq = seq + 1
    local parts = {}
    for k = 0, per - 1 do
        parts[k + 1] = string.format('{"time":%d,"reading":%.4f}', t0 + k * 60, 0.05 + math.random())
    end
    local body = string.format('{"smartMeterId":"bench-s-%d","electricityReadings":[%s]}',
        math.random(0, meters - 1), table.concat(parts, ","))
    return wrk.format("POST", "/readings/store", headers, body)
end

-- One machine-readable line for scripts/bench.sh.
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d timeouts=%d socket_errors=%d\n",
        summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        e.status, e.timeout, e.connect + e.read + e.write))
end

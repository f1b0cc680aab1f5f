-- wrk script: POST /readings/store, each request 10 readings one minute apart
-- for a random one of 1000 meters (bench-s-0 .. bench-s-999), the way meters send:
-- each meter's readings continue where its last batch ended (one meter, one
-- minute series), and each wrk thread has meters of its own, so a meter's batches
-- arrive in order.  Every reading is a new one.  THREADS must be wrk's -t (wrk
-- does not tell a thread how many there are).
--
--   wrk -t2 -c16 -d8s -s tests/bench/store.lua http://127.0.0.1:PORT -- [METERS [PER-REQUEST [THREADS]]]

local meters, per = 1000, 10
local headers = { ["Content-Type"] = "application/json" }
local nthreads = 0
local mine = {} -- this thread's meters
local next_time = {} -- meter -> the time of its next reading

function setup(thread)
    thread:set("id", nthreads)
    nthreads = nthreads + 1
end

function init(args)
    meters = tonumber(args[1]) or meters
    per = tonumber(args[2]) or per
    math.randomseed(1000 + id)
    -- Thread id takes meters id, id + THREADS, id + 2 THREADS, ...
    for m = id, meters - 1, tonumber(args[3]) or 2 do
        mine[#mine + 1] = m
        next_time[m] = 1577836800 -- 2020-01-01
    end
end

function request()
    local m = mine[math.random(1, #mine)]
    local t0 = next_time[m]
    next_time[m] = t0 + per * 60
    local parts = {}
    for k = 0, per - 1 do
        parts[k + 1] = string.format('{"time":%d,"reading":%.4f}', t0 + k * 60, 0.05 + math.random())
    end
    local body = string.format('{"smartMeterId":"bench-s-%d","electricityReadings":[%s]}',
        m, table.concat(parts, ","))
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

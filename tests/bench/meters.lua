-- wrk script: GET requests spread over many meters.  With COUNT the path of each
-- request is PREFIX..i..SUFFIX for a random i in 0 .. COUNT-1; without it every
-- request is PREFIX itself.
--
--   wrk -t2 -c16 -d8s -s tests/bench/meters.lua http://127.0.0.1:PORT -- PREFIX [COUNT [SUFFIX]]
--   ... -- /readings/read/bench-h- 100          (bench-h-0 .. bench-h-99)
--   ... -- /price-plans/recommend/bench-week    (one meter)

local reqs = {}
local nthreads = 0

function setup(thread)
    thread:set("id", nthreads)
    nthreads = nthreads + 1
end

function init(args)
    local prefix, count, suffix = args[1] or "/", tonumber(args[2] or "0"), args[3] or ""
    if count == 0 then
        reqs[1] = wrk.format("GET", prefix)
    else
        for i = 0, count - 1 do
            reqs[i + 1] = wrk.format("GET", prefix .. i .. suffix)
        end
    end
    math.randomseed(2000 + id)
end

function request()
    return reqs[math.random(#reqs)]
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

-- Stores one batch of readings for one meter, atomically, and keeps the meter's
-- pre-aggregates exact.
--
-- KEYS[1]: readings, a sorted set (score = epoch seconds, member = "time:reading")
-- KEYS[2]: energy per bucket, a hash (field = floor(time / W), value = kWh as %.17g)
-- KEYS[3]: long intervals, a sorted set (score = start, member = "t1:t2:p1:p2")
-- ARGV[1]: W, the bucket length in seconds; ARGV[2]: L, the longest interval that is
--          put into buckets (longer ones go to KEYS[3], so that a reader can leave
--          them out as gaps); ARGV[3..]: time1, member1, time2, member2, ... as sent.
--
-- One reading per time: an earlier reading at the same time is replaced, so a
-- retried batch never doubles, and within a batch the last occurrence wins.
-- Each bucket a change touches is recomputed from the readings themselves, never
-- adjusted by differences, so the aggregates cannot drift.  The piece of an
-- interval in a bucket is computed exactly as the cost engine computes a piece
-- of an interval split at a boundary (power interpolated linearly).
local R, B, LG = KEYS[1], KEYS[2], KEYS[3]
local W = tonumber(ARGV[1])
local L = tonumber(ARGV[2])

local function kw(member)
    return tonumber(string.match(member, ':(.*)$'))
end

local function before(t) -- the reading strictly before t
    local r = redis.call('ZREVRANGEBYSCORE', R, '(' .. t, '-inf', 'WITHSCORES', 'LIMIT', 0, 1)
    if #r == 0 then return nil end
    return tonumber(r[2]), kw(r[1])
end

local function after(t, inclusive) -- the reading after t (or at t)
    local lo = inclusive and tostring(t) or ('(' .. t)
    local r = redis.call('ZRANGEBYSCORE', R, lo, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    if #r == 0 then return nil end
    return tonumber(r[2]), kw(r[1])
end

local dirty = {}
local function mark(a, b)
    if a == nil or b == nil or b - a > L then return end
    for k = math.floor(a / W), math.floor((b - 1) / W) do dirty[k] = true end
end

for i = 3, #ARGV, 2 do
    local t = tonumber(ARGV[i])
    local pt, pp = before(t)
    local nt, np = after(t, false)
    mark(pt, t)
    mark(t, nt)
    -- Long intervals starting at pt or at t are replaced.
    redis.call('ZREMRANGEBYSCORE', LG, pt or t, '(' .. (nt or (t + 1)))
    redis.call('ZREMRANGEBYSCORE', R, t, t)
    redis.call('ZADD', R, t, ARGV[i + 1])
    local p = kw(ARGV[i + 1])
    if pt and t - pt > L then
        redis.call('ZADD', LG, pt, string.format('%d:%d:%.17g:%.17g', pt, t, pp, p))
    end
    if nt and nt - t > L then
        redis.call('ZADD', LG, t, string.format('%d:%d:%.17g:%.17g', t, nt, p, np))
    end
end

-- Energy of the part of interval (t1, p1)-(t2, p2) inside [lo, hi].
local function piece(t1, p1, t2, p2, lo, hi)
    local dt = t2 - t1
    local a = math.max(t1, lo)
    local b = math.min(t2, hi)
    if b <= a then return 0 end
    local pa = (a == t1) and p1 or (p1 + (p2 - p1) * (a - t1) / dt)
    local pb = (b == t2) and p2 or (p1 + (p2 - p1) * (b - t1) / dt)
    return (pa + pb) / 2 * (b - a) / 3600
end

for k in pairs(dirty) do
    local lo, hi = k * W, (k + 1) * W
    local ts, ps = {}, {}
    local pt, pp = before(lo)
    if pt then ts[#ts + 1] = pt; ps[#ps + 1] = pp end
    local inside = redis.call('ZRANGEBYSCORE', R, lo, '(' .. hi, 'WITHSCORES')
    for j = 1, #inside, 2 do
        ts[#ts + 1] = tonumber(inside[j + 1])
        ps[#ps + 1] = kw(inside[j])
    end
    local nt, np = after(hi, true)
    if nt then ts[#ts + 1] = nt; ps[#ps + 1] = np end
    local e, covered = 0, false
    for j = 2, #ts do
        if ts[j] - ts[j - 1] <= L and ts[j] > lo and ts[j - 1] < hi then
            e = e + piece(ts[j - 1], ps[j - 1], ts[j], ps[j], lo, hi)
            covered = true
        end
    end
    if covered then
        redis.call('HSET', B, k, string.format('%.17g', e))
    else
        redis.call('HDEL', B, k)
    end
end
return (#ARGV - 2) / 2

-- Stores one batch of readings for one meter, atomically, and keeps the meter's
-- pre-aggregates exact.
--
-- KEYS[1]: readings, a sorted set (score = epoch seconds, member = "time:reading")
-- KEYS[2]: energy per bucket, a hash: field = a day of buckets, floor(time / 86400),
--          value = 86400 / W little-endian IEEE doubles (kWh), one per bucket of that day
--          (a day of half-hours: a year is 365 fields, cheap to read in one go)
-- KEYS[3]: long intervals, a sorted set (score = start, member = "t1:t2:p1:p2")
-- KEYS[4]: the meter's write-token record (a string), absent for an open meter
-- ARGV[1]: W, the bucket length in seconds; ARGV[2]: L, the longest interval that is
--          put into buckets (longer ones go to KEYS[3], so that a reader can leave
--          them out as gaps); ARGV[3]: the token record the caller checked the
--          request against ("" for none); ARGV[4..]: time1, member1, time2, member2,
--          ... sorted by time, each time once (the caller keeps the last of a time in
--          the request).
--
-- Returns the number of readings stored, or, when the meter's token record is not
-- ARGV[3] (a token was issued or revoked since the caller looked), writes nothing
-- and returns { record } ("" for none) for the caller to check the request against.
--
-- One reading per time: a stored reading at a time of the batch is replaced, so a
-- retried batch never doubles.  A bucket holds the pieces of its intervals summed in
-- time order.  A batch that comes after every stored reading (a meter sending in
-- order: the usual case) adds its intervals' pieces to their buckets, which gives the
-- same sum; any other batch recomputes each bucket it touches from the readings
-- themselves, so out-of-order and replaced readings never leave a bucket adjusted by
-- differences.  The piece of an interval in a bucket is computed exactly as the cost
-- engine computes a piece of an interval split at a boundary (power interpolated
-- linearly).  The work is a few commands per batch plus a few per touched bucket,
-- not per reading.
local R, B, LG = KEYS[1], KEYS[2], KEYS[3]
local W = tonumber(ARGV[1])
local L = tonumber(ARGV[2])
local record = redis.call('GET', KEYS[4]) or ''
if record ~= ARGV[3] then return { record } end
local CHUNK = 1000 -- arguments per command, well under Lua's unpack limit
local PER_DAY = 86400 / W -- buckets in one field of KEYS[2]: a UTC day

local function kw(member)
    return tonumber(string.sub(member, string.find(member, ':', 1, true) + 1))
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

local function call_chunked(cmd, key, args, from) -- args[from or 1], ...
    for i = from or 1, #args, CHUNK do
        redis.call(cmd, key, unpack(args, i, math.min(i + CHUNK - 1, #args)))
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

-- Writes bucket energies back: order lists the bucket indices, ascending, energy maps
-- each to its kWh.  A day string at a time, splicing only the slots that changed;
-- days caches the strings already read (false for a day not stored yet).
local function write_buckets(order, energy, days)
    local i = 1
    while i <= #order do
        local d = math.floor(order[i] / PER_DAY)
        local s = days[d]
        if s == nil then s = redis.call('HGET', B, d) end
        if not s then s = string.rep('\0', 8 * PER_DAY) end
        local parts, at = {}, 1
        while i <= #order and order[i] < (d + 1) * PER_DAY do
            local slot = order[i] - d * PER_DAY
            parts[#parts + 1] = string.sub(s, at, 8 * slot)
            parts[#parts + 1] = struct.pack('<d', energy[order[i]])
            at = 8 * slot + 9
            i = i + 1
        end
        parts[#parts + 1] = string.sub(s, at)
        redis.call('HSET', B, d, table.concat(parts))
    end
end

local function long_member(t1, t2, p1, p2)
    return string.format('%d:%d:%.17g:%.17g', t1, t2, p1, p2)
end

-- The batch, sorted and distinct.
local n = (#ARGV - 3) / 2
local bt, bm = {}, {}
for i = 1, n do
    bt[i] = tonumber(ARGV[2 * i + 2])
    bm[i] = ARGV[2 * i + 3]
end
local first, last = bt[1], bt[n]

-- The batch after every stored reading: its intervals' pieces are added to their
-- buckets, in time order (the stored sums hold the pieces of the earlier ones).
local top = redis.call('ZREVRANGE', R, 0, 0, 'WITHSCORES')
if #top == 0 or tonumber(top[2]) < first then
    local ts, ps = {}, {}
    if #top > 0 then ts[1], ps[1] = tonumber(top[2]), kw(top[1]) end
    for i = 1, n do
        ts[#ts + 1], ps[#ps + 1] = bt[i], kw(bm[i])
    end
    call_chunked('ZADD', R, ARGV, 4) -- the batch's times and members, as they came
    local order, energy, days, longs = {}, {}, {}, {}
    for k = 2, #ts do
        local a, b = ts[k - 1], ts[k]
        if b - a > L then
            longs[#longs + 1] = a
            longs[#longs + 1] = long_member(a, b, ps[k - 1], ps[k])
        else
            for x = math.floor(a / W), math.floor((b - 1) / W) do
                local e = energy[x]
                if e == nil then
                    order[#order + 1] = x -- ascending: so are the intervals
                    local d = math.floor(x / PER_DAY)
                    if days[d] == nil then days[d] = redis.call('HGET', B, d) end
                    e = days[d] and struct.unpack('<d', days[d], 8 * (x - d * PER_DAY) + 1) or 0
                end
                energy[x] = e + piece(a, ps[k - 1], b, ps[k], x * W, (x + 1) * W)
            end
        end
    end
    if #longs > 0 then call_chunked('ZADD', LG, longs) end
    write_buckets(order, energy, days)
    return n
end

-- Any other batch.  What is stored in the batch's span, and the neighbours just
-- outside it.  One call gets the span and the reading before it when the span
-- holds at most n stored readings; otherwise two.
local ex, pt, pp = {}, nil, nil
local down = redis.call('ZREVRANGEBYSCORE', R, last, '-inf', 'WITHSCORES', 'LIMIT', 0, n + 1)
local lowest = #down > 0 and tonumber(down[#down]) or nil
if #down < 2 * (n + 1) or lowest < first then
    for e = #down - 1, 1, -2 do
        local t = tonumber(down[e + 1])
        if t < first then
            pt, pp = t, kw(down[e])
        else
            ex[#ex + 1] = down[e]
            ex[#ex + 1] = down[e + 1]
        end
    end
else
    ex = redis.call('ZRANGEBYSCORE', R, first, last, 'WITHSCORES')
    pt, pp = before(first)
end
local nt, np = after(last, false)

-- The old and the new sequence over [pt, nt], as parallel arrays.
local ot, op, nts, nps = {}, {}, {}, {}
if pt then
    ot[1], op[1], nts[1], nps[1] = pt, pp, pt, pp
end
local replaced = {}
local j = 1
for e = 1, #ex, 2 do
    local t, m = tonumber(ex[e + 1]), ex[e]
    ot[#ot + 1], op[#op + 1] = t, kw(m)
    while j <= n and bt[j] < t do
        nts[#nts + 1], nps[#nps + 1] = bt[j], kw(bm[j])
        j = j + 1
    end
    if j <= n and bt[j] == t then
        replaced[#replaced + 1] = m -- a reading of the batch takes its place
    else
        nts[#nts + 1], nps[#nps + 1] = t, op[#op]
    end
end
while j <= n do
    nts[#nts + 1], nps[#nps + 1] = bt[j], kw(bm[j])
    j = j + 1
end
if nt then
    ot[#ot + 1], op[#op + 1] = nt, np
    nts[#nts + 1], nps[#nps + 1] = nt, np
end

-- Buckets touched by a short interval of either sequence.
local dirty = {}
local function mark(ts)
    for k = 2, #ts do
        local a, b = ts[k - 1], ts[k]
        if b - a <= L then
            for x = math.floor(a / W), math.floor((b - 1) / W) do dirty[x] = true end
        end
    end
end
mark(ot)
mark(nts)

-- The readings themselves.
if #replaced > 0 then call_chunked('ZREM', R, replaced) end
call_chunked('ZADD', R, ARGV, 4)

-- Long intervals over [pt, nt] are rewritten from the new sequence (the old
-- ones are removed only if the old sequence had any).
for k = 2, #ot do
    if ot[k] - ot[k - 1] > L then
        redis.call('ZREMRANGEBYSCORE', LG, pt or first, '(' .. (nt or (last + 1)))
        break
    end
end
local longs = {}
for k = 2, #nts do
    if nts[k] - nts[k - 1] > L then
        longs[#longs + 1] = nts[k - 1]
        longs[#longs + 1] = long_member(nts[k - 1], nts[k], nps[k - 1], nps[k])
    end
end
if #longs > 0 then call_chunked('ZADD', LG, longs) end

-- The energy of bucket [lo, hi) from a complete run of readings ts/ps (every
-- stored reading from ts[first] to ts[last]).
local function bucket_energy(ts, ps, first, last, lo, hi)
    local e = 0
    for i = first + 1, last do
        if ts[i] - ts[i - 1] <= L and ts[i] > lo and ts[i - 1] < hi then
            e = e + piece(ts[i - 1], ps[i - 1], ts[i], ps[i], lo, hi)
        end
        if ts[i - 1] >= hi then break end
    end
    return e
end

-- The index of the last element of ts below x (1 when there is none).
local function last_below(ts, x)
    local a, b = 1, #ts
    while a < b do
        local m = math.floor((a + b + 1) / 2)
        if ts[m] < x then a = m else b = m - 1 end
    end
    return a
end

-- Each dirty bucket is recomputed: from the new sequence when it holds every
-- reading the bucket needs (the usual case), else from the store.
local order, energy = {}, {}
for k in pairs(dirty) do
    order[#order + 1] = k
end
table.sort(order)
for _, k in ipairs(order) do
    local lo, hi = k * W, (k + 1) * W
    if (pt == nil or nts[1] < lo) and (nt == nil or nts[#nts] >= hi) then
        energy[k] = bucket_energy(nts, nps, last_below(nts, lo), #nts, lo, hi)
    else
        local ts, ps = {}, {}
        local t0, p0 = before(lo)
        if t0 then ts[#ts + 1] = t0; ps[#ps + 1] = p0 end
        local inside = redis.call('ZRANGEBYSCORE', R, lo, '(' .. hi, 'WITHSCORES')
        for i = 1, #inside, 2 do
            ts[#ts + 1] = tonumber(inside[i + 1])
            ps[#ps + 1] = kw(inside[i])
        end
        local t9, p9 = after(hi, true)
        if t9 then ts[#ts + 1] = t9; ps[#ps + 1] = p9 end
        energy[k] = bucket_energy(ts, ps, 1, #ts, lo, hi)
    end
end
write_buckets(order, energy, {})
return n

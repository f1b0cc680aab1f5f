-- Stores one batch of readings for one meter (layout 2, see include/joi/layout.h),
-- atomically, as the worker prepared it: this script only compares and moves bytes.
--
-- KEYS[1]: the sealed days, a sorted set (score = day start, member = a chunk)
-- KEYS[2]: the day records, a hash (field = day number, value = record)
-- KEYS[3]: the open head, a string ("DAY\n" then "time:reading\n" records)
-- KEYS[4]: the meter's write-token record (a string), absent for an open meter
-- KEYS[5]: the seal marker (a string with an expiry), present while a seal of the
--          head waits: appends to the head wait for it; one without an expiry, or
--          with more left than a marker's life, counts as none
-- ARGV[1]: the token record the caller checked the request against ("" for none)
-- ARGV[2]: the head as the worker read it: its header for an append, the whole head
--          for a seal (ARGV[3] "S" over an existing head), so that a record appended
--          after the worker read it is never dropped; "" for no head; "-" when the
--          batch leaves the head alone and it need not be checked
-- ARGV[3]: what to do to the head: "N" nothing, "A" append ARGV[4], "S" set it to ARGV[4]
-- ARGV[5]: the number of days to write, then five arguments a day: the day's
--          score, the chunk the worker read for it ("" for none), the new chunk,
--          the day's field, the new record.
--
-- ARGV[5 + 5 * ndays + 1]: the seal marker's life in milliseconds.
--
-- Returns 1 when stored; 0, writing nothing, when the head's header or a day's
-- chunk is no longer what the worker read (another batch came between: the
-- worker reads again and retries) or, for an append, while the seal marker is
-- there; { record } ("" for none), writing nothing, when the meter's token record
-- is not ARGV[1].  A seal that fails only because records were appended to the
-- head since it was read sets the seal marker (its one write): appends then wait,
-- so that the seal, read again, cannot be starved by a stream of appends; a seal
-- that succeeds deletes it.  The work is a few commands per day of the batch,
-- never a loop over readings.
local R, E, H, M = KEYS[1], KEYS[2], KEYS[3], KEYS[5]
local record = redis.call('GET', KEYS[4]) or ''
if record ~= ARGV[1] then return { record } end
local expect, op = ARGV[2], ARGV[3]
local n = tonumber(ARGV[5])
if op == 'A' then
    local left = redis.call('PTTL', M)
    if left > 0 and left <= tonumber(ARGV[6 + 5 * n]) then return 0 end
end
if expect == '' then
    if redis.call('EXISTS', H) == 1 then return 0 end
elseif op == 'S' then
    if redis.call('GET', H) ~= expect then
        local header = string.sub(expect, 1, string.find(expect, '\n', 1, true))
        if redis.call('GETRANGE', H, 0, #header - 1) == header then
            redis.call('SET', M, '1', 'PX', ARGV[6 + 5 * n])
        end
        return 0
    end
elseif expect ~= '-' then
    if redis.call('GETRANGE', H, 0, #expect - 1) ~= expect then return 0 end
end
for i = 0, n - 1 do
    local b = 6 + 5 * i
    if ARGV[b + 1] == '' then
        if redis.call('ZCOUNT', R, ARGV[b], ARGV[b]) ~= 0 then return 0 end
    elseif not redis.call('ZSCORE', R, ARGV[b + 1]) then
        return 0
    end
end
for i = 0, n - 1 do
    local b = 6 + 5 * i
    if ARGV[b + 1] ~= '' then redis.call('ZREM', R, ARGV[b + 1]) end
    redis.call('ZADD', R, ARGV[b], ARGV[b + 2])
    redis.call('HSET', E, ARGV[b + 3], ARGV[b + 4])
end
if op == 'A' then
    redis.call('APPEND', H, ARGV[4])
elseif op == 'S' then
    redis.call('SET', H, ARGV[4])
    redis.call('DEL', M)
end
return 1

-- Stores one batch of readings for one meter (layout 2, see include/joi/layout.h),
-- atomically, as the worker prepared it: this script only compares and moves bytes.
--
-- KEYS[1]: the sealed days, a sorted set (score = day start, member = a chunk)
-- KEYS[2]: the day records, a hash (field = day number, value = record)
-- KEYS[3]: the open head, a string ("DAY\n" then "time:reading\n" records)
-- KEYS[4]: the meter's write-token record (a string), absent for an open meter
-- KEYS[5]: the meter's turn marker (a string, the id of the batch whose turn it
--          is, with an expiry): while it is there only that batch writes; one
--          without an expiry, or with more left than a marker's life, counts as none
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
-- ARGV[5 + 5 * ndays + 1]: the turn marker's life in milliseconds
-- ARGV[5 + 5 * ndays + 2]: the batch's id (distinct per batch)
-- ARGV[5 + 5 * ndays + 3]: "1" if a lost compare takes the meter's turn, "0" if
--          not (the worker's one-round-trip guess of an append, which loses when
--          the guess is wrong, not only to another writer)
--
-- The turn marker is a hint between live writers, never data: its writes are kept
-- out of the append-only file and replicas (REPL_NONE), so taking a turn costs no
-- fsync, and a restarted store simply has none.
--
-- Returns 1 when stored (and ends the batch's turn); 0, writing nothing, when
-- another batch's turn marker is there, or when the head's header or a day's chunk
-- is no longer what the worker read (another batch came between: the worker reads
-- again and retries); 2 for the latter when the batch takes the turn by it (its one
-- write) or holds it already: the worker reads again and retries at once, and every other writer of
-- the meter waits meanwhile, so that no writer can be starved by others (appends
-- win every race with a seal, and a writer that backs off loses to fresh ones);
-- { record } ("" for none), writing nothing but ending a turn the batch holds,
-- when the meter's token record is not ARGV[1].  The work is a few commands per
-- day of the batch, never a loop over readings.
local R, E, H, M = KEYS[1], KEYS[2], KEYS[3], KEYS[5]
local expect, op = ARGV[2], ARGV[3]
local n = tonumber(ARGV[5])
local life, me, claim = tonumber(ARGV[6 + 5 * n]), ARGV[7 + 5 * n], ARGV[8 + 5 * n]
local record = redis.call('GET', KEYS[4]) or ''
if record ~= ARGV[1] then -- the batch ends here: so does a turn it holds
    if redis.pcall('GET', M) == me then
        redis.set_repl(redis.REPL_NONE)
        redis.call('DEL', M)
    end
    return { record }
end
local left = redis.call('PTTL', M)
local mine = false
if left > 0 and left <= life then -- pcall: a marker of another type is not ours
    if redis.pcall('GET', M) ~= me then return 0 end
    mine = true
end
local stale = false
if expect == '' then
    stale = redis.call('EXISTS', H) == 1
elseif op == 'S' then
    stale = redis.call('GET', H) ~= expect
elseif expect ~= '-' then
    stale = redis.call('GETRANGE', H, 0, #expect - 1) ~= expect
end
for i = 0, n - 1 do
    if stale then break end
    local b = 6 + 5 * i
    if ARGV[b + 1] == '' then
        stale = redis.call('ZCOUNT', R, ARGV[b], ARGV[b]) ~= 0
    else
        stale = not redis.call('ZSCORE', R, ARGV[b + 1])
    end
end
if stale then
    if claim ~= '1' then return 0 end
    if not mine then
        redis.set_repl(redis.REPL_NONE)
        redis.call('SET', M, me, 'PX', life)
    end
    return 2
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
end
if mine then
    redis.set_repl(redis.REPL_NONE)
    redis.call('DEL', M)
end
return 1

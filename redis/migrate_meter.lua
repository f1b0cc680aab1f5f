-- Replaces one meter's layout-1 keys by its layout-2 keys (joi-admin migrate,
-- src/migrate.c), atomically: after it the meter is wholly in the new layout, or,
-- when it returns 0, untouched.  The worker computed every byte; this script only
-- checks and moves them.
--
-- KEYS[1]: :r (layout 1: one "time:reading" member per reading; layout 2: chunks)
-- KEYS[2]: :e (layout 1: buckets; layout 2: day records)
-- KEYS[3]: :l (layout 1's long intervals; layout 2 has none)
-- KEYS[4]: :h (layout 2's head)
-- KEYS[5], KEYS[6]: the temporary :mig-r and :mig-e that hold the days written
--          before this script, for a meter too big for one script
-- ARGV[1]: the number of members of :r the migration read, ARGV[2] and ARGV[3]
--          its first and last member: :r must still be exactly that
-- ARGV[4]: "T" when KEYS[5] and KEYS[6] hold days already, "" when they do not
-- ARGV[5]: the new head
-- ARGV[6..]: four arguments a further day: score, chunk, field, record
--
-- Returns 1 when replaced; 0, writing nothing, when :r is no longer what the
-- migration read (converted already, or written meanwhile); -1, writing nothing,
-- when ARGV[4] is "T" and the temporary keys are gone.  The meter's :token and
-- :key are not touched.
local R, E, L, H, TR, TE = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
if redis.call('ZCARD', R) ~= tonumber(ARGV[1]) then return 0 end
if redis.call('ZRANGE', R, 0, 0)[1] ~= ARGV[2] then return 0 end
if redis.call('ZRANGE', R, -1, -1)[1] ~= ARGV[3] then return 0 end
if ARGV[4] == 'T' and (redis.call('EXISTS', TR) == 0 or redis.call('EXISTS', TE) == 0) then
    return -1
end
redis.call('DEL', R, E, L, H)
if ARGV[4] == 'T' then
    redis.call('RENAME', TR, R)
    redis.call('RENAME', TE, E)
end
for i = 6, #ARGV, 4 do
    redis.call('ZADD', R, ARGV[i], ARGV[i + 1])
    redis.call('HSET', E, ARGV[i + 2], ARGV[i + 3])
end
redis.call('SET', H, ARGV[5])
return 1

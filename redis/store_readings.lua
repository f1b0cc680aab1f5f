-- Stores one batch of readings for one meter, atomically.
-- KEYS[1]: the meter's sorted set (score = epoch seconds, member = "time:reading").
-- ARGV: time1, member1, time2, member2, ... in the order sent.
-- One reading per time: an earlier reading at the same time is removed first, so
-- a retried batch replaces rather than doubles, and within a batch the last wins.
local key = KEYS[1]
for i = 1, #ARGV, 2 do
    local t = ARGV[i]
    redis.call('ZREMRANGEBYSCORE', key, t, t)
    redis.call('ZADD', key, t, ARGV[i + 1])
end
return #ARGV / 2

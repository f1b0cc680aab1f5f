-- Replaces the plans-and-accounts document and bumps its version, atomically.
-- KEYS[1]: the document, KEYS[2]: its version counter (same hash tag).
-- ARGV[1]: the validated document.
redis.call('SET', KEYS[1], ARGV[1])
return redis.call('INCR', KEYS[2])

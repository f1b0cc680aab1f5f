-- Replaces the plans-and-accounts document and bumps its version, atomically.
-- KEYS[1]: the document, KEYS[2]: its version counter, KEYS[3]: the store's
-- layout version (same hash tag).
-- ARGV[1]: the validated document; ARGV[2]: the layout version this build writes.
-- A store that never had a document is a fresh store: it gets ARGV[2] as its
-- layout.  A store that had one and no layout version is of layout 1 and keeps
-- saying so until joi-admin migrate converts it.
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[3], ARGV[2], 'NX') end
redis.call('SET', KEYS[1], ARGV[1])
return redis.call('INCR', KEYS[2])

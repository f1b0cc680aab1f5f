-- Erases a meter: deletes every one of its keys in one atomic step.
--
-- KEYS: every key the meter can have (joi:{METER}:SUFFIX for each suffix of
--       JOI_LAYOUT_METER_SUFFIXES), all with the meter's hash tag, so that a
--       sharding proxy sends the script to the one server that holds them.
-- Returns the number of keys that existed.  A multi-key DEL would do the same on
-- one Redis, but a proxy splits it into one DEL per key.
return redis.call('DEL', unpack(KEYS))

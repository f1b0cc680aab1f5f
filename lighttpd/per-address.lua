-- A cap on what one client address may hold at once (lighttpd mod_magnet,
-- magnet.attract-raw-url-to in lighttpd.conf.in and two-hosts.conf).
--
-- When a request's headers are complete, this counts the requests lighttpd has
-- in hand from the same remote address: every open connection (reading
-- headers, waiting between keep-alive requests, being answered) and each
-- stream of an HTTP/2 connection.  Over `limit`, the request is refused with
-- 429 (the error handler, a worker, writes the problem document) and its
-- connection is closed afterwards.
--
-- This bounds what one address gets from the service: at most `limit`
-- requests at a time, so at most `limit` answers spooled for slow readers.
-- It cannot see connections whose headers never complete (lighttpd runs this
-- only once they have), so it does not stop header trickling: the connection
-- headroom (server.max-connections) and, in production, the host firewall rule
-- in lighttpd/per-address.nft do.  Keep the two limits equal.  IPv6 addresses
-- count one by one (the firewall rule counts a /64).
--
-- Cost: a pass over all of lighttpd's requests is about 0.15 µs per request
-- in hand, too much to make for every request while thousands of connections
-- are open.  So the counts of one pass are kept for the rest of that second
-- (in _G, which lives as long as lighttpd), a connection's first request adds
-- one to its address (the connection may be newer than the pass), and only an
-- address that these counts put over the limit is counted again exactly.

local limit = 32

local r = lighty.r
-- The error handler's own pass (lighttpd sets REDIRECT_STATUS for it) is never
-- refused: the refusal itself must get its problem document.
if r.req_env["REDIRECT_STATUS"] then
    return 0
end
-- No address can be over the limit while there are no more connections in all.
if lighty.server.stats["clients_open"] <= limit then
    _G.joi_per_address = nil
    return 0
end

local addr = r.req_attr["request.remote-addr"]

local function count_exactly()
    local n = 0
    for other in lighty.server.irequests() do
        if other.req_attr["request.remote-addr"] == addr then
            n = n + 1
        end
    end
    return n
end

local now = lighty.c.time()
local state = _G.joi_per_address
if state == nil or state.at ~= now then
    local counts = {}
    for other in lighty.server.irequests() do
        local a = other.req_attr["request.remote-addr"]
        counts[a] = (counts[a] or 0) + 1
    end
    state = { at = now, counts = counts }
    _G.joi_per_address = state
elseif r.req_item.req_count == 1 then
    state.counts[addr] = (state.counts[addr] or 0) + 1
end

if (state.counts[addr] or 0) > limit then
    local n = count_exactly()
    state.counts[addr] = n
    if n > limit then
        r.req_item.keep_alive = 0
        return 429
    end
end
return 0

"""Sends thousands of generated bad requests to the running service and checks
that each gets a 4xx problem-details answer, none a 5xx, and that no worker
process died.  Bounded by count and time.  Run by garbage_test.sh."""
import http.client
import json
import os
import random
import subprocess
import sys
import time

HOST = "127.0.0.1"
PORT = int(os.environ["JOI_TEST_PORT"])
VAR = os.environ["JOI_VAR"]
COUNT = int(os.environ.get("GARBAGE_COUNT", "3000"))
DEADLINE = time.time() + float(os.environ.get("GARBAGE_SECONDS", "120"))
rng = random.Random(20201129)


def workers():
    with open(os.path.join(VAR, "lighttpd.pid")) as f:
        pid = f.read().strip()
    out = subprocess.run(["pgrep", "-P", pid], capture_output=True, text=True).stdout
    return sorted(out.split())


def good_reading(i):
    return {"time": 1606636800 + 60 * i, "reading": 0.5}


def bodies():
    """Bad store bodies: (description, bytes)."""
    ok = json.dumps({"smartMeterId": "garbage-m", "electricityReadings": [good_reading(0)]})
    yield "truncated", ok[: rng.randrange(1, len(ok) - 1)].encode()
    yield "deep nesting", b"[" * 100000 + b"]" * 100000
    yield "deep object", b'{"a":' * 50000 + b"1" + b"}" * 50000
    for bad in ["1e999", "-1e999", "-0.5", "1000000.5", "NaN", "Infinity", "-Infinity",
                '"0.5"', "true", "null", "[]", "{}", "99999999999999999999999999",
                "0x10", "01", "1.", ".5", "+1"]:
        yield "reading " + bad, ('{"smartMeterId":"garbage-m","electricityReadings":'
                                 '[{"time":1606636800,"reading":%s}]}' % bad).encode()
    for bad in ["-1", "1.5", "1e3", "253402300800", "99999999999999999999", '"yesterday"',
                '"2024-13-01T00:00:00Z"', '"2024-01-01T00:00:00"', '"2024-02-30T00:00:00Z"',
                "null", "[1]", '"\\u0000"', "-0.0"]:
        yield "time " + bad, ('{"smartMeterId":"garbage-m","electricityReadings":'
                              '[{"time":%s,"reading":1}]}' % bad).encode()
    for bad in ['""', '"a/b"', '"../x"', '"' + "x" * 65 + '"', '"a\\u0000b"', '"caf\\u00e9"',
                "1", "null", '"%2e%2e"', '"a b"']:
        yield "meter " + bad, ('{"smartMeterId":%s,"electricityReadings":'
                               '[{"time":1606636800,"reading":1}]}' % bad).encode()
    yield "invalid utf-8", b'{"smartMeterId":"m\xff\xfe","electricityReadings":[]}'
    yield "nul byte", b'{"smartMeterId":"m\x00","electricityReadings":[{"time":1,"reading":1}]}'
    yield "too many", json.dumps({"smartMeterId": "garbage-m",
                                  "electricityReadings": [good_reading(i) for i in range(10001)]}).encode()
    yield "empty list", b'{"smartMeterId":"garbage-m","electricityReadings":[]}'
    yield "not a list", b'{"smartMeterId":"garbage-m","electricityReadings":{"time":1}}'
    yield "trailing", ok.encode() + b" x"
    yield "two docs", ok.encode() + ok.encode()
    yield "comment", b"/*x*/" + ok.encode()
    yield "single quotes", ok.replace('"', "'").encode()
    yield "empty", b""



def mutations():
    """Random mutations of a good body: some stay valid, so any 200 or 4xx is right."""
    ok = json.dumps({"smartMeterId": "mutant-m", "electricityReadings": [good_reading(0)]})
    base = bytearray(ok.encode())
    for _ in range(400):
        b = bytearray(base)
        for _ in range(rng.randrange(1, 6)):
            op = rng.randrange(3)
            pos = rng.randrange(len(b))
            if op == 0:
                b[pos] = rng.randrange(256)
            elif op == 1 and len(b) > 2:
                del b[pos]
            else:
                b.insert(pos, rng.choice(b'{}[]":,0123456789-.eE\\\x00\xff tnf'))
        yield bytes(b)


def paths():
    """Bad GET targets: (description, path)."""
    for seg in ["..%2F..%2Fetc%2Fpasswd", "%2e%2e", "a%2Fb", "%00", "%ff", "%", "%4", "%G0",
                "x" * 65, "a%20b", "caf%C3%A9", "%2F", "a;b", "a%3Fb"]:
        for route in ["/readings/read/", "/price-plans/compare-all/", "/price-plans/recommend/",
                      "/readings/usage/"]:
            yield "id " + seg, route + seg
    read = "/readings/read/smart-meter-0"
    usage = "/readings/usage/smart-meter-0"
    compare = "/price-plans/compare-all/smart-meter-0"
    recommend = "/price-plans/recommend/smart-meter-0"
    checks = [
        (["limit=-1", "limit=abc", "limit=1.5", "limit=1e3", "limit=", "limit=1&limit=2",
          "limit=%00", "limit=+1"], [read, recommend]),
        (["from=abc", "from=-1", "to=253402300800", "from=10&to=5", "from=2024-01-01T00:00:00",
          "to=1e9", "from=0x10", "from=1&from=2"], [read, usage, compare, recommend]),
        (["include=all", "include=", "include=savings&include=savings"], [recommend]),
        (["period=year", "period=", "period=DAY"], [usage]),
        (["from=%ZZ", "a=%", "&".join("p%d=1" % i for i in range(40)), "x=" + "y" * 400,
          "%=1", "a=%4"], [read, usage, compare, recommend]),
    ]
    for queries, routes in checks:
        for q in queries:
            for route in routes:
                yield "query " + q, route + "?" + q
    for p in ["/readings", "/readings/", "/readings/read", "/readings/read/a/b",
              "/price-plans/", "/price-plans/compare-all", "/price-plans/compare-all/a/",
              "/price-plans/nope/x", "/healthz", "//readings/read/x", "/readings//read/x",
              "/readings/store/x", "/%72eadings/read/x"]:
        yield "route " + p, p


def check(conn, method, path, body, headers, desc, failures):
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
    except (http.client.HTTPException, OSError) as e:
        failures.append("%s %s (%s): connection error %s" % (method, path[:80], desc, e))
        return None
    status = resp.status
    ctype = resp.getheader("Content-Type", "")
    if desc == "mutation" and status == 200:
        pass  # a mutation that is still a valid batch
    elif not 400 <= status < 500:
        failures.append("%s %s (%s): status %d %s" % (method, path[:80], desc, status, data[:200]))
    elif ctype != "application/problem+json":
        failures.append("%s %s (%s): content type %r" % (method, path[:80], desc, ctype))
    else:
        try:
            doc = json.loads(data)
            if doc.get("status") != status or not doc.get("detail"):
                failures.append("%s %s (%s): bad problem %s" % (method, path[:80], desc, data[:200]))
        except ValueError:
            failures.append("%s %s (%s): body is not JSON %s" % (method, path[:80], desc, data[:200]))
    if resp.getheader("Connection", "").lower() == "close":
        return "reconnect"
    return None


def main():
    before = workers()
    failures = []
    sent = 0
    conn = http.client.HTTPConnection(HOST, PORT, timeout=15)
    cases = []
    for desc, body in bodies():
        cases.append(("POST", "/readings/store", body, {"Content-Type": "application/json"}, desc))
    for desc, path in paths():
        cases.append(("GET", path, None, {}, desc))
    for method in ["PUT", "DELETE", "PATCH", "OPTIONS"]:
        for path in ["/readings/store", "/readings/read/smart-meter-0", "/price-plans",
                     "/price-plans/compare-all/smart-meter-0", "/health"]:
            cases.append((method, path, b"{}", {"Content-Type": "application/json"}, "method"))
    cases.append(("GET", "/readings/store", None, {}, "GET store"))
    cases.append(("POST", "/readings/store", b"{}", {"Content-Type": "text/plain"}, "type"))
    cases.append(("POST", "/readings/store", b"x" * (1024 * 1024 + 1),
                  {"Content-Type": "application/json"}, "too large"))
    while len(cases) < COUNT - 400:  # random bytes until COUNT
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
        cases.append(("POST", "/readings/store", body, {"Content-Type": "application/json"}, "random"))
    for body in mutations():
        cases.append(("POST", "/readings/store", body, {"Content-Type": "application/json"},
                      "mutation"))
    for method, path, body, headers, desc in cases[:COUNT]:
        if time.time() > DEADLINE:
            failures.append("time limit reached after %d requests" % sent)
            break
        if check(conn, method, path, body, headers, desc, failures) == "reconnect":
            conn.close()
            conn = http.client.HTTPConnection(HOST, PORT, timeout=15)
        sent += 1
    conn.close()
    after = workers()
    if before != after:
        failures.append("workers changed: before %s, after %s" % (before, after))
    # Nothing was written for the meter the bad batches named.
    c = http.client.HTTPConnection(HOST, PORT, timeout=15)
    c.request("GET", "/readings/read/garbage-m")
    r = c.getresponse()
    r.read()
    if r.status != 404:
        failures.append("garbage-m has readings after bad batches only (status %d)" % r.status)
    for f in failures[:40]:
        print("  FAIL", f)
    print("%d bad requests sent" % sent)
    print("%d passed, %d failed" % (sent + 2 - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

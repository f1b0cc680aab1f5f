"""The pre-aggregates the store script keeps (half-hour energy buckets and long
intervals) must price exactly like the readings themselves.  Stores random
batches out of order, with replaced times and long gaps, through the real
service, then compares compare-all over the whole history (priced from the
aggregates) with the same request over from=0&to=253402300799, and ranged
requests at arbitrary seconds with the whole history of a twin meter that holds
only the readings of the range, for flat plans and for time-of-use plans with
windows on and off bucket edges.  Run by aggregates_test.sh."""
import http.client
import json
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

PORT = int(os.environ["JOI_TEST_PORT"])
ADMIN = os.environ["JOI_ADMIN"]
VAR = os.environ["JOI_VAR"]
ROOT = os.environ["JOI_ROOT"]
rng = random.Random(1606636800)
passed = failed = 0


def request(method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    c.request(method, path, body=body, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("  ok   " + name)
    else:
        failed += 1
        print("  FAIL %s %s" % (name, detail))


def load(doc):
    path = os.path.join(VAR, "aggregates-plans.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    subprocess.run([ADMIN, "load-config", path], check=True, capture_output=True)


def store_history(meter, in_order):
    """Random readings, 4000 of them.  Out of order: shuffled, in batches of varied
    size, some times sent again with a new value.  In order: the way a meter sends
    (each batch after every stored reading, the store's fast path), with the gaps,
    and a few batches resent at the end."""
    times = []
    t = 1774900000  # spans the end of March 2026 (a London clock change)
    for _ in range(4000):
        step = rng.choice([60, 60, 60, 300, 900, 1799, 1800, 1801]) if rng.random() > 0.02 \
            else rng.randrange(3600, 40000)
        t += step
        times.append(t)
    readings = [{"time": x, "reading": round(rng.uniform(0, 6), 4)} for x in times]
    if not in_order:
        rng.shuffle(readings)
    batches = []
    i = 0
    while i < len(readings):
        n = rng.choice([1, 7, 50, 400])
        batch = readings[i:i + n]
        if not in_order and rng.random() < 0.3 and i > 0:  # resend an earlier time
            again = dict(rng.choice(readings[:i]))
            again["reading"] = round(rng.uniform(0, 6), 4)
            batch.append(again)
        batches.append(batch)
        i += n
    if in_order:
        for _ in range(5):
            batches.append(rng.choice(batches))
    final = {}
    for batch in batches:
        status, data = request("POST", "/readings/store",
                               json.dumps({"smartMeterId": meter, "electricityReadings": batch}))
        if status != 200:
            check("store a batch", False, "%d %s" % (status, data[:200]))
            return final
        for r in batch:  # the last one of a time wins
            final[r["time"]] = r["reading"]
    return final


def store_twins(meter, final):
    """Ranges at arbitrary seconds (one inside a day, one of whole UTC days, one
    that starts before the first reading, ends inside split buckets), each with a twin meter that holds only
    the readings of meter inside it, in order.  Returns [(from, to, twin)]."""
    times = sorted(final)
    t0, t1 = times[0], times[-1]
    ranges = [(t0 + 3 * 86400 + 1234, t0 + 3 * 86400 + 40000),
              ((t0 // 86400 + 2) * 86400, (t1 // 86400 - 1) * 86400 - 1),
              (t0 - 5000, t0 + (t1 - t0) // 2 + 17)]
    # Ends inside buckets the Kathmandu plan splits (16:10 there is 10:25 UTC, its
    # midnight 18:15 UTC): those buckets are priced from the readings around them,
    # which must stop at the range's ends.
    for d in (4, 9, 15):
        day = t0 // 86400 + d
        ranges.append((day * 86400 + 10 * 3600 + 610, (day + 5) * 86400 + 18 * 3600 + 1190))
    for _ in range(3):
        a = rng.randrange(t0 - 3600, t1)
        ranges.append((a, rng.randrange(a, t1 + 3600)))
    out = []
    for i, (a, b) in enumerate(ranges):
        twin = "%s-r%d" % (meter, i)
        inside = [{"time": x, "reading": final[x]} for x in times if a <= x <= b]
        for j in range(0, len(inside), 1000):
            status, data = request("POST", "/readings/store", json.dumps(
                {"smartMeterId": twin, "electricityReadings": inside[j:j + 1000]}))
            if status != 200:
                check("store a twin's batch", False, "%d %s" % (status, data[:200]))
        out.append((a, b, twin))
    return out


def compare(meter, label, ranged_path=None):
    """compare-all of meter's whole history against ranged_path's answer (by default
    the same meter over from=0&to=253402300799)."""
    s1, whole = request("GET", "/price-plans/compare-all/" + meter)
    s2, ranged = request("GET", ranged_path or
                         "/price-plans/compare-all/%s?from=0&to=253402300799" % meter)
    if s1 != 200 or s2 != 200:
        check(label, False, "statuses %d %d" % (s1, s2))
        return
    a, b = json.loads(whole), json.loads(ranged)
    ok = True
    for x, y in zip(a["pricePlanComparisons"], b["pricePlanComparisons"]):
        (ka, va), = x.items()
        (kb, vb), = y.items()
        if ka != kb or abs(va - vb) > 1e-9 * max(1.0, abs(vb)):
            ok = False
    ua, ub = a["usage"], b["usage"]
    for k in ("from", "to", "coveredSeconds", "gaps"):
        ok = ok and ua[k] == ub[k]
    ok = ok and abs(ua["kWh"] - ub["kWh"]) <= 1e-9 * max(1.0, ub["kWh"])
    check(label, ok, "\n  aggregates: %s\n  readings:   %s" % (whole[:400], ranged[:400]))


def usage_edges(t0, t1, tz, period):
    """The local day or month starts of zone tz from the one holding t0 until past t1."""
    z = ZoneInfo(tz)
    d = datetime.fromtimestamp(t0, z).replace(tzinfo=None)
    s = d.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        s = s.replace(day=1)
    out, k = [], 0
    while True:
        if period == "day":
            n = s + timedelta(days=k)
        else:
            y, m = divmod(s.month - 1 + k, 12)
            n = s.replace(year=s.year + y, month=m + 1)
        out.append(int(n.replace(tzinfo=z).timestamp()))
        if out[-1] > t1:
            return out
        k += 1


def usage_reference(final, a, b, tz, max_gap, period):
    """Usage buckets of the readings in [a, b], worked out here from the readings:
    each interval that is not a gap split at the calendar edges (power interpolated),
    a bucket listed when such an interval overlaps it."""
    ts = [t for t in sorted(final) if a <= t <= b]
    if len(ts) < 2:
        return []
    e = usage_edges(ts[0], ts[-1], tz, period)
    kwh, cov, j = [0.0] * len(e), [False] * len(e), 0
    for t1, t2 in zip(ts, ts[1:]):
        if max_gap and t2 - t1 > max_gap:
            continue
        p1, p2 = final[t1], final[t2]
        while e[j + 1] <= t1:
            j += 1
        k = j
        while k + 1 < len(e) and e[k] < t2:
            x, y = max(t1, e[k]), min(t2, e[k + 1])
            px = p1 + (p2 - p1) * (x - t1) / (t2 - t1)
            py = p1 + (p2 - p1) * (y - t1) / (t2 - t1)
            kwh[k] += (px + py) / 2 * (y - x) / 3600
            cov[k] = True
            k += 1
    return [(e[k], e[k + 1], kwh[k]) for k in range(len(e) - 1) if cov[k]]


def usage_check(meter, final, a, b, tz, max_gap, label):
    """GET /readings/usage by day and by month over [a, b] (the whole history when a
    is None) equals the reference (kWh within 1e-9)."""
    for period in ("day", "month"):
        path = "/readings/usage/%s?period=%s" % (meter, period)
        if a is not None:
            path += "&from=%d&to=%d" % (a, b)
        status, body = request("GET", path)
        want = usage_reference(final, a if a is not None else -1, b if a is not None
                               else 1 << 62, tz, max_gap, period)
        got = [(x["start"], x["end"], x["kWh"]) for x in json.loads(body)] \
            if status == 200 else None
        ok = got is not None and len(got) == len(want) and all(
            g[0] == w[0] and g[1] == w[1] and abs(g[2] - w[2]) <= 1e-9 * max(1e-3, abs(w[2]))
            for g, w in zip(got, want))
        check("%s: usage by %s %s" % (label, period, path), ok,
              "\n  service:   %s\n  reference: %s" % (body[:300], want[:4]))


def main():
    shuffled, in_order = "aggregates-%d" % os.getpid(), "aggregates-in-order-%d" % os.getpid()
    finals = {shuffled: store_history(shuffled, False), in_order: store_history(in_order, True)}
    twins = [(m, store_twins(m, finals[m])) for m in (shuffled, in_order)]

    def usage(what, tz, max_gap):
        # Usage from the day records (the edge days' readings cut to the range), by
        # day and month, against the readings worked out here.
        for meter, ts in twins:
            usage_check(meter, finals[meter], None, None, tz, max_gap, what)
            for a, b, _ in ts:
                usage_check(meter, finals[meter], a, b, tz, max_gap, what)

    def ranged(what):
        # A ranged answer (the day records of the range's whole days, the edge days'
        # readings) is the whole-history answer of a twin holding only that range.
        for meter, ts in twins:
            for a, b, twin in ts:
                compare(twin, "%s: %s?from=%d&to=%d prices like a meter of just those readings"
                        % (what, meter, a, b),
                        "/price-plans/compare-all/%s?from=%d&to=%d" % (meter, a, b))

    compare(shuffled, "flat plans: aggregates price like the readings")
    compare(in_order, "flat plans, batches in order: aggregates price like the readings")
    ranged("flat plans")
    usage("UTC", "UTC", 0)
    load({"timezone": "Europe/London", "maxGapSeconds": 7200, "pricePlans": [
        {"id": "flat", "supplier": "a", "unitRate": 0.25, "standingCharge": 0.4},
        {"id": "peak", "supplier": "b", "unitRate": 0.3, "peakTimeMultipliers": [
            {"days": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
             "from": "16:00", "to": "19:00", "multiplier": 2},
            {"from": "23:30", "to": "07:30", "multiplier": 0.5}]},
        {"id": "tenpast", "supplier": "c", "unitRate": 0.2, "timezone": "Asia/Kathmandu",
         "peakTimeMultipliers": [{"from": "16:10", "to": "19:10", "multiplier": 3},
                                 {"dayOfWeek": "SUNDAY", "multiplier": 0.7}]}]})
    compare(shuffled, "time-of-use plans, windows inside buckets, gaps: aggregates price like the readings")
    compare(in_order, "time-of-use plans, batches in order: aggregates price like the readings")
    ranged("time-of-use plans")
    usage("Europe/London, maxGapSeconds 7200", "Europe/London", 7200)
    subprocess.run([ADMIN, "load-config", os.path.join(ROOT, "redis/plans.json")], check=True,
                   capture_output=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writers of one meter that keep meeting (run by tests/e2e/faults_test.sh).

    contention.py URL METER DAY

WRITERS processes append batches of one reading each to day DAY (epoch seconds
of a UTC day's start), every batch a new time, over keep-alive connections, as
fast as they are answered.  Once they have stored APPENDS_BEFORE batches (or 8 s
have passed), one batch of the next day arrives: it must seal the head, a big
one, while the appends stream in.  The writers then send AFTER batches more each,
now into a sealed day's chunk, all at once.  Every loop is bounded by count and
time (30 s).

Prints one line per check, "RESULT<TAB>NAME<TAB>DETAIL" (RESULT 0 = passed), for
faults_test.sh's check: the seal got 200, every batch got 200 (the detail counts
the others by phase: into the head, into the sealed day), and the meter reads back
exactly the readings sent, each once; the same three lines, failed, when anything
goes wrong on the way.
"""
import http.client
import json
import multiprocessing as mp
import sys
import time
import urllib.parse

WRITERS = 3
APPENDS_BEFORE = 12000  # batches in the head before the seal (or 8 s of them)
AFTER = 150  # batches a writer sends after the seal
PER_WRITER = APPENDS_BEFORE + AFTER


def post(conn, meter, readings):
    body = json.dumps({"smartMeterId": meter,
                       "electricityReadings": [{"time": t, "reading": r} for t, r in readings]})
    conn.request("POST", "/readings/store", body.encode(), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    return resp.status, resp.read()


def writer(w, url, meter, day, appended, sealed, deadline, out):
    """Appends until it has sent AFTER batches after the seal (bounded by count and
    time); puts (codes, codes other than 200 by phase, times acknowledged) on out."""
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    codes, failed, acked, after = {}, {}, [], 0
    for k in range(PER_WRITER):
        if after == AFTER or time.monotonic() > deadline:
            break
        phase = "into the sealed day" if sealed.is_set() else "into the head"
        if sealed.is_set():
            after += 1
        t = day + k * WRITERS + w
        status, _ = post(conn, meter, [(t, 0.5)])
        codes[status] = codes.get(status, 0) + 1
        if status != 200:
            key = "%d %s" % (status, phase)
            failed[key] = failed.get(key, 0) + 1
        if status == 200:
            acked.append(t)
            with appended.get_lock():
                appended.value += 1
    conn.close()
    out.put((codes, failed, acked))


def line(ok, name, detail):
    print("%d\t%s\t%s" % (0 if ok else 1, name, detail), flush=True)


def run(url, meter, day, procs):
    """Returns the three checks: (passed, name, detail)."""
    appended, sealed, out = mp.Value("l", 0), mp.Event(), mp.Queue()
    start = time.monotonic()
    for w in range(WRITERS):
        p = mp.Process(target=writer, daemon=True,
                       args=(w, url, meter, day, appended, sealed, start + 30, out))
        procs.append(p)
        p.start()
    while appended.value < APPENDS_BEFORE and time.monotonic() < start + 8:
        time.sleep(0.01)
    before = appended.value
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    seal_t = day + 86400 + 7
    try:
        seal_status, seal_body = post(conn, meter, [(seal_t, 2.0)])
    finally:
        conn.close()
        sealed.set()
    codes, failed, sent = {}, {}, {}
    for _ in procs:  # each writer stops by start + 30 s
        c, f, acked = out.get(timeout=max(1, start + 45 - time.monotonic()))
        for k, v in c.items():
            codes[k] = codes.get(k, 0) + v
        for k, v in f.items():
            failed[k] = failed.get(k, 0) + v
        for t in acked:
            sent[t] = 0.5
    if seal_status == 200:
        sent[seal_t] = 2.0

    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request("GET", "/readings/read/" + meter)
        resp = conn.getresponse()
        status, stored = resp.status, json.loads(resp.read())
    finally:
        conn.close()
    got = [(r["time"], r["reading"]) for r in stored] if status == 200 else []
    want = sorted(sent.items())
    total = sum(codes.values())
    return [
        (seal_status == 200, "the seal, %d appends in, got 200" % before,
         "%d %s" % (seal_status, seal_body.decode(errors="replace"))),
        (codes == {200: total}, "every one of %d appended batches got 200" % total,
         "%s; %s" % (json.dumps(codes), json.dumps(failed))),
        (status == 200 and sorted(got) == want and len(got) == len(set(got)),
         "the meter reads back exactly the %d readings sent" % len(want),
         "%d stored, %d sent" % (len(got), len(want))),
    ]


def main():
    url = urllib.parse.urlsplit(sys.argv[1])
    procs = []
    try:
        checks = run(url, sys.argv[2], int(sys.argv[3]), procs)
    except Exception as e:  # pylint: disable=broad-except
        checks = [(False, name, "%s: %s" % (type(e).__name__, e)) for name in
                  ("the seal got 200", "every appended batch got 200",
                   "the meter reads back exactly the readings sent")]
    finally:
        for p in procs:
            p.terminate()
    for ok, name, detail in checks:
        line(ok, name, detail)


if __name__ == "__main__":
    main()

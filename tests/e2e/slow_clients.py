"""Slow and hostile clients for tests/e2e/slow_clients_test.sh and
tests/e2e/slow_readers_test.sh.  Every mode is bounded by count and by time.

  trickle  --addr A --port P --count N --seconds S [--interval I] [--ready FILE]
      Opens N connections from address A (the client socket is bound to it) and
      keeps them open for S seconds, each sending one byte of an endless header
      block every I seconds (a request that never completes).  A connection the
      server closes is opened again, as an attacker would (at most 20 N opens).
      Writes FILE once every connection was opened; prints a JSON summary
      ("refused": closed before its first byte, e.g. by a firewall rule).

  probe    --addr A --port P --seconds S [--every E] --check PATH STATUS BODY ...
      From address A, one request every E seconds for S seconds, cycling through
      the checks; each is a new connection with "Connection: close".  A request
      counts as good when it is answered with exactly STATUS and BODY within
      --limit seconds (default 1).  Prints a JSON summary with the longest wait.

  slowread --addr A --port P --count N --seconds S --path PATH [--ready FILE]
      N connections from A, one after the other, that each send a complete GET
      for PATH, read its status line and then nothing more until S seconds are
      over (a 4 KiB receive buffer, so the answer stays with the server).
      Writes how many got each status line to FILE once all were asked, and
      prints it at the end.

  hold     --addr A --port P --count N --seconds S [--ready FILE]
      N connections from A that send nothing, held for S seconds.
"""
import argparse
import json
import os
import resource
import selectors
import socket
import sys
import time


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need + 64
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            sys.exit("slow_clients: need %d file descriptors, the hard limit is %d" % (want, hard))
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def connect_nonblocking(addr, port, rcvbuf=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((addr, 0))
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    return s


def touch(path, text="ready"):
    if path:
        with open(path + ".tmp", "w") as f:
            f.write(text + "\n")
        os.rename(path + ".tmp", path)


def trickle(a):
    raise_fd_limit(a.count)
    end = time.monotonic() + a.seconds
    sel = selectors.DefaultSelector()
    # Per socket: the next time it sends a byte.
    conns = {}
    stats = {"opened": 0, "closed_by_server": 0, "refused": 0, "bytes_sent": 0,
             "max_open": 0}
    head = b"GET /health/live HTTP/1.1\r\nHost: joi\r\nX-Slow: "

    def open_one(now):
        if stats["opened"] >= 20 * a.count:
            return
        s = connect_nonblocking(a.addr, a.port)
        stats["opened"] += 1
        # Spread the first bytes over the interval, so the server sees a trickle.
        conns[s] = [now + (stats["opened"] % 100) * a.interval / 100.0, 0]
        sel.register(s, selectors.EVENT_READ)

    def drop(s):
        # Refused: closed before it could send a byte (e.g. by a firewall rule).
        stats["refused" if conns[s][1] == 0 else "closed_by_server"] += 1
        sel.unregister(s)
        del conns[s]
        s.close()

    now = time.monotonic()
    for _ in range(a.count):
        open_one(now)
    touch(a.ready)
    while True:
        now = time.monotonic()
        if now >= end:
            break
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except (ConnectionError, OSError):
                data = b""
            if not data:  # the server closed it, or it was refused
                drop(s)
        for s, st in list(conns.items()):
            if st[0] > now:
                continue
            st[0] = now + a.interval
            byte = head[st[1]:st[1] + 1] if st[1] < len(head) else b"x"
            try:
                s.send(byte)
                st[1] += 1
                stats["bytes_sent"] += 1
            except BlockingIOError:
                pass
            except (ConnectionError, OSError):
                drop(s)
        # Open again what was closed, at most 50 every round (1000/s).
        for _ in range(min(50, a.count - len(conns))):
            open_one(now)
        stats["max_open"] = max(stats["max_open"], len(conns))
    stats["open_at_end"] = len(conns)
    for s in list(conns):
        s.close()
    print(json.dumps(stats))


def one_request(addr, port, path, timeout):
    """Returns (status, body, seconds); status is None after a timeout or error."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    data = b""
    try:
        s.bind((addr, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(("GET %s HTTP/1.1\r\nHost: joi\r\nConnection: close\r\n\r\n" % path).encode())
        while True:
            if time.monotonic() - t0 > timeout:
                raise socket.timeout()
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (OSError, socket.timeout) as e:
        return None, repr(e), time.monotonic() - t0
    finally:
        s.close()
    took = time.monotonic() - t0
    head, _, body = data.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None, data[:200].decode("latin-1"), took
    return status, body.decode("utf-8", "replace"), took


def probe(a):
    checks = [(a.check[i], int(a.check[i + 1]), a.check[i + 2]) for i in range(0, len(a.check), 3)]
    end = time.monotonic() + a.seconds
    n = good = 0
    worst = 0.0
    failures = []
    while time.monotonic() < end:
        t0 = time.monotonic()
        path, want_status, want_body = checks[n % len(checks)]
        # Wait up to 5 s so that a slow answer is measured rather than cut off.
        status, body, took = one_request(a.addr, a.port, path, max(5.0, a.limit))
        n += 1
        worst = max(worst, took)
        if status == want_status and body == want_body and took < a.limit:
            good += 1
        elif len(failures) < 5:
            failures.append({"path": path, "status": status, "body": body[:200],
                             "seconds": round(took, 3)})
        time.sleep(max(0.0, a.every - (time.monotonic() - t0)))
    print(json.dumps({"requests": n, "good": good, "max_seconds": round(worst, 3),
                      "failures": failures}))


def slowread(a):
    raise_fd_limit(a.count)
    end = time.monotonic() + a.seconds
    socks = []
    statuses = {}
    req = ("GET %s HTTP/1.1\r\nHost: joi\r\n\r\n" % a.path).encode()
    # One at a time: the next connection opens once this one's status line came,
    # so the server sees them arrive in order.  Then none of them reads more.
    for _ in range(a.count):
        if time.monotonic() >= end:
            break
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.bind((a.addr, 0))
        s.settimeout(max(0.1, min(10.0, end - time.monotonic())))
        line = b""
        try:
            s.connect(("127.0.0.1", a.port))
            s.sendall(req)
            while b"\r\n" not in line:
                chunk = s.recv(64)
                if not chunk:
                    break
                line += chunk
        except OSError as e:
            line = ("error: " + e.__class__.__name__).encode()
        key = line.split(b"\r\n", 1)[0].decode("latin-1") or "no answer"
        statuses[key] = statuses.get(key, 0) + 1
        socks.append(s)
    summary = json.dumps({"connections": len(socks), "status_lines": statuses})
    touch(a.ready, summary)
    while time.monotonic() < end:
        time.sleep(0.2)
    for s in socks:
        s.close()
    print(summary)


def hold(a):
    raise_fd_limit(a.count)
    end = time.monotonic() + a.seconds
    socks = [connect_nonblocking(a.addr, a.port) for _ in range(a.count)]
    touch(a.ready)
    while time.monotonic() < end:
        time.sleep(0.2)
    for s in socks:
        s.close()
    print(json.dumps({"connections": len(socks)}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["trickle", "probe", "slowread", "hold"])
    p.add_argument("--addr", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--interval", type=float, default=3.0)
    p.add_argument("--every", type=float, default=0.2)
    p.add_argument("--limit", type=float, default=1.0)
    p.add_argument("--path", default="/health/live")
    p.add_argument("--ready")
    p.add_argument("--check", nargs="+", default=[])
    a = p.parse_args()
    a.seconds = min(a.seconds, 300.0)  # every mode ends, whatever it is given
    {"trickle": trickle, "probe": probe, "slowread": slowread, "hold": hold}[a.mode](a)


if __name__ == "__main__":
    main()

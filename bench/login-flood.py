#!/usr/bin/env python3
"""Floods imipd's HTTP sign-in with wrong passwords and reports what came back.

usage: login-flood.py HOST:PORT --clients 100 --seconds 15 [--sources N] [--spray N] LOGIN...

Each client keeps one connection and sends `GET /events` with HTTP Basic and a wrong
password for the LOGINs in turn. With --sources N the clients connect from N loopback
addresses (127.0.0.2, 127.0.0.3, ...), as a botnet would, so a per-address limit of the
client IP does not stop them; with --spray N they use N made-up addresses instead of the
LOGINs, so a per-address limit does not either. --probe times single sequential wrong-password requests
instead (interleaved over the LOGINs, each from its own source address) and prints the
median per LOGIN.
"""

import argparse
import base64
import socket
import statistics
import threading
import time
from collections import Counter


def request(conn, login, password):
    token = base64.b64encode(f"{login}:{password}".encode()).decode()
    conn.sendall(
        f"GET /events HTTP/1.1\r\nHost: bench\r\nAuthorization: Basic {token}\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        head += chunk
    status = int(head.split(b" ", 2)[1])
    headers, _, body = head.partition(b"\r\n\r\n")
    length = 0
    for line in headers.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += conn.recv(4096)
    close = b"connection: close" in headers.lower()
    return status, close


def connect(addr, source):
    conn = socket.create_connection(addr, timeout=60, source_address=(source, 0))
    return conn


def flood(args, addr):
    deadline = time.monotonic() + args.seconds
    statuses = Counter()
    latencies = []
    lock = threading.Lock()

    def client(i):
        source = f"127.0.0.{2 + i % args.sources}" if args.sources else "127.0.0.1"
        conn = None
        n = 0
        while time.monotonic() < deadline:
            login = args.logins[(i + n) % len(args.logins)]
            n += 1
            try:
                if conn is None:
                    conn = connect(addr, source)
                t = time.monotonic()
                status, close = request(conn, login, f"wrong-{i}-{n}")
                elapsed = time.monotonic() - t
                if close:
                    conn.close()
                    conn = None
            except OSError as e:
                status, elapsed = type(e).__name__, None
                if conn:
                    conn.close()
                conn = None
                time.sleep(0.05)
            with lock:
                statuses[status] += 1
                if elapsed is not None:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = sum(statuses.values())
    p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
    print(
        f"flood: {args.clients} clients, {args.seconds}s, sources={args.sources or 1}: "
        f"{total} requests ({total / args.seconds:.0f}/s), answers {dict(statuses)}, "
        f"answer p50 {p50:.1f} ms"
    )


def probe(args, addr):
    # Interleaved, so that a noisy neighbour slows every login alike; each request from its
    # own source address (127.0.1.x, apart from the flood's) to stay under per-client limits.
    times = {login: [] for login in args.logins}
    statuses = {login: Counter() for login in args.logins}
    for n in range(args.probe):
        for i, login in enumerate(args.logins):
            conn = connect(addr, f"127.0.1.{1 + (n * len(args.logins) + i) % 250}")
            t = time.monotonic()
            status, _ = request(conn, login, f"wrong-{n}")
            times[login].append(time.monotonic() - t)
            statuses[login][status] += 1
            conn.close()
    for login in args.logins:
        print(
            f"probe {login}: {args.probe} wrong passwords, answers {dict(statuses[login])}, "
            f"median {statistics.median(times[login]) * 1000:.1f} ms"
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("logins", nargs="+")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--sources", type=int, default=0)
    parser.add_argument("--probe", type=int, default=0)
    parser.add_argument("--spray", type=int, default=0)
    args = parser.parse_args()
    if args.spray:
        # A different unknown address on every request: no per-address limit applies.
        args.logins = [f"guess{i}@example.org" for i in range(args.spray)]
    host, port = args.server.rsplit(":", 1)
    addr = (host, int(port))
    if args.probe:
        probe(args, addr)
    else:
        flood(args, addr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""tests/netns/hostile_client.py - unauthenticated load on the reflector.

Keeps IDLE connections that never send a byte (no ClientHello) and
TRICKLE connections that send one byte of a TLS record per second open to
SERVER:PORT, from the source addresses given (round robin), for DURATION
seconds; a connection the server closes is opened again (at most
--rate new connections per 100 ms tick, so the loop stays bounded).
Writes a JSON summary: connections made, closed by the server, the
longest time any of them stayed open (a hard handshake deadline bounds
it), and how many were still open at the end and for how long.

Only for the namespaces a test created: the addresses must be local.
"""
import argparse
import errno
import json
import resource
import selectors
import socket
import time

# A TLS record header and the start of a ClientHello, sent byte by byte:
# the server sees a handshake in progress, never a complete message.
TRICKLE = bytes.fromhex("16030102000100fc0303") + bytes(4096)


class Conn:
    def __init__(self, kind, src, server, port):
        self.kind = kind
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.bind((src, 0))
        self.t_open = None
        self.sent = 0
        self.next_send = 0.0
        rc = self.sock.connect_ex((server, port))
        if rc not in (0, errno.EINPROGRESS):
            raise OSError(rc, "connect")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=7021)
    ap.add_argument("--src", required=True, help="comma-separated")
    ap.add_argument("--idle", type=int, default=50)
    ap.add_argument("--trickle", type=int, default=20)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--rate", type=int, default=10)
    ap.add_argument("--limit", type=float, default=7.0,
                    help="count connections open longer at the end")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    want = a.idle + a.trickle + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(max(want, soft), hard), hard))
    srcs = a.src.split(",")
    sel = selectors.DefaultSelector()
    slots = {"idle": a.idle, "trickle": a.trickle}
    live = {"idle": set(), "trickle": set()}
    st = {"attempts": 0, "connected": 0, "closed_by_server": 0,
          "connect_failed": 0, "max_open_s": 0.0, "bytes_sent": 0,
          "connected_idle": 0, "connected_trickle": 0}
    rr = 0
    t0 = time.monotonic()
    end = t0 + a.duration
    next_tick = t0
    budget = 0

    def drop(c, now, by_server):
        if c.t_open is not None and by_server:
            st["closed_by_server"] += 1
            st["max_open_s"] = max(st["max_open_s"], now - c.t_open)
        try:
            sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()
        live[c.kind].discard(c)

    while True:
        now = time.monotonic()
        if now >= end:
            break
        if now >= next_tick:
            budget = a.rate
            next_tick = now + 0.1
        # Alternate the kinds, so that the churn of one cannot starve
        # the other of new connections.
        kinds = ["idle", "trickle"]
        while budget > 0 and kinds:
            kind = kinds.pop(0)
            if len(live[kind]) >= slots[kind]:
                continue
            kinds.append(kind)
            budget -= 1
            st["attempts"] += 1
            try:
                c = Conn(kind, srcs[rr % len(srcs)], a.server, a.port)
            except OSError:
                st["connect_failed"] += 1
                continue
            rr += 1
            live[kind].add(c)
            sel.register(c.sock, selectors.EVENT_READ |
                         selectors.EVENT_WRITE, c)
        for key, ev in sel.select(timeout=0.1):
            c = key.data
            now = time.monotonic()
            if c.t_open is None and ev & selectors.EVENT_WRITE:
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err != 0:
                    st["connect_failed"] += 1
                    drop(c, now, False)
                    continue
                c.t_open = now
                c.next_send = now
                st["connected"] += 1
                st["connected_" + c.kind] += 1
                sel.modify(c.sock, selectors.EVENT_READ, c)
            if ev & selectors.EVENT_READ:
                try:
                    data = c.sock.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    drop(c, now, True)
        now = time.monotonic()
        for c in list(live["trickle"]):
            if c.t_open is None or now < c.next_send:
                continue
            try:
                c.sock.send(TRICKLE[c.sent % len(TRICKLE):][:1])
                c.sent += 1
                st["bytes_sent"] += 1
            except OSError:
                drop(c, now, True)
                continue
            c.next_send = now + 1.0
    now = time.monotonic()
    ages = [now - c.t_open for k in live for c in live[k]
            if c.t_open is not None]
    st["open_at_end"] = len(ages)
    st["old_at_end"] = sum(1 for x in ages if x > a.limit)
    st["max_age_at_end_s"] = round(max(ages), 2) if ages else 0.0
    st["max_open_s"] = round(st["max_open_s"], 2)
    st["elapsed_s"] = round(now - t0, 2)
    for k in live:
        for c in list(live[k]):
            c.sock.close()
    with open(a.out, "w") as f:
        json.dump(st, f)
    print(json.dumps(st))


if __name__ == "__main__":
    main()

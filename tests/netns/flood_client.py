#!/usr/bin/env python3
"""tests/netns/flood_client.py - a flood of the reflector's probe ports.

Opens connections to SERVER:LO-HI (round robin over the ports and the
source addresses given) that never send a byte, keeps up to --conns of
them open, and opens a new one for each the server closes or refuses (at
most --rate new connections per 100 ms tick, so the loop stays bounded),
for --duration seconds.  Ports that are not armed refuse (RST); while a
session has them armed the reflector accepts.  Writes a JSON summary:
attempts, connections accepted, closed by the server, refused, and the
most open at once.

Only for the namespaces a test created: the addresses must be local.
"""
import argparse
import errno
import json
import resource
import selectors
import socket
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--ports", required=True, help="LO-HI")
    ap.add_argument("--src", required=True, help="comma-separated")
    ap.add_argument("--conns", type=int, default=2000)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    lo, hi = (int(x) for x in a.ports.split("-"))
    srcs = a.src.split(",")

    want = a.conns + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(want, hard), hard))
    sel = selectors.DefaultSelector()
    st = {"attempts": 0, "accepted": 0, "closed_by_server": 0,
          "refused": 0, "max_open": 0}
    live = {}
    rr = 0
    t0 = time.monotonic()
    end = t0 + a.duration
    next_tick = t0
    budget = 0

    def drop(s):
        try:
            sel.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()
        live.pop(s, None)

    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_tick:
            budget = a.rate
            next_tick = now + 0.1
        while budget > 0 and len(live) < a.conns:
            budget -= 1
            st["attempts"] += 1
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.bind((srcs[rr % len(srcs)], 0))
                rc = s.connect_ex((a.server, lo + rr % (hi - lo + 1)))
            except OSError:
                s.close()
                break
            rr += 1
            if rc not in (0, errno.EINPROGRESS):
                st["refused"] += 1
                s.close()
                continue
            live[s] = False
            sel.register(s, selectors.EVENT_WRITE, None)
        for key, ev in sel.select(timeout=0.05):
            s = key.fileobj
            if not live.get(s, True):
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err != 0:
                    st["refused"] += 1
                    drop(s)
                    continue
                live[s] = True
                st["accepted"] += 1
                sel.modify(s, selectors.EVENT_READ, None)
                continue
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                st["closed_by_server"] += 1
                drop(s)
        st["max_open"] = max(st["max_open"], sum(1 for v in live.values() if v))
    for s in list(live):
        s.close()
    st["elapsed_s"] = round(time.monotonic() - t0, 2)
    with open(a.out, "w") as f:
        json.dump(st, f)
    print(json.dumps(st))


if __name__ == "__main__":
    main()

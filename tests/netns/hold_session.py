#!/usr/bin/env python3
"""tests/netns/hold_session.py - an authenticated session that keeps the
passive range armed (as a long check of another agent would) for
--seconds, so that a flood of the probe ports has something to reach.

Speaks the control protocol of common/PROTOCOL.md over TLS 1.3 with an
agent certificate: hello, plan (the passive range), then waits without
probing; bye at the end.  Prints the armed reply's first port run.
"""
import argparse
import json
import os
import socket
import ssl
import struct
import time


def send(s, obj):
    data = json.dumps(dict(obj, v=1)).encode()
    s.sendall(struct.pack(">I", len(data)) + data)


def recv(s):
    def exact(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                raise EOFError("reflector closed the channel")
            b += c
        return b
    (n,) = struct.unpack(">I", exact(4))
    return json.loads(exact(n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reflector", required=True)
    ap.add_argument("--port", type=int, default=7021)
    ap.add_argument("--server", required=True)
    ap.add_argument("--passive", required=True, help="LO-HI")
    ap.add_argument("--src", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--seconds", type=float, default=15.0)
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(a.cert, a.key)
    ctx.load_verify_locations(a.ca)
    ctx.check_hostname = False
    raw = socket.create_connection((a.reflector, a.port), timeout=10,
                                   source_address=(a.src, 0))
    s = ctx.wrap_socket(raw)
    send(s, {"type": "hello", "token": os.urandom(16).hex(),
             "agent": "hold_session.py", "time_ms": int(time.time() * 1000)})
    w = recv(s)
    if w.get("type") != "welcome":
        raise SystemExit(f"no welcome: {w}")
    send(s, {"type": "plan", "server": a.server, "control_port": 21,
             "passive": a.passive, "agent_addrs": [a.src],
             "timeout_ms": 3000})
    m = recv(s)
    print(json.dumps({"armed": m.get("ports", [])[:2]}), flush=True)
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        send(s, {"type": "ping", "seq": 1, "t": 0})
        recv(s)
        time.sleep(1.0)
    send(s, {"type": "bye"})
    try:
        recv(s)
    except (EOFError, OSError):
        pass


if __name__ == "__main__":
    main()

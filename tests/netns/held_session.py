#!/usr/bin/env python3
"""held_session.py - an authenticated control session held open across a
reflector reload (crl_test.sh).

Connects with an agent certificate (TLS 1.3, the reflector verified
against the CA), sends hello and prints "welcome" once the reflector
answers, then waits until the file --go exists (at most --wait seconds)
and sends a ping on the same connection: prints "pong" and exits 0 when
the reflector answers it, exits 1 when the session was cut (or never
started).  Frames as common/PROTOCOL.md: 4-byte big-endian length, JSON.
"""
import argparse
import json
import os
import socket
import ssl
import struct
import sys
import time


def send(tls, msg):
    data = json.dumps(msg).encode()
    tls.sendall(struct.pack(">I", len(data)) + data)


def recv_exact(tls, n):
    buf = b""
    while len(buf) < n:
        chunk = tls.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("the reflector closed the session")
        buf += chunk
    return buf


def recv(tls):
    (n,) = struct.unpack(">I", recv_exact(tls, 4))
    return json.loads(recv_exact(tls, n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=7021)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--go", required=True)
    ap.add_argument("--wait", type=float, default=60.0)
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(a.ca)
    ctx.load_cert_chain(a.cert, a.key)
    try:
        raw = socket.create_connection((a.server, a.port), timeout=10)
        tls = ctx.wrap_socket(raw, server_hostname=a.server)
        send(tls, {"v": 1, "type": "hello", "token": os.urandom(16).hex(),
                   "agent": "held_session.py",
                   "time_ms": int(time.time() * 1000)})
        m = recv(tls)
        if m.get("type") != "welcome":
            print(f"no welcome: {m}", flush=True)
            return 1
        print("welcome", flush=True)
        deadline = time.monotonic() + a.wait
        while not os.path.exists(a.go):
            if time.monotonic() > deadline:
                print("timed out waiting for --go", flush=True)
                return 1
            time.sleep(0.1)
        send(tls, {"v": 1, "type": "ping", "seq": 7, "t": 1.5})
        m = recv(tls)
        if m.get("type") != "pong" or m.get("seq") != 7:
            print(f"no pong: {m}", flush=True)
            return 1
        print("pong", flush=True)
        send(tls, {"v": 1, "type": "bye"})
        tls.close()
    except (OSError, ConnectionError, ValueError) as e:
        print(f"session failed: {e!r}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

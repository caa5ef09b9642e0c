#!/usr/bin/env python3
"""notify_listen.py SOCKET OUT HOST PORT [SECONDS] - stands in for systemd's
notification socket (sd_notify(3)): binds the AF_UNIX datagram socket
SOCKET and appends each datagram received to OUT as one line, its
"KEY=VALUE" lines joined by " | ".  On the first datagram with READY=1
it also tries a TCP connect to HOST:PORT at once and appends "(port
open)" or "(port closed)": readiness must mean the control channel
listens.
Stops after STOPPING=1 or SECONDS (default 120); prints the count.
"""
import os
import socket
import sys
import time


def main():
    path, out, host, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    limit = float(sys.argv[5]) if len(sys.argv) > 5 else 120.0
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    deadline = time.monotonic() + limit
    n = 0
    ready_seen = False
    with open(out, "a", buffering=1) as f:
        while time.monotonic() < deadline:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                data = s.recv(8192)
            except socket.timeout:
                break
            n += 1
            lines = data.decode(errors="replace").split("\n")
            line = " | ".join(lines)
            if "READY=1" in lines and not ready_seen:
                ready_seen = True
                try:
                    socket.create_connection((host, port), timeout=2).close()
                    line += " (port open)"
                except OSError:
                    line += " (port closed)"
            f.write(line + "\n")
            if "STOPPING=1" in lines:
                break
    os.unlink(path)
    print(f"{n} notifications")
    return 0


if __name__ == "__main__":
    sys.exit(main())

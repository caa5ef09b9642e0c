#!/usr/bin/env python3
"""tproxy_listen.py PORT: one transparent listener (IP_TRANSPARENT) that
accepts and closes whatever an nftables tproxy rule diverts to it.

tests/bench/ports.sh times nmap against the passive range opened this
way: the cost of a scan whose every port answers, with no ftpath code
on either side.  Runs until killed."""
import socket
import sys

IP_TRANSPARENT = 19  # linux/in.h; not exported by the socket module


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        print("usage: tproxy_listen.py PORT", file=sys.stderr)
        return 2
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", int(sys.argv[1])))
    srv.listen(4096)
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        conn.close()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""idle_client.py HOST SECONDS - a real FTP client (ftplib) that logs in
anonymously, stays idle for SECONDS, then sends NOOP.  Exit 0 when the
NOOP is answered within 4 s, 1 otherwise (the idle-timeout scenario's
cross-check)."""
import ftplib
import socket
import sys
import time


def main():
    host, idle = sys.argv[1], float(sys.argv[2])
    ftp = ftplib.FTP()
    ftp.connect(host, 21, timeout=4)
    ftp.login()
    time.sleep(idle)
    try:
        print(ftp.voidcmd("NOOP"))
    except (OSError, socket.timeout, ftplib.Error) as e:
        print(f"NOOP after {idle:g} s idle: {e!r}")
        return 1
    ftp.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

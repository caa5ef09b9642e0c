#!/usr/bin/env python3
"""tests/netns/forge_trace.py - forged nftables trace multicasts.

Any process with CAP_NET_ADMIN in a namespace may send to the
NFNLGRP_NFTRACE group of NETLINK_NETFILTER; every trace listener there
receives it.  This sends, every --interval seconds for --seconds, the
inputs that crashed or fooled the old decoder (libnftnl 1.2.4): a trace
without NFTA_TRACE_ID, a verdict attribute without nested data, an
unterminated TABLE string, and well-formed events claiming that a rule of
table "forged" dropped the probes to --dport-lo..--dport-hi of --dst from
--src.  A listener that trusts only the kernel (sender port id 0) ignores
them all.  Prints a JSON summary (messages sent, send errors); exit 2 if
not one could be sent (no CAP_NET_ADMIN: the caller skips).

Only for the namespaces a test created.
"""
import argparse
import json
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNLGRP_NFTRACE = 9
NFT_MSG_TRACE = (10 << 8) | 17	# NFNL_SUBSYS_NFTABLES, NFT_MSG_TRACE


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("<HH", n, t) + payload + b"\0" * ((-n) % 4)


def u32(v):
    return struct.pack(">I", v)


def msg(body):
    return struct.pack("<IHHII", 16 + len(body), NFT_MSG_TRACE, 0, 0, 0) + body


def forged_drop(src, dst, dport, tid):
    ip = (bytes([0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, 6, 0, 0]) +
          socket.inet_aton(src) + socket.inet_aton(dst))
    tcp = struct.pack(">HH", 40000, dport) + bytes(9) + b"\x02" + bytes(6)
    nfg = bytes([1, 0, 0, 0])	# inet
    first = (nfg + attr(1, b"forged\0") + attr(2, b"input\0") +
             attr(6, u32(tid)) + attr(4, u32(3)) +
             attr(3, struct.pack(">Q", 99)) +
             attr(5 | 0x8000, attr(1, u32(0))) + attr(15, u32(2)) +
             attr(8, ip) + attr(9, tcp))
    return msg(first)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--interval", type=float, default=0.01)
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--dport-lo", type=int, default=21)
    ap.add_argument("--dport-hi", type=int, default=21)
    a = ap.parse_args()

    hostile = [
        msg(bytes([2, 0, 0, 0])),
        msg(bytes([1, 0, 0, 0]) + attr(6, u32(1)) + attr(4, u32(3)) +
            attr(5 | 0x8000, b"")),
        msg(bytes.fromhex("74000000080006000000000708000400001400050c00"
                          "b200000000000000058008000100ffffffff")),
    ]
    st = {"sent": 0, "errors": 0, "last_error": None}
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    group = 1 << (NFNLGRP_NFTRACE - 1)
    end = time.monotonic() + a.seconds
    tid = 1
    while time.monotonic() < end:
        batch = list(hostile)
        for p in range(a.dport_lo, a.dport_hi + 1):
            batch.append(forged_drop(a.src, a.dst, p, tid))
            tid += 1
        for m in batch:
            try:
                s.sendto(m, (0, group))
                st["sent"] += 1
            except OSError as e:
                st["errors"] += 1
                st["last_error"] = str(e)
        time.sleep(a.interval)
    s.close()
    print(json.dumps(st))
    sys.exit(0 if st["sent"] > 0 else 2)


if __name__ == "__main__":
    main()

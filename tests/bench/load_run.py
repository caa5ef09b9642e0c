#!/usr/bin/env python3
"""tests/bench/load_run.py - the drivers behind tests/bench/load.sh.

  load_run.py agents --dir DIR --ns-list FILE --timeout S -- AGENT-ARGV...
      Starts one agent per namespace (one per line of FILE), each as
      `ip netns exec NS sh -c 'ready; wait for the barrier; exec timeout
      S AGENT-ARGV --json DIR/I.json'`.  When every child is waiting (or
      after a bounded wait) the barrier is released at once; the wall time
      of each agent is taken from the release to its exit.  Writes
      DIR/results.json (one object per agent) and prints a summary block.
      Exit status 0 when the run itself worked (whatever the agents said).

  load_run.py tls --host H --port P --cert F --key F --ca F --count N
      Sequential control-channel set-ups against the reflector: TCP
      connect, TLS 1.3 handshake with the agent certificate, hello ->
      welcome (so that the reflector has verified the certificate and
      answered), bye, close.  Bounded by --count and --max-seconds.
      Prints `tls: ...` with the rate.

Only the standard library.  Every wait is bounded; only processes this
script started are signalled, by PID.
"""
import argparse
import json
import os
import select
import signal
import socket
import ssl
import struct
import sys
import time


def pct(vals, p):
    """Nearest-rank percentile of a non-empty list."""
    s = sorted(vals)
    k = max(1, -(-len(s) * p // 100))  # ceil(n*p/100), at least 1
    return s[min(len(s), k) - 1]


def classify(rc, jpath):
    """(category, detail, probe summary, duration_ms, trace_lost) of one agent."""
    doc = None
    try:
        with open(jpath, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        doc = None
    lost = 0
    dur = None
    probes = []
    if doc is not None:
        dur = doc.get("duration_ms")
        txt = json.dumps(doc)
        # the agent's own trace (its host); the reflector's loss is
        # counted from the reflector's log by load.sh
        if "agent host is incomplete" in txt:
            lost = 1
        for p in doc.get("probes") or []:
            probes.append((str(p.get("name")), p.get("verdict"), p.get("cause")))
    if rc in (124, 137, -9, -15):
        return "timeout", f"killed by timeout (rc {rc})", probes, dur, lost
    if rc == 3:
        why = ""
        if doc is not None:
            notes = doc.get("notes") or []
            why = str(notes[0]) if notes else ""
        return "exit3", why[:160], probes, dur, lost
    if rc in (0, 1) and doc is not None:
        bad = [p for p in probes if p[1] != "pass"]
        if not probes:
            return "wrong", "no probes in the report", probes, dur, lost
        if bad or rc != 0:
            d = "; ".join(f"{n}:{v}/{c}" for n, v, c in bad) or f"exit {rc}"
            return "wrong", d[:160], probes, dur, lost
        return "ok", "", probes, dur, lost
    return "other", f"exit {rc}" + ("" if doc else ", no JSON report"), probes, dur, lost


def run_agents(a):
    with open(a.ns_list, encoding="utf-8") as f:
        nss = [l.strip() for l in f if l.strip()]
    n = len(nss)
    os.makedirs(a.dir, exist_ok=True)
    argv = a.argv[1:] if a.argv and a.argv[0] == "--" else a.argv
    # barrier: children block reading fd 7 until the parent closes its
    # write end; each writes one byte to fd 8 when it is ready
    br, bw = os.pipe()
    rr, rw = os.pipe()
    os.dup2(br, 7)
    os.dup2(rw, 8)
    os.close(br)
    os.close(rw)
    procs = {}  # pid -> index
    pidfile = open(os.path.join(a.dir, "pids"), "w", encoding="utf-8")
    t_spawn0 = time.monotonic()
    stopping = False

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True
        for pid in list(procs):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # sh: report ready, wait for the barrier's EOF, then become timeout
    # (same PID), which runs the agent
    script = 'printf x >&8; exec 8>&-; read _ <&7; exec 7<&-; exec "$@"'
    for i, ns in enumerate(nss):
        out = open(os.path.join(a.dir, f"{i}.out"), "wb")
        err = open(os.path.join(a.dir, f"{i}.err"), "wb")
        cmd = ["ip", "netns", "exec", ns, "sh", "-c", script, "sh",
               "timeout", "-k", "2", str(a.timeout)] + argv + [
                   "--json", os.path.join(a.dir, f"{i}.json")]
        p = os.posix_spawnp("ip", cmd, os.environ,
                            file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                                          (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
                                          (os.POSIX_SPAWN_OPEN, 0, "/dev/null",
                                           os.O_RDONLY, 0)])
        out.close()
        err.close()
        procs[p] = i
        pidfile.write(f"{p}\n")
    pidfile.flush()
    os.close(8)
    # every child ready, bounded
    ready = 0
    deadline = time.monotonic() + a.ready_timeout
    while ready < n and time.monotonic() < deadline:
        r, _, _ = select.select([rr], [], [], 0.5)
        if r:
            b = os.read(rr, 65536)
            if not b:
                break
            ready += len(b)
    t_spawn = time.monotonic() - t_spawn0
    # release
    t0 = time.monotonic()
    os.close(bw)
    os.close(7)
    results = [None] * n
    hard = t0 + a.timeout + 30  # timeout -k 2 ends every agent before
    left = dict(procs)
    while left:
        if time.monotonic() > hard:
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            hard = float("inf")
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        t = time.monotonic()
        if pid not in left:
            continue
        i = left.pop(pid)
        rc = os.waitstatus_to_exitcode(status)
        results[i] = {"ns": nss[i], "rc": rc, "ms": round((t - t0) * 1000)}
    os.close(rr)
    pidfile.close()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)

    cats = {"ok": 0, "wrong": 0, "exit3": 0, "timeout": 0, "other": 0}
    details = {}
    lost = 0
    durs = []
    for i, r in enumerate(results):
        if r is None:
            r = results[i] = {"ns": nss[i], "rc": None, "ms": None}
        cat, det, probes, dur, l = classify(r["rc"], os.path.join(a.dir, f"{i}.json"))
        r.update(cat=cat, detail=det, duration_ms=dur, trace_lost=l,
                 probes=[list(p) for p in probes])
        cats[cat] += 1
        lost += l
        if dur is not None:
            durs.append(dur)
        if cat != "ok":
            details.setdefault((cat, det), 0)
            details[(cat, det)] += 1
    with open(os.path.join(a.dir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    ms = [r["ms"] for r in results if r["ms"] is not None]
    ok_ms = [r["ms"] for r in results if r["cat"] == "ok"]
    summ = {
        "n": n, "ready": ready, "spawn_s": round(t_spawn, 2),
        **cats,
        "p50_ms": pct(ms, 50) if ms else None,
        "p99_ms": pct(ms, 99) if ms else None,
        "max_ms": max(ms) if ms else None,
        "ok_p50_ms": pct(ok_ms, 50) if ok_ms else None,
        "json_p50_ms": pct(durs, 50) if durs else None,
        "agent_trace_lost": lost,
    }
    with open(os.path.join(a.dir, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summ, f)
    for (cat, det), c in sorted(details.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {c:5d} x {cat}: {det}")
    print("agents: " + " ".join(f"{k}={v}" for k, v in summ.items()))
    return 0 if not stopping else 1


def frame(obj):
    b = json.dumps(obj).encode()
    return struct.pack(">I", len(b)) + b


def read_frame(s):
    def exact(k):
        buf = b""
        while len(buf) < k:
            c = s.recv(k - len(buf))
            if not c:
                raise ConnectionError("closed")
            buf += c
        return buf
    (ln,) = struct.unpack(">I", exact(4))
    if ln > 256 * 1024:
        raise ValueError("frame too large")
    return json.loads(exact(ln))


def run_tls(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(a.cert, a.key)
    ctx.load_verify_locations(a.ca)
    ctx.check_hostname = False  # the reflector is dialled by address
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    done = 0
    fails = 0
    hs_times = []
    tls_times = []
    t0 = time.monotonic()
    end = t0 + a.max_seconds
    while done + fails < a.count and time.monotonic() < end:
        try:
            raw = socket.socket(fam, socket.SOCK_STREAM)
            raw.settimeout(5)
            if a.nodelay:
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            raw.connect((a.host, a.port))
            th = time.monotonic()
            s = ctx.wrap_socket(raw, server_hostname=None)
            tw = time.monotonic()
            s.sendall(frame({"v": 1, "type": "hello", "token": os.urandom(16).hex(),
                             "agent": "ftpath-load-tls", "time_ms": int(time.time() * 1000)}))
            m = read_frame(s)
            if m.get("type") != "welcome":
                raise ValueError(f"got {m.get('type')}")
            hs_times.append(time.monotonic() - th)
            tls_times.append(tw - th)
            s.sendall(frame({"v": 1, "type": "bye"}))
            try:
                read_frame(s)
            except (ConnectionError, ValueError, OSError):
                pass
            s.close()
            done += 1
        except (OSError, ValueError, ssl.SSLError) as e:
            fails += 1
            if fails == 1:
                print(f"tls: first failure: {e}", file=sys.stderr)
            try:
                raw.close()
            except OSError:
                pass
    el = time.monotonic() - t0
    rate = done / el if el > 0 else 0.0
    p50 = pct(hs_times, 50) * 1000 if hs_times else 0.0
    h50 = pct(tls_times, 50) * 1000 if tls_times else 0.0
    print(f"tls: handshakes={done} failed={fails} secs={el:.2f} rate={rate:.0f}/s "
          f"p50={p50:.1f}ms handshake_p50={h50:.1f}ms"
          f"{' nodelay' if a.nodelay else ''} (sequential: TCP connect, TLS 1.3 "
          f"with the agent certificate, hello -> welcome, bye; one client)")
    return 0 if done else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    g = sub.add_parser("agents")
    g.add_argument("--dir", required=True)
    g.add_argument("--ns-list", required=True)
    g.add_argument("--timeout", type=int, default=120)
    g.add_argument("--ready-timeout", type=float, default=120)
    g.add_argument("argv", nargs=argparse.REMAINDER)
    t = sub.add_parser("tls")
    t.add_argument("--host", required=True)
    t.add_argument("--port", type=int, default=7021)
    t.add_argument("--cert", required=True)
    t.add_argument("--key", required=True)
    t.add_argument("--ca", required=True)
    t.add_argument("--count", type=int, default=200)
    t.add_argument("--max-seconds", type=float, default=30)
    t.add_argument("--nodelay", action="store_true")
    a = ap.parse_args()
    return run_agents(a) if a.mode == "agents" else run_tls(a)


if __name__ == "__main__":
    sys.exit(main())

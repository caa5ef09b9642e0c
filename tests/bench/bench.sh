#!/usr/bin/env bash
# tests/bench/bench.sh BUILD - wall time of a full ftpath check (control 21,
# active from 20, passive 30000-30099) against nmap -sT over the same ports,
# on the namespace topology, clean and with the passive range silently
# dropped by the router.  Not part of make check.  Needs root.
#
# FTPATH_BENCH_RUNS=N   repetitions per cell (default 3; the median is shown)
# FTPATH_BENCH_WIDE=1   add rows for a 4000-port passive range
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/../netns/lib.sh"
RUNS=${FTPATH_BENCH_RUNS:-3}
[[ $RUNS =~ ^[1-9][0-9]?$ ]] || {
	echo "bench: bad FTPATH_BENCH_RUNS" >&2
	exit 2
}

[[ $(id -u) -eq 0 ]] || {
	echo "bench: needs root" >&2
	exit 1
}
for p in ftpath-agent ftpath-reflector; do
	[[ -x $BUILD/$p ]] || {
		echo "bench: $BUILD/$p not built" >&2
		exit 1
	}
done
HAVE_NMAP=1
command -v nmap >/dev/null 2>&1 || HAVE_NMAP=0
need_tools vsftpd openssl ss >&2 || exit 1

topo_init bench
topo_up
start_vsftpd
start_reflector "$BUILD"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A CELL=() NOTE=()

bench_agent() { # label
	local label=$1 i t ms=() verdicts extra=(--no-ftp-check)
	# The path check (21 + 20 + passive range) is what is compared with
	# nmap; labels ending in "+ftp" add the default real-FTP login.
	[[ $label == *+ftp ]] && extra=()
	for ((i = 0; i < RUNS; i++)); do
		run_agent "$BUILD" "$T_DIR/bench-$label.json" "${extra[@]}"
		ms+=("$AGENT_MS")
	done
	verdicts=$("$PYTHON" - "$T_DIR/bench-$label.json" <<'PY' 2>/dev/null || echo "no JSON"
import json, sys
d = json.load(open(sys.argv[1]))
out = []
for p in d.get("probes", []):
    what = p.get("ports", p.get("port"))
    v = p.get("verdict")
    c = p.get("cause")
    out.append(f"{str(p.get('name', '?')).split('-')[0]} {what}: {v}{'/' + c if c else ''}")
print("; ".join(out) + f" (duration_ms {d.get('duration_ms')})")
PY
)
	t=$(median "${ms[@]}")
	CELL[agent - $label]=$t
	NOTE[agent - $label]="exit $AGENT_RC; $verdicts"
}

bench_nmap() { # label
	local label=$1 i t0 ms=() summary
	((HAVE_NMAP)) || {
		CELL[nmap - $label]="-"
		NOTE[nmap - $label]="nmap not installed"
		return 0
	}
	for ((i = 0; i < RUNS; i++)); do
		t0=$(now_ms)
		nsx "$NS_C" 300 nmap -sT -Pn -n -p 21,30000-30099 "$SERVER4" \
			-oG "$T_DIR/nmap-$label.gnmap" >/dev/null 2>&1 || true
		ms+=($(($(now_ms) - t0)))
	done
	summary=$("$PYTHON" - "$T_DIR/nmap-$label.gnmap" <<'PY' 2>/dev/null || true
import re, sys
txt = open(sys.argv[1]).read()
out = []
m = re.search(r"Ports: ([^\t\n]*)", txt)
if m:
    for e in m.group(1).split(","):
        f = e.strip().split("/")
        if len(f) > 1:
            out.append(f"{f[0]} {f[1]}")
m = re.search(r"Ignored State: (\S+) \((\d+)\)", txt)
if m:
    out.append(f"{m.group(2)} ports {m.group(1)}")
print(", ".join(out))
PY
)
	t=$(median "${ms[@]}")
	CELL[nmap - $label]=$t
	NOTE[nmap - $label]="${summary:-no result}; says nothing about port 20 or why"
}

log "clean path"
bench_agent clean
bench_nmap clean

router_nft "$NFT_SILENT_DROP"
log "passive range silently dropped by the router"
bench_agent drop
bench_nmap drop
bench_agent drop+ftp

ROWS=("agent - clean" "nmap - clean" "agent - drop" "nmap - drop" "agent - drop+ftp")

# FTPATH_BENCH_WIDE=1: also a 4000-port passive range (reflector restarted
# with passive_range 20000-23999; the router drop stays on 30000-30099)
if [[ ${FTPATH_BENCH_WIDE:-0} == 1 ]]; then
	kill -TERM "$REFLECTOR_PID" 2>/dev/null || true
	for _ in $(seq 1 30); do
		kill -0 "$REFLECTOR_PID" 2>/dev/null || break
		sleep 0.1
	done
	REFL_PASV=20000-23999
	start_reflector "$BUILD"
	bench_agent wide
	if ((HAVE_NMAP)); then
		ms=()
		for ((i = 0; i < RUNS; i++)); do
			t0=$(now_ms)
			nsx "$NS_C" 300 nmap -sT -Pn -n -p 21,20000-23999 "$SERVER4" >/dev/null 2>&1 || true
			ms+=($(($(now_ms) - t0)))
		done
		CELL[nmap - wide]=$(median "${ms[@]}")
		NOTE[nmap - wide]="21,20000-23999"
	fi
	ROWS+=("agent - wide" "nmap - wide")
fi

echo
echo "ftpath bench: control 21 + active 20 + passive $PASV_LO-$PASV_HI (101 ports), median of $RUNS"
printf '%-18s %10s  %s\n' "tool / path" "wall ms" "result"
printf '%-18s %10s  %s\n' "------------------" "----------" "------"
for k in "${ROWS[@]}"; do
	printf '%-18s %10s  %s\n' "${k/ - / (}${k:+)}" "${CELL[$k]:--}" "${NOTE[$k]:-}"
done

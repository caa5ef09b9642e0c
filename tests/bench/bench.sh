#!/usr/bin/env bash
# tests/bench/bench.sh BUILD - the default ftpath check (real FTP login
# included) against nmap -sT -T4 over the same ports (20, 21 and the
# passive range), on the namespace topology with the passive range
# silently dropped by the router: 100 ports, then 1,000.  The agent runs
# as a user types it; the two tools alternate, run by run, so that both
# see the same machine; medians and the ratio agent / nmap are printed.
# The path check alone (--no-ftp-check) runs in the same rounds, for
# reference.  Not part of make check.  Needs root.
#
# FTPATH_BENCH_RUNS=N    rounds per size (default 5)
# FTPATH_BENCH_SIZES     passive range sizes (default "100 1000")
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUNS=${FTPATH_BENCH_RUNS:-5}
SIZES=${FTPATH_BENCH_SIZES:-100 1000}
[[ $RUNS =~ ^[1-9][0-9]?$ ]] || { echo "bench: bad FTPATH_BENCH_RUNS" >&2; exit 2; }
for s in $SIZES; do
	[[ $s =~ ^[1-9][0-9]{0,4}$ ]] && ((s <= 30000)) ||
		{ echo "bench: bad size $s in FTPATH_BENCH_SIZES (1-30000)" >&2; exit 2; }
done
[[ $(id -u) -eq 0 ]] || { echo "bench: needs root" >&2; exit 1; }
for p in ftpath-agent ftpath-reflector; do
	[[ -x $BUILD/$p ]] || { echo "bench: $BUILD/$p not built" >&2; exit 1; }
done
command -v nmap >/dev/null 2>&1 || { echo "bench: nmap not installed (scripts/deps.sh test)" >&2; exit 1; }

# One size per process: the harness's topology, vsftpd and reflector are
# set up for one passive range.
if [[ -z ${FTPATH_BENCH_SIZE:-} ]]; then
	echo "ftpath bench: default check vs nmap -sT -T4 -p 20,21,RANGE, passive range silently dropped, median of $RUNS alternating rounds"
	printf '%-7s %12s %12s %12s %7s  %s\n' "ports" "ftpath ms" "path-only ms" "nmap ms" "ratio" "verdicts"
	for s in $SIZES; do
		FTPATH_BENCH_SIZE=$s "$0" "$BUILD"
	done
	exit 0
fi

# shellcheck source=tests/netns/lib.sh
. "$HERE/../netns/lib.sh"
need_tools vsftpd openssl ss >&2 || exit 1
PASV_HI=$((PASV_LO + FTPATH_BENCH_SIZE - 1))

topo_init bench
topo_up
start_vsftpd
start_reflector "$BUILD"
router_nft "table ip harness_filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname \"to-server\" tcp dport $PASV_LO-$PASV_HI drop
	}
}"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

full=() path=() nm=()
for ((i = 0; i < RUNS; i++)); do
	run_agent "$BUILD" "$T_DIR/full.json"
	full+=("$AGENT_MS")
	FULL_RC=$AGENT_RC
	t0=$(now_ms)
	nsx "$NS_C" 300 nmap -sT -T4 -Pn -n -p "20,21,$PASV_LO-$PASV_HI" "$SERVER4" \
		-oG "$T_DIR/nmap.gnmap" >/dev/null 2>&1 || true
	nm+=($(($(now_ms) - t0)))
	run_agent "$BUILD" "$T_DIR/path.json" --no-ftp-check
	path+=("$AGENT_MS")
done
verdicts=$("$PYTHON" - "$T_DIR/full.json" "$T_DIR/nmap.gnmap" <<'PY' 2>/dev/null || echo "no JSON"
import json, re, sys
d = json.load(open(sys.argv[1]))
out = []
for p in d.get("probes", []):
    c = p.get("cause")
    out.append(f"{p.get('name')} {p.get('ports', p.get('port'))} {p.get('verdict')}{'/' + c if c else ''}")
txt = open(sys.argv[2]).read()
m = re.search(r"Ignored State: (\S+) \((\d+)\)", txt)
print("; ".join(out) + (f"; nmap: {m.group(2)} {m.group(1)}" if m else ""))
PY
)
f=$(median "${full[@]}")
p=$(median "${path[@]}")
n=$(median "${nm[@]}")
printf '%-7s %12s %12s %12s %7s  %s\n' "$FTPATH_BENCH_SIZE" "$f" "$p" "$n" \
	"$(awk -v a="$f" -v b="$n" 'BEGIN { printf "%.2f", a / b }')" "exit $FULL_RC; $verdicts"
log "runs: ftpath ${full[*]}; path-only ${path[*]}; nmap ${nm[*]}"

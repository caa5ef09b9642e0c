#!/usr/bin/env bash
# tests/bench/ports.sh [BUILD] - the full passive range: vsftpd and the
# reflector with pasv 1024-65535 (64,512 ports), the router silently
# dropping 1,000 of them: a block of 900 (60000-60899) and 100 scattered
# single ports (1100 + 577 k, k = 0..99), so the report must name 101
# failing runs between 102 passing ones.  The agent runs the default
# check as a user types it (real FTP login included).  Not part of make
# check.  Needs root.
#
#   client ns ---------------- router ns -------------------- server ns
#   198.51.100.2    forward: tcp dport {dropped} drop     203.0.113.2
#                                                  reflector + vsftpd
#
# Per run: wall time, then nmap -sT -T4 -p 20,21,1024-65535 from the
# same client in the same topology (the anchor, alternating), the agent's peak RSS (/usr/bin/time %M) and the
# verdict, checked with tests/netns/check_json.py: control and active
# pass, the passive runs are exactly the expected ones, each dropped run
# path-silent-drop.  After the runs: the reflector's peak RSS (VmHWM),
# trace loss on either side (the reflector's "ENOBUFS" log lines; an
# agent report whose own host's trace is incomplete), and curl through
# a dropped and a passing passive port (two more vsftpd instances, each
# with a one-port passive range) must agree with the verdict.  It prints
# one line (also in $FTPATH_BENCH_OUT/summary.txt if set):
#
#   ports: range=1024-65535 dropped=1000 runs=3 ok=3 wall_p50=..ms
#          wall_max=..ms nmap_p50=..ms ratio=.. nmap_open_sT=..ms
#          nmap_open_sS=..ms agent_rss=..MB refl_rss=..MB agent_cpu=..s
#          refl_cpu=..s agent_trace_lost=0
#          refl_trace_lost=0 curl=agree exit=1
#
# ok: runs whose verdict was right; ratio: wall_p50 / nmap_p50;
# nmap_open_sT, nmap_open_sS: nmap's connect and SYN scans of the same
# range opened to one transparent listener by a harness tproxy rule (every
# port answers, no ftpath code runs), medians of RUNS each, after the
# agent runs; agent_rss: the largest of the runs;
# agent_cpu: its median user + system time; refl_cpu: the reflector's
# user + system time per run (the wall time is CPU-bound here);
# agent_trace_lost: runs whose agent-host trace lost events;
# refl_trace_lost: the reflector's ENOBUFS log lines over all runs;
# curl: agree | disagree (what curl did).  Wall times are noisy on a
# shared machine: compare medians of runs taken while it is quiet.
#
# FTPATH_BENCH_RUNS=N   runs (default 3), the median wall time is printed
# FTPATH_BENCH_OUT=DIR  keep the last report, the logs and summary.txt
# FTPATH_BENCH_ARGS     extra agent arguments (e.g. --no-ftp-check)
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUNS=${FTPATH_BENCH_RUNS:-3}
[[ $RUNS =~ ^[1-9][0-9]?$ ]] || { echo "ports: bad FTPATH_BENCH_RUNS" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "ports: needs root" >&2; exit 1; }
for p in ftpath-agent ftpath-reflector; do
	[[ -x $BUILD/$p ]] || { echo "ports: $BUILD/$p not built" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "ports: /usr/bin/time not installed (GNU time: scripts/deps.sh test)" >&2; exit 1; }

# shellcheck source=tests/netns/lib.sh
. "$HERE/../netns/lib.sh"
need_tools vsftpd openssl ss curl nmap >&2 || exit 1
PASV_LO=1024
PASV_HI=65535
# 7021 is inside the range (the reflector refuses a control port its
# probes would divert): a privileged one, as a deployment with a full
# range needs
REFLECTOR_PORT=921
AGENT_REFLECTOR=$SERVER4:$REFLECTOR_PORT
BLOCK_LO=60000
BLOCK_HI=60899
SCATTER=()
for ((k = 0; k < 100; k++)); do SCATTER+=($((1100 + 577 * k))); done
# curl's cross-check: its own vsftpd control ports, neither dropped
CURL_DROP_PORT=$((BLOCK_LO + 450))
CURL_PASS_PORT=50000
CURL_CTL_DROP=2100
CURL_CTL_PASS=2101
ARGS=()
# shellcheck disable=SC2206  # word splitting wanted
[[ -n ${FTPATH_BENCH_ARGS:-} ]] && ARGS=($FTPATH_BENCH_ARGS)

# expected_runs: LO-HI=pass,P=fail:path-silent-drop,... in port order
expected_runs() {
	local lo=$PASV_LO p out=""
	for p in "${SCATTER[@]}" "$BLOCK_LO"; do
		((p > lo)) && out+="$lo-$((p - 1))=pass,"
		if ((p == BLOCK_LO)); then
			out+="$BLOCK_LO-$BLOCK_HI=fail:path-silent-drop,"
			lo=$((BLOCK_HI + 1))
		else
			out+="$p=fail:path-silent-drop,"
			lo=$((p + 1))
		fi
	done
	out+="$lo-$PASV_HI=pass"
	echo "$out"
}

topo_init ports
topo_up
start_vsftpd
start_reflector "$BUILD"
set_list=$(
	IFS=,
	echo "${SCATTER[*]},$BLOCK_LO-$BLOCK_HI"
)
router_nft "table ip harness_filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname \"to-server\" tcp dport { $set_list } drop
	}
}"
WANT_RUNS=$(expected_runs)

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

walls=() nmaps=() rss=() cpus=() ok=0 agent_lost=0 rc_all=()
refl_cpu0=$(awk '{ print $14 + $15 }' "/proc/$REFLECTOR_PID/stat")
for ((i = 0; i < RUNS; i++)); do
	AGENT_WRAP=(/usr/bin/time -f '%M %U %S' -o "$T_DIR/agent.time")
	AGENT_TIMEOUT=120 run_agent "$BUILD" "$T_DIR/report.json" ${ARGS[@]+"${ARGS[@]}"}
	walls+=("$AGENT_MS")
	rc_all+=("$AGENT_RC")
	read -r kb us ss < <(tail -n1 "$T_DIR/agent.time" 2>/dev/null || echo 0 0 0)
	rss+=("$kb")
	cpus+=("$(awk -v u="$us" -v s="$ss" 'BEGIN { printf "%.2f", u + s }')")
	if "$PYTHON" "$HERE/../netns/check_json.py" --json "$T_DIR/report.json" \
		--rc "$AGENT_RC" --want-rc 1 --probe control=pass --probe active=pass \
		--passive-runs "$WANT_RUNS" >"$T_DIR/check.out" 2>&1; then
		ok=$((ok + 1))
	else
		log "run $i: wrong verdict: $(grep '^FAIL' "$T_DIR/check.out" | cut -c1-400 | tr '\n' ' ')"
	fi
	# the agent's own trace: its log line, or its report saying so
	if grep -q 'ENOBUFS' "$T_DIR/agent.err" 2>/dev/null ||
		grep -q 'agent host is incomplete' "$T_DIR/report.json" 2>/dev/null; then
		agent_lost=$((agent_lost + 1))
	fi
	t0=$(($(date +%s%N) / 1000000))
	nsx "$NS_C" 300 nmap -sT -T4 -Pn -n -p "20,21,$PASV_LO-$PASV_HI" "$SERVER4" \
		-oG "$T_DIR/nmap.gnmap" >/dev/null 2>&1 || true
	nmaps+=($(($(date +%s%N) / 1000000 - t0)))
	log "run $i: ${AGENT_MS} ms, agent rss ${rss[-1]} kB, exit $AGENT_RC; nmap ${nmaps[-1]} ms"
done

REFL_KB=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$REFLECTOR_PID/status")
# the reflector's utime + stime over all runs, per run
REFL_CPU=$(awk -v a="$refl_cpu0" -v n="$RUNS" -v hz="$(getconf CLK_TCK)" \
	'{ printf "%.2f", ($14 + $15 - a) / hz / n }' "/proc/$REFLECTOR_PID/stat")
REFL_LOST=$(grep -c 'ENOBUFS' "$T_DIR/reflector.log" || true)
AGENT_KB=$(printf '%s\n' "${rss[@]}" | sort -n | tail -n1)
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# curl through one dropped and one passing passive port, each from a
# vsftpd of its own with a one-port passive range (the main one picks its
# port at random)
curl_one() { # curl_one CTL PASVPORT -> 0 if the file came through
	PASV_LO=$2 PASV_HI=$2 VSFTPD_PORT=$1 start_vsftpd >/dev/null 2>&1 ||
		return 2
	VSFTPD_PORT=$1 curl_ftp passive 4
}
CURL=agree
curl_one "$CURL_CTL_DROP" "$CURL_DROP_PORT" && CURL="disagree(dropped $CURL_DROP_PORT passed)"
curl_one "$CURL_CTL_PASS" "$CURL_PASS_PORT" || CURL="disagree(passing $CURL_PASS_PORT failed)"

# The anchor against an open range: the same ports diverted by a harness
# tproxy rule to one transparent listener (no ftpath code involved, the
# reflector idle), then nmap's connect scan (-sT) and SYN scan (-sS) over
# them, alternating, RUNS times each: what scanning a range whose every
# port answers costs on this machine.  Its own mark and route table, far
# from the reflector's (fw_route.h).
open_anchor() {
	bg_in_ns "$NS_S" "$T_DIR/tproxy_listen.log" "$PYTHON" "$HERE/tproxy_listen.py" "$OPEN_PORT"
	wait_listen "$NS_S" "$OPEN_PORT" || die "tproxy_listen.py did not start"
	nsx "$NS_S" 5 ip rule add fwmark "$OPEN_MARK" lookup "$OPEN_TABLE"
	nsx "$NS_S" 5 ip route add local 0.0.0.0/0 dev lo table "$OPEN_TABLE"
	ns_nft "$NS_S" open "table ip harness_open {
	chain pre {
		type filter hook prerouting priority mangle; policy accept;
		ip daddr $SERVER4 tcp dport $PASV_LO-$PASV_HI meta mark set $OPEN_MARK tproxy to :$OPEN_PORT accept
	}
}"
	local i m t0 ms
	for ((i = 0; i < RUNS; i++)); do
		for m in sT sS; do
			t0=$(($(date +%s%N) / 1000000))
			nsx "$NS_C" 300 nmap -"$m" -T4 -Pn -n -p "20,21,$PASV_LO-$PASV_HI" \
				"$SERVER4" >/dev/null 2>&1 || true
			ms=$(($(date +%s%N) / 1000000 - t0))
			if [[ $m == sT ]]; then open_sT+=("$ms"); else open_sS+=("$ms"); fi
		done
	done
	nsx "$NS_S" 5 nft delete table ip harness_open
}
OPEN_PORT=9999 OPEN_MARK=0x4a4a OPEN_TABLE=4242
open_sT=() open_sS=()
open_anchor
log "open range: nmap -sT ms: ${open_sT[*]}; nmap -sS ms: ${open_sS[*]}"

W50=$(median "${walls[@]}")
N50=$(median "${nmaps[@]}")
RATIO=$(awk -v a="$W50" -v b="$N50" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
LINE="ports: range=$PASV_LO-$PASV_HI dropped=1000 runs=$RUNS ok=$ok wall_p50=${W50}ms wall_max=$(printf '%s\n' "${walls[@]}" | sort -n | tail -n1)ms nmap_p50=${N50}ms ratio=$RATIO nmap_open_sT=$(median "${open_sT[@]}")ms nmap_open_sS=$(median "${open_sS[@]}")ms agent_rss=$(mb "$AGENT_KB")MB refl_rss=$(mb "$REFL_KB")MB agent_cpu=$(median "${cpus[@]}")s refl_cpu=${REFL_CPU}s agent_trace_lost=$agent_lost refl_trace_lost=$REFL_LOST curl=$CURL exit=${rc_all[*]}"
echo "$LINE"
log "wall ms: ${walls[*]}; nmap ms: ${nmaps[*]}; agent rss kB: ${rss[*]}"
if [[ -n ${FTPATH_BENCH_OUT:-} ]]; then
	mkdir -p "$FTPATH_BENCH_OUT"
	cp "$T_DIR/report.json" "$T_DIR/agent.out" "$T_DIR/agent.err" \
		"$T_DIR/reflector.log" "$T_DIR/check.out" "$FTPATH_BENCH_OUT/" 2>/dev/null || true
	echo "$LINE" >"$FTPATH_BENCH_OUT/summary.txt"
fi

#!/usr/bin/env bash
# tests/bench/load.sh [N] [BUILD] - N agents from N distinct client hosts
# checking one reflector at once.  Not part of make check.  Needs root.
#
#   client ns 1 .. N (one address each) --- br0 in the router ns --- server ns
#   c0 <-> pI (bridge port)                  198.51.100.1/24        reflector
#                                            192.0.2.1/24           + vsftpd
#                                            2001:db8:1::1/64       203.0.113.2
#
# Every client is a namespace of its own with one address (the agent has
# no source-address option, and the issue asks for distinct hosts), its
# veth's far end a port of one bridge in the router namespace.  IPv4 has
# two documentation /24s for clients (198.51.100.0/24 and 192.0.2.0/24;
# 203.0.113.0/24 is the server's segment): 506 hosts at most.  Beyond
# that, or with FTPATH_LOAD_FAMILY=6, the clients are IPv6
# (2001:db8:1::a:I in one /64; the agents dial the reflector's IPv6
# address).  Neighbour entries on both ends are static (nud permanent):
# the kernel's neighbour table is shared by all namespaces
# (gc_thresh3 = 1024 by default) and permanent entries do not count
# against it, so a thousand clients cannot overflow the root namespace's
# ARP/ND table.
#
# It prints one line (also in $FTPATH_LOAD_OUT/summary.txt if set):
#   load: N=100 family=4 ok=.. wrong=.. exit3=.. timeout=.. other=.. p50=..ms
#         p99=..ms max=..ms refl_rss=..MB refl_cpu=..s trace_lost=..
#         agent_trace_lost=.. setup=..s spawn=..s
# ok: exit 0 and every probe passes (the path is clean); wrong: a report
# with a failing probe or exit 1 (a false verdict: nothing is broken);
# exit3: the reflector could not be reached/authenticated or timed out;
# timeout: killed by the per-agent bound; other: exit 2 or no report.
# p50/p99/max: wall time of every agent, from the common start to its exit.
# refl_rss: the reflector's VmHWM; refl_cpu: its utime+stime during the
# run; trace_lost: reflector sessions whose nftables trace lost events
# (its "ENOBUFS" log lines); trace_incomplete: its sessions whose trace
# was incomplete for any reason; listen_overflows: SYNs the server
# namespace's kernel dropped for a full accept queue; agent_trace_lost:
# agent reports saying
# the agent host's own trace was incomplete.
# Then a TLS line: sequential control-channel set-ups per second.
#
# Environment:
#   FTPATH_LOAD_HOSTS=H          client hosts (namespaces, one address
#                                each; default N): agent I runs on host
#                                I mod H, so 1 puts all behind one NAT
#   FTPATH_LOAD_FAMILY=4|6       client family (default 4 up to 506
#                                hosts, else 6)
#   FTPATH_LOAD_MAX_SESSIONS=M   the reflector's max_sessions (default N,
#                                at least 8, at most 4096, the config's
#                                limit); "default": no key (8)
#   FTPATH_LOAD_FTP=1            agents also log in to vsftpd (default
#                                --no-ftp-check: the paths only)
#   FTPATH_LOAD_TIMEOUT=S        per-agent bound (default 120)
#   FTPATH_LOAD_TLS=N            TLS set-ups to time (default 200, 0: none)
#   FTPATH_LOAD_OUT=DIR          keep results.json, summary.json, the
#                                reflector log, summary.txt and the
#                                reports of the agents that did not
#                                pass (reports/I.json) there
#   FTPATH_LOAD_PERF=FILE        record the reflector with perf (call
#                                graphs, 499 Hz) during the agents' run
set -euo pipefail

N=${1:-100}
BUILD=${2:-build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/../netns/lib.sh"

[[ $N =~ ^[1-9][0-9]{0,3}$ ]] && ((N <= 4096)) || {
	echo "load: N must be 1..4096" >&2
	exit 2
}
NH=${FTPATH_LOAD_HOSTS:-$N}
[[ $NH =~ ^[1-9][0-9]{0,3}$ ]] && ((NH <= N)) || {
	echo "load: FTPATH_LOAD_HOSTS must be 1..N" >&2
	exit 2
}
FAMILY=${FTPATH_LOAD_FAMILY:-}
[[ -n $FAMILY ]] || { ((NH <= 506)) && FAMILY=4 || FAMILY=6; }
[[ $FAMILY == 4 || $FAMILY == 6 ]] || {
	echo "load: FTPATH_LOAD_FAMILY must be 4 or 6" >&2
	exit 2
}
((FAMILY == 6 || NH <= 506)) || {
	echo "load: IPv4 documentation ranges give 506 client addresses; use FTPATH_LOAD_FAMILY=6" >&2
	exit 2
}
MAXS=${FTPATH_LOAD_MAX_SESSIONS:-$N}
if [[ $MAXS != default ]]; then
	[[ $MAXS =~ ^[0-9]+$ ]] || {
		echo "load: bad FTPATH_LOAD_MAX_SESSIONS" >&2
		exit 2
	}
	((MAXS < 8)) && MAXS=8
	((MAXS > 4096)) && MAXS=4096
fi
ATIMEOUT=${FTPATH_LOAD_TIMEOUT:-120}
[[ $ATIMEOUT =~ ^[1-9][0-9]{0,3}$ ]] || {
	echo "load: bad FTPATH_LOAD_TIMEOUT" >&2
	exit 2
}
TLS_COUNT=${FTPATH_LOAD_TLS:-200}
[[ $TLS_COUNT =~ ^[0-9]{1,5}$ ]] || {
	echo "load: bad FTPATH_LOAD_TLS" >&2
	exit 2
}

[[ $(id -u) -eq 0 ]] || {
	echo "load: needs root" >&2
	exit 1
}
for p in ftpath-agent ftpath-reflector; do
	[[ -x $BUILD/$p ]] || {
		echo "load: $BUILD/$p not built" >&2
		exit 1
	}
done
need_tools vsftpd openssl ss >&2 || exit 1

BR_MAC=02:00:0b:00:00:01
client_mac() { printf '02:00:0c:00:%02x:%02x' $(($1 >> 8)) $(($1 & 255)); }
# client I (1-based): its address and its gateway
client_addr() {
	if ((FAMILY == 6)); then
		echo "2001:db8:1::a:$1"
	elif (($1 <= 253)); then
		echo "198.51.100.$(($1 + 1))"
	else
		echo "192.0.2.$(($1 - 252))"
	fi
}
client_gw() {
	if ((FAMILY == 6)); then
		echo "$ROUTER_C6"
	elif (($1 <= 253)); then
		echo "$ROUTER_C4"
	else
		echo 192.0.2.1
	fi
}
client_len() { ((FAMILY == 6)) && echo 64 || echo 24; }

topo_init load
CLIENT_NS=()
DRIVER_PID=""

# Namespaces of earlier runs of this script whose shell is gone (kill -9):
# the name carries the PID of the run (ftpPID-load-...).
load_stale() {
	local ns pid
	while read -r ns _; do
		[[ $ns =~ ^ftp([0-9]+)-load-(c[0-9]+|r|s)$ ]] || continue
		pid=${BASH_REMATCH[1]}
		((pid == $$)) && continue
		kill -0 "$pid" 2>/dev/null && continue
		_ns_kill_all "$ns"
		ip netns del "$ns" 2>/dev/null || true
	done < <(ip netns list 2>/dev/null)
}

load_down() {
	local rc=$? ns
	trap - EXIT INT TERM
	set +e
	[[ -n ${PERF_PID:-} ]] && kill -INT "$PERF_PID" 2>/dev/null
	if [[ -n $DRIVER_PID ]]; then
		kill -TERM "$DRIVER_PID" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$DRIVER_PID" 2>/dev/null || break
			sleep 0.1
		done
	fi
	# the agents, by PID (the driver's children), then anything left in
	# our client namespaces (all ours: this run created them)
	if [[ -s $T_DIR/agents/pids ]]; then
		# shellcheck disable=SC2046
		kill -TERM $(cat "$T_DIR/agents/pids") 2>/dev/null || true
	fi
	if ((${#CLIENT_NS[@]})); then
		for ns in "${CLIENT_NS[@]}"; do
			[[ -n $(ip netns pids "$ns" 2>/dev/null) ]] && _ns_kill_all "$ns"
		done
		printf 'netns del %s\n' "${CLIENT_NS[@]}" >"$T_DIR/del.batch"
		ip -force -batch "$T_DIR/del.batch" 2>/dev/null || true
	fi
	(exit "$rc")
	topo_down
}
trap load_down EXIT

load_stale

# --- topology ---------------------------------------------------------
T_SETUP0=$(date +%s%N)
for ns in "$NS_R" "$NS_S"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip -n "$NS_S" link add s0 type veth peer name to-server netns "$NS_R"
ip -n "$NS_R" addr add "$ROUTER_S4/24" dev to-server
ip -n "$NS_R" -6 addr add "$ROUTER_S6/64" dev to-server nodad
ip -n "$NS_S" addr add "$SERVER4/24" dev s0
ip -n "$NS_S" -6 addr add "$SERVER6/64" dev s0 nodad
ip -n "$NS_R" link set to-server up
ip -n "$NS_S" link set s0 up
ip -n "$NS_S" route add default via "$ROUTER_S4"
ip -n "$NS_S" -6 route add default via "$ROUTER_S6"
nsx "$NS_R" 5 sysctl -qw net.ipv4.ip_forward=1
nsx "$NS_R" 5 sysctl -qw net.ipv6.conf.all.forwarding=1

mkdir -p "$T_DIR/batch"
for ((i = 1; i <= NH; i++)); do
	CLIENT_NS+=("$T_PFX-c$i")
done
printf 'netns add %s\n' "${CLIENT_NS[@]}" >"$T_DIR/batch/netns"
ip -batch "$T_DIR/batch/netns" || die "creating the client namespaces failed"
{
	echo "link add br0 address $BR_MAC type bridge forward_delay 0"
	echo "addr add $ROUTER_C4/24 dev br0"
	echo "addr add 192.0.2.1/24 dev br0"
	echo "addr add $ROUTER_C6/64 dev br0 nodad"
	echo "link set br0 up"
	for ((i = 1; i <= NH; i++)); do
		echo "link add p$i type veth peer name c0 address $(client_mac "$i") netns ${CLIENT_NS[i - 1]}"
		echo "link set p$i addrgenmode none"
		echo "link set p$i master br0 up"
		echo "neigh add $(client_addr "$i") lladdr $(client_mac "$i") dev br0 nud permanent"
	done
} >"$T_DIR/batch/router"
ip -n "$NS_R" -batch "$T_DIR/batch/router" || die "router batch failed"
for ((i = 1; i <= NH; i++)); do
	gw=$(client_gw "$i")
	printf '%s\n' "link set lo up" "link set c0 addrgenmode none" \
		"addr add $(client_addr "$i")/$(client_len) dev c0$( ((FAMILY == 6)) && echo ' nodad')" \
		"link set c0 up" "route add default via $gw" \
		"neigh add $gw lladdr $BR_MAC dev c0 nud permanent" |
		ip -n "${CLIENT_NS[i - 1]}" -batch - ||
		die "client $i set-up failed"
done
# bounded reachability check from the first and the last client
SRV=$SERVER4
((FAMILY == 6)) && SRV=$SERVER6
for ns in "${CLIENT_NS[0]}" "${CLIENT_NS[NH - 1]}"; do
	ok=0
	for _ in $(seq 1 30); do
		tcp_answers "$ns" "$SRV" 9 && {
			ok=1
			break
		}
		sleep 0.1
	done
	((ok)) || die "topology: $SRV not reachable from $ns"
done
SETUP_S=$(awk -v a="$T_SETUP0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
log "topology up: $NH client namespaces (IPv$FAMILY) -- $NS_R (br0) -- $NS_S in ${SETUP_S}s"

# --- server side ------------------------------------------------------
start_vsftpd
make_certs
REFL_CONF=()
[[ $MAXS == default ]] || REFL_CONF+=("max_sessions = $MAXS")
start_reflector "$BUILD" "${REFL_CONF[@]}"

clk=$(getconf CLK_TCK)
refl_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$REFLECTOR_PID/stat"; }
CPU0=$(refl_cpu_ticks)
PERF_PID=""
if [[ -n ${FTPATH_LOAD_PERF:-} ]]; then
	command -v perf >/dev/null || die "FTPATH_LOAD_PERF: perf not installed"
	perf record -q -F 499 -g -p "$REFLECTOR_PID" -o "$FTPATH_LOAD_PERF" \
		>/dev/null 2>&1 &
	PERF_PID=$!
fi

# --- the agents -------------------------------------------------------
# agent I runs on host I mod NH (FTPATH_LOAD_HOSTS=1: all behind one NAT)
for ((i = 0; i < N; i++)); do
	echo "${CLIENT_NS[i % NH]}"
done >"$T_DIR/nslist"
REFL_ADDR=$SERVER4
((FAMILY == 6)) && REFL_ADDR="[$SERVER6]"
AGENT_ARGS=(check --reflector "$REFL_ADDR" --cert "$CERTS/agent.crt"
	--key "$CERTS/agent.key" --ca "$CERTS/ca.crt" --no-color)
[[ ${FTPATH_LOAD_FTP:-0} == 1 ]] || AGENT_ARGS+=(--no-ftp-check)
log "starting $N agents at once (max_sessions $MAXS, per-agent bound ${ATIMEOUT}s)"
"$PYTHON" "$HERE/load_run.py" agents --dir "$T_DIR/agents" \
	--ns-list "$T_DIR/nslist" --timeout "$ATIMEOUT" \
	--ready-timeout $((30 + N / 5)) -- \
	"$(realpath "$BUILD/ftpath-agent")" "${AGENT_ARGS[@]}" \
	>"$T_DIR/driver.out" 2>&1 &
DRIVER_PID=$!
wait "$DRIVER_PID" || die "the agent driver failed: $(tail -5 "$T_DIR/driver.out")"
DRIVER_PID=""
if [[ -n $PERF_PID ]]; then
	kill -INT "$PERF_PID" 2>/dev/null || true
	wait "$PERF_PID" 2>/dev/null || true
	PERF_PID=""
fi
grep -v '^agents:' "$T_DIR/driver.out" >&2 || true

kill -0 "$REFLECTOR_PID" 2>/dev/null || die "the reflector died during the run"
CPU1=$(refl_cpu_ticks)
RSS_KB=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$REFLECTOR_PID/status")
REFL_CPU=$(awk -v a="$CPU0" -v b="$CPU1" -v c="$clk" 'BEGIN { printf "%.2f", (b - a) / c }')
REFL_RSS=$(awk -v k="$RSS_KB" 'BEGIN { printf "%.1f", k / 1024 }')
TRACE_LOST=$(grep -c 'ENOBUFS' "$T_DIR/reflector.log" || true)
TRACE_INCOMPLETE=$(grep -c ': incomplete: ' "$T_DIR/reflector.log" || true)
# SYNs the server's kernel dropped because a listener's accept queue was
# full (the namespace's own counters, zero when it was made)
LISTEN_OVF=$(nsx "$NS_S" 10 nstat -az TcpExtListenOverflows 2>/dev/null |
	awk '$1 == "TcpExtListenOverflows" { print $2 }')

S=$("$PYTHON" - "$T_DIR/agents/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"ok={s['ok']} wrong={s['wrong']} exit3={s['exit3']} timeout={s['timeout']} "
      f"other={s['other']} p50={s['p50_ms']}ms p99={s['p99_ms']}ms max={s['max_ms']}ms "
      f"ok_p50={s['ok_p50_ms']}ms agent_trace_lost={s['agent_trace_lost']} "
      f"ready={s['ready']} spawn={s['spawn_s']}s")
PY
)
LINE="load: N=$N hosts=$NH family=$FAMILY max_sessions=$MAXS $S refl_rss=${REFL_RSS}MB refl_cpu=${REFL_CPU}s trace_lost=$TRACE_LOST trace_incomplete=$TRACE_INCOMPLETE listen_overflows=${LISTEN_OVF:-?} setup=${SETUP_S}s"
echo "$LINE"

# --- control-channel TLS set-up rate ---------------------------------
TLS_LINE=""
if ((TLS_COUNT > 0)); then
	# as the agent's control channel is (no TCP_NODELAY), then with
	# TCP_NODELAY on the client: the difference is Nagle's algorithm
	for nd in "" --nodelay; do
		l=$(nsx "${CLIENT_NS[0]}" 60 "$PYTHON" "$HERE/load_run.py" tls \
			--host "$SRV" --port "$REFLECTOR_PORT" --cert "$CERTS/agent.crt" \
			--key "$CERTS/agent.key" --ca "$CERTS/ca.crt" --count "$TLS_COUNT" \
			--max-seconds 30 $nd 2>&1 | tail -n 1) || true
		echo "${l:-tls: failed}"
		TLS_LINE+="${TLS_LINE:+$'\n'}${l:-tls: failed}"
	done
fi

if [[ -n ${FTPATH_LOAD_OUT:-} ]]; then
	mkdir -p "$FTPATH_LOAD_OUT"
	cp "$T_DIR/agents/results.json" "$T_DIR/agents/summary.json" \
		"$T_DIR/reflector.log" "$FTPATH_LOAD_OUT/" 2>/dev/null || true
	# the reports of the agents that did not pass, for their evidence
	mkdir -p "$FTPATH_LOAD_OUT/reports"
	"$PYTHON" - "$T_DIR/agents" "$FTPATH_LOAD_OUT/reports" <<'PY' || true
import json, os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
for i, r in enumerate(json.load(open(os.path.join(src, "results.json")))):
    p = os.path.join(src, f"{i}.json")
    if r["cat"] != "ok" and os.path.exists(p):
        shutil.copy(p, os.path.join(dst, f"{i}.json"))
PY
	printf '%s\n' "$LINE" ${TLS_LINE:+"$TLS_LINE"} >>"$FTPATH_LOAD_OUT/summary.txt"
fi

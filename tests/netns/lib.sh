# shellcheck shell=bash
# tests/netns/lib.sh - namespace topology helpers for the ftpath scenarios.
#
#   client ns                router ns                     server ns
#   c0 198.51.100.2/24 --- to-client 198.51.100.1/24
#      2001:db8:1::2/64        2001:db8:1::1/64
#                          to-server 203.0.113.1/24 --- s0 203.0.113.2/24
#                                    2001:db8:2::1/64      2001:db8:2::2/64
#
# Only documentation address ranges.  Every interface is created directly
# inside its namespace (never in the root namespace); namespaces carry a
# per-run unique prefix.  Nothing here touches the root namespace's
# sysctls, routes, firewall or services.  Everything is undone by
# topo_down (installed as an EXIT trap by topo_init).
#
# Usage (from a script with set -euo pipefail):
#   . tests/netns/lib.sh
#   topo_init SHORTNAME            # names, temp dir, traps
#   topo_up                        # namespaces, veths, addresses, routes
#   router_nft 'table ip filter { ... }'
#   start_vsftpd                   # real FTP server in the server ns
#   make_certs; start_reflector BUILD
#   run_agent BUILD JSON [args]    # sets AGENT_RC
#   (REFL_NOCAP=1 / AGENT_NOCAP=1: that program without CAP_NET_ADMIN)
#   curl_ftp passive|active [4|6]  # 0 if the file came through
#   (VSFTPD_TLS=1: vsftpd offers AUTH TLS; curl_ftp ftps|ftps-active: FTPS)
#   topo_down                      # also runs from the trap

CLIENT4=198.51.100.2
CLIENT2_4=198.51.100.3	# a second client host's address (busy-server)
ROUTER_C4=198.51.100.1
SERVER4=203.0.113.2
ROUTER_S4=203.0.113.1
CLIENT6=2001:db8:1::2
ROUTER_C6=2001:db8:1::1
SERVER6=2001:db8:2::2
ROUTER_S6=2001:db8:2::1
PASV_LO=30000
PASV_HI=30099
# the server's public (port-forwarded) address in the DNAT scenarios: the
# router forwards it to SERVER4; nothing owns it
PUBLIC4=192.0.2.10
REFLECTOR_PORT=7021
TEST_CONTENT="ftpath test file - served by vsftpd inside a network namespace"

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LIB_DIR/../.." && pwd)

T_NAME=""
T_PFX=""
NS_C=""
NS_R=""
NS_S=""
T_DIR=""
T_PIDS=()
T_DOWN_DONE=0
AGENT_RC=""
T_NETNS_ETC=""
T_NETNS_ROOT=0

# LIB_QUIET=1: progress messages off (errors are always shown)
log() {
	[[ ${LIB_QUIET:-0} == 1 ]] && return 0
	printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "${T_NAME:-lib}" "$*" >&2
}
die() {
	printf '[%s %s] ERROR: %s\n' "$(date +%H:%M:%S)" "${T_NAME:-lib}" "$*" >&2
	exit 1
}

# Run anything inside a namespace, bounded in time.
nsx() { # nsx NS SECONDS CMD...
	local ns=$1 t=$2
	shift 2
	timeout -k 2 "$t" ip netns exec "$ns" "$@"
}

# The real interpreter, resolved once (a pyenv shim costs a bash start-up
# per call, seconds on a loaded 2-CPU machine).
if [[ -z ${FTPATH_PYTHON:-} ]]; then
	FTPATH_PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo python3)
	export FTPATH_PYTHON
fi
# shellcheck disable=SC2034  # used by the scripts that source this file
PYTHON=$FTPATH_PYTHON

# tcp_answers NS ADDR PORT: 0 if ADDR answers on TCP PORT from NS (accepts
# or refuses with a RST); 1 on timeout, ICMP error or no route.
tcp_answers() {
	local err
	# shellcheck disable=SC2016  # expanded by the inner bash
	err=$(timeout -k 1 2 ip netns exec "$1" bash -c \
		'exec 3<>"/dev/tcp/$0/$1"' "$2" "$3" 2>&1) && return 0
	[[ $err == *"Connection refused"* ]]
}

need_tools() {
	local t missing=()
	for t in ip nft timeout python3 "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	((${#missing[@]} == 0)) || {
		echo "missing tools: ${missing[*]}"
		return 1
	}
}

# topo_init SHORT: unique names (prefix from FTPATH_RUNID or ftp$$).
topo_init() {
	T_NAME=$1
	local run=${FTPATH_RUNID:-ftp$$}
	T_PFX="$run-$T_NAME"
	NS_C="$T_PFX-c"
	NS_R="$T_PFX-r"
	NS_S="$T_PFX-s"
	T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ftpath-$T_NAME.XXXXXX")
	chmod 0755 "$T_DIR"
	T_PIDS=()
	T_DOWN_DONE=0
	trap topo_down EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# Kill every process that lives in namespace $1 (all of them are ours:
# the namespace was created by this run), by PID; bounded.
_ns_kill_all() {
	local ns=$1 i pids
	[[ -e /run/netns/$ns ]] || return 0
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ') || pids=""
		[[ -n ${pids// /} ]] || return 0
		# shellcheck disable=SC2086
		[[ -n ${T_PIDFILE:-} ]] && printf '%s\n' $pids >>"$T_PIDFILE"
		if ((i < 10)); then
			# shellcheck disable=SC2086
			kill -TERM $pids 2>/dev/null || true
		else
			# shellcheck disable=SC2086
			kill -KILL $pids 2>/dev/null || true
		fi
		sleep 0.1
	done
	log "warning: processes left in $ns: $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
}

# "PID:STARTTIME" of every descendant of PIDs, as they are now.  A
# process can leave our namespaces while it still descends from ours:
# vsftpd's isolate_network (its default) clones each session's
# unprivileged process into a namespace of its own, which `ip netns
# pids` does not list; killed by us, its parent leaves it to init.
_tree_snapshot() {
	local p
	for p in $(ps -e -o pid=,ppid= | awk -v roots="$*" '
		BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) want[r[i]] = 1 }
		{ parent[$1] = $2; all[NR] = $1 }
		END {
			for (grown = 1; grown;) {
				grown = 0
				for (i = 1; i <= NR; i++)
					if (!(all[i] in want) && (parent[all[i]] in want)) {
						want[all[i]] = 1
						grown = 1
					}
			}
			for (i = 1; i <= NR; i++)
				if (all[i] in want) print all[i]
		}'); do
		echo "$p:$(_starttime "$p")"
	done
}
# The start time of PID (field 22 of /proc/PID/stat), empty if gone.
_starttime() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo "${20}"
}
# Kill what is left of a snapshot: only a PID whose start time is still
# the one recorded (the same process, not a new one with its number).
_tree_kill() {
	local e p i left
	for i in 1 2 3 4 5 6 7 8 9 10; do
		left=0
		for e in "$@"; do
			p=${e%%:*}
			[[ -n ${e#*:} && $(_starttime "$p") == "${e#*:}" ]] || continue
			left=1
			[[ -n ${T_PIDFILE:-} ]] && echo "$p" >>"$T_PIDFILE"
			if ((i < 6)); then kill -TERM "$p" 2>/dev/null || true
			else kill -KILL "$p" 2>/dev/null || true; fi
		done
		((left)) || return 0
		sleep 0.1
	done
}

topo_down() {
	local rc=$? p ns i tree=() roots=()
	((T_DOWN_DONE)) && return "$rc"
	T_DOWN_DONE=1
	trap - EXIT INT TERM
	# Everything that descends from what we started, before any of it is
	# killed (a killed parent's children go to init).
	roots=("${T_PIDS[@]}")
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		[[ -n $ns && -e /run/netns/$ns ]] || continue
		mapfile -t -O "${#roots[@]}" roots < <(ip netns pids "$ns" 2>/dev/null)
	done
	mapfile -t tree < <(_tree_snapshot "${roots[@]}")
	# Processes we started, by PID.
	for p in "${T_PIDS[@]}"; do
		[[ -n ${T_PIDFILE:-} ]] && echo "$p" >>"$T_PIDFILE"
		kill -TERM "$p" 2>/dev/null || true
	done
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		local alive=0
		for p in "${T_PIDS[@]}"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		((alive)) || break
		((i == 15)) && for p in "${T_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
		sleep 0.1
	done
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		[[ -n $ns ]] || continue
		_ns_kill_all "$ns"
		if [[ -e /run/netns/$ns ]]; then
			ip netns del "$ns" 2>/dev/null || log "warning: cannot delete netns $ns"
		fi
	done
	_tree_kill "${tree[@]}"
	# the client ns's hosts file (client_hosts), ours by its unique name
	if [[ -n $T_NETNS_ETC && -d $T_NETNS_ETC ]]; then
		rm -f -- "$T_NETNS_ETC/hosts"
		rmdir -- "$T_NETNS_ETC" 2>/dev/null || log "warning: cannot remove $T_NETNS_ETC"
		# /etc/netns too if this run made it and nobody else uses it
		((T_NETNS_ROOT)) && rmdir -- /etc/netns 2>/dev/null || true
	fi
	if [[ -n $T_DIR && -d $T_DIR ]]; then
		if [[ -n ${FTPATH_KEEP:-} ]]; then
			log "kept $T_DIR"
		else
			rm -rf -- "$T_DIR"
		fi
	fi
	return "$rc"
}

topo_up() {
	local ns
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		[[ ! -e /run/netns/$ns ]] || ip netns del "$ns" 2>/dev/null || true
		ip netns add "$ns" || die "ip netns add $ns failed"
		ip -n "$ns" link set lo up
	done
	# veth pairs created inside the namespaces, never in the root one
	ip -n "$NS_C" link add c0 type veth peer name to-client netns "$NS_R"
	ip -n "$NS_S" link add s0 type veth peer name to-server netns "$NS_R"

	ip -n "$NS_C" addr add "$CLIENT4/24" dev c0
	ip -n "$NS_C" -6 addr add "$CLIENT6/64" dev c0 nodad
	ip -n "$NS_R" addr add "$ROUTER_C4/24" dev to-client
	ip -n "$NS_R" -6 addr add "$ROUTER_C6/64" dev to-client nodad
	ip -n "$NS_R" addr add "$ROUTER_S4/24" dev to-server
	ip -n "$NS_R" -6 addr add "$ROUTER_S6/64" dev to-server nodad
	ip -n "$NS_S" addr add "$SERVER4/24" dev s0
	ip -n "$NS_S" -6 addr add "$SERVER6/64" dev s0 nodad

	ip -n "$NS_C" link set c0 up
	ip -n "$NS_R" link set to-client up
	ip -n "$NS_R" link set to-server up
	ip -n "$NS_S" link set s0 up

	ip -n "$NS_C" route add default via "$ROUTER_C4"
	ip -n "$NS_C" -6 route add default via "$ROUTER_C6"
	ip -n "$NS_S" route add default via "$ROUTER_S4"
	ip -n "$NS_S" -6 route add default via "$ROUTER_S6"

	# forwarding inside the router namespace only
	nsx "$NS_R" 5 sysctl -qw net.ipv4.ip_forward=1
	nsx "$NS_R" 5 sysctl -qw net.ipv6.conf.all.forwarding=1

	# bounded reachability check (v4 and v6): a TCP connect to a closed
	# port must come back with a RST (ping is not installed everywhere)
	local i ok=0
	for i in $(seq 1 30); do
		if tcp_answers "$NS_C" "$SERVER4" 9 && tcp_answers "$NS_C" "$SERVER6" 9; then
			ok=1
			break
		fi
		sleep 0.1
	done
	((ok)) || die "topology: $SERVER4/$SERVER6 not reachable from the client ns"
	log "topology up: $NS_C -- $NS_R -- $NS_S"
}

# server_service_addr ADDR/LEN: a second server address on a segment of
# its own inside the server ns (a dummy interface where the kernel has
# one, else a veth pair with both ends in the server ns).  The router
# gets no route to it, so it answers ICMP net unreachable.
server_service_addr() {
	if [[ -d /sys/module/dummy ]]; then
		ip -n "$NS_S" link add svc0 type dummy
	else
		ip -n "$NS_S" link add svc0 type veth peer name svc1
		ip -n "$NS_S" link set svc1 up
	fi
	ip -n "$NS_S" addr add "$1" dev svc0
	ip -n "$NS_S" link set svc0 up
	log "server service address $1 on svc0 (no route to it in the router)"
}

# router_dead_vlan PREFIX/LEN: a segment on the router that nobody
# answers on (a VLAN not trunked to the server): the router owns the
# first address, the far end of the link sits in the server ns with no
# address, so ARP for any other address of it gets no answer and the
# router sends host-unreachable only when neighbour resolution gives up
# (about 3 s).  Created inside the namespaces, removed with them.
router_dead_vlan() {
	ip -n "$NS_R" link add to-vlan type veth peer name vlan0 netns "$NS_S"
	ip -n "$NS_S" link set vlan0 up
	ip -n "$NS_R" addr add "$1" dev to-vlan
	ip -n "$NS_R" link set to-vlan up
	log "router segment $1 on to-vlan: nobody answers ARP there"
}

# client_hosts LINE...: the client ns's own /etc/hosts.  `ip netns exec`
# bind-mounts /etc/netns/NS/hosts over /etc/hosts for what it runs; the
# directory carries this run's unique ns name and topo_down removes it,
# and /etc/netns itself when this run created it and it is empty again.
client_hosts() {
	[[ -d /etc/netns ]] || T_NETNS_ROOT=1
	T_NETNS_ETC=/etc/netns/$NS_C
	mkdir -p "$T_NETNS_ETC"
	printf '%s\n' "$@" >"$T_NETNS_ETC/hosts"
	chmod 0644 "$T_NETNS_ETC/hosts"
}

# ns_nft NS FILE-TAG RULESET: load an nftables ruleset into a namespace of
# this topology.  Test tables are named harness_* (ftpath_* belongs to the
# programs, which remove stale ftpath_* tables at start).
ns_nft() {
	printf '%s\n' "$3" >"$T_DIR/$2.nft"
	nsx "$1" 10 nft -f "$T_DIR/$2.nft" || die "nft -f $2.nft failed"
}
router_nft() { ns_nft "$NS_R" router "$1"; }

# Tables in NS other than the harness's own.
ns_foreign_tables() {
	nsx "$1" 5 nft list tables 2>/dev/null | grep -v ' harness_' | tr '\n' ' ' || true
}

# wait_listen NS PORT [tries]: poll until a TCP listener on PORT exists.
wait_listen() {
	local ns=$1 port=$2 tries=${3:-50} i
	for ((i = 0; i < tries; i++)); do
		if nsx "$ns" 3 ss -Htln "sport = :$port" 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# bg_in_ns NS LOGFILE CMD...: start CMD in NS in the background, record PID.
# ip netns exec execs the command, so $! is the program's own PID.
BG_PID=""
bg_in_ns() {
	local ns=$1 logf=$2
	shift 2
	ip netns exec "$ns" "$@" >"$logf" 2>&1 </dev/null &
	BG_PID=$!
	T_PIDS+=("$BG_PID")
}

# vsftpd_tls_lines DIR: vsftpd.conf lines for AUTH TLS with a self-signed
# certificate made here.  Plain FTP keeps working (TLS is offered, never
# forced); data connections must resume the control connection's TLS
# session, as vsftpd's default require_ssl_reuse=YES asks.
vsftpd_tls_lines() {
	local pem=$1/ftps.pem
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		-subj "/CN=ftp.example.net" -addext "subjectAltName=DNS:ftp.example.net" \
		-keyout "$pem" -out "$pem" >/dev/null 2>&1 || die "cannot make the FTPS certificate"
	chmod 0600 "$pem"
	printf '%s\n' ssl_enable=YES "rsa_cert_file=$pem" "rsa_private_key_file=$pem" \
		allow_anon_ssl=YES force_anon_logins_ssl=NO force_anon_data_ssl=NO
}

# start_vsftpd [extra vsftpd.conf lines...]  (VSFTPD_TLS=1: AUTH TLS too)
# shellcheck disable=SC2120
start_vsftpd() {
	local d=$T_DIR/vsftpd l
	mkdir -p "$d/root" "$d/empty"
	chmod 0755 "$d" "$d/root" "$d/empty"
	printf '%s\n' "$TEST_CONTENT" >"$d/root/file"
	chmod 0644 "$d/root/file"
	# One family per instance: a dual-stack (listen_ipv6) vsftpd cannot open
	# IPv4 active data connections with port_promiscuous (bind mismatch).
	local l4=YES l6=NO
	if [[ ${VSFTPD_FAMILY:-4} == 6 ]]; then
		l4=NO
		l6=YES
	fi
	cat >"$d/vsftpd.conf" <<EOF
listen=$l4
listen_ipv6=$l6
anonymous_enable=YES
local_enable=NO
write_enable=NO
anon_root=$d/root
no_anon_password=YES
pasv_enable=YES
pasv_min_port=$PASV_LO
pasv_max_port=$PASV_HI
port_enable=YES
connect_from_port_20=YES
seccomp_sandbox=NO
background=NO
run_as_launching_user=NO
secure_chroot_dir=$d/empty
xferlog_enable=NO
dirmessage_enable=NO
use_localtime=NO
EOF
	for l in "$@"; do echo "$l" >>"$d/vsftpd.conf"; done
	[[ ${VSFTPD_TLS:-0} == 1 ]] && vsftpd_tls_lines "$d" >>"$d/vsftpd.conf"
	# VSFTPD_PORT: another control port, leaving 21 to the reflector
	[[ ${VSFTPD_PORT:-21} == 21 ]] || echo "listen_port=$VSFTPD_PORT" >>"$d/vsftpd.conf"
	bg_in_ns "$NS_S" "$d/vsftpd.log" vsftpd "$d/vsftpd.conf"
	wait_listen "$NS_S" "${VSFTPD_PORT:-21}" 50 || {
		cat "$d/vsftpd.log" >&2 || true
		die "vsftpd did not start"
	}
	log "vsftpd listening on ${VSFTPD_PORT:-21} (pid $BG_PID)"
}

# Without CAP_NET_ADMIN (REFL_NOCAP=1, AGENT_NOCAP=1): a root process
# exec'd with net_admin dropped from its bounding and inheritable sets has
# it neither permitted nor effective; CAP_NET_BIND_SERVICE (ports 20/21)
# stays.  setpriv execs, so the PID recorded is the program's own.
NOCAP_WRAP=(setpriv --bounding-set -net_admin --inh-caps -net_admin)
CAP_NET_BIND_SERVICE=10
CAP_NET_ADMIN=12

# nocap_verify WHAT STATUSFILE-TEXT: die unless CapEff lacks CAP_NET_ADMIN
# and still has CAP_NET_BIND_SERVICE.
nocap_verify() {
	local what=$1 eff
	eff=$(awk '$1 == "CapEff:" { print $2 }' <<<"$2")
	[[ $eff =~ ^[0-9a-f]+$ ]] || die "$what: no CapEff in its status"
	(((16#$eff >> CAP_NET_ADMIN) & 1)) &&
		die "$what still has CAP_NET_ADMIN (CapEff $eff)"
	(((16#$eff >> CAP_NET_BIND_SERVICE) & 1)) ||
		die "$what lost CAP_NET_BIND_SERVICE too (CapEff $eff)"
	log "$what runs without CAP_NET_ADMIN (CapEff $eff)"
}

CERTS=""
make_certs() {
	CERTS=$T_DIR/certs
	mkdir -p "$CERTS"
	# shared by run.sh across parallel scenarios (saves CPU), unless the
	# reflector needs more names (REFL_SANS: an address it is dialled at)
	if [[ -z ${REFL_SANS:-} && -n ${FTPATH_CERTS:-} && -r ${FTPATH_CERTS}/agent.key ]]; then
		cp -p "$FTPATH_CERTS"/ca.crt "$FTPATH_CERTS"/reflector.crt \
			"$FTPATH_CERTS"/reflector.key "$FTPATH_CERTS"/agent.crt \
			"$FTPATH_CERTS"/agent.key "$CERTS"/
		return 0
	fi
	"$REPO_DIR/deploy/ftpath-certs" ca "$CERTS" >/dev/null
	"$REPO_DIR/deploy/ftpath-certs" reflector "$CERTS" reflector \
		"IP:$SERVER4" "IP:$SERVER6" ${REFL_SANS:-} >/dev/null
	"$REPO_DIR/deploy/ftpath-certs" agent "$CERTS" agent >/dev/null
}

# start_reflector BUILD [extra config lines...]
# With vsftpd running the reflector reads its configuration (--ftp-config)
# as a deployment would.  REFL_FAKETIME="+10m": the reflector's clock runs
# ahead (libfaketime, preloaded through env so that the PID recorded is
# the reflector's own; the faketime wrapper would fork).
REFLECTOR_PID=""
start_reflector() {
	local build=$1 l
	local -a wrap=() args=()
	shift
	[[ -f $T_DIR/vsftpd/vsftpd.conf ]] && args=(--ftp-config "$T_DIR/vsftpd/vsftpd.conf")
	if [[ -n ${REFL_FAKETIME:-} ]]; then
		local lib
		lib=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime\.so\.1$' | head -n1)
		[[ -n $lib ]] || die "libfaketime not installed (scripts/deps.sh: faketime)"
		# ASan must come first in the link order; a preload breaks that
		# check, not ASan itself.  The monotonic clock stays real (timers).
		wrap=(env "LD_PRELOAD=$lib" "FAKETIME=${REFL_FAKETIME}"
			FAKETIME_DONT_FAKE_MONOTONIC=1
			"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
	fi
	[[ ${REFL_NOCAP:-0} == 1 ]] && wrap=("${NOCAP_WRAP[@]}" "${wrap[@]}")
	[[ -n $CERTS ]] || make_certs
	{
		echo "# written by tests/netns/lib.sh"
		echo "listen = [::]:$REFLECTOR_PORT"
		echo "cert = $CERTS/reflector.crt"
		echo "key = $CERTS/reflector.key"
		echo "ca = $CERTS/ca.crt"
		echo "control_port = 21"
		echo "active_source_port = 20"
		echo "passive_range = ${REFL_PASV:-$PASV_LO-$PASV_HI}"
		echo "max_timeout_ms = 10000"
		# started as root: the engine and its helper run as this
		# user (a test machine has no ftpath account)
		echo "user = ${REFL_USER:-nobody}"
		for l in "$@"; do echo "$l"; done
	} >"$T_DIR/reflector.conf"
	bg_in_ns "$NS_S" "$T_DIR/reflector.log" "${wrap[@]}" \
		"$(realpath "$build/ftpath-reflector")" -c "$T_DIR/reflector.conf" \
		"${args[@]}" -v
	REFLECTOR_PID=$BG_PID
	if ! wait_listen "$NS_S" "$REFLECTOR_PORT" 50; then
		cat "$T_DIR/reflector.log" >&2 || true
		die "reflector did not listen on $REFLECTOR_PORT"
	fi
	log "reflector listening on $REFLECTOR_PORT (pid $REFLECTOR_PID)"
	if [[ ${REFL_NOCAP:-0} == 1 ]]; then
		# the capabilities are the privileged helper's (privsep.h); the
		# engine holds none
		local helper
		helper=$(reflector_helper_pid)
		[[ -n $helper ]] || die "reflector (pid $REFLECTOR_PID) has no privileged helper"
		nocap_verify "reflector's helper (pid $helper)" \
			"$(cat "/proc/$helper/status" 2>/dev/null)"
		[[ $(awk '$1 == "CapEff:" { print $2 }' "/proc/$REFLECTOR_PID/status") == 0000000000000000 ]] ||
			die "the reflector's engine (pid $REFLECTOR_PID) holds capabilities"
	fi
}

# reflector_helper_pid: the privileged helper the reflector forked (its
# only child), or nothing
reflector_helper_pid() {
	local c
	c=$(cat "/proc/$REFLECTOR_PID/task/$REFLECTOR_PID/children" 2>/dev/null || true)
	echo "${c%% *}"
}

# run_agent BUILD JSONFILE [extra args]: agent in the client ns, bounded.
# Human report -> $T_DIR/agent.out, stderr -> $T_DIR/agent.err.
# AGENT_CERT=NAME: $CERTS/NAME.{crt,key} instead of agent.{crt,key}.
# AGENT_WRAP=(CMD...): a wrapper that execs the agent (a benchmark's
# /usr/bin/time), innermost, after the namespace and capability ones.
run_agent() {
	local build=$1 json=$2
	shift 2
	local refl=${AGENT_REFLECTOR:-$SERVER4} an=${AGENT_CERT:-agent}
	local -a wrap=()
	if [[ ${AGENT_NOCAP:-0} == 1 ]]; then
		wrap=("${NOCAP_WRAP[@]}")
		# the same wrapper around a process that shows its own status
		nocap_verify "agent wrapper" "$(nsx "$NS_C" 5 "${wrap[@]}" \
			cat /proc/self/status)"
	fi
	wrap+=(${AGENT_WRAP[@]+"${AGENT_WRAP[@]}"})
	AGENT_RC=0
	AGENT_T0=$(date +%s%N)
	nsx "$NS_C" "${AGENT_TIMEOUT:-60}" "${wrap[@]}" "$(realpath "$build/ftpath-agent")" check \
		--reflector "$refl" \
		--cert "$CERTS/$an.crt" --key "$CERTS/$an.key" --ca "$CERTS/ca.crt" \
		--json "$json" "$@" >"$T_DIR/agent.out" 2>"$T_DIR/agent.err" ||
		AGENT_RC=$?
	AGENT_MS=$((($(date +%s%N) - AGENT_T0) / 1000000))
	log "agent exit $AGENT_RC after ${AGENT_MS} ms"
}

# curl_ftp passive|pasv|active|ftps|ftps-active [4|6]: real FTP download
# from the client ns (pasv: passive with PASV only, connecting where the
# 227 says; ftps: passive over explicit FTPS, AUTH TLS and PROT P required,
# the certificate not verified; ftps-active: the same in active mode, with
# ftps_client.py).  CURL_HOST: the name
# or IPv4 address to dial (default SERVER4).  Returns 0 only if the test
# file came through intact.
curl_ftp() {
	local mode=$1 fam=${2:-4} url out rc=0
	local -a opt=()
	local port=${VSFTPD_PORT:-21}
	if [[ $fam == 6 ]]; then
		url="ftp://[$SERVER6]:$port/file"
		opt+=(-g -6)
	else
		url="ftp://${CURL_HOST:-${CURL_HOST4:-$SERVER4}}:$port/file"
		opt+=(-4)
	fi
	[[ $mode == active ]] && opt+=(-P -)
	# CURL_SRC: the client address to connect from (a second one)
	[[ -n ${CURL_SRC:-} ]] && opt+=(--interface "$CURL_SRC")
	[[ $mode == ftps* ]] && opt+=(--ssl-reqd -k)
	# curl >= 7.74 ignores the 227 address by default and reuses the
	# control connection's (--ftp-skip-pasv-ip); a PASV client that trusts
	# the 227, as most do, is what the pasv mode stands for
	[[ $mode == pasv ]] && opt+=(--disable-epsv --no-ftp-skip-pasv-ip)
	out=$T_DIR/curl-$mode-$fam.out
	rm -f "$out"
	if [[ $mode == ftps-active ]]; then
		# curl 7.88 fails FTPS active mode by itself (inet_ntop of the
		# wrong family): the standard library's ftplib instead
		local host=$SERVER4
		[[ $fam == 6 ]] && host=$SERVER6
		nsx "$NS_C" 15 "$PYTHON" "$LIB_DIR/ftps_client.py" "$host" "$port" \
			file active >"$out" 2>"$T_DIR/curl-$mode-$fam.err" || rc=$?
	else
		nsx "$NS_C" 15 curl -s -S --max-time 5 --connect-timeout 3 "${opt[@]}" \
			-o "$out" "$url" 2>"$T_DIR/curl-$mode-$fam.err" || rc=$?
	fi
	local who=curl
	[[ $mode == ftps-active ]] && who="ftplib"
	if ((rc == 0)) && [[ "$(cat "$out" 2>/dev/null)" == "$TEST_CONTENT" ]]; then
		log "$who $mode (IPv$fam): ok"
		return 0
	fi
	log "$who $mode (IPv$fam): failed (exit $rc: $(head -c 200 "$T_DIR/curl-$mode-$fam.err" 2>/dev/null | tr '\n' ' '))"
	return 1
}

# router_mtu_blackhole MTU: the router's link to the client carries at
# most MTU-byte packets and the router drops the ICMP fragmentation-needed
# it would send about larger ones (NFT_DROP_FRAG_NEEDED, its output
# hook), so larger server-to-client packets vanish.  The client's route
# to the server keeps its own packets within MTU while announcing the
# Ethernet MSS (advmss 1460): a veth drops frames above the receiving
# end's MTU, which would otherwise black-hole client-to-server too.
router_mtu_blackhole() {
	local mtu=$1
	ip -n "$NS_R" link set to-client mtu "$mtu"
	ip -n "$NS_C" route replace default via "$ROUTER_C4" dev c0 \
		mtu lock "$mtu" advmss 1460
	log "router: to-client MTU $mtu, client route mtu $mtu advmss 1460"
}

# router_forget_idle SECONDS: the router's conntrack forgets an
# established TCP flow idle for SECONDS (a per-namespace sysctl: the root
# namespace's value is read before and after and must not change).
router_forget_idle() {
	local key=net.netfilter.nf_conntrack_tcp_timeout_established root0 root1 got
	root0=$(sysctl -n "$key")
	nsx "$NS_R" 5 sysctl -qw "$key=$1"
	got=$(nsx "$NS_R" 5 sysctl -n "$key")
	root1=$(sysctl -n "$key")
	[[ $root0 == "$root1" ]] ||
		die "setting $key in $NS_R changed the root namespace ($root0 -> $root1)"
	[[ $got == "$1" ]] || die "$key in $NS_R is $got (want $1)"
	log "router: $key=$got (root namespace unchanged: $root1)"
}

# shellcheck disable=SC2034
NFT_DROP_FRAG_NEEDED='table ip harness_filter {
	chain output {
		type filter hook output priority filter; policy accept;
		icmp type destination-unreachable icmp code frag-needed drop
	}
}'

# a stateful router: established flows and new SYNs only, so the packets
# of a flow its conntrack forgot are dropped
# shellcheck disable=SC2034
NFT_STATEFUL='table ip harness_filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct state new tcp flags syn accept
	}
}'

# ... and one that answers a forgotten flow's packets with a TCP RST
# (in the server's name), as many NAT gateways and firewalls do
# shellcheck disable=SC2034
NFT_STATEFUL_RST='table ip harness_filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct state new tcp flags syn accept
		ct state new meta l4proto tcp reject with tcp reset
	}
}'

# Router rule sets for the fault scenarios.
# shellcheck disable=SC2034
NFT_NAT='table ip harness_nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "to-server" masquerade
	}
}
table ip harness_filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "to-client" oifname "to-server" ct state new accept
	}
}'

# shellcheck disable=SC2034
NFT_SILENT_DROP="table ip harness_filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname \"to-server\" tcp dport $PASV_LO-$PASV_HI drop
	}
}"

# shellcheck disable=SC2034
NFT_RST_PASV="table ip harness_filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname \"to-server\" tcp dport $PASV_LO-$PASV_HI reject with tcp reset
	}
}"

# the answers (SYN-ACK) from the passive range never get back
# shellcheck disable=SC2034
NFT_RETURN_PASV="table ip harness_filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname \"to-server\" oifname \"to-client\" tcp sport $PASV_LO-$PASV_HI drop
	}
}"

# the router has no way on for the passive range: ICMP net unreachable
# shellcheck disable=SC2034
NFT_UNREACH_PASV="table ip harness_filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname \"to-server\" tcp dport $PASV_LO-$PASV_HI reject with icmp type net-unreachable
	}
}"

# IPv6: the router rejects the control port (ICMPv6 admin-prohibited)
# shellcheck disable=SC2034
NFT_REJECT21_V6='table ip6 harness_filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname "to-server" tcp dport 21 reject with icmpv6 type admin-prohibited
	}
}'

# IPv6: the router silently drops the passive range
# shellcheck disable=SC2034
NFT_SILENT_DROP_V6="table ip6 harness_filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname \"to-server\" tcp dport $PASV_LO-$PASV_HI drop
	}
}"

# NAT gateway with the FTP ALG (conntrack helper "ftp", built into the
# kernel; assigned explicitly as Linux >= 6.0 requires): active mode works
# for real FTP only because the helper rewrites PORT/EPRT and opens the
# pinhole.
# shellcheck disable=SC2034
NFT_NAT_ALG='table ip harness_nat {
	ct helper ftp-std {
		type "ftp" protocol tcp;
	}
	chain prerouting {
		type filter hook prerouting priority filter; policy accept;
		iifname "to-client" tcp dport 21 ct helper set "ftp-std"
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "to-server" masquerade
	}
}
table ip harness_filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "to-client" oifname "to-server" ct state new accept
	}
}'

# a 1000-port block in the middle of a 4000-port range is dropped
# shellcheck disable=SC2034
NFT_DROP_MID='table ip harness_filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname "to-server" tcp dport 21000-21999 drop
	}
}'

# server host's stateful firewall: new connections only to 21 and the
# control channel (7021), everything else only as established/related.
# With the FTP conntrack helper assigned to 21 (Linux >= 6.0 needs it
# explicitly) real passive data connections are related and pass, bare
# connections to the range die on the policy.
# shellcheck disable=SC2034
NFT_SERVER_HELPER="table inet harness_filter {
	ct helper ftp-std {
		type \"ftp\" protocol tcp;
	}
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		tcp dport 21 ct helper set \"ftp-std\"
	}
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iifname \"lo\" accept
		meta l4proto { icmp, ipv6-icmp } accept
		tcp dport { 21, $REFLECTOR_PORT } ct state new accept
	}
}"
# ... the same without the helper: passive data has no way in
# shellcheck disable=SC2034
NFT_SERVER_NOHELPER="table inet harness_filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iifname \"lo\" accept
		meta l4proto { icmp, ipv6-icmp } accept
		tcp dport { 21, $REFLECTOR_PORT } ct state new accept
	}
}"

# server host's own firewall drops the passive range (input hook)
# shellcheck disable=SC2034
NFT_SERVER_DROP_PASV="table inet harness_filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport $PASV_LO-$PASV_HI drop
	}
}"

# server host's own firewall rejects the passive range with a TCP RST
# shellcheck disable=SC2034
NFT_SERVER_RESET_PASV="table inet harness_filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport $PASV_LO-$PASV_HI reject with tcp reset
	}
}"

# ... and with ICMP admin-prohibited (icmpx: either family)
# shellcheck disable=SC2034
NFT_SERVER_ICMPX_PASV="table inet harness_filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport $PASV_LO-$PASV_HI reject with icmpx type admin-prohibited
	}
}"

# server host's own firewall drops the control port vsftpd listens on
# shellcheck disable=SC2034
NFT_SERVER_DROP21='table inet harness_filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 21 drop
	}
}'

# server host's own firewall rejects the control port with ICMP
# admin-prohibited (while vsftpd owns it)
# shellcheck disable=SC2034
NFT_SERVER_REJECT21='table inet harness_filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 21 reject with icmpx type admin-prohibited
	}
}'

# server host's own firewall drops outbound active data connections (its
# own connect from port 20: the reflector's connect-back and vsftpd's)
# shellcheck disable=SC2034
NFT_SERVER_DROP_ACTIVE='table inet harness_filter {
	chain output {
		type filter hook output priority filter; policy accept;
		tcp sport 20 drop
	}
}'

# ... and rejects them with a TCP RST (to the connecting socket itself)
# shellcheck disable=SC2034
NFT_SERVER_RESET_ACTIVE='table inet harness_filter {
	chain output {
		type filter hook output priority filter; policy accept;
		tcp sport 20 reject with tcp reset
	}
}'

# client host's own firewall drops inbound active data connections
# (from the server's port 20)
# shellcheck disable=SC2034
NFT_CLIENT_DROP_ACTIVE='table inet harness_filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp sport 20 drop
	}
}'

# client host's own firewall drops outbound control connections
# shellcheck disable=SC2034
NFT_CLIENT_DROP21='table inet harness_filter {
	chain output {
		type filter hook output priority filter; policy accept;
		tcp dport 21 drop
	}
}'

# Server-side DNAT: the router forwards the public service address
# PUBLIC4 (control 21, the passive range, and 7021 for a reflector dialled
# there) to SERVER4; FTP ports of the server network itself are closed to
# the client (admin-prohibited), so only the forwarded address works.
# shellcheck disable=SC2034
NFT_DNAT="table ip harness_nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname \"to-client\" ip daddr $PUBLIC4 tcp dport { 21, $REFLECTOR_PORT, $PASV_LO-$PASV_HI } dnat to $SERVER4
	}
}
table ip harness_filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname \"to-client\" ct status dnat accept
		iifname \"to-client\" ip daddr 203.0.113.0/24 tcp dport { 21, $PASV_LO-$PASV_HI } reject with icmp type admin-prohibited
	}
}"

# shellcheck disable=SC2034
NFT_REJECT21='table ip harness_filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname "to-server" tcp dport 21 reject with icmp type admin-prohibited
	}
}'

# same_verdicts A B: the probes' (name, port(s), verdict, cause) agree.
same_verdicts() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import json, sys
def v(f):
    d = json.load(open(f))
    return sorted((p.get("name"), str(p.get("port", p.get("ports"))),
                   p.get("verdict"), str(p.get("cause")))
                  for p in d["probes"])
a, b = v(sys.argv[1]), v(sys.argv[2])
if a != b:
    print(f"{a} != {b}")
    sys.exit(1)
EOF
}

# check_agent WHAT JSON: the last run_agent exited 0, every path passes,
# no cause; counted with the calling test's ok / nok.
check_agent() {
	if "$PYTHON" "$HERE/check_json.py" --json "$2" --rc "$AGENT_RC" \
		--want-rc 0 --probe control=pass --probe passive=pass \
		--probe active=pass --passive-ports "$PASV_LO-$PASV_HI" \
		--causes-exactly "" >"$T_DIR/check.out" 2>&1; then
		ok "$1: agent exit 0, every path passes"
	else
		nok "$1: $(grep '^FAIL' "$T_DIR/check.out" | tr '\n' ' ')"
	fi
}

#!/usr/bin/env bash
# tests/netns/crash_test.sh BUILD - a probe must never leave a hole.
#
# kill -9 of either program in the middle of a session (the reflector's
# trace and tproxy table is up, the agent is waiting on a silently dropped
# passive range) must leave no ftpath_* nftables table in either
# namespace (the kernel removes a table with its owner's socket).  The
# reflector is two processes (reflector/privsep.h): mid-session the engine
# must run with no capability and not as root, its helper with exactly
# CAP_NET_ADMIN and CAP_NET_BIND_SERVICE.  kill -9 of the engine: the
# helper removes the table and the divert policy route and exits.  kill
# -9 of the helper: the engine stops; the policy route survives and the
# restart must remove it.  kill -9 of both: no table either.
# The reflector's state is one shared table (ftpath_reflector) whose
# sets hold the armed agents' address . port elements, each with a
# timeout; it exists only while a session is armed.  A stale one (left by
# a kernel without owner tables) is removed by the next start.
# Prints "N passed, M failed"; exit 0 only if M is 0.
set -euo pipefail

BUILD=${1:?usage: crash_test.sh BUILD}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"

[[ $(id -u) -eq 0 ]] || { echo "SKIP: crash_test.sh needs root"; exit 1; }
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); log "ok:   $*"; }
nok() { FAIL=$((FAIL + 1)); log "FAIL: $*"; }

ftpath_tables() {
	nsx "$1" 5 nft list tables 2>/dev/null | grep ' ftpath_' | tr '\n' ' ' || true
}
ftpath_rules() {	# our policy rules use priorities 27100-27199
	{ nsx "$1" 5 ip -4 rule; nsx "$1" 5 ip -6 rule; } 2>/dev/null |
		grep -E '^271[0-9][0-9]:' | tr '\n' ' ' || true
}
# wait_for NS present|absent: poll (bounded) for an ftpath table.
wait_for() {
	local ns=$1 want=$2 i
	for i in $(seq 1 50); do
		if [[ -n $(ftpath_tables "$ns") ]]; then
			[[ $want == present ]] && return 0
		else
			[[ $want == absent ]] && return 0
		fi
		sleep 0.1
	done
	return 1
}
# A long session: the passive range is silently dropped and the agent's
# timeout is long, so the trace table stays up for seconds.
start_agent_bg() {
	bg_in_ns "$NS_C" "$T_DIR/agent-$1.log" "$(realpath "$BUILD/ftpath-agent")" \
		check --reflector "$SERVER4" --cert "$CERTS/agent.crt" \
		--key "$CERTS/agent.key" --ca "$CERTS/ca.crt" --timeout-ms 2000
	AGENT_PID=$BG_PID
}
# The armed session's elements in the shared table: the agent's address
# with the control port, each with a timeout (a second line of defence).
assert_shared_elements() {	# assert_shared_elements WHAT
	local l
	l=$(nsx "$NS_S" 5 nft list set inet ftpath_reflector probe4 2>/dev/null |
		tr -d '\n\t' || true)
	if [[ $l == *"$CLIENT4 . 21 timeout "*expires* ]]; then
		ok "$1: the shared table holds $CLIENT4 . 21 with a timeout"
	else
		nok "$1: no element $CLIENT4 . 21 with a timeout in the shared set: ${l:0:300}"
	fi
}
assert_no_tables() {	# assert_no_tables WHAT
	local t
	t="$(ftpath_tables "$NS_S")$(ftpath_tables "$NS_C")"
	[[ -z $t ]] && ok "$1: no ftpath table" || nok "$1: tables left: $t"
}
assert_clean() {	# assert_clean WHAT
	local t r
	t="$(ftpath_tables "$NS_S")$(ftpath_tables "$NS_C")"
	r="$(ftpath_rules "$NS_S")$(ftpath_rules "$NS_C")"
	[[ -z $t ]] && ok "$1: no ftpath table" || nok "$1: tables left: $t"
	[[ -z $r ]] && ok "$1: no ftpath policy rule" || nok "$1: rules left: $r"
}

topo_init crash
topo_up
router_nft "table ip harness_filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname \"to-server\" tcp dport $PASV_LO-$PASV_HI drop
	}
}"
start_vsftpd
make_certs

status_field() {	# status_field PID FIELD: its first value in /proc/PID/status
	awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status" 2>/dev/null || true
}
# The reflector is two processes (reflector/privsep.h): while a session
# runs, the engine has no capability and is not root; its helper holds
# exactly CAP_NET_ADMIN and CAP_NET_BIND_SERVICE, not root either.
assert_separated() {	# assert_separated WHAT
	local h eff heff uid huid sec
	h=$(reflector_helper_pid)
	eff=$(status_field "$REFLECTOR_PID" CapEff)
	uid=$(status_field "$REFLECTOR_PID" Uid)
	[[ $eff == 0000000000000000 && -n $uid && $uid != 0 ]] &&
		ok "$1: the engine (pid $REFLECTOR_PID) runs as uid $uid with CapEff $eff" ||
		nok "$1: the engine (pid $REFLECTOR_PID) has uid '$uid' CapEff '$eff'"
	# Seccomp 2: a filter (common/sandbox.h); the helper has none.
	sec=$(status_field "$REFLECTOR_PID" Seccomp)
	[[ $sec == 2 ]] &&
		ok "$1: the engine runs behind its seccomp filter (Seccomp $sec)" ||
		nok "$1: the engine's Seccomp is '$sec' (want 2, a filter)"
	if [[ -z $h ]]; then
		nok "$1: the reflector has no privileged helper"
		return
	fi
	heff=$(status_field "$h" CapEff)
	huid=$(status_field "$h" Uid)
	[[ $heff == 0000000000001400 && -n $huid && $huid != 0 ]] &&
		ok "$1: the helper (pid $h) runs as uid $huid with CapEff $heff (net_admin, net_bind_service)" ||
		nok "$1: the helper (pid $h) has uid '$huid' CapEff '$heff'"
}
agent_lost() {	# agent_lost WHAT: the background agent ends with exit 3
	local rc=0
	timeout 30 tail --pid="$AGENT_PID" -f /dev/null || true
	wait "$AGENT_PID" 2>/dev/null || rc=$?
	((rc == 3)) && ok "agent exit 3 when $1" ||
		nok "agent exit $rc when $1 (want 3)"
}
gone() {	# gone PID: bounded wait for PID to exit
	local i
	for i in $(seq 1 50); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# 1. the engine dies mid-session: its helper removes the table and the
# divert route and exits
start_reflector "$BUILD"
start_agent_bg refl
if wait_for "$NS_S" present; then
	ok "reflector installed its session table"
	assert_shared_elements "mid-session"
	assert_separated "mid-session"
	HELPER=$(reflector_helper_pid)
	kill -KILL "$REFLECTOR_PID"
	wait "$REFLECTOR_PID" 2>/dev/null || true
	gone "$HELPER" && ok "the helper exited after the engine's kill -9" ||
		nok "the helper (pid $HELPER) outlived the engine"
	wait_for "$NS_S" absent || true
	assert_clean "after kill -9 of the engine"
else
	nok "reflector never installed a session table (no trace?)"
fi
agent_lost "the engine vanished"

# 1b. the helper dies mid-session: the engine stops; the kernel removes
# the table with the helper's socket, the divert route is the restart's
start_reflector "$BUILD"
start_agent_bg helper
if wait_for "$NS_S" present; then
	ok "session table present before the helper dies"
	kill -KILL "$(reflector_helper_pid)"
	gone "$REFLECTOR_PID" && ok "the engine stopped when its helper died" ||
		nok "the engine (pid $REFLECTOR_PID) runs on without its helper"
	wait "$REFLECTOR_PID" 2>/dev/null || true
	wait_for "$NS_S" absent || true
	assert_no_tables "after kill -9 of the helper"
	r=$(ftpath_rules "$NS_S")
	[[ -n $r ]] && ok "the killed helper's policy rule is left for the restart: $r" ||
		nok "no policy rule after the helper's kill -9: was the session diverted (tproxy)?"
else
	nok "no session table before the helper dies"
fi
agent_lost "the helper vanished"

# 1c. both die at once
start_reflector "$BUILD"
assert_clean "after the restart that follows the helper's death"
start_agent_bg both
if wait_for "$NS_S" present; then
	ok "session table present before both die"
	kill -KILL "$(reflector_helper_pid)" "$REFLECTOR_PID"
	wait "$REFLECTOR_PID" 2>/dev/null || true
	wait_for "$NS_S" absent || true
	assert_no_tables "after kill -9 of the engine and the helper"
else
	nok "no session table before both die"
fi
agent_lost "both vanished"

# 2. a restarted reflector starts clean, even when a shared table of an
# earlier run survived (no owner flag: as on a kernel before 5.12)
nsx "$NS_S" 5 nft -f - <<EOF
table inet ftpath_reflector {
	set probe4 { type ipv4_addr . inet_service; flags interval, timeout; elements = { $CLIENT4 . 21 timeout 1h } }
}
EOF
[[ -n $(ftpath_tables "$NS_S") ]] && ok "a stale shared table is in place before the restart" ||
	nok "could not plant a stale shared table"
start_reflector "$BUILD"
assert_clean "after the reflector restarted"

# 3. the agent dies mid-session: the reflector loses its peer
start_agent_bg agent
if wait_for "$NS_S" present; then
	ok "session table present before the agent dies"
	assert_shared_elements "before the agent dies"
	kill -KILL "$AGENT_PID"
	wait "$AGENT_PID" 2>/dev/null || true
	wait_for "$NS_S" absent || true
	assert_clean "after kill -9 of the agent"
	kill -0 "$REFLECTOR_PID" 2>/dev/null && ok "reflector survived the lost peer" ||
		nok "reflector died with its peer"
else
	nok "no session table for the second agent"
fi

echo "$PASS passed, $FAIL failed"
((FAIL == 0))

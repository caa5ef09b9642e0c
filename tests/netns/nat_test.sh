#!/usr/bin/env bash
# tests/netns/nat_test.sh BUILD - agents behind one NAT: one observed
# address, several checks at once.
#
# FTPATH_NAT_AGENTS (6) agents start together in the client namespace,
# all from 198.51.100.2, against one reflector with CAP_NET_ADMIN (the
# tproxy diversion and the trace are on).  The reflector arms one session
# per observed address at a time (reflector/armq.h): the others are told
# "queued" and armed in turn, so no two sessions read each other's
# connections or trace events.  Every agent must exit 0 with every path
# passing and no cause; the reflector must have queued plans for the
# address; at no time may two sessions of the address be armed (its log
# in order: "plan armed" of one session, then its "bye", then the next);
# the queued agents' reports say they waited.  Nothing may be left in
# nftables afterwards.  Prints "N passed, M failed"; exit 0 only if M is 0.
set -euo pipefail

BUILD=${1:?usage: nat_test.sh BUILD}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"

[[ $(id -u) -eq 0 ]] || { echo "SKIP: nat_test.sh needs root"; exit 1; }
need_tools vsftpd || { echo "SKIP: nat_test.sh: tools missing"; exit 1; }
AGENTS=${FTPATH_NAT_AGENTS:-6}
[[ $AGENTS =~ ^[1-9][0-9]?$ ]] || die "FTPATH_NAT_AGENTS must be 1-99"
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); log "ok:   $*"; }
nok() { FAIL=$((FAIL + 1)); log "FAIL: $*"; }

topo_init nat
topo_up
start_vsftpd
make_certs
start_reflector "$BUILD" "max_sessions = $AGENTS"

# all at once, each its own report; bounded by nsx's timeout
pids=()
for ((i = 0; i < AGENTS; i++)); do
	bg_in_ns "$NS_C" "$T_DIR/agent$i.log" timeout 120 \
		"$(realpath "$BUILD/ftpath-agent")" check --reflector "$SERVER4" \
		--cert "$CERTS/agent.crt" --key "$CERTS/agent.key" \
		--ca "$CERTS/ca.crt" --no-ftp-check --json "$T_DIR/agent$i.json"
	pids+=("$BG_PID")
done
for ((i = 0; i < AGENTS; i++)); do
	AGENT_RC=0
	wait "${pids[$i]}" || AGENT_RC=$?
	check_agent "agent $i of $AGENTS from one address" "$T_DIR/agent$i.json"
done

n=$(grep -c 'plan queued (waiting for address' "$T_DIR/reflector.log" || true)
((n >= 1)) && ok "the reflector queued $n plan(s) behind another session of the address" ||
	nok "no plan was queued for the shared address: did the agents overlap at all?"
q=$(grep -l 'queued the plan for [0-9]* ms before arming it' "$T_DIR"/agent*.json 2>/dev/null | wc -l)
((q == n)) && ok "$q queued agent(s) say so in their reports" ||
	nok "$q report(s) mention the queue, the reflector queued $n"
# In log order, an armed session of the address ends before the next arms.
overlap=$(awk '/: plan armed: / { if (armed) bad++; armed = 1 }
	/: bye \(token/ { armed = 0 } END { print bad + 0 }' "$T_DIR/reflector.log")
((overlap == 0)) && ok "never two sessions of the address armed at once" ||
	nok "$overlap arming(s) while another session of the address was armed"
t=$(ns_foreign_tables "$NS_S")
[[ -z $t ]] && ok "no ftpath table left in the server namespace" ||
	nok "tables left: $t"

echo "$PASS passed, $FAIL failed"
((FAIL == 0))

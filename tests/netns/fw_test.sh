#!/usr/bin/env bash
# tests/netns/fw_test.sh [DRIVER] - nft/ against the real kernel.
#
# Everything runs inside one private network namespace, ftfw$$, whose
# loopback carries documentation addresses (192.0.2.0/24, 2001:db8::/32):
# the peer connects from 192.0.2.2 to 192.0.2.1, so its packets cross
# output and prerouting like a remote client's would at prerouting.  The
# root namespace's firewall, routes and rules are never touched.
#
# DRIVER: a built tests/netns/fw_driver (default: $BUILD/tests/fw_driver
# with BUILD=build, else built here by hand into a temp dir).
# Prints "N passed, M failed"; exit 0 only if M is 0.  Exits 77 with
# SKIP when it cannot run (not root, no nft/ip, no nf_tables).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NS=ftfw$$
PASS=0
FAIL=0
TMP=$(mktemp -d /tmp/ftfw.XXXXXX)
HOLD_PID=

skip() { echo "SKIP: $*"; rm -rf "$TMP"; exit 77; }
ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
nok() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
check() {	# check DESC CMD...: passes when CMD succeeds
	local d=$1; shift
	if "$@" >>"$TMP/log" 2>&1; then ok "$d"; else nok "$d"; fi
}
X() { ip netns exec "$NS" "$@"; }

cleanup() {
	[[ -n $HOLD_PID ]] && kill -9 "$HOLD_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}

[[ $(id -u) -eq 0 ]] || skip "needs root (network namespace, nftables)"
for t in ip nft cc pkg-config; do
	command -v "$t" >/dev/null 2>&1 || skip "'$t' not installed"
done

DRIVER=${1:-}
if [[ -z $DRIVER && -x $ROOT/build/tests/fw_driver ]]; then
	DRIVER=$ROOT/build/tests/fw_driver
fi
if [[ -z $DRIVER ]]; then
	DRIVER=$TMP/fw_driver
	# shellcheck disable=SC2046
	(cd "$ROOT" && cc -std=c11 -D_GNU_SOURCE -O1 -g -Icommon -Inft \
	    $(pkg-config --cflags libnftnl libmnl libnftables) \
	    -o "$DRIVER" tests/netns/fw_driver.c nft/*.c common/err.c \
	    $(pkg-config --libs libnftnl libmnl libnftables)) ||
	    skip "could not build fw_driver"
fi

trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "$NS" || skip "cannot create network namespace"
X ip link set lo up
X ip addr add 192.0.2.1/32 dev lo
X ip addr add 192.0.2.2/32 dev lo
X ip addr add 2001:db8::1/128 dev lo nodad
X ip addr add 2001:db8::2/128 dev lo nodad
X nft list tables >/dev/null 2>&1 || skip "nf_tables not usable in a namespace"

D() { X "$DRIVER" "$@"; }
no_ftpath_tables() { ! X nft list tables | grep -q ftpath_; }
no_our_rules() {
	! X ip -4 rule | grep -q '^271[0-9][0-9]:' &&
	    ! X ip -6 rule | grep -q '^271[0-9][0-9]:' &&
	    [[ -z $(X ip -4 route show table 27100) ]] &&
	    [[ -z $(X ip -6 route show table 27101) ]]
}

# 1. stale cleanup on a clean namespace
check "cleanup on empty namespace" D cleanup

# 2. session table with trace + tproxy (v4), policy route, ruleset
check "add v4 session with trace+tproxy" \
    D add s4 192.0.2.2 2121,30000-30009 7000 0x4654 27100
X nft list ruleset >"$TMP/ruleset"
check "ruleset has table inet ftpath_s4" grep -q 'table inet ftpath_s4' "$TMP/ruleset"
check "ruleset has trace rule" grep -q 'ip saddr 192.0.2.2 tcp dport @ports tcp flags syn,rst meta nftrace set 1' "$TMP/ruleset"
check "ruleset has output trace rule" grep -q 'ip daddr 192.0.2.2 tcp sport @ports tcp flags syn,rst meta nftrace set 1' "$TMP/ruleset"
check "ruleset has tproxy rule" grep -q 'tproxy ip to :7000 meta mark set 0x00004654 accept' "$TMP/ruleset"
check "ruleset has port set" grep -q 'elements = { 2121, 30000-30009 }' "$TMP/ruleset"
check "ip rule fwmark present" bash -c "ip netns exec $NS ip rule | grep -q '27100:.*fwmark 0x4654 lookup 27100'"
check "local default route present" bash -c "ip netns exec $NS ip route show table 27100 | grep -q 'local default dev lo'"
check "second add of same id fails (EXCL)" bash -c "! ip netns exec $NS $DRIVER add s4 192.0.2.2 21"

# 3. trace events + tproxy delivery + rule text
D trace s4 192.0.2.2 192.0.2.1 2121 7000 >"$TMP/trace4" 2>&1
cat "$TMP/trace4" >>"$TMP/log"
check "trace event names table/chain/handle" grep -Eq 'table=ftpath_s4 chain=trace_pre type=rule handle=[1-9][0-9]* verdict=continue 192\.0\.2\.2:[0-9]+ -> 192\.0\.2\.1:2121' "$TMP/trace4"
check "trace event from output chain (reply)" grep -Eq 'table=ftpath_s4 chain=trace_out type=rule handle=[1-9].* 192\.0\.2\.1:2121 -> 192\.0\.2\.2:' "$TMP/trace4"
check "tproxy rule verdict accept traced" grep -Eq 'chain=tproxy_pre type=rule handle=[1-9][0-9]* verdict=accept' "$TMP/trace4"
check "tproxy listener got the connection, original dst kept" grep -q 'tproxy accepted local=192.0.2.1:2121' "$TMP/trace4"
check "rule text read back" grep -q 'rule ftpath_s4 trace_pre [0-9]*: ip saddr 192.0.2.2 tcp dport @ports tcp flags syn,rst meta nftrace set 1$' "$TMP/trace4"
H=$(X nft -a list chain inet ftpath_s4 tproxy_pre | sed -n 's/.*accept # handle \([0-9]*\)$/\1/p')
check "fw_rule_text of tproxy rule" bash -c "ip netns exec $NS $DRIVER text inet ftpath_s4 tproxy_pre '$H' | grep -q '^text: ip saddr 192.0.2.2 tcp dport @ports tproxy ip to :7000 meta mark set 0x00004654 accept$'"
check "fw_rule_text unknown handle -> not found" bash -c "ip netns exec $NS $DRIVER text inet ftpath_s4 tproxy_pre 9999 | grep -q 'not found'"

# 4. IPv6 session
check "add v6 session with trace+tproxy" \
    D add s6 2001:db8::2 2121 7001 0x4655 27101
D trace s6 2001:db8::2 2001:db8::1 2121 7001 >"$TMP/trace6" 2>&1
cat "$TMP/trace6" >>"$TMP/log"
check "v6 trace event with tuple" grep -Eq 'table=ftpath_s6 chain=trace_pre type=rule handle=[1-9].* \[2001:db8::2\]:[0-9]+ -> \[2001:db8::1\]:2121' "$TMP/trace6"
check "v6 tproxy delivery" grep -q 'tproxy accepted local=\[2001:db8::1\]:2121' "$TMP/trace6"

# 4b. tproxy to a loopback listener: reachable through the rule only
check "add v4 session with tproxy to 127.0.0.1" \
    D add s5 192.0.2.2 2122 7003 0x4657 27103 127.0.0.1
check "ruleset has tproxy rule with address" bash -c "ip netns exec $NS nft list table inet ftpath_s5 | grep -q 'tproxy ip to 127.0.0.1:7003 meta mark set 0x00004657 accept'"
D trace s5 192.0.2.2 192.0.2.1 2122 7003 127.0.0.1 >"$TMP/trace5" 2>&1
cat "$TMP/trace5" >>"$TMP/log"
check "loopback transparent listener got it, original dst kept" grep -q 'tproxy accepted local=192.0.2.1:2122' "$TMP/trace5"
check "add v6 session with tproxy to ::1" \
    D add s7 2001:db8::2 2122 7004 0x4658 27104 ::1
D trace s7 2001:db8::2 2001:db8::1 2122 7004 ::1 >"$TMP/trace7" 2>&1
cat "$TMP/trace7" >>"$TMP/log"
check "v6 loopback transparent listener got it" grep -q 'tproxy accepted local=\[2001:db8::1\]:2122' "$TMP/trace7"
check "delete loopback sessions" bash -c "ip netns exec $NS $DRIVER del s5 4 0x4657 27103 && ip netns exec $NS $DRIVER del s7 6 0x4658 27104"

# 4c. the connect-back from port 20 has its own trace rule and is never in
# the port set: the tproxy rule would divert the peer's answers to it
check "add v4 session, connect-back from 20 traced" \
    D addact s8 192.0.2.2 2123 20 7005 0x4659 27105
X nft list table inet ftpath_s8 >"$TMP/ruleset8"
cat "$TMP/ruleset8" >>"$TMP/log"
check "ruleset has connect-back trace rule" grep -q 'ip daddr 192.0.2.2 tcp sport 20 tcp flags syn,rst meta nftrace set 1' "$TMP/ruleset8"
check "port 20 not in the port set" grep -q 'elements = { 2123 }' "$TMP/ruleset8"
D cback 192.0.2.2 192.0.2.1 20 >"$TMP/cback8" 2>&1
cat "$TMP/cback8" >>"$TMP/log"
check "connect-back SYN traced in trace_out" grep -Eq 'table=ftpath_s8 chain=trace_out type=rule handle=[1-9][0-9]* verdict=continue 192\.0\.2\.1:20 -> 192\.0\.2\.2:[0-9]+$' "$TMP/cback8"
check "connect-back completed: the answer to 20 was not diverted" grep -q 'cback accepted' "$TMP/cback8"
check "the peer's answer to 20 is not traced" bash -c "! grep -Eq '192\.0\.2\.2:[0-9]+ -> 192\.0\.2\.1:20\$' '$TMP/cback8'"
check "delete connect-back session" D del s8 4 0x4659 27105
check "add v6 session, connect-back from 20 traced" D addact s9 2001:db8::2 2123 20
D cback 2001:db8::2 2001:db8::1 20 >"$TMP/cback9" 2>&1
cat "$TMP/cback9" >>"$TMP/log"
check "v6 connect-back SYN traced in trace_out" grep -Eq 'table=ftpath_s9 chain=trace_out type=rule handle=[1-9][0-9]* verdict=continue \[2001:db8::1\]:20 -> \[2001:db8::2\]:[0-9]+$' "$TMP/cback9"
check "delete v6 connect-back session" D del s9
# Without trace_active_port the connect-back is not traced at all.
check "add v4 session without the connect-back rule" D add s10 192.0.2.2 2123
D cback 192.0.2.2 192.0.2.1 20 >"$TMP/cback10" 2>&1
cat "$TMP/cback10" >>"$TMP/log"
check "plain session: connect-back works, no event of it" bash -c "grep -q 'cback accepted' '$TMP/cback10' && ! grep -q 'table=ftpath_s10' '$TMP/cback10'"
check "delete plain session" D del s10

# 5. delete: one batch, nothing left
check "delete v4 session + policy route" D del s4 4 0x4654 27100
check "delete v6 session + policy route" D del s6 6 0x4655 27101
check "no ftpath table left" no_ftpath_tables
check "no policy rule/route left" no_our_rules
check "delete of missing table fails" bash -c "! ip netns exec $NS $DRIVER del s4"

# 6. crash: kill -9 a holder, then the start-up cleanup removes it all
X ip rule add fwmark 0x1 lookup 100 priority 100	# not ours: must stay
D add c1 192.0.2.2 21 7002 0x4656 27102 >>"$TMP/log" 2>&1
# Started without the X wrapper: $! must be the driver itself (ip netns
# exec execs it), not a subshell that kill -9 would leave it behind.
ip netns exec "$NS" "$DRIVER" hold c2 2001:db8::2 21,22 >"$TMP/hold" 2>&1 &
HOLD_PID=$!
for _ in $(seq 50); do grep -q ready "$TMP/hold" && break; sleep 0.1; done
check "holder created its table" bash -c "ip netns exec $NS nft list tables | grep -q ftpath_c2"
check "holder pid is the driver" grep -q fw_driver "/proc/$HOLD_PID/comm"
kill -9 "$HOLD_PID"; wait "$HOLD_PID" 2>/dev/null; HOLD_PID=
check "tables survive the crash" bash -c "ip netns exec $NS nft list tables | grep -q ftpath_c1"
X "$DRIVER" cleanup >"$TMP/clean" 2>&1
cat "$TMP/clean" >>"$TMP/log"
check "cleanup removed 2 tables + rule + route" grep -q 'cleanup removed 4' "$TMP/clean"
check "no ftpath table left after cleanup" no_ftpath_tables
check "no policy rule/route left after cleanup" no_our_rules
check "foreign ip rule untouched" bash -c "ip netns exec $NS ip rule | grep -q '^100:.*fwmark 0x1 lookup 100'"

# 7. an owned table (FW_F_OWNER) goes with its socket, no cleanup needed
ip netns exec "$NS" "$DRIVER" holdown o1 192.0.2.2 21 >"$TMP/hold" 2>&1 &
HOLD_PID=$!
for _ in $(seq 50); do grep -q ready "$TMP/hold" && break; sleep 0.1; done
check "owned table created" bash -c "ip netns exec $NS nft list tables | grep -q ftpath_o1"
kill -9 "$HOLD_PID"; wait "$HOLD_PID" 2>/dev/null; HOLD_PID=
for _ in $(seq 20); do no_ftpath_tables && break; sleep 0.1; done
check "owned table removed by the kernel when its owner died" no_ftpath_tables

if [[ $FAIL -gt 0 ]]; then
	echo "--- log ---"
	cat "$TMP/log"
fi
echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]

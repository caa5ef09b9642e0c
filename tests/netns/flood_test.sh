#!/usr/bin/env bash
# tests/netns/flood_test.sh BUILD - an unauthenticated flood of the armed
# probe ports must not fake a diagnosis.
#
# The reflector runs without CAP_NET_ADMIN, so it binds the passive range
# itself while a session has it armed (with CAP_NET_ADMIN the ports are
# diverted only for the agent's address and a flood never reaches it).
# From eight more addresses of the client's subnet, flood_client.py keeps
# FTPATH_FLOOD_CONNS (3000) connections that never send a byte open to
# the passive range, more than the reflector's probe connection cap
# (max_sessions x 1024 = 2048 with max_sessions = 2), reopening what
# closes.  A legitimate `ftpath-agent check` in the middle of it must
# exit 0 with the verdicts of a run without the flood, and its report
# must say that connections without a session token arrived.  Then the
# same with the flood from the agent's own address (a NAT in front of the
# client): the reflector holds those until its cap and closes the oldest
# to make room; the check passes and its report names the tokenless
# connections.
#
# All the while hostile_client.py holds FTPATH_FLOOD_IDLE (50) connections
# to the control port that never handshake and FTPATH_FLOOD_TRICKLE (20)
# that trickle a byte a second (hostile_test.sh tests those alone).
#
# FTPATH_FLOOD_CONNS, FTPATH_FLOOD_SECONDS (20), FTPATH_FLOOD_RATE (new
# connections per 100 ms, 400) and FTPATH_FLOOD_MAX_SESSIONS (2) size the
# flood; the full size of issue 10 is FTPATH_FLOOD_CONNS=12000
# FTPATH_FLOOD_IDLE=500 FTPATH_FLOOD_TRICKLE=500
# FTPATH_FLOOD_MAX_SESSIONS=8 FTPATH_FLOOD_RATE=1000.  Prints "N passed, M
# failed"; exit 0 only if M is 0.
set -euo pipefail

BUILD=${1:?usage: flood_test.sh BUILD}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"

[[ $(id -u) -eq 0 ]] || { echo "SKIP: flood_test.sh needs root"; exit 1; }
need_tools vsftpd || { echo "SKIP: flood_test.sh: tools missing"; exit 1; }
CONNS=${FTPATH_FLOOD_CONNS:-3000}
SECONDS_FLOOD=${FTPATH_FLOOD_SECONDS:-20}
RATE=${FTPATH_FLOOD_RATE:-400}
MAX_SESSIONS=${FTPATH_FLOOD_MAX_SESSIONS:-2}
H_IDLE=${FTPATH_FLOOD_IDLE:-50}
H_TRICKLE=${FTPATH_FLOOD_TRICKLE:-20}
FLOOD_SRC=""
for i in 10 11 12 13 14 15 16 17; do
	FLOOD_SRC+="${FLOOD_SRC:+,}198.51.100.$i"
done
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); log "ok:   $*"; }
nok() { FAIL=$((FAIL + 1)); log "FAIL: $*"; }

# flood SRC OUT: flood_client.py in the background ($FLOOD_PID), and
# hostile_client.py on the control port ($HOSTILE_PID)
flood() {
	bg_in_ns "$NS_C" "$2.hostile.log" "$PYTHON" "$HERE/hostile_client.py" \
		--server "$SERVER4" --port "$REFLECTOR_PORT" --src "$FLOOD_SRC" \
		--idle "$H_IDLE" --trickle "$H_TRICKLE" \
		--duration "$SECONDS_FLOOD" --rate 50 --out "$2.hostile"
	HOSTILE_PID=$BG_PID
	bg_in_ns "$NS_C" "$2.log" "$PYTHON" "$HERE/flood_client.py" \
		--server "$SERVER4" --ports "$PASV_LO-$PASV_HI" --src "$1" \
		--conns "$CONNS" --duration "$SECONDS_FLOOD" --rate "$RATE" \
		--out "$2"
	FLOOD_PID=$BG_PID
}

flood_wait() {
	local p
	for p in "$FLOOD_PID" "$HOSTILE_PID"; do
		timeout $((SECONDS_FLOOD + 20)) tail --pid="$p" -f /dev/null || true
		wait "$p" 2>/dev/null || true
	done
	log "flood: $(cat "$1" 2>/dev/null || echo 'no summary')"
	log "hostile: $(cat "$1.hostile" 2>/dev/null || echo 'no summary')"
}

topo_init flood
topo_up
for a in ${FLOOD_SRC//,/ }; do
	ip -n "$NS_C" addr add "$a/24" dev c0
done
start_vsftpd
make_certs
REFL_NOCAP=1 start_reflector "$BUILD" "max_sessions = $MAX_SESSIONS"

# The real FTP client stays off: while another session holds the passive
# range bound (hold_session.py, a reflector without CAP_NET_ADMIN) vsftpd
# cannot bind it for its own data connections, flood or not.
NOFTP=(--no-ftp-check)

# 1. the verdicts without the flood
run_agent "$BUILD" "$T_DIR/base.json" "${NOFTP[@]}"
check_agent "without the flood" "$T_DIR/base.json"

# hold_range SRC SECONDS: another session keeps the passive range armed
# (hold_session.py: a long check of another agent), so that the flood
# has armed ports to fill
ip -n "$NS_C" addr add 198.51.100.3/24 dev c0
hold_range() {
	bg_in_ns "$NS_C" "$T_DIR/hold.log" "$PYTHON" "$HERE/hold_session.py" \
		--reflector "$SERVER4" --port "$REFLECTOR_PORT" --server "$SERVER4" \
		--passive "$PASV_LO-$PASV_HI" --src "$1" \
		--cert "$CERTS/agent.crt" --key "$CERTS/agent.key" \
		--ca "$CERTS/ca.crt" --seconds "$2"
	HOLD_PID=$BG_PID
	sleep 1
}

hold_wait() {
	timeout 15 tail --pid="$HOLD_PID" -f /dev/null || true
	wait "$HOLD_PID" 2>/dev/null || true
	log "holding session: $(head -c 300 "$T_DIR/hold.log")"
}

accepted() {
	"$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["accepted"])' "$1" 2>/dev/null || echo 0
}

# 2. from eight other addresses: closed at accept, the agent untouched
hold_range 198.51.100.3 $((SECONDS_FLOOD + 2))
flood "$FLOOD_SRC" "$T_DIR/flood1.json"
sleep $((CONNS / (RATE * 10) + 3))
run_agent "$BUILD" "$T_DIR/flood.json" "${NOFTP[@]}"
check_agent "with $CONNS connections from other addresses flooding the passive range" "$T_DIR/flood.json"
same_verdicts "$T_DIR/base.json" "$T_DIR/flood.json" >"$T_DIR/same.out" 2>&1 &&
	ok "the same verdicts as without the flood" ||
	nok "verdicts changed under the flood: $(cat "$T_DIR/same.out")"
flood_wait "$T_DIR/flood1.json"
hold_wait
acc=$(accepted "$T_DIR/flood1.json")
((acc > CONNS)) && ok "the flood reached the armed ports ($acc connections accepted by the kernel)" ||
	nok "the flood reached the armed ports only $acc times: was the load real?"
n=$(grep -c 'from an address no session on the port expects' "$T_DIR/reflector.log" || true)
((n > CONNS)) && ok "the reflector closed $n flood connections at accept (no session expects their address)" ||
	nok "the reflector closed only $n flood connections at accept"

# 3. from the agent's own address (a NAT in front of the clients), where
# another agent's session of that address holds the range for the first
# half of the flood: held until the cap, the oldest closed to make room.
# A session from another address holds the range all along, so the ports
# stay open and the flood keeps arriving (closed at accept: nobody
# expects the address) until the agent arms in the second half, when
# the sessions free a slot (max_sessions 2: it waits, busy): flooded
# there too, it still passes, and its report names the tokenless
# connections and the wait.
hold_range 198.51.100.3 $((SECONDS_FLOOD + 2))
HOLD_ALL_PID=$HOLD_PID
hold_range "$CLIENT4" $((SECONDS_FLOOD / 2))
flood "$CLIENT4" "$T_DIR/flood2.json"
sleep $((CONNS / (RATE * 10) + 3))
run_agent "$BUILD" "$T_DIR/nat.json" "${NOFTP[@]}"
check_agent "with $CONNS connections from the agent's own address flooding the passive range" "$T_DIR/nat.json"
same_verdicts "$T_DIR/base.json" "$T_DIR/nat.json" >"$T_DIR/same.out" 2>&1 &&
	ok "the same verdicts as without the flood" ||
	nok "verdicts changed under the flood: $(cat "$T_DIR/same.out")"
flood_wait "$T_DIR/flood2.json"
hold_wait
HOLD_PID=$HOLD_ALL_PID
hold_wait
acc=$(accepted "$T_DIR/flood2.json")
((acc >= CONNS)) && ok "the flood from the agent's address reached the armed ports ($acc connections)" ||
	nok "the flood from the agent's address reached the armed ports only $acc times"
n=$(grep -c 'closed to make room' "$T_DIR/reflector.log" || true)
((n > 0)) && ok "the reflector closed $n held connections to make room at its cap" ||
	nok "the connection cap was never reached: was the load real?"
grep -q "without this session's token" "$T_DIR/nat.json" &&
	ok "the agent's report says connections without its token arrived" ||
	nok "the agent's report does not mention the tokenless connections"
grep -Eq "the reflector was busy|queued the plan for [0-9]* ms before arming it" "$T_DIR/nat.json" &&
	ok "the agent waited for the other sessions (its report says so)" ||
	nok "the agent's report does not say it waited for the other sessions"
kill -0 "$REFLECTOR_PID" 2>/dev/null && ok "the reflector is still running" ||
	nok "the reflector died"

echo "$PASS passed, $FAIL failed"
((FAIL == 0))

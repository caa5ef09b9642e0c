#!/usr/bin/env bash
# tests/netns/hostile_test.sh BUILD - unauthenticated clients must not take
# the reflector out of service.
#
# In the client namespace, eight more addresses of the client's subnet
# (198.51.100.10-17) hold connections to the reflector's control port that
# never send a ClientHello and connections that trickle a byte a second
# (tests/netns/hostile_client.py), reopening each one the reflector closes,
# while a legitimate `ftpath-agent check` from 198.51.100.2 runs: it must
# exit 0 with the same verdicts as without the load.  No hostile
# connection may stay open longer than the handshake deadline (plus
# slack), whatever it sends.  Then garbage bytes, a TLS 1.2 only client
# and a client without a certificate: each is refused (no session
# starts), and a check still passes.  Then forged nftables trace
# multicasts in both namespaces during a check (forge_trace.py): neither
# program stops, no verdict changes.  Last, with max_sessions = 1: 24
# silent connections leave the slot to an agent, a held authenticated
# session takes it (the agent told "busy" waits) and session_lifetime
# ends it.
#
# FTPATH_HOSTILE_IDLE / FTPATH_HOSTILE_TRICKLE (default 50 / 20),
# FTPATH_HOSTILE_SECONDS (10) and FTPATH_HOSTILE_RATE (new connections per
# 100 ms, 10) size the load.  Prints "N passed, M
# failed"; exit 0 only if M is 0.
set -euo pipefail

BUILD=${1:?usage: hostile_test.sh BUILD}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"

[[ $(id -u) -eq 0 ]] || { echo "SKIP: hostile_test.sh needs root"; exit 1; }
need_tools openssl vsftpd || { echo "SKIP: hostile_test.sh: tools missing"; exit 1; }
IDLE=${FTPATH_HOSTILE_IDLE:-50}
TRICKLE=${FTPATH_HOSTILE_TRICKLE:-20}
SECONDS_LOAD=${FTPATH_HOSTILE_SECONDS:-10}
RATE=${FTPATH_HOSTILE_RATE:-10}	# new connections per 100 ms
HS_TIMEOUT=5		# the reflector's default handshake_timeout
HOSTILE_SRC=""
for i in 10 11 12 13 14 15 16 17; do
	HOSTILE_SRC+="${HOSTILE_SRC:+,}198.51.100.$i"
done
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); log "ok:   $*"; }
nok() { FAIL=$((FAIL + 1)); log "FAIL: $*"; }

sessions_started() {
	grep -c ': started, agent certificate' "$T_DIR/reflector.log" || true
}

topo_init hostile
topo_up
for a in ${HOSTILE_SRC//,/ }; do
	ip -n "$NS_C" addr add "$a/24" dev c0
done
start_vsftpd
make_certs
start_reflector "$BUILD"

# 1. the verdicts without load
run_agent "$BUILD" "$T_DIR/base.json"
check_agent "without load" "$T_DIR/base.json"

# 2. the same check while the handshake slots are flooded
bg_in_ns "$NS_C" "$T_DIR/hostile.log" "$PYTHON" "$HERE/hostile_client.py" \
	--server "$SERVER4" --port "$REFLECTOR_PORT" --src "$HOSTILE_SRC" \
	--idle "$IDLE" --trickle "$TRICKLE" --duration "$SECONDS_LOAD" \
	--rate "$RATE" --limit $((HS_TIMEOUT + 2)) \
	--out "$T_DIR/hostile.json"
HOSTILE_PID=$BG_PID
# every slot taken, trickling under way
sleep $(((IDLE + TRICKLE) / (RATE * 10) + 2))
run_agent "$BUILD" "$T_DIR/load.json"
check_agent "with $IDLE silent and $TRICKLE trickling connections" "$T_DIR/load.json"
if same_verdicts "$T_DIR/base.json" "$T_DIR/load.json" >"$T_DIR/same.out" 2>&1; then
	ok "the same verdicts as without load"
else
	nok "verdicts changed under load: $(cat "$T_DIR/same.out")"
fi
timeout $((SECONDS_LOAD + 20)) tail --pid="$HOSTILE_PID" -f /dev/null || true
wait "$HOSTILE_PID" 2>/dev/null || true
if [[ -s $T_DIR/hostile.json ]]; then
	log "hostile client: $(cat "$T_DIR/hostile.json")"
	read -r conn maxo maxa old < <("$PYTHON" -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(d["connected"], d["max_open_s"], d["max_age_at_end_s"], d["old_at_end"])' "$T_DIR/hostile.json")
	((conn >= IDLE + TRICKLE)) && ok "$conn hostile connections were made" ||
		nok "only $conn hostile connections were made (want >= $((IDLE + TRICKLE)))"
	lim=$((HS_TIMEOUT + 2))
	# The kernel's listen queue overflows under a flood: such a
	# connection looks established to the client but never reached the
	# reflector (the server host dropped the final ACK and counts a
	# ListenOverflow); at most a listen backlog of them can be open.
	overflows=$(nsx "$NS_S" 5 nstat -asz TcpExtListenOverflows 2>/dev/null |
		awk '$1 == "TcpExtListenOverflows" { print $2 }')
	log "server host listen queue overflows: ${overflows:-?}; hostile connections older than ${lim} s at the end: $old (oldest ${maxa} s)"
	if awk -v a="$maxo" -v l="$lim" 'BEGIN { exit !(a <= l) }'; then
		ok "every hostile connection the reflector closed was closed within ${lim} s (longest ${maxo} s)"
	else
		nok "hostile connections outlived the handshake deadline: closed after up to ${maxo} s (limit ${lim} s)"
	fi
	if ((old == 0)) || { ((old <= 64)) && [[ ${overflows:-0} -gt 0 ]]; }; then
		ok "no hostile connection held open beyond ${lim} s by the reflector ($old older, never accepted: listen queue overflows ${overflows:-0})"
	else
		nok "$old hostile connections open beyond ${lim} s at the end (oldest ${maxa} s, listen queue overflows ${overflows:-0})"
	fi
else
	nok "the hostile client wrote no summary: $(tail -c 300 "$T_DIR/hostile.log")"
fi
grep -q 'too many TLS handshakes' "$T_DIR/reflector.log" &&
	ok "the reflector's handshake budget was hit (and it says so)" ||
	nok "the reflector never reported a full handshake budget: was the load real?"

# 3. garbage, TLS 1.2 only, no client certificate: refused
before=$(sessions_started)
nsx "$NS_C" 10 "$PYTHON" -c 'import os, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=8)
s.sendall(os.urandom(4096))
try:
    while s.recv(4096):
        pass
except OSError:
    pass' "$SERVER4" "$REFLECTOR_PORT" >"$T_DIR/garbage.out" 2>&1 &&
	ok "garbage bytes: the reflector closed the connection" ||
	nok "garbage bytes: connection not closed within 8 s: $(tail -c 200 "$T_DIR/garbage.out")"
rc=0
nsx "$NS_C" 10 openssl s_client -tls1_2 -connect "$SERVER4:$REFLECTOR_PORT" \
	-CAfile "$CERTS/ca.crt" -cert "$CERTS/agent.crt" -key "$CERTS/agent.key" \
	</dev/null >"$T_DIR/tls12.out" 2>&1 || rc=$?
((rc != 0)) && ok "TLS 1.2 only client refused (s_client exit $rc)" ||
	nok "TLS 1.2 only client: s_client exit 0"
# stdin open for a moment: at once EOF could close before the alert came
nsx "$NS_C" 10 openssl s_client -tls1_3 -no_ign_eof \
	-connect "$SERVER4:$REFLECTOR_PORT" -CAfile "$CERTS/ca.crt" \
	< <(sleep 3) >"$T_DIR/nocert.out" 2>&1 || true
# TLS 1.3: the client's side of the handshake completes before the server
# has seen its (empty) certificate; the refusal is the server's alert.
grep -qi 'alert certificate required\|alert handshake failure' "$T_DIR/nocert.out" &&
	ok "no client certificate: refused with a TLS alert" ||
	nok "no client certificate: no alert from the reflector: $(head -c 600 "$T_DIR/nocert.out" | tr '\n' ' ')"
after=$(sessions_started)
((after == before)) && ok "no session started for garbage, TLS 1.2 or a missing certificate" ||
	nok "$((after - before)) session(s) started for an unauthenticated client"
n=$(grep -c 'TLS handshake failed' "$T_DIR/reflector.log" || true)
((n >= 3)) && ok "the reflector logged the failed handshakes ($n in all)" ||
	nok "only $n failed handshakes logged (want >= 3)"
run_agent "$BUILD" "$T_DIR/after.json"
check_agent "after the refused clients" "$T_DIR/after.json"
kill -0 "$REFLECTOR_PID" 2>/dev/null && ok "the reflector is still running" ||
	nok "the reflector died"
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T_DIR/reflector.log"; then
	nok "sanitizer report in the reflector log"
fi

# 4. forged trace multicasts in both hosts' namespaces during a check:
# the inputs that crashed libnftnl's parser, and well-formed events that
# claim a rule of table "forged" dropped the probes.  Trusted only from
# the kernel, none of them may stop a program or reach a verdict.
for side in S C; do
	ns=NS_$side
	bg_in_ns "${!ns}" "$T_DIR/forge-$side.out" "$PYTHON" "$HERE/forge_trace.py" \
		--seconds 6 --interval 0.005 --src "$CLIENT4" --dst "$SERVER4" \
		--dport-lo "$PASV_LO" --dport-hi $((PASV_LO + 4))
	eval "FORGE_$side=\$BG_PID"
done
sleep 0.5
# the forged control-port event too: a rule "dropped" 21
bg_in_ns "$NS_S" "$T_DIR/forge-21.out" "$PYTHON" "$HERE/forge_trace.py" \
	--seconds 5 --interval 0.005 --src "$CLIENT4" --dst "$SERVER4"
FORGE_21=$BG_PID
run_agent "$BUILD" "$T_DIR/forged.json"
frc=0
for p in "$FORGE_S" "$FORGE_C" "$FORGE_21"; do
	timeout 10 tail --pid="$p" -f /dev/null || true
	wait "$p" 2>/dev/null || frc=$?
done
log "forged multicasts: server $(cat "$T_DIR/forge-S.out"), client $(cat "$T_DIR/forge-C.out")"
if ((frc == 2)); then
	log "SKIP: forged trace multicasts could not be sent here"
else
	check_agent "while forged trace multicasts arrived" "$T_DIR/forged.json"
	if same_verdicts "$T_DIR/base.json" "$T_DIR/forged.json" >"$T_DIR/same.out" 2>&1; then
		ok "the same verdicts as without forged events"
	else
		nok "forged trace events changed verdicts: $(cat "$T_DIR/same.out")"
	fi
	if [[ ! -s $T_DIR/forged.json ]]; then
		nok "no agent report to look for forged events in"
	elif grep -q 'forged' "$T_DIR/forged.json"; then
		nok "a forged trace event reached the agent's report"
	else
		ok "no forged event in the agent's report"
	fi
	kill -0 "$REFLECTOR_PID" 2>/dev/null && ok "the reflector survived the forged multicasts" ||
		nok "the reflector died of forged trace multicasts"
fi

# 5. max_sessions = 1: silent unauthenticated connections (issue 10: 8 of
# them took every slot) leave the one slot to the agent; a held
# authenticated session does take it: the agent is told "busy", waits and
# tries again (issue 8: admission control, not a failure) until the held
# session ends at its lifetime, idle timer or not, then passes.
kill -TERM "$REFLECTOR_PID" 2>/dev/null || true
timeout 5 tail --pid="$REFLECTOR_PID" -f /dev/null || true
wait "$REFLECTOR_PID" 2>/dev/null || true
start_reflector "$BUILD" "max_sessions = 1" "session_lifetime = 2" \
	"session_timeout = 60"
bg_in_ns "$NS_C" "$T_DIR/hostile2.log" "$PYTHON" "$HERE/hostile_client.py" \
	--server "$SERVER4" --port "$REFLECTOR_PORT" --src "$HOSTILE_SRC" \
	--idle 24 --trickle 0 --duration 4 --out "$T_DIR/hostile2.json"
H2=$BG_PID
sleep 1
run_agent "$BUILD" "$T_DIR/one.json"
check_agent "max_sessions = 1 with 24 silent connections" "$T_DIR/one.json"
timeout 10 tail --pid="$H2" -f /dev/null || true
wait "$H2" 2>/dev/null || true
t0=$(date +%s%N)
# stdin stays open (a pipeline would wait for its sleep): only the
# reflector can end this session
nsx "$NS_C" 10 openssl s_client -tls1_3 -quiet -no_ign_eof \
	-connect "$SERVER4:$REFLECTOR_PORT" -CAfile "$CERTS/ca.crt" \
	-cert "$CERTS/agent.crt" -key "$CERTS/agent.key" \
	< <(sleep 8) >"$T_DIR/lifetime.out" 2>&1 &
HOLD=$!
sleep 0.5
run_agent "$BUILD" "$T_DIR/full.json"
check_agent "max_sessions = 1 held by another session" "$T_DIR/full.json"
if grep -q 'the reflector was busy (it serves its maximum number of sessions): [1-9][0-9]* wait(s)' \
	"$T_DIR/full.json" && grep -q 'busy, retry after [0-9]* ms' "$T_DIR/reflector.log"; then
	ok "the held slot: the reflector answered busy, the agent waited (its report says so) and got the slot"
else
	nok "with the one slot held: no busy wait in the report or the log (exit $AGENT_RC, ${AGENT_MS} ms): $(grep -o 'reflector was busy[^"]*' "$T_DIR/full.json")"
fi
wait "$HOLD" 2>/dev/null || true
ms=$((($(date +%s%N) - t0) / 1000000))
if ((ms < 6000)) && grep -q 'lifetime of 2s reached' "$T_DIR/reflector.log"; then
	ok "an authenticated, silent session was closed at its 2 s lifetime (after $ms ms)"
else
	nok "session_lifetime = 2: the session lasted $ms ms: $(grep -i lifetime "$T_DIR/reflector.log" | head -2)"
fi

echo "$PASS passed, $FAIL failed"
((FAIL == 0))

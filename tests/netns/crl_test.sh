#!/usr/bin/env bash
# tests/netns/crl_test.sh BUILD - certificate revocation and SIGHUP reload.
#
# The reflector runs in the server namespace with crl = a CRL (made by
# ftpath-certs crl) that does not list agent2, under a stand-in for
# systemd's notification socket (notify_listen.py, NOTIFY_SOCKET):
#   1. READY=1 arrives, and the control port listens when it does;
#      agent1 and agent2 both pass (exit 0, every path);
#   2. an authenticated session (held_session.py, agent1) is opened;
#      agent2 is revoked (ftpath-certs revoke), the CRL regenerated, the
#      reflector sent SIGHUP by its PID: RELOADING=1 then READY=1, the
#      same PID still runs (no restart), agent2 is refused (exit 3; the
#      agent's notes say the reflector refused the certificate as
#      revoked; the reflector's log names agent2's serial and subject),
#      agent1 still passes, and the held session answers a ping after
#      the reload;
#   3. a reload with a corrupt CRL logs the file and keeps the old one:
#      agent2 stays refused, agent1 passes; -n names the file (exit 2),
#      and a CRL of another CA is refused by -n too;
#   4. a reload that changes listen says it needs a restart and keeps
#      listening where it did;
#   5. ftpath-certs renew: the renewed agent1 passes; allowed_agents
#      (reloaded) refuses agent1 until a pattern matches it; the agent's
#      --crl: passes while the CRL does not list the
#      reflector, a missing file is exit 2 naming it, the reflector's
#      certificate revoked is exit 3 "certificate revoked"; SIGTERM sends
#      STOPPING=1.
# Prints "N passed, M failed"; exit 0 only if M is 0.
set -euo pipefail

BUILD=${1:?usage: crl_test.sh BUILD}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"

[[ $(id -u) -eq 0 ]] || { echo "SKIP: crl_test.sh needs root"; exit 1; }
need_tools openssl vsftpd || { echo "SKIP: crl_test.sh: tools missing"; exit 1; }
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); log "ok:   $*"; }
nok() { FAIL=$((FAIL + 1)); log "FAIL: $*"; }
CERTS_CMD=$REPO_DIR/deploy/ftpath-certs
REFL=$(realpath "$BUILD/ftpath-reflector")

# check_pass WHAT AGENT: agent AGENT exits 0, every path passes.
check_pass() {
	AGENT_CERT=$2 run_agent "$BUILD" "$T_DIR/$2.json"
	if "$PYTHON" "$HERE/check_json.py" --json "$T_DIR/$2.json" --rc "$AGENT_RC" \
		--want-rc 0 --probe control=pass --probe passive=pass \
		--probe active=pass --passive-ports "$PASV_LO-$PASV_HI" \
		--causes-exactly "" >"$T_DIR/check.out" 2>&1; then
		ok "$1: $2 exit 0, every path passes"
	else
		nok "$1: $2: $(grep '^FAIL' "$T_DIR/check.out" | tr '\n' ' ') (exit $AGENT_RC: $(tail -n 2 "$T_DIR/agent.err" | tr '\n' ' '))"
	fi
}

# check_revoked WHAT: agent2 exits 3 and its JSON notes say the reflector
# refused its certificate as revoked.
check_revoked() {
	AGENT_CERT=agent2 run_agent "$BUILD" "$T_DIR/agent2.json"
	if ((AGENT_RC != 3)); then
		nok "$1: agent2 exit $AGENT_RC (want 3): $(tail -n 2 "$T_DIR/agent.err" | tr '\n' ' ')"
		return
	fi
	if "$PYTHON" - "$T_DIR/agent2.json" >"$T_DIR/notes.out" 2>&1 <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
notes = " ".join(d["notes"])
print(notes[:300])
assert d["probes"] == [], "no probe without a session"
assert "refused the agent certificate" in notes and "revoked" in notes, notes
PY
		ok "$1: agent2 exit 3, its report says: $(head -c 200 "$T_DIR/notes.out")"
	else
		nok "$1: agent2's report does not say the certificate was refused as revoked: $(tail -c 400 "$T_DIR/notes.out")"
	fi
}

# wait_log PATTERN [TENTHS]: until the reflector's log has a line
# matching the extended regex, bounded.
wait_log() {
	local i
	for ((i = 0; i < ${2:-50}; i++)); do
		grep -qE "$1" "$T_DIR/reflector.log" && return 0
		sleep 0.1
	done
	return 1
}

# wait_notify PATTERN [TENTHS]: the same for the notifications.
wait_notify() {
	local i
	for ((i = 0; i < ${2:-50}; i++)); do
		grep -qE "$1" "$T_DIR/notify.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# hup WHAT: SIGHUP the reflector by its PID, wait for the reload's
# outcome line (n-th reload: the count of "SIGHUP:" lines grows).
hup() {
	local before
	before=$(grep -c 'SIGHUP: reloading' "$T_DIR/reflector.log" || true)
	kill -HUP "$REFLECTOR_PID"
	local i
	for ((i = 0; i < 50; i++)); do
		(($(grep -c 'reload: .* reloaded\|reload failed' "$T_DIR/reflector.log" || true) > before)) && break
		sleep 0.1
	done
	# the line with the outcome may follow the SIGHUP line at once
	sleep 0.2
}

topo_init crl
topo_up
start_vsftpd
# a CA of this run's own: revoking needs its key (the shared set has none)
FTPATH_CERTS="" make_certs
"$CERTS_CMD" agent "$CERTS" agent1 >/dev/null
"$CERTS_CMD" agent "$CERTS" agent2 >/dev/null
"$CERTS_CMD" crl "$CERTS" >/dev/null
SERIAL2=$(openssl x509 -in "$CERTS/agent2.crt" -noout -serial)
SERIAL2=${SERIAL2#serial=}

# systemd's notification socket, stood in for in the server namespace
bg_in_ns "$NS_S" "$T_DIR/notify.out" "$PYTHON" "$HERE/notify_listen.py" \
	"$T_DIR/notify.sock" "$T_DIR/notify.log" "$SERVER4" "$REFLECTOR_PORT" 300
NOTIFY_PID=$BG_PID
for ((i = 0; i < 50; i++)); do
	[[ -S $T_DIR/notify.sock ]] && break
	sleep 0.1
done
[[ -S $T_DIR/notify.sock ]] || die "notify_listen.py did not bind its socket"
export NOTIFY_SOCKET=$T_DIR/notify.sock
start_reflector "$BUILD" "crl = $CERTS/ca.crl"
unset NOTIFY_SOCKET
PID0=$REFLECTOR_PID

# 1. readiness, and both agents pass
if wait_notify '^READY=1' 50 && grep -q '^READY=1.*(port open)' "$T_DIR/notify.log"; then
	ok "sd_notify: READY=1 once the control port listens ($(grep -m1 '^READY=1' "$T_DIR/notify.log"))"
else
	nok "sd_notify: no READY=1 with the port open: $(tr '\n' ';' <"$T_DIR/notify.log" 2>/dev/null)"
fi
wait_log "CRL $CERTS/ca.crl: 0 revoked" 1 &&
	ok "the reflector loaded the CRL (0 revoked)" ||
	nok "no CRL load line in the reflector log"
check_pass "CRL without agent2" agent1
check_pass "CRL without agent2" agent2

# 2. a session in flight, then revoke agent2 and reload
bg_in_ns "$NS_C" "$T_DIR/held.out" "$PYTHON" "$HERE/held_session.py" \
	--server "$SERVER4" --port "$REFLECTOR_PORT" --cert "$CERTS/agent1.crt" \
	--key "$CERTS/agent1.key" --ca "$CERTS/ca.crt" --go "$T_DIR/held.go" --wait 120
HELD_PID=$BG_PID
for ((i = 0; i < 50; i++)); do
	grep -q welcome "$T_DIR/held.out" 2>/dev/null && break
	sleep 0.1
done
grep -q welcome "$T_DIR/held.out" && ok "a session is open before the reload" ||
	nok "the held session did not start: $(cat "$T_DIR/held.out")"
"$CERTS_CMD" --reason keyCompromise revoke "$CERTS" agent2 >"$T_DIR/revoke.out" 2>&1 ||
	die "ftpath-certs revoke failed: $(cat "$T_DIR/revoke.out")"
log "$(tr '\n' ' ' <"$T_DIR/revoke.out")"
hup "revoke"
if grep -q "reload: .* reloaded (.*CRL $CERTS/ca.crl: 1 revoked)" "$T_DIR/reflector.log"; then
	ok "SIGHUP: the reflector reloaded the CRL (1 revoked)"
else
	nok "SIGHUP: no reload line: $(grep -i 'reload' "$T_DIR/reflector.log" | tail -3 | tr '\n' ' ')"
fi
if wait_notify 'RELOADING=1' 30 && "$PYTHON" - "$T_DIR/notify.log" <<'PY'; then
import sys
lines = open(sys.argv[1]).read().splitlines()
r = [i for i, l in enumerate(lines) if l.startswith("RELOADING=1")]
assert r and "MONOTONIC_USEC=" in lines[r[0]], lines
assert any(l.startswith("READY=1") for l in lines[r[0] + 1:]), lines
PY
	ok "sd_notify: RELOADING=1 (with MONOTONIC_USEC) then READY=1 around the reload"
else
	nok "sd_notify around the reload: $(tr '\n' ';' <"$T_DIR/notify.log")"
fi
[[ $REFLECTOR_PID == "$PID0" ]] && kill -0 "$PID0" 2>/dev/null &&
	ok "the same reflector process (pid $PID0) runs on: no restart" ||
	nok "the reflector (pid $PID0) is gone after SIGHUP"
check_revoked "agent2 revoked"
if grep -q "certificate serial $SERIAL2, subject /O=ftpath/CN=agent2 is revoked by the CRL.*keyCompromise" \
	"$T_DIR/reflector.log"; then
	ok "the reflector log names the revoked certificate: $(grep -m1 "serial $SERIAL2" "$T_DIR/reflector.log" | cut -c1-200)"
else
	nok "no log line naming serial $SERIAL2 as revoked: $(grep -i 'revoked\|handshake failed' "$T_DIR/reflector.log" | tail -2 | tr '\n' ' ')"
fi
check_pass "agent2 revoked" agent1
touch "$T_DIR/held.go"
timeout 15 tail --pid="$HELD_PID" -f /dev/null || true
hrc=0
wait "$HELD_PID" 2>/dev/null || hrc=$?
if ((hrc == 0)) && grep -q pong "$T_DIR/held.out"; then
	ok "the session open across the reload still answers (pong)"
else
	nok "the session open across the reload was cut (exit $hrc): $(tr '\n' ' ' <"$T_DIR/held.out")"
fi

# 3. a corrupt CRL: the reload fails naming it, the old CRL stays
cp -p "$CERTS/ca.crl" "$T_DIR/good.crl"
head -c 180 "$T_DIR/good.crl" >"$CERTS/ca.crl"
hup "corrupt CRL"
if grep -q "reload failed: $CERTS/ca.crl: damaged CRL.*running configuration is unchanged" \
	"$T_DIR/reflector.log"; then
	ok "a corrupt CRL: $(grep -m1 'reload failed' "$T_DIR/reflector.log" | cut -c1-160)"
else
	nok "a corrupt CRL: no failure naming the file: $(grep -i reload "$T_DIR/reflector.log" | tail -2 | tr '\n' ' ')"
fi
check_pass "after the corrupt CRL" agent1
check_revoked "after the corrupt CRL (the old CRL still in force)"
rc=0
nsx "$NS_S" 10 "$REFL" -c "$T_DIR/reflector.conf" -n >/dev/null 2>"$T_DIR/n.err" || rc=$?
if ((rc == 2)) && grep -q "$CERTS/ca.crl: damaged CRL" "$T_DIR/n.err"; then
	ok "-n with the corrupt CRL: exit 2, $(head -c 120 "$T_DIR/n.err")"
else
	nok "-n with the corrupt CRL: exit $rc: $(head -c 300 "$T_DIR/n.err")"
fi
mkdir -p "$T_DIR/other"
"$CERTS_CMD" ca "$T_DIR/other" >/dev/null
"$CERTS_CMD" crl "$T_DIR/other" >/dev/null
rc=0
nsx "$NS_S" 10 "$REFL" -c "$T_DIR/reflector.conf" --crl "$T_DIR/other/ca.crl" -n \
	>/dev/null 2>"$T_DIR/n.err" || rc=$?
if ((rc == 2)) && grep -q "$T_DIR/other/ca.crl: the CRL's signature does not verify against CA" "$T_DIR/n.err"; then
	ok "-n with another CA's CRL: exit 2, $(head -c 140 "$T_DIR/n.err")"
else
	nok "-n with another CA's CRL: exit $rc: $(head -c 300 "$T_DIR/n.err")"
fi

# 4. restart-only settings, then the end
cp -p "$T_DIR/good.crl" "$CERTS/ca.crl"
sed -i "s/^listen = .*/listen = [::]:$((REFLECTOR_PORT + 1))/" "$T_DIR/reflector.conf"
hup "listen changed"
# the outcome line after the warning: the reload itself went on
if awk -v w="listen = [::]:$((REFLECTOR_PORT + 1)) needs a restart; still listening on [::]:$REFLECTOR_PORT" '
	index($0, w) { seen = 1; next }
	seen && /reload: .* reloaded/ { ok = 1; exit }
	seen && /reload failed/ { exit }
	END { exit !ok }' "$T_DIR/reflector.log" && wait_listen "$NS_S" "$REFLECTOR_PORT" 10; then
	ok "a changed listen: the log says it needs a restart, the reload goes on, $REFLECTOR_PORT still listens"
else
	nok "a changed listen: $(grep -i 'listen\|reload' "$T_DIR/reflector.log" | tail -3 | tr '\n' ' ')"
fi
# 5a. ftpath-certs renew: agent1's new certificate (same key) is
# accepted; the old one, revoked as superseded after a reload, is refused
"$CERTS_CMD" renew "$CERTS" agent1 >"$T_DIR/renew.out" 2>&1 &&
	! cmp -s "$CERTS/agent1.crt" "$CERTS/agent1.crt.old" &&
	ok "ftpath-certs renew agent1: a new certificate, the old kept as agent1.crt.old" ||
	nok "ftpath-certs renew agent1: $(tail -c 300 "$T_DIR/renew.out")"
check_pass "the renewed certificate" agent1

# 5b. allowed_agents, picked up by a reload: a name no pattern matches is
# refused after the handshake (exit 3, the report says so, the log names
# it), one that matches passes
echo "allowed_agents = site-*, ops?" >>"$T_DIR/reflector.conf"
hup "allowed_agents = site-*, ops?"
AGENT_CERT=agent1 run_agent "$BUILD" "$T_DIR/allow0.json"
if ((AGENT_RC == 3)) && grep -q "not in the reflector's allowed_agents" "$T_DIR/allow0.json" &&
	grep -q 'agent certificate "agent1" matches no allowed_agents pattern' "$T_DIR/reflector.log"; then
	ok "allowed_agents without agent1: refused (exit 3), the report and the log say why"
else
	nok "allowed_agents without agent1: exit $AGENT_RC: $(grep -o '"notes".*' "$T_DIR/allow0.json" | head -c 300)"
fi
sed -i 's/^allowed_agents = .*/allowed_agents = agent?, site-*/' "$T_DIR/reflector.conf"
hup "allowed_agents = agent?, site-*"
check_pass "allowed_agents = agent?, site-*" agent1
sed -i '/^allowed_agents = /d' "$T_DIR/reflector.conf"
hup "allowed_agents removed"

# 5. the agent's own --crl: the reflector's certificate, revoked, is
# refused by the agent (exit 3, saying why); without --crl it passes
AGENT_CERT=agent1 run_agent "$BUILD" "$T_DIR/acrl0.json" --crl "$CERTS/ca.crl"
((AGENT_RC == 0)) && ok "agent --crl with the reflector not listed: exit 0" ||
	nok "agent --crl with the reflector not listed: exit $AGENT_RC: $(tail -n 2 "$T_DIR/agent.err" | tr '\n' ' ')"
AGENT_CERT=agent1 run_agent "$BUILD" "$T_DIR/acrl1.json" --crl /nonexistent.ftpath.crl
((AGENT_RC == 2)) && grep -q -- '--crl /nonexistent.ftpath.crl' "$T_DIR/agent.err" &&
	ok "agent --crl with a missing file: exit 2 naming it" ||
	nok "agent --crl with a missing file: exit $AGENT_RC: $(tail -n 2 "$T_DIR/agent.err" | tr '\n' ' ')"
"$CERTS_CMD" revoke "$CERTS" reflector >"$T_DIR/revoke-refl.out" 2>&1 ||
	nok "ftpath-certs revoke reflector: $(tail -c 300 "$T_DIR/revoke-refl.out")"
AGENT_CERT=agent1 run_agent "$BUILD" "$T_DIR/acrl2.json" --crl "$CERTS/ca.crl"
if ((AGENT_RC == 3)) && grep -q "reflector's certificate failed verification: certificate revoked" \
	"$T_DIR/acrl2.json"; then
	ok "agent --crl listing the reflector's certificate: exit 3, 'certificate revoked' in the report"
else
	nok "agent --crl listing the reflector: exit $AGENT_RC: $(grep -o '"notes".*' "$T_DIR/acrl2.json" | head -c 300)"
fi
AGENT_CERT=agent1 run_agent "$BUILD" "$T_DIR/acrl3.json"
((AGENT_RC == 0)) && ok "the same agent without --crl: exit 0" ||
	nok "the same agent without --crl: exit $AGENT_RC"

kill -TERM "$REFLECTOR_PID"
timeout 5 tail --pid="$REFLECTOR_PID" -f /dev/null || true
wait "$REFLECTOR_PID" 2>/dev/null || true
wait_notify '^STOPPING=1' 30 && ok "sd_notify: STOPPING=1 at SIGTERM" ||
	nok "no STOPPING=1: $(tr '\n' ';' <"$T_DIR/notify.log")"
timeout 5 tail --pid="$NOTIFY_PID" -f /dev/null || true
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T_DIR/reflector.log"; then
	nok "sanitizer report in the reflector log"
fi

echo "$PASS passed, $FAIL failed"
((FAIL == 0))

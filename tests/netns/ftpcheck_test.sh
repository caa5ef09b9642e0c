#!/usr/bin/env bash
# tests/netns/ftpcheck_test.sh [DRIVER] - agent/ftpcheck against a real
# vsftpd through the lib.sh topology (client -- router -- server
# namespaces, documentation addresses only).
#
# Scenarios: clean (banner 220, login, a transfer in EPSV/PASV/EPRT/PORT,
# active from port 20), max_per_ip=1 with a connection held open (421 text
# captured), pasv_address=192.0.2.99 (the 227 names an address the router
# has no route to: the data connect fails fast with an ICMP unreachable),
# ssl_enable with a self-signed certificate (AUTH TLS 234, self-signed),
# then FTPS (PBSZ 0, PROT P) in every mode with vsftpd's default
# require_ssl_reuse=YES (each data connection resumes the TLS session).
#
# DRIVER: a built ftpcheck_driver (default: build/tests/ftpcheck_driver,
# else built here by hand).  Prints "N passed, M failed"; exit 0 only if
# M is 0.  Exits 77 with SKIP when it cannot run.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PASS=0
FAIL=0
TIMEOUT_MS=3000

skip() { echo "SKIP: $*"; exit 77; }
ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
nok() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }

[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces)"
for t in ip vsftpd python3 openssl timeout ss; do
	command -v "$t" >/dev/null 2>&1 || skip "'$t' not installed"
done

# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"
export FTPATH_RUNID=${FTPATH_RUNID:-fc$$}
LIB_QUIET=${LIB_QUIET:-1}
topo_init fcheck

DRIVER=${1:-}
if [[ -z $DRIVER && -x $ROOT/build/tests/ftpcheck_driver ]]; then
	DRIVER=$ROOT/build/tests/ftpcheck_driver
fi
if [[ -z $DRIVER ]]; then
	DRIVER=$T_DIR/ftpcheck_driver
	# shellcheck disable=SC2046
	(cd "$ROOT" && cc -std=c11 -D_GNU_SOURCE -O1 -g -Icommon -Iagent \
		$(pkg-config --cflags libevent libevent_openssl openssl jansson) \
		-o "$DRIVER" tests/netns/ftpcheck_driver.c agent/ftpcheck.c \
		agent/ftpcheck_reply.c agent/ftpcheck_tls.c \
		common/addr.c common/err.c common/errq.c common/log.c \
		$(pkg-config --libs libevent libevent_openssl openssl jansson)) ||
		skip "could not build ftpcheck_driver"
fi
DRIVER=$(realpath "$DRIVER")

topo_up

# jcheck JSON DESC PYEXPR: PYEXPR over j (the driver's JSON) must be true;
# every run must also have reported completion exactly once.
jcheck() {
	local f=$1 d=$2 e="j.get(\"done_calls\") == 1 and ($3)"
	if "$PYTHON" -c 'import json,sys
j=json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$f" "$e" 2>>"$T_DIR/py.err"; then
		ok "$d"
	else
		nok "$d    [$e]"
		FAILED_JSON+=("$f")
	fi
}
FAILED_JSON=()

# run_check OUT [driver args...]: the driver in the client ns, bounded.
run_check() {
	local out=$1
	shift
	nsx "$NS_C" 60 "$DRIVER" -t "$TIMEOUT_MS" "$@" >"$out" \
		2>"$out.err" || echo '{}' >"$out"
}

VS_PID=""
vsftpd_up() {
	start_vsftpd "$@"
	VS_PID=$BG_PID
}
# Stop our vsftpd (by PID) and whatever sessions it forked in the server
# ns (every process there is ours), until port 21 is free again.
vsftpd_down() {
	local i p
	[[ -n $VS_PID ]] && kill -TERM "$VS_PID" 2>/dev/null
	for i in $(seq 1 50); do
		for p in $(ip netns pids "$NS_S" 2>/dev/null); do
			kill -TERM "$p" 2>/dev/null || true
		done
		if ! nsx "$NS_S" 3 ss -Htln 'sport = :21' | grep -q . &&
			[[ -z $(ip netns pids "$NS_S" 2>/dev/null) ]]; then
			break
		fi
		sleep 0.1
	done
	[[ -n $VS_PID ]] && wait "$VS_PID" 2>/dev/null
	VS_PID=""
}

LEN=$((${#TEST_CONTENT} + 1))

# --- clean: all four modes move the file --------------------------------
vsftpd_up
J=$T_DIR/clean.json
run_check "$J" -f /file "$SERVER4"
jcheck "$J" "clean: banner 220" 'j["banner"]["code"] == 220'
jcheck "$J" "clean: anonymous login 230" \
	'j["logged_in"] and 230 in (j["user"]["code"], j["pass"]["code"])'
jcheck "$J" "clean: control local address is the client's" \
	'j["control"]["local_addr"] == "'"$CLIENT4"'"'
jcheck "$J" "clean: PASV 227 names $SERVER4" \
	'j["modes"]["PASV"]["reply"]["code"] == 227 and j["modes"]["PASV"]["adv_addr"] == "'"$SERVER4"'" and not j["modes"]["PASV"]["adv_differs"]'
for m in EPSV PASV EPRT PORT; do
	jcheck "$J" "clean: $m transfer of the test file ($LEN bytes)" \
		'j["modes"]["'$m'"]["ok"] and j["modes"]["'$m'"]["bytes"] == '$LEN' and j["modes"]["'$m'"]["done"]["code"] == 226'
done
jcheck "$J" "clean: EPSV uses the dialled address" \
	'j["modes"]["EPSV"]["adv_addr"] == "'"$SERVER4"'"'
for m in EPRT PORT; do
	jcheck "$J" "clean: $m data connection from $SERVER4 port 20" \
		'j["modes"]["'$m'"]["peer_port"] == 20 and j["modes"]["'$m'"]["peer_addr"] == "'"$SERVER4"'" and j["modes"]["'$m'"]["peer_is_server"]'
done
jcheck "$J" "clean: PORT line carries the client address" \
	'j["modes"]["PORT"]["cmd"].startswith("PORT 198,51,100,2,")'
jcheck "$J" "clean: EPRT line carries the client address" \
	'j["modes"]["EPRT"]["cmd"].startswith("EPRT |1|'"$CLIENT4"'|")'
jcheck "$J" "clean: session ran to QUIT" 'j["aborted"] == ""'
J=$T_DIR/list.json
run_check "$J" -m EPSV "$SERVER4"
jcheck "$J" "clean: LIST / over EPSV" \
	'j["modes"]["EPSV"]["ok"] and j["modes"]["EPSV"]["bytes"] > 0 and not j["modes"]["PASV"]["attempted"]'
J=$T_DIR/nofile.json
run_check "$J" -m PASV -f /nonexistent "$SERVER4"
jcheck "$J" "clean: RETR of a missing file -> 550, not ok" \
	'j["modes"]["PASV"]["xfer"]["code"] == 550 and not j["modes"]["PASV"]["ok"]'
vsftpd_down

# --- IPv6: EPSV and EPRT only --------------------------------------------
VSFTPD_FAMILY=6 vsftpd_up
J=$T_DIR/v6.json
run_check "$J" -f /file "$SERVER6"
jcheck "$J" "IPv6: EPSV and EPRT move the file, PASV/PORT skipped" \
	'j["modes"]["EPSV"]["ok"] and j["modes"]["EPRT"]["ok"] and j["modes"]["PASV"]["skipped"] == "IPv4 only" and not j["modes"]["PORT"]["attempted"]'
jcheck "$J" "IPv6: EPRT names the client's v6 address, data from port 20" \
	'j["modes"]["EPRT"]["cmd"].startswith("EPRT |2|'"$CLIENT6"'|") and j["modes"]["EPRT"]["peer_port"] == 20 and j["modes"]["EPSV"]["adv_addr"] == "'"$SERVER6"'"'
vsftpd_down

# --- service refused: max_per_ip=1 and one connection held ----------------
vsftpd_up "max_per_ip=1"
HOLD_LOG=$T_DIR/hold.log
bg_in_ns "$NS_C" "$HOLD_LOG" "$PYTHON" -c 'import socket,sys,time
s=socket.create_connection((sys.argv[1],21),timeout=5)
print(s.recv(200).decode(errors="replace").strip(),flush=True)
time.sleep(30)' "$SERVER4"
HOLD_PID=$BG_PID
for _ in $(seq 1 50); do
	grep -q '^220' "$HOLD_LOG" 2>/dev/null && break
	sleep 0.1
done
J=$T_DIR/refused.json
run_check "$J" "$SERVER4"
jcheck "$J" "refused: banner 421" 'j["banner"]["code"] == 421'
jcheck "$J" "refused: the 421 text is captured" \
	'"too many connections" in j["banner"]["text"].lower()'
jcheck "$J" "refused: no login attempted" \
	'not j["logged_in"] and j["user"]["code"] == 0'
kill -TERM "$HOLD_PID" 2>/dev/null
vsftpd_down

# --- pasv-address: 227 names 192.0.2.99, nothing routes there --------------
BOGUS=192.0.2.99
if tcp_answers "$NS_C" "$BOGUS" "$PASV_LO"; then
	nok "pasv-address: $BOGUS must not answer from the client ns"
fi
vsftpd_up "pasv_address=$BOGUS"
J=$T_DIR/pasvaddr.json
run_check "$J" -f /file "$SERVER4"
jcheck "$J" "pasv-address: 227 names $BOGUS" \
	'j["modes"]["PASV"]["reply"]["code"] == 227 and j["modes"]["PASV"]["adv_addr"] == "'"$BOGUS"'" and j["modes"]["PASV"]["adv_differs"]'
jcheck "$J" "pasv-address: the PASV data connect fails" \
	'not j["modes"]["PASV"]["connected"] and j["modes"]["PASV"]["data_err"] != "" and not j["modes"]["PASV"]["ok"]'
jcheck "$J" "pasv-address: it fails within the bound ($TIMEOUT_MS ms)" \
	'j["modes"]["PASV"]["elapsed_ms"] <= '$((TIMEOUT_MS + 500))
jcheck "$J" "pasv-address: an ICMP unreachable says why" \
	'j["modes"]["PASV"]["icmp"] is not None and "unreach" in (j["modes"]["PASV"]["icmp"] + j["modes"]["PASV"]["data_err"]).lower()'
jcheck "$J" "pasv-address: EPSV (port only) still works" \
	'j["modes"]["EPSV"]["ok"] and j["modes"]["EPSV"]["adv_addr"] == "'"$SERVER4"'"'
jcheck "$J" "pasv-address: the session goes on to active mode" \
	'j["modes"]["PORT"]["ok"] and j["aborted"] == ""'
vsftpd_down

# --- pasv-address, black-holed: no ICMP, the connect must time out --------
ip -n "$NS_R" route add blackhole "$BOGUS/32"
vsftpd_up "pasv_address=$BOGUS"
J=$T_DIR/pasvhole.json
run_check "$J" -f /file -m PASV,EPSV "$SERVER4"
jcheck "$J" "pasv-address (silent): the data connect times out in the bound" \
	'j["modes"]["PASV"]["data_timed_out"] and not j["modes"]["PASV"]["connected"] and '$((TIMEOUT_MS - 100))' <= j["modes"]["PASV"]["elapsed_ms"] <= '$((TIMEOUT_MS + 500))
jcheck "$J" "pasv-address (silent): the session goes on, EPSV works" \
	'j["modes"]["EPSV"]["ok"] and j["aborted"] == ""'
vsftpd_down
ip -n "$NS_R" route del blackhole "$BOGUS/32"

# --- active blocked at the client: vsftpd gives up with 425 -----------------
ns_nft "$NS_C" client-drop20 'table inet harness_filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp sport 20 drop
	}
}'
vsftpd_up "connect_timeout=1"
J=$T_DIR/active425.json
run_check "$J" -f /file -m EPRT,PORT "$SERVER4"
jcheck "$J" "active blocked: EPRT accepted (200), no data connection, 425" \
	'j["modes"]["EPRT"]["reply"]["code"] == 200 and not j["modes"]["EPRT"]["connected"] and j["modes"]["EPRT"]["xfer"]["code"] == 425 and not j["modes"]["EPRT"]["ok"]'
jcheck "$J" "active blocked: PORT also 425, session intact" \
	'j["modes"]["PORT"]["xfer"]["code"] == 425 and j["aborted"] == ""'
J=$T_DIR/active-timeout.json
run_check "$J" -t 500 -f /file -m EPRT,PORT "$SERVER4"
jcheck "$J" "active blocked, short bound: the wait is cut, session ends with a reason" \
	'j["modes"]["EPRT"]["xfer"]["timed_out"] and not j["modes"]["PORT"]["attempted"] and "timed out" in j["aborted"] and j["elapsed_ms"] < 3000'
vsftpd_down
nsx "$NS_C" 5 nft delete table inet harness_filter

# --- AUTH TLS with a self-signed certificate --------------------------------
CERT=$T_DIR/ftps.pem
if openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	-subj "/CN=ftp.example.test" -addext "subjectAltName=DNS:ftp.example.test" \
	-keyout "$CERT" -out "$CERT" >/dev/null 2>&1; then
	chmod 0600 "$CERT"
	vsftpd_up "ssl_enable=YES" "rsa_cert_file=$CERT" "rsa_private_key_file=$CERT" \
		"allow_anon_ssl=YES" "force_anon_logins_ssl=NO" "force_anon_data_ssl=NO" \
		"require_ssl_reuse=NO"
	J=$T_DIR/tls.json
	run_check "$J" -T -n ftp.example.test -m EPSV "$SERVER4"
	jcheck "$J" "tls: AUTH TLS 234" 'j["tls"]["reply"]["code"] == 234'
	jcheck "$J" "tls: handshake completes" 'j["tls"]["handshake_ok"]'
	jcheck "$J" "tls: self-signed recorded" \
		'j["tls"]["self_signed"] and "self" in j["tls"]["verify_error"].lower()'
	jcheck "$J" "tls: subject and SAN recorded, name matches" \
		'"ftp.example.test" in j["tls"]["subject"] and j["tls"]["sans"] == "DNS:ftp.example.test" and j["tls"]["name_match"]'
	jcheck "$J" "tls: plain session still transfers" 'j["modes"]["EPSV"]["ok"]'
	jcheck "$J" "ftps: PBSZ 0 / PROT P accepted over TLS" \
		'j["ftps"]["logged_in"] and j["ftps"]["pbsz"]["code"] == 200 and j["ftps"]["prot_ok"]'
	jcheck "$J" "ftps: EPSV transfer over TLS, only the mode plain FTP ran" \
		'j["ftps"]["modes"]["EPSV"]["ok"] and j["ftps"]["modes"]["EPSV"]["tls_ok"] and j["ftps"]["modes"]["EPSV"]["bytes"] > 0 and not j["ftps"]["modes"]["PASV"]["attempted"] and j["ftps"]["aborted"] == ""'
	J=$T_DIR/tls-ip.json
	run_check "$J" -T -m EPSV "$SERVER4"
	jcheck "$J" "tls: the address does not match the certificate" \
		'j["tls"]["handshake_ok"] and not j["tls"]["name_match"]'
	vsftpd_down
	# vsftpd's default require_ssl_reuse=YES: every data connection must
	# resume the control connection's TLS session
	vsftpd_up "ssl_enable=YES" "rsa_cert_file=$CERT" "rsa_private_key_file=$CERT" \
		"allow_anon_ssl=YES" "force_anon_logins_ssl=NO" "force_anon_data_ssl=NO"
	J=$T_DIR/ftps.json
	run_check "$J" -T -f /file "$SERVER4"
	for m in EPSV PASV EPRT PORT; do
		jcheck "$J" "ftps (require_ssl_reuse=YES): $m moves the file over TLS, session resumed" \
			'j["modes"]["'$m'"]["ok"] and j["ftps"]["modes"]["'$m'"]["ok"] and j["ftps"]["modes"]["'$m'"]["bytes"] == '$LEN' and j["ftps"]["modes"]["'$m'"]["tls_resumed"] and j["ftps"]["modes"]["'$m'"]["tls_error"] == ""'
	done
	jcheck "$J" "ftps: the session ran to QUIT" 'j["ftps"]["aborted"] == ""'
	vsftpd_down
else
	nok "tls: could not make a self-signed certificate"
fi

# --- nothing listening: control connect refused -----------------------------
J=$T_DIR/closed.json
run_check "$J" "$SERVER4"
jcheck "$J" "no server: control connect refused, recorded" \
	'not j["control"]["connected"] and "refused" in j["control"]["err"].lower() and j["aborted"] != ""'

# --- no route at all: connect() fails at once, reported once -------------
ip -n "$NS_C" route del default
J=$T_DIR/noroute.json
run_check "$J" -T "$SERVER4"
jcheck "$J" "no route: immediate control connect failure, recorded" \
	'not j["control"]["connected"] and "unreachable" in j["control"]["err"].lower() and j["aborted"] != "" and not j["tls"]["attempted"] and j["elapsed_ms"] < 1000'
ip -n "$NS_C" route add default via "$ROUTER_C4"

for f in $(printf '%s\n' "${FAILED_JSON[@]}" | sort -u); do
	echo "--- $f" >&2
	cat "$f" >&2
	cat "$f.err" >&2 2>/dev/null
done
echo "$PASS passed, $FAIL failed"
((FAIL == 0))

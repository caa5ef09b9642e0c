#!/usr/bin/env bash
# tests/netns/scenario.sh NAME BUILD [PIDFILE]
#
# One namespace scenario: topology + fault + vsftpd + reflector, the agent
# in the client namespace, its JSON checked, then real curl cross-checks.
# Exit 0 = every assertion holds.  Normally run by run.sh (in parallel).
#
# FTPATH_CURL_ONLY=1: topology, fault, vsftpd and curl only (harness
# self-test without the programs).
set -euo pipefail

NAME=${1:?usage: scenario.sh NAME BUILD [PIDFILE]}
BUILD=${2:?usage: scenario.sh NAME BUILD [PIDFILE]}
T_PIDFILE=${3:-}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"

CURL_ONLY=${FTPATH_CURL_ONLY:-0}
FAILS=0
fail() {
	log "FAIL: $*"
	FAILS=$((FAILS + 1))
}

# deploy: no namespaces - the certificate helper and the example config
deploy_checks() {
	local d rc out
	d=$(mktemp -d "${TMPDIR:-/tmp}/ftpath-deploy.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf -- '$d'" EXIT
	local certs=$REPO_DIR/deploy/ftpath-certs
	"$certs" --help >/dev/null || fail "ftpath-certs --help failed"
	"$certs" ca "$d" >/dev/null || fail "ftpath-certs ca failed"
	"$certs" reflector "$d" refl 203.0.113.2 2001:db8:2::2 ftp.example.net >/dev/null ||
		fail "ftpath-certs reflector failed"
	"$certs" agent "$d" ag >/dev/null || fail "ftpath-certs agent failed"
	for f in ca.key refl.key ag.key; do
		[[ $(stat -c %a "$d/$f" 2>/dev/null) == 600 ]] || fail "$f is not mode 0600"
	done
	out=$(openssl x509 -in "$d/refl.crt" -noout -text 2>/dev/null)
	grep -q "TLS Web Server Authentication" <<<"$out" || fail "reflector cert lacks serverAuth"
	grep -q "IP Address:203.0.113.2" <<<"$out" || fail "reflector cert lacks IP SAN"
	grep -q "DNS:ftp.example.net" <<<"$out" || fail "reflector cert lacks DNS SAN"
	grep -q "prime256v1\|P-256" <<<"$out" || fail "reflector key is not P-256"
	openssl x509 -in "$d/ag.crt" -noout -text 2>/dev/null |
		grep -q "TLS Web Client Authentication" || fail "agent cert lacks clientAuth"
	openssl verify -CAfile "$d/ca.crt" "$d/refl.crt" "$d/ag.crt" >/dev/null 2>&1 ||
		fail "certificates do not verify against the CA"
	local sum
	sum=$(sha256sum "$d/ca.key")
	rc=0
	"$certs" ca "$d" >/dev/null 2>&1 || rc=$?
	((rc != 0)) || fail "ftpath-certs ca overwrote an existing CA without --force"
	[[ $(sha256sum "$d/ca.key") == "$sum" ]] || fail "existing CA key changed"
	"$certs" --force agent "$d" ag >/dev/null 2>&1 || fail "--force did not overwrite"
	rc=0
	"$certs" reflector "$d" r2 'not a name!' >/dev/null 2>&1 || rc=$?
	((rc != 0)) || fail "ftpath-certs accepted a bad SAN"
	log "ftpath-certs: ok"

	[[ $CURL_ONLY == 1 ]] && return 0
	local refl
	refl=$(realpath "$BUILD/ftpath-reflector")
	# the example as deployed, with the certificates made above
	sed -e "s|/etc/ftpath/reflector.crt|$d/refl.crt|" \
		-e "s|/etc/ftpath/reflector.key|$d/refl.key|" \
		-e "s|/etc/ftpath/ca.crt|$d/ca.crt|" \
		"$REPO_DIR/deploy/reflector.conf.example" >"$d/good.conf"
	# the package creates the default user (ftpath); this host need not
	# have it, and -n as root checks that the user exists
	echo "user = nobody" >>"$d/good.conf"
	out=$("$refl" -c "$d/good.conf" -n 2>&1) ||
		fail "reflector -n rejects deploy/reflector.conf.example: $out"
	grep -q "passive_range = 30000-30099" <<<"$out" ||
		fail "reflector -n output lacks the example's passive_range"
	log "reflector.conf.example: ok"
	deploy_check_n "$refl" "$d"
}

# refl_n_fails WHAT WANT CONF [ARGS]: -n must exit non-zero and name WANT
# (the file, or file:line) in its message
refl_n_fails() {
	local what=$1 want=$2 conf=$3 rc=0 out
	shift 3
	out=$("$REFL_N" -c "$conf" -n "$@" 2>&1) || rc=$?
	if grep -q "Sanitizer" <<<"$out"; then
		fail "reflector -n on $what: sanitizer report (SAN=1 build): $out"
	elif ((rc == 0)); then
		fail "reflector -n accepted $what"
	elif ! grep -qF -- "$want" <<<"$out"; then
		fail "reflector -n on $what does not name $want: $out"
	else
		log "ok:   -n refuses $what: ${out#ftpath-reflector: }"
	fi
}

# deploy_check_n REFLECTOR DIR: ftpath-reflector -n loads and checks what
# the configuration names, failing with the file for each mistake
deploy_check_n() {
	REFL_N=$1
	local d=$2 out
	n_conf() { # n_conf NAME CERT KEY CA [EXTRA LINE]: a config file
		printf 'listen = 127.0.0.1:7021\ncert = %s\nkey = %s\nca = %s\npassive_range = 30000-30099\n' \
			"$2" "$3" "$4" >"$d/$1.conf"
		if [[ -n ${5:-} ]]; then printf '%s\n' "$5" >>"$d/$1.conf"; fi
		# last, so that the line numbers the checks name stay put; the
		# default user (ftpath) is the package's, and -n as root checks
		# that the user exists
		echo "user = nobody" >>"$d/$1.conf"
	}
	mkdir -p "$d/other"
	"$REPO_DIR/deploy/ftpath-certs" ca "$d/other" >/dev/null
	"$REPO_DIR/deploy/ftpath-certs" reflector "$d/other" refl >/dev/null
	cp -p "$d/refl.key" "$d/open.key"
	chmod 0644 "$d/open.key"

	n_conf ok "$d/refl.crt" "$d/refl.key" "$d/ca.crt"
	out=$("$REFL_N" -c "$d/ok.conf" -n 2>&1) || fail "reflector -n rejects a good config: $out"
	grep -qx "cert = $d/refl.crt" <<<"$out" || fail "reflector -n does not print the normalised config: $out"
	out=$("$REFL_N" -c "$d/ok.conf" -nv 2>&1) || fail "reflector -nv rejects a good config: $out"
	grep -qx "key = $d/refl.key" <<<"$out" || fail "reflector -nv does not print the normalised config: $out"

	n_conf nocert "$d/missing.crt" "$d/refl.key" "$d/ca.crt"
	refl_n_fails "a missing certificate" "$d/missing.crt:" "$d/nocert.conf"
	n_conf mismatch "$d/refl.crt" "$d/other/refl.key" "$d/ca.crt"
	refl_n_fails "a key that does not match the certificate" \
		"$d/other/refl.key: private key does not match" "$d/mismatch.conf"
	n_conf keyasca "$d/refl.crt" "$d/refl.key" "$d/ca.key"
	refl_n_fails "a key file given as the CA" "$d/ca.key: not a certificate" "$d/keyasca.conf"
	n_conf leafasca "$d/refl.crt" "$d/refl.key" "$d/ag.crt"
	refl_n_fails "a leaf certificate given as the CA" "$d/ag.crt: certificate" "$d/leafasca.conf"
	n_conf otherca "$d/refl.crt" "$d/refl.key" "$d/other/ca.crt"
	refl_n_fails "a certificate of another CA" "$d/refl.crt: does not verify" "$d/otherca.conf"
	n_conf agentcert "$d/ag.crt" "$d/ag.key" "$d/ca.crt"
	refl_n_fails "an agent (clientAuth) certificate" "$d/ag.crt: does not verify" "$d/agentcert.conf"
	n_conf openkey "$d/refl.crt" "$d/open.key" "$d/ca.crt"
	refl_n_fails "a key readable by others" "$d/open.key: private key accessible" "$d/openkey.conf"
	n_conf unknown "$d/refl.crt" "$d/refl.key" "$d/ca.crt" "no_such_key = 1"
	refl_n_fails "an unknown key" "$d/unknown.conf:6: unknown key" "$d/unknown.conf"
	n_conf badval "$d/refl.crt" "$d/refl.key" "$d/ca.crt" "max_sessions = lots"
	refl_n_fails "a bad value" "$d/badval.conf:6: bad value for max_sessions" "$d/badval.conf"
	n_conf badport "$d/refl.crt" "$d/refl.key" "$d/ca.crt" "control_port = 70000"
	refl_n_fails "a bad port" "$d/badport.conf:6: bad value for control_port" "$d/badport.conf"
	n_conf clash "$d/refl.crt" "$d/refl.key" "$d/ca.crt" "allowed_ports = 20,21,7021,30000-30099"
	refl_n_fails "the control channel's port in allowed_ports" "$d/clash.conf: listen" "$d/clash.conf"
	n_conf badapply "$d/refl.crt" "$d/refl.key" "$d/ca.crt" "allow_apply = maybe"
	refl_n_fails "allow_apply neither yes nor no" "$d/badapply.conf:6: bad value for allow_apply" "$d/badapply.conf"
	n_conf relstate "$d/refl.crt" "$d/refl.key" "$d/ca.crt" "apply_state_dir = run/ftpath"
	refl_n_fails "a relative apply_state_dir" "$d/relstate.conf:6: bad value for apply_state_dir" "$d/relstate.conf"
	n_conf nostate "$d/refl.crt" "$d/refl.key" "$d/ca.crt" "allow_apply = yes"
	printf 'apply_state_dir = %s\n' "$d/none/state" >>"$d/nostate.conf"
	refl_n_fails "allow_apply = yes with an apply_state_dir that cannot be made" \
		"$d/nostate.conf: apply_state_dir = $d/none/state: neither it nor its parent" "$d/nostate.conf"
	n_conf okapply "$d/refl.crt" "$d/refl.key" "$d/ca.crt" "allow_apply = yes"
	printf 'apply_state_dir = %s\n' "$d/state" >>"$d/okapply.conf"
	out=$("$REFL_N" -c "$d/okapply.conf" -n 2>&1) || fail "reflector -n rejects allow_apply = yes: $out"
	grep -qx "allow_apply = yes" <<<"$out" || fail "reflector -n does not print allow_apply = yes: $out"
	grep -qx "apply_state_dir = $d/state" <<<"$out" || fail "reflector -n does not print apply_state_dir: $out"
	refl_n_fails "a listen address not on this host" "command line: listen = 192.0.2.77:7021" \
		"$d/ok.conf" --listen 192.0.2.77:7021
	printf 'listen=YES\nlisten_port=abc\n' >"$d/vsftpd.conf"
	refl_n_fails "a bad --ftp-config" "$d/vsftpd.conf:2:" "$d/ok.conf" --ftp-config "$d/vsftpd.conf"
	refl_n_fails "a missing --ftp-config" "$d/none.conf:" "$d/ok.conf" --ftp-config "$d/none.conf"
	# as root, -n refuses what a start would: a user that does not exist
	sed 's/^user = nobody$/user = ftpath-no-such-user/' "$d/ok.conf" >"$d/nouser.conf"
	if ((EUID == 0)); then
		refl_n_fails "a user that does not exist" \
			"$d/nouser.conf: user = ftpath-no-such-user: no such user" "$d/nouser.conf"
	fi
	# dates are judged on this host's clock: a warning, not an error
	"$REPO_DIR/deploy/ftpath-certs" --days 10 reflector "$d" soon >/dev/null
	n_conf soon "$d/soon.crt" "$d/soon.key" "$d/ca.crt"
	if ! out=$("$REFL_N" -c "$d/soon.conf" -n 2>&1 >/dev/null); then
		fail "reflector -n refuses a certificate that expires in 10 days: $out"
	elif ! grep -q "$d/soon.crt: certificate expires on .*within 30 days" <<<"$out"; then
		fail "reflector -n does not warn of a certificate that expires in 10 days: $out"
	else
		log "ok:   -n warns (exit 0): ${out#ftpath-reflector: }"
	fi
	if [[ ! -e /etc/ftpath/reflector.crt ]]; then
		refl_n_fails "the example with its certificates absent" "/etc/ftpath/reflector.crt:" \
			"$REPO_DIR/deploy/reflector.conf.example"
	fi
	log "reflector -n: ok"
}

if [[ $NAME == deploy ]]; then
	T_NAME=deploy
	deploy_checks
	((FAILS == 0)) || exit 1
	log "scenario deploy: all assertions hold"
	exit 0
fi

# busy-server: a second client keeps vsftpd busy during the agent's run --
BUSY_PIDS=()
busy_start() {
	local root=$T_DIR/vsftpd/root i m
	ip -n "$NS_C" addr add "$CLIENT2_4/24" dev c0
	head -c 2097152 /dev/urandom >"$root/big"
	chmod 0644 "$root/big"
	BUSY_BIG_SUM=$(sha256sum <"$root/big" | cut -d' ' -f1)
	BUSY_SUM=$(sha256sum <"$root/file" | cut -d' ' -f1)
	rm -f "$T_DIR/busy.stop"
	# 2 MiB at 256 KiB/s (anon_max_rate): one download of about 8 s
	# around the whole run
	bg_in_ns "$NS_C" "$T_DIR/busy-long.out" "$HERE/busy_client.sh" \
		"$CLIENT2_4" "$SERVER4" passive big "$BUSY_BIG_SUM" \
		"$T_DIR/busy.stop" "$T_DIR/busy-long.log" 256k
	BUSY_PIDS+=("$BG_PID")
	# short downloads back to back: new control and data connections
	# (PASV ports of the range, PORT from 20) during the probe
	i=0
	for m in passive passive active active; do
		i=$((i + 1))
		bg_in_ns "$NS_C" "$T_DIR/busy-$i.out" "$HERE/busy_client.sh" \
			"$CLIENT2_4" "$SERVER4" "$m" file "$BUSY_SUM" \
			"$T_DIR/busy.stop" "$T_DIR/busy-$i.log"
		BUSY_PIDS+=("$BG_PID")
	done
	sleep 1		# all of them are under way
}

busy_check() {
	local a0=$AGENT_T0 a1 p lines bad during long
	a0=$((a0 / 1000000))
	a1=$((a0 + AGENT_MS))
	touch "$T_DIR/busy.stop"
	for p in "${BUSY_PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	lines=$(cat "$T_DIR"/busy-*.log 2>/dev/null)
	log "second client downloads (start end mode rc result):"
	sed 's/^/    | /' <<<"$lines" >&2
	bad=$(awk '$5 != "ok"' <<<"$lines" | wc -l)
	((bad == 0)) || fail "$bad download(s) of the second client failed during the probe: $(cat "$T_DIR"/busy-*.log.err 2>/dev/null | head -c 300)"
	long=$(cat "$T_DIR/busy-long.log" 2>/dev/null)
	awk -v a0="$a0" -v a1="$a1" '$1 < a0 && $2 > a1 && $5 == "ok" { f = 1 } END { exit !f }' \
		<<<"$long" || fail "the long download did not span the agent's run ($a0-$a1): '$long'"
	during=$(awk -v a0="$a0" -v a1="$a1" '$1 < a1 && $2 > a0 && $5 == "ok"' \
		<<<"$lines" | wc -l)
	((during >= 4)) || fail "only $during download(s) of the second client overlapped the agent's run (want >= 4)"
	grep -q 'diverted to the transparent listener' "$T_DIR/reflector.log" ||
		fail "the reflector did not divert the probe ports (tproxy)"
	((bad == 0)) && log "ok:   $during downloads of the second client overlapped the agent's run, none failed"
}

# --junit: read back by a real JUnit consumer (junitparser, Debian's
# python3-junitparser) and held against the expectation
junit_check() {
	local out
	out=$(/usr/bin/python3 - "$T_DIR/agent.xml" "$JUNIT" <<'PY' 2>&1
import sys
from junitparser import JUnitXml, Failure
xml = JUnitXml.fromfile(sys.argv[1])
tests, failures, cause = sys.argv[2].split(":")
suite = next(iter(xml))
cases = list(suite)
fails = [c for c in cases if any(isinstance(r, Failure) for r in c.result)]
types = {r.type for c in fails for r in c.result}
assert suite.tests == int(tests), "tests %s want %s" % (suite.tests, tests)
assert len(fails) == int(failures), "failures %d want %s" % (len(fails), failures)
assert cause == "" or cause in types, "failure types %s lack %s" % (types, cause)
print("ok:   --junit: %d testcases, %d failures %s" % (len(cases), len(fails), sorted(types)))
PY
) || fail "--junit: $out"
	log "$out"
}

# --html: rendered by a real browser (headless Chromium, inside the client
# namespace so that it reaches nothing), its DOM and a screenshot checked
html_check() {
	local chrome out
	chrome=$(command -v chromium || command -v chromium-browser || true)
	if [[ -z $chrome ]]; then
		fail "--html: chromium is not installed (scripts/deps.sh test)"
		return
	fi
	local -a flags=(--headless --no-sandbox --disable-gpu --no-first-run
		--disable-background-networking --disable-component-update
		--disable-sync --user-data-dir="$T_DIR/chrome")
	nsx "$NS_C" 60 env HOME="$T_DIR" "$chrome" "${flags[@]}" --dump-dom \
		"file://$T_DIR/agent.html" >"$T_DIR/agent.dom" 2>"$T_DIR/chrome.err" ||
		{ fail "--html: chromium --dump-dom failed: $(tail -3 "$T_DIR/chrome.err")"; return; }
	nsx "$NS_C" 60 env HOME="$T_DIR" "$chrome" "${flags[@]}" \
		--window-size=1200,900 --screenshot="$T_DIR/agent.png" \
		"file://$T_DIR/agent.html" >/dev/null 2>>"$T_DIR/chrome.err" ||
		{ fail "--html: chromium --screenshot failed"; return; }
	out=$("$PYTHON" - "$T_DIR/agent.dom" "$T_DIR/agent.png" "$HTML" <<'PY' 2>&1
import sys
from html.parser import HTMLParser
dom, png, want = sys.argv[1], sys.argv[2], sys.argv[3]
kind, cause, stage = want.split(":")
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.paths = []; self.cur = None; self.died = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class", "").split()
        if tag == "section" and "path" in cls:
            self.cur = {"verdict": a.get("data-verdict"), "cause": a.get("data-cause"), "died": []}
            self.paths.append(self.cur)
        if tag == "div" and "died" in cls and self.cur is not None:
            self.cur["died"].append(a.get("data-stage"))
p = P(); p.feed(open(dom).read())
fails = [x for x in p.paths if x["verdict"] == "fail"]
assert fails, "no failing path in the rendered DOM"
hit = [x for x in fails if x["cause"] == cause and stage in x["died"]]
assert hit, "no failing %s path drawn dying at %s: %s" % (cause, stage, fails)
sig = open(png, "rb").read(8)
assert sig == b"\x89PNG\r\n\x1a\n", "the screenshot is not a PNG"
import os
assert os.path.getsize(png) > 10000, "the screenshot is nearly empty"
print("ok:   --html: rendered by chromium, %d paths, the %s path drawn dying at '%s', screenshot %d bytes" % (len(p.paths), cause, stage, os.path.getsize(png)))
PY
) || fail "--html: $out"
	log "$out"
}

# --sg: the provider files, and a truncated one refused before the run
sg_setup() {
	local f rc=0 err
	mkdir -p "$T_DIR/sg"
	"$PYTHON" "$HERE/sg_files.py" "$T_DIR/sg" "$PASV_LO" "$PASV_HI" ||
		die "sg_files.py failed"
	err=$(nsx "$NS_C" 10 "$(realpath "$BUILD/ftpath-agent")" check \
		--reflector "$SERVER4" --cert "$CERTS/agent.crt" \
		--key "$CERTS/agent.key" --ca "$CERTS/ca.crt" \
		--sg "$T_DIR/sg/truncated.json" 2>&1 >/dev/null) || rc=$?
	((rc == 2)) || fail "--sg with a truncated file: exit $rc (want 2)"
	grep -q 'truncated.json' <<<"$err" ||
		fail "--sg with a truncated file: the error does not name it: $err"
	((rc == 2)) && log "ok:   --sg truncated.json: exit 2: $err"
	for f in aws-missing aws-open azure-missing azure-open gcp-missing gcp-open; do
		AGENT_ARGS+=(--sg "$T_DIR/sg/$f.json")
	done
}

# Scenario table -----------------------------------------------------------
FAM=4
VSFTPD=1
VSFTPD_EXTRA=()
REFLECTOR=1
RULES=""
SERVER_RULES=""
CLIENT_RULES=""
BAD_CERT=0
EXTRA_CLEAN=0
CONCURRENT=0
BUSY=0
XCHECK=1
WANT_RC=1
CURL_PASV=ok
CURL_ACT=ok
CHECKS=()
HOLD_CONTROL=0
AGENT_ARGS=()
SVC_ADDR=""
DEAD_VLAN=""		# router_dead_vlan PREFIX: a segment nobody answers on
CURL_PASVONLY=""	# ok|fail: also run curl with PASV only (--disable-epsv)
CURL_FTPS=""		# ok|fail: also run curl over FTPS (--ssl-reqd), passive
CURL_FTPS_ACT=""	# ok|fail: ... and active
HOSTS_LINES=()		# the client ns's /etc/hosts (client_hosts)
NOCAP_REFL_LOG=0	# the reflector log shows the bind fallback
HUMAN_GREP=()		# texts the human report must contain
UNREACHED_JSON=""	# exit 3: the JSON report's notes must say this
SG=0			# --sg: provider files generated by sg_files.py
DUALSTACK=0		# FAM=6 service, control channel over IPv4
JUNIT=""		# TESTS:FAILURES:CAUSE the --junit file must hold
HTML=""			# KIND:CAUSE:STAGE the --html page must draw
FIX_HOST=""		# server|client: --fix-out's patch for that host,
FIX_MODE=""		# loaded there, makes this curl mode work
FIX_GREP=()		# texts that patch must contain ...
FIX_NOGREP=()		# ... and must not
FIX_SRC2=""		# a second client address (added to the client
			# ns): curl FIX_MODE from it fails before the
			# patch and works after it (--fix-scope)
FIX_BAD_SCOPE=0		# --fix-scope errors: exit 2 naming the option
FIX_STYLE=""		# the JSON fix's style (helper|ports)
MTU_LINK=""		# router_mtu_blackhole MTU
BIG_FILE=0		# a 64 KiB test file (more than one segment)
FORGET_IDLE=""		# router_forget_idle SECONDS
IDLE_XCHECK=0		# a real client (python ftplib) idles too
REFL_CONF=()		# extra reflector.conf lines (start_reflector)
# --fix-scope refusals: not a network, and a network without the agent's
# observed address; each exit 2 naming the option, before any probe.
fix_bad_scope() {
	local bad rc agent_bin
	agent_bin=$(realpath "$BUILD/ftpath-agent")
	for bad in 198.51.100.3 198.51.100.0/0 203.0.113.0/24 2001:db8:1::/48; do
		rc=0
		nsx "$NS_C" 30 "$agent_bin" check --reflector "$SERVER4" \
			--cert "$CERTS/agent.crt" --key "$CERTS/agent.key" \
			--ca "$CERTS/ca.crt" --fix-scope "$bad" \
			>"$T_DIR/badscope.out" 2>"$T_DIR/badscope.err" || rc=$?
		if ((rc != 2)); then
			fail "--fix-scope $bad: exit $rc (want 2)"
		elif ! grep -q -- '--fix-scope' "$T_DIR/badscope.err"; then
			fail "--fix-scope $bad: the error does not name the option: $(head -c 200 "$T_DIR/badscope.err")"
		else
			log "ok:   --fix-scope $bad: exit 2 ($(head -n 1 "$T_DIR/badscope.err"))"
		fi
		grep -q 'control' "$T_DIR/badscope.out" &&
			fail "--fix-scope $bad: a report was printed (something was probed)"
	done
	return 0
}

APPLY=0			# check --apply (state dirs in T_DIR, 30 s window)
APPLY_RULES=()		# HOST=gained|identical: that host's ruleset after
			# the run against before (nft list ruleset, -a too)
APPLY_KILL=0		# kill -9 the agent inside the confirm window
case $NAME in
clean)
	short=clean
	WANT_RC=0
	EXTRA_CLEAN=1
	CHECKS=(--probe control=pass --probe passive=pass --probe active=pass
		--passive-ports "$PASV_LO-$PASV_HI" --nat-client false
		--alg-class untouched --alg-active ok
		--alg-ab "$PASV_LO:untouched:none"
		--no-cause alg-rewrite --no-cause alg-dependent)
	JUNIT="3:0:"
	;;
nat)
	short=nat
	RULES=$NFT_NAT
	# curl's active transfer fails here: its PORT/EPRT names the private
	# address, which vsftpd refuses (500 Illegal PORT) - and the gateway
	# would drop the new inbound connection anyway.  (port_promiscuous=YES
	# cannot be used to show the latter: vsftpd 3.0.3 then fails to bind.)
	CURL_ACT=fail
	CHECKS=(--probe control=pass --probe passive=pass --probe active=fail:nat
		--nat-client true --nat-addrs "$CLIENT4=$ROUTER_S4"
		--evidence "active=works only with an FTP ALG" --no-cause alg-dependent
		--cause nat
		--alg-class untouched --alg-active refused --no-cause alg-rewrite
		--alg-ab "$PASV_LO:untouched:none")
	;;
silent-drop)
	short=sdrop
	RULES=$NFT_SILENT_DROP
	CURL_PASV=fail
	# the TCP traceroute: TTL 1 expires at the router before its forward
	# hook (time-exceeded), TTL 2 is dropped there (silent)
	CHECKS=(--probe control=pass --probe passive=fail:path-silent-drop
		--probe active=pass --passive-ports "$PASV_LO-$PASV_HI"
		--hop "passive=$ROUTER_C4"
		--trace "passive=1:$ROUTER_C4:time-exceeded,2:*:silent")
	JUNIT="3:1:path-silent-drop"
	HTML="passive:path-silent-drop:path"
	;;
sg-silent-drop)
	# silent-drop's router, and cloud security groups of each provider
	# (AWS, Azure, GCP): those that lack the passive range explain the
	# drop and print the CLI rule; those that open it do not explain it;
	# a truncated file is exit 2 naming the file
	short=sgdrop
	RULES=$NFT_SILENT_DROP
	CURL_PASV=fail
	SG=1
	CHECKS=(--probe control=pass --probe passive=fail:path-silent-drop
		--probe active=pass)
	;;
reject)
	short=reject
	RULES=$NFT_REJECT21
	CURL_PASV=fail
	CURL_ACT=fail
	CHECKS=(--probe control=fail:path-reject --hop "control=$ROUTER_C4")
	;;
not-listening)
	short=nolis
	VSFTPD=0
	CURL_PASV=fail
	CURL_ACT=fail
	CHECKS=(--probe control=fail:not-listening)
	;;
ipv6-clean)
	short=v6
	FAM=6
	VSFTPD_FAMILY=6
	WANT_RC=0
	# IPv6: the dialogue uses EPRT |2| and EPSV only, untouched
	CHECKS=(--probe control=pass --probe passive=pass --probe active=pass
		--passive-ports "$PASV_LO-$PASV_HI" --nat-client false
		--alg-class untouched --alg-active ok --no-cause alg-dependent
		--alg-ab "$PASV_LO:untouched:none" --no-cause alg-rewrite)
	;;
no-reflector)
	# contract: exit 3 when the reflector cannot be reached, and still a
	# JSON report saying what the control channel attempts met
	short=norefl
	REFLECTOR=0
	WANT_RC=3
	CHECKS=()
	UNREACHED_JSON="after 3 attempt(s)"
	;;
bad-cert)
	# contract: exit 3 when authentication fails (agent cert of another CA)
	short=badcert
	BAD_CERT=1
	WANT_RC=3
	CHECKS=()
	;;
rst-middlebox)
	# the router answers the passive range with a forged RST
	short=rst
	RULES=$NFT_RST_PASV
	CURL_PASV=fail
	CHECKS=(--probe control=pass --probe passive=fail:path-reject
		--probe active=pass --passive-ports "$PASV_LO-$PASV_HI")
	;;
ipv6-dualstack)
	# dual stack: the control channel runs over IPv4 (the reflector's
	# management address) while the FTP service address is IPv6 and
	# vsftpd owns 21; the router drops the passive range for IPv6.  The
	# reflector cannot know the agent's IPv6 source address, so it can
	# neither divert nor trace those probes: no path cause may be claimed
	# from a trace that could not see them.
	short=v6dual
	FAM=6
	VSFTPD_FAMILY=6
	RULES=$NFT_SILENT_DROP_V6
	AGENT_ARGS=(--server "$SERVER6")
	DUALSTACK=1
	CURL_PASV=fail
	CHECKS=(--probe passive=fail --probe active=pass
		--no-cause server-local-rule)
	;;
ipv6-silent-drop)
	# the router drops the passive range for IPv6; the traceroute's hop
	# limit 1 expires at the router (ICMPv6 time exceeded)
	short=v6drop
	FAM=6
	VSFTPD_FAMILY=6
	RULES=$NFT_SILENT_DROP_V6
	CURL_PASV=fail
	CHECKS=(--probe control=pass --probe passive=fail:path-silent-drop
		--probe active=pass --passive-ports "$PASV_LO-$PASV_HI"
		--hop "passive=$ROUTER_C6"
		--trace "passive=1:$ROUTER_C6:time-exceeded,2:*:silent")
	;;
ipv6-reject)
	short=v6rej
	FAM=6
	VSFTPD_FAMILY=6
	RULES=$NFT_REJECT21_V6
	CURL_PASV=fail
	CURL_ACT=fail
	CHECKS=(--probe control=fail:path-reject --hop "control=$ROUTER_C6")
	;;
concurrent)
	# two agents on the same client at the same time, one reflector
	short=conc
	WANT_RC=0
	CONCURRENT=1
	# no real FTP session: both agents share one address, and while one
	# agent's session is armed the reflector diverts every connection
	# from that address to the probe ports (tproxy matches addresses),
	# so the other agent's real FTP session would reach the reflector
	AGENT_ARGS=(--no-ftp-check)
	CHECKS=(--probe control=pass --probe passive=pass --probe active=pass
		--passive-ports "$PASV_LO-$PASV_HI")
	;;
busy-server)
	# vsftpd owns 21 and serves a second client (198.51.100.3, passive
	# and active, one long download spanning the whole run) while the
	# agent probes 21 and the passive range: the reflector diverts only
	# the agent's connections (tproxy), so every download must succeed
	short=busy
	WANT_RC=0
	BUSY=1
	# vsftpd paces anonymous downloads (curl's own --limit-rate is
	# absorbed by socket buffers on a fast link)
	VSFTPD_EXTRA=(anon_max_rate=262144)
	CHECKS=(--probe control=pass --probe passive=pass --probe active=pass
		--passive-ports "$PASV_LO-$PASV_HI")
	;;
nat-alg)
	# NAT gateway with the FTP ALG: real active mode works (the helper
	# rewrites PORT and lets the data connection in); the agent must not
	# call active a failure that curl disproves (design: alg-dependent).
	# The reflector gets the agent's connections to 21 while vsftpd owns
	# it (tproxy), so the dialogue crosses the helper: PORT rewritten to
	# the gateway's address, the plain connect-back dropped, the one to
	# the PORT address as received let in.  The same dialogue on the
	# first passive port (the helper is assigned to dport 21 only)
	# arrives untouched: the A/B names an FTP ALG keyed on port 21.
	short=natalg
	RULES=$NFT_NAT_ALG
	CHECKS=(--probe control=pass --probe passive=pass --nat-client true
		--pass-cause active=alg-dependent --alg-class rewritten-to-observed
		--alg-active ok --cause alg-rewrite --cause nat
		--cause-evidence "nat=seen by the reflector as $ROUTER_S4"
		--alg-ab "$PASV_LO:untouched:ftp-alg"
		--cause-evidence "alg-rewrite=an FTP ALG keyed on the control port 21")
	WANT_RC=0
	;;
nat-alg-generic)
	# as nat-alg, and the gateway's FTP helper also reads the first
	# passive port: to the A/B a rewriter that is not keyed on the FTP
	# control port (the same dialogue rewritten on both ports)
	short=natgen
	RULES=${NFT_NAT_ALG/tcp dport 21 ct helper/tcp dport \{ 21, $PASV_LO \} ct helper}
	[[ $RULES != "$NFT_NAT_ALG" ]] || fail "nat-alg-generic: rule not derived"
	CHECKS=(--probe control=pass --probe passive=pass --nat-client true
		--pass-cause active=alg-dependent --alg-class rewritten-to-observed
		--alg-active ok --cause alg-rewrite
		--alg-ab "$PASV_LO:rewritten-to-observed:generic"
		--cause-evidence "alg-rewrite=a generic payload rewriter")
	WANT_RC=0
	;;
wide-range)
	# the reflector's passive range is 4000 ports (20000-23999, beyond the
	# default 1024 open files) and the router drops 21000-21999: three runs.
	# vsftpd keeps 30000-30099, so curl does not cross-check this one.
	short=wide
	REFL_PASV=20000-23999
	RULES=$NFT_DROP_MID
	XCHECK=0
	CHECKS=(--probe control=pass --probe active=pass
		--passive-runs "20000-20999=pass,21000-21999=fail:path-silent-drop,22000-23999=pass"
		--hop "passive=$ROUTER_C4"
		--trace "passive=1:$ROUTER_C4:time-exceeded,2:*:silent")
	;;
return-path)
	# the SYN reaches the server, its SYN-ACK is dropped on the way back
	short=retpath
	RULES=$NFT_RETURN_PASV
	CURL_PASV=fail
	CHECKS=(--probe control=pass --probe passive=fail:return-path
		--probe active=pass --passive-ports "$PASV_LO-$PASV_HI")
	;;
routing-gap)
	# the router answers the passive range with ICMP net unreachable
	short=rtgap
	RULES=$NFT_UNREACH_PASV
	CURL_PASV=fail
	CHECKS=(--probe control=pass --probe passive=fail:routing-gap
		--hop "passive=$ROUTER_C4" --probe active=pass
		--passive-ports "$PASV_LO-$PASV_HI")
	;;
server-rule)
	# the server host's own nftables drops the passive range
	short=srvrule
	SERVER_RULES=$NFT_SERVER_DROP_PASV
	CURL_PASV=fail
	CHECKS=(--probe control=pass --probe passive=fail:server-local-rule
		--probe active=pass --passive-ports "$PASV_LO-$PASV_HI"
		--rule "passive=inet harness_filter input drop"
		--rule-text "passive=tcp dport $PASV_LO-$PASV_HI drop")
	FIX_HOST=server
	FIX_MODE=passive
	;;
server-reject)
	# the server host's own nftables rejects the passive range with a
	# TCP RST: the RST comes from the server itself, but the reflector
	# listened and the trace names the rule
	short=srvrej
	SERVER_RULES=$NFT_SERVER_RESET_PASV
	CURL_PASV=fail
	CHECKS=(--probe control=pass --probe passive=fail:server-local-rule
		--probe active=pass --passive-ports "$PASV_LO-$PASV_HI"
		--rule "passive=inet harness_filter input reject"
		--rule-text "passive=reject with tcp reset")
	FIX_HOST=server
	FIX_MODE=passive
	;;
server-reject-21)
	# the server host's own nftables rejects port 21 (ICMP
	# admin-prohibited from the server itself) while vsftpd owns it
	short=srvrej21
	SERVER_RULES=$NFT_SERVER_REJECT21
	CURL_PASV=fail
	CURL_ACT=fail
	CHECKS=(--probe control=fail:server-local-rule
		--rule "control=inet harness_filter input reject"
		--rule-text "control=tcp dport 21 reject with icmpx admin-prohibited")
	;;
server-reject-icmp)
	# ... and with ICMP admin-prohibited, sent by the server host itself
	short=srvrejx
	SERVER_RULES=$NFT_SERVER_ICMPX_PASV
	CURL_PASV=fail
	CHECKS=(--probe control=pass --probe passive=fail:server-local-rule
		--probe active=pass --passive-ports "$PASV_LO-$PASV_HI"
		--rule "passive=inet harness_filter input reject"
		--rule-text "passive=reject with icmpx admin-prohibited")
	;;
server-rule-21)
	# the server host's own nftables drops port 21 while vsftpd owns it
	# (the reflector diverts the agent's connections to it: diverted-in-use)
	short=srv21
	SERVER_RULES=$NFT_SERVER_DROP21
	CURL_PASV=fail
	CURL_ACT=fail
	CHECKS=(--probe control=fail:server-local-rule
		--rule "control=inet harness_filter input drop"
		--rule-text "control=tcp dport 21 drop")
	FIX_HOST=server
	FIX_MODE=passive
	;;
server-rule-active)
	# the server host's own nftables drops outbound active data (from
	# its port 20): the reflector's trace of its connect-back names the
	# rule; vsftpd's own connect from 20 is dropped too
	short=srvact
	SERVER_RULES=$NFT_SERVER_DROP_ACTIVE
	CURL_ACT=fail
	CHECKS=(--probe control=pass --probe passive=pass
		--probe active=fail:server-local-rule
		--rule "active=inet harness_filter output drop"
		--rule-text "active=tcp sport 20 drop"
		--evidence "active=the connect-back SYN from $SERVER4:20 was dropped on the server host by rule 'inet harness_filter output handle")
	FIX_HOST=server
	FIX_MODE=active
	;;
server-reject-active)
	# ... rejected with a TCP RST, which the server host sends to its
	# own connecting socket: not a reject on the path
	short=srvrejact
	SERVER_RULES=$NFT_SERVER_RESET_ACTIVE
	CURL_ACT=fail
	CHECKS=(--probe control=pass --probe passive=pass
		--probe active=fail:server-local-rule
		--rule "active=inet harness_filter output reject"
		--rule-text "active=tcp sport 20 reject with tcp reset"
		--evidence "active=the connect-back SYN from $SERVER4:20 was rejected on the server host by rule 'inet harness_filter output handle")
	;;
active-port)
	# a non-default active source port: vsftpd connects from 2020
	# (ftp_data_port), and so does the reflector (active_source_port);
	# the connect-back's probe id is active-2020 and it passes
	short=actport
	WANT_RC=0
	VSFTPD_EXTRA=(ftp_data_port=2020)
	REFL_CONF=("active_source_port = 2020")
	CHECKS=(--probe control=pass --probe passive=pass --probe active=pass
		--active-port 2020 --alg-active ok
		--no-cause alg-dependent --no-cause nat)
	;;
client-rule-active)
	# the client host's own nftables drops inbound active data (from
	# the server's port 20): the agent's own trace names the rule
	short=cliact
	CLIENT_RULES=$NFT_CLIENT_DROP_ACTIVE
	CURL_ACT=fail
	CHECKS=(--probe control=pass --probe passive=pass
		--probe active=fail:client-local-rule
		--rule "active=inet harness_filter input drop"
		--rule-text "active=tcp sport 20 drop")
	FIX_HOST=client
	FIX_MODE=active
	;;
routing-gap-service)
	# the reflector answers at the server's management address
	# (203.0.113.2:7021) but the FTP service address 192.0.2.2 is on a
	# segment the router has no route to (ICMP net unreachable)
	short=rtsvc
	SVC_ADDR=192.0.2.2/24
	AGENT_ARGS=(--server 192.0.2.2)
	CURL_HOST4=192.0.2.2
	CURL_PASV=fail
	CURL_ACT=fail
	CHECKS=(--probe control=fail:routing-gap --hop "control=$ROUTER_C4"
		--probe passive=fail:routing-gap --probe active=pass
		--evidence "control=reflector answered at its management address")
	;;
server-helper)
	# the server host's stateful firewall lets data in only as related,
	# through the FTP conntrack helper assigned to port 21: bare probes
	# to the passive range die on the input policy, real FTP passive
	# transfers work.  The agent must not call passive a failure that
	# curl disproves: it passes with the warning that it depends on the
	# helper (FTPS blinds it).
	short=srvhlp
	SERVER_RULES=$NFT_SERVER_HELPER
	WANT_RC=0
	CHECKS=(--probe control=pass --pass-cause passive=alg-dependent
		--probe active=pass --service-ok true
		--cause-evidence "alg-dependent=EPSV data connection"
		--cause-evidence "alg-dependent=on the server host"
		--cause-evidence "alg-dependent=FTPS"
		--cause alg-dependent --no-cause server-local-rule)
	HUMAN_GREP=("alg-dependent (warning)")
	;;
ftps-helper)
	# server-helper's firewall (data only as related, through the FTP
	# conntrack helper on 21) and vsftpd offering AUTH TLS: plain passive
	# works through the helper (alg-dependent, a warning), FTPS passive
	# cannot (the helper cannot read the encrypted 229/227): alg-dependent
	# becomes a failure, named by the FTPS modes, exit 1.  Active works
	# both ways (the server's own connections leave freely).
	short=ftpshlp
	SERVER_RULES=$NFT_SERVER_HELPER
	VSFTPD_TLS=1
	CURL_FTPS=fail
	CURL_FTPS_ACT=ok
	CHECKS=(--probe control=pass --pass-cause-any passive=alg-dependent
		--probe active=pass --service-ok true
		--cause-severity alg-dependent=failure
		--cause-probe "alg-dependent=service FTPS EPSV"
		--cause-probe "alg-dependent=service FTPS PASV"
		--no-cause-probe "alg-dependent=service FTPS EPRT"
		--cause-evidence "alg-dependent=EPSV worked in plain FTP"
		--cause-evidence "alg-dependent=failed under FTPS"
		--advice "alg-dependent=open the passive range tcp/$PASV_LO-$PASV_HI explicitly"
		--no-cause server-local-rule)
	HUMAN_GREP=("FAIL FTPS EPSV" "PASS FTPS EPRT"
		"alg-dependent: EPSV worked in plain FTP")
	;;
ftps-clean)
	# vsftpd offering AUTH TLS, no fault: every FTPS mode moves data
	short=ftpscln
	VSFTPD_TLS=1
	WANT_RC=0
	CURL_FTPS=ok
	CURL_FTPS_ACT=ok
	CHECKS=(--probe control=pass --probe passive=pass --probe active=pass
		--service-ok true --ftps-ok EPSV,PASV,EPRT,PORT
		--no-cause alg-dependent)
	HUMAN_GREP=("PASS FTPS EPSV" "PASS FTPS PORT")
	;;
server-nohelper)
	# the same firewall without the helper: passive data has no way in,
	# for the probes and for real FTP alike
	short=srvnoh
	SERVER_RULES=$NFT_SERVER_NOHELPER
	CURL_PASV=fail
	CHECKS=(--probe control=pass --probe passive=fail:server-local-rule
		--probe active=pass --rule-text "passive=policy drop"
		--no-cause alg-dependent)
	FIX_HOST=server
	FIX_MODE=passive
	# the chain accepts ct state related and vsftpd offers no AUTH
	# TLS: the automatic remedy is the helper
	FIX_GREP=("ct helper set" "# remedy: the FTP conntrack helper"
		"a stateful firewall" "the other remedy, --fix-style ports")
	FIX_STYLE=helper
	HUMAN_GREP=("the FTP conntrack helper (the chain accepts ct state related")
	;;
server-nohelper-ports|server-nohelper-helper)
	# server-nohelper's firewall; the remedy asked for with --fix-style:
	# either one, loaded on the server, makes curl passive work
	short=srvnoh${NAME##*-}
	short=${short:0:9}
	SERVER_RULES=$NFT_SERVER_NOHELPER
	CURL_PASV=fail
	CHECKS=(--probe control=pass --probe passive=fail:server-local-rule
		--probe active=pass --rule-text "passive=policy drop"
		--no-cause alg-dependent)
	AGENT_ARGS=(--fix-style "${NAME##*-}")
	FIX_STYLE=${NAME##*-}
	FIX_HOST=server
	FIX_MODE=passive
	if [[ $NAME == *-ports ]]; then
		FIX_GREP=("# remedy: the data ports opened explicitly"
			"asked for with --fix-style ports"
			"the other remedy, --fix-style helper"
			"blinds the helper"
			"tcp dport $PASV_LO-$PASV_HI ct state new,established accept")
		FIX_NOGREP=("ct helper set" "add ct helper")
		HUMAN_GREP=("the data ports opened explicitly (asked for with --fix-style ports); the other remedy is --fix-style helper")
	else
		FIX_GREP=("ct helper set" "asked for with --fix-style helper"
			"the other remedy, --fix-style ports"
			"WARNING: FTPS (AUTH TLS) blinds the helper"
			"ct state established,related accept")
		HUMAN_GREP=("the FTP conntrack helper (asked for with --fix-style helper); the other remedy is --fix-style ports")
	fi
	;;
ftps-nohelper)
	# server-nohelper's firewall and vsftpd offering AUTH TLS: the
	# reflector writes the server fix both ways, and the agent keeps the
	# one for a server with AUTH TLS (the FTP client saw it): the data
	# ports opened explicitly, which works for FTPS too
	short=ftpsnoh
	SERVER_RULES=$NFT_SERVER_NOHELPER
	VSFTPD_TLS=1
	CURL_PASV=fail
	CURL_FTPS=fail
	CHECKS=(--probe control=pass --probe passive=fail:server-local-rule
		--probe active=pass --no-cause alg-dependent)
	FIX_HOST=server
	FIX_MODE=ftps
	FIX_STYLE=ports
	FIX_GREP=("# remedy: the data ports opened explicitly"
		"the server offers AUTH TLS"
		"tcp dport $PASV_LO-$PASV_HI ct state new,established accept")
	FIX_NOGREP=("ct helper set")
	;;
server-nohelper-scope)
	# server-nohelper's fault, and the fix widened to the client
	# network: it names 198.51.100.0/24, and a second client address
	# in it passes too once it is loaded.  --fix-scope that is not a
	# network, or one without the agent's address: exit 2
	short=srvnohsc
	SERVER_RULES=$NFT_SERVER_NOHELPER
	CURL_PASV=fail
	CHECKS=(--probe control=pass --probe passive=fail:server-local-rule
		--probe active=pass --no-cause alg-dependent)
	AGENT_ARGS=(--fix-scope 198.51.100.0/24)
	FIX_HOST=server
	FIX_MODE=passive
	FIX_GREP=("ip saddr 198.51.100.0/24 tcp dport 21 ct helper set"
		"ip saddr 198.51.100.0/24 tcp dport $PASV_LO-$PASV_HI")
	FIX_NOGREP=("ip saddr $CLIENT4 ")
	FIX_STYLE=helper
	FIX_SRC2=198.51.100.3
	FIX_BAD_SCOPE=1
	;;
routing-gap-arp)
	# the FTP service address 192.0.2.5 is on a router segment where
	# nothing answers ARP (a VLAN not trunked): no ICMP for 3 s, then
	# host-unreachable.  The reflector answers at its management address.
	# The probes time out first; the late ICMP decides (not a silent drop)
	short=rtarp
	DEAD_VLAN=192.0.2.1/24
	AGENT_ARGS=(--server 192.0.2.5)
	CURL_HOST4=192.0.2.5
	CURL_PASV=fail
	CURL_ACT=fail
	CHECKS=(--probe control=fail:routing-gap --hop "control=$ROUTER_C4"
		--probe passive=fail:routing-gap --probe active=pass
		--no-cause path-silent-drop
		--evidence "control=came after the probe's timeout")
	;;
client-rule)
	# the client host's own nftables drops outbound port 21
	short=clirule
	CLIENT_RULES=$NFT_CLIENT_DROP21
	CURL_PASV=fail
	CURL_ACT=fail
	CHECKS=(--probe control=fail:client-local-rule
		--rule "control=inet harness_filter output drop"
		--rule-text "control=tcp dport 21 drop")
	FIX_HOST=client
	FIX_MODE=passive
	;;
service-refused)
	# vsftpd allows one connection per client address and another
	# client connection holds it.  The reflector diverts the control
	# probe (tproxy), so the path to 21 passes; the real FTP client
	# gets the 421 banner: cause service-refused, exit 1
	short=svcref
	VSFTPD_EXTRA=(max_per_ip=1)
	HOLD_CONTROL=1
	CURL_PASV=fail
	CURL_ACT=fail
	CHECKS=(--probe control=pass --cause service-refused
		--service-ok false
		--cause-evidence "service-refused=vsftpd.conf:"
		--cause-evidence "service-refused=max_per_ip=1"
		--advice "service-refused=vsftpd: max_per_ip=")
	;;
max-per-ip)
	# vsftpd allows one connection per client address and nothing else
	# holds it: one client connection works (curl does), a client with
	# parallel connections meets 421 on the second: service-refused from
	# the connections opened at once, with the limit from vsftpd.conf
	short=maxip
	VSFTPD_EXTRA=(max_per_ip=1)
	CHECKS=(--probe control=pass --probe passive=pass --probe active=pass
		--cause service-refused
		--cause-evidence "service-refused=control connections opened at once"
		--cause-evidence "service-refused=max_per_ip=1"
		--advice "service-refused=vsftpd: max_per_ip=")
	HUMAN_GREP=("CONNS    3 at once")
	;;
pasv-address)
	# vsftpd advertises an address the client cannot reach in its 227
	short=pasvad
	VSFTPD_EXTRA=(pasv_address=192.0.2.99)
	CURL_PASV=ok
	CHECKS=(--probe control=pass --probe passive=pass --cause pasv-address
		--service-ok false --nat-server false
		--cause-evidence "pasv-address=pasv_address=192.0.2.99"
		--advice "pasv-address=vsftpd: pasv_address=$SERVER4")
	;;
dnat-pasv-wrong)
	# the router port-forwards PUBLIC4 (21 and the passive range) to the
	# server and closes the server network's FTP ports to the client;
	# vsftpd advertises its inside address in 227.  The agent dials the
	# reflector directly (7021 stays open to the server: a management
	# path) and names the public service address with --server.
	short=dnatw
	RULES=$NFT_DNAT
	VSFTPD_EXTRA=(pasv_address=$SERVER4)
	AGENT_ARGS=(--server "$PUBLIC4")
	CURL_HOST=$PUBLIC4
	CURL_PASVONLY=fail
	CHECKS=(--probe control=pass --probe passive=pass --probe active=pass
		--passive-ports "$PASV_LO-$PASV_HI" --nat-server true
		--cause pasv-address --service-ok false
		--cause-evidence "pasv-address=vsftpd.conf:"
		--cause-evidence "pasv-address=pasv_address=$SERVER4"
		--advice "pasv-address=vsftpd: pasv_address=$PUBLIC4")
	;;
dnat-pasv-right)
	# the same port-forward, vsftpd advertises the public address; here
	# the reflector is reached through the forward as well (7021), so the
	# agent needs no --server and the reflector's certificate names PUBLIC4
	short=dnatr
	RULES=$NFT_DNAT
	VSFTPD_EXTRA=(pasv_address=$PUBLIC4)
	AGENT_REFLECTOR=$PUBLIC4
	REFL_SANS="IP:$PUBLIC4"
	CURL_HOST=$PUBLIC4
	CURL_PASVONLY=ok
	WANT_RC=0
	CHECKS=(--probe control=pass --probe passive=pass --probe active=pass
		--passive-ports "$PASV_LO-$PASV_HI" --nat-server true
		--no-cause pasv-address --service-ok true)
	;;
dns-mismatch)
	# the client's hosts file maps the FTP name to a documentation address
	# that is not the server's; the router has no route there and answers
	# ICMP net-unreachable
	short=dnsmm
	HOSTS_LINES=("192.0.2.77 ftp.example.net")
	AGENT_ARGS=(--server ftp.example.net)
	CURL_HOST=ftp.example.net
	CURL_PASV=fail
	CURL_ACT=fail
	CHECKS=(--probe control=fail:dns-mismatch --probe passive=fail:dns-mismatch
		--probe active=pass --cause dns-mismatch
		--cause-evidence "dns-mismatch=hosts-file override: /etc/hosts:1"
		--cause-evidence "dns-mismatch=192.0.2.77")
	;;
clock-skew)
	# the reflector's clock runs 10 minutes ahead (ahead: the agent's
	# freshly issued certificate is already valid for it)
	short=skew
	REFL_FAKETIME=+10m
	WANT_RC=0
	CHECKS=(--probe control=pass --probe passive=pass --probe active=pass
		--passive-ports "$PASV_LO-$PASV_HI" --service-ok true
		--clock-skew 590-610)
	;;
nocap-clean)
	# neither side has CAP_NET_ADMIN: no nftables trace on either host,
	# and the reflector binds the free ports instead of diverting (21 is
	# vsftpd's: in-use, so the control probe meets vsftpd's banner)
	short=nocap
	REFL_NOCAP=1
	AGENT_NOCAP=1
	NOCAP_REFL_LOG=1
	WANT_RC=0
	CHECKS=(--probe control=pass --probe passive=pass --probe active=pass
		--passive-ports "$PASV_LO-$PASV_HI" --causes-exactly "" --alg-untested
		--note "no nftables trace at the server: nftables not usable by the reflector (EPERM: no CAP_NET_ADMIN)"
		--note "no nftables trace on the agent host: nftables not usable by the agent (EPERM: no CAP_NET_ADMIN)")
	HUMAN_GREP=("no nftables trace at the server" "no nftables trace on the agent host")
	;;
nocap-server-rule)
	# the server host's own nftables drops the passive range and the
	# reflector has no CAP_NET_ADMIN: no server-side trace, so a drop
	# on the path and one on the server host look the same from here
	short=ncsrv
	REFL_NOCAP=1
	NOCAP_REFL_LOG=1
	SERVER_RULES=$NFT_SERVER_DROP_PASV
	CURL_PASV=fail
	CHECKS=(--probe control=pass --probe passive=fail:null
		--probe active=pass --passive-ports "$PASV_LO-$PASV_HI"
		--causes-exactly ""
		--evidence "passive=no nftables trace at the server (nftables not usable by the reflector (EPERM: no CAP_NET_ADMIN))"
		--evidence "passive=on the path or by a firewall on the server host")
	HUMAN_GREP=("no nftables trace at the server")
	;;
nocap-server-reject)
	# the server host rejects the passive range with ICMP admin-
	# prohibited and the reflector has no CAP_NET_ADMIN: the ICMP comes
	# in the name of the server itself, so it is the server host's rule
	# (which one is not known without its trace), not a path firewall
	short=ncsrej
	REFL_NOCAP=1
	NOCAP_REFL_LOG=1
	SERVER_RULES=$NFT_SERVER_ICMPX_PASV
	CURL_PASV=fail
	CHECKS=(--probe control=pass --probe passive=fail:server-local-rule
		--probe active=pass --passive-ports "$PASV_LO-$PASV_HI"
		--no-rule passive
		--evidence "passive=the rejection came from the server host itself")
	;;
nocap-client-rule)
	# the client host's own nftables drops outbound 21 and the agent has
	# no CAP_NET_ADMIN.  connect() does not fail with EPERM: TCP ignores
	# the error of its own SYN and retransmits until it times out, so the
	# agent sees a silence.  The server's trace shows the SYN never
	# arrived; whether it left the agent host only the agent's own trace
	# could tell: no cause (not path-silent-drop), and it says why.
	short=nccli
	AGENT_NOCAP=1
	CLIENT_RULES=$NFT_CLIENT_DROP21
	CURL_PASV=fail
	CURL_ACT=fail
	CHECKS=(--probe control=fail:null --causes-exactly "" --no-rule control
		--evidence "control=the SYN never reached the server host"
		--evidence "control=whether the SYN left the agent host is not known"
		--evidence "control=no nftables trace on the agent host (nftables not usable by the agent (EPERM: no CAP_NET_ADMIN))")
	HUMAN_GREP=("no nftables trace on the agent host")
	;;
mtu-blackhole)
	# the router's link to the client takes 1280-byte packets and the
	# router drops its own ICMP fragmentation-needed: larger packets from
	# the server vanish.  Handshakes and probe lines pass; the control
	# channel's TLS handshake (the reflector's certificate) needs the
	# small-MSS retry; the test file is 64 KiB so that curl's transfer
	# needs full segments (and the real FTP client retrieves it too)
	short=mtu
	RULES=$NFT_DROP_FRAG_NEEDED
	MTU_LINK=1280
	BIG_FILE=1
	AGENT_ARGS=(--ftp-path /file)
	CURL_PASV=fail
	CURL_ACT=fail
	CHECKS=(--probe control=pass --probe passive=fail:mtu-blackhole
		--probe active=fail:mtu-blackhole --cause mtu-blackhole
		--mtu-blackhole server-to-client:1280 --mtu-ok client-to-server
		--cause-evidence "mtu-blackhole=server-to-client"
		--cause-evidence "mtu-blackhole=completed with MSS 1200"
		--advice "mtu-blackhole=tcp option maxseg size set rt mtu"
		--note "TLS handshake stalled after TCP connected")
	;;
mtu-pmtud)
	# the same 1280-byte link, but the router's ICMP fragmentation-needed
	# gets through: path MTU discovery works, so no black hole may be
	# named and everything passes, curl included (64 KiB file)
	short=pmtud
	MTU_LINK=1280
	BIG_FILE=1
	AGENT_ARGS=(--ftp-path /file)
	WANT_RC=0
	CHECKS=(--probe control=pass --probe passive=pass --probe active=pass
		--passive-ports "$PASV_LO-$PASV_HI" --no-cause mtu-blackhole
		--mtu-ok server-to-client --mtu-ok client-to-server
		--service-ok true)
	;;
idle-timeout)
	# the router forgets an idle established flow after 3 s and drops
	# its packets then (no new SYN): the agent holds FTP control
	# connections idle for 1, 3 and 6 s (--idle-test 6) and the control
	# channel for 6 s
	short=idle
	RULES=$NFT_STATEFUL
	FORGET_IDLE=3
	IDLE_XCHECK=1
	AGENT_ARGS=(--idle-test 6)
	AGENT_TIMEOUT=90
	CHECKS=(--probe control=pass --probe passive=pass --probe active=pass
		--passive-ports "$PASV_LO-$PASV_HI" --cause idle-timeout
		--idle-timeout-below 6
		--cause-evidence "idle-timeout=6 s no-answer"
		--cause-evidence "idle-timeout=TLS control channel"
		--advice "idle-timeout=nf_conntrack_tcp_timeout_established"
		--advice "idle-timeout=idle_session_timeout"
		--advice "idle-timeout=--keepalive-time")
	;;
idle-reset)
	# the same forgetful router, but it resets what it forgot
	short=idlerst
	RULES=$NFT_STATEFUL_RST
	FORGET_IDLE=3
	IDLE_XCHECK=1
	AGENT_ARGS=(--idle-test 4)
	AGENT_TIMEOUT=90
	CHECKS=(--probe control=pass --probe passive=pass --probe active=pass
		--passive-ports "$PASV_LO-$PASV_HI" --cause idle-timeout
		--idle-timeout-below 4
		--cause-evidence "idle-timeout=4 s reset"
		--cause-evidence "idle-timeout=a reset came"
		--cause-evidence "idle-timeout=Connection reset by peer"
		--advice "idle-timeout=nf_conntrack_tcp_timeout_established")
	;;
apply-client)
	# client-rule's fault (the client host drops outbound 21) and
	# --apply: the agent host's patch is loaded, the re-test passes, it
	# is kept (exit 0), and curl, which failed before, works now.  curl
	# runs after the change, so it is not held against the report.
	short=apcli
	CLIENT_RULES=$NFT_CLIENT_DROP21
	APPLY=1
	WANT_RC=0
	XCHECK=0
	CHECKS=(--probe control=fail:client-local-rule
		--apply-host client=kept --apply-host server=none
		--apply-after control=pass --apply-all-pass true)
	APPLY_RULES=(client=gained server=identical)
	HUMAN_GREP=("client host: kept: the re-test passed")
	;;
apply-server)
	# server-rule's fault (the server host drops the passive range) and
	# a reflector with allow_apply = yes: it loads the fix it derived
	# itself, the re-test passes, the agent confirms, curl passive works
	short=apsrv
	SERVER_RULES=$NFT_SERVER_DROP_PASV
	APPLY=1
	REFL_CONF=("allow_apply = yes")
	WANT_RC=0
	XCHECK=0
	CHECKS=(--probe passive=fail:server-local-rule
		--apply-host server=kept --apply-host client=none
		--apply-after passive=pass --apply-all-pass true)
	APPLY_RULES=(server=gained client=identical)
	;;
apply-refused)
	# the same with allow_apply left at its default (no): the reflector
	# refuses and says why, the server ruleset is unchanged byte for byte
	short=aprefu
	SERVER_RULES=$NFT_SERVER_DROP_PASV
	APPLY=1
	CURL_PASV=fail
	CHECKS=(--probe passive=fail:server-local-rule
		--apply-host "server=refused:allow_apply is no"
		--apply-host client=none --apply-all-pass false)
	APPLY_RULES=(server=identical client=identical)
	HUMAN_GREP=("server host: refused: allow_apply is no")
	;;
apply-rollback)
	# the server host drops the passive range AND the router drops its
	# answers: the server's patch (allow_apply = yes) is loaded, the
	# re-test still fails, the reflector rolls it back at once and the
	# server ruleset is byte-identical to before
	short=aprb
	SERVER_RULES=$NFT_SERVER_DROP_PASV
	RULES=$NFT_RETURN_PASV
	APPLY=1
	REFL_CONF=("allow_apply = yes")
	CURL_PASV=fail
	XCHECK=0
	CHECKS=(--probe passive=fail:server-local-rule
		--apply-host "server=rolled-back:the re-test"
		--apply-identical server=true --apply-after passive=fail
		--apply-all-pass false)
	APPLY_RULES=(server=identical client=identical)
	;;
apply-kill)
	# a client fault (inbound active data dropped) and a server fault
	# (passive dropped), allow_apply = yes: both patches are loaded, and
	# the agent is killed (-9) inside the confirm window: the agent
	# host's watchdog rolls back (its applier died), the reflector's
	# too (the control channel dropped); both rulesets byte-identical
	short=apkill
	CLIENT_RULES=$NFT_CLIENT_DROP_ACTIVE
	SERVER_RULES=$NFT_SERVER_DROP_PASV
	APPLY=1
	APPLY_KILL=1
	REFL_CONF=("allow_apply = yes")
	CURL_PASV=fail
	CURL_ACT=fail
	WANT_RC=137
	APPLY_RULES=(server=identical client=identical)
	;;
*)
	echo "unknown scenario '$NAME'" >&2
	exit 2
	;;
esac

# --apply: the rulesets of both hosts (nft list ruleset, and with
# handles) before the agent runs and after
apply_snap() { # apply_snap TAG
	local h ns
	for h in client server; do
		ns=$NS_S
		[[ $h == client ]] && ns=$NS_C
		nsx "$ns" 10 nft list ruleset >"$T_DIR/rules-$h-$1.txt"
		nsx "$ns" 10 nft -a list ruleset >"$T_DIR/rules-$h-$1-a.txt"
	done
}

# apply_rules_check: each APPLY_RULES host's ruleset after the run is
# byte-identical to before (both listings), or only gained lines
apply_rules_check() {
	local spec h want removed added
	apply_snap after
	for spec in "${APPLY_RULES[@]}"; do
		h=${spec%%=*}
		want=${spec#*=}
		removed=$(diff "$T_DIR/rules-$h-before.txt" "$T_DIR/rules-$h-after.txt" | grep -c '^<' || true)
		added=$(diff "$T_DIR/rules-$h-before.txt" "$T_DIR/rules-$h-after.txt" | grep -c '^>' || true)
		if [[ $want == identical ]]; then
			if cmp -s "$T_DIR/rules-$h-before.txt" "$T_DIR/rules-$h-after.txt" &&
				cmp -s "$T_DIR/rules-$h-before-a.txt" "$T_DIR/rules-$h-after-a.txt"; then
				log "ok:   $h ruleset byte-identical to before (nft list ruleset, nft -a list ruleset)"
			else
				fail "$h ruleset differs from before: $(diff "$T_DIR/rules-$h-before-a.txt" "$T_DIR/rules-$h-after-a.txt" | head -20 | tr '\n' ' ')"
			fi
		elif ((removed == 0 && added > 0)); then
			log "ok:   $h ruleset only gained $added line(s):"
			{ diff "$T_DIR/rules-$h-before.txt" "$T_DIR/rules-$h-after.txt" || true; } |
				grep '^>' | sed 's/^/    /' >&2
		else
			fail "$h ruleset: $removed line(s) removed, $added added (want only gained)"
		fi
	done
}

# apply_kill_run BUILD JSON ARGS...: the agent in the background with the
# confirm window held open; once both hosts' undo plans exist (both
# patches loaded) kill -9 it, then wait for both watchdogs to roll back
apply_kill_run() {
	local build=$1 json=$2 i pa=$T_DIR/agent-state/apply.plan pr=$T_DIR/refl-state/apply.plan
	shift 2
	bg_in_ns "$NS_C" "$T_DIR/agent.err" env FTPATH_CHECKAPPLY_FAULT=hold \
		"$(realpath "$build/ftpath-agent")" check --reflector "$SERVER4" \
		--cert "$CERTS/agent.crt" --key "$CERTS/agent.key" \
		--ca "$CERTS/ca.crt" --json "$json" "$@"
	local pid=$BG_PID
	for ((i = 0; i < 600; i++)); do
		[[ -e $pa && -e $pr ]] && grep -q 'holding the confirm window' "$T_DIR/agent.err" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [[ ! -e $pa || ! -e $pr ]]; then
		fail "the patches were not both loaded (agent plan: $([[ -e $pa ]] && echo yes || echo no), reflector plan: $([[ -e $pr ]] && echo yes || echo no))"
	else
		apply_snap loaded
		cmp -s "$T_DIR/rules-client-before.txt" "$T_DIR/rules-client-loaded.txt" &&
			fail "the client ruleset did not change while the patch was loaded"
		cmp -s "$T_DIR/rules-server-before.txt" "$T_DIR/rules-server-loaded.txt" &&
			fail "the server ruleset did not change while the patch was loaded"
		log "both patches loaded; kill -9 of the agent (pid $pid) inside the confirm window"
	fi
	kill -KILL "$pid" 2>/dev/null || true
	AGENT_RC=0
	wait "$pid" 2>/dev/null || AGENT_RC=$?
	touch "$T_DIR/agent.out"
	for ((i = 0; i < 150; i++)); do
		[[ ! -e $pa && ! -e $pr ]] && break
		sleep 0.1
	done
	[[ ! -e $pa ]] || fail "the agent host's watchdog did not roll back within 15 s (plan still there)"
	[[ ! -e $pr ]] || fail "the reflector's watchdog did not roll back within 15 s (plan still there)"
	[[ ! -e $pa && ! -e $pr ]] && log "ok:   both watchdogs rolled back by themselves (no undo plan left)"
	grep -q 'ended undecided: the watchdog rolls back' "$T_DIR/reflector.log" ||
		fail "the reflector did not log the undecided apply of the dropped session"
}

topo_init "$short"
T_NAME=$NAME
echo "prefix $T_PFX"
topo_up
[[ -z $SVC_ADDR ]] || server_service_addr "$SVC_ADDR"
[[ -z $DEAD_VLAN ]] || router_dead_vlan "$DEAD_VLAN"
[[ -z $MTU_LINK ]] || router_mtu_blackhole "$MTU_LINK"
if ((BIG_FILE)); then
	# lines of base64: what curl_ftp compares against
	TEST_CONTENT=$(head -c 49152 /dev/urandom | base64 -w 76)
fi
if [[ -n $RULES ]]; then
	router_nft "$RULES"
	log "router fault loaded:"
	sed 's/^/    /' "$T_DIR/router.nft" >&2
fi
if [[ -n $SERVER_RULES ]]; then
	ns_nft "$NS_S" server "$SERVER_RULES"
	log "server host fault loaded:"
	sed 's/^/    /' "$T_DIR/server.nft" >&2
fi
if [[ -n $CLIENT_RULES ]]; then
	ns_nft "$NS_C" client "$CLIENT_RULES"
	log "client host fault loaded:"
	sed 's/^/    /' "$T_DIR/client.nft" >&2
fi
((${#HOSTS_LINES[@]})) && client_hosts "${HOSTS_LINES[@]}"
[[ -z $FORGET_IDLE ]] || router_forget_idle "$FORGET_IDLE"
((VSFTPD)) && start_vsftpd "${VSFTPD_EXTRA[@]}"
if ((HOLD_CONTROL)); then
	# one FTP control connection held open from the client (bounded;
	# killed by PID at teardown)
	bg_in_ns "$NS_C" "$T_DIR/hold.log" timeout 40 bash -c \
		"exec 3<>/dev/tcp/$SERVER4/21; sleep 35"
	HOLD_PID=$BG_PID
	sleep 0.5
	kill -0 "$HOLD_PID" 2>/dev/null || fail "the held control connection did not stay open"
fi

if [[ $CURL_ONLY != 1 ]]; then
	make_certs
	if ((BAD_CERT)); then
		# an agent certificate from a CA the reflector does not trust
		mkdir -p "$T_DIR/other"
		"$REPO_DIR/deploy/ftpath-certs" ca "$T_DIR/other" >/dev/null
		"$REPO_DIR/deploy/ftpath-certs" agent "$T_DIR/other" agent >/dev/null
		cp "$T_DIR/other/agent.crt" "$T_DIR/other/agent.key" "$CERTS/"
	fi
	((APPLY)) && REFL_CONF+=("apply_state_dir = $T_DIR/refl-state")
	if ((REFLECTOR)); then
		start_reflector "$BUILD" "${REFL_CONF[@]}"
	else
		REFLECTOR_PID=""
	fi
	if [[ $FAM == 6 ]] && ((!DUALSTACK)); then
		AGENT_REFLECTOR="[$SERVER6]"
	fi
	if ((CONCURRENT)); then
		# a second agent, started at the same moment, in the background
		nsx "$NS_C" 60 "$(realpath "$BUILD/ftpath-agent")" check \
			--reflector "$SERVER4" --cert "$CERTS/agent.crt" \
			--key "$CERTS/agent.key" --ca "$CERTS/ca.crt" \
			--json "$T_DIR/agent2.json" "${AGENT_ARGS[@]}" \
			>"$T_DIR/agent2.out" 2>&1 &
		second=$!
	fi
	((BUSY)) && busy_start
	if [[ -n $FIX_HOST ]] || ((SG)); then
		mkdir -p "$T_DIR/fix"
		AGENT_ARGS+=(--fix-out "$T_DIR/fix")
	fi
	((SG)) && sg_setup
	[[ -n $JUNIT ]] && AGENT_ARGS+=(--junit "$T_DIR/agent.xml")
	[[ -n $HTML ]] && AGENT_ARGS+=(--html "$T_DIR/agent.html")
	if ((APPLY)); then
		AGENT_ARGS+=(--apply --state-dir "$T_DIR/agent-state")
		apply_snap before
	fi
	if ((APPLY_KILL)); then
		apply_kill_run "$BUILD" "$T_DIR/agent.json" "${AGENT_ARGS[@]}"
	else
		run_agent "$BUILD" "$T_DIR/agent.json" "${AGENT_ARGS[@]}"
	fi
	[[ -n $JUNIT ]] && junit_check
	[[ -n $HTML ]] && html_check
	((BUSY)) && busy_check
	# while the reflector still runs: the scope is checked after pairing
	((FIX_BAD_SCOPE)) && fix_bad_scope
	if ((NOCAP_REFL_LOG)); then
		# the fallback without nftables: bound ports, no tproxy
		grep -q 'diverted to the transparent listener' "$T_DIR/reflector.log" &&
			fail "the reflector diverted without CAP_NET_ADMIN"
		grep -q 'listened on where free' "$T_DIR/reflector.log" ||
			fail "the reflector did not fall back to listening where free"
		grep -q 'without the server-side trace' "$T_DIR/reflector.log" ||
			fail "the reflector did not log that it runs without the trace"
	fi
	if ((CONCURRENT)); then
		rc2=0
		wait "$second" || rc2=$?
		log "second agent exit $rc2:"
		sed 's/^/    | /' "$T_DIR/agent2.out" >&2
		"$PYTHON" "$HERE/check_json.py" --json "$T_DIR/agent2.json" \
			--rc "$rc2" --want-rc 0 "${CHECKS[@]}" >"$T_DIR/check2.out" 2>&1 ||
			fail "second concurrent agent: $(grep '^FAIL' "$T_DIR/check2.out" | tr '\n' ' ')"
	fi
	if ((EXTRA_CLEAN)); then
		# CLI contract: usage errors exit 2; --json - puts JSON on stdout
		agent_bin=$(realpath "$BUILD/ftpath-agent")
		rc=0
		nsx "$NS_C" 10 "$agent_bin" check --reflector "$SERVER4" >/dev/null 2>&1 || rc=$?
		((rc == 2)) || fail "agent without --cert/--key/--ca: exit $rc (want 2)"
		rc=0
		nsx "$NS_C" 10 "$agent_bin" frobnicate >/dev/null 2>&1 || rc=$?
		((rc == 2)) || fail "agent with an unknown command: exit $rc (want 2)"
		rc=0
		nsx "$NS_C" 30 "$agent_bin" check --reflector "$SERVER4" \
			--cert "$CERTS/agent.crt" --key "$CERTS/agent.key" \
			--ca "$CERTS/ca.crt" --json - >"$T_DIR/stdout.json" \
			2>"$T_DIR/stdout.err" || rc=$?
		((rc == 0)) || fail "agent --json -: exit $rc (want 0)"
		"$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["probes"]' \
			"$T_DIR/stdout.json" 2>/dev/null ||
			fail "agent --json -: stdout is not the JSON report"
		grep -q 'control' "$T_DIR/stdout.err" ||
			fail "agent --json -: no human report on stderr"
	fi
	log "agent report (stdout):"
	sed 's/^/    | /' "$T_DIR/agent.out" >&2
	for h in "${HUMAN_GREP[@]}"; do
		grep -qF -- "$h" "$T_DIR/agent.out" ||
			fail "the human report does not say '$h'"
	done
	if [[ -s $T_DIR/agent.err ]]; then
		log "agent stderr (last 20 lines):"
		tail -n 20 "$T_DIR/agent.err" | sed 's/^/    ! /' >&2
	fi
	# A probe must never leave a hole: the agent has exited, so nothing of
	# it may remain in the client ns; the session is over (bye), so the
	# reflector's session tables should be gone too.
	left=$(ns_foreign_tables "$NS_C")
	[[ -z $left ]] || fail "nftables tables left in the client ns after the agent exited: $left"
	for _ in $(seq 1 30); do
		[[ -z $(ns_foreign_tables "$NS_S") ]] && break
		sleep 0.1
	done
	left=$(ns_foreign_tables "$NS_S")
	[[ -z $left ]] || log "note: tables in the server ns 3 s after the session ended (reflector still running): $left"
	((${#APPLY_RULES[@]})) && apply_rules_check
	# The reflector must release its ports before curl runs: the agent
	# said bye; give the reflector a bounded moment, then stop it.
	if [[ -n $REFLECTOR_PID ]]; then
		kill -TERM "$REFLECTOR_PID" 2>/dev/null || true
		for _ in $(seq 1 30); do
			kill -0 "$REFLECTOR_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$REFLECTOR_PID" 2>/dev/null; then
			fail "reflector (pid $REFLECTOR_PID) did not exit within 3 s of SIGTERM"
			kill -KILL "$REFLECTOR_PID" 2>/dev/null || true
		fi
		refl_rc=0
		wait "$REFLECTOR_PID" 2>/dev/null || refl_rc=$?
		# a clean shutdown on SIGTERM: 0 (or death by the signal itself)
		if ((refl_rc != 0 && refl_rc != 143)); then
			fail "reflector exit status $refl_rc after SIGTERM"
		fi
		# a clean reflector shutdown leaves no nftables table behind
		left=$(ns_foreign_tables "$NS_S")
		[[ -z $left ]] || fail "nftables tables left in the server ns after the reflector exited: $left"
		# ... and no policy rule of the tproxy diversion (27100-27199)
		left=$({ ip -n "$NS_S" -4 rule; ip -n "$NS_S" -6 rule; } 2>/dev/null |
			grep -E '^271[0-9][0-9]:' | tr '\n' ' ' || true)
		[[ -z $left ]] || fail "policy rules left in the server ns after the reflector exited: $left"
	fi
fi

# sanitizer builds (make SAN=1): any report is a failure
for f in "$T_DIR/agent.err" "$T_DIR/reflector.log"; do
	if [[ -f $f ]] && grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
		fail "sanitizer report in ${f##*/}:"
		grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" | head -40 | sed 's/^/    ! /' >&2
	fi
done

# Real FTP client cross-checks ----------------------------------------------
cp=fail
ca=fail
curl_ftp passive "$FAM" && cp=ok
curl_ftp active "$FAM" && ca=ok
[[ $cp == "$CURL_PASV" ]] || fail "curl passive: $cp, scenario expects $CURL_PASV (topology broken?)"
[[ $ca == "$CURL_ACT" ]] || fail "curl active: $ca, scenario expects $CURL_ACT (topology broken?)"
cpv=""
if [[ -n $CURL_PASVONLY ]]; then
	cpv=fail
	curl_ftp pasv "$FAM" && cpv=ok
	[[ $cpv == "$CURL_PASVONLY" ]] || fail "curl PASV only: $cpv, scenario expects $CURL_PASVONLY (topology broken?)"
fi
cfp=""
cfa=""
if [[ -n $CURL_FTPS ]]; then
	cfp=fail
	curl_ftp ftps "$FAM" && cfp=ok
	[[ $cfp == "$CURL_FTPS" ]] || fail "curl FTPS passive: $cfp, scenario expects $CURL_FTPS (topology broken?)"
fi
if [[ -n $CURL_FTPS_ACT ]]; then
	cfa=fail
	curl_ftp ftps-active "$FAM" && cfa=ok
	[[ $cfa == "$CURL_FTPS_ACT" ]] || fail "curl FTPS active: $cfa, scenario expects $CURL_FTPS_ACT (topology broken?)"
fi

# The fix: the patch the agent wrote for that host, loaded there with
# nft -f, only adds, and the real client's failing mode then works.
fix_check() {
	local f=$T_DIR/fix/$FIX_HOST.nft ns before after removed
	ns=$NS_S
	[[ $FIX_HOST == client ]] && ns=$NS_C
	if [[ ! -s $f ]]; then
		fail "--fix-out wrote no $FIX_HOST.nft"
		return
	fi
	log "fix $FIX_HOST.nft:"
	sed 's/^/    # /' "$f" >&2
	before=$(nsx "$ns" 10 nft list ruleset)
	nsx "$ns" 10 nft -f "$f" || { fail "nft -f $FIX_HOST.nft failed"; return; }
	after=$(nsx "$ns" 10 nft list ruleset)
	removed=$(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep '^<' || true)
	[[ -z $removed ]] || fail "the patch changed or removed rules: $removed"
	if curl_ftp "$FIX_MODE" "$FAM"; then
		log "ok:   curl $FIX_MODE works after loading $FIX_HOST.nft (it failed before)"
	else
		fail "curl $FIX_MODE still fails after loading $FIX_HOST.nft"
	fi
	if [[ -n $FIX_SRC2 ]]; then
		if CURL_SRC=$FIX_SRC2 curl_ftp "$FIX_MODE" "$FAM"; then
			log "ok:   curl $FIX_MODE from $FIX_SRC2 works after loading $FIX_HOST.nft (it failed before)"
		else
			fail "curl $FIX_MODE from $FIX_SRC2 fails after loading $FIX_HOST.nft (its scope)"
		fi
	fi
}
# The texts the patch must (not) hold, before it is loaded.
fix_grep() {
	local f=$T_DIR/fix/$FIX_HOST.nft t
	for t in "${FIX_GREP[@]}"; do
		grep -qF -- "$t" "$f" 2>/dev/null || fail "$FIX_HOST.nft does not say '$t'"
	done
	for t in "${FIX_NOGREP[@]}"; do
		grep -qF -- "$t" "$f" 2>/dev/null && fail "$FIX_HOST.nft says '$t'"
	done
	[[ -z $FIX_STYLE ]] && return 0
	t=$("$PYTHON" -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(" ".join(str((c.get("fix") or {}).get("style")) for c in d["causes"]
               if (c.get("fix") or {}).get("kind") == "nftables"))' "$T_DIR/agent.json" 2>&1)
	[[ $t == "$FIX_STYLE" ]] || fail "JSON fix style: '$t' (want $FIX_STYLE)"
	return 0
}
if [[ $CURL_ONLY != 1 && -n $FIX_HOST ]]; then
	fix_grep
	if [[ -n $FIX_SRC2 ]]; then
		ip -n "$NS_C" addr add "$FIX_SRC2/24" dev c0
		CURL_SRC=$FIX_SRC2 curl_ftp "$FIX_MODE" "$FAM" &&
			fail "curl $FIX_MODE from $FIX_SRC2 works before the patch (topology broken?)"
	fi
	fix_check
fi
if [[ $CURL_ONLY != 1 ]] && ((SG)); then
	"$PYTHON" "$HERE/check_sg.py" "$T_DIR/agent.json" "$T_DIR/fix" >&2 ||
		fail "security-group assertions"
fi
if ((IDLE_XCHECK)); then
	# a real FTP client idles as well: NOOP after 1 s works, after 6 s
	# the router has forgotten the connection
	for t in 1:ok 6:fail; do
		got=fail
		nsx "$NS_C" 20 "$PYTHON" "$HERE/idle_client.py" "$SERVER4" \
			"${t%%:*}" >"$T_DIR/idle-${t%%:*}.out" 2>&1 && got=ok
		log "python ftplib NOOP after ${t%%:*} s idle: $got ($(tr '\n' ' ' <"$T_DIR/idle-${t%%:*}.out"))"
		[[ $got == "${t#*:}" ]] ||
			fail "real client NOOP after ${t%%:*} s idle: $got, scenario expects ${t#*:}"
	done
	# the sysctl stayed in the router namespace
	rv=$(nsx "$NS_R" 5 sysctl -n net.netfilter.nf_conntrack_tcp_timeout_established)
	[[ $rv == "$FORGET_IDLE" ]] || fail "router conntrack timeout is $rv (want $FORGET_IDLE)"
fi

if [[ $CURL_ONLY != 1 ]]; then
	if [[ -f $T_DIR/agent.json ]]; then
		log "agent JSON:"
		"$PYTHON" -m json.tool "$T_DIR/agent.json" 2>/dev/null | head -c 6000 | sed 's/^/    /' >&2 || true
	fi
	XCURL=()
	((XCHECK)) && XCURL=(--curl "passive=$cp" --curl "active=$ca")
	# vsftpd on another port: curl crosses the data paths, not port 21
	[[ ${VSFTPD_PORT:-21} != 21 ]] && XCURL+=(--curl-ignore-control)
	[[ -n $cpv ]] && XCURL+=(--curl "pasv=$cpv")
	[[ -n $cfp ]] && XCURL+=(--curl "ftps=$cfp")
	[[ -n $cfa ]] && XCURL+=(--curl "ftps-active=$cfa")
	if ((${#CHECKS[@]})); then
		"$PYTHON" "$HERE/check_json.py" --json "$T_DIR/agent.json" \
			--rc "$AGENT_RC" --want-rc "$WANT_RC" "${CHECKS[@]}" \
			"${XCURL[@]}" >&2 || fail "agent JSON assertions"
	elif [[ $AGENT_RC == "$WANT_RC" ]]; then
		log "ok:   agent exit status $AGENT_RC (want $WANT_RC)"
		if [[ -n $UNREACHED_JSON ]]; then
			"$PYTHON" - "$T_DIR/agent.json" "$UNREACHED_JSON" <<'PY' >&2 ||
import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == 1, "version"
assert d["probes"] == [], "no probes without the reflector"
notes = " ".join(d["notes"])
assert sys.argv[2] in notes, "notes: " + notes
print("ok:   exit 3 still wrote the JSON report: " + notes[:160])
PY
				fail "exit 3 without the JSON report the contract promises"
		fi
	else
		fail "agent exit status $AGENT_RC (want $WANT_RC)"
	fi
	if ((FAILS)); then
		log "reflector log (last 40 lines):"
		[[ -f $T_DIR/reflector.log ]] &&
			tail -n 40 "$T_DIR/reflector.log" | sed 's/^/    > /' >&2
	fi
fi

if ((FAILS)); then
	log "scenario $NAME: $FAILS failure(s)"
	exit 1
fi
log "scenario $NAME: all assertions hold"
exit 0

#!/usr/bin/env bash
# tests/netns/cli_test.sh BUILD - the agent's command line as a person
# meets it: usage errors name the option and the valid values (exit 2,
# nothing run), a fatal error is labelled "error:", the password sources,
# NO_COLOR, and the status line on a terminal (script(1) gives the agent
# one) for a check longer than a second: drawn, then erased before the
# report; never without a terminal.
set -euo pipefail

BUILD=${1:?usage: cli_test.sh BUILD}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"

[[ $(id -u) -eq 0 ]] || { echo "SKIP: cli_test.sh needs root"; exit 1; }
need_tools vsftpd script || { echo "SKIP: cli_test.sh: tools missing"; exit 1; }
AGENT=$(realpath "$BUILD/ftpath-agent")
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); log "ok:   $*"; }
nok() { FAIL=$((FAIL + 1)); log "FAIL: $*"; }

# usage WANT-TEXT ARGS...: exit 2 and stderr holding WANT-TEXT
usage() {
	local want=$1 rc=0
	shift
	timeout 10 "$AGENT" "$@" >"$T_DIR/u.out" 2>"$T_DIR/u.err" || rc=$?
	if ((rc == 2)) && grep -qF -- "$want" "$T_DIR/u.err"; then
		ok "$* -> exit 2, '$want'"
	else
		nok "$* -> exit $rc: $(head -c 300 "$T_DIR/u.err")"
	fi
}

topo_init cli
usage "--passive-range: '70000-1' is not a port range LO-HI" check --passive-range 70000-1
usage "--timeout-ms: 'abc' is not a number of milliseconds from 1 to 600000" check --timeout-ms abc
usage "--control-port: '0' is not a port from 1 to 65535" check --control-port 0
usage "ftpath-agent check: unrecognized option '--bogus'" check --bogus
usage "ftpath-agent watch: option '--interval' requires an argument" watch --interval
usage "--ftp-password-file /nonexistent.ftpath: No such file or directory" \
	check --ftp-password-file /nonexistent.ftpath --reflector 203.0.113.2 \
	--cert a --key b --ca c
usage "error: TLS setup: cannot load certificate /nonexistent.ftpath.crt: No such file or directory" \
	check --reflector 203.0.113.2 --cert /nonexistent.ftpath.crt --key b --ca c
: >"$T_DIR/empty.pass"
usage "the first line is empty" check --ftp-password-file "$T_DIR/empty.pass" \
	--reflector 203.0.113.2 --cert a --key b --ca c
timeout 10 "$AGENT" check --ftp-user u:secret --reflector 203.0.113.2 \
	--cert /nonexistent.ftpath.crt --key b --ca c 2>"$T_DIR/pw.err" || true
grep -q 'password on the command line can be read' "$T_DIR/pw.err" &&
	ok "a password on the command line is warned about" ||
	nok "no warning for a password on the command line: $(head -c 200 "$T_DIR/pw.err")"
FTPATH_FTP_PASSWORD=secret timeout 10 "$AGENT" check --ftp-user u:other \
	--reflector 203.0.113.2 --cert /nonexistent.ftpath.crt --key b --ca c \
	2>"$T_DIR/pw2.err" || true
grep -q 'password on the command line' "$T_DIR/pw2.err" &&
	nok "FTPATH_FTP_PASSWORD did not take precedence over the command line" ||
	ok "FTPATH_FTP_PASSWORD takes precedence (no command-line warning)"

topo_up
start_vsftpd
make_certs
start_reflector "$BUILD"
router_nft "$NFT_SILENT_DROP"
ARGS="check --reflector $SERVER4 --cert $CERTS/agent.crt --key $CERTS/agent.key --ca $CERTS/ca.crt"
# shellcheck disable=SC2086
nsx "$NS_C" 60 script -qfec "$AGENT $ARGS" "$T_DIR/tty.log" >/dev/null 2>&1 || true
if grep -q $'\r\033\\[Kftpath-agent: .*([0-9]* s)' "$T_DIR/tty.log" &&
	grep -q $'\r\033\\[Kftpath: agent ' "$T_DIR/tty.log"; then
	ok "on a terminal: the status line is drawn and erased before the report"
else
	nok "no status line (or not erased) on a terminal: $(head -c 400 "$T_DIR/tty.log" | cat -v)"
fi
grep -q $'\033\\[3[12]m' "$T_DIR/tty.log" && ok "colour on a terminal" ||
	nok "no colour on a terminal"
# shellcheck disable=SC2086
nsx "$NS_C" 60 env NO_COLOR=1 script -qfec "$AGENT $ARGS" "$T_DIR/nc.log" >/dev/null 2>&1 || true
grep -q 'path-silent-drop' "$T_DIR/nc.log" && ! grep -q $'\033\\[3[12]m' "$T_DIR/nc.log" &&
	ok "NO_COLOR: the report without colour" ||
	nok "NO_COLOR: colour or no report: $(head -c 300 "$T_DIR/nc.log" | cat -v)"
run_agent "$BUILD" "$T_DIR/plain.json"
if grep -q $'\r' "$T_DIR/agent.err" "$T_DIR/agent.out"; then
	nok "a status line without a terminal"
else
	ok "no status line without a terminal (exit $AGENT_RC)"
fi

echo "$PASS passed, $FAIL failed"
((FAIL == 0))

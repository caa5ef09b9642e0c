#!/usr/bin/env bash
# tests/netns/patch_test.sh [DRIVER] - nft/patch against the real kernel
# and a real vsftpd, through the lib.sh topology (client -- router --
# server namespaces, documentation addresses only).
#
# Each scenario loads a faulty harness table on one host, shows that a
# real curl transfer fails, writes the fix for the offending rule with
# patch_driver (which also checks it with patch_verify in that namespace),
# loads it with nft -f, and shows that the transfer now succeeds and that
# `nft list ruleset` only gained lines.  Scenarios:
#   server-rule-passive   input rule drops the passive range (by handle)
#   server-policy-passive input policy drop, established,related accepted,
#                         no helper: passive broken (helper style)
#   server-output-active  output rule drops the server's own sport 20
#   client-output-21      client output rule drops dport 21
#   client-input-active   client input rule drops sport 20 (helper style on
#                         the client: assigned in its output hook)
#   client-input-ports    the same with the ports style
#   server-output-reply   server output rule drops the passive answers
#                         (a reply hole: daddr, sport, established)
#   server-ip-control     an ip-family table's policy drops control 21
#   bad-hole              a hole in a chain that does not exist: rejected
#                         by patch_verify with the kernel's message, and
#                         nothing is loaded
#   no-cap                without CAP_NET_ADMIN patch_verify says it could
#                         not check (FTP_ERR_DENIED), not that it rejects
#
# DRIVER: a built patch_driver (default: build/tests/patch_driver, else
# built here by hand).  Prints "N passed, M failed"; exit 0 only if M is
# 0.  Exits 77 with SKIP when it cannot run.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PASS=0
FAIL=0

skip() { echo "SKIP: $*"; exit 77; }
ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
nok() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
# expect DESC CMD...: passes when CMD succeeds
expect() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
# refute DESC CMD...: passes when CMD fails
refute() {
	local d=$1
	shift
	if "$@"; then nok "$d"; else ok "$d"; fi
}

[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, nftables)"
for t in ip nft vsftpd curl python3 timeout ss setpriv; do
	command -v "$t" >/dev/null 2>&1 || skip "'$t' not installed"
done

# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"
export FTPATH_RUNID=${FTPATH_RUNID:-pt$$}
LIB_QUIET=${LIB_QUIET:-1}
topo_init patch

DRIVER=${1:-}
if [[ -z $DRIVER && -x $ROOT/build/tests/patch_driver ]]; then
	DRIVER=$ROOT/build/tests/patch_driver
fi
if [[ -z $DRIVER ]]; then
	DRIVER=$T_DIR/patch_driver
	# shellcheck disable=SC2046
	(cd "$ROOT" && cc -std=c11 -D_GNU_SOURCE -O1 -g -Icommon -Inft \
		$(pkg-config --cflags libnftables) \
		-o "$DRIVER" tests/netns/patch_driver.c nft/patch.c \
		common/addr.c common/err.c \
		$(pkg-config --libs libnftables)) ||
		skip "could not build patch_driver"
fi
DRIVER=$(realpath "$DRIVER")

topo_up
nsx "$NS_S" 5 nft list tables >/dev/null 2>&1 || skip "nf_tables not usable in a namespace"
start_vsftpd
expect "clean topology: curl passive works" curl_ftp passive
expect "clean topology: curl active works" curl_ftp active

# handle_of NS FAMILY TABLE CHAIN PATTERN: the handle of the rule whose
# text matches PATTERN, from nft -a.
handle_of() {
	nsx "$1" 5 nft -a list chain "$2" "$3" "$4" |
		sed -n "/$5/s/.* # handle \([0-9]*\)\$/\1/p" | head -n1
}

# only_added BEFORE AFTER: the ruleset gained lines and lost none.
only_added() {
	diff "$1" "$2" >"$2.diff"
	! grep -q '^<' "$2.diff" && grep -q '^>' "$2.diff"
}

# fix NAME NS MODE DRIVER-ARGS...: the whole cycle for one scenario whose
# harness table is already loaded in NS (curl MODE fails before, works
# after; the ruleset only gains lines).
fix() {
	local name=$1 ns=$2 mode=$3 pre=$T_DIR/$1
	shift 3
	refute "$name: curl $mode fails with the faulty rule" curl_ftp "$mode"
	nsx "$ns" 10 nft list ruleset >"$pre.before"
	expect "$name: patch_verify accepts the patch in that namespace" \
		nsx "$ns" 10 "$DRIVER" --out "$pre.nft" "$@" \
		>"$pre.out" 2>"$pre.err"
	cat "$pre.err" >>"$T_DIR/log"
	refute "$name: no flush/delete/replace in the patch" \
		grep -Eqw 'flush|delete|replace' "$pre.nft"
	expect "$name: nft -f loads it" nsx "$ns" 10 nft -f "$pre.nft"
	nsx "$ns" 10 nft list ruleset >"$pre.after"
	expect "$name: curl $mode works after the patch" curl_ftp "$mode"
	expect "$name: the ruleset only gained lines" \
		only_added "$pre.before" "$pre.after"
	if ((FAIL > 0)) && [[ -n ${PATCH_TEST_VERBOSE:-} ]]; then
		cat "$pre.nft" "$pre.err" "$pre.after.diff" >&2
	fi
}

# harness_off NS: remove this test's own faulty table (and with it the
# patch loaded into it) before the next scenario.
harness_off() { nsx "$1" 5 nft delete table "${2:-inet}" harness_filter; }

# 1. a rule in the server's input chain drops the passive range
ns_nft "$NS_S" srv-pasv "table inet harness_filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport $PASV_LO-$PASV_HI drop
	}
}"
H=$(handle_of "$NS_S" inet harness_filter input "tcp dport $PASV_LO-$PASV_HI drop")
fix server-rule-passive "$NS_S" passive --host server --family inet \
	--table harness_filter --chain input --handle "$H" --hook input \
	--path passive --peer "$CLIENT4" --ports "$PASV_LO-$PASV_HI" \
	--style ports
expect "server-rule-passive: inserted before the rule, with the peer" \
	grep -q "^insert rule inet harness_filter input handle $H ip saddr $CLIENT4 tcp dport $PASV_LO-$PASV_HI ct state new,established accept\$" \
	"$T_DIR/server-rule-passive.nft"
harness_off "$NS_S"

# 2. policy drop with established,related accepted but no helper assigned:
# control works, the passive data connection is new and dropped
ns_nft "$NS_S" srv-policy "table inet harness_filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif lo accept
		tcp dport 21 accept
	}
}"
fix server-policy-passive "$NS_S" passive --host server --family inet \
	--table harness_filter --chain input --policy --hook input \
	--path passive --peer "$CLIENT4" --ports "$PASV_LO-$PASV_HI" --stateful
expect "server-policy-passive: helper style (stateful chain, no AUTH TLS), appended" \
	bash -c "grep -q '^add ct helper inet harness_filter ftp-standard' '$T_DIR/server-policy-passive.nft' &&
		grep -q '^add rule inet harness_filter input ip saddr $CLIENT4 ' '$T_DIR/server-policy-passive.nft'"
harness_off "$NS_S"

# 3. the server's output chain drops its own active connect from port 20
ns_nft "$NS_S" srv-act 'table inet harness_filter {
	chain output {
		type filter hook output priority filter; policy accept;
		tcp sport 20 drop
	}
}'
H=$(handle_of "$NS_S" inet harness_filter output 'tcp sport 20 drop')
fix server-output-active "$NS_S" active --host server --family inet \
	--table harness_filter --chain output --handle "$H" --hook output \
	--path active --peer "$CLIENT4" --style ports
harness_off "$NS_S"

# 4. the client's output chain drops the control connection
ns_nft "$NS_C" cli-21 'table inet harness_filter {
	chain output {
		type filter hook output priority filter; policy accept;
		tcp dport 21 drop
	}
}'
H=$(handle_of "$NS_C" inet harness_filter output 'tcp dport 21 drop')
fix client-output-21 "$NS_C" passive --host client --family inet \
	--table harness_filter --chain output --handle "$H" --hook output \
	--path control --peer "$SERVER4"
harness_off "$NS_C"

# 5. the client's input chain drops the server's connect from port 20:
# the helper, assigned in the client's output hook, relates it
NFT_CLI_ACT='table inet harness_filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp sport 20 drop
	}
}'
ns_nft "$NS_C" cli-act "$NFT_CLI_ACT"
H=$(handle_of "$NS_C" inet harness_filter input 'tcp sport 20 drop')
fix client-input-active "$NS_C" active --host client --family inet \
	--table harness_filter --chain input --handle "$H" --hook input \
	--path active --peer "$SERVER4" --style helper
expect "client-input-active: helper assigned in the client's output hook" \
	grep -q '^add chain inet harness_filter ftp_helper_out { type filter hook output ' \
	"$T_DIR/client-input-active.nft"
harness_off "$NS_C"

# 6. the same with the data ports opened explicitly (the client's
# ephemeral range, where curl's PORT listener lives)
ns_nft "$NS_C" cli-act2 "$NFT_CLI_ACT"
H=$(handle_of "$NS_C" inet harness_filter input 'tcp sport 20 drop')
EPH=$(nsx "$NS_C" 5 cat /proc/sys/net/ipv4/ip_local_port_range | awk '{ print $1 "-" $2 }')
fix client-input-ports "$NS_C" active --host client --family inet \
	--table harness_filter --chain input --handle "$H" --hook input \
	--path active --peer "$SERVER4" --ports "$EPH" --style ports
harness_off "$NS_C"

# 7. the server's output chain drops the answers of the passive range
# (its SYN-ACKs): the accept matches the answers, established
ns_nft "$NS_S" srv-reply "table inet harness_filter {
	chain output {
		type filter hook output priority filter; policy accept;
		tcp sport $PASV_LO-$PASV_HI drop
	}
}"
H=$(handle_of "$NS_S" inet harness_filter output "tcp sport $PASV_LO-$PASV_HI drop")
fix server-output-reply "$NS_S" passive --host server --family inet \
	--table harness_filter --chain output --handle "$H" --hook output \
	--path passive --peer "$CLIENT4" --ports "$PASV_LO-$PASV_HI" \
	--style ports
expect "server-output-reply: matches the answers" \
	grep -q "ip daddr $CLIENT4 tcp sport $PASV_LO-$PASV_HI ct state established accept\$" \
	"$T_DIR/server-output-reply.nft"
harness_off "$NS_S"

# 8. an ip (not inet) table whose policy drops the control connection
ns_nft "$NS_S" srv-ip "table ip harness_filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif lo accept
		tcp dport $PASV_LO-$PASV_HI accept
	}
}"
fix server-ip-control "$NS_S" passive --host server --family ip \
	--table harness_filter --chain input --policy --hook input \
	--path control --peer "$CLIENT4"
harness_off "$NS_S" ip

# 9. a hole in a chain that does not exist: the kernel says so, and
# nothing is loaded
ns_nft "$NS_S" srv-bad "table inet harness_filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport $PASV_LO-$PASV_HI drop
	}
}"
nsx "$NS_S" 10 nft list ruleset >"$T_DIR/bad.before"
rc=0
nsx "$NS_S" 10 "$DRIVER" --host server --family inet --table harness_filter \
	--chain nosuchchain --policy --hook input --path passive \
	--peer "$CLIENT4" --ports "$PASV_LO-$PASV_HI" --style ports \
	>"$T_DIR/bad.out" 2>"$T_DIR/bad.err" || rc=$?
cat "$T_DIR/bad.err" >>"$T_DIR/log"
expect "bad-hole: patch_verify rejects it (exit 1)" test "$rc" -eq 1
expect "bad-hole: with the kernel's message" \
	grep -q 'patch_verify: invalid input: .*No such file or directory' "$T_DIR/bad.err"
nsx "$NS_S" 10 nft list ruleset >"$T_DIR/bad.after"
expect "bad-hole: nothing was loaded" cmp -s "$T_DIR/bad.before" "$T_DIR/bad.after"

# 10. without CAP_NET_ADMIN the ruleset cannot be read: "could not check"
# (exit 3, FTP_ERR_DENIED), never "the kernel rejected it"
rc=0
nsx "$NS_S" 10 setpriv --bounding-set -net_admin --inh-caps -net_admin \
	"$DRIVER" --host server --family inet --table harness_filter \
	--chain input --policy --hook input --path passive \
	--peer "$CLIENT4" --ports "$PASV_LO-$PASV_HI" --style ports \
	>"$T_DIR/nocap.out" 2>"$T_DIR/nocap.err" || rc=$?
cat "$T_DIR/nocap.err" >>"$T_DIR/log"
expect "no-cap: patch_verify cannot check without CAP_NET_ADMIN (exit 3)" \
	test "$rc" -eq 3
harness_off "$NS_S"

if ((FAIL > 0)) && [[ -f $T_DIR/log ]]; then
	echo "--- driver messages ---"
	cat "$T_DIR/log"
fi
echo "patch_test: $PASS passed, $FAIL failed"
((FAIL == 0))

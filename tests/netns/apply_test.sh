#!/usr/bin/env bash
# tests/netns/apply_test.sh BUILD - nft/apply (ftpath-agent apply and
# ftpath-reflector apply) against the real kernel.
#
# One private network namespace (lib.sh's server-host name for this run)
# holds an operator's ruleset: table inet filter with an input chain,
# counters that have counted (a probe to the dropped port 21 in setup), a
# named set with elements and a drop rule.  The patch inserts an accept
# before the drop rule, adds a helper chain, a ct helper object and its
# assignment, a set element and a related rule.  Checked:
#   a  apply --confirm: the patch stays, only additions in the listing
#   b  no confirmation within 3 s (no terminal): rolled back, `nft list
#      ruleset` and `nft -a list ruleset` byte-identical to before
#   c  kill -9 of the applier in the confirm window: the watchdog rolls
#      back, byte-identical; also killed right after the load, before the
#      exact plan is written (the provisional plan's window); SIGTERM to
#      the watchdog rolls back at once
#   d  kill -9 of the watchdog: the stale plan is found and reported, the
#      next apply refuses, apply --rollback-stale restores byte-identity;
#      and after the operator reloaded the ruleset (new rules with the
#      handles the plan names) it deletes nothing of theirs
#   e  a patch the kernel rejects is never loaded: identical, exit 2, the
#      kernel's error printed; so is one re-adding an existing chain
#   f  a script with `flush ruleset` is refused before the kernel sees it
#   g  'yes' typed on a terminal keeps it; ftpath-reflector apply works
#   h  apply_run() (BUILD/tests/apply_driver): a re-test that connects
#      from the client network to port 21 keeps a patch that opens it and
#      rolls back, byte-identical, one that does not
# Only documentation addresses; every nft command runs inside the
# namespace; processes are stopped by PID.  Prints "N passed, M failed";
# exit 0 only if M is 0.
set -euo pipefail

BUILD=${1:?usage: apply_test.sh BUILD}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"

[[ $(id -u) -eq 0 ]] || { echo "SKIP: apply_test.sh needs root"; exit 77; }
need_tools ps || { echo "SKIP: apply_test.sh"; exit 77; }
AGENT=$(realpath "$BUILD/ftpath-agent")
REFL=$(realpath "$BUILD/ftpath-reflector")
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); log "ok:   $*"; }
nok() { FAIL=$((FAIL + 1)); log "FAIL: $*"; }
check() {	# check DESC CMD...
	local d=$1
	shift
	if "$@" >>"$T_DIR/log" 2>&1; then ok "$d"; else nok "$d"; fi
}

topo_init apply
NS=$NS_S
STATE=$T_DIR/state	# never the host's /run/ftpath
ip netns add "$NS" || { echo "SKIP: cannot create a network namespace"; exit 77; }
ip -n "$NS" link set lo up
ip -n "$NS" addr add 192.0.2.1/32 dev lo
ip -n "$NS" addr add 198.51.100.2/32 dev lo	# a client address (h)
nsx "$NS" 5 nft list ruleset >/dev/null 2>&1 || { echo "SKIP: nf_tables not usable"; exit 77; }

X() { nsx "$NS" 30 "$@"; }

OPERATOR='table inet filter {
	set blocked {
		type ipv4_addr
		elements = { 192.0.2.98, 192.0.2.99 }
	}
	chain input {
		type filter hook input priority filter; policy accept;
		ct state established,related counter accept
		ip saddr @blocked counter drop
		tcp dport 21 counter drop
	}
}'

# A fresh operator ruleset whose counters have counted something.
operator_reset() {
	X nft flush ruleset
	ns_nft "$NS" operator "$OPERATOR"
	timeout -k 1 2 ip netns exec "$NS" bash -c \
		'exec 3<>/dev/tcp/192.0.2.1/21' 2>/dev/null || true
	X nft list ruleset >"$T_DIR/before.txt"
	X nft -a list ruleset >"$T_DIR/before-a.txt"
	X nft -j -s -a list ruleset >"$T_DIR/before.json"
	grep -q 'tcp dport 21 counter packets [1-9]' "$T_DIR/before.txt" ||
		die "setup: the drop rule's counter did not count"
}

# The patch, before the drop rule by its handle; it starts with the
# "make sure the table and chain exist" idiom, which the undo (also the
# provisional one of c') must never turn into a delete of the operator's.
write_patch() {
	local h
	h=$(X nft -a list chain inet filter input |
		sed -n 's/.*tcp dport 21 counter .* drop # handle \([0-9]*\)$/\1/p')
	[[ -n $h ]] || die "no handle for the drop rule"
	cat >"$T_DIR/patch.nft" <<EOF
# test patch: the control port for the documentation client network
# (the idiom "add table/chain" of ones that exist: never undone)
add table inet filter
add chain inet filter input
insert rule inet filter input handle $h ip saddr 198.51.100.0/24 tcp dport 21 ct state new accept
add chain inet filter ftp_helper { type filter hook prerouting priority filter; policy accept; }
add ct helper inet filter ftp-std { type "ftp" protocol tcp; }
add rule inet filter ftp_helper tcp dport 21 ct helper set "ftp-std"
add element inet filter blocked { 192.0.2.50 }
add set inet filter ftp_peers { type ipv4_addr; flags interval; elements = { 198.51.100.0/24 } }
add rule inet filter input ct state related accept
add table inet fixes
add chain inet fixes out { type filter hook output priority filter; policy accept; }
add rule inet fixes out tcp sport 20 accept
EOF
}

identical() {	# identical WHAT: both listings byte-identical to before
	X nft list ruleset >"$T_DIR/now.txt"
	X nft -a list ruleset >"$T_DIR/now-a.txt"
	if cmp -s "$T_DIR/before.txt" "$T_DIR/now.txt" &&
		cmp -s "$T_DIR/before-a.txt" "$T_DIR/now-a.txt"; then
		ok "$1: nft list ruleset and nft -a list ruleset byte-identical"
	else
		nok "$1: ruleset differs"
		diff "$T_DIR/before-a.txt" "$T_DIR/now-a.txt" >&2 || true
	fi
}
rc_is() {	# rc_is WANT DESC: $RC is WANT
	if [[ $RC -eq $1 ]]; then ok "$2"; else nok "$2 (exit $RC, want $1)"; fi
}
within() {	# within LO HI DESC: $MS in [LO, HI)
	if ((MS >= $1 && MS < $2)); then ok "$3 (${MS} ms)"; else nok "$3 (${MS} ms)"; fi
}
drop_count() { sed -n 's/.*tcp dport 21 counter packets \([0-9]*\).*/\1/p' "$1"; }
no_plan() { [[ ! -e $STATE/apply.plan ]]; }
wait_no_plan() {	# bounded: 10 s
	local i
	for i in $(seq 100); do no_plan && return 0; sleep 0.1; done
	return 1
}
wait_loaded() {	# wait_loaded LOG: the applier printed what it added
	local i
	for i in $(seq 100); do grep -q '^loaded ' "$1" && return 0; sleep 0.1; done
	return 1
}
# (no "nft | grep -q" under pipefail: grep's early exit would fail nft)
patched() {
	local l
	l=$(X nft list ruleset)
	[[ $l == *"ip saddr 198.51.100.0/24 tcp dport 21 ct state new accept"* ]]
}
# only_added BEFORE.json AFTER.json: every object of BEFORE is in AFTER
# unchanged (sets may have gained elements), and something was added
only_added() {
	"$PYTHON" - "$1" "$2" <<'PY'
import json, sys
def objs(path):
    out = {}
    for e in json.load(open(path))["nftables"]:
        (kind, o), = e.items()
        if kind == "metainfo":
            continue
        key = (kind, o.get("family"), o.get("table"), o.get("chain"),
               o.get("name"), o.get("handle"))
        out[key] = o
    return out
before, after = objs(sys.argv[1]), objs(sys.argv[2])
for k, o in before.items():
    a = after.get(k)
    if a is None:
        sys.exit("gone: %r" % (k,))
    if k[0] == "set":
        o, a = dict(o), dict(a)
        old, new = o.pop("elem", []), a.pop("elem", [])
        if not all(x in new for x in old):
            sys.exit("set lost elements: %r" % (k,))
    if o != a:
        sys.exit("changed: %r" % (k,))
sys.exit(0 if len(after) > len(before) else "nothing added")
PY
}
no_watchdog() { [[ -z $(ip netns pids "$NS" 2>/dev/null) ]]; }	# ours only

run_apply() {	# run_apply NAME ARGS...: foreground, no terminal; sets RC
	local name=$1
	shift
	RC=0
	X "$AGENT" apply "$@" --state-dir "$STATE" </dev/null \
		>"$T_DIR/$name.out" 2>"$T_DIR/$name.err" || RC=$?
}

# --- a: confirmed -----------------------------------------------------
operator_reset
write_patch
RC=0
X "$AGENT" apply "$T_DIR/patch.nft" --confirm --state-dir "$STATE" \
	</dev/null >"$T_DIR/a.out" 2>&1 || RC=$?
rc_is 0 "a: --confirm exits 0"
check "a: the accept is in the ruleset" patched
check "a: the report lists the inserted rule by handle, with its text" \
	grep -Eq '^  \+ rule inet filter input handle [0-9]+: ip saddr 198\.51\.100\.0/24 tcp dport 21 ct state new accept$' "$T_DIR/a.out"
X nft -a list ruleset >"$T_DIR/a-after.txt"
X nft -j -s -a list ruleset >"$T_DIR/a-after.json"
check "a: only additions (every operator object unchanged, handles too)" \
	only_added "$T_DIR/before.json" "$T_DIR/a-after.json"
check "a: counters kept" grep -q 'tcp dport 21 counter packets [1-9]' "$T_DIR/a-after.txt"
check "a: a new set keeps its inline elements" grep -q 'elements = { 198.51.100.0/24 }' "$T_DIR/a-after.txt"
check "a: no plan left" no_plan
check "a: the watchdog is gone" no_watchdog

# --- b: no confirmation -> rollback after 3 s -----------------------------
operator_reset
write_patch
T0=$(date +%s%N)
run_apply b "$T_DIR/patch.nft" --confirm-timeout 3
MS=$((($(date +%s%N) - T0) / 1000000))
rc_is 1 "b: exit 1 (rolled back)"
within 2900 10000 "b: rolled back after the 3 s"
check "b: says identical" grep -q 'rolled back: the ruleset listing is identical' "$T_DIR/b.out"
identical b
check "b: no plan left" no_plan
check "b: the watchdog is gone" no_watchdog

# --- c: kill -9 of the applier in the confirm window ----------------------
operator_reset
write_patch
bg_in_ns "$NS" "$T_DIR/c.out" "$AGENT" apply "$T_DIR/patch.nft" \
	--confirm-timeout 30 --state-dir "$STATE"
APID=$BG_PID
check "c: loaded" wait_loaded "$T_DIR/c.out"
check "c: the patch is in while waiting" patched
check "c: the pid killed is the applier" grep -q ftpath-agent "/proc/$APID/comm"
run_apply c-second "$T_DIR/patch.nft" --confirm
rc_is 3 "c: a second apply meanwhile is refused"
check "c: ... because one is waiting for its confirmation" \
	grep -q 'another apply is waiting for its confirmation' "$T_DIR/c-second.err"
T0=$(date +%s%N)
kill -9 "$APID"
wait "$APID" 2>/dev/null || true
check "c: the watchdog rolled back (plan removed)" wait_no_plan
MS=$((($(date +%s%N) - T0) / 1000000))
within 0 5000 "c: at once, not at the 30 s deadline"
identical c
check "c: the watchdog logged why" grep -q 'the applier is gone: rolled back' "$STATE/apply.log"

# c': killed right after the load, before the exact plan replaced the
# provisional one: the watchdog resolves the provisional plan
operator_reset
write_patch
RC=0
FTPATH_APPLY_FAULT=die-after-load X "$AGENT" apply "$T_DIR/patch.nft" \
	--confirm-timeout 30 --state-dir "$STATE" </dev/null \
	>"$T_DIR/c2.out" 2>&1 || RC=$?
rc_is 137 "c': the applier died inside the window (137)"
check "c': the watchdog rolled the provisional plan back" wait_no_plan
identical "c'"

# c'': SIGTERM to the watchdog (a shutdown) rolls back at once too
operator_reset
write_patch
bg_in_ns "$NS" "$T_DIR/c3.out" "$AGENT" apply "$T_DIR/patch.nft" \
	--confirm-timeout 30 --state-dir "$STATE"
APID=$BG_PID
check "c'': loaded" wait_loaded "$T_DIR/c3.out"
WPID=$(sed -n 's/.*(watchdog pid \([0-9]*\)).*/\1/p' "$T_DIR/c3.out")
[[ -n $WPID ]] && kill -TERM "$WPID"
RC=0
wait "$APID" || RC=$?
rc_is 1 "c'': SIGTERM to the watchdog: rolled back, the applier exits 1"
identical "c''"
check "c'': logged as SIGTERM" grep -q 'SIGTERM: rolled back' "$STATE/apply.log"

# --- d: kill -9 of the watchdog -------------------------------------------
operator_reset
write_patch
bg_in_ns "$NS" "$T_DIR/d.out" "$AGENT" apply "$T_DIR/patch.nft" \
	--confirm-timeout 30 --state-dir "$STATE"
APID=$BG_PID
check "d: loaded" wait_loaded "$T_DIR/d.out"
WPID=$(sed -n 's/.*(watchdog pid \([0-9]*\)).*/\1/p' "$T_DIR/d.out")
if [[ -n $WPID && -e /proc/$WPID ]]; then
	ok "d: watchdog pid $WPID"
	check "d: the watchdog has its own session" bash -c \
		"[[ \$(ps -o sid= -p $WPID) != \$(ps -o sid= -p $APID) ]]"
	check "d: ... and its own process group" bash -c \
		"[[ \$(ps -o pgid= -p $WPID) != \$(ps -o pgid= -p $APID) ]]"
	check "d: ... and no fd but the socket, the lock and /dev/null" bash -c \
		"[[ \$(ls /proc/$WPID/fd | wc -l) -le 6 ]]"
	kill -9 "$WPID"
else
	nok "d: no watchdog pid in the output"
fi
RC=0
wait "$APID" || RC=$?
rc_is 3 "d: the applier exits 3"
check "d: the applier says the watchdog is gone" grep -q 'is gone: the patch stays loaded' "$T_DIR/d.out"
check "d: the patch is still in" patched
check "d: the plan stays (stale)" test -e "$STATE/apply.plan"
run_apply d2 "$T_DIR/patch.nft"
rc_is 3 "d: a new apply refuses (exit 3)"
check "d: the stale plan is reported" grep -q 'a stale undo plan was found' "$T_DIR/d2.err"
check "d: with what it undoes" grep -Eq '^  \+ rule inet filter input handle [0-9]+$' "$T_DIR/d2.err"
RC=0
X "$AGENT" apply --rollback-stale --state-dir "$STATE" >"$T_DIR/d3.out" 2>&1 || RC=$?
rc_is 1 "d: --rollback-stale exits 1 (rolled back)"
check "d: --rollback-stale says identical" grep -q 'identical to before the apply' "$T_DIR/d3.out"
identical d
check "d: no plan left" no_plan
RC=0
X "$AGENT" apply --rollback-stale --state-dir "$STATE" >"$T_DIR/d4.out" 2>&1 || RC=$?
check "d: a second --rollback-stale has nothing to do (exit 0)" test "$RC" -eq 0

# d': a stale plan, then the operator reloads the ruleset (flush ruleset,
# the table made again) and adds rules: their handles are the ones the
# plan names.  The rollback must touch none of them.
operator_reset
write_patch
bg_in_ns "$NS" "$T_DIR/d5.out" "$AGENT" apply "$T_DIR/patch.nft" \
	--confirm-timeout 30 --state-dir "$STATE"
APID=$BG_PID
check "d': loaded" wait_loaded "$T_DIR/d5.out"
WPID=$(sed -n 's/.*(watchdog pid \([0-9]*\)).*/\1/p' "$T_DIR/d5.out")
[[ -n $WPID ]] && kill -9 "$WPID"
wait "$APID" 2>/dev/null || true
operator_reset
for p in $(seq 2100 2115); do X nft add rule inet filter input tcp dport "$p" counter accept; done
X nft list ruleset >"$T_DIR/before.txt"
X nft -a list ruleset >"$T_DIR/before-a.txt"
check "d': the operator's new rules carry the plan's handles" bash -c \
	"grep -o 'handle [0-9]*' '$STATE/apply.plan' | sort -u | while read -r _ h; do grep -q \"# handle \$h\$\" '$T_DIR/before-a.txt' || exit 1; done"
RC=0
X "$AGENT" apply --rollback-stale --state-dir "$STATE" >"$T_DIR/d6.out" 2>&1 || RC=$?
rc_is 1 "d': --rollback-stale of a plan for a table made again"
identical "d' (nothing of the new table deleted)"
check "d': no plan left" no_plan

# --- e: the kernel rejects it ---------------------------------------------
operator_reset
printf 'insert rule inet filter input handle 9999 tcp dport 21 accept\n' >"$T_DIR/bad.nft"
run_apply e "$T_DIR/bad.nft" --confirm
rc_is 2 "e: exit 2"
check "e: the kernel's error is printed" grep -q 'Error: Could not process rule: No such file or directory' "$T_DIR/e.err"
identical e
check "e: no plan, no watchdog" bash -c "[[ ! -e '$STATE/apply.plan' && -z \$(ip netns pids '$NS') ]]"
# re-adding an existing chain would change it: loaded as create, refused
printf 'add chain inet filter input { type filter hook input priority filter; policy drop; }\n' >"$T_DIR/exists.nft"
run_apply e2 "$T_DIR/exists.nft" --confirm
rc_is 2 "e: re-adding the operator's chain: exit 2"
check "e: ... File exists" grep -q 'File exists' "$T_DIR/e2.err"
identical "e (existing chain)"
# a set that exists (sets load as add): refused by apply itself
printf 'add set inet filter blocked { type ipv4_addr; elements = { 192.0.2.77 } }\n' >"$T_DIR/setexists.nft"
run_apply e3 "$T_DIR/setexists.nft" --confirm
rc_is 2 "e: adding to the operator's set through add set: exit 2"
check "e: ... it exists already" grep -q 'set inet filter blocked exists already' "$T_DIR/e3.err"
identical "e (existing set)"
check "e: no state left behind" bash -c "[[ ! -e '$STATE/apply.plan' && ! -e '$STATE/apply.before' ]]"

# --- f: refused scripts ----------------------------------------------------
printf 'add rule inet filter input tcp dport 2121 accept\nflush ruleset\n' >"$T_DIR/flush.nft"
run_apply f "$T_DIR/flush.nft" --confirm
rc_is 2 "f: flush ruleset: exit 2"
check "f: says why, with the line" grep -q "line 2: 'flush ruleset': removes or changes what is there" "$T_DIR/f.err"
identical f
printf 'delete rule inet filter input handle 2\n' >"$T_DIR/delete.nft"
run_apply f2 "$T_DIR/delete.nft" --confirm
rc_is 2 "f: delete rule: exit 2"

# --- g: a terminal, and the reflector ---------------------------------------
operator_reset
write_patch
if command -v script >/dev/null 2>&1; then
	RC=0
	# script(1) gives the applier a terminal; "yes" arrives after the
	# question (the input is read from the pty only once it asks)
	{ sleep 1; echo yes; } | timeout -k 2 20 script -qec \
		"ip netns exec $NS $AGENT apply $T_DIR/patch.nft --confirm-timeout 10 --state-dir $STATE" \
		/dev/null >"$T_DIR/g.out" 2>&1 || RC=$?
	rc_is 0 "g: 'yes' on the terminal keeps it"
	check "g: confirmed" grep -q 'confirmed: the change stays' "$T_DIR/g.out"
	check "g: the patch is in" patched
else
	log "g: script(1) missing: terminal case not run"
fi
operator_reset
write_patch
RC=0
X "$REFL" apply "$T_DIR/patch.nft" --confirm-timeout 3 --state-dir "$STATE" \
	</dev/null >"$T_DIR/g2.out" 2>&1 || RC=$?
rc_is 1 "g: ftpath-reflector apply rolls back unconfirmed (exit 1)"
identical "g (reflector)"
check "g: --help names the subcommand" bash -c "'$AGENT' --help | grep -q 'ftpath-agent apply FILE'"

# --- h: apply_run(): apply, re-test, keep or roll back ----------------------
DRIVER=$(realpath "$BUILD/tests/apply_driver" 2>/dev/null || true)
if [[ -x $DRIVER ]]; then
	operator_reset
	write_patch
	RC=0
	X "$DRIVER" "$STATE" "$T_DIR/patch.nft" 10 198.51.100.2 192.0.2.1 21 \
		>"$T_DIR/h.out" 2>&1 || RC=$?
	rc_is 0 "h: the re-test passed and apply_run kept it"
	check "h: re-test pass, kept" bash -c "grep -q '^retest pass' '$T_DIR/h.out' && grep -q '^kept' '$T_DIR/h.out'"
	check "h: the patch is in" patched
	check "h: no plan left" no_plan
	operator_reset
	printf 'insert rule inet filter input tcp dport 2121 accept\n' >"$T_DIR/nofix.nft"
	RC=0
	X "$DRIVER" "$STATE" "$T_DIR/nofix.nft" 10 198.51.100.2 192.0.2.1 21 \
		>"$T_DIR/h2.out" 2>&1 || RC=$?
	rc_is 1 "h: a patch that fixes nothing is rolled back (exit 1)"
	check "h: re-test fail, rolled back identical" bash -c "grep -q '^retest fail' '$T_DIR/h2.out' && grep -q '^rolled-back identical' '$T_DIR/h2.out'"
	# the re-test's SYN hit the operator's drop rule: its counter went on
	# counting (a restore from text would have reset it); all else equal
	X nft -s -a list ruleset >"$T_DIR/h-now-s.txt"
	X nft list ruleset >"$T_DIR/h-now.txt"
	sed 's/counter packets [0-9]* bytes [0-9]*/counter/' "$T_DIR/before-a.txt" >"$T_DIR/h-before-s.txt"
	check "h: nft -s -a list ruleset identical to before" cmp "$T_DIR/h-before-s.txt" "$T_DIR/h-now-s.txt"
	check "h: the drop rule's counter kept counting" \
		test "$(drop_count "$T_DIR/h-now.txt")" -gt "$(drop_count "$T_DIR/before.txt")"
	check "h: no plan, no watchdog" bash -c "[[ ! -e '$STATE/apply.plan' && -z \$(ip netns pids '$NS') ]]"
else
	nok "h: $BUILD/tests/apply_driver not built (make $BUILD/tests/apply_driver)"
fi

if ((FAIL > 0)); then
	log "--- log ---"
	cat "$T_DIR/log" >&2 || true
	for f in "$T_DIR"/*.out "$T_DIR"/*.err; do
		[[ -s $f ]] && { echo "--- $f" >&2; cat "$f" >&2; }
	done
fi
echo "apply_test: $PASS passed, $FAIL failed"
((FAIL == 0))

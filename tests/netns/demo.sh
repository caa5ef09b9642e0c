#!/usr/bin/env bash
# tests/netns/demo.sh BUILD - one real fault, diagnosed end to end (make demo).
#
# Builds client -- router -- server namespaces, makes the router silently
# drop the FTP passive range (like a cloud security group that only opens
# port 21), runs vsftpd + ftpath-reflector on the server and ftpath-agent
# on the client, prints the agent's report and tears everything down.
# Exit 0 iff the agent names the fault: passive = path-silent-drop.
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"

if [[ $(id -u) -ne 0 ]]; then
	echo "demo: needs root (network namespaces, nftables, ports 20/21)" >&2
	exit 1
fi
for p in ftpath-agent ftpath-reflector; do
	[[ -x $BUILD/$p ]] || {
		echo "demo: $BUILD/$p not built (make programs)" >&2
		exit 1
	}
done
need_tools vsftpd curl openssl ss >&2 || exit 1

LIB_QUIET=1
topo_init demo
topo_up
router_nft "$NFT_SILENT_DROP"
start_vsftpd
start_reflector "$BUILD"

cat <<EOF

ftpath demo
===========

  client ns              router ns                          server ns
  $CLIENT4  ------  $ROUTER_C4 | $ROUTER_S4  ------  $SERVER4
  ftpath-agent           nftables forward chain             vsftpd: control 21, passive
                         (the fault)                        $PASV_LO-$PASV_HI, active data from 20
                                                            ftpath-reflector :$REFLECTOR_PORT

The fault: the router silently drops TCP to ports $PASV_LO-$PASV_HI toward the server
(no RST, no ICMP), as a security group that opens only port 21 would:

$(sed 's/^/    /' "$T_DIR/router.nft")

An FTP client connects and logs in, then hangs at the first listing in passive
mode.  ftpath-agent is run on the client:

  ftpath-agent check --reflector $SERVER4 --cert agent.crt --key agent.key --ca ca.crt

EOF

run_agent "$BUILD" "$T_DIR/agent.json"
cat "$T_DIR/agent.out"
if [[ -s $T_DIR/agent.err ]]; then
	echo "--- agent stderr ---"
	tail -n 20 "$T_DIR/agent.err"
fi
echo
echo "(agent exit status $AGENT_RC, ${AGENT_MS} ms)"

rc=0
"$PYTHON" "$HERE/check_json.py" --json "$T_DIR/agent.json" --rc "$AGENT_RC" \
	--want-rc 1 --probe control=pass \
	--probe passive=fail:path-silent-drop >"$T_DIR/check.out" 2>&1 || rc=$?
if ((rc == 0)); then
	echo "demo: diagnosis correct - passive range $PASV_LO-$PASV_HI: path-silent-drop"
else
	echo "demo: WRONG diagnosis:"
	grep -E '^(FAIL|info)' "$T_DIR/check.out" | sed 's/^/    /'
	rc=1
fi
exit "$rc"

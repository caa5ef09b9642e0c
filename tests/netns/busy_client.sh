#!/usr/bin/env bash
# tests/netns/busy_client.sh SRC SERVER MODE FILE SHA256 STOPFILE LOG [RATE]
#
# A second FTP client for the busy-server scenario, run inside the client
# namespace: downloads ftp://SERVER/FILE from source address SRC with real
# curl (MODE passive or active), back to back, until STOPFILE exists (at
# most 200 downloads, each bounded by curl's --max-time).  One line per
# download in LOG: "START_MS END_MS MODE RC ok|bad".  RATE (curl
# --limit-rate) makes one download last long enough to span a whole run.
set -u
src=$1 server=$2 mode=$3 file=$4 sum=$5 stop=$6 log=$7 rate=${8:-}
opt=(-s -S -4 --max-time 20 --connect-timeout 3 --interface "$src")
[[ $mode == active ]] && opt+=(-P "$src")
[[ -n $rate ]] && opt+=(--limit-rate "$rate")
out=$(mktemp "${TMPDIR:-/tmp}/ftpath-busy.XXXXXX")
trap 'rm -f -- "$out"' EXIT
for _ in $(seq 1 200); do
	[[ -e $stop ]] && break
	t0=$(date +%s%3N)
	rc=0
	curl "${opt[@]}" -o "$out" "ftp://$server/$file" 2>>"$log.err" || rc=$?
	t1=$(date +%s%3N)
	res=bad
	[[ $rc == 0 && $(sha256sum <"$out" | cut -d' ' -f1) == "$sum" ]] && res=ok
	echo "$t0 $t1 $mode $rc $res" >>"$log"
	[[ -n $rate ]] && break		# one long download is the point
done

#!/usr/bin/env bash
# tests/netns/watch_test.sh BUILD - ftpath-agent watch under a real
# Prometheus: the agent watches a clean path (--listen in the client
# namespace), Prometheus (Debian's) scrapes it every second and evaluates
# deploy/prometheus/alerts.yml (its `for:` shortened for the test; the
# rule logic is promtool-tested as shipped); then the router starts to
# drop the passive range: ftpath_path_up{path="passive"} must go from 1 to
# 0 in Prometheus's own HTTP API and FtpathPathDown must fire.  Also the
# textfile form, promtool check/test rules.  The same Prometheus scrapes
# the reflector's own metrics_listen in the server namespace: it is up, it
# counts the watching agent's sessions, and a client without a
# certificate as a TLS refusal; both expositions pass promtool check
# metrics.  Needs root.
set -euo pipefail
BUILD=${1:?usage: watch_test.sh BUILD}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"

PASS=0
FAILN=0
ok() { log "ok:   $*"; PASS=$((PASS + 1)); }
bad() { log "FAIL: $*"; FAILN=$((FAILN + 1)); }

for t in prometheus promtool curl; do
	command -v "$t" >/dev/null || die "required tool '$t' not installed (scripts/deps.sh test)"
done
[[ $(id -u) -eq 0 ]] || die "needs root"

# the shipped rules, as shipped
if promtool check rules "$REPO_DIR/deploy/prometheus/alerts.yml" >/dev/null; then
	ok "promtool check rules deploy/prometheus/alerts.yml"
else
	bad "promtool check rules deploy/prometheus/alerts.yml"
fi
if (cd "$REPO_DIR/tests/prometheus" && promtool test rules alerts_test.yml >/dev/null); then
	ok "promtool test rules tests/prometheus/alerts_test.yml"
else
	bad "promtool test rules tests/prometheus/alerts_test.yml"
fi

topo_init watch
topo_up
start_vsftpd
make_certs
RMETRICS=$SERVER4:9110
start_reflector "$BUILD" "metrics_listen = $RMETRICS"
AGENT=$(realpath "$BUILD/ftpath-agent")
AGENT_COMMON=(--reflector "$SERVER4" --cert "$CERTS/agent.crt"
	--key "$CERTS/agent.key" --ca "$CERTS/ca.crt" --no-ftp-check)

# textfile: one check, then the file is there and complete
mkdir -p "$T_DIR/textfile"
nsx "$NS_C" 60 "$AGENT" watch --interval 1 --count 1 \
	--textfile "$T_DIR/textfile" "${AGENT_COMMON[@]}" >"$T_DIR/tf.log" 2>&1 ||
	bad "watch --textfile --count 1 failed: $(tail -3 "$T_DIR/tf.log")"
if grep -q '^ftpath_path_up{.*path="passive".*} 1$' "$T_DIR/textfile/ftpath.prom" 2>/dev/null &&
	grep -q '^ftpath_checks_total{result="pass"} 1$' "$T_DIR/textfile/ftpath.prom"; then
	ok "--textfile: ftpath.prom with the passive path up and one passing check"
else
	bad "--textfile: ftpath.prom missing or wrong: $(head -c 600 "$T_DIR/textfile/ftpath.prom" 2>/dev/null)"
fi

# watch over HTTP, scraped by Prometheus
METRICS=$CLIENT4:9109
PROMWEB=$CLIENT4:9090
bg_in_ns "$NS_C" "$T_DIR/watch.log" timeout 120 "$AGENT" watch --interval 2 \
	--count 50 --listen "$METRICS" "${AGENT_COMMON[@]}"
sed 's/for: [0-9a-z]*/for: 0s/' "$REPO_DIR/deploy/prometheus/alerts.yml" >"$T_DIR/alerts.yml"
cat >"$T_DIR/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $T_DIR/alerts.yml
scrape_configs:
  - job_name: ftpath
    static_configs:
      - targets: ['$METRICS']
  - job_name: ftpath-reflector
    static_configs:
      - targets: ['$RMETRICS']
YML
mkdir -p "$T_DIR/prom"
bg_in_ns "$NS_C" "$T_DIR/prometheus.log" timeout 120 prometheus \
	--config.file="$T_DIR/prometheus.yml" --storage.tsdb.path="$T_DIR/prom" \
	--web.listen-address="$PROMWEB" --log.level=warn

# query VALUE-EXPR: the API's first result value ("" if none)
query() {
	nsx "$NS_C" 5 curl -sf --get "http://$PROMWEB/api/v1/query" \
		--data-urlencode "query=$1" 2>/dev/null |
		"$PYTHON" -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null || true
}
# wait_for EXPR WANT SECONDS
wait_for() {
	local i v
	for ((i = 0; i < $3 * 2; i++)); do
		v=$(query "$1")
		[[ $v == "$2" ]] && return 0
		sleep 0.5
	done
	log "last value of $1: '$v'"
	return 1
}

if wait_for 'min(ftpath_path_up{path="passive"})' 1 40; then
	ok "Prometheus scraped the watching agent: passive up = 1"
else
	bad "Prometheus never saw passive up = 1 (watch log: $(tail -3 "$T_DIR/watch.log"))"
fi
router_nft "$NFT_SILENT_DROP"
log "router now drops the passive range"
if wait_for 'min(ftpath_path_up{path="passive"})' 0 60; then
	ok "after the fault: passive up = 0 in Prometheus"
else
	bad "passive never went to 0 in Prometheus"
fi
if wait_for 'ftpath_cause{cause="path-silent-drop"}' 1 20; then
	ok "ftpath_cause{cause=\"path-silent-drop\"} = 1"
else
	bad "no ftpath_cause for path-silent-drop"
fi
alerts=""
for ((i = 0; i < 40; i++)); do
	alerts=$(nsx "$NS_C" 5 curl -sf "http://$PROMWEB/api/v1/alerts" 2>/dev/null || true)
	grep -q '"alertname":"FtpathPathDown".*"state":"firing"' <<<"$alerts" && break
	sleep 0.5
done
if grep -q '"alertname":"FtpathPathDown".*"state":"firing"' <<<"$alerts"; then
	ok "alert FtpathPathDown is firing"
else
	bad "FtpathPathDown did not fire: $(head -c 400 <<<"$alerts")"
fi

# the reflector's own metrics
if wait_for 'up{job="ftpath-reflector"}' 1 20; then
	ok "Prometheus scrapes the reflector's metrics_listen (up = 1)"
else
	bad "the reflector's metrics_listen is not up in Prometheus"
fi
n=$(query 'ftpath_reflector_sessions_total')
if [[ $n =~ ^[0-9]+$ ]] && ((n >= 2)); then
	ok "ftpath_reflector_sessions_total = $n (the watching agent's checks)"
else
	bad "ftpath_reflector_sessions_total = '$n' (want >= 2)"
fi
# between checks nothing is armed and nothing waits (the sessions that
# were armed released their ports and their place in the queue): the
# lowest value of each over the scrapes so far is 0
a=$(query 'min_over_time(ftpath_reflector_armed_ports[10m])')
q=$(query 'min_over_time(ftpath_reflector_plans_queued[10m])')
[[ $a == 0 && $q == 0 ]] && ok "between checks: ftpath_reflector_armed_ports and _plans_queued come back to 0" ||
	bad "between checks: armed ports '$a', queued plans '$q' never 0 (a session kept its ports?)"
before=$(query 'ftpath_reflector_refusals_total{reason="tls-failed"}')
nsx "$NS_C" 10 openssl s_client -tls1_3 -connect "$SERVER4:$REFLECTOR_PORT" \
	-CAfile "$CERTS/ca.crt" < <(sleep 2) >/dev/null 2>&1 || true
if [[ $before =~ ^[0-9]+$ ]] &&
	wait_for "ftpath_reflector_refusals_total{reason=\"tls-failed\"} > bool $before" 1 20; then
	ok "a client without a certificate: ftpath_reflector_refusals_total{reason=\"tls-failed\"} went up from $before"
else
	bad "no tls-failed refusal counted: $(query 'ftpath_reflector_refusals_total{reason="tls-failed"}')"
fi
for m in "$METRICS" "$RMETRICS"; do
	if nsx "$NS_C" 5 curl -sf "http://$m/metrics" >"$T_DIR/expo.txt" &&
		promtool check metrics <"$T_DIR/expo.txt" >"$T_DIR/pcm.out" 2>&1; then
		ok "promtool check metrics: http://$m/metrics"
	else
		bad "promtool check metrics http://$m/metrics: $(head -c 300 "$T_DIR/pcm.out")"
	fi
done

topo_down
echo "watch_test: $PASS passed, $FAILN failed"
((FAILN == 0))

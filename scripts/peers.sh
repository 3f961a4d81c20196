#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Peers: well-known programs doing what copylab's tools do, measured the
# same way on the same file over loopback, so a strategy slower than its
# peer shows up as a ratio.  nginx (sendfile on/off) and copylab serve
# behind curl; HAProxy (splice forced/off), socat and copylab relay in front
# of an iperf3 -R sender; iperf3 with and without -Z; cp.  Servers' CPU is
# the /proc/PID/stat delta (user+sys, reaped children included) over the
# transfer; clients' is bash `time`.  One JSON record per measurement in
# DIR/peers.jsonl (schema copylab.peer/1, docs/tools.md), configs and logs
# in DIR, servers stopped on every exit.
#
# usage: scripts/peers.sh [--out DIR] [--size N] [--reps N] [--no-install]
#   --out DIR      results directory (default results/peers-UTCDATE)
#   --size N       bytes per transfer, with K/M/G (default 1G)
#   --reps N       repetitions of each measurement; the median is printed (default 3)
#   --no-install   do not apt-get missing peers (skip them instead)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COPYLAB=${COPYLAB:-$ROOT/copylab}
OUT="" SIZE_S=1G REPS=3 INSTALL=1
while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=$2; shift 2 ;;
	--size) SIZE_S=$2; shift 2 ;;
	--reps) REPS=$2; shift 2 ;;
	--no-install) INSTALL=0; shift ;;
	-h|--help) sed -n '13,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "peers.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
case $SIZE_S in
*[Gg]) SIZE=$(( ${SIZE_S%[Gg]} << 30 )) ;;
*[Mm]) SIZE=$(( ${SIZE_S%[Mm]} << 20 )) ;;
*[Kk]) SIZE=$(( ${SIZE_S%[Kk]} << 10 )) ;;
*[0-9]) SIZE=$SIZE_S ;;
*) echo "peers.sh: --size '$SIZE_S' is not a size" >&2; exit 2 ;;
esac
[ -x "$COPYLAB" ] || { echo "peers.sh: $COPYLAB is not built (make)" >&2; exit 1; }
OUT=${OUT:-$ROOT/results/peers-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/www" || exit 1
OUT=$(cd "$OUT" && pwd)
REC=$OUT/peers.jsonl
: >"$REC"
HZ=$(getconf CLK_TCK)
GIB=$((1 << 30))

# --- peers from Debian, when missing ------------------------------------------
need() {	# need COMMAND PACKAGE
	command -v "$1" >/dev/null && return 0
	if [ "$INSTALL" -eq 1 ] && [ "$(id -u)" -eq 0 ]; then
		echo "peers.sh: installing $2" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >>"$OUT/apt.log" 2>&1
	fi
	command -v "$1" >/dev/null
}
for p in "curl curl" "jq jq" "iperf3 iperf3" "nginx nginx-light" "haproxy haproxy" "socat socat"; do
	set -- $p
	need "$1" "$2" || echo "peers.sh: $1 is missing; its rows are skipped" >&2
done
command -v jq >/dev/null || { echo "peers.sh: jq is needed to write records" >&2; exit 1; }

# --- servers: started here, stopped on every exit --------------------------------
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {	# wait_port PORT: until something listens there (5 s)
	local i
	for i in $(seq 50); do
		ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}
# cpu_s PID: user and system seconds of the process, its threads and its reaped children.
cpu_s() {
	awk -v hz="$HZ" '{ sub(/^.*\) /, ""); printf "%.3f %.3f\n", ($12 + $14) / hz, ($13 + $15) / hz }' "/proc/$1/stat"
}
now() { date +%s.%N; }

# record SCENARIO STRATEGY ROLE BYTES WALL USER SYS VERIFIED VERIFY NOTE TOOL REP [CLIENT_USER CLIENT_SYS]
record() {
	jq -cn --arg sc "$1" --arg st "$2" --arg role "$3" --argjson bytes "$4" --argjson wall "$5" \
		--argjson u "$6" --argjson s "$7" --argjson ver "$8" --arg verify "$9" --arg note "${10}" \
		--arg tool "${11}" --argjson rep "${12}" --argjson cu "${13:-null}" --argjson cs "${14:-null}" \
		--arg transport "$([ "$1" = copy ] && echo none || echo tcp)" '
	def perg(u; s): if $bytes > 0 and u != null then (u + s) / ($bytes / 1073741824) else null end;
	{ schema: "copylab.peer/1", scenario: $sc, strategy: $st,
	  strategy_base: ($st | split(":")[0]), transport: $transport, bytes: $bytes, rep: $rep,
	  wall_s: $wall, bytes_per_s: (if $wall > 0 then $bytes / $wall else null end),
	  verified: $ver, verify: $verify, verify_note: (if $note == "" then null else $note end),
	  tool: $tool,
	  roles: ({ ($role): { under_test: true, cpu_user_s: $u, cpu_sys_s: $s, cpu_per_gib_s: perg($u; $s) } }
		  + (if $cu != null then { client: { under_test: false, cpu_user_s: $cu, cpu_sys_s: $cs,
						     cpu_per_gib_s: perg($cu; $cs) } } else {} end)) }' >>"$REC"
}

# --- the data ----------------------------------------------------------------------
FILE=$OUT/www/data.bin
echo "peers.sh: writing $SIZE bytes of test data to $FILE" >&2
head -c "$SIZE" /dev/urandom >"$FILE"
cat "$FILE" >/dev/null	# warm the page cache: every server reads from memory

# --- serve: curl from a server ------------------------------------------------------
# measure_serve NAME PID URL: REPS timed downloads, the server's CPU over each.
measure_serve() {
	local name=$1 pid=$2 url=$3 rep a b t0 t1 got verified verify note
	# Verification once, untimed: the bytes served are the file's.
	if curl -sS --max-time 600 "$url" | cmp -s - "$FILE"; then verify=ok; else verify=mismatch; fi
	for rep in $(seq "$REPS"); do
		a=$(cpu_s "$pid")
		t0=$(now)
		TIMEFORMAT='%U %S'
		{ time got=$(curl -sS --max-time 600 -o /dev/null -w '%{size_download}' "$url"); } 2>"$OUT/.ctime"
		t1=$(now)
		b=$(cpu_s "$pid")
		read -r cu cs <"$OUT/.ctime"
		verified=false note="verified by an untimed download: $verify"
		[ "$verify" = ok ] && [ "$got" = "$SIZE" ] && verified=true
		[ "$got" = "$SIZE" ] || note="downloaded $got of $SIZE bytes"
		record serve "$name" server "$got" "$(echo "$t1 - $t0" | bc -l)" \
			"$(echo "${b% *} - ${a% *}" | bc -l)" "$(echo "${b#* } - ${a#* }" | bc -l)" \
			"$verified" "$verify" "$note" "curl $(curl --version | head -n 1 | cut -d' ' -f2)" "$rep" "$cu" "$cs"
	done
}

nginx_row() {	# nginx_row on|off
	command -v nginx >/dev/null || return 0
	local port conf dir=$OUT/nginx-sendfile-$1
	port=$(free_port)
	mkdir -p "$dir/logs" "$dir/tmp"
	conf=$dir/nginx.conf
	cat >"$conf" <<EOF
# peers.sh: nginx as a single process (master_process off) so its CPU is one /proc entry.
daemon off;
master_process off;
worker_processes 1;
user root;
error_log $dir/logs/error.log;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile $1;
	tcp_nopush on;
	tcp_nodelay on;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$port;
		root $OUT/www;
	}
}
EOF
	nginx -c "$conf" -p "$dir" >"$dir/logs/stdout.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	wait_port "$port" || { echo "peers.sh: nginx did not start (see $dir/logs)" >&2; return 0; }
	measure_serve "peer:nginx-sendfile-$1" "$pid" "http://127.0.0.1:$port/data.bin"
	kill -TERM "$pid"; wait "$pid" 2>/dev/null
}

copylab_serve_row() {	# copylab_serve_row STRATEGY
	local port log=$OUT/copylab-serve-$1.log
	"$COPYLAB" serve --listen 127.0.0.1:0 --root "$OUT/www" --strategy "$1" --quiet >"$log.out" 2>"$log" &
	local pid=$!
	PIDS+=("$pid")
	sleep 0.3
	port=$(sed -n 's/^listening on 127.0.0.1://p' "$log.out")
	[ -n "$port" ] || { echo "peers.sh: copylab serve $1 did not start" >&2; return 0; }
	measure_serve "copylab:serve-$1" "$pid" "http://127.0.0.1:$port/data.bin"
	kill -TERM "$pid"; wait "$pid" 2>/dev/null
}

# --- relay: an iperf3 -R sender behind a proxy --------------------------------------
IPERF_PORT=""
start_iperf_server() {
	IPERF_PORT=$(free_port)
	iperf3 -s -p "$IPERF_PORT" -B 127.0.0.1 >"$OUT/iperf3-server.log" 2>&1 &
	PIDS+=("$!")
	wait_port "$IPERF_PORT"
}

# measure_relay NAME PID PORT: iperf3 -R -n SIZE through the proxy on PORT.
measure_relay() {
	local name=$1 pid=$2 port=$3 rep a b j sent recv wall verified verify
	for rep in $(seq "$REPS"); do
		j=$OUT/iperf3-$(echo "$name" | tr ':' '-')-$rep.json
		a=$(cpu_s "$pid")
		TIMEFORMAT='%U %S'
		{ time iperf3 -c 127.0.0.1 -p "$port" -R -n "$SIZE" -J >"$j" 2>&1; } 2>"$OUT/.ctime"
		sleep 0.2	# let a forking proxy (socat) reap its child
		b=$(cpu_s "$pid")
		read -r cu cs <"$OUT/.ctime"
		sent=$(jq -r '.end.sum_sent.bytes // 0' "$j" 2>/dev/null || echo 0)
		recv=$(jq -r '.end.sum_received.bytes // 0' "$j" 2>/dev/null || echo 0)
		wall=$(jq -r '.end.sum_received.seconds // 0' "$j" 2>/dev/null || echo 0)
		verified=false verify=mismatch
		[ "$sent" = "$recv" ] && [ "$recv" -gt 0 ] && verified=true verify=ok
		record relay "$name" relay "$recv" "$wall" \
			"$(echo "${b% *} - ${a% *}" | bc -l)" "$(echo "${b#* } - ${a#* }" | bc -l)" \
			"$verified" "$verify" "byte counts of iperf3's two ends (sent $sent)" \
			"iperf3 $(iperf3 --version | head -n 1 | cut -d' ' -f2)" "$rep" "$cu" "$cs"
	done
}

haproxy_row() {	# haproxy_row splice|nosplice
	command -v haproxy >/dev/null || return 0
	local port conf dir=$OUT/haproxy-$1 opts global=""
	port=$(free_port)
	mkdir -p "$dir"
	if [ "$1" = splice ]; then
		opts=$'\toption splice-request\n\toption splice-response'
	else
		global=$'\tnosplice'
		opts=""
	fi
	conf=$dir/haproxy.cfg
	cat >"$conf" <<EOF
# peers.sh: one thread, like copylab relay's single event loop.
global
	nbthread 1
	maxconn 1024
$global
defaults
	mode tcp
	timeout connect 5s
	timeout client 120s
	timeout server 120s
$opts
listen relay
	bind 127.0.0.1:$port
	server up 127.0.0.1:$IPERF_PORT
EOF
	haproxy -f "$conf" -db >"$dir/haproxy.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	wait_port "$port" || { echo "peers.sh: haproxy did not start (see $dir)" >&2; return 0; }
	measure_relay "peer:haproxy-$1" "$pid" "$port"
	kill -TERM "$pid"; wait "$pid" 2>/dev/null
}

socat_row() {
	command -v socat >/dev/null || return 0
	local port
	port=$(free_port)
	socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$IPERF_PORT" \
		2>"$OUT/socat.log" &
	local pid=$!
	PIDS+=("$pid")
	wait_port "$port" || return 0
	measure_relay "peer:socat" "$pid" "$port"
	kill -TERM "$pid"; wait "$pid" 2>/dev/null
}

copylab_relay_row() {	# copylab_relay_row STRATEGY
	local port log=$OUT/copylab-relay-$1.log
	"$COPYLAB" relay --listen 127.0.0.1:0 --to "127.0.0.1:$IPERF_PORT" --strategy "$1" --quiet \
		>"$log.out" 2>"$log" &
	local pid=$!
	PIDS+=("$pid")
	sleep 0.3
	port=$(sed -n 's/^listening on 127.0.0.1://p' "$log.out")
	[ -n "$port" ] || { echo "peers.sh: copylab relay $1 did not start" >&2; return 0; }
	measure_relay "copylab:relay-$1" "$pid" "$port"
	kill -TERM "$pid"; wait "$pid" 2>/dev/null
}

# --- send: iperf3 alone, with and without -Z (sendfile from its own buffer file) ----
iperf_direct_row() {	# iperf_direct_row "" | -Z
	local rep j name=peer:iperf3${1:+-zerocopy} cu cs dur
	for rep in $(seq "$REPS"); do
		j=$OUT/iperf3-direct${1}-$rep.json
		iperf3 -c 127.0.0.1 -p "$IPERF_PORT" -n "$SIZE" $1 -J >"$j" 2>&1
		dur=$(jq -r '.end.sum_sent.seconds' "$j")
		cu=$(jq -r --argjson d "$dur" '.end.cpu_utilization_percent.host_user * $d / 100' "$j")
		cs=$(jq -r --argjson d "$dur" '.end.cpu_utilization_percent.host_system * $d / 100' "$j")
		local sent recv
		sent=$(jq -r '.end.sum_sent.bytes' "$j")
		recv=$(jq -r '.end.sum_received.bytes' "$j")
		record send "$name" sender "$sent" "$dur" "$cu" "$cs" \
			"$([ "$sent" = "$recv" ] && echo true || echo false)" \
			"$([ "$sent" = "$recv" ] && echo ok || echo mismatch)" \
			"iperf3's own CPU figures (cpu_utilization_percent x seconds)" \
			"iperf3 $(iperf3 --version | head -n 1 | cut -d' ' -f2)" "$rep"
	done
}

# --- copy: cp --------------------------------------------------------------------------
cp_row() {
	local rep t0 t1 u s verify verified
	for rep in $(seq "$REPS"); do
		rm -f "$OUT/copy.bin"
		TIMEFORMAT='%U %S'
		t0=$(now)
		{ time cp "$FILE" "$OUT/copy.bin"; } 2>"$OUT/.ctime"
		t1=$(now)
		read -r u s <"$OUT/.ctime"
		verify=ok verified=true
		cmp -s "$FILE" "$OUT/copy.bin" || { verify=mismatch; verified=false; }
		record copy peer:cp copier "$SIZE" "$(echo "$t1 - $t0" | bc -l)" "$u" "$s" "$verified" "$verify" \
			"cp $(cp --version | head -n 1 | awk '{print $NF}'); page cache, no fsync" "cp" "$rep"
	done
	# The copy ledger of cp, from the LD_PRELOAD tracer (which syscalls moved the bytes).
	rm -f "$OUT/copy.bin"
	"$COPYLAB" trace --json --out "$OUT/cp-trace.json" -- cp "$FILE" "$OUT/copy.bin" >/dev/null 2>&1 ||
		echo "peers.sh: copylab trace -- cp did not run" >&2
	rm -f "$OUT/copy.bin"
}

# --- run ---------------------------------------------------------------------------------
command -v bc >/dev/null || { echo "peers.sh: bc is needed" >&2; exit 1; }
echo "peers.sh: $REPS repetition(s) of $SIZE bytes each; records in $REC" >&2
if command -v nginx >/dev/null; then
	nginx_row on
	nginx_row off
fi
copylab_serve_row sendfile
copylab_serve_row splice
copylab_serve_row readwrite
if command -v iperf3 >/dev/null && start_iperf_server; then
	haproxy_row splice
	haproxy_row nosplice
	socat_row
	copylab_relay_row splice
	copylab_relay_row readwrite
	iperf_direct_row ""
	iperf_direct_row -Z
fi
cp_row
cleanup
rm -f "$OUT/.ctime" "$FILE"

# --- the figures and the ratios -------------------------------------------------------------
summary=$OUT/peers-summary.json
jq -s '
	def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
		    else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	group_by(.strategy) | map({
		strategy: .[0].strategy, scenario: .[0].scenario, reps: length,
		verified: all(.verified),
		bytes_per_s: (map(.bytes_per_s) | median),
		cpu_per_gib_s: (map(.roles | to_entries[] | select(.value.under_test) | .value.cpu_per_gib_s) | median)
	}) | INDEX(.strategy)' "$REC" >"$summary"

printf '\n%-28s %-6s %12s %14s %9s\n' strategy scenario "MB/s" "CPU s/GiB" verified
jq -r '.[] | [.strategy, .scenario, ((.bytes_per_s // 0) / 1e6 | floor),
	((.cpu_per_gib_s // 0) * 1000 | floor / 1000), .verified] | @tsv' "$summary" |
	while IFS=$'\t' read -r st sc mbs cpu ver; do printf '%-28s %-6s %12s %14s %9s\n' "$st" "$sc" "$mbs" "$cpu" "$ver"; done

ratio() {	# ratio LABEL A B FIELD: A/B of the medians
	jq -r --arg a "$2" --arg b "$3" --arg f "$4" --arg name "$1" '
		if .[$a][$f] and .[$b][$f] and .[$b][$f] != 0
		then "\($name): \(.[$a][$f] / .[$b][$f] * 1000 | round / 1000)  (\($a) / \($b))"
		else "\($name): n/a (a row is missing)" end' "$summary"
}
echo
echo "Ratios (loopback, $SIZE bytes, medians of $REPS):"
ratio "relay CPU per GiB, copylab splice vs HAProxy splice" copylab:relay-splice peer:haproxy-splice cpu_per_gib_s
ratio "relay throughput, copylab splice vs HAProxy splice" copylab:relay-splice peer:haproxy-splice bytes_per_s
ratio "relay throughput, copylab readwrite vs socat" copylab:relay-readwrite peer:socat bytes_per_s
ratio "server CPU per GiB, copylab serve sendfile vs nginx sendfile on" copylab:serve-sendfile peer:nginx-sendfile-on cpu_per_gib_s
ratio "curl throughput, copylab serve sendfile vs nginx sendfile on" copylab:serve-sendfile peer:nginx-sendfile-on bytes_per_s
echo
echo "records: $REC; summary: $summary; configs and logs: $OUT"

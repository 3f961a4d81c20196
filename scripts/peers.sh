#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Peers: well-known programs doing what copylab's tools do, measured the
# same way on the same file over loopback, so a strategy slower than its
# peer shows up as a ratio.  nginx (sendfile on/off) and copylab serve
# behind curl; HAProxy (splice forced/off), socat and copylab relay in front
# of an iperf3 -R sender; iperf3 with and without -Z; cp.  Every server
# is started first and then measured in rounds, each round once per server
# in a rotated order, so that a ratio compares two figures taken seconds,
# not minutes, apart (this machine's load drifts by tens of percent).
# Servers' CPU is the delta of their threads'
# /proc/PID/task/*/schedstat run time (nanoseconds) plus their reaped
# children's; clients' is bash `time`.  One JSON record per measurement in
# DIR/peers.jsonl (schema copylab.peer/1, docs/tools.md), configs and logs
# in DIR, servers stopped on every exit.
#
# wrk: every serve strategy of copylab serve beside nginx (sendfile on and
# off) under wrk, on a 64 KiB and a 1 MiB file, with 1 and 16 connections:
# requests per second and the server's CPU per request, paired with copylab
# serve sendfile round by round (DIR/peers-wrk.jsonl, copylab.peer-wrk/1).
#
# usage: scripts/peers.sh [--out DIR] [--size N] [--reps N] [--only KINDS]
#                         [--serve LABELS] [--relay LABELS] [--wrk-seconds N]
#                         [--no-install] [--no-probe]
#   --out DIR      results directory (default results/peers-UTCDATE)
#   --size N       bytes per transfer, with K/M/G (default 1G)
#   --reps N       rounds: each server measured once per round (default 5)
#   --no-install   do not apt-get missing peers (skip them instead)
#   --only KINDS   some of serve,relay,send,copy,wrk (default serve,relay,send,copy;
#                  wrk adds about 40 wrk runs a round: ask for it)
#   --serve LABELS copylab serve's strategies, comma-separated (default sendfile,splice,readwrite)
#   --relay LABELS copylab relay's strategies, comma-separated, options allowed
#                  (default splice,readwrite,sockmap; e.g. uring_splice:pipe=1M)
#   --wrk-seconds N  seconds of each wrk measurement (default 2)
#   --no-probe     do not count each server's BPF copy ledger (copylab probe)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COPYLAB=${COPYLAB:-$ROOT/copylab}
OUT="" SIZE_S=1G REPS=5 INSTALL=1 PROBE=1 WRK_S=2 WRK_LABELS=""
ONLY=serve,relay,send,copy SERVE_LABELS=sendfile,splice,readwrite RELAY_LABELS=splice,readwrite,sockmap
while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=$2; shift 2 ;;
	--size) SIZE_S=$2; shift 2 ;;
	--reps) REPS=$2; shift 2
		case $REPS in ''|*[!0-9]*|0) echo "peers.sh: --reps '$REPS' is not a count of rounds (1 or more)" >&2; exit 2 ;; esac ;;
	--no-install) INSTALL=0; shift ;;
	--no-probe) PROBE=0; shift ;;
	--only) ONLY=$2; shift 2
		for k in ${ONLY//,/ }; do
			case $k in serve|relay|send|copy|wrk) ;; *) echo "peers.sh: --only '$k' is not one of serve, relay, send, copy, wrk" >&2; exit 2 ;; esac
		done ;;
	--serve) SERVE_LABELS=$2; WRK_LABELS=$2; shift 2 ;;
	--wrk-seconds) WRK_S=$2; shift 2
		case $WRK_S in ''|*[!0-9]*|0) echo "peers.sh: --wrk-seconds '$WRK_S' is not a whole number of seconds (1 or more)" >&2; exit 2 ;; esac ;;
	--relay) RELAY_LABELS=$2; shift 2 ;;
	-h|--help) sed -n '/^# usage:/,/^set /{/^set /d; s/^# \{0,1\}//p}' "$0"; exit 0 ;;
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
# cpu_s PID: "USER SYS TOTAL" seconds of the process, its threads and its
# reaped children.  USER and SYS come from /proc/PID/stat in clock ticks
# (10 ms); TOTAL is the threads' schedstat run time in nanoseconds plus the
# reaped children's ticks, or USER + SYS where schedstat is missing
# (CONFIG_SCHED_INFO off): CPU_CLOCK says which.
CPU_CLOCK=ticks
[ -r /proc/self/schedstat ] && CPU_CLOCK=schedstat
cpu_s() {
	local run=0 t a
	if [ "$CPU_CLOCK" = schedstat ]; then
		for t in /proc/"$1"/task/*/schedstat; do
			read -r a _ <"$t" 2>/dev/null && run=$((run + a))
		done
	fi
	awk -v hz="$HZ" -v run="$run" -v clock="$CPU_CLOCK" '{ sub(/^.*\) /, "")
		u = ($12 + $14) / hz; s = ($13 + $15) / hz
		tot = clock == "schedstat" ? run / 1e9 + ($14 + $15) / hz : u + s
		printf "%.3f %.3f %.6f\n", u, s, tot }' "/proc/$1/stat"
}
# cpu_delta A B FIELD: B - A of field 1, 2 or 3 of two cpu_s readings.
cpu_delta() { echo "$2 $1" | awk -v f="$3" '{ printf "%.6f\n", $f - $(f + 3) }'; }
now() { date +%s.%N; }
# machine_cpu: /proc/stat's first line (user nice system idle iowait irq softirq steal), ticks.
machine_cpu() { awk '/^cpu / { print $2, $3, $4, $5, $6, $7, $8, $9; exit }' /proc/stat; }
# machine_json A B: the copylab.rep/1 system_cpu object of two machine_cpu readings.
machine_json() {
	echo "$1 $2" | awk -v hz="$HZ" '{ for (i = 1; i <= 8; i++) d[i] = ($(i + 8) - $i) / hz
		printf "{\"user_s\":%.3f,\"system_s\":%.3f,\"irq_s\":%.3f,\"softirq_s\":%.3f,\"idle_s\":%.3f,\"steal_s\":%.3f,\"busy_s\":%.3f}\n",
			d[1] + d[2], d[3], d[6], d[7], d[4] + d[5], d[8], d[1] + d[2] + d[3] + d[6] + d[7] }'
}

# record SCENARIO STRATEGY ROLE BYTES WALL USER SYS VERIFIED VERIFY NOTE TOOL REP [CLIENT_USER CLIENT_SYS [TOTAL CLOCK]]
# TOTAL: the role's CPU seconds by CLOCK (schedstat, ticks, time, tool);
# without it USER + SYS, by bash `time` or the tool's own figures.
# MACHINE (a global, machine_json's object or empty): the whole machine over
# the measurement, which on loopback is the fair figure: the receiver's TCP
# input runs in softirq on whichever side's CPU, and is charged to it.
MACHINE=""
# LEDGER (a global, like MACHINE): the file copylab probe wrote for this
# measurement, or empty; LEDGER_NOTE says why there is none.
LEDGER="" LEDGER_NOTE=""
record() {
	jq -cn --arg sc "$1" --arg st "$2" --arg role "$3" --argjson bytes "$4" --argjson wall "$5" \
		--argjson u "$6" --argjson s "$7" --argjson ver "$8" --arg verify "$9" --arg note "${10}" \
		--arg tool "${11}" --argjson rep "${12}" --argjson cu "${13:-null}" --argjson cs "${14:-null}" \
		--argjson tot "${15:-null}" --arg clock "${16:-time}" --argjson machine "${MACHINE:-null}" \
		--argjson bpf "$( [ -n "$LEDGER" ] && jq -c '.bpf' "$LEDGER" 2>/dev/null || echo null)" \
		--arg bpf_note "$LEDGER_NOTE" \
		--arg transport "$([ "$1" = copy ] && echo none || echo tcp)" '
	def perg(u; s): if $bytes > 0 and u != null then (u + s) / ($bytes / 1073741824) else null end;
	def pert(t): if $bytes > 0 and t != null then t / ($bytes / 1073741824) else null end;
	{ schema: "copylab.peer/1", scenario: $sc, strategy: $st,
	  strategy_base: ($st | split(":")[0]), transport: $transport, bytes: $bytes, rep: $rep,
	  wall_s: $wall, bytes_per_s: (if $wall > 0 then $bytes / $wall else null end),
	  verified: $ver, verify: $verify, verify_note: (if $note == "" then null else $note end),
	  tool: $tool,
	  system_cpu: (if $machine != null then $machine + { busy_per_gib_s: pert($machine.busy_s) } else null end),
	  roles: ({ ($role): { under_test: true, cpu_user_s: $u, cpu_sys_s: $s,
			       cpu_s: ($tot // ($u + $s)), cpu_clock: $clock,
			       cpu_per_gib_s: (if $tot != null then pert($tot) else perg($u; $s) end),
			       bpf: $bpf, bpf_note: (if $bpf == null and $bpf_note != "" then $bpf_note else null end) } }
		  + (if $cu != null then { client: { under_test: false, cpu_user_s: $cu, cpu_sys_s: $cs,
						     cpu_per_gib_s: perg($cu; $cs) } } else {} end)) }' >>"$REC"
}

# --- the copy ledger of each server: copylab probe around its client --------------------
# ledger_begin: before a measurement, in this shell (not in a $(...)):
# LEDGER names the file copylab probe will write, or LEDGER_NOTE why none.
# probed PID CMD...: CMD under `copylab probe --pid PID` writing LEDGER, or
# CMD alone; CMD's exit status.  The probe loads in about 10 ms, before CMD
# starts.
if [ "$PROBE" = 1 ] && ! "$COPYLAB" probe --pid $$ -- true >/dev/null 2>"$OUT/probe.err"; then
	PROBE=0
	PROBE_WHY=$(sed 's/^copylab: probe: //' "$OUT/probe.err" | head -n 1)
	echo "peers.sh: no copy ledger for the servers: $PROBE_WHY" >&2
fi
ledger_begin() {
	LEDGER="" LEDGER_NOTE=""
	if [ "$PROBE" != 1 ]; then
		LEDGER_NOTE=${PROBE_WHY:-"--no-probe"}
		return
	fi
	LEDGER=$OUT/.ledger.json
	rm -f "$LEDGER"
}
probed() {
	local pid=$1
	shift
	[ -n "$LEDGER" ] || { "$@"; return; }
	"$COPYLAB" probe --pid "$pid" --bytes "$SIZE" --json --out "$LEDGER" -- "$@"
}

# --- the data ----------------------------------------------------------------------
FILE=$OUT/www/data.bin
echo "peers.sh: writing $SIZE bytes of test data to $FILE" >&2
head -c "$SIZE" /dev/urandom >"$FILE"
cat "$FILE" >/dev/null	# warm the page cache: every server reads from memory

# --- the servers under test: started first, then measured in rounds ------------------
# One entry per server: NAMES[i] the record's strategy label, KINDS[i] serve
# or relay, SPIDS[i] its pid, TARGETS[i] its URL (serve) or port (relay).
NAMES=() KINDS=() SPIDS=() TARGETS=()
declare -A FORKS=()	# label -> why its ledger is not counted
add_server() { NAMES+=("$1"); KINDS+=("$2"); SPIDS+=("$3"); TARGETS+=("$4"); }

# --- serve: curl from a server ------------------------------------------------------
# verify_serve URL: "ok" when an untimed download of URL is the file, byte for byte.
verify_serve() {
	if curl -sS --max-time 600 "$1" | cmp -s - "$FILE"; then echo ok; else echo mismatch; fi
}
declare -A VERIFY=()

# measure_serve NAME PID URL REP: one timed download, the server's CPU over it.
measure_serve() {
	local name=$1 pid=$2 url=$3 rep=$4 a b t0 t1 got verified note cu cs ma
	ma=$(machine_cpu)
	a=$(cpu_s "$pid")
	t0=$(now)
	TIMEFORMAT='%U %S'
	ledger_begin
	{ time got=$(probed "$pid" curl -sS --max-time 600 -o /dev/null -w '%{size_download}' "$url"); } 2>"$OUT/.ctime"
	t1=$(now)
	b=$(cpu_s "$pid")
	MACHINE=$(machine_json "$ma" "$(machine_cpu)")
	read -r cu cs <"$OUT/.ctime"
	verified=false note="verified by an untimed download: ${VERIFY[$name]}"
	[ "${VERIFY[$name]}" = ok ] && [ "$got" = "$SIZE" ] && verified=true
	[ "$got" = "$SIZE" ] || note="downloaded $got of $SIZE bytes"
	record serve "$name" server "$got" "$(echo "$t1 - $t0" | bc -l)" \
		"$(cpu_delta "$a" "$b" 1)" "$(cpu_delta "$a" "$b" 2)" \
		"$verified" "${VERIFY[$name]}" "$note" "curl $(curl --version | head -n 1 | cut -d' ' -f2)" "$rep" \
		"$cu" "$cs" "$(cpu_delta "$a" "$b" 3)" "$CPU_CLOCK"
}

# start_nginx SENDFILE [NOPUSH]: sendfile on|off; tcp_nopush (TCP_CORK while
# sending) on unless NOPUSH is off.  tcp_nopush on is the usual tuning beside
# sendfile and the default rows' setting; nginx's own default is off.  On
# loopback it matters: corked, the transfer ran about half as fast here and
# more of the receiver's TCP input was charged to curl (docs/tools.md).
start_nginx() {
	command -v nginx >/dev/null || return 0
	local nopush=${2:-on} label=peer:nginx-sendfile-$1${2:+-nopush-$2}
	local port conf dir=$OUT/${label#peer:}
	port=$(free_port)
	mkdir -p "$dir/logs" "$dir/tmp"
	conf=$dir/nginx.conf
	cat >"$conf" <<EOC
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
	tcp_nopush $nopush;
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
EOC
	nginx -c "$conf" -p "$dir" >"$dir/logs/stdout.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	wait_port "$port" || { echo "peers.sh: nginx did not start (see $dir/logs)" >&2; return 0; }
	add_server "$label" serve "$pid" "http://127.0.0.1:$port/data.bin"
}

start_copylab_serve() {	# start_copylab_serve STRATEGY
	local port log=$OUT/copylab-serve-$1.log
	"$COPYLAB" serve --listen 127.0.0.1:0 --root "$OUT/www" --strategy "$1" --quiet >"$log.out" 2>"$log" &
	local pid=$!
	PIDS+=("$pid")
	port=$(wait_listening "$log.out")
	[ -n "$port" ] || { echo "peers.sh: copylab serve $1 did not start (see $log)" >&2; return 0; }
	add_server "copylab:serve-$1" serve "$pid" "http://127.0.0.1:$port/data.bin"
}

# wait_listening FILE: the port of the "listening on 127.0.0.1:PORT" line copylab prints (5 s).
wait_listening() {
	local i port
	for i in $(seq 50); do
		port=$(sed -n 's/^listening on 127.0.0.1://p' "$1" 2>/dev/null)
		[ -n "$port" ] && { echo "$port"; return 0; }
		sleep 0.1
	done
	return 1
}

# --- relay: an iperf3 -R sender behind a proxy --------------------------------------
IPERF_PORT=""
start_iperf_server() {
	IPERF_PORT=$(free_port)
	iperf3 -s -p "$IPERF_PORT" -B 127.0.0.1 >"$OUT/iperf3-server.log" 2>&1 &
	PIDS+=("$!")
	wait_port "$IPERF_PORT"
}

# measure_relay NAME PID PORT REP: iperf3 -R -n SIZE through the proxy on PORT.
measure_relay() {
	local name=$1 pid=$2 port=$3 rep=$4 a b j sent recv wall verified verify cu cs ma
	j=$OUT/iperf3-$(echo "$name" | tr ':' '-')-$rep.json
	ma=$(machine_cpu)
	a=$(cpu_s "$pid")
	TIMEFORMAT='%U %S'
	if [ "${FORKS[$name]:-}" ]; then
		LEDGER="" LEDGER_NOTE=${FORKS[$name]}
		{ time iperf3 -c 127.0.0.1 -p "$port" -R -n "$SIZE" -J >"$j" 2>&1; } 2>"$OUT/.ctime"
	else
		ledger_begin
		{ time probed "$pid" iperf3 -c 127.0.0.1 -p "$port" -R -n "$SIZE" -J >"$j" 2>&1; } 2>"$OUT/.ctime"
	fi
	sleep 0.2	# let a forking proxy (socat) reap its child
	b=$(cpu_s "$pid")
	MACHINE=$(machine_json "$ma" "$(machine_cpu)")
	read -r cu cs <"$OUT/.ctime"
	sent=$(jq -r '.end.sum_sent.bytes // 0' "$j" 2>/dev/null || echo 0)
	recv=$(jq -r '.end.sum_received.bytes // 0' "$j" 2>/dev/null || echo 0)
	wall=$(jq -r '.end.sum_received.seconds // 0' "$j" 2>/dev/null || echo 0)
	# The receiving client ends the test once it holds -n bytes, and may
	# overshoot by its last read; the sender counts at least what arrived.
	verified=false verify=mismatch
	[ "$recv" -ge "$SIZE" ] && [ "$recv" -le "$sent" ] && verified=true verify=ok
	record relay "$name" relay "$recv" "$wall" \
		"$(cpu_delta "$a" "$b" 1)" "$(cpu_delta "$a" "$b" 2)" \
		"$verified" "$verify" "byte counts of iperf3's two ends (sent $sent, received $recv)" \
		"iperf3 $(iperf3 --version | head -n 1 | cut -d' ' -f2)" "$rep" "$cu" "$cs" \
		"$(cpu_delta "$a" "$b" 3)" "$CPU_CLOCK"
}

start_haproxy() {	# start_haproxy splice|nosplice
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
	cat >"$conf" <<EOC
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
EOC
	haproxy -f "$conf" -db >"$dir/haproxy.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	wait_port "$port" || { echo "peers.sh: haproxy did not start (see $dir)" >&2; return 0; }
	add_server "peer:haproxy-$1" relay "$pid" "$port"
}

start_socat() {
	command -v socat >/dev/null || return 0
	local port
	port=$(free_port)
	socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$IPERF_PORT" \
		2>"$OUT/socat.log" &
	local pid=$!
	PIDS+=("$pid")
	wait_port "$port" || { echo "peers.sh: socat did not start (see $OUT/socat.log)" >&2; return 0; }
	add_server "peer:socat" relay "$pid" "$port"
	FORKS[peer:socat]="socat forks a process per connection, which copylab probe (by pid) does not follow"
}

start_copylab_relay() {	# start_copylab_relay STRATEGY
	local port log=$OUT/copylab-relay-$1.log
	"$COPYLAB" relay --listen 127.0.0.1:0 --to "127.0.0.1:$IPERF_PORT" --strategy "$1" --quiet \
		>"$log.out" 2>"$log" &
	local pid=$!
	PIDS+=("$pid")
	port=$(wait_listening "$log.out")
	[ -n "$port" ] || { echo "peers.sh: copylab relay $1 did not start (see $log)" >&2; return 0; }
	add_server "copylab:relay-$1" relay "$pid" "$port"
}

# measure_rounds: REPS rounds; round r starts at server r mod N, so no
# server always runs first (warmer caches) or last.
measure_rounds() {
	local n=${#NAMES[@]} r k i
	for i in $(seq 0 $((n - 1))); do
		[ "${KINDS[$i]}" = serve ] && VERIFY[${NAMES[$i]}]=$(verify_serve "${TARGETS[$i]}")
	done
	for r in $(seq "$REPS"); do
		for k in $(seq 0 $((n - 1))); do
			i=$(( (k + r - 1) % n ))
			"measure_${KINDS[$i]}" "${NAMES[$i]}" "${SPIDS[$i]}" "${TARGETS[$i]}" "$r"
		done
	done
}

# --- send: iperf3 alone, with and without -Z (sendfile from its own buffer file) ----
iperf_direct_row() {	# iperf_direct_row "" | -Z
	local rep j name=peer:iperf3${1:+-zerocopy} cu cs dur
	for rep in $(seq "$REPS"); do
		j=$OUT/iperf3-direct${1}-$rep.json
		local ma
		LEDGER="" LEDGER_NOTE="the measured process is the command itself: copylab probe counts processes already running"
		ma=$(machine_cpu)
		iperf3 -c 127.0.0.1 -p "$IPERF_PORT" -n "$SIZE" $1 -J >"$j" 2>&1
		MACHINE=$(machine_json "$ma" "$(machine_cpu)")
		dur=$(jq -r '.end.sum_sent.seconds' "$j")
		cu=$(jq -r --argjson d "$dur" '.end.cpu_utilization_percent.host_user * $d / 100' "$j")
		cs=$(jq -r --argjson d "$dur" '.end.cpu_utilization_percent.host_system * $d / 100' "$j")
		local sent recv
		sent=$(jq -r '.end.sum_sent.bytes' "$j")
		recv=$(jq -r '.end.sum_received.bytes' "$j")
		# The client's TEST_END reaches its server while the last blocks are
		# still in the socket buffers, and the server stops counting there
		# (seen: 61.7 of 64 MiB): all sent, and what arrived is short by at
		# most the two buffers' ceilings.
		local ok=false inflight
		inflight=$(( $(awk '{print $3}' /proc/sys/net/ipv4/tcp_rmem) + $(awk '{print $3}' /proc/sys/net/ipv4/tcp_wmem) ))
		[ "$sent" -ge "$SIZE" ] && [ "$recv" -le "$sent" ] && [ $((sent - recv)) -le "$inflight" ] && ok=true
		record send "$name" sender "$sent" "$dur" "$cu" "$cs" \
			"$ok" "$([ "$ok" = true ] && echo ok || echo mismatch)" \
			"iperf3's own CPU figures (cpu_utilization_percent x seconds); received $recv of $sent, counted by its server" \
			"iperf3 $(iperf3 --version | head -n 1 | cut -d' ' -f2)" "$rep"
	done
}

# --- copy: cp --------------------------------------------------------------------------
cp_row() {
	local rep t0 t1 u s verify verified ma
	for rep in $(seq "$REPS"); do
		rm -f "$OUT/copy.bin"
		TIMEFORMAT='%U %S'
		LEDGER="" LEDGER_NOTE="the measured process is the command itself: its ledger by the LD_PRELOAD tracer is cp-trace.json"
		ma=$(machine_cpu)
		t0=$(now)
		{ time cp "$FILE" "$OUT/copy.bin"; } 2>"$OUT/.ctime"
		t1=$(now)
		MACHINE=$(machine_json "$ma" "$(machine_cpu)")
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

# --- wrk: requests per second from every serve strategy, beside nginx ----------------------
# The servers of the wrk rows: WNAMES[i] its label, WPIDS[i] its pid, WURLS[i] its base URL.
WNAMES=() WPIDS=() WURLS=()
WRK_FILES="65536 1048576"
WRK_CONNS="1 16"
WREC=$OUT/peers-wrk.jsonl

# wrk_servers: nginx sendfile on and off, and copylab serve with every serve
# strategy this build and user can run (--serve LABELS narrows it).
wrk_servers() {
	local i n st labels=$WRK_LABELS
	for f in $WRK_FILES; do head -c "$f" /dev/urandom >"$OUT/www/wrk-$f.bin"; done
	if command -v nginx >/dev/null; then
		n=${#NAMES[@]}
		start_nginx on
		start_nginx off
		for i in $(seq "$n" $((${#NAMES[@]} - 1))); do
			WNAMES+=("${NAMES[$i]}") WPIDS+=("${SPIDS[$i]}") WURLS+=("${TARGETS[$i]%/data.bin}")
		done
		NAMES=("${NAMES[@]:0:$n}") SPIDS=("${SPIDS[@]:0:$n}") KINDS=("${KINDS[@]:0:$n}") TARGETS=("${TARGETS[@]:0:$n}")
	fi
	[ -n "$labels" ] || labels=$("$COPYLAB" list --json | jq -r --argjson root "$([ "$(id -u)" = 0 ] && echo true || echo false)" \
		'.strategies[] | select(.scenarios.serve.ok and .role_replaced_by == null and ($root or .needs_privilege == null)) | .name' | paste -sd,)
	for st in ${labels//,/ }; do
		n=${#NAMES[@]}
		start_copylab_serve "$st"
		[ ${#NAMES[@]} -gt "$n" ] || continue
		WNAMES+=("${NAMES[$n]}") WPIDS+=("${SPIDS[$n]}") WURLS+=("${TARGETS[$n]%/data.bin}")
		NAMES=("${NAMES[@]:0:$n}") SPIDS=("${SPIDS[@]:0:$n}") KINDS=("${KINDS[@]:0:$n}") TARGETS=("${TARGETS[@]:0:$n}")
	done
}

# wrk_one NAME PID URL FILE CONNS REP: one wrk run, one copylab.peer-wrk/1 record.
wrk_one() {
	local name=$1 pid=$2 url=$3 file=$4 conns=$5 rep=$6 a b out req rps bps errs verify
	verify=$(curl -sS --max-time 30 "$url/wrk-$file.bin" | cmp -s - "$OUT/www/wrk-$file.bin" && echo ok || echo mismatch)
	a=$(cpu_s "$pid")
	out=$(wrk -t1 -c"$conns" -d"${WRK_S}s" "$url/wrk-$file.bin" 2>&1)
	b=$(cpu_s "$pid")
	req=$(awk '/ requests in /{print $1}' <<<"$out")
	rps=$(awk '/^Requests\/sec:/{print $2}' <<<"$out")
	errs=$(awk '/Non-2xx or 3xx responses:/{n += $NF} /Socket errors:/{gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' <<<"$out")
	bps=$(awk -v r="${rps:-0}" -v f="$file" 'BEGIN { printf "%.0f", r * f }')
	jq -cn --arg st "$name" --argjson file "$file" --argjson conns "$conns" --argjson rep "$rep" \
		--argjson secs "$WRK_S" --argjson req "${req:-0}" --argjson rps "${rps:-0}" --argjson bps "$bps" \
		--argjson errs "$errs" --arg verify "$verify" --argjson cpu "$(cpu_delta "$a" "$b" 3)" \
		--arg tool "wrk $(wrk --version 2>&1 | head -n 1 | awk '{print $2}')" '
		{ schema: "copylab.peer-wrk/1", strategy: $st, file_bytes: $file, conns: $conns, rep: $rep,
		  seconds: $secs, requests: $req, requests_per_s: $rps, bytes_per_s: $bps, errors: $errs,
		  verify: $verify, verified: ($verify == "ok" and $errs == 0 and $req > 0),
		  server_cpu_s: $cpu, server_cpu_per_request_us: (if $req > 0 then $cpu / $req * 1e6 else null end),
		  tool: $tool }' >>"$WREC"
}

# wrk_rounds: as measure_rounds, each round every server once per file and connection count.
wrk_rounds() {
	local n=${#WNAMES[@]} r k i f c
	: >"$WREC"
	command -v wrk >/dev/null || { echo "peers.sh: wrk is not installed: no wrk rows" >&2; return 0; }
	for r in $(seq "$REPS"); do
		for f in $WRK_FILES; do
			for c in $WRK_CONNS; do
				for k in $(seq 0 $((n - 1))); do
					i=$(( (k + r - 1) % n ))
					wrk_one "${WNAMES[$i]}" "${WPIDS[$i]}" "${WURLS[$i]}" "$f" "$c" "$r"
				done
			done
		done
	done
}

# wrk_summary: per server, file and connections the median requests/s, and
# each one's ratio to copylab serve sendfile paired round by round.
wrk_summary() {
	[ -s "$WREC" ] || return 0
	jq -s '
		def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
			    else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		. as $all |
		{ schema: "copylab.peer-wrk-summary/1",
		  rows: [ group_by([.strategy, .file_bytes, .conns])[] | . as $g | $g[0] as $h |
			{ strategy: $h.strategy, file_bytes: $h.file_bytes, conns: $h.conns, rounds: length,
			  verified: all(.verified),
			  requests_per_s: (map(.requests_per_s) | median),
			  server_cpu_per_request_us: (map(.server_cpu_per_request_us | select(. != null)) | median),
			  vs_sendfile: ([ $g[] | . as $x | ($all[] | select(.strategy == "copylab:serve-sendfile"
					and .file_bytes == $x.file_bytes and .conns == $x.conns and .rep == $x.rep
					and .requests_per_s > 0)) | $x.requests_per_s / .requests_per_s ] | median) } ] }' \
		"$WREC" >"$OUT/peers-wrk-summary.json.tmp" && mv "$OUT/peers-wrk-summary.json.tmp" "$OUT/peers-wrk-summary.json"
	printf '\nwrk against each server (loopback, %s s a run, medians over %s rounds; x sendfile paired by round):\n' "$WRK_S" "$REPS"
	printf '%-34s %8s %6s %10s %12s %12s %9s\n' strategy file conns "req/s" "x sendfile" "CPU us/req" verified
	jq -r '.rows[] | [.strategy, (if .file_bytes >= 1048576 then "\(.file_bytes / 1048576)M" else "\(.file_bytes / 1024)K" end),
		.conns, (.requests_per_s | round), (if .vs_sendfile then (.vs_sendfile * 100 | round / 100) else "-" end),
		(if .server_cpu_per_request_us then (.server_cpu_per_request_us | round) else "-" end), .verified] | @tsv' \
		"$OUT/peers-wrk-summary.json" | sort -t$'\t' -k2,2 -k3,3n -k1,1 |
		while IFS=$'\t' read -r st f c r x u v; do
			printf '%-34s %8s %6s %10s %12s %12s %9s\n' "$st" "$f" "$c" "$r" "$x" "$u" "$v"
		done
}

# --- run ---------------------------------------------------------------------------------
wants() { case ,$ONLY, in *,$1,*) return 0 ;; esac; return 1; }
command -v bc >/dev/null || { echo "peers.sh: bc is needed" >&2; exit 1; }
echo "peers.sh: $REPS round(s) of $SIZE bytes per server ($ONLY); CPU by $CPU_CLOCK; records in $REC" >&2
if wants serve; then
	if command -v nginx >/dev/null; then
		start_nginx on
		start_nginx off
		start_nginx on off
	fi
	for l in ${SERVE_LABELS//,/ }; do start_copylab_serve "$l"; done
fi
if { wants relay || wants send; } && command -v iperf3 >/dev/null && start_iperf_server && wants relay; then
	start_haproxy splice
	start_haproxy nosplice
	start_socat
	# sockmap (BPF; root): the kernel relays and its process only waits,
	# so the machine's CPU per GiB is its figure.
	for l in ${RELAY_LABELS//,/ }; do start_copylab_relay "$l"; done
fi
wants wrk && wrk_servers
measure_rounds
wants wrk && wrk_rounds
if [ -n "$IPERF_PORT" ] && wants send; then
	iperf_direct_row ""
	iperf_direct_row -Z
fi
wants copy && cp_row
cleanup
rm -f "$OUT/.ctime" "$OUT/.ledger.json" "$FILE" "$OUT"/www/wrk-*.bin
wrk_summary

# --- the figures and the ratios -------------------------------------------------------------
# peers-summary.json: per label the median, min and max of every figure, and
# the paired ratios: round by round A / B, then their median and spread.
summary=$OUT/peers-summary.json
jq -s '
	def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
		    else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def spread: map(select(. != null)) | { median: median, min: min, max: max };
	def cpu: .roles | to_entries[] | select(.value.under_test) | .value.cpu_per_gib_s;
	def paired($a; $b; f):
		[ group_by(.rep)[] | (map(select(.strategy == $a)) | first) as $x
		  | (map(select(.strategy == $b)) | first) as $y
		  | select($x != null and $y != null) | ($x | f) as $p | ($y | f) as $q
		  | select($p != null and $q != null and $q != 0) | $p / $q ]
		| { of: $a, to: $b, pairs: length } + (if length > 0 then spread else {} end);
	. as $all |
	{ schema: "copylab.peers-summary/1",
	  strategies: (group_by(.strategy) | map({
		strategy: .[0].strategy, scenario: .[0].scenario, reps: length,
		verified: all(.verified),
		cpu_clock: (map(.roles | to_entries[] | select(.value.under_test) | .value.cpu_clock) | unique | join(",")),
		bytes_per_s: (map(.bytes_per_s) | spread),
		cpu_per_gib_s: (map(cpu) | spread),
		machine_cpu_per_gib_s: (map(.system_cpu.busy_per_gib_s) | spread),
		ledger_per_gib: ([.[] | .roles[] | select(.under_test) | .bpf.per_gib | select(. != null)] as $l
			| if ($l | length) == 0 then null else
			  { syscalls: ($l | map(.syscalls) | median), bytes_to_user: ($l | map(.bytes_to_user) | median),
			    bytes_from_user: ($l | map(.bytes_from_user) | median),
			    bytes_in_kernel: ($l | map(.bytes_in_kernel) | median),
			    sched_switches: ($l | map(.sched_switches) | median) } end)
	  }) | INDEX(.strategy)),
	  ratios: {
		relay_cpu_splice_vs_haproxy: ($all | paired("copylab:relay-splice"; "peer:haproxy-splice"; cpu)),
		relay_throughput_splice_vs_haproxy: ($all | paired("copylab:relay-splice"; "peer:haproxy-splice"; .bytes_per_s)),
		relay_throughput_readwrite_vs_socat: ($all | paired("copylab:relay-readwrite"; "peer:socat"; .bytes_per_s)),
		serve_cpu_sendfile_vs_nginx: ($all | paired("copylab:serve-sendfile"; "peer:nginx-sendfile-on"; cpu)),
		serve_cpu_sendfile_vs_nginx_nopush_off: ($all | paired("copylab:serve-sendfile"; "peer:nginx-sendfile-on-nopush-off"; cpu)),
		serve_throughput_sendfile_vs_nginx_nopush_off: ($all | paired("copylab:serve-sendfile"; "peer:nginx-sendfile-on-nopush-off"; .bytes_per_s)),
		serve_machine_cpu_sendfile_vs_nginx: ($all | paired("copylab:serve-sendfile"; "peer:nginx-sendfile-on"; .system_cpu.busy_per_gib_s)),
		relay_machine_cpu_splice_vs_haproxy: ($all | paired("copylab:relay-splice"; "peer:haproxy-splice"; .system_cpu.busy_per_gib_s)),
		serve_throughput_sendfile_vs_nginx: ($all | paired("copylab:serve-sendfile"; "peer:nginx-sendfile-on"; .bytes_per_s))
	  } }' "$REC" >"$summary.tmp" && mv "$summary.tmp" "$summary"

printf '\n%-28s %-6s %5s %20s %20s %20s %9s\n' strategy scenario reps "MB/s (min-max)" "CPU s/GiB (min-max)" "machine CPU s/GiB" verified
jq -r 'def fig: if .median then "\(.median * 1000 | round / 1000) (\(.min * 100 | round / 100)-\(.max * 100 | round / 100))" else "-" end;
	.strategies[] | [.strategy, .scenario, .reps,
	"\((.bytes_per_s.median // 0) / 1e6 | floor) (\((.bytes_per_s.min // 0) / 1e6 | floor)-\((.bytes_per_s.max // 0) / 1e6 | floor))",
	(.cpu_per_gib_s | fig), (.machine_cpu_per_gib_s | fig),
	.verified] | @tsv' "$summary" |
	while IFS=$'\t' read -r st sc n mbs cpu mcpu ver; do
		printf '%-28s %-6s %5s %20s %20s %20s %9s\n' "$st" "$sc" "$n" "$mbs" "$cpu" "$mcpu" "$ver"
	done

if jq -e '[.strategies[] | .ledger_per_gib] | any(. != null)' "$summary" >/dev/null; then
	printf '\nCopy ledger of the server under test, per GiB moved (copylab probe, BPF; medians):\n'
	printf '%-36s %10s %14s %14s %14s %10s\n' strategy syscalls "to user MiB" "from user MiB" "in kernel MiB" switches
	jq -r '.strategies[] | select(.ledger_per_gib != null) | [.strategy] + [.ledger_per_gib | .syscalls,
		.bytes_to_user / 1048576, .bytes_from_user / 1048576, .bytes_in_kernel / 1048576,
		.sched_switches | round] | @tsv' "$summary" |
		while IFS=$'\t' read -r st sy tu fu ik sw; do
			printf '%-36s %10s %14s %14s %14s %10s\n' "$st" "$sy" "$tu" "$fu" "$ik" "$sw"
		done
fi

ratio() {	# ratio LABEL KEY: the paired ratio KEY of the summary
	jq -r --arg k "$2" --arg name "$1" '.ratios[$k] as $r |
		if $r.pairs > 0
		then "\($name): \($r.median * 1000 | round / 1000)  (\($r.min * 1000 | round / 1000)..\($r.max * 1000 | round / 1000) over \($r.pairs) rounds; \($r.of) / \($r.to))"
		else "\($name): n/a (\($r.of) and \($r.to) share no round)" end' "$summary"
}
echo
echo "Paired ratios (loopback, $SIZE bytes, A / B within each round, median (min..max)):"
ratio "relay CPU per GiB, copylab splice vs HAProxy splice (goal <= 0.9)" relay_cpu_splice_vs_haproxy
ratio "relay throughput, copylab splice vs HAProxy splice (goal >= 1)" relay_throughput_splice_vs_haproxy
ratio "relay throughput, copylab readwrite vs socat (goal >= 1.5)" relay_throughput_readwrite_vs_socat
ratio "server CPU per GiB, copylab serve sendfile vs nginx sendfile on (goal <= 1)" serve_cpu_sendfile_vs_nginx
ratio "curl throughput, copylab serve sendfile vs nginx sendfile on (goal >= 1)" serve_throughput_sendfile_vs_nginx
ratio "machine CPU per GiB (server + client + softirq), copylab serve sendfile vs nginx sendfile on" serve_machine_cpu_sendfile_vs_nginx
ratio "server CPU per GiB, copylab serve sendfile vs nginx sendfile on, tcp_nopush off" serve_cpu_sendfile_vs_nginx_nopush_off
ratio "curl throughput, copylab serve sendfile vs nginx sendfile on, tcp_nopush off" serve_throughput_sendfile_vs_nginx_nopush_off
ratio "machine CPU per GiB (sender + relay + receiver), copylab relay splice vs HAProxy splice" relay_machine_cpu_splice_vs_haproxy
echo
echo "records: $REC; summary: $summary; configs and logs: $OUT"

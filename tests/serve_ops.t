#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Operating `copylab serve` and `copylab relay` as one operates nginx or
# HAProxy: SIGHUP reopens --log (logrotate moved it) and kills nothing;
# SIGTERM and SIGQUIT let answers finish within --grace, and an answer
# cut when --grace is over is logged as cut, with its time, duration,
# bytes and strategy, like every whole one; a summary on exit; --backlog
# reaches listen(2); bad values of the new options are usage errors that
# write nothing.
# timeout: 120
. "$(dirname "$0")/lib.sh"
require_copylab

for tool in curl ss; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed (scripts/deps.sh installs it)"
done

TAG=$(tag_new)
at_exit "kill_tagged $TAG"
WWW=$TMP/www
mkdir -p "$WWW"
head -c $((1 << 20)) /dev/urandom >"$WWW/mib"
# Bigger than loopback's socket buffers can take (tcp_wmem + tcp_rmem): a
# slow reader really holds the answer open.
head -c $((48 << 20)) /dev/zero >"$WWW/big"
echo hello >"$WWW/hello.txt"

SPID="" SADDR=""
start_serve() {
	local r=0
	start_tool serve --root "$WWW" "$@" || r=$?
	SPID=$TOOL_PID SADDR=$TOOL_ADDR
	return "$r"
}
# exits_within PID SECONDS: the process ends in time; its status in EXIT_RC.
exits_within() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || { wait "$1"; EXIT_RC=$?; return 0; }
		sleep 0.1
	done
	EXIT_RC=""
	return 1
}
TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z '

# ---- SIGHUP reopens --log --------------------------------------------------------------

LOG=$TMP/access.log
start_serve --log "$LOG" || bail_out "copylab serve does not start"
curl -sS --max-time 10 -o /dev/null "http://$SADDR/hello.txt"
mv "$LOG" "$LOG.1"
kill -HUP "$SPID"
wait_for "$LOG" 'SIGHUP: log reopened' 5
ok $? "SIGHUP: the log is reopened at its path (a new file after logrotate moved the old)"
kill -0 "$SPID" 2>/dev/null
ok $? "SIGHUP does not kill the server"
curl -sS --max-time 10 -o /dev/null "http://$SADDR/mib"
wait_for "$LOG" '"GET /mib HTTP/1.1" 200' 5
ok $? "the request after SIGHUP is in the new file"
grep -q '"GET /hello.txt HTTP/1.1" 200' "$LOG.1"
ok $? "the request before it stayed in the moved file"
line=$(grep '"GET /mib HTTP/1.1"' "$LOG")
ok $([[ $line =~ $TIME_RE ]] && [[ $line =~ \ 200\ 1048576\ of\ 1048576\ bytes,\ [0-9]+\.[0-9]{3}\ s,\ sendfile$ ]]; echo $?) \
	"an access line has its time (UTC, ms), status, bytes sent of promised, duration and strategy" "$line"
[ -s "$TMP/serve.err" ] && diag "stderr: $(head -c 300 "$TMP/serve.err")"
ok $([ ! -s "$TMP/serve.err" ]; echo $?) "with --log, nothing goes to stderr"

# ---- SIGTERM during a slow download: --grace, the cut answer logged -------------------

curl -sS --max-time 30 --limit-rate 1M -o "$TMP/slow" "http://$SADDR/big" 2>/dev/null &
CURL_PID=$!
for i in $(seq 50); do [ -s "$TMP/slow" ] && break; sleep 0.1; done
kill -TERM "$SPID"
exits_within "$SPID" 15
ok $? "SIGTERM with a slow download under way: the server exits once --grace (10 s by default) is over"
is "$EXIT_RC" 0 "its exit status is 0"
wait "$CURL_PID"
line=$(grep '"GET /big HTTP/1.1" 200 .*cut' "$LOG")
ok $([[ $line =~ $TIME_RE ]] && [[ $line =~ \ 200\ [0-9]+\ of\ 50331648\ bytes,\ [0-9]+\.[0-9]{3}\ s,\ sendfile,\ cut:\ stopping ]]; echo $?) \
	"the cut answer is logged: time, bytes sent of promised, duration, strategy, why" "$line"
grep -Eq 'SIGTERM: not accepting; 1 connections get up to 10\.000 s' "$LOG"
ok $? "the stop says what it waits for" "$(grep SIGTERM "$LOG")"
sum=$(grep 'copylab serve: stopped: ' "$LOG")
ok $([[ $sum =~ stopped:\ 3\ answers\ \(2xx\ 3,.*cut\ 1, ]]; echo $?) "a summary on exit: answers by class, bytes, cut" "$sum"
SPID=""

# A stop with --grace 1 cuts sooner.
start_serve --grace 1 --quiet || bail_out "copylab serve does not start"
rm -f "$TMP/slow"
curl -sS --max-time 30 --limit-rate 1M -o "$TMP/slow" "http://$SADDR/big" 2>/dev/null &
CURL_PID=$!
for i in $(seq 50); do [ -s "$TMP/slow" ] && break; sleep 0.1; done
start=$(date +%s)
kill -QUIT "$SPID"
exits_within "$SPID" 5
ok $? "SIGQUIT with --grace 1: the server stops within 5 s ($(( $(date +%s) - start ))s), status ${EXIT_RC:-none}"
is "$EXIT_RC" 0 "SIGQUIT is a graceful stop: exit 0"
wait "$CURL_PID"
grep -q 'cut 1,' "$TMP/serve.err"
ok $? "with --quiet, the summary still counts the cut answer" "$(tail -n 2 "$TMP/serve.err")"

# ---- --backlog reaches listen(2) --------------------------------------------------------

start_serve --backlog 7 --quiet || bail_out "copylab serve does not start"
q=$(ss -Hltn "sport = :${SADDR##*:}" | awk '{print $3}')
is "$q" 7 "--backlog 7: the listening socket's backlog is 7 (ss Send-Q)"
kill -TERM "$SPID"; wait "$SPID"

# ---- usage errors --------------------------------------------------------------------

expect_usage_error "--backlog 0 is refused" "--backlog" serve --listen 127.0.0.1:0 --root "$WWW" --backlog 0
expect_usage_error "--grace 0 is refused" "--grace: .0. is not a number of seconds above 0" serve --listen 127.0.0.1:0 --root "$WWW" --grace 0
expect_usage_error "--max-requests 0 is refused" "--max-requests" serve --listen 127.0.0.1:0 --root "$WWW" --max-requests 0
expect_usage_error "--log in a missing directory is refused, naming it" "--log $TMP/nodir/x: No such file or directory" \
	serve --listen 127.0.0.1:0 --root "$WWW" --log "$TMP/nodir/x"
ok $([ ! -s "$OUT" ]; echo $?) "... and nothing is written on stdout"
expect_usage_error "--fin-timeout is relay's, not serve's" "unrecognized option" serve --listen 127.0.0.1:0 --root "$WWW" --fin-timeout 1
expect_usage_error "--max-requests is serve's, not relay's" "unrecognized option" relay --listen 127.0.0.1:0 --to 127.0.0.1:1 --max-requests 1
expect_usage_error "relay --fin-timeout 0 is refused" "--fin-timeout: .0. is not a number of seconds above 0" relay --listen 127.0.0.1:0 --to 127.0.0.1:1 --fin-timeout 0

ok $(no_leftovers "$TAG"; echo $?) "no server left running"
done_testing

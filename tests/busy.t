#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# busy (a label option, issue 20 item 4): echo and pipe spin on EAGAIN
# instead of sleeping in poll().  Busy runs are byte-exact; the record says
# what ran (busy.spin, busy.reader_spun in pipe, SO_BUSY_POLL's outcome on
# the echo server's socket); the spin really happened: the role under test
# met EAGAIN and slept on few of them (voluntary context switches well
# below its EAGAIN count; a poll() per EAGAIN sleeps on nearly each one);
# busy where nothing spins is refused with exit 2 and nothing written.
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_copylab
command -v jq >/dev/null || skip_all "jq is not installed (scripts/deps.sh installs it)"

NOOUT=$TMP/none

# --- pipe: the writer and the reader spin ----------------------------------------------
cl run --scenario pipe --strategy vmsplice:busy,readwrite:busy,vmsplice --size 8M --reps 1 --warmup 0 \
	--out "$TMP/pipe"
ok $([ "$RC" -eq 0 ]; echo $?) "pipe vmsplice:busy,readwrite:busy,vmsplice 8M: exit 0" "$(cl_desc)"
J=$TMP/pipe/results.jsonl
is "$(jq -s -r 'map("\(.strategy)=\(.verify)") | join(" ")' "$J")" \
	"vmsplice:busy=ok readwrite:busy=ok vmsplice=ok" "pipe: the busy runs are byte-exact (the reader hashed every byte)"
is "$(jq -s -r 'map("\(.strategy)=\(.busy.spin) \(.busy.reader_spun) \(.busy.so_busy_poll) \(.nonblock)") | join(", ")' "$J")" \
	"vmsplice:busy=true true null true, readwrite:busy=true true null true, vmsplice=null null null false" \
	"pipe records: busy says the writer and the reader spun, no socket for SO_BUSY_POLL, non-blocking; null without busy"
# The writer outruns a hashing reader, so it meets a full pipe: EAGAIN, then (busy) no sleep.
spin=$(jq -r 'select(.strategy | endswith(":busy")) | .roles.writer as $w |
	"\(.strategy) eagain=\($w.eagain) ctx_voluntary=\($w.ctx_voluntary) " +
	(if $w.eagain > 0 and $w.ctx_voluntary * 4 < $w.eagain then "spun" else "slept" end)' "$J")
is "$(echo "$spin" | awk '{ print $1 "=" $4 }' | tr '\n' ' ' | sed 's/ $//')" "vmsplice:busy=spun readwrite:busy=spun" \
	"pipe: the busy writers met EAGAIN and slept on fewer than a quarter of them" "$spin"
is "$(jq -r 'select(.strategy == "vmsplice") | .roles.writer.eagain' "$J")" 0 \
	"pipe: the sleeping writer (blocking calls) never meets EAGAIN"

# --- echo: the server spins, SO_BUSY_POLL on its socket ----------------------------------
cl run --scenario echo --strategy readwrite:busy,splice:busy --transport tcp --size 256K --reps 1 --warmup 0 \
	--out "$TMP/echo"
ok $([ "$RC" -eq 0 ]; echo $?) "echo readwrite:busy,splice:busy over tcp: exit 0" "$(cl_desc)"
J=$TMP/echo/results.jsonl
is "$(jq -s -r 'map("\(.strategy)=\(.verify)") | join(" ")' "$J")" "readwrite:busy=ok splice:busy=ok" \
	"echo: the busy servers' answers are byte-exact"
is "$(jq -s -r 'map(.busy | "\(.spin) \(.reader_spun) \(.so_busy_poll.usec) \(.so_busy_poll.sockets) \(.so_busy_poll.set) \(.so_busy_poll.refused) \(.so_busy_poll.napi_id | type)") | unique | join(", ")' "$J")" \
	"true false 50 1 1 null number" \
	"echo records: the server spun, SO_BUSY_POLL 50 us asked and set on its one socket, nothing refused, the NAPI id read"
spin=$(jq -r '.roles.server as $s | "\(.strategy) eagain=\($s.eagain) ctx_voluntary=\($s.ctx_voluntary) " +
	(if $s.eagain > 0 and $s.ctx_voluntary * 4 < $s.eagain then "spun" else "slept" end)' "$J")
is "$(echo "$spin" | awk '{ print $1 "=" $4 }' | tr '\n' ' ' | sed 's/ $//')" "readwrite:busy=spun splice:busy=spun" \
	"echo: the busy servers met EAGAIN waiting for requests and slept on fewer than a quarter of them" "$spin"

# --- where nothing spins: refused -----------------------------------------------------
expect_usage_error "readwrite:busy in relay: exit 2 with why" "readwrite:busy cannot run relay over tcp: busy spins" \
	run --scenario relay --strategy readwrite:busy --out "$NOOUT"
expect_usage_error "sendfile:busy: exit 2, sendfile has no busy" "strategy sendfile has no option 'busy'" \
	run --scenario serve --strategy sendfile:busy --out "$NOOUT"
expect_usage_error "uring_rw:busy in echo: exit 2" "strategy uring_rw has no option 'busy'" \
	run --scenario echo --strategy uring_rw:busy --out "$NOOUT"
expect_usage_error "copylab copy --strategy readwrite:busy: exit 2 with why" "readwrite:busy cannot copy a file: busy spins" \
	copy --strategy readwrite:busy /etc/hostname "$NOOUT"
ok "$([ ! -e "$NOOUT" ]; echo $?)" "no results directory or file from the busy refusals"

done_testing

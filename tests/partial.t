#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Short transfers and EAGAIN: with non-blocking descriptors and the
# smallest socket buffers and pipes, every strategy of the socket scenarios
# must still deliver every byte (recv's readwrite:trunc: count it, unverified
# by design), and its record must show that partial
# transfers really happened (eagain + short_ops > 0 at the tested role), so
# the code paths that handle them were run, not just compiled.
# timeout: 600
. "$(dirname "$0")/lib.sh"
require_copylab
load_list

SIZE=4194304
for sc in relay serve store echo send recv; do
	role=$(tested_role "$sc")
	mapfile -t strats < <(supported "$sc")
	[ "$sc" = send ] && strats+=(vmsplice:gift)
	[ "$sc" = recv ] && strats+=(readwrite:trunc)
	for s in "${strats[@]}"; do
		out=$TMP/$sc-${s//:/_}
		name="$sc $s --nonblock, 4 KiB buffers and pipe"
		cl run --scenario "$sc" --strategy "$s" --transport tcp --size 4M --reps 1 --warmup 0 \
			--nonblock --sndbuf 4096 --rcvbuf 4096 --pipe-size 4096 --timeout 60 \
			--out "$out" --workdir "$TMP"
		if [ "$RC" -ne 0 ]; then
			fail "$name: exit 0"
			cl_desc 15
			continue
		fi
		pass "$name: exit 0"
		problems=$(jq -s -r --arg role "$role" --argjson n "$SIZE" '
			if length != 1 then "\(length) records, wanted 1" else .[0] |
			[ (if .strategy == "readwrite:trunc" then
				(if .verify != "skipped" then "verify: \(.verify) (MSG_TRUNC hashes nothing)" else empty end)
			   elif .verified != true then "verified: \(.verified) \(.verify_note)" else empty end),
			  (if .bytes != $n then "bytes: \(.bytes)" else empty end),
			  (if .nonblock != true then "nonblock: \(.nonblock)" else empty end),
			  (if .roles[$role].under_test != true then "\($role) not under test" else empty end)
			] | join("; ") end' "$out/results.jsonl" 2>&1)
		is "$problems" "" "$name: verified, $SIZE bytes, nonblock recorded"
		figures=$(jq -r --arg role "$role" '.roles[$role] | "eagain=\(.eagain) short_ops=\(.short_ops) calls=\(.calls)"' \
			"$out/results.jsonl" 2>&1)
		partial=$(jq -r --arg role "$role" '.roles[$role] | (.eagain + .short_ops)' "$out/results.jsonl" 2>/dev/null)
		if [ "$sc $s" = "serve uring_splice" ]; then
			# Not a property of the buffers: io_uring runs each splice in a
			# blocking io-wq worker, and serve's slots are sized to their
			# pipe, so a file->pipe splice is never short and a pipe->socket
			# one waits instead of returning EAGAIN; a short one came now
			# and then (2 in 2048), so asserting it was a flake.  relay and
			# store run uring_splice's partial paths (socket input).
			skip "serve uring_splice: its splices block in io-wq workers on slot-sized pipes, so partial transfers do not reach it ($figures)" \
				"$name: the $role saw EAGAIN or short transfers"
		else
			ok $([ "${partial:-0}" -gt 0 ] 2>/dev/null; echo $?) "$name: the $role saw EAGAIN or short transfers ($figures)" \
				"$figures"
		fi
		# The strategies with pipes of their own got the pipe asked for.
		case $s in
		splice*|tee*|vmsplice*)
			is "$(jq -r .pipe_size "$out/results.jsonl")" 4096 "$name: the strategy's pipe is 4096 bytes"
			;;
		esac
	done
done

done_testing

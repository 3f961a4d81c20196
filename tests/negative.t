#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Negative verification: a check that cannot fail proves nothing.  The data
# entering each scenario's path is damaged after the expected hashes were
# taken — one flipped bit, a dropped block, a duplicated block, two swapped
# blocks — and every run must fail with exit 1, no record, and a message
# naming the exact first bad offset.  The pattern is unique per offset, so a
# swap or a duplicate is caught like a flip.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab

AT=1048576
# fault -> first bad offset expected
declare -A first=( [flip]=$AT [drop]=$AT [dup]=$((AT + 4096)) [swap]=$AT )

for sc in serve send relay fanout store copy echo pipe; do
	for kind in flip drop dup swap; do
		out=$TMP/$sc-$kind
		cl run --scenario "$sc" --strategy readwrite --size 4M --reps 1 --warmup 0 \
			--fault "$kind@$AT" --out "$out" --workdir "$TMP" --no-bpf --no-perf
		want="first bad byte at offset ${first[$kind]} "
		if [ "$RC" -eq 1 ] && grep -q "verification failed: .*$want" "$ERR" && [ ! -s "$out/results.jsonl" ]; then
			pass "$sc: $kind at $AT caught, exit 1, offset ${first[$kind]} named, no record"
		else
			fail "$sc: $kind at $AT caught, exit 1, offset ${first[$kind]} named, no record"
			cl_desc 5
		fi
	done
done

# The same damage in the strategies' own data paths: a splice relay and a
# sendfile server pass it through untouched, and it is caught the same way.
for cell in "relay splice" "serve sendfile" "send vmsplice" "fanout tee" "store mmap_write"; do
	read -r sc st <<<"$cell"
	cl run --scenario "$sc" --strategy "$st" --size 4M --reps 1 --warmup 0 --fault "swap@$AT" \
		--out "$TMP/$sc-$st" --workdir "$TMP" --no-bpf --no-perf
	if [ "$RC" -eq 1 ] && grep -q "first bad byte at offset $AT " "$ERR"; then
		pass "$sc $st: swapped blocks caught at $AT"
	else
		fail "$sc $st: swapped blocks caught at $AT"
		cl_desc 5
	fi
done

done_testing

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What root copylab executes is not chosen by the caller's environment:
# ip, tc, nft and perf are run from the system's directories by absolute
# path, never found through PATH (a user's ~/bin first on a root shell's
# PATH would otherwise run as root), and never through a shell (a
# --workdir holding quotes and $(...) reaches perf as one argument).
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab

[ "$(id -u)" -eq 0 ] || skip_all "needs root (the routed path's namespaces, perf on a role)"
export PATH=$PATH:/usr/sbin:/sbin

# Impostors that would leave a mark if copylab ran them.
EVIL=$TMP/evil-bin
mkdir -p "$EVIL"
for tool in ip tc nft perf; do
	printf '#!/bin/sh\ntouch "%s/ran-%s"\nexit 1\n' "$TMP" "$tool" >"$EVIL/$tool"
	chmod +x "$EVIL/$tool"
done
marks() { (cd "$TMP" && ls ran-* 2>/dev/null | tr '\n' ' '); }

RC=0
PATH=$EVIL:$PATH timeout -k 5 120 "$COPYLAB" run --scenario relay --strategy readwrite,nat --transport routed \
	--size 1M --reps 1 --warmup 0 --no-perf --workdir "$TMP" --out "$TMP/routed" >"$TMP/out" 2>"$TMP/err" </dev/null || RC=$?
is "$RC" 0 "a routed relay with nat, with impostor ip/tc/nft first on PATH: exit 0" || diag_file "$TMP/err" 5
is "$(marks)" "" "no impostor on PATH was executed (ip, tc, nft by absolute path, inside ip netns exec too)"
is "$(jq -s 'map(select(.verify == "ok")) | length' "$TMP/routed/results.jsonl" 2>/dev/null)" 2 \
	"both strategies' records verified"

if [ -x /usr/bin/perf ] || [ -x /usr/sbin/perf ]; then
	W="$TMP/it's \$(touch $TMP/injected) \`touch $TMP/injected2\`"
	mkdir -p "$W"
	RC=0
	PATH=$EVIL:$PATH timeout -k 5 120 "$COPYLAB" run --scenario copy --strategy readwrite --size 64M --reps 1 \
		--warmup 0 --profile --workdir "$W" --out "$TMP/prof" >"$TMP/out" 2>"$TMP/err" </dev/null || RC=$?
	is "$RC" 0 "--profile with a --workdir holding quotes, \$(...) and backquotes: exit 0" || diag_file "$TMP/err" 5
	ok $([ ! -e "$TMP/injected" ] && [ ! -e "$TMP/injected2" ]; echo $?) "nothing in the --workdir's name was run by a shell"
	is "$(marks)" "" "perf was run by absolute path, not the impostor"
	is "$(jq -r '.profile.samples > 0 and (.profile.top | length) > 0' "$TMP/prof/results.jsonl" 2>/dev/null)" true \
		"perf report read the data under that --workdir (the profile was taken)" || diag "$(jq -c .profile "$TMP/prof/results.jsonl")"
else
	skip "perf is not installed" "--profile with a hostile --workdir"
fi

done_testing

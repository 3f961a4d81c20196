#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `copylab claims --quick` runs and gives every claim a verdict (from the
# four allowed), writes claims.json and claims.md; the claims decided by
# the interface and the kernel get the verdict this machine kind gives;
# `copylab explain` prints each seed strategy's summary and support table
# and refuses an unknown name with exit 2 and the valid names.
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_copylab
command -v jq >/dev/null || skip_all "jq is not installed (scripts/deps.sh installs it)"
help=$("$COPYLAB" --help 2>&1)
grep -qE '^  claims ' <<<"$help" || skip_all "this copylab has no claims command (harness/cli/main.c does not list it yet)"

SEEDS="readwrite mmap_write sendfile splice tee vmsplice"

# --- explain ---------------------------------------------------------------
if grep -qE '^  explain ' <<<"$help"; then
	for s in $SEEDS; do
		out=$("$COPYLAB" explain "$s" 2>&1); rc=$?
		first=$(sed -n '/^## In short/,/^## /{/^- /p}' "docs/strategies/$s.md" | head -1 | cut -c1-40)
		ok $rc "explain $s exits 0"
		grep -qF -- "$first" <<<"$out"; ok $? "explain $s prints its page's summary" "$out"
		grep -q '^Support' <<<"$out" && grep -qE '^  relay +[-+]' <<<"$out"
		ok $? "explain $s prints the support table from the strategy module" "$out"
	done
	out=$("$COPYLAB" explain msg_zerocopy 2>&1)
	grep -q '^  waits: it waits on the socket.s error queue' <<<"$out"
	ok $? "explain names what a strategy waits on besides its sockets (msg_zerocopy: the error queue)" "$out"
	out=$("$COPYLAB" explain sendfile 2>&1)
	! grep -q '^  waits:' <<<"$out"
	ok $? "explain says nothing of waits for a strategy that waits on its sockets only (sendfile)" "$out"
	out=$(cd "$TMP" && COPYLAB_DOCS=$ROOT/docs "$COPYLAB" explain splice 2>&1)
	grep -q '^## In short' <<<"$out"; ok $? "explain finds the pages through \$COPYLAB_DOCS" "$out"
	"$COPYLAB" explain no_such_strategy >"$TMP/ex.out" 2>"$TMP/ex.err"; rc=$?
	is "$rc" 2 "explain of an unknown strategy exits 2"
	grep -q 'readwrite' "$TMP/ex.err" && grep -q 'vmsplice' "$TMP/ex.err"
	ok $? "explain of an unknown strategy lists the valid ones" "$(cat "$TMP/ex.err")"
else
	skip "this copylab has no explain command" "explain"
fi

# --- claims ----------------------------------------------------------------
"$COPYLAB" claims --no-such-option >/dev/null 2>&1; is $? 2 "claims with an unknown option exits 2"

D=$TMP/claims
"$COPYLAB" claims --quick --out "$D" >"$TMP/claims.out" 2>"$TMP/claims.err"; rc=$?
is "$rc" 0 "claims --quick exits 0" || diag_file "$TMP/claims.err"
jq -e . "$D/claims.json" >/dev/null 2>&1; ok $? "claims.json is JSON"
[ -s "$D/claims.md" ]; ok $? "claims.md is written"
n=$(jq '.claims | length' "$D/claims.json" 2>/dev/null || echo 0)
[ "$n" -ge 13 ]; ok $? "at least 13 claims ($n)"
bad=$(jq -r '.claims[] | select(.verdict as $v | ["holds here","does not hold here","no difference measured","cannot be measured here"] | index($v) | not) | .id' "$D/claims.json" 2>/dev/null)
[ -z "$bad" ] && [ "$n" -gt 0 ]; ok $? "every claim has one of the four verdicts" "$bad"
bad=$(jq -r '.claims[] | select((.measurement|length)==0 or (.cells|length)==0 or (.source|length)==0 or (.figure|length)==0 or (.expectation|length)==0) | .id' "$D/claims.json" 2>/dev/null)
[ -z "$bad" ]; ok $? "every claim has its source, cells, figure, expectation and measurement" "$bad"
bad=$(jq -r '.claims[] | select(.verdict=="cannot be measured here" and (.why|length)==0) | .id' "$D/claims.json")
[ -z "$bad" ]; ok $? "every 'cannot be measured here' says why" "$bad"
v=$(grep -c 'VERDICT: ' "$TMP/claims.out"); is "$v" "$n" "the printed ledger has a verdict per claim"

for id in readwrite-copies sendfile-no-user-copy sendfile-not-from-socket splice-needs-pipe \
	  splice-relay-less-cpu tee-no-user-copy gift-needs-alignment mmap-trades-copy-for-faults \
	  zero-copy-faster sendfile-less-cpu sockmap-no-wakeups nat-no-process; do
	jq -e --arg id "$id" '.claims[] | select(.id==$id)' "$D/claims.json" >/dev/null 2>&1
	ok $? "claim $id is in the ledger"
done

# What the interface and the kernel decide, whatever the load of the machine.
verdict() { jq -r --arg id "$1" '.claims[] | select(.id==$id) | .verdict' "$D/claims.json"; }
is "$(verdict sendfile-not-from-socket)" "holds here" "sendfile cannot read from a socket: holds (exit 2 + EINVAL)"
if [ "$(id -u)" -eq 0 ]; then
	is "$(verdict splice-needs-pipe)" "holds here" "splice needs a pipe: holds (EINVAL, exit 2, 2x in kernel)"
	is "$(verdict sendfile-no-user-copy)" "holds here" "sendfile: no byte through user memory"
	is "$(verdict tee-no-user-copy)" "holds here" "tee: no byte through user memory"
else
	skip "the BPF ledger needs root" "ledger verdicts"
fi
# nat over routed: the record has no relay process (root, nft; required here under root).
if [ "$(id -u)" -eq 0 ] && { command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ]; }; then
	is "$(verdict nat-no-process)" "holds here" "nat-no-process: measured over routed, no relay process in the record" \
		"$(jq -r '.claims[] | select(.id=="nat-no-process") | .measurement' "$D/claims.json")"
	ok "$(jq -e '.claims[] | select(.id=="nat-no-process") | .measurement | test("system busy CPU per GiB nat/readwrite")' "$D/claims.json" >/dev/null; echo $?)" \
		"nat-no-process: the measurement gives the system-wide CPU ratio to readwrite"
else
	is "$(verdict nat-no-process)" "cannot be measured here" "without root or nft, nat-no-process cannot be measured"
fi
if ! "$COPYLAB" list | grep -q '^  sockmap '; then
	is "$(verdict sockmap-no-wakeups)" "cannot be measured here" "without a sockmap strategy the sockmap claim cannot be measured"
fi
done_testing

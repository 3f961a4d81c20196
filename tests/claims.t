#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `copylab claims --quick` runs and gives every claim a verdict (from the
# five allowed), writes claims.json and claims.md (copylab.claims/2); only
# the kernel's own answer is pinned; what the ledger counts is stated "by
# construction" and a copy claim without sampled copy time cannot be
# measured; a system-wide CPU figure decides only when resolved; "no
# difference" only at the repetition cap;
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
is "$(jq -r .schema "$D/claims.json")" "copylab.claims/2" "claims.json is copylab.claims/2"
n=$(jq '.claims | length' "$D/claims.json" 2>/dev/null || echo 0)
[ "$n" -ge 14 ]; ok $? "at least 14 claims ($n)"
bad=$(jq -r '.claims[] | select(.verdict as $v | ["holds here","does not hold here","no difference measured","unresolved","cannot be measured here"] | index($v) | not) | .id' "$D/claims.json" 2>/dev/null)
[ -z "$bad" ] && [ "$n" -gt 0 ]; ok $? "every claim has one of the five verdicts" "$bad"
bad=$(jq -r '.claims[] | select((.measurement|length)==0 or (.cells|length)==0 or (.source|length)==0 or (.figure|length)==0 or (.expectation|length)==0) | .id' "$D/claims.json" 2>/dev/null)
[ -z "$bad" ]; ok $? "every claim has its source, cells, figure, expectation and measurement" "$bad"
bad=$(jq -r '.claims[] | select((.repetitions|type)!="number" or ((.by_construction|type) as $t | ["string","null"] | index($t) | not)) | .id' "$D/claims.json")
[ -z "$bad" ]; ok $? "every claim has its repetitions and a by_construction string or null" "$bad"
bad=$(jq -r '.claims[] | select(.verdict=="cannot be measured here" and (.why|length)==0) | .id' "$D/claims.json")
[ -z "$bad" ]; ok $? "every 'cannot be measured here' says why" "$bad"
v=$(grep -c 'VERDICT: ' "$TMP/claims.out"); is "$v" "$n" "the printed ledger has a verdict per claim"

for id in readwrite-copies readwrite-context-switches sendfile-no-user-copy sendfile-not-from-socket \
	  splice-needs-pipe splice-relay-less-cpu tee-no-user-copy gift-needs-alignment \
	  mmap-trades-copy-for-faults zero-copy-faster sendfile-less-cpu sockmap-no-wakeups \
	  zerocopy-recv-halves-cpu nat-no-process; do
	jq -e --arg id "$id" '.claims[] | select(.id==$id)' "$D/claims.json" >/dev/null 2>&1
	ok $? "claim $id is in the ledger"
done

verdict() { jq -r --arg id "$1" '.claims[] | select(.id==$id) | .verdict' "$D/claims.json"; }
field() { jq -r --arg id "$1" --arg f "$2" '.claims[] | select(.id==$id) | .[$f] // ""' "$D/claims.json"; }
# The kernel's own answer, whatever the load: sendfile refuses a socket as input.
is "$(verdict sendfile-not-from-socket)" "holds here" "sendfile cannot read from a socket: the kernel refuses (EINVAL)"

# What follows from how copylab counts is stated, never the verdict: the claims the
# ledger alone would settle say "by construction", and decide on the sampled copy time.
for id in readwrite-copies sendfile-no-user-copy splice-needs-pipe tee-no-user-copy mmap-trades-copy-for-faults; do
	grep -q 'by construction' <<<"$(field "$id" by_construction)"
	ok $? "$id states its ledger part as by construction" "$(field "$id" by_construction)"
done
# A copy claim's verdict rests on the roles' sampled copy time: without it in the
# records, it cannot be measured, whatever the ledger counted.
sampled=$(cat "$D"/claims-*/results.jsonl 2>/dev/null | jq -s '[.[] | .roles[]? | .cputime? | select(type=="object")] | length')
for id in sendfile-no-user-copy tee-no-user-copy; do
	if [ "${sampled:-0}" -eq 0 ]; then
		is "$(verdict "$id")" "cannot be measured here" "$id: no sampled copy time in the records, so no verdict"
	else
		grep -q 'sampled copy time' <<<"$(field "$id" measurement)"
		ok $? "$id: the measurement gives the sampled copy time" "$(field "$id" measurement)"
	fi
done

# A system-wide CPU figure decides only when resolved: sendfile-less-cpu rests on it alone.
serve_res=$(cat "$D"/claims-*/results.jsonl 2>/dev/null | jq -rs '[.[] | select(.scenario=="serve") | .system_cpu.resolved] | if length==0 then "none" elif any(.==null) then "missing" elif any(.==false) then "false" else "true" end')
case $serve_res in
missing) is "$(verdict sendfile-less-cpu)" "cannot be measured here" "sendfile-less-cpu: records without system_cpu.resolved decide nothing" ;;
false) is "$(verdict sendfile-less-cpu)" "unresolved" "sendfile-less-cpu: an unresolved system-wide CPU decides nothing" ;;
true) grep -qE '^(holds here|does not hold here|no difference measured)$' <<<"$(verdict sendfile-less-cpu)"
      ok $? "sendfile-less-cpu: resolved figures give a measured verdict" ;;
*) ok 1 "sendfile-less-cpu: the serve cell has records" ;;
esac

# No difference is said only after the repetitions were added up to the cap.
cap=$(jq .reps_cap "$D/claims.json")
bad=$(jq -r --argjson cap "$cap" '.claims[] | select(.verdict=="no difference measured" and (.why|test("include|decide nothing")) and .repetitions < $cap) | "\(.id) at \(.repetitions)"' "$D/claims.json")
[ -z "$bad" ]; ok $? "an undecided ratio reads 'no difference measured' only at the cap ($cap)" "$bad"
added=$(ls -d "$D"/claims-*.reps*/ 2>/dev/null | wc -l)
if [ "$added" -gt 0 ]; then
	grep -q '# repetitions ' "$D/claims.json"; ok $? "added repetitions are listed among the cells' commands"
	bad=0
	for d in "$D"/claims-*.reps*/; do [ -s "$d/results.jsonl" ] || bad=1; done
	ok $((bad)) "every added run left its records ($added runs)"
else
	skip "no claim needed added repetitions in this run" "added repetitions"
fi

# nat over routed: judged on the system-wide CPU, never on its having no relay (root, nft).
if [ "$(id -u)" -eq 0 ] && { command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ]; }; then
	grep -q 'system-wide busy CPU per GiB.*, nat/readwrite' <<<"$(field nat-no-process measurement)"
	ok $? "nat-no-process: the measurement gives the system-wide CPU ratio to readwrite" "$(field nat-no-process measurement)"
	grep -q 'by construction' <<<"$(field nat-no-process by_construction)"
	ok $? "nat-no-process: its having no relay process is stated as by construction"
else
	is "$(verdict nat-no-process)" "cannot be measured here" "without root or nft, nat-no-process cannot be measured"
fi
if ! "$COPYLAB" list | grep -q '^  sockmap '; then
	is "$(verdict sockmap-no-wakeups)" "cannot be measured here" "without a sockmap strategy the sockmap claim cannot be measured"
fi
done_testing

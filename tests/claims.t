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
# The seed articles' claims, through --only at small sizes: a bad selector
# is a usage error that writes nothing; only the cells the chosen claims
# read run; the kernel's own answers are pinned (sendfile into a file or a
# pipe, vmsplice buffer reuse, a non-blocking partial splice, no corruption
# in what was spliced from sockets); every seed claim cites its seed piece.
# timeout: 420
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
# The first fourteen claims at --quick sizes; the seed claims are below, at small sizes (all of them: make claims).
FIRST="readwrite-copies,readwrite-context-switches,sendfile-no-user-copy,sendfile-not-from-socket,splice-needs-pipe,splice-relay-less-cpu,tee-no-user-copy,gift-needs-alignment,mmap-trades-copy-for-faults,zero-copy-faster,sendfile-less-cpu,sockmap-no-wakeups,zerocopy-recv-halves-cpu,nat-no-process"
"$COPYLAB" claims --quick --only "$FIRST" --out "$D" >"$TMP/claims.out" 2>"$TMP/claims.err"; rc=$?
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

# --- the seed articles' claims, by --only --------------------------------------
seedids="sendfile-out-must-be-socket splice-nonblock-partial splice-socket-read-corrupts splice-move-zero-copy
splice-remaps-pages vmsplice-reuse-changes-pipe vmsplice-no-copy table-readwrite table-mmap-write table-sendfile
table-splice zero-copy-lower-latency zero-copy-lower-memory-bandwidth splice-echo-no-user-copy
zero-copy-gain-needs-size mmap-faults-large-cost sendfile-sg-dma-no-cpu-copy userstack-ipc-adds-copies
port-forward-no-process"
list=$("$COPYLAB" claims --list 2>&1)
missing=""
for id in $seedids; do grep -q "^$id " <<<"$list" || missing+=" $id"; done
is "$missing" "" "claims --list names every seed claim"
expect_usage_error "claims --only with an unknown id is a usage error naming it and the valid ones" \
	"no claim 'no-such-claim'; valid: readwrite-copies" claims --only no-such-claim --out "$TMP/never"
[ ! -e "$TMP/never" ]; ok $? "a refused --only writes nothing (no results directory)"
expect_usage_error "claims --only with no id is a usage error" "needs claim ids" claims --only , --out "$TMP/never"
expect_usage_error "claims --peer without --transport nic is a usage error" "for --transport nic" \
	claims --peer 192.0.2.1:7000 --only sendfile-sg-dma-no-cpu-copy --out "$TMP/never"

S=$TMP/seeds-direct
"$COPYLAB" claims --only sendfile-out-must-be-socket,vmsplice-reuse-changes-pipe,zero-copy-lower-memory-bandwidth \
	--out "$S" >"$TMP/sd.out" 2>"$TMP/sd.err"; rc=$?
is "$rc" 0 "claims --only with direct checks alone exits 0" || diag_file "$TMP/sd.err"
is "$(jq '.claims | length' "$S/claims.json" 2>/dev/null)" 3 "--only judges just the claims asked for"
[ -s "$S/claims.json" ] && [ "$(ls -d "$S"/claims-* 2>/dev/null | wc -l)" -eq 0 ]
ok $? "--only runs no cell that its claims do not read"
sverdict() { jq -r --arg id "$2" '.claims[] | select(.id==$id) | .verdict' "$1/claims.json"; }
sfield() { jq -r --arg id "$2" --arg f "$3" '.claims[] | select(.id==$id) | .[$f] // ""' "$1/claims.json"; }
# The kernel's own answers: sendfile takes any file as output since 2.6.33; a vmsplice'd page is referenced, not copied.
is "$(sverdict "$S" sendfile-out-must-be-socket)" "does not hold here" \
	"sendfile into a regular file and a pipe works here (the output need not be a socket)"
is "$(sverdict "$S" vmsplice-reuse-changes-pipe)" "holds here" "overwriting a vmsplice'd buffer changes what the reader gets"
grep -q "write() control returned 4096 (success), the reader got the 'A's" <<<"$(sfield "$S" vmsplice-reuse-changes-pipe measurement)"
ok $? "the reuse check's write() control delivered the bytes as given" "$(sfield "$S" vmsplice-reuse-changes-pipe measurement)"
is "$(sverdict "$S" zero-copy-lower-memory-bandwidth)" "cannot be measured here" "memory bandwidth cannot be measured here"
grep -q 'counter' <<<"$(sfield "$S" zero-copy-lower-memory-bandwidth why)"
ok $? "and it says why (the hardware counters)" "$(sfield "$S" zero-copy-lower-memory-bandwidth why)"

# The rest at 1 MiB, 8 repetitions, no more added: behaviour and the verdicts' form, not figures.
S=$TMP/seeds-cells
only=$(tr ' \n' ',,' <<<"$seedids" | sed 's/,,*/,/g; s/,$//')
"$COPYLAB" claims --only "$only" --size 1M --reps 8 --reps-cap 8 --out "$S" >"$TMP/sc.out" 2>"$TMP/sc.err"; rc=$?
is "$rc" 0 "claims --only (every seed claim) at 1M exits 0" || diag_file "$TMP/sc.err"
n=$(jq '.claims | length' "$S/claims.json" 2>/dev/null || echo 0)
is "$n" "$(wc -w <<<"$seedids")" "every seed claim is in the ledger"
bad=$(jq -r '.claims[] | select(.verdict as $v | ["holds here","does not hold here","no difference measured","unresolved","cannot be measured here"] | index($v) | not) | .id' "$S/claims.json" 2>/dev/null)
[ -z "$bad" ] && [ "$n" -gt 0 ]; ok $? "every seed claim has one of the five verdicts" "$bad"
bad=$(jq -r '.claims[] | select((.why|length)==0 or (.measurement|length)==0) | .id' "$S/claims.json")
[ -z "$bad" ] && [ "$n" -gt 0 ]; ok $? "every seed claim says what it measured and why its verdict" "$bad"
bad=$(jq -r '.claims[] | select(.source | test("2013-12-01|关注splice系列系统调用|Zero-copy|FPGA之家|socket转发offload") | not) | .id' "$S/claims.json")
[ -z "$bad" ] && [ "$n" -gt 0 ]; ok $? "every seed claim cites its seed piece by title" "$bad"
[ -d "$S/claims-1" ] && [ -z "$(ls -d "$S"/claims-*.reps* 2>/dev/null)" ]; ok $? "--reps-cap 8 adds no repetitions"
grep -q -- '--nonblock --sndbuf 16K' <<<"$(sfield "$S" splice-nonblock-partial cells)"
ok $? "splice-nonblock-partial runs copylab's splice relay with --nonblock and small buffers" "$(sfield "$S" splice-nonblock-partial cells)"
is "$(sverdict "$S" splice-nonblock-partial)" "holds here" \
	"a non-blocking splice leaves bytes in the pipe, and copylab's loop stays byte-exact"
is "$(sverdict "$S" splice-socket-read-corrupts)" "does not hold here" "what was spliced out of sockets arrived byte-exact"
grep -q -- '--scenario relay --strategy readwrite,splice,splice:move' <<<"$(sfield "$S" splice-move-zero-copy cells)"
ok $? "splice-move-zero-copy measures splice with and without :move"
grep -q -- '--pipe-size 1M' <<<"$(sfield "$S" vmsplice-no-copy cells)"
ok $? "vmsplice-no-copy measures a 1 MiB pipe beside the default one"
is "$(sverdict "$S" splice-remaps-pages)" "cannot be measured here" "page-table rewriting is not claimed measured"
is "$(sverdict "$S" sendfile-sg-dma-no-cpu-copy)" "cannot be measured here" "scatter-gather DMA needs a real NIC (tcp here)"
if ! "$COPYLAB" list | grep -q '^  redirect '; then
	is "$(sverdict "$S" port-forward-no-process)" "cannot be measured here" "without a same-host REDIRECT strategy, port forwarding on one host cannot be measured"
fi
if [ "$(id -u)" -ne 0 ]; then
	grep -q 'root' <<<"$(sfield "$S" userstack-ipc-adds-copies why)"
	ok $? "without root, the user-space stack claim says it needs root"
fi
# As a user who cannot load BPF, the sockmap claim is one that cannot be
# measured here, with its strategy's reason, and claims still exits 0
# (its cell used to be run anyway, fail, and end claims with exit 1).
if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null; then
	# nobody may not enter the clone or $TMP: a copy of copylab in a directory it can.
	NB=$(mktemp -d /tmp/copylab-claims-nobody.XXXXXX) || bail_out "mktemp failed"
	at_exit "rm -rf '$NB'"
	chmod 0777 "$NB"
	cp "$COPYLAB" "$NB/copylab" && chmod 0755 "$NB/copylab" || bail_out "cannot copy copylab to $NB"
	(cd "$NB" && timeout -k 5 120 runuser -u nobody -- "$NB/copylab" claims --quick --only sockmap-no-wakeups \
		--out "$NB/c" >"$NB/out" 2>&1)
	rc=$?
	ok "$([ "$rc" -eq 0 ] && grep -q 'not run: sockmap loads a BPF program, which needs root' "$NB/out" &&
		grep -q 'VERDICT: cannot be measured here (sockmap needs root here)' "$NB/out"; echo $?)" \
		"as nobody: the sockmap claim cannot be measured (needs root), and claims exits 0" "rc $rc; $(tail -n 5 "$NB/out")"
else
	skip "needs root and runuser to try a user without BPF" "the sockmap claim as nobody"
fi
done_testing

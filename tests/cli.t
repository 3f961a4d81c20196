#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The command line: usage errors exit 2 with a message that helps (valid
# names listed, the reason an unsupported pair cannot work), --help exits 0,
# `copylab list` shows the support matrix and `list --json` matches the spec.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab
load_list

STRATEGIES="readwrite mmap_write sendfile splice tee vmsplice"
SCENARIOS="serve send relay fanout store copy echo pipe recv"


# --- list --json equals the spec --------------------------------------------

expected_matrix='{
  "readwrite":  ["serve","send","relay","fanout","store","copy","echo","pipe","recv"],
  "mmap_write": ["serve","store","copy"],
  "sendfile":   ["serve","copy"],
  "splice":     ["serve","relay","store","copy","echo"],
  "tee":        ["fanout"],
  "vmsplice":   ["send","pipe"]
}'
expected_roles='{
  "serve":  ["server","client"],
  "send":   ["sender","sink"],
  "relay":  ["relay","source","sink"],
  "fanout": ["relay","source","sink"],
  "store":  ["receiver","source"],
  "copy":   ["copier"],
  "echo":   ["server","client"],
  "pipe":   ["writer","reader"],
  "recv":   ["receiver","source"]
}'

got=$(jq -r '[.strategies[].name][0:6] | join(" ")' "$LIST_JSON")
is "$got" "$STRATEGIES" "list --json: the six seed strategies first, in registry order"

got=$(jq -c '[.strategies[0:6][] | {key: .name, value: [.scenarios | to_entries[] | select(.value.ok) | .key]}] | from_entries' "$LIST_JSON")
want=$(jq -c . <<<"$expected_matrix")
is "$got" "$want" "list --json: the seed strategies' support matrix is the spec's"

# The newer strategies, where present, support at least what issue 6 names.
expected_at_least='{
  "copy_file_range": ["copy"],
  "uring_rw":        ["serve","relay","store","copy","recv"],
  "uring_splice":    ["serve","relay","store","copy"],
  "uring_send_zc":   ["send","serve"],
  "msg_zerocopy":    ["send"],
  "sockmap":         ["relay"],
  "zerocopy_recv":   ["store","recv"]
}'
got=$(jq -r --argjson want "$expected_at_least" '[.strategies[] | .name as $n | select($want[$n]) |
	($want[$n] - [.scenarios | to_entries[] | select(.value.ok) | .key]) | select(length > 0) |
	"\($n) lacks \(join(","))"] | join("; ")' "$LIST_JSON")
is "$got" "" "list --json: each newer strategy present supports what it must"

got=$(jq -r '[.strategies[] | select((.scenarios | keys | length) != 9) | .name] | join(" ")' "$LIST_JSON")
is "$got" "" "list --json: every strategy says something about all 9 scenarios"

got=$(jq -r '[.strategies[] | .name as $n | .scenarios | to_entries[] | select(.value.ok | not) |
	select((.value.why_not | type) != "string" or (.value.why_not | length) < 15) | "\($n)/\(.key)"] | join(" ")' "$LIST_JSON")
is "$got" "" "list --json: every unsupported pair has a reason sentence"

got=$(jq -r '[.strategies[] | select((.summary | type) != "string" or (.summary | length) < 10) | .name] | join(" ")' "$LIST_JSON")
is "$got" "" "list --json: every strategy has a summary"

got=$(jq -r '[.scenarios[].name] | join(" ")' "$LIST_JSON")
is "$got" "$SCENARIOS" "list --json: the nine scenarios, in order"

got=$(jq -c '[.scenarios[] | {key: .name, value: .roles}] | from_entries' "$LIST_JSON")
is "$got" "$(jq -c . <<<"$expected_roles")" "list --json: role names of every scenario, tested role first"

got=$(jq -r '[.scenarios[] | select(.tested_role != .roles[0] or ((.path | type) != "string") or (.path | length) < 3) | .name] | join(" ")' "$LIST_JSON")
is "$got" "" "list --json: tested_role is the first role and every scenario has a path"

is "$(jq -c '.transports[0:2]' "$LIST_JSON")" '["tcp","unix"]' "list --json: transports tcp and unix first"

# --- list (text) ---------------------------------------------------------------

cl list
norm() { tr -s ' \t\n' '   ' <"$1"; }
missing=""
for w in $STRATEGIES $SCENARIOS tcp unix; do
	grep -qw -- "$w" "$OUT" || missing+=" $w"
done
ok $([ "$RC" -eq 0 ] && [ -z "$missing" ]; echo $?) "list: exit 0, names every strategy, scenario and transport" \
	"exit $RC; missing:$missing"

text=$(norm "$OUT")
missing=""
while IFS= read -r why; do
	why=$(tr -s ' \t\n' '   ' <<<"$why")
	why=${why% }
	[[ $text == *"$why"* ]] || missing+=$'\n'"  $why"
done < <(jq -r '[.strategies[].scenarios[] | select(.ok | not) | .why_not] | unique[]' "$LIST_JSON")
ok $([ -z "$missing" ]; echo $?) "list: shows the reason of every unsupported pair" "reasons missing from the text:$missing"

# --- unknown names --------------------------------------------------------------

mkdir -p "$TMP/cwd"
run_in_cwd() { (cd "$TMP/cwd" && cl "$@"; echo "$RC" >"$TMP/rc"); RC=$(cat "$TMP/rc"); OUT=$TMP/last.out ERR=$TMP/last.err; }

NOOUT=$TMP/must-not-exist
expect_usage_error "unknown strategy: exit 2, names it" "unknown strategy.*'?foo'?" \
	run --scenario serve --strategy foo --out "$NOOUT"
missing=""
for s in $STRATEGIES; do grep -qw -- "$s" "$ERR" || missing+=" $s"; done
ok $([ -z "$missing" ]; echo $?) "unknown strategy: the message lists the valid names" "not listed:$missing" "$(cat "$ERR")"

expect_usage_error "unknown strategy inside a list: exit 2" "unknown strategy.*bogus" \
	run --scenario serve --strategy readwrite,bogus --out "$NOOUT"

expect_usage_error "unknown scenario: exit 2, names it" "unknown scenario.*nowhere" \
	run --scenario nowhere --strategy readwrite --out "$NOOUT"
missing=""
for s in $SCENARIOS; do grep -qw -- "$s" "$ERR" || missing+=" $s"; done
ok $([ -z "$missing" ]; echo $?) "unknown scenario: the message lists the valid scenarios" "not listed:$missing" "$(cat "$ERR")"

expect_usage_error "unknown transport: exit 2, names it" "transport.*ipx|ipx.*transport" \
	run --scenario serve --strategy readwrite --transport ipx --out "$NOOUT"

expect_usage_error "unknown option: exit 2, names it" "frobnicate" \
	run --scenario serve --strategy readwrite --frobnicate --out "$NOOUT"

# readwrite:trunc (MSG_TRUNC) has places of its own: recv only, not over AF_UNIX.
expect_usage_error "readwrite:trunc outside recv: exit 2 with why" "readwrite:trunc cannot run relay over tcp: MSG_TRUNC" \
	run --scenario relay --strategy readwrite:trunc --out "$NOOUT"
expect_usage_error "readwrite:trunc over unix: exit 2 with why" "readwrite:trunc cannot run recv over unix: AF_UNIX.*MSG_TRUNC" \
	run --scenario recv --strategy readwrite:trunc --transport unix --out "$NOOUT"
expect_usage_error "readwrite:trunc:hugepages: exit 2, no buffer to back" "keeps no buffer" \
	run --scenario recv --strategy readwrite:trunc:hugepages --out "$NOOUT"
expect_usage_error "copylab copy --strategy readwrite:trunc: exit 2 with why" "readwrite:trunc cannot copy a file: MSG_TRUNC" \
	copy --strategy readwrite:trunc "$TMP/cwd" "$NOOUT"
got=$(jq -r '.strategies[] | select(.name == "readwrite") | .option_limits[] | select(.option == "trunc") |
	"\(.only_scenario) \(.af_unix_why_not | length > 20)"' "$LIST_JSON")
is "$got" "recv true" "list --json: readwrite's trunc runs in recv only, and says why not over unix"
ok "$([ ! -e "$NOOUT" ]; echo $?)" "no results directory from the trunc refusals"
got=$(jq -r '[.strategies[] | .name as $n | .option_limits[] | select(.option == "busy") |
	"\($n):\(.only_scenarios | join("+")):\(.only_scenario):\(.why_elsewhere | length > 20)"] | join(" ")' "$LIST_JSON")
is "$got" "readwrite:echo+pipe:null:true splice:echo+pipe:null:true vmsplice:echo+pipe:null:true" \
	"list --json: busy runs in echo and pipe only, on readwrite, splice and vmsplice, and says why not elsewhere"

expect_usage_error "unknown subcommand: exit 2" "teleport" teleport
expect_usage_error "no subcommand: exit 2 with usage" "[Uu]sage" 
expect_usage_error "run without --scenario: exit 2" "scenario" run --strategy readwrite --out "$NOOUT"
expect_usage_error "run without --strategy: exit 2" "strategy" run --scenario serve --out "$NOOUT"

# --- bad numbers ----------------------------------------------------------------

expect_usage_error "--size abc: exit 2" "\-\-size.*'abc'" run --scenario serve --strategy readwrite --size abc --out "$NOOUT"
expect_usage_error "--size 12X: exit 2" "\-\-size.*12X" run --scenario serve --strategy readwrite --size 12X --out "$NOOUT"
expect_usage_error "--size -1: exit 2" "\-\-size" run --scenario serve --strategy readwrite --size -1 --out "$NOOUT"
expect_usage_error "--size '': exit 2" "\-\-size" run --scenario serve --strategy readwrite --size "" --out "$NOOUT"
expect_usage_error "--size 99999999999G (overflow): exit 2" "\-\-size" run --scenario serve --strategy readwrite --size 99999999999G --out "$NOOUT"
expect_usage_error "--size 18446744073709551616 (2^64): exit 2" "\-\-size" run --scenario serve --strategy readwrite --size 18446744073709551616 --out "$NOOUT"
expect_usage_error "--block abc: exit 2" "\-\-block" run --scenario serve --strategy readwrite --block abc --out "$NOOUT"
expect_usage_error "--block 0: exit 2" "\-\-block" run --scenario serve --strategy readwrite --block 0 --out "$NOOUT"
expect_usage_error "--reps 0: exit 2" "\-\-reps" run --scenario serve --strategy readwrite --reps 0 --out "$NOOUT"
expect_usage_error "--reps -2: exit 2" "\-\-reps" run --scenario serve --strategy readwrite --reps -2 --out "$NOOUT"
expect_usage_error "--timeout abc: exit 2" "\-\-timeout" run --scenario serve --strategy readwrite --timeout abc --out "$NOOUT"

# --- unsupported pairs: exit 2 and the reason from the one table ------------------

unsupported() {
	local strat=$1 sc=$2 why
	why=$(jq -r --arg s "$strat" --arg sc "$sc" '.strategies[] | select(.name == $s) | .scenarios[$sc].why_not' "$LIST_JSON")
	cl run --scenario "$sc" --strategy "$strat" --out "$NOOUT"
	if [ "$RC" -eq 2 ] && grep -qF -- "$strat cannot run $sc" "$ERR" && grep -qF -- "$why" "$ERR"; then
		pass "$strat $sc: exit 2, '$strat cannot run $sc: <reason>'"
	else
		fail "$strat $sc: exit 2, '$strat cannot run $sc: <reason>'"
		diag "wanted the reason: $why"
		cl_desc
	fi
}
unsupported sendfile relay
unsupported tee serve
unsupported splice send
unsupported vmsplice copy

cl run --scenario relay --strategy readwrite,sendfile --out "$NOOUT"
ok $([ "$RC" -eq 2 ] && grep -qF "sendfile cannot run relay" "$ERR"; echo $?) \
	"a list with one unsupported strategy is refused before anything runs" "$(cl_desc)"

# --- sizes with suffixes are powers of 1024 -----------------------------------------

cl run --scenario copy --strategy readwrite --size 3K --reps 1 --warmup 0 --out "$TMP/k"
got=$(jq -s -r 'map(.bytes) | join(",")' "$TMP/k/results.jsonl" 2>/dev/null)
ok $([ "$RC" -eq 0 ] && [ "$got" = 3072 ]; echo $?) "--size 3K moves 3072 bytes" "bytes: '$got'" "$(cl_desc)"

cl run --scenario copy --strategy readwrite --size 2M --block 4K --reps 1 --warmup 0 --out "$TMP/m"
got=$(jq -s -r 'map("\(.bytes)/\(.block)") | join(",")' "$TMP/m/results.jsonl" 2>/dev/null)
ok $([ "$RC" -eq 0 ] && [ "$got" = 2097152/4096 ]; echo $?) "--size 2M --block 4K: 2097152 bytes in 4096-byte blocks" "bytes/block: '$got'" "$(cl_desc)"

# --- help ---------------------------------------------------------------------------

for sub in list run bench trace serve relay plot compare copy; do
	cl "$sub" --help
	ok $([ "$RC" -eq 0 ] && grep -qi "usage" "$OUT" && grep -qw "$sub" "$OUT"; echo $?) \
		"$sub --help: exit 0, usage on stdout" "$(cl_desc)" "$(diag_file "$OUT" 5)"
done
cl --help
ok $([ "$RC" -eq 0 ] && grep -qi "usage" "$OUT"; echo $?) "copylab --help: exit 0, usage on stdout" "$(cl_desc)"

cl run --help
missing=""
for o in --scenario --strategy --transport --size --block --reps --warmup --out --json \
	--nonblock --sndbuf --rcvbuf --pipe-size --sink --timeout --workdir --no-bpf --require-bpf \
	--no-perf --tracer --no-tracer --profile --pin --cache --sweep --outstanding --fault --time --interval; do
	grep -q -- "$o\b" "$OUT" || missing+=" $o"
done
ok $([ -z "$missing" ]; echo $?) "run --help documents every option" "missing:$missing"

# --- measurement options refused where they do not apply --------------------------------

expect_usage_error "--pin with too many CPUs" "pin" run --scenario serve --strategy readwrite --pin 0,1,0 --out "$NOOUT"
expect_usage_error "--pin with a CPU that is not online" "pin" run --scenario serve --strategy readwrite --pin 0,4096 --out "$NOOUT"
expect_usage_error "--pin junk" "pin" run --scenario serve --strategy readwrite --pin fast --out "$NOOUT"
expect_usage_error "--cache lukewarm" "cache" run --scenario serve --strategy readwrite --cache lukewarm --out "$NOOUT"
expect_usage_error "--cache cold on a scenario that reads no file" "reads no file" run --scenario relay --strategy readwrite --cache cold --out "$NOOUT"
expect_usage_error "--outstanding outside echo" "only the echo" run --scenario relay --strategy readwrite --outstanding 4 --out "$NOOUT"
expect_usage_error "--outstanding 0" "outstanding" run --scenario echo --strategy readwrite --outstanding 0 --out "$NOOUT"
expect_usage_error "--fault nonsense" "not a fault" run --scenario relay --strategy readwrite --fault melt@1 --out "$NOOUT"

# --- options checked before anything runs, against the limits that apply (issue 19) ---
# Each of these once passed the parser and failed later (exit 1 at a role's
# setup, a truncated label run, the OOM killer): now exit 2, the rule named,
# and neither a results directory nor scratch left.

WD=$TMP/workdir
mkdir -p "$WD"
# refused_early NAME PATTERN ARGS...: exit 2 matching PATTERN; no --out, nothing in the workdir.
refused_early() {
	local name=$1 pattern=$2 out=$TMP/early-out
	shift 2
	rm -rf "$out"
	cl "$@" --out "$out" --workdir "$WD"
	if [ "$RC" -eq 2 ] && grep -Eq -- "$pattern" "$ERR" && [ ! -e "$out" ] && [ -z "$(ls -A "$WD")" ]; then
		pass "$name"
	else
		fail "$name"
		diag "copylab $*" "wanted exit 2, stderr matching /$pattern/, no $out, an empty workdir"
		cl_desc
		diag "left: $(ls -A "$out" "$WD" 2>&1 | tr '\n' ' ')"
	fi
}
QUICK=(--size 64K --reps 1 --warmup 0 --no-bpf --no-perf)
RULE='ring at least 3\*batch\+1'

if jq -e '.strategies[] | select(.name == "uring_rw") | .scenarios.serve.ok' "$LIST_JSON" >/dev/null; then
	refused_early "uring_rw:batch=32: exit 2, the batch the default ring takes" \
		"uring_rw:batch=32: .*$RULE.*ring=64 \(the default\) takes batch 1\.\.21, and batch=32 needs ring=97 or more" \
		run --scenario serve --strategy uring_rw:batch=32 "${QUICK[@]}"
	refused_early "uring_rw:batch=64: exit 2, the ring it needs" "uring_rw:batch=64: .*batch=64 needs ring=193 or more" \
		run --scenario serve --strategy uring_rw:batch=64 "${QUICK[@]}"
	refused_early "uring_rw:ring=4: exit 2, the default batch does not fit" \
		"uring_rw:ring=4: .*ring=4 takes batch 1\.\.1, and batch=4 \(the default\) needs ring=13 or more" \
		run --scenario serve --strategy uring_rw:ring=4 "${QUICK[@]}"
	refused_early "uring_rw:ring=4096:batch=65: exit 2, at most 64 slots" "batch=65 is more than 64" \
		run --scenario copy --strategy uring_rw:ring=4096:batch=65 "${QUICK[@]}"
	refused_early "uring_splice:batch=64 (relay): exit 2" "uring_splice:batch=64: .*$RULE" \
		run --scenario relay --strategy uring_splice:batch=64 "${QUICK[@]}"
	refused_early "uring_send_zc:batch=64 (send): exit 2" "uring_send_zc:batch=64: .*$RULE" \
		run --scenario send --strategy uring_send_zc:batch=64 "${QUICK[@]}"
	refused_early "uring_send_zc:ring=4: exit 2 (its ring is no longer grown past what the label says)" \
		"uring_send_zc:ring=4: .*needs ring=13 or more" run --scenario send --strategy uring_send_zc:ring=4 "${QUICK[@]}"
	# The tools share the label parser: the same refusal, before a file or a socket is made.
	head -c 1000 /dev/urandom >"$TMP/copy-src"
	cl copy --strategy uring_rw:batch=64 "$TMP/copy-src" "$TMP/copy-dst"
	ok $([ "$RC" -eq 2 ] && grep -q "batch=64 needs ring=193" "$ERR" && [ ! -e "$TMP/copy-dst" ]; echo $?) \
		"copy --strategy uring_rw:batch=64: exit 2 with the rule, no destination" "$(cl_desc)"
	# A short bound: a serve or relay that took the label would listen until killed.
	CL_TIMEOUT=15 cl serve --listen 127.0.0.1:0 --root "$TMP" --strategy uring_rw:ring=4
	ok $([ "$RC" -eq 2 ] && grep -q "ring=4 takes batch 1..1" "$ERR"; echo $?) \
		"serve --strategy uring_rw:ring=4: exit 2 with the rule" "$(cl_desc)"
	CL_TIMEOUT=15 cl relay --listen 127.0.0.1:0 --to 127.0.0.1:9 --strategy uring_splice:batch=64
	ok $([ "$RC" -eq 2 ] && grep -q "batch=64 needs ring=193" "$ERR"; echo $?) \
		"relay --strategy uring_splice:batch=64: exit 2 with the rule" "$(cl_desc)"
else
	skip "built without liburing (copylab list says why)" "io_uring ring=/batch= limits"
fi

refused_early "a label's empty option (splice::more): exit 2" "empty option" \
	run --scenario serve --strategy splice::more "${QUICK[@]}"
refused_early "a label's repeated option: exit 2" "gives option 'pipe' twice" \
	run --scenario serve --strategy splice:pipe=64K:pipe=1M "${QUICK[@]}"

# A list past the old 511-byte buffer: 502 bytes of valid labels, then
# readwrite:gift.  Cut at 511 it read "readwrite" and ran; whole, its last
# label is refused.
long=""
for i in $(seq 1 11); do long+="uring_rw:ring=$(printf "%0$((30 + (i <= 7)))d" $((12 + i))),"; done
is "${#long}" 502 "the long list's valid part is 502 bytes (so byte 511 ends 'readwrite')"
refused_early "a ${#long}+14-byte --strategy list is read whole: its last label is judged" \
	"readwrite has no option 'gift'" run --scenario serve --strategy "${long}readwrite:gift" "${QUICK[@]}"
refused_early "--strategy with an empty item (a,,b): exit 2" "item 2 of 'readwrite,,splice' is empty" \
	run --scenario serve --strategy readwrite,,splice "${QUICK[@]}"
refused_early "--strategy with a trailing comma: exit 2" "item 2 of 'readwrite,' is empty" \
	run --scenario serve --strategy readwrite, "${QUICK[@]}"
refused_early "--strategy all among labels: exit 2" "all stands alone" \
	run --scenario serve --strategy all,readwrite "${QUICK[@]}"
refused_early "--strategy: one request in two spellings: exit 2" \
	"'splice:pipe=1M:more' asks for the same as 'splice:more:pipe=1M'" \
	run --scenario serve --strategy splice:more:pipe=1M,splice:pipe=1M:more "${QUICK[@]}"
many=readwrite,splice,sendfile,mmap_write
for p in 4K 8K 16K 32K 64K 128K 256K 512K 1M 2M 4K:more 8K:more 16K:more; do many+=",splice:pipe=$p"; done
refused_early "--strategy with 17 labels (at most 16): exit 2" "at most 16 strategies" \
	run --scenario serve --strategy "$many" "${QUICK[@]}"

# --size past MemAvailable: refused from the figures before a byte is
# generated (it was found by the OOM killer, exit 137).
avail_g=$(awk '/^MemAvailable:/ { print int($2 / 1048576) + 2 }' /proc/meminfo)
if [ -n "$avail_g" ] && [ "$avail_g" -le 1024 ]; then
	refused_early "--size ${avail_g}G (past MemAvailable): exit 2 with both figures" \
		"--size ${avail_g}G: this run holds about [0-9.]+ GiB in memory \(the payload.*\) and MemAvailable is [0-9.]+ GiB; use a smaller --size" \
		run --scenario send --strategy readwrite --size "${avail_g}G" --reps 1 --warmup 0 --no-bpf --no-perf
	refused_early "--sweep size=1M..${avail_g}G: exit 2, judged by its largest size" \
		"--sweep size=1M\.\.${avail_g}G: its largest size holds about" \
		run --scenario copy --strategy readwrite --sweep "size=1M..${avail_g}G" --reps 1 --warmup 0 --no-bpf --no-perf
	refused_early "bench --size ${avail_g}G: exit 2" "--size ${avail_g}G: this run holds" \
		bench --size "${avail_g}G" --reps 1 --no-bpf --no-perf
else
	skip "MemAvailable is unknown or above 1022 GiB (--size takes at most 1024G)" "--size past MemAvailable"
fi
if [ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ] && [ -n "$avail_g" ]; then
	# On a tmpfs workdir the source and output files are memory too: three times the size.
	half=$(( (avail_g - 2) / 2 + 1 ))
	shm=$(mktemp -d /dev/shm/copylab-cli-XXXXXX)
	cl run --scenario copy --strategy readwrite --size "${half}G" --reps 1 --warmup 0 --workdir "$shm" --out "$TMP/shm-out"
	ok $([ "$RC" -eq 2 ] && grep -q "on the tmpfs workdir the source file and the output file" "$ERR" &&
		[ ! -e "$TMP/shm-out" ] && [ -z "$(ls -A "$shm")" ]; echo $?) \
		"copy --size ${half}G on a tmpfs workdir: the files counted, exit 2, nothing made" "$(cl_desc)"
	rmdir "$shm"
fi

# --- --strategy all says what it left out ---------------------------------------------
# Over unix, send's zero-copy strategies cannot run (AF_UNIX has no
# zero-copy send): all runs the rest and names each one it left out, with
# the sentence `copylab list` gives, on one stderr line.

left_want=$(jq -r '.strategies[] | select(.scenarios.send.ok and .transports.unix.ok == false) |
	"\(.name) (\(.transports.unix.why_not))"' "$LIST_JSON")
cl run --scenario send --transport unix --strategy all --size 64K --reps 1 --warmup 0 --no-bpf --out "$TMP/all-unix"
line=$(grep '^copylab: run: --strategy all left out ' "$ERR")
missing=""
while IFS= read -r w; do [[ $line == *"$w"* ]] || missing+=$'\n'"  $w"; done <<<"$left_want"
ok $([ "$RC" -eq 0 ] && [ -n "$left_want" ] && [ "$(grep -c 'left out' "$ERR")" -eq 1 ] && [ -z "$missing" ]; echo $?) \
	"--strategy all over unix: one stderr line names each strategy left out and why" \
	"exit $RC; not named:$missing" "$(cat "$ERR")"
cl run --scenario pipe --strategy all --size 64K --reps 1 --warmup 0 --no-bpf --out "$TMP/all-pipe"
ok $([ "$RC" -eq 0 ] && ! grep -q 'left out' "$ERR"; echo $?) \
	"--strategy all that leaves nothing out (pipe) prints no such line" "$(cl_desc)"

# --- a usage error leaves nothing behind ----------------------------------------------

ok $([ ! -e "$NOOUT" ]; echo $?) "no --out directory was created by any usage error" \
	"$(ls -la "$NOOUT" 2>&1)"

run_in_cwd run --scenario serve --strategy foo
run_in_cwd run --scenario relay --strategy sendfile
run_in_cwd run --scenario serve --strategy readwrite --size abc
left=$(ls -A "$TMP/cwd")
is "$left" "" "usage errors with the default --out create no results/ directory"

done_testing

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# copylab as an ordinary user (nobody): every scenario with every strategy
# at 1 MiB exits 0; each record says BPF is "unavailable: ..." and the
# LD_PRELOAD tracer took over ("ok ..."), perf counts user mode only; and
# which figures are null there is printed, so docs/metrics.md can say it;
# copylab relay refuses a strategy that needs a privilege at start-up.
# Needs root (to become nobody); skips otherwise.
# timeout: 180
. "$(dirname "$0")/lib.sh"
require_copylab
load_list

[ "$(id -u)" -eq 0 ] || skip_all "not root: cannot run as another user (run as root to test the unprivileged path)"
command -v runuser >/dev/null || skip_all "runuser is not installed (util-linux)"
id nobody >/dev/null 2>&1 || skip_all "there is no user nobody"
[ -f "$ROOT/libcopytrace.so" ] || bail_out "libcopytrace.so is not built (run make)"

TAG=$(tag_new)
at_exit "kill_tagged $TAG"
# nobody cannot enter $TMP (mode 700): a directory of its own, readable,
# with a sticky world-writable work dir for results and scratch files.
U=$(mktemp -d /tmp/copylab-unpriv.XXXXXX) || bail_out "mktemp failed"
at_exit "rm -rf '$U'"
chmod 755 "$U"
cp "$COPYLAB" "$U/copylab"
cp "$ROOT/libcopytrace.so" "$U/libcopytrace.so"
chmod 755 "$U/copylab" "$U/libcopytrace.so"
mkdir "$U/work"
chmod 1777 "$U/work"

runuser -u nobody -- test -x "$U/copylab"
ok $? "nobody can run the copied copylab" || bail_out "nobody cannot reach $U"

: >"$TMP/nulls"
mapfile -t SCENARIOS < <(jq -r '.scenarios[].name' "$LIST_JSON")
for sc in "${SCENARIOS[@]}"; do
	out=$U/work/$sc
	(cd "$U/work" && COPYLAB_TEST_TAG=$TAG timeout -k 5 120 runuser -u nobody -- "$U/copylab" run \
		--scenario "$sc" --strategy all --size 1M --reps 1 --warmup 0 --out "$out" --workdir "$U/work" \
		>"$TMP/run.out" 2>"$TMP/run.err" </dev/null)
	rc=$?
	# Strategies that need a privilege (sockmap: CAP_BPF) are left out for nobody.
	nstrat=$(jq -r --arg sc "$sc" '.strategies[] | select(.scenarios[$sc].ok and (.needs_privilege == null)) | .name' \
		"$LIST_JSON" | wc -l)
	nrec=$([ -f "$out/results.jsonl" ] && wc -l <"$out/results.jsonl" || echo 0)
	ok $([ "$rc" -eq 0 ] && [ "$nrec" -ge "$nstrat" ]; echo $?) \
		"$sc as nobody: every strategy ($nstrat) at 1 MiB, exit 0, $nrec records" \
		"exit $rc" "$(diag_file "$TMP/run.err" 8)"
	[ "$nrec" -gt 0 ] || continue
	bad=$(jq -r 'select((.metrics.bpf | startswith("unavailable:") | not)
		or (.metrics.tracer | startswith("ok") | not)
		or (.verified != true)) | "\(.strategy): bpf=\(.metrics.bpf) tracer=\(.metrics.tracer) verified=\(.verified)"' \
		"$out/results.jsonl" 2>&1 | head -n 5)
	ok $([ -z "$bad" ]; echo $?) "$sc as nobody: verified; metrics.bpf \"unavailable: ...\", metrics.tracer \"ok ...\"" "$bad"
	bad=$(jq -r --arg r "$(tested_role "$sc")" 'select((.roles[$r].tracer | type) != "object"
		or ([.roles[].bpf] | any(. != null))
		or (.metrics.perf | test("user"; "i") | not)) | "\(.strategy): perf=\(.metrics.perf) tracer=\(.roles[$r].tracer | type)"' \
		"$out/results.jsonl" 2>&1 | head -n 5)
	ok $([ -z "$bad" ]; echo $?) "$sc as nobody: the tested role has tracer figures, no role has BPF figures, perf is user-mode" "$bad"
	# One ledger for every user: the tested role's ledger object is the
	# tracer's, with every documented field a number; copy time is null
	# with the reason, never zero.
	bad=$(jq -r --arg r "$(tested_role "$sc")" '.roles[$r].ledger as $l |
		select(($l | type) != "object" or $l.source != "tracer"
		or ([$l.bytes_to_user, $l.bytes_from_user, $l.bytes_in_kernel, $l.zerocopy_not_copied,
		     $l.calls.read, $l.calls.write, $l.calls.splice, $l.per_gib.bytes_to_user] | map(type == "number") | all | not)
		or ([.roles[].cputime] | any(. != null))
		or (.metrics.cputime | startswith("unavailable") | not))
		| "\(.strategy): ledger=\($l | tostring | .[0:120]) cputime note=\(.metrics.cputime)"' \
		"$out/results.jsonl" 2>&1 | head -n 5)
	ok $([ -z "$bad" ]; echo $?) "$sc as nobody: the ledger object is the tracer's, every field a number; copy time null with its reason" "$bad"
	# Which figures are null: paths, with role names folded into roles.*.
	jq -r 'paths(. == null) | map(tostring) | join(".")' "$out/results.jsonl" |
		sed -E 's/^roles\.[a-z_]+\./roles.*./' >>"$TMP/nulls"
done
# copylab relay as nobody: a strategy that needs a privilege (sockmap
# loads BPF) is one clear error at start-up, exit 1, naming the call that
# failed and the privilege; one that needs none starts.
for st in $(jq -r '.strategies[] | select(.scenarios.relay.ok and .needs_privilege != null and .role_replaced_by == null) | .name' "$LIST_JSON"); do
	COPYLAB_TEST_TAG=$TAG timeout -k 5 20 runuser -u nobody -- "$U/copylab" relay --listen 127.0.0.1:0 \
		--to 127.0.0.1:1 --strategy "$st" >"$TMP/relay.out" 2>"$TMP/relay.err" </dev/null
	rc=$?
	need=$(jq -r --arg s "$st" '.strategies[] | select(.name == $s) | .needs_privilege' "$LIST_JSON")
	ok $([ "$rc" -eq 1 ] && grep -qF "copylab relay: $st cannot run here: " "$TMP/relay.err" &&
		grep -qF "($need)" "$TMP/relay.err" && ! grep -q '^listening' "$TMP/relay.out"; echo $?) \
		"relay --strategy $st as nobody: refused at start-up, exit 1, saying why" \
		"exit $rc" "$(diag_file "$TMP/relay.err" 3)"
done
COPYLAB_TEST_TAG=$TAG runuser -u nobody -- "$U/copylab" relay --listen 127.0.0.1:0 --to 127.0.0.1:1 \
	--strategy uring_rw >"$TMP/relay.out" 2>"$TMP/relay.err" </dev/null &
rpid=$!
for i in $(seq 50); do grep -q '^listening on ' "$TMP/relay.out" && break; sleep 0.1; done
ok $(grep -q '^listening on ' "$TMP/relay.out"; echo $?) "relay --strategy uring_rw as nobody starts" \
	"$(diag_file "$TMP/relay.err" 3)"
kill -TERM "$rpid" 2>/dev/null
wait "$rpid" 2>/dev/null

diag "figures null in the unprivileged records (all scenarios):"
sort -u "$TMP/nulls" | tr '\n' ' ' | fmt -w 100 | sed 's/^/#   /'
echo
ok $(no_leftovers "$TAG"; echo $?) "nothing left running"
done_testing

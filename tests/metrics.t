#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What each strategy really costs, checked on data, not timing: the BPF copy
# ledger and the perf counters of each role must show the copies each
# strategy is known to make (relay readwrite: the payload to user and back;
# relay splice: nothing through user memory, twice the payload in kernel;
# serve sendfile: nothing from user; mmap_write: faults that grow with the
# file).  On a machine kind listed in tests/required-here, a figure that
# did not load fails the test instead of skipping it.
# timeout: 600
. "$(dirname "$0")/lib.sh"
require_copylab

N=$((16 << 20))

# run_cell NAME ARGS...: one counted rep, JSON records into $TMP/NAME.jsonl.
run_cell() {
	local name=$1
	shift
	cl run --reps 1 --warmup 0 --out "$TMP/$name" --workdir "$TMP" "$@"
	[ "$RC" -eq 0 ] || { diag "copylab run $* failed"; cl_desc 10; return 1; }
	cp "$TMP/$name/results.jsonl" "$TMP/$name.jsonl"
}

# fig FILE STRATEGY JQ: one figure of the record of STRATEGY.
fig() { jq -r --arg s "$2" "select(.strategy == \$s) | $3" "$1"; }

# within GOT LO HI NAME: LO <= GOT <= HI.
within() {
	if [ -n "$1" ] && [ "$1" != null ] && awk -v g="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(g >= lo && g <= hi) }'; then
		pass "$4 ($1)"
	else
		fail "$4"
		diag "got '$1', wanted $2 .. $3"
	fi
}

# ---- perf ------------------------------------------------------------------
run_cell relay --scenario relay --strategy readwrite,splice --size $N || bail_out "relay run failed"
perf_note=$(fig "$TMP/relay.jsonl" readwrite .metrics.perf)
if [[ $perf_note == unavailable* ]]; then
	if [ "${COPYLAB_REQUIRE_PERF:-}" = 1 ]; then
		fail "perf counters load (required here)"; diag "$perf_note"
	else
		skip "perf: $perf_note" "perf counters per role"
	fi
else
	bad=$(jq -r 'select(.roles | to_entries | any(.value.perf.task_clock_ns == null or .value.perf.task_clock_ns <= 0 or .value.perf.context_switches == null)) | .strategy' "$TMP/relay.jsonl")
	is "$bad" "" "perf: every role has task_clock_ns > 0 and context_switches ($perf_note)"
	# perf and getrusage see the same switches over the same window.
	rw_perf=$(fig "$TMP/relay.jsonl" readwrite '.roles.relay.perf.context_switches')
	rw_rus=$(fig "$TMP/relay.jsonl" readwrite '.roles.relay.ctx_voluntary + .roles.relay.ctx_involuntary')
	within "$rw_perf" "$((rw_rus * 9 / 10))" "$((rw_rus * 11 / 10 + 5))" "perf context switches agree with getrusage's ($rw_rus) within 10%"
fi

# ---- the BPF ledger --------------------------------------------------------
bpf_note=$(fig "$TMP/relay.jsonl" readwrite .metrics.bpf)
if [[ $bpf_note != ok* ]]; then
	if [ "${COPYLAB_REQUIRE_BPF:-}" = 1 ]; then
		fail "BPF ledger loads (required here)"; diag "$bpf_note"
	else
		skip "bpf: $bpf_note" "BPF copy ledger"
	fi
	done_testing
	exit 0
fi
pass "BPF ledger loaded: $bpf_note"
tol=$((N / 100 + 4096))		# 1% plus a page of incidental I/O

R=$TMP/relay.jsonl
within "$(fig "$R" readwrite .roles.relay.bpf.bytes_to_user)" $N $((N + tol)) "relay readwrite: the payload once to user"
within "$(fig "$R" readwrite .roles.relay.bpf.bytes_from_user)" $N $((N + tol)) "relay readwrite: the payload once from user"
within "$(fig "$R" readwrite .roles.relay.bpf.bytes_in_kernel)" 0 0 "relay readwrite: nothing spliced"
within "$(fig "$R" splice .roles.relay.bpf.bytes_to_user)" 0 4096 "relay splice: ~0 bytes to user"
within "$(fig "$R" splice .roles.relay.bpf.bytes_from_user)" 0 4096 "relay splice: ~0 bytes from user"
within "$(fig "$R" splice .roles.relay.bpf.bytes_in_kernel)" $((2 * N)) $((2 * N + tol)) "relay splice: twice the payload in kernel (in and out of the pipe)"
within "$(fig "$R" splice .roles.sink.bpf.skb_copy_bytes)" $N $((N + tol)) "sink: skb_copy_datagram_iovec copied the payload to user"
within "$(fig "$R" splice .roles.sink.bpf.bytes_to_user)" $N $((N + tol)) "sink: read() returned the payload"
rw_calls=$(fig "$R" readwrite '.roles.relay.bpf.syscalls_by_family.read + .roles.relay.bpf.syscalls_by_family.write')
own_calls=$(fig "$R" readwrite '.roles.relay.calls')
within "$rw_calls" "$own_calls" "$((own_calls + 4))" "relay readwrite: BPF read+write calls match the strategy's own count ($own_calls)"

run_cell serve --scenario serve --strategy readwrite,sendfile,mmap_write --size $N || bail_out "serve run failed"
S=$TMP/serve.jsonl
within "$(fig "$S" sendfile .roles.server.bpf.bytes_from_user)" 0 4096 "serve sendfile: ~0 bytes from user"
within "$(fig "$S" sendfile .roles.server.bpf.bytes_to_user)" 0 4096 "serve sendfile: ~0 bytes to user"
within "$(fig "$S" sendfile .roles.server.bpf.bytes_in_kernel)" $N $((N + tol)) "serve sendfile: the payload in kernel"
within "$(fig "$S" readwrite .roles.server.bpf.bytes_to_user)" $N $((N + tol)) "serve readwrite: file read to user"

# mmap_write pays for its saved copy in page faults on the mapped file,
# taken inside the kernel while send() copies from the mapping: perf's
# page-faults sees them, exceptions:page_fault_user does not (and a large
# page-cache folio is mapped by one fault, so they are fewer than pages).
# readwrite's one buffer faults once, whatever the size.
run_cell serve64 --scenario serve --strategy readwrite,mmap_write --size 64M || bail_out "serve run failed"
run_cell serve4 --scenario serve --strategy readwrite,mmap_write --size 4M || bail_out "serve run failed"
mm_small=$(fig "$TMP/serve4.jsonl" mmap_write .roles.server.perf.page_faults)
mm_big=$(fig "$TMP/serve64.jsonl" mmap_write .roles.server.perf.page_faults)
rw_small=$(fig "$TMP/serve4.jsonl" readwrite .roles.server.perf.page_faults)
rw_big=$(fig "$TMP/serve64.jsonl" readwrite .roles.server.perf.page_faults)
within "$mm_big" $((mm_small * 3 + 1)) 1000000 "serve mmap_write: faults grow with the file (4 MiB: $mm_small, 64 MiB: $mm_big)"
within "$rw_big" 0 $((rw_small + 16)) "serve readwrite: faults stay flat (4 MiB: $rw_small, 64 MiB: $rw_big)"

# ---- measured copy time (the CPU sampler) ----------------------------------
# Where the ledger infers copies from the calls' names, the sampler measures
# the time spent in the copy routines: readwrite's relay copies the payload
# twice through its buffer, splice's copies nothing there, and the relay's
# sampled CPU is the CPU getrusage counted for it.
ct_note=$(fig "$R" readwrite .metrics.cputime)
if [[ $ct_note != ok* ]]; then
	if [ "${COPYLAB_REQUIRE_CPUSAMPLE:-}" = 1 ]; then
		fail "the CPU sampler runs (required here)"; diag "$ct_note"
	else
		skip "cputime: $ct_note" "measured copy time"
	fi
else
	# 256 MiB so the relay's window holds a few hundred samples at 937 Hz:
	# with fewer, chance alone moves the sampled CPU by tens of percent
	run_cell relay64 --scenario relay --strategy readwrite,splice --size 256M || bail_out "relay run failed"
	R64=$TMP/relay64.jsonl
	rw_copy=$(fig "$R64" readwrite .roles.relay.cputime.copy_s)
	sp_copy=$(fig "$R64" splice .roles.relay.cputime.copy_s)
	ok $(awk -v a="$rw_copy" -v b="$sp_copy" 'BEGIN { exit !(a > 0 && a > 5 * b) }'; echo $?) \
		"relay: readwrite's measured copy time ($rw_copy s) is over 5x splice's ($sp_copy s)"
	within "$(fig "$R64" readwrite .roles.relay.cputime.copy_share)" 0.1 1 "relay readwrite: copying is a real share of the relay's CPU"
	within "$(fig "$R64" splice .roles.relay.cputime.copy_share)" 0 0.1 "relay splice: under a tenth of the relay's CPU is copying"
	# samples x period against getrusage's CPU over the same window
	ratio=$(fig "$R64" readwrite '.roles.relay.cputime.sampled_s / (.roles.relay.cpu_user_s + .roles.relay.cpu_sys_s)')
	within "$ratio" 0.67 1.5 "relay readwrite: the sampled CPU matches getrusage's within a third"
	# the groups add up to what was sampled
	is "$(jq -r '[.roles[] | select(.cputime != null) | ((.cputime.groups | add) - .cputime.sampled_s | fabs < 1e-6)] | all' "$R64" | sort -u | tr '\n' ' ')" \
		"true " "cputime: every role's groups add up to its sampled time"
	# the sink receives: its copy to user is in the kernel's copy routines
	within "$(fig "$R64" splice .roles.sink.cputime.groups.copy_kernel)" 0.0001 100 "sink: time in the kernel's copy routines (recv copies to user)"
fi

# ---- --profile ------------------------------------------------------------
# Where the time goes: a readwrite relay spends it copying between user and
# kernel memory (_copy_to_iter / _copy_from_iter, or the arch's copy_user
# routine); a splice relay moves page references and copies nothing.
if command -v perf >/dev/null; then
	run_cell prof --scenario relay --strategy readwrite,splice --size 64M --profile || bail_out "profile run failed"
	rw_copy=$(fig "$TMP/prof.jsonl" readwrite '[.profile.top[]? | select(.mode == "kernel" and (.symbol | test("copy"))) | .share] | add // 0')
	sp_copy=$(fig "$TMP/prof.jsonl" splice '[.profile.top[]? | select(.symbol | test("_copy_(to|from)_iter|copy_user")) | .share] | add // 0')
	samples=$(fig "$TMP/prof.jsonl" readwrite '.profile.samples // 0')
	within "$samples" 20 100000000 "--profile: the relay was sampled"
	within "$rw_copy" 0.03 1 "--profile: readwrite relay time goes to kernel copy routines"
	within "$sp_copy" 0 0.02 "--profile: splice relay spends (almost) nothing in user-copy routines"
else
	skip "perf is not installed (linux-perf)" "--profile"
fi

# ---- echo latency, system CPU, placement ----------------------------------
run_cell echo --scenario echo --strategy readwrite,splice --block 1K --outstanding 4 --size 2000K \
	--pin 0,1 || bail_out "echo run failed"
bad=$(jq -r 'select(.latency.round_trips != 2000 or .latency.outstanding != 4 or .latency.message_bytes != 1024
	or (.latency.p50_us > .latency.p99_us) or (.latency.p99_us > .latency.p999_us)
	or (.latency.p999_us > .latency.max_us) or (.latency.min_us > .latency.p50_us)) | .strategy' "$TMP/echo.jsonl")
is "$bad" "" "echo: every one of 2000 round trips timed, percentiles ordered"
is "$(jq -r '[.roles.server.cpu_pinned, .roles.client.cpu_pinned, .roles.server.cpu_last, .roles.client.cpu_last] | @tsv' "$TMP/echo.jsonl" | sort -u)" \
	"$(printf '0\t1\t0\t1')" "--pin 0,1: the server ran on CPU 0, the client on CPU 1"
sys=$(jq -r 'select(.system_cpu.busy_s <= 0 or .system_cpu.busy_s > 2 * .wall_s + 0.05) | .strategy' "$TMP/echo.jsonl")
is "$sys" "" "system-wide busy CPU over the window is > 0 and at most 2 CPUs x wall time"

# ---- switches --------------------------------------------------------------
cl run --scenario relay --strategy readwrite --size 1M --reps 1 --warmup 0 --no-bpf --no-perf --out "$TMP/off" --workdir "$TMP"
if [ "$RC" -eq 0 ]; then
	is "$(jq -r '[.metrics.bpf, .metrics.perf, .roles.relay.bpf, .roles.relay.perf] | @tsv' "$TMP/off/results.jsonl")" \
		"$(printf 'off (--no-bpf)\toff (--no-perf)\t\t')" "--no-bpf and --no-perf: figures null, notes say why"
else
	fail "--no-bpf --no-perf run"; cl_desc 10
fi

# ---- huge pages ------------------------------------------------------------
run_cell thp --scenario pipe --strategy vmsplice:hugepages --size 8M || bail_out "pipe run failed"
thp=$(fig "$TMP/thp.jsonl" vmsplice:hugepages .huge_pages)
if [ "$thp" = true ]; then
	pass "vmsplice:hugepages: transparent huge pages granted"
elif [ "${COPYLAB_REQUIRE_THP:-}" = 1 ]; then
	fail "vmsplice:hugepages: transparent huge pages granted (required here)"
else
	skip "THP not granted ($(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null))" "vmsplice:hugepages"
fi

done_testing

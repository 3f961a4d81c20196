#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The results of a run: results.jsonl (one copylab.rep/1 record per counted
# repetition, every key with its type), summary.csv (one row per strategy),
# env.json, no temporary files left, and --json printing exactly the
# records on stdout.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab

SIZE=1048576
OUTDIR=$TMP/cell
cl run --scenario serve --strategy readwrite,sendfile --transport tcp --size 1M \
	--reps 2 --warmup 1 --out "$OUTDIR"
ok $([ "$RC" -eq 0 ]; echo $?) "serve readwrite,sendfile 1M x2: exit 0" "$(cl_desc)"
cp "$OUT" "$TMP/table.out"
J=$OUTDIR/results.jsonl

# --- results.jsonl ------------------------------------------------------------------

ok $([ -s "$J" ] && jsonl_valid "$J"; echo $?) "results.jsonl: every line is a JSON object"
is "$(wc -l <"$J" 2>/dev/null | tr -d ' ')" 4 "results.jsonl: one line per counted rep (2 strategies x 2 reps; no warm-up)"

is "$(jq -s -r 'map("\(.strategy):\(.rep)") | sort | join(" ")' "$J")" \
	"readwrite:1 readwrite:2 sendfile:1 sendfile:2" "records: reps numbered 1..2 for each strategy"

# Every key of the record, with the type docs/results.md gives it.
problems=$(jq -r '
	def need(k; t): if has(k) | not then "missing \(k)"
		elif (.[k] | type) != t then "\(k) is \(.[k] | type), not \(t)" else empty end;
	"rep \(.strategy)/\(.rep): " + ([
		need("schema"; "string"), need("run_id"; "string"), need("scenario"; "string"),
		need("strategy"; "string"), need("strategy_base"; "string"), need("transport"; "string"),
		need("bytes"; "number"), need("block"; "number"), need("rep"; "number"),
		need("wall_s"; "number"), need("bytes_per_s"; "number"), need("verified"; "boolean"),
		need("verify"; "string"), need("digest"; "string"), need("nonblock"; "boolean"),
		need("status"; "string"), need("roles"; "object"),
		(if has("zerocopy_recv") | not then "missing zerocopy_recv"
		 elif .zerocopy_recv != null then "zerocopy_recv of \(.strategy) is \(.zerocopy_recv), not null" else empty end),
		(if has("fixed_sender") | not then "missing fixed_sender"
		 elif .fixed_sender != null then "fixed_sender of serve (no source) is \(.fixed_sender), not null" else empty end),
		need("conns"; "number"), need("per_conn"; "object"),
		(if .conns != 1 then "conns \(.conns) without --conns" else empty end),
		(if (.per_conn | type) == "object" and ([.per_conn.bytes_min, .per_conn.bytes_max] != [.bytes, .bytes]
		    or .per_conn.completion_s.max != .wall_s) then "per_conn of one connection is not the cell itself: \(.per_conn)" else empty end),
		(if has("verify_note") | not then "missing verify_note"
		 elif .verify_note != null then "verify_note of a verified rep is \(.verify_note), not null" else empty end),
		(if .bounded_by != "size" then "bounded_by \(.bounded_by) of a run by --size, not size" else empty end),
		(if [has("time_s", "interval_s", "intervals", "interval_bps")] | all | not then "missing time_s, interval_s, intervals or interval_bps"
		 elif [.time_s, .interval_s, .intervals, .interval_bps] != [null, null, null, null] then "time_s/interval_s/intervals/interval_bps without --time or --interval: \([.time_s, .interval_s, .intervals, .interval_bps])" else empty end),
		(if has("busy") | not then "missing busy"
		 elif .busy != null then "busy of \(.strategy) (not asked) is \(.busy), not null" else empty end),
		(if has("pipe_size") | not then "missing pipe_size"
		 elif .pipe_size != null then "pipe_size of \(.strategy) (no pipe) is \(.pipe_size), not null" else empty end),
		(if has("pipe_size_asked") | not then "missing pipe_size_asked"
		 elif .pipe_size_asked != null then "pipe_size_asked without --pipe-size is \(.pipe_size_asked), not null" else empty end),
		(if (.digest | type) == "string" and (.digest | test("^0x[0-9a-f]{16}$") | not) then "digest \(.digest) is not 0x + 16 hex digits" else empty end),
		(if .status != "ok" then "status is \(.status)" else empty end),
		(if ([.bytes, .block, .rep] | map(. == floor) | all) then empty else "bytes/block/rep not integers" end)
	] | join("; "))' "$J" 2>&1 | grep -v ': $')
is "$problems" "" "records: every key present with its documented type"

problems=$(jq -r '
	def ints: ["ctx_voluntary","ctx_involuntary","faults_minor","faults_major","bytes","calls","short_ops","eagain","eintr"];
	.strategy as $s | .roles | to_entries[] | .key as $role | .value as $v |
	( (if ($v.under_test | type) != "boolean" then "\($s) \($role).under_test not boolean" else empty end),
	  (["cpu_user_s","cpu_sys_s","cpu_per_gib_s"] + ints)[] as $k |
	  if ($v | has($k)) | not then "\($s) \($role): missing \($k)"
	  elif ($v[$k] | type) != "number" then "\($s) \($role).\($k) is \($v[$k] | type)"
	  elif $v[$k] < 0 then "\($s) \($role).\($k) is negative"
	  elif (ints | index($k)) != null and $v[$k] != ($v[$k] | floor) then "\($s) \($role).\($k) is not an integer"
	  else empty end )' "$J" 2>&1)
is "$problems" "" "records: every role has every figure, numbers not negative, counts integers"

problems=$(jq -r '.strategy as $s | .roles | to_entries[] | .value as $v |
	(($v.cpu_user_s + $v.cpu_sys_s) / ($v.bytes / 1073741824)) as $want |
	select(($v.cpu_per_gib_s - $want | fabs) > 1e-6 * ($want + 1e-9)) |
	"\($s) \(.key): cpu_per_gib_s \($v.cpu_per_gib_s), (user+sys)/GiB \($want)"' "$J" 2>&1)
is "$problems" "" "records: cpu_per_gib_s = (cpu_user_s + cpu_sys_s) / GiB moved"

# Every role's ledger has the same fields whichever instrument counted it;
# cputime is the sampler's (null only with the reason in metrics.cputime);
# busy is CPU over wall time.
problems=$(jq -r '.strategy as $s | .metrics.cputime as $note | .roles | to_entries[] | .key as $role | .value as $v |
	( (if ($v.ledger | type) != "object" then "\($s) \($role).ledger is \($v.ledger | type)"
	   else ( (if ($v.ledger.source | IN("bpf", "tracer")) | not then "\($s) \($role).ledger.source is \($v.ledger.source)" else empty end),
		  (["bytes_to_user","bytes_from_user","bytes_in_kernel","zerocopy_not_copied"][] as $k |
		   if ($v.ledger[$k] | type) != "number" or $v.ledger[$k] < 0 then "\($s) \($role).ledger.\($k) is \($v.ledger[$k])" else empty end),
		  (["read","write","splice"][] as $k |
		   if ($v.ledger.calls[$k] | type) != "number" then "\($s) \($role).ledger.calls.\($k) missing" else empty end),
		  (if ($v.ledger.io_uring_seen | type) != "boolean" then "\($s) \($role).ledger.io_uring_seen not boolean" else empty end) ) end),
	  (if ($v.busy | type) != "number" or $v.busy < 0 then "\($s) \($role).busy is \($v.busy)" else empty end),
	  (if $v.cputime == null then (if ($note | startswith("ok")) then "\($s) \($role).cputime null while metrics.cputime is \($note)" else empty end)
	   elif ($v.cputime.copy_s | type) != "number" or ($v.cputime.samples | type) != "number" or ($v.cputime.rate_hz | type) != "number"
	     or ($v.cputime.groups | type) != "object" then "\($s) \($role).cputime lacks copy_s, samples, rate_hz or groups"
	   elif ([$v.cputime.groups[]] | add) - $v.cputime.sampled_s | fabs > 1e-6 then "\($s) \($role): cputime groups do not add up to sampled_s"
	   else empty end) )' "$J" 2>&1)
is "$problems" "" "records: every role has a ledger with the same fields from either source, a busy share, and cputime or its reason"
problems=$(jq -r '"\(.strategy)/\(.rep): " + ([
	(if (.metrics.cputime | type) != "string" then "metrics.cputime is \(.metrics.cputime | type)" else empty end),
	(if has("limiting_role") | not then "missing limiting_role"
	 elif .limiting_role != null and (.limiting_role as $l | .roles | has($l) | not) then "limiting_role \(.limiting_role) is no role" else empty end),
	(if (.system_cpu.method | IN("bpf idle ns", "/proc/stat ticks")) | not then "system_cpu.method is \(.system_cpu.method)" else empty end),
	(if (.system_cpu.resolved | type) != "boolean" then "system_cpu.resolved not boolean" else empty end),
	(if (.system_cpu.busy_ticks | type) != "number" then "system_cpu.busy_ticks not a number" else empty end),
	(if .system_cpu.method == "bpf idle ns" and ((.system_cpu.steal_in_busy_s | type) != "number" or .system_cpu.steal_in_busy_s < 0)
	 then "system_cpu.steal_in_busy_s is \(.system_cpu.steal_in_busy_s) with the ns source"
	 elif .system_cpu.method == "/proc/stat ticks" and .system_cpu.steal_in_busy_s != null
	 then "system_cpu.steal_in_busy_s is \(.system_cpu.steal_in_busy_s) from the ticks" else empty end)
	] | join("; "))' "$J" 2>&1 | grep -v ': $')
is "$problems" "" "records: metrics.cputime, limiting_role, and how system CPU was measured (steal taken out of the ns figure)"
# The ledger object agrees with the syscall ledger where no io_uring or zero-copy send is involved.
is "$(jq -s -r 'map(select(.roles.server.ledger.source == "bpf" and
	(.roles.server.ledger.bytes_from_user != .roles.server.bpf.bytes_from_user
	 or .roles.server.ledger.bytes_in_kernel != .roles.server.bpf.bytes_in_kernel))) | length' "$J")" 0 \
	"records: ledger equals the BPF ledger for strategies without io_uring or zero-copy sends"

# The steal in a role's stretches: seconds, at most the repetition's wall time; busy adds it to the CPU time.
is "$(jq -r '.wall_s as $w | .roles | to_entries[] | select(.value.bpf != null) | .key as $k | .value as $v |
	if ($v.bpf.steal_s | type) != "number" or $v.bpf.steal_s < 0 or $v.bpf.steal_s > $w then "\($k): steal_s \($v.bpf.steal_s)"
	elif (($v.cpu_user_s + $v.cpu_sys_s + $v.bpf.steal_s) / $w - $v.busy | fabs) > 1e-6 then "\($k): busy \($v.busy)"
	else empty end' "$J")" "" "records: every role's bpf.steal_s is seconds within the wall time, and busy adds it to the CPU time"

# TCP's own view of the server's sending socket (TCP_INFO at its window's end): one socket, what it
# acknowledged so far (the payload at most, and its SYN and FIN), the time held by the receiver's window or its
# send buffer within the time it had data to send.  (Acknowledged by the window's end: none is possible.)
is "$(jq -r --argjson size "$SIZE" '.roles.server.tcp_send as $t |
	if $t == null then "\(.strategy): no tcp_send"
	elif $t.sockets != 1 or $t.bytes_acked < 0 or $t.bytes_acked > $size + 2 or $t.rtt_us <= 0 or $t.snd_mss <= 0
	  or $t.retrans_segs < 0 or $t.rwnd_limited_us + $t.sndbuf_limited_us > $t.busy_us then "\(.strategy): \($t)"
	else empty end' "$J")" "" "records: the server's tcp_send is TCP_INFO of its one socket, within the payload"

# Strategies of one data point run interleaved: A B A B, not A A B B.
is "$(jq -r '"\(.strategy):\(.rep)"' "$J" | tr '\n' ' ')" \
	"readwrite:1 sendfile:1 readwrite:2 sendfile:2 " "records: repetitions interleaved across strategies (A B A B)"

is "$(jq -s -r 'map(.roles | keys_unsorted | join(",")) | unique | join(" ")' "$J")" "server,client" \
	"records: serve has roles server (tested first) and client"
is "$(jq -s -r 'map("\(.roles.server.under_test)/\(.roles.client.under_test)") | unique | join(" ")' "$J")" \
	"true/false" "records: the server is under test, the client is not"

is "$(jq -s -r 'map("\(.schema) \(.scenario) \(.transport) \(.bytes) \(.block) \(.verified) \(.verify) \(.nonblock)") | unique | join(";")' "$J")" \
	"copylab.rep/1 serve tcp $SIZE 65536 true ok false" "records: schema, cell, default block 64K, verified, blocking"

is "$(jq -s -r 'map(.run_id) | unique | length' "$J")" 1 "records: one run_id for the whole run"
is "$(jq -s -r 'map("\(.strategy)=\(.strategy_base)") | unique | join(" ")' "$J")" \
	"readwrite=readwrite sendfile=sendfile" "records: strategy_base of plain labels is the label"

is "$(jq -s -r 'map(select(.roles.server.bytes != 1048576 or .roles.client.bytes != 1048576)) | length' "$J")" 0 \
	"records: server sent and client received 1 MiB"

# The same bytes hash the same, whatever moved them.
is "$(jq -s -r 'map(.digest | tostring) | unique | length' "$J")" 1 "records: one digest for the same payload across strategies and reps"

problems=$(jq -r 'select(.wall_s <= 0 or (.bytes_per_s - .bytes / .wall_s | fabs) > 0.01 * .bytes_per_s) |
	"\(.strategy)/\(.rep): wall_s \(.wall_s) bytes_per_s \(.bytes_per_s)"' "$J" 2>&1)
is "$problems" "" "records: wall_s > 0 and bytes_per_s = bytes / wall_s"

# 1 MiB in 64 KiB blocks: readwrite's server reads and writes at least 16 times each.
is "$(jq -s -r 'map(select(.strategy == "readwrite" and .roles.server.calls < 32)) | length' "$J")" 0 \
	"records: readwrite's server counts its calls (>= 32 for 1 MiB in 64 KiB blocks)"
is "$(jq -s -r 'map(select(.roles.server.cpu_user_s + .roles.server.cpu_sys_s <= 0 and .roles.client.cpu_user_s + .roles.client.cpu_sys_s <= 0)) | length' "$J")" 0 \
	"records: some CPU time is measured"

# --- summary.csv --------------------------------------------------------------------

S=$OUTDIR/summary.csv
# csv_col NAME: that column of every data row (fields here are never quoted).
csv_col() {
	awk -F, -v name="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
		c { print $c }' "$S" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'
}
header=$(head -n 1 "$S" 2>/dev/null)
missing=""
for c in scenario transport bytes block strategy reps verified_reps bytes_per_s_median bytes_per_s_min \
	bytes_per_s_max wall_s_median tested_role tested_cpu_per_gib_median ratio_vs_readwrite_median; do
	tr ',' '\n' <<<"$header" | grep -qx "$c" || missing+=" $c"
done
ok $([ -s "$S" ] && [ -z "$missing" ]; echo $?) "summary.csv: the header has the documented columns" \
	"header: '$header'" "missing:$missing"
is "$(tr ',' '\n' <<<"$header" | tail -n 10 | tr '\n' ' ')" \
	"cache outstanding conns pipe_size_asked tested_copy_per_gib_median limited_by rps time_s response steal_cpus_median " \
	"summary.csv: newer columns come last, after pipe_size_asked (older columns keep their places)"
is "$(csv_col pipe_size_asked)" "0 0" "summary.csv: pipe_size_asked is 0 (the kernel default) without --pipe-size"
is "$(csv_col strategy)" "readwrite sendfile" "summary.csv: one row per strategy"
is "$(csv_col reps)/$(csv_col verified_reps)/$(csv_col tested_role)" "2 2/2 2/server server" \
	"summary.csv: 2 reps, both verified, role under test server"
is "$(csv_col ratio_vs_readwrite_median | cut -d' ' -f1)" "1" "summary.csv: readwrite's ratio to itself is 1" 
want=$(jq -s -r '[.[] | select(.strategy == "readwrite") | .bytes_per_s] | add / length' "$J" 2>/dev/null)
got=$(csv_col bytes_per_s_median | cut -d' ' -f1)
ok $(awk -v a="$got" -v b="$want" 'BEGIN { exit !(a > 0 && (a - b) / b < 1e-6 && (b - a) / b < 1e-6) }'; echo $?) \
	"summary.csv: readwrite's median of 2 reps is their mean" "csv: $got, mean of the records: $want"
want=$(jq -s -r '[.[] | select(.strategy == "readwrite") | .system_cpu.steal_s / .wall_s] | add / length' "$J" 2>/dev/null)
got=$(csv_col steal_cpus_median | cut -d' ' -f1)
ok $(awk -v a="$got" -v b="$want" 'BEGIN { exit !(a != "" && (a - b) <= 1e-9 && (b - a) <= 1e-9) }'; echo $?) \
	"summary.csv: readwrite's steal_cpus_median is the mean of its 2 reps' steal_s / wall_s" "csv: $got, records: $want"

# --- env.json -----------------------------------------------------------------------

E=$OUTDIR/env.json
ok $(jq -e 'type == "object"' "$E" >/dev/null 2>&1; echo $?) "env.json is a JSON object"
problems=$(jq -r '
	def need(k; t): if has(k) | not then "missing \(k)"
		elif (.[k] | type) != t then "\(k) is \(.[k] | type)" else empty end;
	[need("schema"; "string"), need("run_id"; "string"), need("kernel"; "object"),
	 need("cpu_model"; "string"), need("cpus_online"; "number"), need("page_size"; "number"),
	 need("pipe_max_size"; "number"), need("thp_enabled"; "string"), need("mem_total_kib"; "number"),
	 need("copylab_git_rev"; "string"), need("compiler"; "string"), need("versions"; "object"),
	 need("created_utc"; "string"),
	 (if .schema != "copylab.env/1" then "schema \(.schema)" else empty end),
	 (if (.created_utc | tostring | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")) then empty
	  else "created_utc \(.created_utc) is not ISO 8601 UTC" end),
	 (.versions | (["xxhash", "jansson", "glibc"] - keys)[] | "versions lacks \(.)")
	] | join("; ")' "$E" 2>&1)
is "$problems" "" "env.json: every documented key with its type"
is "$(jq -r '"\(.kernel.release) \(.page_size) \(.pipe_max_size) \(.cpus_online)"' "$E" 2>/dev/null)" \
	"$(uname -r) $(getconf PAGESIZE) $(cat /proc/sys/fs/pipe-max-size) $(getconf _NPROCESSORS_ONLN)" \
	"env.json: kernel release, page size, pipe-max-size and CPUs are this machine's"
is "$(jq -r .run_id "$E" 2>/dev/null)" "$(jq -s -r '.[0].run_id' "$J" 2>/dev/null)" "env.json: the run_id of the records"
problems=$(jq -r '[
	(if (.memcpy | type) != "object" then "memcpy is \(.memcpy | type)"
	 elif ([.memcpy.resident_bytes_per_s, .memcpy.dram_bytes_per_s] | map(type == "number" and . > 0) | all | not)
	 then "memcpy rates \(.memcpy)" else empty end),
	(if (.cpu_sampler | type) != "object" then "cpu_sampler is \(.cpu_sampler | type)"
	 elif (.cpu_sampler.method | type) != "string" and (.cpu_sampler.note | type) != "string"
	 then "cpu_sampler has neither method nor note" else empty end)
	] | join("; ")' "$E" 2>&1)
is "$problems" "" "env.json: memcpy's measured rates, and the CPU sampler's method or why there is none"
# The run's conditions, each with its type, as the command line above set them.
problems=$(jq -r '.conditions as $c |
	def need(k; t): if ($c | has(k)) | not then "missing conditions.\(k)"
		elif ($c[k] | type) != t then "conditions.\(k) is \($c[k] | type), not \(t)" else empty end;
	if ($c | type) != "object" then "conditions is \($c | type)" else
	[need("argv"; "array"), need("sndbuf"; "null"), need("rcvbuf"; "null"), need("pipe_size_asked"; "null"),
	 need("pin"; "string"), need("cache"; "string"), need("nonblock"; "boolean"), need("sink"; "string"),
	 need("timeout_s"; "number"), need("reps"; "number"), need("warmup"; "number"), need("conns"; "number"),
	 need("outstanding"; "number"), need("sweep"; "null"), need("workdir"; "string"),
	 need("workdir_fs"; "string"), need("bpf"; "string"), need("tracer"; "string"), need("cputime"; "string"),
	 need("perf"; "string"), need("profile"; "boolean"),
	 (if [$c.pin, $c.cache, $c.sink, $c.reps, $c.warmup, $c.conns, $c.timeout_s, $c.workdir] !=
	     ["auto", "warm", "hash", 2, 1, 1, 120, "/var/tmp"]
	  then "conditions are not the defaults and the reps given: \($c)" else empty end)]
	| join("; ") end' "$E" 2>&1)
is "$problems" "" "env.json: conditions, every key with its type and the values of this run"
is "$(jq -r '.conditions.argv[1:] | join(" ")' "$E" 2>/dev/null)" \
	"run --scenario serve --strategy readwrite,sendfile --transport tcp --size 1M --reps 2 --warmup 1 --out $OUTDIR" \
	"env.json: conditions.argv is the whole command line"
cl run --scenario pipe --strategy readwrite --size 64K --reps 1 --warmup 0 --sndbuf 8K --rcvbuf 16K \
	--pipe-size 128K --sink discard --nonblock --out "$TMP/cond"
is "$(jq -c '.conditions | [.sndbuf, .rcvbuf, .pipe_size_asked, .sink, .nonblock]' "$TMP/cond/env.json" 2>&1)" \
	'[8192,16384,131072,"discard",true]' "env.json: conditions hold --sndbuf, --rcvbuf, --pipe-size, --sink, --nonblock" "$(cl_desc)"
if [ "${COPYLAB_REQUIRE_CPUSAMPLE:-0}" = 1 ]; then
	routines=$(jq -r '.cpu_sampler.kernel_copy_routines // ""' "$E" 2>/dev/null)
	ok $(grep -qw rep_movs_alternative <<<"$routines" || grep -qw copy_user_generic <<<"$routines"; echo $?) \
		"env.json: the sampler found the kernel's user-copy routine in /proc/kallsyms" "$routines"
fi

# --- the facts that can turn a verdict around (docs/results.md) ------------------------
# Each is there with its type; one that cannot be read here is null beside a
# string "<key>_note" saying why, never missing and never a guess.
fact_types='
	def fact(o; path; k; t):
		if (o | type) != "object" then "\(path) is \(o | type), not object"
		elif (o | has(k)) | not then "missing \(path).\(k)"
		elif (o[k] | type) == t then empty
		elif (o[k] == null) and ((o[k + "_note"] | type) == "string") then empty
		else "\(path).\(k) is \(o[k] | type), not \(t) (or null with \(k)_note)" end;
	def sysctls(o; path): fact(o; path; "tcp_rmem"; "object"), fact(o; path; "tcp_wmem"; "object"),
		fact(o; path; "optmem_max"; "number"), fact(o; path; "rmem_max"; "number"), fact(o; path; "wmem_max"; "number"),
		(if (o.tcp_rmem | type) == "object" and ([o.tcp_rmem.min, o.tcp_rmem.default, o.tcp_rmem.max] | map(type) | unique) != ["number"]
		 then "\(path).tcp_rmem is not {min, default, max}" else empty end);
	def steering(o; path): fact(o; path; "rps"; "object"), fact(o; path; "xps"; "object"), fact(o; path; "irqs"; "object");'
problems=$(jq -r "$fact_types"'[
	fact(.; "env"; "cpufreq"; "object"), fact(.cpufreq; "cpufreq"; "governor"; "object"), fact(.cpufreq; "cpufreq"; "boost"; "boolean"),
	fact(.; "env"; "mitigations"; "object"), fact(.mitigations; "mitigations"; "vulnerabilities"; "object"),
	fact(.mitigations; "mitigations"; "cmdline"; "string"),
	fact(.; "env"; "net_sysctl"; "object"), sysctls(.net_sysctl; "net_sysctl"),
	fact(.transport; "transport"; "steering"; "object"), steering(.transport.steering; "transport.steering"),
	fact(.transport; "transport"; "net_sysctl"; "object"), sysctls(.transport.net_sysctl; "transport.net_sysctl")
	] | join("; ")' "$E" 2>&1)
is "$problems" "" "env.json: cpufreq, mitigations, net_sysctl and the link's steering, each typed or null with a reason"
want="$(tr -s ' \t' ' ' </proc/sys/net/ipv4/tcp_rmem) $(cat /proc/sys/net/core/optmem_max)"
want+=" $(ls /sys/devices/system/cpu/vulnerabilities 2>/dev/null | wc -l)"
want+=" $(ls -d /sys/devices/system/cpu/cpufreq/policy* 2>/dev/null | wc -l)"
is "$(jq -r '"\(.net_sysctl.tcp_rmem.min) \(.net_sysctl.tcp_rmem.default) \(.net_sysctl.tcp_rmem.max) \(.net_sysctl.optmem_max)" +
	" \(.mitigations.vulnerabilities // {} | length) \(.cpufreq.governor // {} | length)"' "$E" 2>&1)" "$want" \
	"env.json: tcp_rmem, optmem_max, the vulnerabilities and the cpufreq policies are this machine's"
if [ "$(id -u)" = 0 ]; then
	# A link in namespaces of its own: its facts must be read inside them,
	# where its devices are (the host's sysfs has no such device).
	cl run --scenario send --strategy readwrite --transport veth --size 64K --reps 1 --warmup 0 --out "$TMP/veth"
	problems=$(jq -r "$fact_types"'[.transport.ends[] | . as $e | "end \($e.interface)" as $p |
		steering($e.steering; $p + " steering"), sysctls($e.net_sysctl; $p + " net_sysctl"),
		(if ($e.steering.rps | type) != "object" then "\($p): rps not read in its namespace (\($e.steering.rps_note // $e.steering_note))"
		 else empty end),
		(if ($e.steering.irqs_note // "" | test("virtual")) then empty else "\($p): a veth has no IRQs, yet irqs_note is \($e.steering.irqs_note)" end)
		] | join("; ")' "$TMP/veth/env.json" 2>&1)
	is "$problems" "" "env.json over veth: each end's RPS, XPS, IRQs and sysctls, read in the end's own namespace" "$(cl_desc)"
else
	skip "not root" "env.json over veth: each end's facts read in its namespace"
fi

# --- nothing temporary left -----------------------------------------------------------

is "$(find "$OUTDIR" -name '*.tmp*' | head -n 3)" "" "no temporary (*.tmp*) file left in the run directory"

# --- the table goes to stdout, or to stderr with --json ----------------------------------

ok $(grep -qw readwrite "$TMP/table.out" && grep -qw sendfile "$TMP/table.out" &&
	! jq -e . "$TMP/table.out" >/dev/null 2>&1; echo $?) "without --json the readable table is on stdout" \
	"$(diag_file "$TMP/table.out" 8)"

cl run --scenario serve --strategy readwrite,sendfile --size 64K --reps 2 --warmup 0 --json --out "$TMP/json"
ok $([ "$RC" -eq 0 ]; echo $?) "--json run: exit 0" "$(cl_desc)"
ok $([ -s "$OUT" ] && jsonl_valid "$OUT"; echo $?) "--json: every stdout line is a JSON object" "$(diag_file "$OUT" 5)"
# The same records, the same text: reals with 15 significant digits in both
# (docs/results.md), so a reader of either gets the same numbers.
if cmp -s "$OUT" "$TMP/json/results.jsonl"; then
	pass "--json: stdout carries exactly the lines of results.jsonl"
else
	fail "--json: stdout carries exactly the lines of results.jsonl"
	diag "first difference (stdout <, results.jsonl >):"
	diag "$(diff "$OUT" "$TMP/json/results.jsonl" 2>&1 | head -n 4 | cut -c 1-300)"
fi
ok $(grep -qw readwrite "$ERR" && grep -qw sendfile "$ERR"; echo $?) "--json: the readable table goes to stderr" \
	"$(diag_file "$ERR" 8)"

# --- zero-copy receive: its object, and the fixed sender ---------------------------
cl run --scenario store --strategy readwrite,zerocopy_recv --transport tcp --size 1M --reps 1 --warmup 0 \
	--out "$TMP/zcr"
ok $([ "$RC" -eq 0 ]; echo $?) "store readwrite,zerocopy_recv 1M: exit 0" "$(cl_desc)"
problems=$(jq -r '
	"\(.strategy): " + ([
		(if .fixed_sender != "send" then "fixed_sender is \(.fixed_sender), not \"send\" over tcp" else empty end),
		(if .strategy == "readwrite" then
			(if .zerocopy_recv != null then "zerocopy_recv is not null" else empty end)
		 else
			(.zerocopy_recv as $z |
			 if ($z | type) != "object" then "zerocopy_recv is \($z | type)"
			 else (["bytes_mapped","bytes_copied","bytes_copybuf","bytes_read","maps","unmaps"][] as $k |
				if ($z[$k] | type) != "number" or $z[$k] != ($z[$k] | floor) or $z[$k] < 0
				then "zerocopy_recv.\($k) is \($z[$k])" else empty end),
			      (if ($z.share_mapped | type) != "number" or $z.share_mapped < 0 or $z.share_mapped > 1
			       then "share_mapped is \($z.share_mapped)" else empty end)
			 end)
		 end)
	] | join("; "))' "$TMP/zcr/results.jsonl" 2>&1 | grep -v ': $')
is "$problems" "" "records: zerocopy_recv (object of counts and a share, or null) and fixed_sender as documented"

# --- recv: the receiver under test verifies; readwrite:trunc says it did not -------
cl run --scenario recv --strategy readwrite,zerocopy_recv,readwrite:trunc --transport tcp --size 1M --reps 1 \
	--warmup 0 --out "$TMP/recv"
ok $([ "$RC" -eq 0 ]; echo $?) "recv readwrite,zerocopy_recv,readwrite:trunc 1M: exit 0" "$(cl_desc)"
problems=$(jq -r '
	"\(.strategy): " + ([
		(if .scenario != "recv" then "scenario \(.scenario)" else empty end),
		(if (.roles | keys_unsorted) != ["receiver","source"] then "roles \(.roles | keys_unsorted)" else empty end),
		(if .roles.receiver.under_test != true then "the receiver is not the role under test" else empty end),
		(if .fixed_sender != "send" then "fixed_sender \(.fixed_sender)" else empty end),
		(if .strategy == "readwrite:trunc" then
			(if [.verified, .verify] != [false, "skipped"] then "verified \(.verified), verify \(.verify)" else empty end),
			(if (.verify_note | type) != "string" or (.verify_note | test("MSG_TRUNC") | not) then "verify_note \(.verify_note)" else empty end),
			(if .strategy_base != "readwrite" then "strategy_base \(.strategy_base)" else empty end)
		 else
			(if [.verified, .verify, .verify_note] != [true, "ok", null] then "verified \(.verified), verify \(.verify), note \(.verify_note)" else empty end),
			(if (.strategy == "zerocopy_recv") != ((.zerocopy_recv | type) == "object") then "zerocopy_recv \(.zerocopy_recv)" else empty end)
		 end)
	] | join("; "))' "$TMP/recv/results.jsonl" 2>&1 | grep -v ': $')
is "$problems" "" "records: recv's receiver under test verifies; readwrite:trunc is skipped with its reason"
got=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	{ print $c["strategy"] "=" $c["verified_reps"] }' "$TMP/recv/summary.csv" 2>&1 | sort | tr '\n' ' ')
is "$got" "readwrite:trunc=0 readwrite=1 zerocopy_recv=1 " "summary.csv: readwrite:trunc has no verified repetition"

# --- no TCP, no tcp_send ------------------------------------------------------------------
cl run --scenario relay --strategy readwrite --transport unix --size 64K --reps 1 --warmup 0 --out "$TMP/unix"
[ "$RC" -eq 0 ] || cl_desc
is "$(jq -r '[.roles[] | .tcp_send] | map(select(. != null)) | length' "$TMP/unix/results.jsonl" 2>/dev/null)" 0 \
	"records: over unix no role has a tcp_send"

done_testing

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The fuzz corpus replayed: `make fuzz-replay` builds the libFuzzer targets
# of tests/fuzz/ (ASan + UBSan) and runs each once over its kept corpus and
# its regress inputs (crashes found before, fixed since).  A crash, a
# sanitizer report or a failed build fails.  Long fuzzing is `make fuzz`.
# timeout: 300
. "$(dirname "$0")/lib.sh"

command -v clang >/dev/null || skip_all "clang is not installed (scripts/deps.sh installs it): no libFuzzer"
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' >"$TMP/probe.c"
clang -fsanitize=fuzzer,address,undefined -o "$TMP/probe" "$TMP/probe.c" 2>"$TMP/probe.err" ||
	skip_all "clang cannot link libFuzzer (libclang-rt-14-dev missing?): $(head -c 200 "$TMP/probe.err")"

names=()
for f in tests/fuzz/fuzz_*.c; do
	n=$(basename "$f" .c)
	names+=("$n")
done
[ ${#names[@]} -gt 0 ] || bail_out "no fuzz targets in tests/fuzz/"

make --no-print-directory -j2 fuzz-build >"$TMP/build.log" 2>&1
ok $? "make fuzz-build: ${#names[@]} targets (${names[*]})" "$(diag_file "$TMP/build.log")"

make --no-print-directory fuzz-replay >"$TMP/replay.log" 2>&1
rc=$?
for n in "${names[@]}"; do
	line=$(grep "^$n: " "$TMP/replay.log")
	if [ "$rc" -eq 0 ] && [ -n "$line" ] && ! grep -q "^$n: FAILED" "$TMP/replay.log"; then
		pass "$n: corpus and regress inputs replayed without a crash (${line#*: })"
	else
		fail "$n: corpus and regress inputs replayed without a crash"
		diag_file "$TMP/replay.log" 30
		[ -f "build/fuzz/$n.replay.log" ] && diag_file "build/fuzz/$n.replay.log" 30
	fi
done

# Every kept corpus has hand-written seeds, and stays small enough for git.
for n in "${names[@]}"; do
	count=$(find "tests/fuzz/corpus/$n" -type f | wc -l)
	big=$(find "tests/fuzz/corpus/$n" "tests/fuzz/regress/$n" -type f -size +64k | head -n 3)
	ok $([ "$count" -gt 0 ] && [ -z "$big" ]; echo $?) "$n: corpus has $count inputs, none over 64 KiB" "$big"
done
done_testing

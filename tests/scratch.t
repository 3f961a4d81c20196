#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Scratch directories: copylab removes only the scratch it can prove a dead
# run of its own made (its name form, owned by this user, a marker naming
# this boot, this pid namespace and a process that is gone) and never
# follows a symlink out of one.  A user's directory named like copylab's,
# one without a marker, one with a live run's marker, one of another user
# or of another pid namespace, are all kept.
# timeout: 120
. "$(dirname "$0")/lib.sh"
require_copylab

W=$TMP/work
mkdir -p "$W/keep"
run_once() {	# a 1 KiB copy with --workdir W: the sweep runs before its scratch is made
	cl run --scenario copy --strategy readwrite --size 1K --reps 1 --warmup 0 --no-bpf --no-perf \
		--workdir "$W" --out "$TMP/out-$RANDOM"
	[ "$RC" -eq 0 ] || { fail "copylab run --workdir exits 0"; cl_desc 5; }
}
boot=$(cat /proc/sys/kernel/random/boot_id)
pidns=$(stat -L -c %i /proc/self/ns/pid)
DEAD=$(( $(cat /proc/sys/kernel/pid_max) + 7 ))	# no process has this pid
# marker DIR PID START [BOOT [PIDNS]]: a marker as copylab writes it
marker() {
	printf 'copylab-scratch 1\nboot %s\npidns %s\npid %s\nstart %s\n' "${4:-$boot}" "${5:-$pidns}" "$2" "$3" >"$1/.copylab-scratch"
}
mkdir -p "$W/copylab-2024-backup/sub" "$W/copylab-99999999-mydata" "$W/copylab-20261207-result"
echo thesis >"$W/copylab-2024-backup/sub/thesis.tex"
echo data >"$W/copylab-99999999-mydata/file"
echo result >"$W/copylab-20261207-result/file"
# our name form, dead pid, but no marker: not provably ours
mkdir -p "$W/copylab-$DEAD-nomark"; echo x >"$W/copylab-$DEAD-nomark/file"
# a dead run of ours: removed, and the symlink in it not followed
mkdir -p "$W/copylab-$DEAD-deadrn"; marker "$W/copylab-$DEAD-deadrn" "$DEAD" 12345
echo precious >"$W/keep/precious"
ln -s "$W/keep" "$W/copylab-$DEAD-deadrn/link-to-keep"
ln -s "$W/keep/precious" "$W/copylab-$DEAD-deadrn/link-to-file"
mkdir -p "$W/copylab-$DEAD-deadrn/sub"; echo y >"$W/copylab-$DEAD-deadrn/sub/out.dat"
# a made-before-this-boot run's: removed
mkdir -p "$W/copylab-$DEAD-oldbot"; marker "$W/copylab-$DEAD-oldbot" "$DEAD" 1 00000000-0000-0000-0000-000000000000
# a live run's (this shell, with its real start time): kept
start=$(awk '{ sub(/^.*\) /, ""); print $20 }' /proc/$$/stat)
mkdir -p "$W/copylab-$$-liverun"; marker "$W/copylab-$$-liverun" $$ "$start"
# the same pid with another start time: the pid was reused, the run is gone
mkdir -p "$W/copylab-$$-reused"; marker "$W/copylab-$$-reused" $$ $((start + 1))
# another pid namespace's: kept (its run may be alive there)
mkdir -p "$W/copylab-$DEAD-othrns"; marker "$W/copylab-$DEAD-othrns" "$DEAD" 1 "$boot" 4026531999
# a symlink named like a scratch directory: never followed, kept
ln -s "$W/keep" "$W/copylab-$DEAD-symlnk"
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	mkdir -p "$W/copylab-$DEAD-nobody"; marker "$W/copylab-$DEAD-nobody" "$DEAD" 1
	chown -R nobody "$W/copylab-$DEAD-nobody"
fi

run_once
for d in copylab-2024-backup copylab-99999999-mydata copylab-20261207-result "copylab-$DEAD-nomark" \
	"copylab-$$-liverun" "copylab-$DEAD-othrns"; do
	ok $([ -d "$W/$d" ]; echo $?) "kept: $d"
done
is "$(cat "$W/copylab-2024-backup/sub/thesis.tex" 2>/dev/null)" thesis "a user's copylab-2024-backup keeps its files"
for d in "copylab-$DEAD-deadrn" "copylab-$DEAD-oldbot" "copylab-$$-reused"; do
	ok $([ ! -e "$W/$d" ]; echo $?) "removed: $d (a dead run of ours)"
done
is "$(cat "$W/keep/precious" 2>/dev/null)" precious "a symlink inside a removed scratch directory was not followed"
ok $([ -L "$W/copylab-$DEAD-symlnk" ] && [ -d "$W/keep" ]; echo $?) "a symlink named like a scratch directory is kept, its target too"
if [ -d "$W/copylab-$DEAD-nobody" ] || [ "$(id -u)" -ne 0 ]; then
	ok $([ "$(id -u)" -ne 0 ] || [ -e "$W/copylab-$DEAD-nobody/.copylab-scratch" ]; echo $?) "another user's scratch is kept"
else
	fail "another user's scratch is kept"
fi
# the run's own scratch is gone at its end, marker and all
left=$(cd "$W" && ls -d copylab-* 2>/dev/null | grep -v -e 2024-backup -e 99999999-mydata -e 20261207-result \
	-e "$DEAD-nomark" -e "$$-liverun" -e "$DEAD-othrns" -e "$DEAD-symlnk" -e "$DEAD-nobody" | tr '\n' ' ')
is "$left" "" "the run removed its own scratch directory at its end"
# --- copylab cleanup finds scratch under any --workdir a killed run used -------

W2=$TMP/elsewhere
mkdir -p "$W2"
COPYLAB_TEST_TAG=${TAG:=$(tag_new)} setsid "$COPYLAB" run --scenario copy --strategy readwrite --size 256M --reps 50 \
	--no-bpf --no-perf --workdir "$W2" --out "$TMP/out-killed" >/dev/null 2>&1 </dev/null &
pid=$!
at_exit "kill_tagged $TAG"
for ((i = 0; i < 400; i++)); do	# up to 20 s for the run to make its scratch and fill it
	ls "$W2"/copylab-"$pid"-*/* >/dev/null 2>&1 && break
	sleep 0.05
done
kill -KILL -- "-$pid" 2>/dev/null
wait "$pid" 2>/dev/null
left=$(cd "$W2" && ls -d copylab-"$pid"-* 2>/dev/null)
ok $([ -n "$left" ]; echo $?) "a SIGKILLed run with --workdir leaves its scratch (the case cleanup is for)"
cl cleanup --dry-run
ok $(grep -q "would remove scratch $(realpath "$W2")/$left" "$OUT"; echo $?) \
	"cleanup --dry-run names the scratch under the --workdir" "$(cl_desc)$(diag_file "$OUT" 20)"
ok $([ -d "$W2/$left" ]; echo $?) "cleanup --dry-run removes nothing"
cl cleanup
ok $([ "$RC" -eq 0 ] && grep -q "removed scratch $(realpath "$W2")/$left" "$OUT"; echo $?) \
	"cleanup removes the scratch a killed run left under its --workdir" "$(cl_desc)$(diag_file "$OUT" 20)"
ok $([ ! -e "$W2/$left" ]; echo $?) "that scratch directory is gone"
ok $([ -d "$W/copylab-2024-backup" ] && [ -d "$W/copylab-$$-liverun" ]; echo $?) \
	"cleanup keeps what is not provably a dead run's under the other --workdir"
done_testing

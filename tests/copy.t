#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# copylab copy: byte-exact copies with every copy strategy at edge sizes,
# the source's mode, --verify, copying into a directory, usage errors, and
# a failing copy (a full disk) that leaves DST as it was and no temporary
# file behind.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab
load_list
"$COPYLAB" copy --help >/dev/null 2>&1 || bail_out "this copylab has no copy command"

mapfile -t STRATEGIES < <(jq -r '.strategies[] | select(.scenarios.copy.ok) | .name' "$LIST_JSON")
[ ${#STRATEGIES[@]} -ge 4 ] || bail_out "copylab list shows fewer than 4 copy strategies: ${STRATEGIES[*]}"

# Sources in /var/tmp, like the harness's files (a real disk filesystem).
SRC=$(mktemp -d /var/tmp/copylab-copy-test.XXXXXX)
at_exit "rm -rf '$SRC'"
SIZES="0 1 4097 1048577 67108864"
for n in $SIZES; do head -c "$n" /dev/urandom >"$SRC/src-$n"; done

for s in "${STRATEGIES[@]}"; do
	bad=""
	for n in $SIZES; do
		dst=$SRC/dst-$s-$n
		cl copy --strategy "$s" "$SRC/src-$n" "$dst"
		if [ "$RC" -ne 0 ] || ! cmp -s "$SRC/src-$n" "$dst"; then
			bad+=" $n"
			diag "$s, $n bytes: exit $RC: $(head -c 300 "$ERR")"
		fi
		rm -f "$dst"
	done
	is "$bad" "" "$s: byte-exact copies of 0, 1, 4097, 1 MiB + 1 and 64 MiB"
done

left=$(find "$SRC" -name '.*copylab-*' | head -n 3)
is "$left" "" "no temporary file is left after the copies"

# The mode of SRC (less the umask), as cp gives a new file.
chmod 0640 "$SRC/src-4097"
(umask 022; "$COPYLAB" copy --strategy splice "$SRC/src-4097" "$SRC/mode-copy")
is "$(stat -c %a "$SRC/mode-copy")" 640 "the copy has the mode of the source (0640, umask 022)"
chmod 0755 "$SRC/src-4097"
(umask 027; "$COPYLAB" copy --strategy readwrite "$SRC/src-4097" "$SRC/mode-copy2")
is "$(stat -c %a "$SRC/mode-copy2")" 750 "less the umask (0755, umask 027: 0750)"

# Overwriting an existing DST replaces it whole.
echo "old contents" >"$SRC/existing"
cl copy --strategy sendfile "$SRC/src-1048577" "$SRC/existing"
[ "$RC" -eq 0 ] && cmp -s "$SRC/src-1048577" "$SRC/existing"
ok $? "an existing DST is replaced by the whole copy" "$(cl_desc)"

# Into a directory, under the source's name.
mkdir -p "$SRC/into"
cl copy --strategy mmap_write "$SRC/src-4097" "$SRC/into"
cmp -s "$SRC/src-4097" "$SRC/into/src-4097"
ok $? "DST a directory: the copy goes into it under the source's name" "$(cl_desc)"

# --verify: hashes compared; with --verbose the XXH3-64 is printed.
cl copy --strategy splice --verify --verbose "$SRC/src-67108864" "$SRC/verified"
h=$(sed -n 's/^verified: XXH3-64 //p' "$OUT")
[ "$RC" -eq 0 ] && [ -n "$h" ] && cmp -s "$SRC/src-67108864" "$SRC/verified"
ok $? "--verify: the copy is checked and its XXH3-64 printed" "$(cl_desc)"
if command -v xxhsum >/dev/null; then
	want=$(xxhsum -H3 "$SRC/src-67108864" | sed -n 's/^XXH3 (.*) = \([0-9a-f]*\)$/\1/p')	# "XXH3 (FILE) = HASH"
	is "$h" "$want" "--verify's hash is xxhsum -H3's"
else
	skip "xxhsum is not installed (Debian package xxhash)" "--verify's hash is xxhsum -H3's"
fi
for s in "${STRATEGIES[@]}"; do
	cl copy --strategy "$s" --verify --block 4K "$SRC/src-1048577" "$SRC/v-$s"
	[ "$RC" -eq 0 ] && cmp -s "$SRC/src-1048577" "$SRC/v-$s" || { fail "$s --verify --block 4K"; cl_desc; continue; }
	pass "$s --verify --block 4K"
done

# --- a copy that fails: a full disk ----------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
	skip "not root: cannot mount a small tmpfs" "a full disk: exit 1, DST as it was, no temporary file"
else
	MNT=$TMP/full
	mkdir -p "$MNT"
	if mount -t tmpfs -o size=1M copylab-test "$MNT" 2>"$TMP/mount.err"; then
		at_exit "umount '$MNT'"
		head -c 3000000 /dev/urandom >"$SRC/big"
		for s in "${STRATEGIES[@]}"; do
			echo "old" >"$MNT/dst"
			cl copy --strategy "$s" --verify "$SRC/big" "$MNT/dst"
			left=$(ls -A "$MNT")
			# SRC is on another filesystem than the tmpfs: copy_file_range
			# refuses that with EXDEV (5.19+) before any space is used.
			want='No space left on device \(ENOSPC\)'
			[ "$s" = copy_file_range ] && want='(No space left on device \(ENOSPC\)|Invalid cross-device link \(EXDEV\))'
			if [ "$RC" -eq 1 ] && grep -Eq "^copylab copy: $s: [a-z_0-9]+ failed: $want" "$ERR" &&
				[ "$(cat "$MNT/dst")" = old ] && [ "$left" = dst ]; then
				pass "$s on a full disk: exit 1 naming the syscall and ENOSPC; DST as it was; no temporary file"
			else
				fail "$s on a full disk: exit 1 naming the syscall and ENOSPC; DST as it was; no temporary file"
				diag "left in the mount: $left"
				cl_desc
			fi
		done
		rm -f "$MNT/dst"
		cl copy --strategy readwrite "$SRC/big" "$MNT/new"
		[ "$RC" -eq 1 ] && [ -z "$(ls -A "$MNT")" ]
		ok $? "a failed copy to a new name leaves no DST at all"
	else
		skip "mount tmpfs failed: $(head -c 100 "$TMP/mount.err")" "a full disk: exit 1, DST as it was, no temporary file"
	fi
fi

# --- usage and input errors --------------------------------------------------------
expect_usage_error "copy: --strategy is required, valid ones listed" "--strategy is required; valid: readwrite" copy a b
expect_usage_error "copy: a strategy that cannot copy says why" "tee cannot copy a file: " copy --strategy tee "$SRC/src-1" "$SRC/x"
expect_usage_error "copy: unknown strategy" "unknown strategy|not a strategy|valid:" copy --strategy nope "$SRC/src-1" "$SRC/x"
expect_usage_error "copy: one path is not enough" "give a source and a destination" copy --strategy splice "$SRC/src-1"
expect_usage_error "copy: --block 0 is refused" "--block: must be at least 1 byte" copy --strategy splice --block 0 "$SRC/src-1" "$SRC/x"
cl copy --strategy splice "$SRC/none" "$SRC/x"
[ "$RC" -eq 1 ] && grep -q "splice: open failed: No such file or directory (ENOENT): $SRC/none" "$ERR" && [ ! -e "$SRC/x" ]
ok $? "a missing source: exit 1 naming the strategy, syscall, errno and file" "$(cl_desc)"
cl copy --strategy readwrite "$SRC/src-1" "$SRC/src-1"
[ "$RC" -eq 1 ] && grep -q "are the same file" "$ERR" && [ "$(stat -c %s "$SRC/src-1")" -eq 1 ]
ok $? "copying a file onto itself is refused and leaves it whole" "$(cl_desc)"
cl copy --strategy readwrite /dev/null "$SRC/x"
[ "$RC" -eq 1 ] && grep -q "not a regular file" "$ERR"
ok $? "a source that is not a regular file is refused" "$(cl_desc)"

done_testing

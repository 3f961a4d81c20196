#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The labs of docs/labs/ work as written for a student with root and for one
# without: every ```sh block whose first line is "# lab-command" is run (one
# block = one test per user) as root and as user nobody, at small sizes
# (--size X -> --size 4M, --reps N -> --reps 1), in a scratch directory of
# that user with ./copylab pointing at the binary under test.
#
# A block fails when it exits non-zero, when its output holds a copylab
# refusal whatever its exit status (a refused strategy is a lab that did not
# run), or when it prints a table (jq ... @tsv) with no row or with a column
# that is neither a number nor a name copylab knows (a null is a figure the
# student cannot have).  Tags after "# lab-command":
#   root: WHY   only root can run it; as nobody it is skipped with WHY (the
#               lab page says what a student without root does instead)
#   refusal     the block shows a refusal on purpose: it fails unless its
#               output holds one (and it still must exit 0)
# Then `copylab lab check N DIR` reads the runs the blocks left: every cell
# of the key that the user can make must be there, each figure a number.
#
# usage: [LABS="1 3"] [LAB_USERS="root nobody"] [LAB_FULL=1] bash tests/labs.t
#   LABS        only these labs (numbers)
#   LAB_USERS   root, nobody or both (default both; nobody needs root to
#               become it, and is skipped with the reason otherwise)
#   LAB_FULL=1  the sizes and repetitions the pages give (30 minutes per
#               block at most), to time a lab as a student runs it:
#               time LABS=3 LAB_USERS=nobody LAB_FULL=1 bash tests/labs.t
# timeout: 1800
. "$(dirname "$0")/lib.sh"
require_copylab
command -v jq >/dev/null || skip_all "jq is not installed (scripts/deps.sh installs it)"

labs=()
for lab in "$ROOT"/docs/labs/lab[0-9]*.md; do
	n=$(basename "$lab" | sed -E 's/^lab([0-9]+).*/\1/')
	[ -z "${LABS:-}" ] || [[ " $LABS " == *" $n "* ]] && labs+=("$lab")
done
[ ${#labs[@]} -gt 0 ] || bail_out "no lab in docs/labs/ (lab*.md) matches LABS='${LABS:-}'"

load_list
transports=$(jq -r '.transports[]' "$LIST_JSON" | tr '\n' ' ')
strategies=$(jq -r '.strategies[].name' "$LIST_JSON" | tr '\n' ' ')
# The words a table may hold besides numbers: strategies (with their
# options, splice:pipe=1M), scenarios, transports, roles, ledger sources.
names=$(jq -r '[.strategies[].name, .scenarios[].name, .scenarios[].roles[], .transports[],
	"stack", "bpf", "tracer"] | unique | join("|")' "$LIST_JSON")
COPYLAB=$(realpath "$COPYLAB")
commands=$("$COPYLAB" --help 2>&1)
TAG=$(tag_new)
at_exit "kill_tagged $TAG"

# The checker's own edges: bad usage exits 2 and says what is right; an
# empty directory lacks every cell (exit 1, each named with its command).
expect_usage_error "lab check: a lab number out of range" 'N is the lab.s number, 1 to 7' lab check 8 "$TMP"
expect_usage_error "lab check: DIR that is not a directory" 'is not a directory' lab check 1 "$TMP/none"
expect_usage_error "lab: no subcommand" 'expected .check N DIR.' lab
mkdir -p "$TMP/empty"
cl lab check 1 "$TMP/empty"
ok $([ "$RC" -eq 1 ] && grep -q 'serve over tcp, sendfile against readwrite: MISSING' "$OUT" &&
	grep -q -- '--scenario serve --strategy readwrite,sendfile' "$OUT"; echo $?) \
	"lab check 1 of an empty directory: exit 1, the serve cell named missing with its command"

# The hint to add repetitions comes only where a figure rests on too few
# pairs to decide, and says how many do.
for reps in 2 5; do
	cl run --scenario serve --strategy readwrite,sendfile --size 2M --reps $reps --warmup 0 --no-perf \
		--out "$TMP/reps$reps/run" --workdir "$TMP"
	[ "$RC" -eq 0 ] || cl_desc
done
cl lab check 1 "$TMP/reps2"
few_out=$(cat "$OUT")
cl lab check 1 "$TMP/reps5"
# (without root the ledger's bytes may have no pairs at all: count the rows that say too few)
few=$(grep -c 'too few pairs to decide' <<<"$few_out")
ok $([ "$RC" -eq 0 ] && grep -q 'Every cell the key requires of you is here' "$OUT" && ! grep -q 'to decide' "$OUT" &&
	[ "$few" -ge 3 ] && grep -q "^$few figures rest on fewer than 5 pairs" <<<"$few_out"; echo $?) \
	"lab check: 2 reps ask for more repetitions ($few figures named), 5 reps do not" "$(cat "$OUT")"

users=${LAB_USERS:-root nobody}
if [[ " $users " == *" nobody "* ]]; then
	why_no_nobody=""
	if [ "$(id -u)" -ne 0 ]; then
		why_no_nobody="not root: cannot become user nobody"
	elif ! command -v setpriv >/dev/null; then
		why_no_nobody="setpriv is not installed (util-linux)"
	elif ! id nobody >/dev/null 2>&1; then
		why_no_nobody="there is no user nobody"
	else
		# nobody cannot enter $TMP (mode 700): a readable directory with
		# copylab and its tracer, and a directory per lab it owns.
		U=$(mktemp -d /tmp/copylab-labs.XXXXXX) || bail_out "mktemp failed"
		at_exit "rm -rf '$U'"
		chmod 755 "$U"
		cp "$COPYLAB" "$ROOT/libcopytrace.so" "$U/" || bail_out "cannot copy copylab to $U"
		chmod 755 "$U/copylab" "$U/libcopytrace.so"
		NOBODY_GID=$(id -g nobody)
	fi
fi

# The blocks of one lab, NUL-separated; each starts with its tag line
# (what followed "# lab-command", maybe empty).
extract() {
	awk '
		/^```sh[[:space:]]*$/ { inblock = 1; first = 1; buf = ""; next }
		inblock && /^```/ { if (keep) printf "%s%c", buf, 0; inblock = 0; keep = 0; next }
		inblock && first {
			first = 0
			keep = ($0 ~ /^# lab-command([[:space:]]|$)/)
			tag = $0; sub(/^# lab-command[[:space:]]*/, "", tag)
			buf = tag "\n"
			next
		}
		inblock { buf = buf $0 "\n" }
	' "$1"
}

# Small sizes and one repetition (unless LAB_FULL=1); the binary under
# test for ./copylab.
block_timeout=120
[ "${LAB_FULL:-}" = 1 ] && block_timeout=1800
shrink() {
	if [ "${LAB_FULL:-}" = 1 ]; then
		sed -E -e 's#\./copylab( |$)#"$COPYLAB"\1#g'
		return
	fi
	sed -E -e 's/--size [0-9]+[KMG]?/--size 4M/g' \
	       -e 's/--reps [0-9]+/--reps 1/g' \
	       -e 's/--sweep size=[0-9]+[KMG]?\.\.[0-9]+[KMG]?/--sweep size=1M..4M/g' \
	       -e 's#\./copylab( |$)#"$COPYLAB"\1#g'
}

# Why a block cannot run with this build, or nothing.
missing() {
	local block=$1 t s
	for t in $(grep -oE -- '--transport [a-z-]+' <<<"$block" | awk '{print $2}'); do
		case " $transports " in *" $t "*) ;; *) echo "transport $t is not in this build of copylab (copylab list)"; return ;; esac
	done
	for s in $(grep -oE -- '--strategy [a-z_,:=0-9A-Z]+' <<<"$block" | awk '{print $2}' | tr ',' '\n' | cut -d: -f1); do
		[ "$s" = all ] && continue
		case " $strategies " in *" $s "*) ;; *) echo "strategy $s is not in this build of copylab (copylab list)"; return ;; esac
	done
}

# Commands a lab names that copylab does not have: a broken lab, not a skip.
unknown_commands() {
	local c
	for c in $(grep -oE -- '\./copylab [a-z]+' <<<"$1" | awk '{print $2}' | sort -u); do
		grep -qE "^  $c " <<<"$commands" || echo "$c"
	done
}

# The first line of OUT/ERR files that is a copylab refusal or failure, or
# nothing.  Progress lines ("copylab: [1/4] ...", "copylab: done ...") are
# not refusals.
refusal() {
	cat "$@" | grep -E -e 'cannot run|refused|[Nn]ot permitted|[Pp]ermission denied|cell failed|did not start' \
		-e '^copylab( [a-z]+)?: ' | grep -vE '^copylab: (\[[0-9]+/[0-9]+\] |done )' | head -1
}

# What is wrong with the table a block printed (OUT), or nothing.
table_fault() {
	local out=$1 rows
	rows=$(grep -c $'\t' "$out")
	[ "$rows" -gt 0 ] || { echo "its jq printed an empty table (no tab-separated row)"; return; }
	awk -F '\t' -v names="^($names)(:[A-Za-z0-9=.,]+)?\$" '
		/\t/ {
			for (i = 1; i <= NF; i++)
				if ($i !~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ && $i !~ names) {
					printf "row %d column %d is \"%s\", not a number or a name copylab knows\n", NR, i, $i
					exit
				}
		}' "$out"
}

# run_block USER DIR SCRIPT OUT ERR: the block as USER in DIR; its status.
run_block() {
	local user=$1 dir=$2 script=$3
	if [ "$user" = root ]; then
		(cd "$dir" && env COPYLAB="$COPYLAB" COPYLAB_TEST_TAG="$TAG" \
			timeout -k 5 "$block_timeout" bash -o pipefail -c "$script") >"$4" 2>"$5" </dev/null
	else
		(cd "$dir" && env COPYLAB="$U/copylab" COPYLAB_TEST_TAG="$TAG" HOME="$dir" \
			timeout -k 5 "$block_timeout" setpriv --reuid nobody --regid "$NOBODY_GID" --clear-groups \
			bash -o pipefail -c "$script") >"$4" 2>"$5" </dev/null
	fi
}

for lab in "${labs[@]}"; do
	name=$(basename "$lab" .md)
	num=$(sed -E 's/^lab([0-9]+).*/\1/' <<<"$name")
	for user in $users; do
		if [ "$user" = nobody ] && [ -n "${why_no_nobody:-}" ]; then
			skip "$why_no_nobody" "$name as nobody"
			continue
		fi
		if [ "$user" = root ]; then
			dir=$TMP/root/$name
			mkdir -p "$dir"
		else
			dir=$U/nobody/$name
			mkdir -p "$dir" && chown nobody "$U/nobody" "$dir"
		fi
		n=0
		while IFS= read -r -d '' block; do
			n=$((n + 1))
			tag=$(head -1 <<<"$block")
			body=$(tail -n +2 <<<"$block")
			first=$(grep -v '^[[:space:]]*#' <<<"$body" | grep -m1 . | cut -c1-60)
			what="$name block $n as $user: $first"
			bad=$(unknown_commands "$body")
			if [ -n "$bad" ]; then
				fail "$what (the lab names copylab $bad, which this copylab does not have)"
				continue
			fi
			why=$(missing "$body")
			if [ -n "$why" ]; then
				skip "$why" "$what"
				continue
			fi
			case $tag in
			'' | refusal) ;;
			root:*)
				if [ "$user" = nobody ]; then
					why=${tag#root:}
					skip "needs root:${why:+ ${why# }}" "$what"
					continue
				fi
				;;
			*)
				fail "$what (unknown tag '# lab-command $tag': root: WHY or refusal)"
				continue
				;;
			esac
			small=$(shrink <<<"$body")
			out=$dir/out.$n err=$dir/err.$n
			run_block "$user" "$dir" "$small" "$out" "$err"
			rc=$?
			fault=""
			[ $rc -eq 0 ] || fault="exit $rc"
			said=$(refusal "$out" "$err")
			if [ "$tag" = refusal ]; then
				[ -n "$said" ] || fault="${fault:+$fault; }it should show a refusal and showed none"
			elif [ -n "$said" ]; then
				fault="${fault:+$fault; }a refusal or failure in its output: $said"
			fi
			if [ -z "$fault" ] && grep -q '@tsv' <<<"$body"; then
				fault=$(table_fault "$out")
			fi
			if [ -z "$fault" ]; then
				pass "$what"
			else
				fail "$what ($fault)"
				diag "ran:" "$small" "stdout:"
				diag_file "$out" 15
				diag "stderr:"
				diag_file "$err" 15
			fi
		done < <(extract "$lab")
		[ $n -gt 0 ] || fail "$name has no '# lab-command' block"
		# The checker reads what the blocks left, as the student would.
		cl_user=$COPYLAB
		[ "$user" = nobody ] && cl_user=$U/copylab
		if [ "$user" = root ]; then
			(cd "$dir" && timeout -k 5 60 "$cl_user" lab check "$num" .) >"$dir/check.out" 2>&1
		else
			(cd "$dir" && timeout -k 5 60 setpriv --reuid nobody --regid "$NOBODY_GID" --clear-groups \
				"$cl_user" lab check "$num" .) >"$dir/check.out" 2>&1
		fi
		rc=$?
		bad=$(grep -wE 'MISSING|nan|-nan|no paired repetitions' "$dir/check.out" | head -1)
		rows=$(grep -cE ', [0-9]+ pairs? ' "$dir/check.out")
		if [ $rc -eq 0 ] && [ -z "$bad" ] && { [ "$rows" -gt 0 ] || [ "$user" = nobody ]; }; then
			pass "$name as $user: copylab lab check $num finds every required cell ($rows figures)"
		else
			fail "$name as $user: copylab lab check $num (exit $rc, $rows figures${bad:+; $bad})"
			diag_file "$dir/check.out" 30
		fi
	done
done
[ -n "${LABS:-}" ] || { [ ${#labs[@]} -ge 7 ]; ok $? "seven labs at least (${#labs[@]})"; }
done_testing

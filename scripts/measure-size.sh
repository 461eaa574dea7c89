#!/usr/bin/env bash
# Stripped size and clean release build time of the comparison service with
# buildtrace (compare/service/buildtrace) against the hand-wired one
# (compare/service/hand), built as the comparison builds them (release,
# --locked, --offline, feature admin-api). Builds are interleaved (hand,
# buildtrace, hand, buildtrace, ...) so that a change in the machine's load
# falls on both; each is a clean build in a fresh target directory, with the
# registry cache warm (crates are fetched first, not timed).
#
# Usage: scripts/measure-size.sh
# Environment:
#   RUNS      clean builds of each service (default 2)
#   APPS      services, in build order (default "hand buildtrace")
#   WORK      where the target directories go (default: a temporary directory,
#             removed at the end unless KEEP=1)
#   BLOAT=1   also `cargo bloat --release --crates -n 15` of each service, from
#             the last build (needs cargo-bloat on PATH)
#   TIMINGS=1 build with --timings; the last build's report is copied to
#             $WORK/timings-<service>.html and summarised (total, slowest 8)
# Prints one line per build, then per service the median build time (with an
# even number of runs, the mean of the middle two), the
# stripped size, and each service's ratio to the first in APPS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-2}
apps=${APPS:-hand buildtrace}
features=admin-api
if [[ -n ${WORK:-} ]]; then
	work=$WORK
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/measure-size.XXXXXX")
	if [[ ${KEEP:-} != 1 ]]; then trap 'rm -rf "$work"' EXIT; fi
fi
for tool in cargo strip; do
	command -v "$tool" >/dev/null || { echo "measure-size.sh needs $tool" >&2; exit 1; }
done
[[ ${BLOAT:-} != 1 ]] || command -v cargo-bloat >/dev/null ||
	{ echo "BLOAT=1 needs cargo-bloat (cargo install cargo-bloat --locked)" >&2; exit 1; }

unset RUSTFLAGS CARGO_BUILD_RUSTFLAGS
for app in $apps; do
	(cd "$root/compare/service/$app" && cargo fetch --locked --quiet)
done

build() { # app, target dir, extra cargo arguments...
	local app=$1 target=$2
	shift 2
	(cd "$root/compare/service/$app" &&
		CARGO_TARGET_DIR=$target cargo build --release --locked --offline --quiet \
			--features "$features" "$@")
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
declare -A times size
for i in $(seq "$runs"); do
	for app in $apps; do
		target=$work/target-$app
		rm -rf "$target"
		extra=()
		[[ ${TIMINGS:-} != 1 ]] || extra=(--timings)
		start=$(date +%s.%N)
		build "$app" "$target" "${extra[@]}"
		end=$(date +%s.%N)
		secs=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')
		times[$app]="${times[$app]:-} $secs"
		echo "build $i of $runs: $app clean release build $secs s" >&2
	done
done

for app in $apps; do
	target=$work/target-$app
	binary=$target/release/compare-$app
	strip --strip-all -o "$work/$app.stripped" "$binary"
	size[$app]=$(stat -c %s "$work/$app.stripped")
	if [[ ${TIMINGS:-} == 1 ]]; then
		cp "$target/cargo-timings/cargo-timing.html" "$work/timings-$app.html"
	fi
done

runs_of() { tr ' ' '\n' <<<"${times[$1]}" | grep .; }
first=${apps%% *}
first_time=$(runs_of "$first" | median)
printf '%-12s %18s %14s %10s %9s %9s\n' service "clean build, s" "runs" "stripped" MiB "× $first"
for app in $apps; do
	t=$(runs_of "$app" | median)
	printf '%-12s %18s %14s %10s %9.2f %9s\n' "$app" "$t" "$(runs_of "$app" | paste -sd,)" "${size[$app]}" \
		"$(awk -v b="${size[$app]}" 'BEGIN { print b / 1048576 }')" \
		"$(awk -v b="${size[$app]}" -v a="${size[$first]}" -v t="$t" -v f="$first_time" \
			'BEGIN { printf "%.3f size, %.3f time", b / a, t / f }')"
done

if [[ ${TIMINGS:-} == 1 ]]; then
	for app in $apps; do
		html=$work/timings-$app.html
		echo "== cargo --timings, $app (last build; $html)"
		# The report embeds its units as JSON: name, version, start, duration.
		python3 - "$html" <<'PY'
import json, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", text, re.S).group(1))
total = re.search(r"<td>Total time:</td><td>([^<]*)</td>", text)
print("total:", total.group(1) if total else "?", f"({len(units)} units)")
for u in sorted(units, key=lambda u: -u["duration"])[:8]:
    target = u.get("target", "").strip() or "(lib)"
    print(f'  {u["duration"]:7.1f} s  {u["name"]} {u["version"]}{target and " " + target}')
PY
	done
fi

if [[ ${BLOAT:-} == 1 ]]; then
	for app in $apps; do
		echo "== cargo bloat --release --crates -n 15, $app"
		(cd "$root/compare/service/$app" &&
			CARGO_TARGET_DIR=$work/target-$app cargo bloat --release --frozen \
				--features "$features" --crates -n 15 2>/dev/null)
	done
fi

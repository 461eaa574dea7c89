#!/usr/bin/env bash
# Three ways to initialise tracing export in the same tiny program, measured
# side by side in one run (the apps are in compare/init/):
#   hand        opentelemetry-otlp (gRPC/tonic) + batch processor + resource +
#               tracing-opentelemetry layer, as the opentelemetry-rust examples do
#   itotel      init-tracing-opentelemetry, TracingConfig::production().init_subscriber()
#   buildtrace  buildtrace::init()
#   none        the same program without telemetry: the process-start baseline
# Each app prints init_returned_ms (wall clock from LAUNCH_NS, read here right
# before the spawn, to the return of its init call), init_call_ms (the call
# alone) and drop_ms (guard drop / provider shutdown); this script adds
# total_ms (spawn to exit, as seen from here).
#
# Collector conditions, all on 127.0.0.1, OTLP/gRPC:
#   up           the real Collector + Jaeger (scripts/pipeline/pipeline.sh);
#                afterwards Jaeger is asked how many "work" spans it received
#   refused      a port where nothing listens (checked)
#   black-holed  a listener that accepts connections and never answers
#
# Usage: scripts/compare-init.sh
# Environment: RUNS (default 10) runs per app and condition, in rounds that
#   each start with the next app;
#   APP_TIMEOUT (seconds, default 60) per run, after which a run counts as
#   hung; APPS, CONDITIONS (space-separated subsets); CARGO_BUILD_JOBS;
#   KEEP=1 keeps the per-run logs (path printed at the end).
# Needs: cargo, python3 (the black-hole listener), curl (the Jaeger check), timeout.
# Builds release binaries into target/compare; stops everything it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-10}
app_timeout=${APP_TIMEOUT:-60}
read -r -a apps <<<"${APPS:-none hand itotel buildtrace}"
read -r -a conditions <<<"${CONDITIONS:-up refused black-holed}"
export CARGO_TARGET_DIR=$root/target/compare
bin_dir=$CARGO_TARGET_DIR/release

work=$(mktemp -d "${TMPDIR:-/tmp}/compare-init.XXXXXX")
pipeline_dir=$work/pipeline
pipeline_started=
blackhole_pid=
cleanup() {
	if [[ -n $blackhole_pid ]]; then
		kill "$blackhole_pid" 2>/dev/null || true
		wait "$blackhole_pid" 2>/dev/null || true
	fi
	if [[ -n $pipeline_started ]]; then
		"$root/scripts/pipeline/pipeline.sh" stop "$pipeline_dir" >/dev/null || true
	fi
	if [[ ${KEEP:-} == 1 ]]; then
		echo "logs kept in $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The apps read only what each condition sets.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(OTEL_|RUST_LOG$)' || true)

# --- build -------------------------------------------------------------------------

for app in "${apps[@]}"; do
	(cd "$root/compare/init/$app" && cargo build --release --locked --quiet)
done

echo "## Versions (from compare/init/*/Cargo.lock)"
for app in "${apps[@]}"; do
	[[ $app == none ]] && continue
	printf '%-10s ' "$app"
	awk '/^name = / { n = $3 } /^version = / && n != "" {
	       gsub(/"/, "", n); v = $3; gsub(/"/, "", v)
	       if (n ~ /^(opentelemetry|opentelemetry_sdk|opentelemetry-otlp|tracing-opentelemetry|init-tracing-opentelemetry|tonic|tokio|tracing-subscriber|reqwest)$/)
	         printf "%s %s, ", n, v
	       n = "" }' "$root/compare/init/$app/Cargo.lock" | sed 's/, $//'
	echo
done
echo "machine: $(nproc) CPUs, $(uname -sr), $(rustc --version)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# --- collector conditions ----------------------------------------------------------

# A loopback port nothing listens on: bound by the kernel, then released.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

connects() { # PORT: true if a TCP connection to it succeeds
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_blackhole() { # sets blackhole_pid and endpoint
	local portfile=$work/blackhole.port i
	# Accepts every connection and keeps it open without reading or writing,
	# so clients wait for an answer that never comes.
	python3 -c '
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1024)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    held.append(s.accept()[0])
' "$portfile" >"$work/blackhole.log" 2>&1 &
	blackhole_pid=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $portfile ]] && break
		sleep 0.1
	done
	[[ -s $portfile ]] || { echo "the black-hole listener did not start: $(cat "$work/blackhole.log")" >&2; exit 1; }
	endpoint=http://127.0.0.1:$(cat "$portfile")
	connects "${endpoint##*:}" || { echo "the black-hole listener does not accept" >&2; exit 1; }
}

set_endpoint() { # CONDITION -> sets endpoint=http://127.0.0.1:PORT
	local port
	case $1 in
	up)
		pipeline_started=1
		"$root/scripts/pipeline/pipeline.sh" start "$pipeline_dir" >"$work/pipeline-start.log" 2>&1 ||
			{ cat "$work/pipeline-start.log" >&2; exit 1; }
		# shellcheck source=/dev/null
		endpoint=$(. "$pipeline_dir/pipeline.env"; echo "$PIPELINE_OTLP_GRPC_ENDPOINT")
		;;
	refused)
		port=$(free_port)
		if connects "$port"; then echo "port $port unexpectedly accepts connections" >&2; exit 1; fi
		endpoint=http://127.0.0.1:$port
		;;
	black-holed) start_blackhole ;;
	*) echo "unknown condition: $1" >&2; exit 2 ;;
	esac
}

# Microseconds since the epoch, without forking (locale-proof).
now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }

results=$work/results.tsv # condition app run status init_returned init_call drop total
: >"$results"

run_one() { # CONDITION APP RUN ENDPOINT
	local log=$work/logs/$1.$2.$3 start end rc status
	mkdir -p "$work/logs"
	start=$(now_us)
	set +e
	LAUNCH_NS=${start}000 OTEL_EXPORTER_OTLP_ENDPOINT=$4 OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
		OTEL_SERVICE_NAME=compare-init-$2 \
		timeout -k 5 "$app_timeout" "$bin_dir/compare-init-$2" >"$log.out" 2>"$log.err"
	rc=$?
	set -e
	end=$(now_us)
	case $rc in
	0) status=ok ;;
	124 | 137) status=timeout ;;
	*) status=exit$rc ;;
	esac
	awk -v c="$1" -v a="$2" -v r="$3" -v s="$status" -v t="$(((end - start) / 1000)).$(printf '%03d' $(((end - start) % 1000)))" '
		/^compare-init: / { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
		function g(k) { return (k in v) ? v[k] : "-" }
		END { printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c, a, r, s, g("init_returned_ms"), g("init_call_ms"), g("drop_ms"), t }
	' "$log.err" >>"$results"
	if [[ $status != ok ]]; then
		echo "  $1 $2 run $3: $status after $(tail -n1 "$results" | cut -f8) ms; stderr: $(grep -v '^compare-init: ' "$log.err" | tail -n 3 | tr '\n' ' ')" >&2
	fi
}

# How many "work" spans of SERVICE Jaeger holds (polls until the count stops
# growing, at most 15 s: the Collector batches before it forwards).
jaeger_work_spans() {
	local url n last=-1 i
	# shellcheck source=/dev/null
	url=$(. "$pipeline_dir/pipeline.env"; echo "$JAEGER_QUERY_URL")
	for ((i = 0; i < 15; i++)); do
		n=$(curl -fsS "$url/api/traces?service=$1&lookback=1h&limit=10000" 2>/dev/null |
			grep -o '"operationName":"work"' | wc -l) || n=0
		[[ $n -eq $last && $n -gt 0 ]] && break
		last=$n
		sleep 1
	done
	echo "$n"
}

declare -A received=()
for condition in "${conditions[@]}"; do
	set_endpoint "$condition"
	echo "condition $condition: $endpoint, $runs rounds of ${apps[*]} (each round starts with the next app)" >&2
	# Each round starts with the next app, so no app always follows the same
	# one (an app that just waited 10 s for a black hole leaves the CPUs to
	# whatever else runs here, and the next app pays for it).
	for ((run = 1; run <= runs; run++)); do
		for ((k = 0; k < ${#apps[@]}; k++)); do
			app=${apps[(run - 1 + k) % ${#apps[@]}]}
			run_one "$condition" "$app" "$run" "$endpoint"
		done
	done
	case $condition in
	up)
		for app in "${apps[@]}"; do
			[[ $app == none ]] && continue
			received[$app]=$(jaeger_work_spans "compare-init-$app")
		done
		"$root/scripts/pipeline/pipeline.sh" stop "$pipeline_dir" >/dev/null
		pipeline_started=
		;;
	black-holed)
		kill "$blackhole_pid" 2>/dev/null || true
		wait "$blackhole_pid" 2>/dev/null || true
		blackhole_pid=
		;;
	esac
done

# --- report ------------------------------------------------------------------------

# COLUMN (5 init_returned, 6 init_call, 7 drop, 8 total) of CONDITION/APP's
# runs that printed it (total: runs that exited 0) -> "median min max", or "- - -".
stats() {
	awk -F'\t' -v c="$1" -v a="$2" -v k="$3" '$1 == c && $2 == a && $k != "-" && (k != 8 || $4 == "ok") { print $k }' "$results" |
		sort -g | awk '{ x[NR] = $1 } END {
			if (NR == 0) { print "- - -"; exit }
			m = (NR % 2) ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2
			printf "%.3f %.3f %.3f\n", m, x[1], x[NR] }'
}

fmt_ms() { # median min max -> "12.3 (10.1–15.2)"
	[[ $1 == - ]] && { echo "—"; return; }
	awk -v m="$1" -v lo="$2" -v hi="$3" 'function f(x) { return x < 10 ? sprintf("%.2f", x) : sprintf("%.1f", x) }
		BEGIN { printf "%s (%s–%s)", f(m), f(lo), f(hi) }'
}

ratio() { # median, hand's median -> "1.23×", or "1/1 960" when far below 1
	[[ $1 == - || $2 == - ]] && { echo "—"; return; }
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (b <= 0) { print "—"; exit }
		r = a / b
		if (r >= 0.1 || r == 0) { printf "%.2f×\n", r; exit }
		n = sprintf("%d", b / a + 0.5)
		if (length(n) > 3) n = substr(n, 1, length(n) - 3) " " substr(n, length(n) - 2)
		printf "1/%s\n", n }'
}

outcomes() { # CONDITION APP -> "10/10" or "7/10, 3 timeout"
	awk -F'\t' -v c="$1" -v a="$2" '$1 == c && $2 == a { n++; s[$4]++ }
		END { out = sprintf("%d/%d", s["ok"] + 0, n); for (k in s) if (k != "ok") out = out sprintf(", %d %s", s[k], k); print out }' "$results"
}

echo "## Results: median (min–max) in ms over the runs that printed the value (total_ms: runs that exited 0); ratios are medians against hand"
echo
echo "| collector | app | ok | init_returned_ms | × hand | init_call_ms | × hand | drop_ms | × hand | total_ms (spawn to exit) | × hand |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for condition in "${conditions[@]}"; do
	declare -A hand_median=()
	for col in 5 6 7 8; do
		read -r m _ _ < <(stats "$condition" hand "$col")
		hand_median[$col]=$m
	done
	for app in "${apps[@]}"; do
		row="| $condition | $app | $(outcomes "$condition" "$app")"
		for col in 5 6 7 8; do
			if [[ $app == none && ($col == 6 || $col == 7) ]]; then
				row+=" | — | —" # no init call, nothing to drop
				continue
			fi
			read -r m lo hi < <(stats "$condition" "$app" "$col")
			row+=" | $(fmt_ms "$m" "$lo" "$hi") | $(ratio "$m" "${hand_median[$col]}")"
		done
		echo "$row |"
	done
	unset hand_median
done
if [[ ${#received[@]} -gt 0 ]]; then
	echo
	echo -n "\"work\" spans found in Jaeger after the up runs (expected $runs each):"
	for app in "${apps[@]}"; do
		[[ -n ${received[$app]:-} ]] && echo -n " $app ${received[$app]};"
	done
	echo
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

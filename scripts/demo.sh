#!/usr/bin/env bash
# The buildtrace demo, end to end on this machine: a program that embeds its
# build provenance sends its startup span through the real OpenTelemetry
# Collector to Jaeger, and `buildtrace` follows the trace back to the exact
# build that emitted it.
#
# Usage: scripts/demo.sh [--keep]
#   --keep  leave the Collector and Jaeger running afterwards, to browse the
#           traces (kept on disk by Jaeger's Badger store, so they survive a
#           restart of Jaeger); the script prints the query URL and the stop
#           and restart commands.
# Needs Rust, git, curl and Go. The first run builds the Collector and Jaeger
# from source (about 10 minutes on 2 cores); later runs reuse that build.
set -euo pipefail

# The header comment above is the help text.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

keep=0
case "${1:-}" in
'') ;;
--keep)
	keep=1
	# Kept runs store traces on disk: they survive pipeline.sh restart-jaeger.
	export PIPELINE_JAEGER_STORAGE=${PIPELINE_JAEGER_STORAGE:-badger}
	;;
-h | --help)
	usage
	exit 0
	;;
*)
	echo "demo.sh: unknown argument: $1 (try --help)" >&2
	exit 2
	;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
pipeline=scripts/pipeline
exe=target/debug/examples/quickstart

step() { printf '\n==> %s\n' "$*"; }
buildtrace() { cargo run --quiet --all-features --bin buildtrace -- "$@"; }

# The demo must reach its own pipeline: an OTEL_* variable from the caller's
# shell (another endpoint, a service name, a disabled SDK) would send the
# quickstart's traces elsewhere or under another name.
unset "${!OTEL_@}"

step "Checking for Go and building the OpenTelemetry Collector and Jaeger (cached after the first run)"
command -v curl >/dev/null 2>&1 || {
	echo "demo.sh: curl is required (the pipeline scripts poll the services with it): apt-get install curl" >&2
	exit 1
}
# setup.sh checks for Go first and says exactly what to install.
if ! "$pipeline/setup.sh"; then
	echo "demo.sh: the pipeline could not be built; fix the above, then run scripts/demo.sh again" >&2
	exit 1
fi

# Compiled before the pipeline starts, so compile errors surface first and the
# 10-second wait below measures delivery, not compilation.
step "Building the quickstart example and the buildtrace CLI"
cargo build --quiet --all-features --example quickstart --bin buildtrace

step "Starting the Collector and Jaeger on free loopback ports"
state=$(mktemp -d "${TMPDIR:-/tmp}/buildtrace-demo.XXXXXX")
finish() {
	local rc=$?
	if ((keep)) && [[ -f $state/pipeline.env ]]; then
		echo
		echo "The pipeline keeps running (--keep). Jaeger's query API: ${JAEGER_QUERY_URL:-?}"
		echo "Stop it with: $PWD/$pipeline/pipeline.sh stop $state && rm -rf $state"
		echo "Restart Jaeger alone (traces kept on disk): $PWD/$pipeline/pipeline.sh restart-jaeger $state"
		return
	fi
	"$pipeline/pipeline.sh" stop "$state" >/dev/null 2>&1 || true
	if ((rc == 0)); then
		rm -rf "$state"
		echo "pipeline stopped"
	else
		echo "demo.sh: failed; pipeline stopped, logs kept in $state" >&2
	fi
}
trap finish EXIT
# Without these, a signal would end bash before the EXIT trap stops the pipeline.
trap 'exit 130' INT
trap 'exit 143' TERM
"$pipeline/pipeline.sh" start "$state" >"$state/start.log"
# shellcheck source=/dev/null
. "$state/pipeline.env"
echo "Collector: OTLP/gRPC at $PIPELINE_OTLP_GRPC_ENDPOINT; Jaeger: query API at $JAEGER_QUERY_URL"

step "Running the quickstart, exporting to the Collector over OTLP/gRPC"
# The built file itself, not `cargo run`: on Unix cargo exec()s into the
# program, so the startup span (which starts when the OS says the process
# did) would count cargo's own start and freshness check as the program's.
OTEL_EXPORTER_OTLP_ENDPOINT=$PIPELINE_OTLP_GRPC_ENDPOINT OTEL_EXPORTER_OTLP_PROTOCOL=grpc "$exe"

step "buildtrace traces $exe --jaeger $JAEGER_QUERY_URL"
# The Collector batches before it forwards to Jaeger: poll until the startup
# trace is in, for at most 10 s. Exit 1 means "not yet"; anything else is an error.
deadline=$((SECONDS + 10))
trace_id=
until [[ -n $trace_id ]]; do
	rc=0
	listing=$(buildtrace traces "$exe" --jaeger "$JAEGER_QUERY_URL" 2>"$state/traces.err") || rc=$?
	if ((rc == 0)); then
		trace_id=$(awk '$3 == "startup" { print $1; exit }' <<<"$listing")
	elif ((rc != 1)); then
		cat "$state/traces.err" >&2
		exit 1
	fi
	if [[ -z $trace_id ]] && ((SECONDS >= deadline)); then
		cat "$state/traces.err" >&2
		echo "demo.sh: the quickstart's startup trace did not reach Jaeger within 10 s" >&2
		exit 1
	fi
	[[ -n $trace_id ]] || sleep 0.2
done
printf '%s\n' "$listing"

step "buildtrace lookup $trace_id --jaeger $JAEGER_QUERY_URL"
buildtrace lookup "$trace_id" --jaeger "$JAEGER_QUERY_URL"

echo
echo "The trace in Jaeger: $JAEGER_QUERY_URL/trace/$trace_id"
echo "  This locally built Jaeger serves no UI; its API has the trace: $JAEGER_QUERY_URL/api/traces/$trace_id"
echo "  For Jaeger's UI, run the same pipeline with Docker: docker compose up (docker-compose.yaml)."
if ((!keep)); then
	echo "  Run scripts/demo.sh --keep to leave the pipeline running and browse it."
fi

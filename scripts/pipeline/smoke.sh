#!/usr/bin/env bash
# End-to-end check of the local pipeline, for CI and for a person: start
# Jaeger v2 and the Collector (building them first if needed), send ONE trace
# as OTLP/JSON to the Collector's OTLP/HTTP endpoint, find it through Jaeger's
# query API, stop both. Exits non-zero on any failure and then keeps the state
# directory (logs) for a look.
#
# Usage: smoke.sh   (PIPELINE_SMOKE_TIMEOUT: seconds to wait for the trace, default 30)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
service=pipeline-smoke
timeout=${PIPELINE_SMOKE_TIMEOUT:-30}

dir=$(mktemp -d "${TMPDIR:-/tmp}/buildtrace-smoke.XXXXXX")
passed=0
finish() {
	"$here/pipeline.sh" stop "$dir" >/dev/null 2>&1 || true
	if ((passed)); then
		rm -rf "$dir"
		echo "smoke: 1 passed, 0 failed"
	else
		echo "logs kept in $dir" >&2
		echo "smoke: 0 passed, 1 failed"
	fi
}
trap finish EXIT

"$here/pipeline.sh" start "$dir"
set -a
# shellcheck source=/dev/null
. "$dir/pipeline.env"
set +a

# Random IDs, so the check can't be fooled by another run's trace.
trace_id=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
span_id=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
end_ns=$(date +%s%N)
start_ns=$((end_ns - 25000000))
payload=$(
	cat <<EOF
{"resourceSpans":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"$service"}}]},
 "scopeSpans":[{"scope":{"name":"buildtrace-smoke"},"spans":[{
  "traceId":"$trace_id","spanId":"$span_id","name":"smoke-span","kind":1,
  "startTimeUnixNano":"$start_ns","endTimeUnixNano":"$end_ns",
  "attributes":[{"key":"smoke.run","value":{"stringValue":"$dir"}}]}]}]}]}
EOF
)
echo "sending trace $trace_id to $PIPELINE_OTLP_HTTP_ENDPOINT/v1/traces"
curl -fsS -m 10 -H 'Content-Type: application/json' --data "$payload" \
	"$PIPELINE_OTLP_HTTP_ENDPOINT/v1/traces" >/dev/null

# The span crosses two batch processors (200 ms each) and a gRPC hop: poll.
url="$JAEGER_QUERY_URL/api/traces?service=$service&lookback=1h&limit=20"
deadline=$((SECONDS + timeout))
until curl -fsS -m 5 "$url" 2>/dev/null | grep -Eq "\"traceID\": ?\"$trace_id\""; do
	if ((SECONDS >= deadline)); then
		echo "trace $trace_id not in $url after ${timeout}s" >&2
		exit 1
	fi
	sleep 0.2
done
echo "found trace $trace_id in Jaeger: $url"
passed=1

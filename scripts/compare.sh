#!/usr/bin/env bash
# buildtrace against the alternatives, side by side, in one run: four builds
# of the same small tokio service (compare/service/), measured on this
# machine against the real OpenTelemetry Collector and Jaeger on loopback:
#   (a) none        no telemetry
#   (b) hand        opentelemetry-otlp + tracing-opentelemetry wired by hand, vergen
#   (c) itotel      init-tracing-opentelemetry + opentelemetry-resource-detectors
#   (d) buildtrace  buildtrace::startup! + buildtrace::init()
# compare/harness builds them (clean, timed), checks whether a no-op rebuild
# reruns a build script, measures stripped size, startup event cost, launch ->
# telemetry ready, launch -> first span stored in Jaeger, peak RSS, shutdown
# with the collector up / refused / black-holed, and checks the provenance each
# build exports against git, $RUSTC -vV and cargo metadata. It writes
# report.md, results.json and SVG plots, and exits non-zero when anything is
# wrong (a run fails, a build's spans miss Jaeger, buildtrace's provenance or
# startup events are wrong, buildtrace's no-op rebuild reruns a build script).
#
# Usage: scripts/compare.sh [--smoke]
#   full run   RUNS=10 runs per build and condition, BUILD_RUNS=1 clean build
#              each, all three conditions; results in compare/results/
#              (about 10 minutes on 2 quiet cores, most of it the clean builds)
#   --smoke    RUNS=2, conditions up and refused, the builds reuse
#              target/compare/*, results in a temporary directory
#              (under a minute with warm target directories)
# Environment: RUNS, BUILD_RUNS (0 = reuse target/compare/*, untimed),
#   CONDITIONS ("up refused black-holed"), APPS ("none hand itotel buildtrace"),
#   EVENT_BATCHES (batches of 256 startup events per bench process),
#   APP_TIMEOUT (seconds per run, default 60), OUT (results directory),
#   KEEP=1 keeps the per-run logs (path printed at the end).
# Needs: cargo, git, strip (binutils), openssl, and the Collector and Jaeger
#   from scripts/pipeline/setup.sh (built on first use, then cached). With the
#   collector up, it speaks TLS (a CA made here, trusted through SSL_CERT_FILE).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

smoke=
case ${1:-} in
"") ;;
--smoke) smoke=1 ;;
-h | --help) usage; exit 0 ;;
*) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
esac

if [[ -n $smoke ]]; then
	runs=${RUNS:-2}
	build_runs=${BUILD_RUNS:-0}
	conditions=${CONDITIONS:-up refused}
	event_batches=${EVENT_BATCHES:-50}
else
	runs=${RUNS:-10}
	build_runs=${BUILD_RUNS:-1}
	conditions=${CONDITIONS:-up refused black-holed}
	event_batches=${EVENT_BATCHES:-400}
fi
apps=${APPS:-none hand itotel buildtrace}

for tool in cargo git strip openssl; do
	command -v "$tool" >/dev/null || { echo "compare.sh needs $tool" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/compare.XXXXXX")
if [[ -n $smoke ]]; then out=${OUT:-$work/results}; else out=${OUT:-$root/compare/results}; fi
pipeline_dir=$work/pipeline
pipeline_started=
cleanup() {
	if [[ -n $pipeline_started ]]; then
		"$root/scripts/pipeline/pipeline.sh" stop "$pipeline_dir" >/dev/null || true
	fi
	if [[ ${KEEP:-} == 1 ]]; then
		echo "logs kept in $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The services read only what the harness sets.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(OTEL_|RUST_LOG$)' || true)

echo "== the Collector and Jaeger (built once, then cached)" >&2
"$root/scripts/pipeline/setup.sh" >&2
# shellcheck source=pipeline/env.sh
. "$root/scripts/pipeline/env.sh"
export OTELCOL_BIN JAEGER_BIN

echo "== the harness" >&2
(cd "$root/compare/harness" && CARGO_TARGET_DIR=$root/target/compare/harness cargo build --release --locked --quiet)
harness=$root/target/compare/harness/release/compare-harness

pipeline_args=()
if [[ " $conditions " == *" up "* ]]; then
	# The collector speaks TLS, as production ones do: a CA and a certificate
	# for localhost made here; every service trusts the CA through
	# SSL_CERT_FILE, which the system-root loaders of all three honour.
	echo "== a CA and a server certificate for the TLS collector (openssl)" >&2
	tls=$work/tls
	mkdir -p "$tls"
	{
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj "/CN=buildtrace comparison CA" -keyout "$tls/ca-key.pem" -out "$tls/ca.pem" &&
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-subj "/CN=localhost" -keyout "$tls/server-key.pem" -out "$tls/server.csr" &&
			printf 'subjectAltName=DNS:localhost\n' >"$tls/san.ext" &&
			openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" \
				-CAcreateserial -days 2 -extfile "$tls/san.ext" -out "$tls/server.pem"
	} >"$work/openssl.log" 2>&1 || { cat "$work/openssl.log" >&2; exit 1; }
	export SSL_CERT_FILE=$tls/ca.pem COMPARE_TLS_CERT=$tls/server.pem COMPARE_TLS_KEY=$tls/server-key.pem
	echo "== starting the Collector (TLS) and Jaeger on loopback" >&2
	pipeline_started=1
	PIPELINE_EXTRA_CONFIG=$root/compare/collector-tls.yaml \
		"$root/scripts/pipeline/pipeline.sh" start "$pipeline_dir" >"$work/pipeline-start.log" 2>&1 ||
		{ cat "$work/pipeline-start.log" >&2; exit 1; }
	# The services reach it as https://localhost:PORT (the certificate's name).
	sed 's|^PIPELINE_OTLP_GRPC_ENDPOINT=http://127\.0\.0\.1:|PIPELINE_OTLP_GRPC_ENDPOINT=https://localhost:|' \
		"$pipeline_dir/pipeline.env" >"$work/pipeline-tls.env"
	pipeline_args=(--pipeline-env "$work/pipeline-tls.env")
fi

if [[ -n $smoke ]]; then
	command="scripts/compare.sh --smoke"
else
	command="scripts/compare.sh"
fi
[[ -n ${RUNS:-} ]] && command="RUNS=$RUNS $command"
[[ -n ${BUILD_RUNS:-} ]] && command="BUILD_RUNS=$BUILD_RUNS $command"

mkdir -p "$out"
started=$SECONDS
set +e
"$harness" --root "$root" --out "$out" --logs "$work/logs" \
	--runs "$runs" --build-runs "$build_runs" --event-batches "$event_batches" \
	--conditions "${conditions// /,}" --apps "${apps// /,}" \
	--timeout "${APP_TIMEOUT:-60}" --command "$command" \
	${smoke:+--smoke} "${pipeline_args[@]}" >"$work/report.out"
rc=$?
set -e
if [[ -n $smoke ]]; then
	cat "$work/report.out"
fi
echo "compare.sh: harness finished in $((SECONDS - started)) s with exit code $rc; results in $out" >&2
exit "$rc"

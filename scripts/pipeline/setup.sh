#!/usr/bin/env bash
# Builds, once per version set, the real OpenTelemetry Collector (with the
# official builder, ocb, from builder-config.yaml), Jaeger v2, and the gateway
# Collector with tail sampling (ocb, builder-config-gateway.yaml), from the Go
# module proxy, into a cache outside the clone:
#   ${BUILDTRACE_TOOLS_DIR:-${XDG_CACHE_HOME:-~/.cache}/buildtrace/tools}/<key>/bin
#   ${BUILDTRACE_TOOLS_DIR:-${XDG_CACHE_HOME:-~/.cache}/buildtrace/tools}/gateway-<key>/bin
# A second run with the same keys only prints "cached: ...".
#
# Usage: setup.sh                 build if needed, print the three binary paths
#        setup.sh --print-paths   print OTELCOL_BIN=..., JAEGER_BIN=... and
#                                 OTELCOL_GATEWAY_BIN=... (no build)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The header comment above is the help text.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

case "${1:-}" in
'') mode=build ;;
--print-paths) mode=print ;;
-h | --help)
	usage
	exit 0
	;;
*) bt_die "unknown argument: $1 (try --help)" ;;
esac

bt_require_go
pipeline_resolve_paths

if [[ $mode == print ]]; then
	pipeline_is_built || bt_die "not built yet: run $PIPELINE_HERE/setup.sh"
	printf 'OTELCOL_BIN=%q\nJAEGER_BIN=%q\nOTELCOL_GATEWAY_BIN=%q\n' "$OTELCOL_BIN" "$JAEGER_BIN" "$OTELCOL_GATEWAY_BIN"
	exit 0
fi

if pipeline_is_built; then
	printf 'cached: %s\n' "$OTELCOL_BIN" "$JAEGER_BIN" "$OTELCOL_GATEWAY_BIN"
	exit 0
fi

mkdir -p "$PIPELINE_TOOLS_DIR"
# Go's caches under the tools dir (scripts/lib.sh).
bt_go_env

# --- the 0.165 Collector and Jaeger, into $PIPELINE_KEY_DIR --------------------
build_main() {
	local build=$PIPELINE_KEY_DIR/build logs=$PIPELINE_KEY_DIR/logs start=$SECONDS jdir jgomod comps c
	rm -rf "${build:?}" "${PIPELINE_KEY_DIR:?}/bin"
	mkdir -p "$build/gobin" "$logs" "$PIPELINE_KEY_DIR/bin"
	export GOBIN=$build/gobin
	echo "Building the OpenTelemetry Collector and Jaeger into $PIPELINE_KEY_DIR"
	echo "(about 10 minutes from scratch on 2 cores, most of it compiling Jaeger; later runs hit the cache)"

	# --- OpenTelemetry Collector -------------------------------------------------
	# The steps run in subshells, in an `||` context where set -e is off: chain with &&.
	#
	# `go mod tidy` (run by ocb) also loads the tests of every component, and
	# fileexporter's tests import otlpencodingextension, whose module zip the proxy
	# reachable here refuses (403). -e lets tidy record what it can; the collector
	# itself never imports that module, so the build is unaffected.
	ocb_generate() (
		cd "$build" &&
			GOFLAGS="$GOFLAGS -e" "$GOBIN/builder" --config "$PIPELINE_HERE/builder-config.yaml" \
				--skip-compilation --verbose
	)
	# Same flags as ocb's own compile step; run by us so `-v` streams progress
	# (ocb buffers the go command's output until it ends).
	otelcol_build() (
		cd "$build/otelcol-src" &&
			go build -v -trimpath -ldflags="-s -w" -o "$OTELCOL_BIN.tmp" .
	)
	bt_step "install ocb (go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION)" "$logs/1-ocb-install.log" \
		go install -v "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION"
	bt_step "generate the collector's sources and resolve its modules (ocb)" "$logs/2-ocb-generate.log" ocb_generate
	bt_step "compile the collector" "$logs/3-otelcol-build.log" otelcol_build

	# --- Jaeger v2 ---------------------------------------------------------------
	# `go install module@version` refuses modules whose go.mod has replace
	# directives (v1.76.0 has one), so build from a throwaway main module that
	# requires Jaeger and copies its non-local replace directives.
	jdir=$build/jaeger
	mkdir -p "$jdir"
	bt_step "download $JAEGER_MODULE@$JAEGER_REF" "$logs/4-jaeger-download.log" \
		go mod download -json "$JAEGER_MODULE@$JAEGER_REF"
	jgomod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' "$logs/4-jaeger-download.log")
	[[ -f $jgomod ]] || bt_die "no go.mod found for $JAEGER_MODULE@$JAEGER_REF (log: $logs/4-jaeger-download.log)"
	{
		echo "module buildtrace.local/jaeger-build"
		grep -m1 '^go ' "$jgomod"
		awk '/^replace[[:space:]]*\(/ { b = 1; next }
		     b && /^\)/ { b = 0; next }
		     b { print "replace " $0; next }
		     /^replace / { print }' "$jgomod" | grep -v '=>[[:space:]]*\.' || true
	} >"$jdir/go.mod"
	jaeger_get() (
		cd "$jdir" &&
			go get -v "$JAEGER_MODULE/cmd/jaeger@$JAEGER_REF"
	)
	jaeger_build() (
		cd "$jdir" &&
			go build -v -trimpath -o "$JAEGER_BIN.tmp" \
				-ldflags="-s -w -X $JAEGER_MODULE/internal/version.latestVersion=$JAEGER_RELEASE" \
				"$JAEGER_MODULE/cmd/jaeger"
	)
	bt_step "resolve Jaeger's dependencies" "$logs/5-jaeger-get.log" jaeger_get
	bt_step "compile jaeger ($JAEGER_RELEASE)" "$logs/6-jaeger-build.log" jaeger_build

	# --- check and publish -------------------------------------------------------
	# The components we rely on must really be in the binary.
	comps=$("$OTELCOL_BIN.tmp" components)
	for c in otlp otlp_grpc debug file memory_limiter batch health_check; do
		grep -q -- "name: $c\$" <<<"$comps" || bt_die "the built collector lacks component '$c'"
	done
	"$JAEGER_BIN.tmp" version >/dev/null 2>&1 || bt_die "the built jaeger does not run"

	mv "$OTELCOL_BIN.tmp" "$OTELCOL_BIN"
	mv "$JAEGER_BIN.tmp" "$JAEGER_BIN"
	rm -rf "$build"
	printf 'ocb=%s\njaeger=%s@%s (%s)\ngo=%s\nbuilt=%s\nseconds=%s\n' \
		"$OCB_VERSION" "$JAEGER_MODULE" "$JAEGER_REF" "$JAEGER_RELEASE" "$(cd / && go env GOVERSION)" \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - start))" >"$PIPELINE_KEY_DIR/.complete"

	echo "Built in $(bt_fmt_secs $((SECONDS - start))):"
	printf '  OTELCOL_BIN=%s\n  JAEGER_BIN=%s\n' "$OTELCOL_BIN" "$JAEGER_BIN"
}

# --- the gateway Collector (0.161, tail sampling), into $PIPELINE_GATEWAY_KEY_DIR
build_gateway() {
	local build=$PIPELINE_GATEWAY_KEY_DIR/build logs=$PIPELINE_GATEWAY_KEY_DIR/logs start=$SECONDS comps c
	rm -rf "${build:?}" "${PIPELINE_GATEWAY_KEY_DIR:?}/bin"
	mkdir -p "$build/gobin" "$logs" "$PIPELINE_GATEWAY_KEY_DIR/bin"
	export GOBIN=$build/gobin
	echo "Building the gateway Collector (tail sampling) into $PIPELINE_GATEWAY_KEY_DIR"
	echo "(a few minutes from scratch on 2 cores; most modules are shared with the first Collector)"
	# Same -e as above: tidy also loads the components' tests.
	gateway_generate() (
		cd "$build" &&
			GOFLAGS="$GOFLAGS -e" "$GOBIN/builder" --config "$PIPELINE_HERE/builder-config-gateway.yaml" \
				--skip-compilation --verbose
	)
	gateway_build() (
		cd "$build/otelcol-gateway-src" &&
			go build -v -trimpath -ldflags="-s -w" -o "$OTELCOL_GATEWAY_BIN.tmp" .
	)
	bt_step "install ocb (go.opentelemetry.io/collector/cmd/builder@$OCB_GATEWAY_VERSION)" "$logs/1-ocb-install.log" \
		go install -v "go.opentelemetry.io/collector/cmd/builder@$OCB_GATEWAY_VERSION"
	bt_step "generate the gateway's sources and resolve its modules (ocb)" "$logs/2-ocb-generate.log" gateway_generate
	bt_step "compile the gateway" "$logs/3-otelcol-gateway-build.log" gateway_build

	comps=$("$OTELCOL_GATEWAY_BIN.tmp" components)
	for c in otlp otlp_grpc debug file memory_limiter batch tail_sampling health_check; do
		grep -q -- "name: $c\$" <<<"$comps" || bt_die "the built gateway lacks component '$c'"
	done
	mv "$OTELCOL_GATEWAY_BIN.tmp" "$OTELCOL_GATEWAY_BIN"
	rm -rf "$build"
	printf 'ocb=%s\ngo=%s\nbuilt=%s\nseconds=%s\n' \
		"$OCB_GATEWAY_VERSION" "$(cd / && go env GOVERSION)" \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - start))" >"$PIPELINE_GATEWAY_KEY_DIR/.complete"
	echo "Built in $(bt_fmt_secs $((SECONDS - start))):"
	printf '  OTELCOL_GATEWAY_BIN=%s\n' "$OTELCOL_GATEWAY_BIN"
}

# Each part under its own lock; what another setup.sh built meanwhile is reused.
if pipeline_main_is_built; then
	printf 'cached: %s\n' "$OTELCOL_BIN" "$JAEGER_BIN"
elif bt_lock "$PIPELINE_KEY_DIR" 9 pipeline_main_is_built; then
	build_main
else
	printf 'cached: %s\n' "$OTELCOL_BIN" "$JAEGER_BIN"
fi
if pipeline_gateway_is_built; then
	printf 'cached: %s\n' "$OTELCOL_GATEWAY_BIN"
elif bt_lock "$PIPELINE_GATEWAY_KEY_DIR" 8 pipeline_gateway_is_built; then
	build_gateway
else
	printf 'cached: %s\n' "$OTELCOL_GATEWAY_BIN"
fi

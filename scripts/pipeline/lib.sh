# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source this
# Sourced by the pipeline scripts: the pinned versions, where the built
# binaries are cached, and the cache key that names them.

PIPELINE_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PIPELINE_REPO=$(cd "$PIPELINE_HERE/../.." && pwd)

# The builder is released with the core components: keep it equal to the core
# version in builder-config.yaml, or ocb's strict versioning check complains.
OCB_VERSION=v0.165.0
# The gateway Collector (builder-config-gateway.yaml) is a second binary at
# the 0.161 release, the newest whose tail sampling processor the module proxy
# serves whole (see that file); same rule: ocb of the manifest's core release.
OCB_GATEWAY_VERSION=v0.161.0
# Jaeger v2 lives in the v1 module path; its v2.x tags are unusable by Go. The
# module proxy reachable here serves tagged versions only (commit and
# pseudo-version queries answer 403), so we pin the last v1 tag, v1.76.0, the
# very commit tagged v2.13.0. PIPELINE_JAEGER_REF=798e4b0fcf22 (v2.20.0) works
# where the proxy serves commits.
JAEGER_MODULE=github.com/jaegertracing/jaeger
JAEGER_REF=${PIPELINE_JAEGER_REF:-v1.76.0}
if [[ -n ${PIPELINE_JAEGER_REF:-} ]]; then JAEGER_RELEASE=$JAEGER_REF; else JAEGER_RELEASE=v2.13.0; fi
# Bump when setup.sh changes how it builds, so stale caches are not reused.
PIPELINE_RECIPE=1
# The same, for the gateway's cache directory.
PIPELINE_GATEWAY_RECIPE=1

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$PIPELINE_HERE/../lib.sh"
PIPELINE_TOOLS_DIR=$BT_TOOLS

# Sets PIPELINE_KEY, PIPELINE_KEY_DIR, OTELCOL_BIN, JAEGER_BIN, and for the
# gateway PIPELINE_GATEWAY_KEY, PIPELINE_GATEWAY_KEY_DIR, OTELCOL_GATEWAY_BIN.
# A key covers everything that decides its binaries' content: the manifest,
# the versions, the recipe and the Go toolchain. The gateway has a key and a
# directory of its own (gateway-<key>), so adding it left the first key, and
# the cache it names, as they were.
pipeline_resolve_paths() {
	local goinfo
	goinfo=$(bt_go_info)
	PIPELINE_KEY=$(
		{
			printf 'recipe=%s ocb=%s jaeger=%s@%s go=%s\n' \
				"$PIPELINE_RECIPE" "$OCB_VERSION" "$JAEGER_MODULE" "$JAEGER_REF" "$goinfo"
			cat "$PIPELINE_HERE/builder-config.yaml"
		} | sha256sum | cut -c1-12
	)
	PIPELINE_KEY_DIR=$PIPELINE_TOOLS_DIR/$PIPELINE_KEY
	OTELCOL_BIN=$PIPELINE_KEY_DIR/bin/otelcol-buildtrace
	JAEGER_BIN=$PIPELINE_KEY_DIR/bin/jaeger
	PIPELINE_GATEWAY_KEY=$(
		{
			printf 'recipe=%s ocb=%s go=%s\n' "$PIPELINE_GATEWAY_RECIPE" "$OCB_GATEWAY_VERSION" "$goinfo"
			cat "$PIPELINE_HERE/builder-config-gateway.yaml"
		} | sha256sum | cut -c1-12
	)
	PIPELINE_GATEWAY_KEY_DIR=$PIPELINE_TOOLS_DIR/gateway-$PIPELINE_GATEWAY_KEY
	OTELCOL_GATEWAY_BIN=$PIPELINE_GATEWAY_KEY_DIR/bin/otelcol-gateway
}

# The 0.165 Collector and Jaeger.
pipeline_main_is_built() {
	[[ -f $PIPELINE_KEY_DIR/.complete && -x $OTELCOL_BIN && -x $JAEGER_BIN ]]
}

pipeline_gateway_is_built() {
	[[ -f $PIPELINE_GATEWAY_KEY_DIR/.complete && -x $OTELCOL_GATEWAY_BIN ]]
}

pipeline_is_built() {
	pipeline_main_is_built && pipeline_gateway_is_built
}

# shellcheck shell=bash
# Source this to get the cached binaries' paths without building:
#   . scripts/pipeline/env.sh   ->   OTELCOL_BIN, JAEGER_BIN, OTELCOL_GATEWAY_BIN (exported)
# Returns non-zero, saying so, if setup.sh has not built this version set yet.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# In a subshell: its `exit` must not end the shell that sources this.
(bt_require_go) || return 1
pipeline_resolve_paths
export OTELCOL_BIN JAEGER_BIN OTELCOL_GATEWAY_BIN
if ! pipeline_is_built; then
	echo "not built yet: run $PIPELINE_HERE/setup.sh" >&2
	return 1
fi

# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source this
# Sourced by the tool scripts: the pinned versions of the verifiers the tests
# use as judges (cosign, cargo-auditable, rust-audit-info), where they are
# cached, and the keys that name the cache directories.

TOOLS_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The real cosign, built from the Go module proxy.
COSIGN_MODULE=github.com/sigstore/cosign/v3
COSIGN_VERSION=${BUILDTRACE_COSIGN_VERSION:-v3.1.3}
# From the crate registry, installed with `cargo install --locked`.
CARGO_AUDITABLE_VERSION=0.7.7
RUST_AUDIT_INFO_VERSION=0.5.4
# Bump when a script changes how it builds, so stale caches are not reused.
TOOLS_RECIPE=1

# The same cache root as the Collector and Jaeger (scripts/pipeline/lib.sh):
# one `rm -rf` removes every tool, and Go's module cache is shared.
TOOLS_DIR=${BUILDTRACE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/buildtrace/tools}

tools_die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

# 75 -> 1m15s
tools_fmt_secs() {
	if (($1 >= 60)); then printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); else printf '%ds' "$1"; fi
}

# Sets COSIGN_KEY_DIR and COSIGN_BIN. The key covers what decides the
# binary: the version, the recipe and the Go toolchain. Needs `go`.
cosign_resolve_paths() {
	local goinfo key
	goinfo=$(cd / && go env GOVERSION GOOS GOARCH | tr '\n' ' ')
	key=$(printf 'recipe=%s cosign=%s@%s go=%s\n' "$TOOLS_RECIPE" "$COSIGN_MODULE" "$COSIGN_VERSION" "$goinfo" |
		sha256sum | cut -c1-12)
	COSIGN_KEY_DIR=$TOOLS_DIR/cosign-$COSIGN_VERSION-$key
	COSIGN_BIN=$COSIGN_KEY_DIR/bin/cosign
}

cosign_is_built() {
	[[ -f $COSIGN_KEY_DIR/.complete && -x $COSIGN_BIN ]]
}

# Sets AUDITABLE_KEY_DIR, CARGO_AUDITABLE_BIN and RUST_AUDIT_INFO_BIN. The key
# covers the two versions, the recipe and the host's rustc.
auditable_resolve_paths() {
	local rustc key
	rustc=$(rustc -vV | tr '\n' ' ')
	key=$(printf 'recipe=%s cargo-auditable=%s rust-audit-info=%s rustc=%s\n' \
		"$TOOLS_RECIPE" "$CARGO_AUDITABLE_VERSION" "$RUST_AUDIT_INFO_VERSION" "$rustc" |
		sha256sum | cut -c1-12)
	AUDITABLE_KEY_DIR=$TOOLS_DIR/auditable-$CARGO_AUDITABLE_VERSION-$key
	CARGO_AUDITABLE_BIN=$AUDITABLE_KEY_DIR/bin/cargo-auditable
	RUST_AUDIT_INFO_BIN=$AUDITABLE_KEY_DIR/bin/rust-audit-info
}

auditable_is_built() {
	[[ -f $AUDITABLE_KEY_DIR/.complete && -x $CARGO_AUDITABLE_BIN && -x $RUST_AUDIT_INFO_BIN ]]
}

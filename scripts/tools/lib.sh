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

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$TOOLS_HERE/../lib.sh"
TOOLS_DIR=$BT_TOOLS

# Sets COSIGN_KEY_DIR and COSIGN_BIN. The key covers what decides the
# binary: the version, the recipe and the Go toolchain. Needs `go`.
cosign_resolve_paths() {
	local goinfo key
	goinfo=$(bt_go_info)
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

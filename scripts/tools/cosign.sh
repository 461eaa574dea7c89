#!/usr/bin/env bash
# Builds, once per version, the real cosign from the Go module proxy
# (github.com/sigstore/cosign/v3/cmd/cosign at a pinned tag) into a cache
# outside the clone:
#   ${BUILDTRACE_TOOLS_DIR:-${XDG_CACHE_HOME:-~/.cache}/buildtrace/tools}/cosign-<version>-<key>/bin/cosign
# A second run with the same key only prints "cached: ...". The tests use it
# as the judge of `buildtrace attest --format bundle`.
#
# Usage: cosign.sh                 build if needed, print the binary's path and version
#        cosign.sh --print-path    print COSIGN_BIN=... (no build; fails if not built)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

case "${1:-}" in
'') mode=build ;;
--print-path) mode=print ;;
-h | --help)
	usage
	exit 0
	;;
*) bt_die "unknown argument: $1 (try --help)" ;;
esac

bt_require_go
cosign_resolve_paths

if [[ $mode == print ]]; then
	cosign_is_built || bt_die "cosign $COSIGN_VERSION is not built yet: run $TOOLS_HERE/cosign.sh"
	printf 'COSIGN_BIN=%q\n' "$COSIGN_BIN"
	exit 0
fi

print_cached() {
	printf 'cached: %s (%s)\n' "$COSIGN_BIN" "$("$COSIGN_BIN" version 2>&1 | awk '/^GitVersion:/ { print $2 }')"
}
if cosign_is_built; then
	print_cached
	exit 0
fi

mkdir -p "$TOOLS_DIR"
if ! bt_lock "$COSIGN_KEY_DIR" 9 cosign_is_built; then
	print_cached
	exit 0
fi

rm -rf "${COSIGN_KEY_DIR:?}"
mkdir -p "$COSIGN_KEY_DIR/bin" "$COSIGN_KEY_DIR/logs"
bt_go_env
export GOBIN=$COSIGN_KEY_DIR/bin

start=$SECONDS
echo "Building cosign $COSIGN_VERSION into $COSIGN_KEY_DIR (a few minutes on 2 cores; later runs hit the cache)"
# cosign's go.mod has no replace directive, so `go install module@version`
# builds exactly the released module graph. -trimpath keeps local paths out.
bt_step "go install $COSIGN_MODULE/cmd/cosign@$COSIGN_VERSION" "$COSIGN_KEY_DIR/logs/go-install.log" \
	go install -v -trimpath -ldflags="-s -w" "$COSIGN_MODULE/cmd/cosign@$COSIGN_VERSION"

# The binary must run and be the version asked for.
version=$("$COSIGN_BIN" version 2>&1 | awk '/^GitVersion:/ { print $2 }')
[[ $version == "$COSIGN_VERSION" ]] || bt_die "the built cosign reports version '$version', not $COSIGN_VERSION"
printf 'cosign=%s@%s\ngo=%s\nbuilt=%s\nseconds=%s\n' \
	"$COSIGN_MODULE" "$COSIGN_VERSION" "$(cd / && go env GOVERSION)" \
	"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - start))" >"$COSIGN_KEY_DIR/.complete"
echo "Built cosign $version in $(bt_fmt_secs $((SECONDS - start))): $COSIGN_BIN"

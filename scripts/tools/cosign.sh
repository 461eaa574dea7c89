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
*) tools_die "unknown argument: $1 (try --help)" ;;
esac

if ! command -v go >/dev/null 2>&1; then
	printf '%s\n' \
		"cosign.sh: Go >= 1.26 is required to build cosign $COSIGN_VERSION (or Go >= 1.21 allowed to fetch it: GOTOOLCHAIN=auto)." \
		"Install it: apt-get install golang-go (Debian >= 13, Ubuntu >= 24.04), or see https://go.dev/dl" >&2
	exit 2
fi
cosign_resolve_paths

if [[ $mode == print ]]; then
	cosign_is_built || tools_die "cosign $COSIGN_VERSION is not built yet: run $TOOLS_HERE/cosign.sh"
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
# Two setups at once must not build into the same directory: the second
# waits, then finds the cache filled.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$COSIGN_KEY_DIR.lock"
	if ! flock -n 9; then
		echo "another cosign.sh is building $COSIGN_KEY_DIR; waiting for it..."
		flock 9
	fi
	if cosign_is_built; then
		print_cached
		exit 0
	fi
fi

rm -rf "${COSIGN_KEY_DIR:?}"
mkdir -p "$COSIGN_KEY_DIR/bin" "$COSIGN_KEY_DIR/logs"
log=$COSIGN_KEY_DIR/logs/go-install.log

# Own Go caches under the tools dir (shared with scripts/pipeline/setup.sh):
# the user's GOPATH/GOFLAGS/go.work cannot change the result.
export GOPATH=$TOOLS_DIR/go
export GOMODCACHE=$GOPATH/pkg/mod GOCACHE=$GOPATH/cache
export GOFLAGS=-modcacherw GOWORK=off GOBIN=$COSIGN_KEY_DIR/bin CGO_ENABLED=0
unset GOOS GOARCH

start=$SECONDS
echo "Building cosign $COSIGN_VERSION into $COSIGN_KEY_DIR (a few minutes on 2 cores; later runs hit the cache)"
# -v lists each package as it compiles; a heartbeat shows the last one.
(
	while sleep 20 >/dev/null 2>&1; do
		printf '    ... still working (%s): %s packages, last: %.90s\n' \
			"$(tools_fmt_secs $((SECONDS - start)))" "$(wc -l <"$log")" "$(tail -n 1 "$log")"
	done
) &
hb=$!
rc=0
# cosign's go.mod has no replace directive, so `go install module@version`
# builds exactly the released module graph. -trimpath keeps local paths out.
go install -v -trimpath -ldflags="-s -w" "$COSIGN_MODULE/cmd/cosign@$COSIGN_VERSION" >"$log" 2>&1 || rc=$?
kill "$hb" 2>/dev/null || true
wait "$hb" 2>/dev/null || true
if ((rc != 0)); then
	tail -n 40 "$log" >&2
	tools_die "go install $COSIGN_MODULE/cmd/cosign@$COSIGN_VERSION failed (exit $rc); full log: $log"
fi

# The binary must run and be the version asked for.
version=$("$COSIGN_BIN" version 2>&1 | awk '/^GitVersion:/ { print $2 }')
[[ $version == "$COSIGN_VERSION" ]] || tools_die "the built cosign reports version '$version', not $COSIGN_VERSION"
printf 'cosign=%s@%s\ngo=%s\nbuilt=%s\nseconds=%s\n' \
	"$COSIGN_MODULE" "$COSIGN_VERSION" "$(cd / && go env GOVERSION)" \
	"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - start))" >"$COSIGN_KEY_DIR/.complete"
echo "Built cosign $version in $(tools_fmt_secs $((SECONDS - start))): $COSIGN_BIN"

#!/usr/bin/env bash
# Installs, once per version, cargo-auditable and rust-audit-info from the
# crate registry (`cargo install --locked`) into a cache outside the clone:
#   ${BUILDTRACE_TOOLS_DIR:-${XDG_CACHE_HOME:-~/.cache}/buildtrace/tools}/auditable-<version>-<key>/bin
# A second run with the same key only prints "cached: ...". Keyed by the two
# versions and the host's rustc, so CI starting from an empty CARGO_HOME
# reuses the cache instead of compiling both tools on every run.
#
# Usage: auditable.sh                 install if needed, print the two paths
#        auditable.sh --print-paths   print CARGO_AUDITABLE_BIN=... RUST_AUDIT_INFO_BIN=... (no install)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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

if ! command -v cargo >/dev/null 2>&1 || ! command -v rustc >/dev/null 2>&1; then
	echo "auditable.sh: cargo and rustc are required (https://rustup.rs)" >&2
	exit 2
fi
auditable_resolve_paths

if [[ $mode == print ]]; then
	auditable_is_built || bt_die "cargo-auditable is not installed yet: run $TOOLS_HERE/auditable.sh"
	printf 'CARGO_AUDITABLE_BIN=%q\nRUST_AUDIT_INFO_BIN=%q\n' "$CARGO_AUDITABLE_BIN" "$RUST_AUDIT_INFO_BIN"
	exit 0
fi

print_cached() {
	printf 'cached: %s\ncached: %s\n' "$CARGO_AUDITABLE_BIN" "$RUST_AUDIT_INFO_BIN"
}
if auditable_is_built; then
	print_cached
	exit 0
fi

mkdir -p "$TOOLS_DIR"
if ! bt_lock "$AUDITABLE_KEY_DIR" 9 auditable_is_built; then
	print_cached
	exit 0
fi

rm -rf "${AUDITABLE_KEY_DIR:?}"
mkdir -p "$AUDITABLE_KEY_DIR/logs"
start=$SECONDS
# The build directory is thrown away; only the binaries are kept.
target=$AUDITABLE_KEY_DIR/target
for spec in "cargo-auditable@$CARGO_AUDITABLE_VERSION" "rust-audit-info@$RUST_AUDIT_INFO_VERSION"; do
	bt_step "cargo install --locked $spec" "$AUDITABLE_KEY_DIR/logs/${spec%@*}.log" \
		cargo install --locked --root "$AUDITABLE_KEY_DIR" --target-dir "$target" \
		${CARGO_BUILD_JOBS:+-j "$CARGO_BUILD_JOBS"} "$spec"
done
rm -rf "${target:?}"

"$CARGO_AUDITABLE_BIN" auditable --version >/dev/null 2>&1 || bt_die "the installed cargo-auditable does not run"
printf 'cargo-auditable=%s\nrust-audit-info=%s\nrustc=%s\nbuilt=%s\nseconds=%s\n' \
	"$CARGO_AUDITABLE_VERSION" "$RUST_AUDIT_INFO_VERSION" "$(rustc -V)" \
	"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - start))" >"$AUDITABLE_KEY_DIR/.complete"
echo "Installed in $(bt_fmt_secs $((SECONDS - start))):"
printf '  CARGO_AUDITABLE_BIN=%s\n  RUST_AUDIT_INFO_BIN=%s\n' "$CARGO_AUDITABLE_BIN" "$RUST_AUDIT_INFO_BIN"

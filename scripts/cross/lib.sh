# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source this
# Sourced by the cross-target scripts: the target table (targets.tsv), what
# each target needs from Debian, rustup, PyPI and the crate registry, where
# the wine prefix and the Mach-O linker are cached, and the cargo settings
# (linker, runner, C compiler) of every target, in this one place.

CROSS_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CROSS_ROOT=$(cd "$CROSS_HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$CROSS_HERE/../lib.sh"
# The same cache root as the other tools.
CROSS_TOOLS_DIR=$BT_TOOLS/cross
# Mach-O links with zig (PyPI `ziglang`) driven by cargo-zigbuild.
ZIGLANG_VERSION=0.15.2
CARGO_ZIGBUILD_VERSION=0.24.1
# The tests read Mach-O section tables with macholib (PyPI), a reader of
# their own, independent of buildtrace.
MACHOLIB_VERSION=1.16.3
# Bump when a script changes how it builds, so stale caches are not reused.
CROSS_RECIPE=1

# Prints the table's rows without comments: target format here os arch ci release.
cross_rows() {
	grep -v '^[[:space:]]*#' "$CROSS_HERE/targets.tsv" | awk 'NF >= 7 { print $1, $2, $3, $4, $5, $6, $7 }'
}

# Prints one column (1-based) of TARGET's row; fails on an unknown target.
cross_field() {
	local row
	row=$(cross_rows | awk -v t="$1" '$1 == t')
	[[ -n $row ]] || bt_die "unknown target $1 (see $CROSS_HERE/targets.tsv)"
	awk -v n="$2" '{ print $n }' <<<"$row"
}

# The targets this machine builds (every row whose `here` is not -), or with
# `ci`, those CI builds.
cross_targets() {
	case "${1:-all}" in
	ci) cross_rows | awk '$3 != "-" && $6 == "yes" { print $1 }' ;;
	*) cross_rows | awk '$3 != "-" { print $1 }' ;;
	esac
}

cross_host() { rustc -vV | awk '/^host: / { print $2 }'; }

# Debian packages TARGET needs (the `:i386` ones need the i386 architecture).
cross_apt_packages() {
	case "$1" in
	x86_64-pc-windows-gnu) echo gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 wine wine64 ;;
	i686-pc-windows-gnu) echo gcc-mingw-w64-i686 binutils-mingw-w64-i686 gcc-mingw-w64-x86-64 wine wine64 wine32:i386 ;;
	aarch64-unknown-linux-gnu) echo gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu qemu-user ;;
	x86_64-unknown-linux-musl) echo musl-tools ;;
	i686-unknown-linux-gnu) echo gcc-i686-linux-gnu libc6-dev-i386-cross binutils-i686-linux-gnu libc6:i386 ;;
	*) ;;
	esac
}

# The wine prefix (a Windows directory tree for wine) and the cargo-zigbuild
# install, keyed by what decides their content. A prefix made while 32-bit
# wine (Debian's wine32:i386) was missing has an empty syswow64 and no 32-bit
# stub, and cannot run PE32 programs: whether 32-bit wine is there is part
# of the key, so installing it later (setup.sh --all after --ci) makes a new
# prefix rather than reusing the 64-bit-only one.
cross_resolve_paths() {
	local winever wine32=no key
	winever=$( (wine --version 2>/dev/null || echo none) | tr -d '\n')
	[[ -d /usr/lib/i386-linux-gnu/wine ]] && wine32=yes
	key=$(printf 'recipe=%s wine=%s wine32=%s\n' "$CROSS_RECIPE" "$winever" "$wine32" | sha256sum | cut -c1-12)
	WINE_PREFIX_DIR=$CROSS_TOOLS_DIR/wine-$key
	key=$(printf 'recipe=%s ziglang=%s cargo-zigbuild=%s macholib=%s rustc=%s\n' "$CROSS_RECIPE" \
		"$ZIGLANG_VERSION" "$CARGO_ZIGBUILD_VERSION" "$MACHOLIB_VERSION" "$(rustc -vV | tr '\n' ' ')" |
		sha256sum | cut -c1-12)
	ZIG_DIR=$CROSS_TOOLS_DIR/zig-$key
}

# The environment that builds and runs TARGET with cargo, as KEY=VALUE lines:
# the linker, the runner (scripts/cross/run, so `cargo run --target T` and
# `cargo test --target T` work), the C compiler and archiver for crates with
# C code (ring), and PATH for the Mach-O linker.
cross_env() {
	local t=$1 upper lower cc="" ar="" linker=""
	upper=$(tr 'a-z-' 'A-Z_' <<<"$t")
	lower=$(tr '-' '_' <<<"$t")
	case "$t" in
	x86_64-pc-windows-gnu) cc=x86_64-w64-mingw32-gcc ar=x86_64-w64-mingw32-ar linker=$cc ;;
	i686-pc-windows-gnu) cc=i686-w64-mingw32-gcc ar=i686-w64-mingw32-ar linker=$cc ;;
	aarch64-unknown-linux-gnu) cc=aarch64-linux-gnu-gcc ar=aarch64-linux-gnu-ar linker=$cc ;;
	x86_64-unknown-linux-musl) cc=musl-gcc ar=ar ;;
	i686-unknown-linux-gnu) cc=i686-linux-gnu-gcc ar=i686-linux-gnu-ar linker=$cc ;;
	*-apple-darwin) printf 'PATH=%s\n' "$ZIG_DIR/bin:$PATH" ;;
	esac
	[[ -z $linker ]] || printf 'CARGO_TARGET_%s_LINKER=%s\n' "$upper" "$linker"
	[[ -z $cc ]] || printf 'CC_%s=%s\nAR_%s=%s\n' "$lower" "$cc" "$lower" "$ar"
	case "$(cross_field "$t" 3)" in
	wine | qemu-aarch64) printf 'CARGO_TARGET_%s_RUNNER=%s\n' "$upper" "$CROSS_HERE/run $t" ;;
	esac
	case "$(cross_field "$t" 3)" in
	wine) printf 'WINEPREFIX=%s\nWINEDEBUG=-all\n' "$WINE_PREFIX_DIR" ;;
	esac
}

# Whether setup.sh completed for TARGET (its marker file).
cross_is_ready() {
	[[ -f $CROSS_TOOLS_DIR/ready/$1 ]]
}

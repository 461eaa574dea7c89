#!/usr/bin/env bash
# Installs what building and running the cross targets needs, and only what
# is missing: rustup targets, linkers and C compilers (mingw-w64, the GNU
# cross compilers, musl-tools), runners (wine, qemu-user; the kernel runs
# i686 Linux binaries once libc6:i386 is there), a wine prefix with the
# ProcessPrng stub wine 8.0 lacks, and for Mach-O zig (PyPI `ziglang`) with
# cargo-zigbuild (crate registry). The prefix and zig are cached outside the
# clone (keyed by version); a second run prints "ready" per target. Ends with
# one line per target: ready, or what could not be installed and why.
#
# Usage: setup.sh TARGET...   those targets (see targets.tsv)
#        setup.sh --ci        the targets every CI run checks
#        setup.sh --all       every target this machine can build
# Exit status: 0 when every asked target is ready, 1 otherwise.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

targets=()
case "${1:-}" in
'' | -h | --help)
	usage
	exit 0
	;;
--ci) mapfile -t targets < <(cross_targets ci) ;;
--all) mapfile -t targets < <(cross_targets all) ;;
*) targets=("$@") ;;
esac
host=$(cross_host)
declare -A failed=()
started=$SECONDS

# 1. Debian packages.
missing=()
for t in "${targets[@]}"; do
	[[ $(cross_field "$t" 3) != - ]] || bt_die "$t is not built on this machine (targets.tsv)"
	for p in $(cross_apt_packages "$t"); do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
done
if ((${#missing[@]})); then
	mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
	sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo -n)
	echo "== Debian packages: ${missing[*]}"
	t0=$SECONDS
	if [[ " ${missing[*]} " == *:i386* ]] && ! dpkg --print-foreign-architectures | grep -qx i386; then
		"${sudo[@]}" dpkg --add-architecture i386 || true
	fi
	if "${sudo[@]}" apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
		echo "   installed in $((SECONDS - t0)) s"
	else
		echo "   apt-get could not install them (root or sudo without a password is needed, and Debian's archive)"
	fi
fi
for t in "${targets[@]}"; do
	for p in $(cross_apt_packages "$t"); do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			failed[$t]="Debian package $p is not installed"
			break
		fi
	done
done

# 2. The standard library of each target.
installed=$(rustup target list --installed)
for t in "${targets[@]}"; do
	[[ $t == "$host" ]] && continue
	if ! grep -qx "$t" <<<"$installed"; then
		echo "== rustup target add $t"
		rustup target add "$t" >/dev/null 2>&1 || failed[$t]=${failed[$t]:-"rustup target add $t failed"}
	fi
done

cross_resolve_paths

# 3. The wine prefix, with the ProcessPrng stub for 64- and 32-bit programs.
wine_targets=()
for t in "${targets[@]}"; do
	[[ $(cross_field "$t" 3) == wine && -z ${failed[$t]:-} ]] && wine_targets+=("$t")
done
if ((${#wine_targets[@]})); then
	if [[ -f $WINE_PREFIX_DIR/.complete ]]; then
		echo "cached: wine prefix $WINE_PREFIX_DIR"
	else
		echo "== wine prefix $WINE_PREFIX_DIR"
		t0=$SECONDS
		rm -rf "$WINE_PREFIX_DIR"
		mkdir -p "$WINE_PREFIX_DIR"
		# No Mono or Gecko download prompts: nothing here needs them.
		if WINEPREFIX=$WINE_PREFIX_DIR WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" wineboot --init >/dev/null 2>&1 &&
			WINEPREFIX=$WINE_PREFIX_DIR wineserver -w; then
			ok=1
			for pair in x86_64-w64-mingw32-gcc:system32 i686-w64-mingw32-gcc:syswow64; do
				cc=${pair%%:*} dir=$WINE_PREFIX_DIR/drive_c/windows/${pair##*:}
				command -v "$cc" >/dev/null 2>&1 || continue
				[[ -d $dir ]] || continue
				"$cc" -shared -O2 -o "$dir/bcryptprimitives.dll" \
					"$CROSS_HERE/bcryptprimitives.c" "$CROSS_HERE/bcryptprimitives.def" \
					-Wl,--kill-at,--enable-stdcall-fixup -ladvapi32 || ok=0
			done
			((ok)) && touch "$WINE_PREFIX_DIR/.complete"
			echo "   made in $((SECONDS - t0)) s"
		fi
	fi
	if [[ ! -f $WINE_PREFIX_DIR/.complete ]]; then
		for t in "${wine_targets[@]}"; do failed[$t]="the wine prefix could not be made (wineboot --init failed)"; done
	fi
	if [[ " ${wine_targets[*]} " == *" i686-pc-windows-gnu "* && ! -f $WINE_PREFIX_DIR/drive_c/windows/syswow64/bcryptprimitives.dll ]]; then
		failed[i686-pc-windows-gnu]="no 32-bit ProcessPrng stub in the wine prefix (i686-w64-mingw32-gcc or wine32 missing)"
	fi
fi

# 4. zig and cargo-zigbuild, for Mach-O.
zig_targets=()
for t in "${targets[@]}"; do
	[[ $t == *-apple-darwin && -z ${failed[$t]:-} ]] && zig_targets+=("$t")
done
if ((${#zig_targets[@]})); then
	if [[ -f $ZIG_DIR/.complete ]]; then
		echo "cached: zig and cargo-zigbuild $ZIG_DIR"
	else
		echo "== zig $ZIGLANG_VERSION (PyPI ziglang) and cargo-zigbuild $CARGO_ZIGBUILD_VERSION"
		t0=$SECONDS
		rm -rf "$ZIG_DIR"
		mkdir -p "$ZIG_DIR/bin"
		if python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$ZIG_DIR/py" "ziglang==$ZIGLANG_VERSION" "macholib==$MACHOLIB_VERSION" &&
			ln -sf "$ZIG_DIR/py/ziglang/zig" "$ZIG_DIR/bin/zig" &&
			cargo install --quiet --locked --root "$ZIG_DIR" --version "$CARGO_ZIGBUILD_VERSION" cargo-zigbuild; then
			touch "$ZIG_DIR/.complete"
			echo "   installed in $((SECONDS - t0)) s"
		fi
	fi
	if [[ ! -f $ZIG_DIR/.complete ]]; then
		for t in "${zig_targets[@]}"; do failed[$t]="zig or cargo-zigbuild could not be installed (PyPI and the crate registry are needed)"; done
	fi
fi

# 5. One line per target.
mkdir -p "$CROSS_TOOLS_DIR/ready"
status=0
for t in "${targets[@]}"; do
	if [[ -n ${failed[$t]:-} ]]; then
		rm -f "$CROSS_TOOLS_DIR/ready/$t"
		printf '%-28s NOT READY: %s\n' "$t" "${failed[$t]}"
		status=1
	else
		cross_env "$t" >"$CROSS_TOOLS_DIR/ready/$t"
		printf '%-28s ready (%s)\n' "$t" "$(cross_field "$t" 3)"
	fi
done
echo "cross setup: $((SECONDS - started)) s"
exit "$status"

#!/usr/bin/env bash
# The release, here, for every target this machine builds: the one command
# for the whole matrix. Sets the targets up (setup.sh), then per target does
# what .github/workflows/release.yml does on a tag: link and strip
# examples/print_provenance (release profile, SOURCE_DATE_EPOCH of the
# commit), seal with an ephemeral key, then artifact.sh (inspect, verify,
# run under the target's runner, attest). Ends with a table: build time,
# provenance ID, whether it ran; fails when a step fails or two targets share
# an ID. Files go to target/cross-dist/. The deeper checks of each target are
# tests/cross_targets.rs (BUILDTRACE_CROSS=all cargo test --test cross_targets).
#
# Usage: matrix.sh [--all | --ci | TARGET...]   (default --all)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:---all}" in
-h | --help)
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
	exit 0
	;;
--all) mapfile -t targets < <(cross_targets all) ;;
--ci) mapfile -t targets < <(cross_targets ci) ;;
*) targets=("$@") ;;
esac
command -v jq >/dev/null || bt_die "jq is needed (Debian package jq)"
cd "$CROSS_ROOT"
"$CROSS_HERE/setup.sh" "${targets[@]}"

echo "== the buildtrace CLI"
cargo build --locked --release --quiet --features cli --bin buildtrace
export BT=$CROSS_ROOT/target/release/buildtrace
# The real cosign judges every attestation (built from the Go module proxy
# once, cached).
echo "== cosign"
"$CROSS_ROOT/scripts/tools/cosign.sh"
eval "$("$CROSS_ROOT/scripts/tools/cosign.sh" --print-path)"
export COSIGN=$COSIGN_BIN
dist=$CROSS_ROOT/target/cross-dist
rm -rf "$dist"
mkdir -p "$dist"
"$BT" keygen --out "$dist/seal.pem" >/dev/null
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
export SOURCE_DATE_EPOCH

declare -A took=() ids=() ran=()
for t in "${targets[@]}"; do
	echo "== $t"
	exe=""
	[[ $t == *-windows-* ]] && exe=.exe
	build=(build)
	if [[ $t == *-apple-darwin ]]; then
		# Without an Apple SDK zig cannot link frameworks, and the default
		# features' system root store (rustls-native-certs) needs Security
		# and CoreFoundation: here the example embeds its record and nothing
		# more. The workflow builds it with default features on macOS.
		build=(zigbuild --no-default-features)
		echo "   (without default features: no Apple SDK here for the Security framework)"
	fi
	t0=$SECONDS
	(
		while IFS= read -r line; do export "${line?}"; done < <("$CROSS_HERE/env.sh" "$t")
		CARGO_PROFILE_RELEASE_STRIP=symbols cargo "${build[@]}" --locked --release --quiet \
			--example print_provenance --target "$t"
	)
	took[$t]=$((SECONDS - t0))
	art=$dist/print_provenance-$t$exe
	cp "target/$t/release/examples/print_provenance$exe" "$art"
	"$BT" seal "$art" --key "$dist/seal.pem"
	case "$(cross_field "$t" 3)" in
	link) runner=(--no-run) ran[$t]=no ;;
	*) runner=("$CROSS_HERE/run" "$t") ran[$t]=yes ;;
	esac
	ids[$t]=$("$CROSS_HERE/artifact.sh" "$t" "$art" "$dist/seal.pem.pub" "$dist/seal.pem" "${runner[@]}" | tail -n 1)
done

printf '\n%-28s %8s  %-32s %s\n' target build "provenance id" ran
for t in "${targets[@]}"; do
	printf '%-28s %7ss  %-32s %s\n' "$t" "${took[$t]}" "${ids[$t]}" "${ran[$t]}"
done
dups=$(printf '%s\n' "${ids[@]}" | sort | uniq -d)
[[ -z $dups ]] || bt_die "provenance IDs shared by several targets: $dups"
echo "matrix: ${#targets[@]} targets, each sealed, verified and attested (bundles checked by cosign); IDs distinct"

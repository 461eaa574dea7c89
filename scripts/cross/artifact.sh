#!/usr/bin/env bash
# The release steps after the seal, the same on a tag (.github/workflows/
# release.yml) and here (matrix.sh): inspect the sealed file (a provenance ID,
# the right target), verify it with the public key (--require sealed), run it
# and require it to report the ID inspect read, then attest it (a Sigstore
# bundle: DSSE, in-toto Statement v1, SLSA provenance) and check the bundle
# with `buildtrace verify-attestation` and, when COSIGN names a cosign
# binary, with `cosign verify-blob-attestation`, as a user of the release
# would. Prints the provenance ID on its last line.
#
# Usage: artifact.sh TARGET FILE PUBKEY KEY [RUNNER...]
#   RUNNER: how to run FILE (default: directly); matrix.sh passes
#   scripts/cross/run TARGET, the workflow runs on the target's own runner;
#   --no-run for a file nothing here can run (Mach-O off macOS).
# Needs BT, the buildtrace CLI (default: target/release/buildtrace), and jq;
# COSIGN (optional): a cosign binary (scripts/tools/cosign.sh builds one).
set -euo pipefail

[[ $# -ge 4 ]] || {
	echo "usage: artifact.sh TARGET FILE PUBKEY KEY [RUNNER...]" >&2
	exit 2
}
target=$1 art=$2 pub=$3 key=$4
shift 4
bt=${BT:-target/release/buildtrace}
fail() {
	# One line; GitHub Actions shows it as an error annotation.
	if [[ ${GITHUB_ACTIONS:-} == true ]]; then echo "::error::$*"; else echo "artifact.sh: $*" >&2; fi
	exit 1
}

"$bt" inspect "$art" >&2
json=$("$bt" inspect --json "$art")
id=$(jq -r '."buildtrace.id" // empty' <<<"$json" | tr -d '\r')
triple=$(jq -r '."buildtrace.target.triple" // empty' <<<"$json" | tr -d '\r')
[[ $id =~ ^[0-9a-f]{32}$ ]] || fail "no valid provenance ID (buildtrace.id) in $art: '$id'"
[[ $triple == "$target" ]] || fail "$art records target '$triple', expected $target"

rc=0
"$bt" verify "$art" --pubkey "$pub" --require sealed >&2 || rc=$?
case $rc in
0) ;;
1) fail "$art: the seal does not match the file (changed after sealing?)" ;;
3) fail "$art: sealed with a key other than the published one" ;;
4) fail "$art: not sealed" ;;
*) fail "$art: verify failed (exit $rc)" ;;
esac

if [[ ${1:-} == --no-run ]]; then
	echo "artifact.sh: $art not run (no runner for $target here)" >&2
else
	out=$("$@" "$art")
	printf '%s\n' "$out" >&2
	first=$(head -n 1 <<<"$out" | tr -d '\r')
	[[ $first == "provenance id $id" ]] || fail "the binary reports '$first', inspect read $id"
fi

bundle=$art.sigstore.json
"$bt" attest "$art" --key "$key" -o "$bundle"
"$bt" verify-attestation "$art" --bundle "$bundle" --pubkey "$pub" >&2 ||
	fail "$bundle: buildtrace verify-attestation rejects it (exit $?)"
if [[ -n ${COSIGN:-} ]]; then
	# No transparency-log entry: the bundle is signed with a key, offline.
	"$COSIGN" verify-blob-attestation --key "$pub" --bundle "$bundle" \
		--type slsaprovenance1 --insecure-ignore-tlog=true "$art" >&2 ||
		fail "$bundle: cosign verify-blob-attestation rejects it"
fi
printf '%s\n' "$id" >"$art.id"
echo "$id"

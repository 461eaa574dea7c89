#!/usr/bin/env bash
# Lints the GitHub Actions workflows with actionlint, and the shell in their
# `run:` steps with shellcheck when it is on PATH. Exits non-zero on any
# finding.
#
# actionlint is built once from the Go module proxy into a cache outside the
# clone, next to the pipeline's tools (scripts/pipeline/setup.sh):
#   ${BUILDTRACE_TOOLS_DIR:-${XDG_CACHE_HOME:-~/.cache}/buildtrace/tools}/actionlint/<version>-<os>-<arch>/
# Go is needed for that first build only; without it the script fails.
# When shellcheck is missing, it installs it as root with apt-get (a CI
# container); otherwise it says that the shell steps go unchecked.
#
# Usage: actionlint.sh               lint .github/workflows/*.yml and *.yaml
#        actionlint.sh FILE...       lint these workflow files instead
set -euo pipefail

# The header comment above is the help text.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

# The newest version the module proxy serves (`go list -m -versions
# github.com/rhysd/actionlint`); bump by hand.
ACTIONLINT_VERSION=v1.7.12
ACTIONLINT_MODULE=github.com/rhysd/actionlint

case "${1:-}" in
-h | --help)
	usage
	exit 0
	;;
esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$repo/scripts/lib.sh"
tools=$BT_TOOLS

# The cache key is the version and the platform; without Go (a cache filled
# earlier), the platform comes from uname.
if command -v go >/dev/null 2>&1; then
	platform=$(cd / && go env GOOS)-$(cd / && go env GOARCH)
else
	platform=$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
fi
dir=$tools/actionlint/$ACTIONLINT_VERSION-$platform
bin=$dir/actionlint

if [[ -x $bin ]] && "$bin" -version >/dev/null 2>&1; then
	echo "cached: $bin"
else
	bt_require_go
	start=$SECONDS
	echo "==> installing actionlint $ACTIONLINT_VERSION from the Go module proxy into $dir (once)"
	mkdir -p "$tools/actionlint"
	gobin=$(mktemp -d "$tools/actionlint/.install.XXXXXX")
	trap 'rm -rf "$gobin"' EXIT
	# Go's own caches under the tools dir (scripts/lib.sh).
	if ! (
		bt_go_env
		export GOBIN=$gobin
		cd / && go install "$ACTIONLINT_MODULE/cmd/actionlint@$ACTIONLINT_VERSION"
	) >"$gobin/install.log" 2>&1; then
		tail -n 40 "$gobin/install.log" >&2
		bt_die "go install $ACTIONLINT_MODULE/cmd/actionlint@$ACTIONLINT_VERSION failed with $(cd / && go env GOVERSION) (GOPROXY=$(cd / && go env GOPROXY))"
	fi
	# A concurrent run may have finished first: both binaries are the same.
	mkdir -p "$dir"
	mv -f "$gobin/actionlint" "$bin.tmp.$$"
	mv -f "$bin.tmp.$$" "$bin"
	echo "    done in $((SECONDS - start))s: $bin"
fi

if ! command -v shellcheck >/dev/null 2>&1; then
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
		echo "==> installing shellcheck (apt-get)"
		if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }; then
			echo "warning: could not install shellcheck" >&2
		fi
	fi
fi
if command -v shellcheck >/dev/null 2>&1; then
	echo "shellcheck: $(shellcheck --version | sed -n 's/^version: //p') checks the run: steps"
else
	echo "warning: shellcheck not found: the shell in run: steps is NOT checked (apt-get install shellcheck)" >&2
fi

if (($# > 0)); then
	files=("$@")
else
	shopt -s nullglob
	files=("$repo"/.github/workflows/*.yml "$repo"/.github/workflows/*.yaml)
	shopt -u nullglob
	((${#files[@]} > 0)) || bt_die "no workflow in $repo/.github/workflows"
fi

echo "==> actionlint $("$bin" -version | head -n 1) ${files[*]#"$repo/"}"
cd "$repo"
if "$bin" "${files[@]}"; then
	echo "actionlint: no findings"
else
	rc=$?
	echo "actionlint: findings above (exit $rc)" >&2
	exit "$rc"
fi

#!/usr/bin/env bash
# Checks docker-compose.yaml, its default services and its `distributed`
# profile, with the real Docker Compose: `docker compose config`, which loads,
# interpolates and validates the file against the Compose specification and
# needs no Docker engine. This project's machines have no Docker; Compose
# itself is built, once per version, from the Go module proxy
# (github.com/docker/compose/v5/cmd at a pinned tag) into a cache outside the
# clone, like the Collectors:
#   ${BUILDTRACE_TOOLS_DIR:-${XDG_CACHE_HOME:-~/.cache}/buildtrace/tools}/compose-<version>-<key>/bin/docker-compose
#
# Usage: compose.sh                 build if needed, then check the file (both ways)
#        compose.sh --build         build if needed, print the binary's path
#        compose.sh --print-path    print COMPOSE_BIN=... (no build; fails if not built)
#        compose.sh compose ARGS... docker compose -f docker-compose.yaml ARGS... (e.g.
#                                   --profile distributed config --services)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

# v5.6.0: the newest Compose whose go.mod asks for no newer Go than the
# pipeline's (v5.7.x want go >= 1.26.10).
COMPOSE_MODULE=github.com/docker/compose/v5
COMPOSE_VERSION=${PIPELINE_COMPOSE_VERSION:-v5.6.0}

mode=check
case "${1:-}" in
'') ;;
--build) mode=build ;;
--print-path) mode=print ;;
compose) mode=compose ;;
-h | --help)
	usage
	exit 0
	;;
*) bt_die "unknown argument: $1 (try --help)" ;;
esac

bt_require_go
goinfo=$(bt_go_info)
key=$(printf 'recipe=1 compose=%s@%s go=%s\n' "$COMPOSE_MODULE" "$COMPOSE_VERSION" "$goinfo" | sha256sum | cut -c1-12)
COMPOSE_KEY_DIR=$PIPELINE_TOOLS_DIR/compose-$COMPOSE_VERSION-$key
COMPOSE_BIN=$COMPOSE_KEY_DIR/bin/docker-compose
is_built() { [[ -f $COMPOSE_KEY_DIR/.complete && -x $COMPOSE_BIN ]]; }

if [[ $mode == print ]]; then
	is_built || bt_die "Docker Compose $COMPOSE_VERSION is not built yet: run $PIPELINE_HERE/compose.sh --build"
	printf 'COMPOSE_BIN=%q\n' "$COMPOSE_BIN"
	exit 0
fi

build() {
	local start=$SECONDS mod=$COMPOSE_KEY_DIR/build
	mkdir -p "$PIPELINE_TOOLS_DIR"
	bt_lock "$COMPOSE_KEY_DIR" 7 is_built || return 0
	rm -rf "${COMPOSE_KEY_DIR:?}"
	mkdir -p "$COMPOSE_KEY_DIR/bin" "$COMPOSE_KEY_DIR/logs"
	bt_go_env
	echo "Building Docker Compose $COMPOSE_VERSION into $COMPOSE_KEY_DIR (a few minutes on 2 cores; later runs hit the cache)"
	# `go install module@version` refuses a module whose go.mod has exclude
	# directives (Compose's has two), so build from a throwaway main module
	# that requires Compose and copies them, as setup.sh does for Jaeger.
	compose_build() (
		local gomod
		mkdir -p "$mod" && cd "$mod" &&
			gomod=$(go mod download -json "$COMPOSE_MODULE@$COMPOSE_VERSION" |
				sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p') &&
			[[ -f $gomod ]] &&
			{
				echo "module buildtrace.local/compose-build"
				grep -m1 '^go ' "$gomod"
				awk '/^exclude[[:space:]]*\(/ { b = 1; next }
				     b && /^\)/ { b = 0; next }
				     b && !/^[[:space:]]*\/\// && NF { print "exclude " $0; next }
				     /^exclude [^(]/ { print }' "$gomod"
			} >go.mod &&
			go get -v "$COMPOSE_MODULE/cmd@$COMPOSE_VERSION" &&
			go build -v -trimpath -o "$COMPOSE_BIN" \
				-ldflags="-s -w -X $COMPOSE_MODULE/internal.Version=$COMPOSE_VERSION" "$COMPOSE_MODULE/cmd"
	)
	bt_step "build $COMPOSE_MODULE/cmd@$COMPOSE_VERSION" "$COMPOSE_KEY_DIR/logs/go-build.log" compose_build
	rm -rf "$mod"
	"$COMPOSE_BIN" version >/dev/null || bt_die "the built docker-compose does not run"
	printf 'compose=%s@%s\ngo=%s\nbuilt=%s\nseconds=%s\n' \
		"$COMPOSE_MODULE" "$COMPOSE_VERSION" "$(cd / && go env GOVERSION)" \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - start))" >"$COMPOSE_KEY_DIR/.complete"
	echo "Built Docker Compose in $(bt_fmt_secs $((SECONDS - start))): $COMPOSE_BIN"
}

# docker compose on the repository's file, run from the repository root as a
# user would, with no Docker configuration of the user's in the way.
compose() {
	(cd "$PIPELINE_REPO" && DOCKER_CONFIG=$COMPOSE_KEY_DIR/docker-config \
		"$COMPOSE_BIN" --project-directory "$PIPELINE_REPO" -f docker-compose.yaml "$@")
}

is_built || build
case $mode in
build) printf 'COMPOSE_BIN=%q\n' "$COMPOSE_BIN" ;;
compose)
	shift
	compose "$@"
	;;
check)
	compose config --quiet
	echo "docker-compose.yaml: default services valid"
	compose --profile distributed config --quiet
	echo "docker-compose.yaml: profile 'distributed' valid"
	;;
esac

#!/usr/bin/env bash
# Runs the real OpenTelemetry Collector in front of Jaeger v2, both on
# 127.0.0.1 at free ports chosen at start, so parallel runs and whatever
# already holds 4317/16686 never clash.
#
# Usage: pipeline.sh start|stop|status|restart-jaeger [STATE_DIR]
#   STATE_DIR (default: $PIPELINE_DIR, else ${TMPDIR:-/tmp}/buildtrace-pipeline-$UID)
#   holds the logs, the PIDs and pipeline.env, which other programs source:
#     set -a; . "$STATE_DIR/pipeline.env"; set +a
#   start builds the binaries first if needed (setup.sh), waits until all
#   answer, and is a no-op when already running; stop is safe to repeat;
#   restart-jaeger stops Jaeger alone, waits for it to exit, and starts it
#   again with the same ports and storage (the Collectors reconnect by themselves).
# Environment: PIPELINE_START_TIMEOUT (seconds, default 60);
#   PIPELINE_JAEGER_STORAGE=memory (default) or badger: Jaeger keeps traces on
#   disk (jaeger-badger.yaml) in PIPELINE_JAEGER_BADGER_DIR, default
#   STATE_DIR/jaeger-badger, so they survive restart-jaeger and a stop/start;
#   PIPELINE_GATEWAY=1 runs two Collectors, agent -> gateway -> Jaeger: the
#   agent (otel-collector.yaml + otel-collector-agent.yaml) where programs
#   send, the gateway (otel-collector-gateway.yaml, tail sampling; its
#   BUILDTRACE_* settings come from this environment) in front of Jaeger;
#   PIPELINE_FILE_EXPORT=1 also writes every span, log record and metric to
#   STATE_DIR/otelcol-export.jsonl (with PIPELINE_GATEWAY=1: the agent's, before sampling);
#   PIPELINE_EXTRA_CONFIG=FILE[:FILE…] more Collector configs, merged after
#   otel-collector.yaml (tests add TLS and authenticated receivers this way);
#   PIPELINE_EXTRA_PORTS=N picks N more free ports, passed to the Collector as
#   OTELCOL_EXTRA_PORT_1…N and recorded in pipeline.env as PIPELINE_EXTRA_PORT_1…N.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The header comment above is the help text.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

cmd=${1:-}
dir=${2:-${PIPELINE_DIR:-${TMPDIR:-/tmp}/buildtrace-pipeline-$(id -u)}}
timeout=${PIPELINE_START_TIMEOUT:-60}
envfile=$dir/pipeline.env
storage=${PIPELINE_JAEGER_STORAGE:-memory}
badger_dir=${PIPELINE_JAEGER_BADGER_DIR:-$dir/jaeger-badger}
gateway=0
[[ ${PIPELINE_GATEWAY:-0} == 1 ]] && gateway=1
case $storage in
memory | badger) ;;
*) bt_die "PIPELINE_JAEGER_STORAGE must be memory or badger, not '$storage'" ;;
esac

# --- processes -----------------------------------------------------------------

# True if the PID in $dir/NAME.pid is alive, not a zombie, and still runs our
# binary (PIDs get reused).
alive() {
	local pid state exe
	pid=$(cat "$dir/$1.pid" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[[ -n $state && $state != Z ]] || return 1
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	[[ ${exe##*/} == "$2"* ]]
}

stop_one() { # NAME BINARY-BASENAME
	local pid i
	if alive "$1" "$2"; then
		pid=$(cat "$dir/$1.pid")
		kill -TERM "$pid" 2>/dev/null || true
		# Both shut down gracefully (the Collector flushes its batch) in well
		# under a second; kill hard only if one hangs.
		for ((i = 0; i < 100; i++)); do
			alive "$1" "$2" || break
			sleep 0.1
		done
		if alive "$1" "$2"; then
			echo "$1 (pid $pid) ignored SIGTERM for 10s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 50; i++)); do
				alive "$1" "$2" || break
				sleep 0.1
			done
		fi
		echo "stopped $1 (pid $pid)"
	fi
	rm -f "$dir/$1.pid"
}

stop_all() {
	# Collectors first, agent before gateway, so their last batches still
	# reach Jaeger.
	stop_one otelcol otelcol-buildtrace
	stop_one gateway otelcol-gateway
	stop_one jaeger jaeger
	rm -f "$envfile"
}

# --- ports -----------------------------------------------------------------------

# Picks N distinct ports that no TCP socket here uses, from below the kernel's
# ephemeral range so no outgoing connection can take one before we bind it.
# (A race with another program remains; start retries on "address already in use".)
pick_ports() {
	local n=$1 lo=20000 hi eph used p
	local -A taken=()
	read -r eph _ </proc/sys/net/ipv4/ip_local_port_range
	hi=$((eph - 1))
	((hi - lo >= 1000)) || lo=10000
	used=$(awk 'FNR > 1 { n = split($2, a, ":"); print a[n] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null || true)
	for p in $used; do taken[$((16#$p))]=1; done
	PORTS=()
	while ((${#PORTS[@]} < n)); do
		p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
		[[ -z ${taken[$p]:-} ]] || continue
		taken[$p]=1
		PORTS+=("$p")
	done
}

# --- readiness -------------------------------------------------------------------

# Polls until CHECK succeeds, the process dies, or the deadline passes.
wait_for() { # NAME BINARY-BASENAME DESCRIPTION CHECK...
	local name=$1 bin=$2 what=$3
	shift 3
	until "$@"; do
		if ! alive "$name" "$bin"; then
			echo "$name exited before $what; last lines of $dir/$name.log:" >&2
			tail -n 20 "$dir/$name.log" >&2
			return 1
		fi
		if ((SECONDS >= deadline)); then
			echo "$name: no $what within ${timeout}s; log: $dir/$name.log" >&2
			return 1
		fi
		sleep 0.1
	done
}
http_ok() { curl -fsS -o /dev/null -m 2 "$1" 2>/dev/null; }
tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- commands --------------------------------------------------------------------

# Starts Jaeger on the given ports with the storage in $storage (and, for
# badger, $badger_dir), appending to its log, and waits until it serves.
launch_jaeger() { # OTLP-GRPC OTLP-HTTP QUERY-HTTP QUERY-GRPC
	local -a cfg=(--config "$PIPELINE_HERE/jaeger-config.yaml")
	if [[ $storage == badger ]]; then
		cfg+=(--config "$PIPELINE_HERE/jaeger-badger.yaml")
		mkdir -p "$badger_dir"
	fi
	JAEGER_OTLP_GRPC_ENDPOINT=127.0.0.1:$1 JAEGER_OTLP_HTTP_ENDPOINT=127.0.0.1:$2 \
		JAEGER_QUERY_HTTP_ENDPOINT=127.0.0.1:$3 JAEGER_QUERY_GRPC_ENDPOINT=127.0.0.1:$4 \
		JAEGER_BADGER_DIR="$badger_dir" \
		"$JAEGER_BIN" "${cfg[@]}" >>"$dir/jaeger.log" 2>&1 </dev/null &
	echo $! >"$dir/jaeger.pid"
	# The query API answers once the extensions are up; the OTLP receiver
	# starts after them, so wait for its port too before the Collector sends.
	wait_for jaeger jaeger "query API" http_ok "http://127.0.0.1:$3/api/services" || return 1
	wait_for jaeger jaeger "OTLP receiver" tcp_open "$1" || return 1
}

launch() {
	local jg=${PORTS[0]} jh=${PORTS[1]} qh=${PORTS[2]} qg=${PORTS[3]}
	local cg=${PORTS[4]} ch=${PORTS[5]} hc=${PORTS[6]} cm=${PORTS[7]}
	local nx=${PIPELINE_EXTRA_PORTS:-0}
	local gg=${PORTS[8 + nx]:-} gh=${PORTS[9 + nx]:-} ghc=${PORTS[10 + nx]:-} gm=${PORTS[11 + nx]:-}
	local -a extra=() extra_env=() files=()
	local i f to_next=127.0.0.1:$jg
	deadline=$((SECONDS + timeout))
	: >"$dir/jaeger.log"
	: >"$dir/otelcol.log"

	launch_jaeger "$jg" "$jh" "$qh" "$qg" || return 1

	if ((gateway)); then
		: >"$dir/gateway.log"
		env "OTELCOL_GRPC_ENDPOINT=127.0.0.1:$gg" "OTELCOL_HTTP_ENDPOINT=127.0.0.1:$gh" \
			"OTELCOL_HEALTH_ENDPOINT=127.0.0.1:$ghc" "OTELCOL_METRICS_PORT=$gm" \
			"JAEGER_OTLP_GRPC_ENDPOINT=127.0.0.1:$jg" \
			"$OTELCOL_GATEWAY_BIN" --config "$PIPELINE_REPO/otel-collector-gateway.yaml" \
			>"$dir/gateway.log" 2>&1 </dev/null &
		echo $! >"$dir/gateway.pid"
		wait_for gateway otelcol-gateway "health check" http_ok "http://127.0.0.1:$ghc/" || return 1
		extra=(--config "$PIPELINE_REPO/otel-collector-agent.yaml")
		to_next=127.0.0.1:$gg
	fi

	if [[ ${PIPELINE_FILE_EXPORT:-0} == 1 ]] && ((gateway)); then
		extra+=(--config "$PIPELINE_HERE/collector-agent-file-exporter.yaml")
	elif [[ ${PIPELINE_FILE_EXPORT:-0} == 1 ]]; then
		extra+=(--config "$PIPELINE_HERE/collector-file-exporter.yaml")
	fi
	if [[ -n ${PIPELINE_EXTRA_CONFIG:-} ]]; then
		IFS=: read -ra files <<<"$PIPELINE_EXTRA_CONFIG"
		for f in "${files[@]}"; do extra+=(--config "$f"); done
	fi
	for ((i = 1; i <= ${PIPELINE_EXTRA_PORTS:-0}; i++)); do
		extra_env+=("OTELCOL_EXTRA_PORT_$i=${PORTS[7 + i]}")
	done
	env "${extra_env[@]}" \
		"OTELCOL_GRPC_ENDPOINT=127.0.0.1:$cg" "OTELCOL_HTTP_ENDPOINT=127.0.0.1:$ch" \
		"OTELCOL_HEALTH_ENDPOINT=127.0.0.1:$hc" "OTELCOL_METRICS_PORT=$cm" \
		"JAEGER_OTLP_GRPC_ENDPOINT=127.0.0.1:$jg" "OTELCOL_GATEWAY_ENDPOINT=$to_next" \
		"OTELCOL_FILE_EXPORT_PATH=$dir/otelcol-export.jsonl" \
		"$OTELCOL_BIN" --config "$PIPELINE_REPO/otel-collector.yaml" "${extra[@]}" \
		>"$dir/otelcol.log" 2>&1 </dev/null &
	echo $! >"$dir/otelcol.pid"
	# health_check turns 200 only after every pipeline, receivers included, started.
	wait_for otelcol otelcol-buildtrace "health check" http_ok "http://127.0.0.1:$hc/" || return 1

	{
		echo "# buildtrace local pipeline (scripts/pipeline/pipeline.sh), started $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "# Use: set -a; . $(printf '%q' "$envfile"); set +a"
		printf 'PIPELINE_DIR=%q\n' "$dir"
		echo "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$cg"
		echo "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"
		echo "PIPELINE_OTLP_GRPC_ENDPOINT=http://127.0.0.1:$cg"
		echo "PIPELINE_OTLP_HTTP_ENDPOINT=http://127.0.0.1:$ch"
		echo "JAEGER_QUERY_URL=http://127.0.0.1:$qh"
		echo "JAEGER_QUERY_GRPC_ENDPOINT=127.0.0.1:$qg"
		echo "JAEGER_OTLP_GRPC_ENDPOINT=127.0.0.1:$jg"
		echo "JAEGER_OTLP_HTTP_ENDPOINT=127.0.0.1:$jh"
		echo "OTELCOL_HEALTH_URL=http://127.0.0.1:$hc/"
		echo "OTELCOL_METRICS_URL=http://127.0.0.1:$cm/metrics"
		if [[ ${PIPELINE_FILE_EXPORT:-0} == 1 ]]; then printf 'PIPELINE_FILE_EXPORT_PATH=%q\n' "$dir/otelcol-export.jsonl"; fi
		for ((i = 1; i <= ${PIPELINE_EXTRA_PORTS:-0}; i++)); do
			echo "PIPELINE_EXTRA_PORT_$i=${PORTS[7 + i]}"
		done
		echo "PIPELINE_JAEGER_STORAGE=$storage"
		if [[ $storage == badger ]]; then printf 'JAEGER_BADGER_DIR=%q\n' "$badger_dir"; fi
		if ((gateway)); then
			echo "PIPELINE_GATEWAY=1"
			echo "GATEWAY_OTLP_GRPC_ENDPOINT=http://127.0.0.1:$gg"
			echo "GATEWAY_OTLP_HTTP_ENDPOINT=http://127.0.0.1:$gh"
			echo "GATEWAY_HEALTH_URL=http://127.0.0.1:$ghc/"
			echo "GATEWAY_METRICS_URL=http://127.0.0.1:$gm/metrics"
			echo "GATEWAY_PID=$(cat "$dir/gateway.pid")"
			printf 'GATEWAY_LOG=%q\n' "$dir/gateway.log"
		fi
		echo "OTELCOL_PID=$(cat "$dir/otelcol.pid")"
		echo "JAEGER_PID=$(cat "$dir/jaeger.pid")"
		printf 'OTELCOL_LOG=%q\nJAEGER_LOG=%q\n' "$dir/otelcol.log" "$dir/jaeger.log"
	} >"$envfile.tmp"
	mv "$envfile.tmp" "$envfile"
}

start() {
	local attempt t0=$SECONDS
	mkdir -p "$dir"
	if [[ -f $envfile ]] && alive otelcol otelcol-buildtrace && alive jaeger jaeger &&
		{ [[ ! -f $dir/gateway.pid ]] || alive gateway otelcol-gateway; }; then
		echo "already running; state in $dir"
		grep -v '^#' "$envfile"
		return 0
	fi
	stop_all >/dev/null # whatever a half-failed earlier start left
	"$PIPELINE_HERE/setup.sh"
	pipeline_resolve_paths
	for attempt in 1 2 3; do
		pick_ports $((8 + ${PIPELINE_EXTRA_PORTS:-0} + 4 * gateway))
		if launch; then
			echo "pipeline up in $(bt_fmt_secs $((SECONDS - t0))); state in $dir:"
			grep -v '^#' "$envfile"
			return 0
		fi
		stop_all >/dev/null
		grep -qsi 'address already in use' "$dir/jaeger.log" "$dir/otelcol.log" "$dir/gateway.log" || break
		echo "a chosen port was taken meanwhile; retrying with others (attempt $attempt)" >&2
	done
	bt_die "the pipeline did not start; logs: $dir/*.log"
}

# The value of KEY in pipeline.env, without the quoting printf %q added.
env_value() {
	local line
	line=$(grep -m1 "^$1=" "$envfile") || return 1
	eval "printf '%s' ${line#*=}"
}

restart_jaeger() {
	local jg jh qh qg old t0=$SECONDS
	if ! { [[ -f $envfile ]] && alive jaeger jaeger; }; then
		bt_die "no running pipeline in $dir to restart Jaeger in"
	fi
	pipeline_resolve_paths
	storage=$(env_value PIPELINE_JAEGER_STORAGE || echo memory)
	badger_dir=$(env_value JAEGER_BADGER_DIR || true)
	jg=$(env_value JAEGER_OTLP_GRPC_ENDPOINT)
	jh=$(env_value JAEGER_OTLP_HTTP_ENDPOINT)
	qh=$(env_value JAEGER_QUERY_URL)
	qg=$(env_value JAEGER_QUERY_GRPC_ENDPOINT)
	old=$(cat "$dir/jaeger.pid")
	# stop_one returns once the process has exited (Badger has closed its
	# files and released its directory lock).
	stop_one jaeger jaeger
	deadline=$((SECONDS + timeout))
	echo "--- restarted by pipeline.sh restart-jaeger $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$dir/jaeger.log"
	launch_jaeger "${jg##*:}" "${jh##*:}" "${qh##*:}" "${qg##*:}" ||
		bt_die "Jaeger did not start again; log: $dir/jaeger.log"
	sed -i "s/^JAEGER_PID=.*/JAEGER_PID=$(cat "$dir/jaeger.pid")/" "$envfile"
	echo "jaeger restarted in $(bt_fmt_secs $((SECONDS - t0))) (pid $old -> $(cat "$dir/jaeger.pid"), storage $storage)"
}

status() {
	local rc=0 name bin
	for name in jaeger gateway otelcol; do
		bin=$name
		[[ $name == otelcol ]] && bin=otelcol-buildtrace
		if [[ $name == gateway ]]; then
			[[ -f $dir/gateway.pid ]] || continue
			bin=otelcol-gateway
		fi
		if alive "$name" "$bin"; then
			echo "$name: running (pid $(cat "$dir/$name.pid"))"
		else
			echo "$name: stopped"
			rc=3
		fi
	done
	if ((rc == 0)) && [[ -f $envfile ]]; then grep -v '^#' "$envfile"; fi
	return "$rc"
}

case "$cmd" in
start) start ;;
stop)
	stop_all
	echo "pipeline in $dir is stopped"
	;;
status) status ;;
restart-jaeger) restart_jaeger ;;
*)
	usage >&2
	exit 2
	;;
esac

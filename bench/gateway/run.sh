#!/usr/bin/env bash
# Gateway added latency and CPU per call: the same wrk load sent straight to a fast local upstream
# (nginx answering from memory) and through a gateway-only Tollgate node, at 1, 16 and 64
# connections, non-streaming and streaming. Admission and event publishing are on: a ledger node
# (with the in-process Kafka broker) runs beside it and charges every call.
#
# In production the ledger runs on other machines, so here the threads that charge (its Kafka
# intake, the views, Axon's processors, the balance publisher, the database pool) and the
# PostgreSQL backends of the benchmark's database run at the lowest CPU priority (nice 19): they
# still charge every call, but take only the CPU the measured path leaves idle. The broker in that
# JVM and the JVM's own threads (GC, JIT) keep the normal priority: the gateway's acks=all sends
# wait on the broker, and niced with the rest it stopped answering within the producer's timeouts,
# which sent every event down the journal path (an fsync per call) instead. Before each row the
# script waits until the gateway's outbox journal is empty, and warns if a row used it.
#
#   ./mvnw -q -DskipTests package && flock /tmp/tollgate-bench.lock bench/gateway/run.sh [seconds]
#
# seconds per row: default 20. Optional environment: BENCH_WARMUP (seconds of warm-up per mode,
# default 30: with less the JIT was still compiling during the first rows), BENCH_MODES
# ("json sse"), BENCH_CONNS ("1 16 64"), GATEWAY_JAVA (the gateway's java, default the one on the
# PATH), GATEWAY_JAVA_OPTS (extra JVM options of the gateway), BENCH_NGINX_PROXY (1: also measure
# nginx as a plain reverse proxy, the issue's yardstick),
# BENCH_CHARGING (alongside, default: the ledger charges while the gateway is measured; paused: the
# broker in a JVM of its own and the ledger stopped during each gateway row, see below; BROKER_JAVA
# and BROKER_JAVA_OPTS then choose that JVM and its options),
# LEDGER_NICE (19), BENCH_STRACE (1: count the gateway's system calls for 5 s of each 16-connection row
# into the work directory), and ASYNC_PROFILER=/path/to/libasyncProfiler.so (from the Maven Central jar
# tools.profiler:async-profiler:4.6, its linux-x64/ entry) to write a profile of the gateway during each
# 16-connection row into the work directory (ASYNC_PROFILER_EVENT: cpu, default, or alloc with
# ASYNC_PROFILER_INTERVAL=256k), and BENCH_SLICES (interleaved p99 rounds after the rows, below).
#
# Needs: wrk and nginx (Debian: apt-get install wrk nginx-light), PostgreSQL on 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
. bench/gateway/common.sh
duration=${1:-20}
warmup=${BENCH_WARMUP:-30}
modes=${BENCH_MODES:-json sse}
conns_list=${BENCH_CONNS:-1 16 64}
[ "$conns_list" = none ] && conns_list=""   # BENCH_CONNS=none: no rows, only the slices below
ledger_nice=${LEDGER_NICE:-19}
jar=${BENCH_JAR:-$root/app/target/tollgate.jar}
work=$(mktemp -d /tmp/tollgate-bench.XXXX)
echo "work directory: $work" >&2
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

bench/gateway/make-config.sh 1000 > "$work/api.yaml"
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS tollgate_bench WITH (FORCE)" -c "CREATE DATABASE tollgate_bench"

nginx -c "$root/bench/gateway/nginx.conf" -p "$work" 2> "$work/nginx.log" &
pids+=($!)
# For scale, BENCH_NGINX_PROXY=1 also measures nginx as a plain reverse proxy in front of the same
# upstream (port 18081), the reference the issue gives.
nginx_proxy=${BENCH_NGINX_PROXY:-}
if [ -n "$nginx_proxy" ]; then
  nginx -c "$root/bench/gateway/nginx-proxy.conf" -p "$work" 2> "$work/nginx-proxy.log" &
  nginx_proxy_pid=$!
  pids+=($nginx_proxy_pid)
fi
# CPU ticks (user + system) of the nginx proxy's worker processes.
nginx_proxy_ticks() { cat /proc/$(pgrep -d ' /proc/' -P "$nginx_proxy_pid" | sed 's| /proc/|/stat /proc/|g')/stat | awk '{s += $14 + $15} END {print s}'; }

# BENCH_CHARGING=paused: the broker runs in a JVM of its own (a gateway-only node that takes no
# calls) and the ledger node is stopped (SIGSTOP) while a row measures the gateway, then let catch
# up before the next row. Admission and event publishing stay on: the gateway still admits by the
# balances it holds and publishes every event to the broker with acks=all; only the charging, which
# production runs on other machines, is moved out of the measured seconds.
charging=${BENCH_CHARGING:-alongside}
if [ "$charging" = paused ]; then
  TOLLGATE_ROLES=gateway TOLLGATE_KAFKA_PORT=19092 SERVER_PORT=18002 \
    TOLLGATE_DATA_DIR="$work/broker" TOLLGATE_CONFIG="$work/api.yaml" \
    "${BROKER_JAVA:-java}" ${BROKER_JAVA_OPTS:-} -jar "$jar" > "$work/broker.log" 2>&1 &
  broker=$!
  pids+=($broker)
  started "$work/broker.log"
  ledger_kafka=(env KAFKA_BOOTSTRAP_SERVERS=localhost:19092)
else
  ledger_kafka=(env TOLLGATE_KAFKA_PORT=19092)
fi
"${ledger_kafka[@]}" TOLLGATE_ROLES=ledger,projections SERVER_PORT=18001 \
  TOLLGATE_DATA_DIR="$work/ledger" TOLLGATE_CONFIG="$work/api.yaml" \
  TOLLGATE_DB_URL=jdbc:postgresql://127.0.0.1:5432/tollgate_bench \
  java -jar "$jar" > "$work/ledger.log" 2>&1 &
ledger=$!
pids+=($ledger)
started "$work/ledger.log"
charged() { psql -h 127.0.0.1 -U postgres -d tollgate_bench -tAc "SELECT count(*) FROM domain_event_entry WHERE payload_type LIKE '%RequestCharged'"; }
# Until the charged count stands still for three seconds: the ledger has worked off its backlog.
caught_up() {
  local last=-1 now still=0
  for _ in $(seq 1 300); do
    now=$(charged)
    if [ "$now" = "$last" ]; then still=$((still + 1)); [ "$still" -ge 3 ] && return 0; else still=0; fi
    last=$now
    sleep 1
  done
  echo "warning: the ledger was still charging after 300 s ($now charged); this row runs beside it" >&2
}

# Threads started later inherit the priority of the thread that starts them; this runs again after
# the warm-up for those that did not exist yet. A thread or backend may end between the listing and
# its renice; that is no reason to stop the run.
renice_charging() {
  local task
  for task in /proc/"$ledger"/task/*; do
    case "$(cat "$task/comm" 2>/dev/null)" in
      tollgate-intake* | views-* | EmbeddedEventSt* | balance-publish* | HikariPool* | kafka-producer*)
        renice -n "$ledger_nice" -p "${task##*/}" > /dev/null 2>&1 || true ;;
      *) [ "$charging" = paused ] && { renice -n "$ledger_nice" -p "${task##*/}" > /dev/null 2>&1 || true; } ;;
    esac
  done
  # The database work of those charges, in the server's backends for the benchmark's database.
  for task in $(psql -h 127.0.0.1 -U postgres -tAc \
    "SELECT pid FROM pg_stat_activity WHERE datname = 'tollgate_bench'"); do
    renice -n "$ledger_nice" -p "$task" > /dev/null 2>&1 || true
  done
}
renice_charging

KAFKA_BOOTSTRAP_SERVERS=localhost:19092 TOLLGATE_ROLES=gateway SERVER_PORT=18000 \
  TOLLGATE_DATA_DIR="$work/gateway" TOLLGATE_CONFIG="$work/api.yaml" \
  "${GATEWAY_JAVA:-java}" ${GATEWAY_JAVA_OPTS:-} -jar "$jar" > "$work/gateway.log" 2>&1 &
gateway=$!
pids+=($gateway)
started "$work/gateway.log"

cpu_ticks() { ticks_of "$gateway"; }
# The ledger node's CPU (charging, the broker, their GC and JIT) and the whole machine's busy CPU,
# to show what else ran on the two cores while a row measured the gateway.
ledger_ticks() { ticks_of "$ledger"; }
broker_ticks() { ticks_of "${broker:-}"; }
host_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# CPU ticks of the kernel's DAMON threads: on the Firecracker VMs this ran on, a kdamond watching
# physical memory for the host's reclaim took 1 to 6 % of a core during rows, 40 % at peaks.
kdamond_ticks() {
  local pid total=0
  for pid in $(pgrep '^kdamond' || true); do total=$((total + $(ticks_of "$pid"))); done
  echo "$total"
}
system_ticks() { awk '{print $15}' "/proc/$gateway/stat"; }
# CPU ticks of the JIT compiler threads: on two busy cores C2 was still compiling through the rows
# after the warm-up, 15 to 30 % of the gateway's CPU, and how much of it falls into a row differs
# from run to run more than most changes do.
jit_ticks() {
  local task sum=0
  for task in /proc/"$gateway"/task/*; do
    case "$(cat "$task/comm" 2>/dev/null)" in
      C1\ CompilerThre* | C2\ CompilerThre*) sum=$((sum + $(awk '{print $14 + $15}' "$task/stat" 2>/dev/null || echo 0))) ;;
    esac
  done
  echo "$sum"
}
# Context switches of all the gateway's threads, voluntary and not.
switches() { cat /proc/"$gateway"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s}'; }

rate() { awk '/Requests\/sec/ {printf "%.0f", $2}' <<< "$1"; }

run_wrk() { # connections script url [seconds]
  local threads=$(( $1 < 2 ? 1 : 2 ))
  wrk -t"$threads" -c"$1" -d"${4:-$duration}s" --latency -s "$2" "$3"
}

echo "warming up the gateway" >&2
for mode in $modes; do
  run_wrk 16 "$(script_of "$mode")" http://127.0.0.1:18000/v1/chat/completions "$warmup" > /dev/null
done

printf '| mode | conns | direct p50 | direct p99 | gateway p50 | gateway p99 | added p50 | added p99 | gateway calls/s | gateway CPU ms/call |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
profile() { # start | stop file
  if [ -n "${BENCH_STRACE:-}" ] && [ "$1" = start ]; then
    # System calls by type, counted over 5 s of the row (strace slows the gateway while attached).
    (sleep 2; timeout -s INT 5 strace -c -f -p "$gateway" -o "$work/strace-$mode-$conns.txt") &
  fi
  [ -n "${ASYNC_PROFILER:-}" ] || return 0
  if [ "$1" = start ]; then
    jcmd "$gateway" JVMTI.agent_load "$ASYNC_PROFILER" "\"start,event=${ASYNC_PROFILER_EVENT:-cpu},interval=${ASYNC_PROFILER_INTERVAL:-1ms}\"" > /dev/null
  else
    jcmd "$gateway" JVMTI.agent_load "$ASYNC_PROFILER" "\"stop,collapsed,file=$2\"" > /dev/null
    echo "profile: $2" >&2
  fi
}

# A row measured while events wait in the journal would measure the fsync-per-call fallback, not
# the normal path: wait until Kafka has taken everything, and count journal episodes per row.
outbox_waiting() {
  curl -s http://127.0.0.1:18000/actuator/metrics/tollgate.outbox.waiting | sed -E 's/.*"value":([0-9.E]+).*/\1/'
}
journal_episodes() { grep -c "finished calls now wait in the outbox journal" "$work/gateway.log" || true; }
settle() {
  local waiting
  for _ in $(seq 1 60); do
    waiting=$(outbox_waiting)
    [ "${waiting%.*}" = 0 ] && return 0
    sleep 1
  done
  echo "the outbox journal still holds $waiting events" >&2
}
renice_charging
settle

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for mode in $modes; do
  script=$(script_of "$mode")
  for conns in $conns_list; do
    [ "$charging" = paused ] && caught_up
    direct=$(run_wrk "$conns" "$script" "http://127.0.0.1:18080/$mode/v1/chat/completions")
    echo "$direct" > "$work/wrk-$mode-$conns-direct.txt"
    d50=$(percentile "$direct" 50%); d99=$(percentile "$direct" 99%)
    if [ -n "$nginx_proxy" ]; then
      proxy_before=$(nginx_proxy_ticks); proxy_host_before=$(host_ticks)
      proxied=$(run_wrk "$conns" "$script" "http://127.0.0.1:18081/$mode/v1/chat/completions")
      proxy_after=$(nginx_proxy_ticks); proxy_host_after=$(host_ticks)
      echo "$proxied" > "$work/wrk-$mode-$conns-nginx-proxy.txt"
      echo "nginx as a reverse proxy, $mode $conns: p50 $(percentile "$proxied" 50%) p99 $(percentile "$proxied" 99%) ms (added $(awk -v a="$(percentile "$proxied" 50%)" -v b="$d50" 'BEGIN {print a - b}') and $(awk -v a="$(percentile "$proxied" 99%)" -v b="$d99" 'BEGIN {print a - b}')), $(rate "$proxied") calls/s, $(per_call $((proxy_after - proxy_before)) "$(requests "$proxied")") ms CPU/call, the machine $(per_call $((proxy_host_after - proxy_host_before)) "$(requests "$proxied")") in all" >&2
    fi
    [ "$conns" = 16 ] && profile start
    settle
    episodes=$(journal_episodes)
    before=$(cpu_ticks); system_before=$(system_ticks); switches_before=$(switches); jit_before=$(jit_ticks)
    ledger_before=$(ledger_ticks); host_before=$(host_ticks); broker_before=$(broker_ticks); kdamond_before=$(kdamond_ticks)
    [ "$charging" = paused ] && kill -STOP "$ledger"
    through=$(run_wrk "$conns" "$script" http://127.0.0.1:18000/v1/chat/completions)
    [ "$charging" = paused ] && kill -CONT "$ledger"
    echo "$through" > "$work/wrk-$mode-$conns-gateway.txt"
    after=$(cpu_ticks); system_after=$(system_ticks); switches_after=$(switches); jit_after=$(jit_ticks)
    ledger_after=$(ledger_ticks); host_after=$(host_ticks); broker_after=$(broker_ticks); kdamond_after=$(kdamond_ticks)
    [ "$conns" = 16 ] && profile stop "$work/profile-$mode-$conns.collapsed"
    [ "$(journal_episodes)" = "$episodes" ] || echo "WARNING: $mode $conns: events went to the outbox journal during the run" >&2
    g50=$(percentile "$through" 50%); g99=$(percentile "$through" 99%)
    calls=$(requests "$through")
    echo "gateway, $mode $conns: $(awk -v t=$((after - before)) -v s=$((system_after - system_before)) 'BEGIN {printf "%.0f", t ? 100 * s / t : 0}') % of its CPU in the kernel, $(awk -v c=$((switches_after - switches_before)) -v n="$calls" 'BEGIN {printf "%.1f", c / n}') context switches per call, $(awk -v t=$((after - before)) -v j=$((jit_after - jit_before)) 'BEGIN {printf "%.0f", t ? 100 * j / t : 0}') % in the JIT compiler threads, $(per_call $((after - before - jit_after + jit_before)) "$calls") ms CPU/call without them" >&2
    echo "machine, $mode $conns: $(per_call $((host_after - host_before)) "$calls") ms CPU/call in all, of which the ledger node (charging$([ "$charging" = paused ] && echo ", stopped" || echo " and the broker")) $(per_call $((ledger_after - ledger_before)) "$calls")$([ "$charging" = paused ] && echo ", the broker node $(per_call $((broker_after - broker_before)) "$calls")")$([ $((kdamond_after - kdamond_before)) -gt 0 ] && echo ", the kernel's kdamond $(per_call $((kdamond_after - kdamond_before)) "$calls")")" >&2
    cpu=$(per_call $((after - before)) "$calls")
    printf '| %s | %s | %s | %s | %s | %s | %.3f | %.3f | %s | %s |\n' "$mode" "$conns" "$d50" "$d99" "$g50" "$g99" \
      "$(awk -v a="$g50" -v b="$d50" 'BEGIN {print a - b}')" "$(awk -v a="$g99" -v b="$d99" 'BEGIN {print a - b}')" \
      "$(rate "$through")" "$cpu"
  done
done

# BENCH_SLICES=N: afterwards, the same loads again in N rounds of BENCH_SLICE_SECONDS (3) each,
# direct, nginx as a proxy (with BENCH_NGINX_PROXY) and gateway in turn, the order rotating per
# round, at 16 connections (BENCH_SLICE_CONNS). A row above runs its targets a minute apart, and on
# this host the direct load's own p99 moved between 3 and 19 ms from one minute to the next, so the
# difference of two rows' p99 was mostly the host. Interleaved slices see the same host; the table
# gives the median over rounds of each slice's p99, the median of the rounds' added p99 and how
# many rounds added under 1 ms. A typical window's p99 is not the run's p99: windows where the host
# stalled count once here, not by their calls. With BENCH_CHARGING=paused the ledger is stopped
# through the whole pass, so every target runs beside the same background. Each slice's start time
# is kept beside its p99 in the slices file ("gateway@=08:51:02.113"), to line up the slices with a
# log of the gateway's (GATEWAY_JAVA_OPTS="-Xlog:gc*:file=/tmp/gc.log:time,uptime" for its GC).
slices=${BENCH_SLICES:-0}
if [ "$slices" -gt 0 ]; then
  slice_seconds=${BENCH_SLICE_SECONDS:-3}
  slice_conns=${BENCH_SLICE_CONNS:-16}
  # Of the current mode's rounds: each round's p99 of a target, and its p99 above the direct load's.
  p99_of() { sed -E "s/.* $1=([0-9.]+).*/\1/" "$work/slices-$mode.txt"; }
  added_of() { paste -d' ' <(p99_of "$1") <(p99_of direct) | awk '{printf "%.3f\n", $1 - $2}'; }
  printf '\n| mode | conns | rounds of s | direct p99 (median) | gateway p99 (median) | added p99 (median of rounds) | rounds under 1 ms | nginx proxy p99, added (medians) |\n'
  printf '|---|---|---|---|---|---|---|---|\n'
  for mode in $modes; do
    script=$(script_of "$mode")
    [ "$charging" = paused ] && caught_up && kill -STOP "$ledger"
    : > "$work/slices-$mode.txt"
    targets="direct gateway"
    [ -n "$nginx_proxy" ] && targets="direct proxy gateway"
    for round in $(seq 1 "$slices"); do
      order=$targets
      for _ in $(seq 2 "$round"); do order="${order#* } ${order%% *}"; done
      line="$round"
      for target in $order; do
        case "$target" in
          direct) url="http://127.0.0.1:18080/$mode/v1/chat/completions" ;;
          proxy) url="http://127.0.0.1:18081/$mode/v1/chat/completions" ;;
          gateway) url=http://127.0.0.1:18000/v1/chat/completions ;;
        esac
        started_at=$(date +%T.%3N)
        out=$(run_wrk "$slice_conns" "$script" "$url" "$slice_seconds")
        line="$line $target=$(percentile "$out" 99%) $target@=$started_at"
      done
      echo "$line" >> "$work/slices-$mode.txt"
    done
    [ "$charging" = paused ] && kill -CONT "$ledger"
    under=$(added_of gateway | awk '$1 < 1 {n++} END {print n + 0}')
    proxy_cell=-
    [ -n "$nginx_proxy" ] && proxy_cell="$(p99_of proxy | median), $(added_of proxy | median)"
    printf '| %s | %s | %s of %s | %s | %s | %s | %s of %s | %s |\n' "$mode" "$slice_conns" "$slices" "$slice_seconds" \
      "$(p99_of direct | median)" "$(p99_of gateway | median)" "$(added_of gateway | median)" "$under" "$slices" "$proxy_cell"
    echo "slices: $work/slices-$mode.txt" >&2
  done
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "charged so far: $(charged)" >&2

#!/usr/bin/env bash
# A/B of two gateway set-ups on the same host at the same time: gateway A (port 18000) and gateway
# B (port 18010) run side by side, each a gateway-only node publishing to one broker node, with the
# ledger node stopped (SIGSTOP) through the measured seconds as in run.sh's BENCH_CHARGING=paused.
# After a warm-up of both, rounds of 3-second wrk slices at 16 connections go to the upstream
# directly, to A and to B, the order rotating per round, so both see the same host; an idle gateway
# takes no CPU from the other's slice. Each slice prints p50/p99 (ms)/calls per second/the
# gateway's CPU ms per call.
#
#   ./mvnw -q -DskipTests package && \
#     B_ENV="TOLLGATE_GATEWAY_TRANSPORT=epoll" flock /tmp/tollgate-bench.lock bench/gateway/ab.sh
#
# Prints each round, the medians, and in how many rounds B was below A (p99, CPU per call).
# Environment: A_ENV, B_ENV (extra environment of each gateway, e.g.
# TOLLGATE_GATEWAY_TRANSPORT=io_uring), A_JAR, B_JAR (default app/target/tollgate.jar), ROUNDS
# (10), BENCH_MODES ("json sse"), BENCH_WARMUP (30 s per gateway and mode), GATEWAY_JAVA and
# GATEWAY_JAVA_OPTS (default: the java on the PATH, no options).
# Needs: wrk and nginx (Debian: apt-get install wrk nginx-light), PostgreSQL on 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
. bench/gateway/common.sh
jar=$root/app/target/tollgate.jar
work=$(mktemp -d /tmp/tollgate-ab.XXXX)
echo "work directory: $work" >&2
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

bench/gateway/make-config.sh 1000 > "$work/api.yaml"
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS tollgate_ab WITH (FORCE)" -c "CREATE DATABASE tollgate_ab"
nginx -c "$root/bench/gateway/nginx.conf" -p "$work" 2> "$work/nginx.log" &
pids+=($!)
node() { # log [env...] -- java [options] jar
  local log=$1; shift
  env "$@" > "$log" 2>&1 &
  pids+=($!)
  started "$log"
}
common=(TOLLGATE_CONFIG="$work/api.yaml")
node "$work/broker.log" "${common[@]}" TOLLGATE_ROLES=gateway TOLLGATE_KAFKA_PORT=19092 SERVER_PORT=18002 \
  TOLLGATE_DATA_DIR="$work/broker" java -jar "$jar"
node "$work/ledger.log" "${common[@]}" KAFKA_BOOTSTRAP_SERVERS=localhost:19092 TOLLGATE_ROLES=ledger,projections \
  SERVER_PORT=18001 TOLLGATE_DATA_DIR="$work/ledger" TOLLGATE_DB_URL=jdbc:postgresql://127.0.0.1:5432/tollgate_ab \
  java -jar "$jar"
ledger=${pids[-1]}
gateway_java=${GATEWAY_JAVA:-java}
# shellcheck disable=SC2086 # the options and extra environment are word lists
node "$work/a.log" "${common[@]}" ${A_ENV:-} KAFKA_BOOTSTRAP_SERVERS=localhost:19092 TOLLGATE_ROLES=gateway \
  SERVER_PORT=18000 TOLLGATE_DATA_DIR="$work/a" "$gateway_java" ${GATEWAY_JAVA_OPTS:-} -jar "${A_JAR:-$jar}"
a=${pids[-1]}
# shellcheck disable=SC2086
node "$work/b.log" "${common[@]}" ${B_ENV:-} KAFKA_BOOTSTRAP_SERVERS=localhost:19092 TOLLGATE_ROLES=gateway \
  SERVER_PORT=18010 TOLLGATE_DATA_DIR="$work/b" "$gateway_java" ${GATEWAY_JAVA_OPTS:-} -jar "${B_JAR:-$jar}"
b=${pids[-1]}
echo "A: $(grep -h "serves on" "$work/a.log" | sed 's/.*: //')" >&2
echo "B: $(grep -h "serves on" "$work/b.log" | sed 's/.*: //')" >&2
kill -STOP "$ledger"

modes=${BENCH_MODES:-json sse}
echo "warming up both gateways" >&2
for mode in $modes; do
  for port in 18000 18010; do
    wrk -t2 -c16 -d"${BENCH_WARMUP:-30}s" -s "$(script_of "$mode")" "http://127.0.0.1:$port/v1/chat/completions" > /dev/null
  done
done
for mode in $modes; do
  script=$(script_of "$mode")
  for round in $(seq 1 "${ROUNDS:-10}"); do
    order="direct A B"
    for _ in $(seq 2 "$round"); do order="${order#* } ${order%% *}"; done
    line="$mode $round"
    for target in $order; do
      case $target in
        direct) url=http://127.0.0.1:18080/$mode/v1/chat/completions; pid= ;;
        A) url=http://127.0.0.1:18000/v1/chat/completions; pid=$a ;;
        B) url=http://127.0.0.1:18010/v1/chat/completions; pid=$b ;;
      esac
      before=$(ticks_of "$pid")
      out=$(wrk -t2 -c16 -d3s --latency -s "$script" "$url")
      after=$(ticks_of "$pid")
      calls=$(requests "$out")
      cpu=-
      [ -n "$pid" ] && cpu=$(per_call $((after - before)) "$calls")
      line="$line $target=$(percentile "$out" 50%)/$(percentile "$out" 99%)/$((calls / 3))/$cpu"
    done
    echo "$line"
  done
done | tee "$work/slices.txt"
# Medians per target and mode: p50, p99, calls/s, CPU ms per call.
for mode in $modes; do
  for target in direct A B; do
    field() { grep "^$mode " "$work/slices.txt" | sed -E "s|.* $target=([^ ]*).*|\1|" | cut -d/ -f"$1" | median; }
    cpu=""; [ "$target" != direct ] && cpu=", $(field 4) ms CPU/call"
    echo "medians, $mode $target: p50 $(field 1) ms, p99 $(field 2) ms, $(field 3 | cut -d. -f1) calls/s$cpu"
  done
  # Paired: in how many rounds B's p99 and CPU per call were below A's in the same round.
  grep "^$mode " "$work/slices.txt" | awk -v mode="$mode" '
    { for (i = 3; i <= NF; i++) { split($i, kv, "="); split(kv[2], v, "/"); p99[kv[1]] = v[2]; cpu[kv[1]] = v[4] }
      rounds++; if (p99["B"] < p99["A"]) lower++; if (cpu["B"] < cpu["A"]) cheaper++ }
    END { printf "rounds where B was below A, %s: p99 %d of %d, CPU per call %d of %d\n", mode, lower, rounds, cheaper, rounds }'
done

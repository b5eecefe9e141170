#!/usr/bin/env bash
# What an idle gateway node costs: start one (gateway role, with the in-process broker, as the
# README's run command does), let it settle for 30 s, then report its CPU over 30 idle seconds and
# every thread that woke more than 100 times or took more than 5 ms of CPU in them, from
# /proc/<pid>/task/<tid>/schedstat.
#
#   ./mvnw -q -DskipTests package && bench/gateway/idle.sh [jar]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/gateway/common.sh
jar=${1:-app/target/tollgate.jar}
work=$(mktemp -d /tmp/tollgate-idle.XXXX)
bench/gateway/make-config.sh 10 > "$work/api.yaml"
TOLLGATE_ROLES=gateway TOLLGATE_KAFKA_PORT=19192 SERVER_PORT=18102 TOLLGATE_DATA_DIR="$work/data" \
  TOLLGATE_CONFIG="$work/api.yaml" java -jar "$jar" > "$work/node.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
started "$work/node.log"
sleep 30
# thread name#tid, CPU ns, time slices
snapshot() {
  local task
  for task in /proc/"$pid"/task/*; do
    echo "$(tr ' ' _ < "$task/comm")#${task##*/} $(cut -d' ' -f1,3 "$task/schedstat")"
  done | sort
}
before=$(snapshot); ticks_before=$(ticks_of "$pid")
sleep 30
after=$(snapshot); ticks_after=$(ticks_of "$pid")
echo "the node's CPU over 30 idle seconds: $(( (ticks_after - ticks_before) * 1000 / ticks_per_second )) ms"
join <(echo "$before") <(echo "$after") |
  awk '{cpu = ($4 - $2) / 1e6; n = $5 - $3; if (n > 100 || cpu > 5) printf "  %-28s %7.1f ms CPU %6d wake-ups\n", $1, cpu, n}'

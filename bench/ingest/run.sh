#!/usr/bin/env bash
# End-to-end ingest: RequestCompleted events produced into Kafka as fast as possible and charged by
# a ledger node (in-process Kafka broker, local PostgreSQL), with charges/s and the delay from
# publish to charge stored.
#
#   ./mvnw -q -DskipTests install && bench/ingest/run.sh [events, default 200000] [events/s, default 0: flat out]
#
# INGEST_WARMUP=N first sends N events, unmeasured, to the same node, so the measured run sees a
# ledger whose JIT has compiled the intake path (a node that has just started spends a core on its
# compiler for the first minute). INGEST_ROLES sets the node's roles (default ledger,projections);
# LEDGER_JAVA the java that runs it (default the one on the PATH), LEDGER_JAVA_OPTS its options and
# INGEST_JAR the jar it runs (default app/target/tollgate.jar), for A/B runs of two builds.
# With the projections among the roles, a run ends when the views hold the last charge too, so
# its CPU figures include their work, and it also prints charges/s stored and projected.
# The harness's own JVM runs with the C1 compiler only (INGEST_JAVA_OPTS, default
# -XX:TieredStopAtLevel=1; set it empty for the JVM's default): it lives for one run, and C2
# compiling the Kafka client in it took CPU from the node under test on the same two cores
# (33 to 42 us per event against 18 to 25 us, bench/README.md).
# ASYNC_PROFILER=/path/to/libasyncProfiler.so profiles the node's CPU through the measured run
# (ASYNC_PROFILER_INTERVAL, default 5ms) into a collapsed-stacks file whose path is printed.
# MAVEN_ARGS (e.g. -Dmaven.repo.local=...) is passed to the Maven call that builds the classpath.
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and GNU time (/usr/bin/time, Debian's
# package "time") for the producer's CPU. DB_URL_OPTIONS is appended to the
# ledger's JDBC URL, e.g. "?reWriteBatchedInserts=true".
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
events=${1:-200000}
rate=${2:-0}
keys=1000
work=$(mktemp -d /tmp/tollgate-ingest.XXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

bench/gateway/make-config.sh "$keys" > "$work/api.yaml"
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS tollgate_ingest WITH (FORCE)" -c "CREATE DATABASE tollgate_ingest"

roles=${INGEST_ROLES:-ledger,projections}
views=false
case ",$roles," in *,projections,*) views=true ;; esac
TOLLGATE_ROLES=$roles TOLLGATE_KAFKA_PORT=19093 SERVER_PORT=18002 \
  TOLLGATE_DATA_DIR="$work/ledger" TOLLGATE_CONFIG="$work/api.yaml" \
  TOLLGATE_DB_URL="jdbc:postgresql://127.0.0.1:5432/tollgate_ingest${DB_URL_OPTIONS:-}" \
  "${LEDGER_JAVA:-java}" ${LEDGER_JAVA_OPTS:-} -jar "${INGEST_JAR:-$root/app/target/tollgate.jar}" > "$work/ledger.log" 2>&1 &
ledger_pid=$!
pids+=($ledger_pid)
for _ in $(seq 1 120); do grep -q "Started TollgateApplication" "$work/ledger.log" && break; sleep 1; done

# The bench module's classpath names the other modules' jars in the local Maven repository, so they
# must have been installed (./mvnw -q -DskipTests install), not only packaged.
if ! ./mvnw ${MAVEN_ARGS:-} -q -pl bench dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" > "$work/classpath.log" 2>&1; then
  echo "could not resolve the bench module's classpath (run ./mvnw -q -DskipTests install first); see $work/classpath.log" >&2
  exit 1
fi
ingest() { # events rate; the producer's user and system CPU seconds go to $work/producer-cpu.txt
  /usr/bin/time -f "%U %S" -o "$work/producer-cpu.txt" java ${INGEST_JAVA_OPTS--XX:TieredStopAtLevel=1} -Dingest.views=$views -cp "bench/target/classes:$(cat "$work/cp.txt")" io.tollgate.bench.IngestBench \
    localhost:19093 tollgate.requests jdbc:postgresql://127.0.0.1:5432/tollgate_ingest "$1" "$keys" "$2"
}
if [ "${INGEST_WARMUP:-0}" -gt 0 ]; then
  echo "warm-up: ${INGEST_WARMUP} events, not measured" >&2
  ingest "$INGEST_WARMUP" 0 > "$work/warmup.txt"
fi
# CPU ticks (user + system) of the ledger node's JVM (with the in-process broker) and of every
# PostgreSQL process, so the run also gives CPU per charge: steadier than charges/s on a shared host.
jvm_ticks() { awk '{print $14 + $15}' "/proc/$ledger_pid/stat"; }
pg_ticks() { for p in $(pgrep -u postgres); do cat "/proc/$p/stat" 2>/dev/null; done | awk '{s += $14 + $15} END {print s + 0}'; }
profile() { # async-profiler command, e.g. start,event=cpu,interval=5ms,threads
  [ -n "${ASYNC_PROFILER:-}" ] && jcmd "$ledger_pid" JVMTI.agent_load "$ASYNC_PROFILER" "\"$1\"" > /dev/null
  return 0
}
profile "start,event=cpu,interval=${ASYNC_PROFILER_INTERVAL:-5ms},threads"
wal_lsn() { psql -h 127.0.0.1 -U postgres -Atqc "SELECT pg_current_wal_lsn()"; }
jvm0=$(jvm_ticks); pg0=$(pg_ticks); wal0=$(wal_lsn)
ingest "$events" "$rate"
wal_bytes=$(psql -h 127.0.0.1 -U postgres -Atqc "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$wal0')")
profile "stop,collapsed,threads,file=$work/profile.collapsed"
hz=$(getconf CLK_TCK)
awk -v j=$(( $(jvm_ticks) - jvm0 )) -v p=$(( $(pg_ticks) - pg0 )) -v n="$events" -v hz="$hz" \
  'BEGIN {printf "CPU per charge: ledger JVM %.0f us, PostgreSQL %.0f us\n", j * 1e6 / hz / n, p * 1e6 / hz / n}'
# The cluster's write-ahead log written during the run (this benchmark is its only writer): the
# database's work per charge in bytes, far steadier than its CPU time on a shared host (to half a
# percent between runs a minute apart, a few percent across a session).
awk -v w="$wal_bytes" -v n="$events" 'BEGIN {printf "PostgreSQL WAL per charge: %.0f bytes\n", w / n}'
# The harness's own JVM (it publishes every event, then watches the store) shares the two cores.
awk -v n="$events" '{printf "harness JVM (producer and watcher, start-up included) CPU per event: %.0f us, not in the figures above\n", ($1 + $2) * 1e6 / n}' "$work/producer-cpu.txt"
echo "ledger log: $work/ledger.log" >&2
[ -n "${ASYNC_PROFILER:-}" ] && echo "profile of the measured run: $work/profile.collapsed" >&2
exit 0

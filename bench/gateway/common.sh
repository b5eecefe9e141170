# Helpers shared by bench/gateway/run.sh and ab.sh (sourced from the repository's root).

# Waits up to 120 s for a Tollgate node's log to say it started.
started() { # log file
  for _ in $(seq 1 120); do grep -q "Started TollgateApplication" "$1" && return 0; sleep 1; done
  echo "no start, see $1" >&2; exit 1
}

# wrk's Lua script for a mode: json or sse.
script_of() { if [ "$1" = sse ]; then echo bench/gateway/chat-stream.lua; else echo bench/gateway/chat.lua; fi; }

# CPU ticks (user + system) of a process, 0 for none.
ticks_of() { if [ -n "$1" ]; then awk '{print $14 + $15}' "/proc/$1/stat"; else echo 0; fi; }
ticks_per_second=$(getconf CLK_TCK)
per_call() { awk -v t="$1" -v hz="$ticks_per_second" -v n="$2" 'BEGIN {printf "%.3f", t * 1000 / hz / n}'; } # ticks calls → CPU ms per call

# wrk's latency percentiles in ms; wrk prints them as 1.23ms, 456.00us or 1.20s.
percentile() { # output, label
  awk -v label="$2" '$1 == label {
    v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) }
    else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.3f", v }' <<< "$1"
}
requests() { awk '/requests in/ {print $1}' <<< "$1"; }

# The median of the numbers on standard input, one per line.
median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

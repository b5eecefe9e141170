#!/usr/bin/env bash
# Writes the benchmark's api.yaml: the fast upstream, and N unlimited token keys sk-bench-0..N-1.
set -euo pipefail
keys=${1:-1000}
cat <<YAML
providers:
  - provider: fast
    base_url: http://127.0.0.1:18080/json/v1/chat/completions
    model: [fast]
  - provider: fast-stream
    base_url: http://127.0.0.1:18080/sse/v1/chat/completions
    model: [fast-stream]
api_keys:
YAML
for i in $(seq 0 $((keys - 1))); do
  echo "  - api: sk-bench-$i"
done
cat <<YAML
preferences:
  model_price:
    default: 1,2
YAML

#!/usr/bin/env bash
# P1: orchestration overhead per run. 1,000 runs of a no-op trainer through a coordinator and four
# one-slot workers on this machine, against `xargs -P4` running the same trainer command (the
# fork/exec floor: Python start-up and exit, no protocol). Prints wall times, per-run costs and the
# coordinator's CPU time and peak RSS. Run by hand (not a test); record results in docs/benchmarks.md.
#
#   Benchmarks/p1-overhead.sh [RUNS] [MIXLAB_BINARY]
set -euo pipefail
runs="${1:-1000}"
mixlab="${2:-$(cd "$(dirname "$0")/.." && pwd)/.build/release/mixlab}"
[ -x "$mixlab" ] || { echo "build it first: swift build -c release --product mixlab" >&2; exit 1; }
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mktemp -d /tmp/mixlab-p1.XXXX)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
cp "$root/clients/python/mixlab_trainer.py" "$dir/"
cat > "$dir/noop.py" <<'PY'
import os
if os.environ.get("MIXLAB_CONTROL"):
    import mixlab_trainer
    with mixlab_trainer.connect() as t:
        t.eval(1, 1, {d: 1.0 for d in mixlab_trainer.mixture()})
        t.done()
PY

echo "== floor: xargs -P4 over $runs runs"
start=$(date +%s.%N)
seq "$runs" | xargs -P4 -I{} env PYTHONPATH="$dir" python3 "$dir/noop.py" {}
floor=$(echo "$(date +%s.%N) - $start" | bc)
echo "floor wall ${floor}s, per run $(echo "scale=2; $floor * 1000 / $runs" | bc) ms (4 in parallel)"

"$mixlab" certs init --dir "$dir/certs" >/dev/null
"$mixlab" certs issue --dir "$dir/certs" --role coordinator coordinator >/dev/null
"$mixlab" certs issue --dir "$dir/certs" --role client bench >/dev/null
for i in 1 2 3 4; do "$mixlab" certs issue --dir "$dir/certs" --role worker "w$i" >/dev/null; done
/usr/bin/time -v -o "$dir/coordinator.time" "$mixlab" coordinator --listen 127.0.0.1:0 --database "sqlite:$dir/p1.db" \
    --ca "$dir/certs/ca.pem" --cert "$dir/certs/coordinator.pem" --key "$dir/certs/coordinator.key" > "$dir/coordinator.log" 2>&1 &
coordinator=$!
until grep -q "listening on" "$dir/coordinator.log"; do sleep 0.1; done
port=$(grep -o "127.0.0.1:[0-9]*" "$dir/coordinator.log" | head -1 | cut -d: -f2)
for i in 1 2 3 4; do
  PYTHONPATH="$dir" "$mixlab" worker --coordinator "127.0.0.1:$port" --ca "$dir/certs/ca.pem" --cert "$dir/certs/w$i.pem" \
      --key "$dir/certs/w$i.key" --cpu-slots 1 --work-dir "$dir/w$i" > "$dir/w$i.log" 2>&1 &
done
cat > "$dir/sweep.yaml" <<YAML
name: p1
domains: [{name: a, path: /dev/null}, {name: b, path: /dev/null}]
design: {kind: dirichlet, runs: $runs, seed: 1}
trainer:
  command: ["python3", "$dir/noop.py", "{run_id}"]
  env: {PYTHONPATH: "$dir"}
  resources: {cpus: 1}
YAML
export MIXLAB_COORDINATOR="127.0.0.1:$port" MIXLAB_CA="$dir/certs/ca.pem" MIXLAB_CERT="$dir/certs/bench.pem" MIXLAB_KEY="$dir/certs/bench.key"
echo "== mixlab: $runs runs over 4 workers"
start=$(date +%s.%N)
id=$("$mixlab" sweep submit "$dir/sweep.yaml")
until "$mixlab" sweep show "$id" --json | grep -q '"state" : "completed"'; do sleep 0.2; done
wall=$(echo "$(date +%s.%N) - $start" | bc)
"$mixlab" sweep show "$id"
echo "mixlab wall ${wall}s, per run $(echo "scale=2; $wall * 1000 / $runs" | bc) ms; ratio to floor $(echo "scale=2; $wall / $floor" | bc)"
pkill -TERM -P "$coordinator"; wait "$coordinator" || true   # TERM the coordinator, not /usr/bin/time
grep -E "User time|System time|Maximum resident" "$dir/coordinator.time"

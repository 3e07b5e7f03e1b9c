#!/usr/bin/env python3
"""Online decision latency: how long a trainer waits at each segment boundary for Aioli's next
segment when MixLab drives it (results in docs/benchmarks.md).

A null trainer does no training: it answers every segment at once with losses that are a fixed
function of how much it has seen of each domain, so all the time between its `next` and the reply
is MixLab's: trainer → worker (Unix socket) → coordinator (mutual TLS gRPC) → the run's Aioli
controller → the decision, its losses and the controller state stored durably → back. Every `next`
is timed in the trainer; the script reports percentiles over all decisions and the decisions per
second of the whole sweep, for `--runs` concurrent online runs, on the embedded SQLite store and,
with --postgres, on a throwaway PostgreSQL 15 cluster.

The peer is Aioli's reference implementation, which computes the next mixture inside the training
process: no I/O, no durability, and nothing survives a restart of that process.

    python3 Benchmarks/online_latency.py --mixlab .build/release/mixlab --out /tmp/online-latency [--postgres]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from method_evidence import Cluster, sh  # noqa: E402

NULL_TRAINER = r'''
import json, math, os, sys, time
import mixlab_trainer as mt

out, run = sys.argv[1], sys.argv[2].replace("/", "_")
seen = {d: 0.0 for d in mt.mixture()}
def losses():
    # Loss falls with the tokens seen of the domain itself and a little with the others'.
    total = sum(seen.values())
    return {d: 4.0 - 0.3 * math.log1p(seen[d] / 64) - 0.05 * math.log1p(total / 256) for d in seen}
step, waits = 0, []
with mt.connect() as trainer:
    while True:
        trainer.eval(step, step * 64, losses())
        started = time.perf_counter()
        reply = trainer.next(step)
        waits.append(time.perf_counter() - started)
        if reply is None:
            break
        weights, steps = reply
        for d, w in weights.items():
            seen[d] += w * steps
        step += steps
    trainer.eval(step, step * 64, losses())
    trainer.done()
with open(os.path.join(out, run + ".json"), "w") as f:
    json.dump(waits, f)
'''


def start_postgres(directory):
    """A throwaway cluster on a Unix socket; returns (database URL, stop function)."""
    versions = sorted(os.listdir("/usr/lib/postgresql"), reverse=True) if os.path.isdir("/usr/lib/postgresql") else []
    binaries = next((f"/usr/lib/postgresql/{v}/bin" for v in versions), None)
    if binaries is None:
        sys.exit("--postgres needs PostgreSQL's initdb and pg_ctl: apt-get install -y postgresql")
    data, sockets = os.path.join(directory, "pgdata"), os.path.join(directory, "pgsock")
    os.makedirs(sockets, exist_ok=True)
    as_postgres = ["/usr/sbin/runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(directory, "postgres")
        shutil.chown(sockets, "postgres")
    port = 20000 + os.getpid() % 30000
    sh(as_postgres + [f"{binaries}/initdb", "-D", data, "-U", "mixlab", "--auth=trust", "-E", "UTF8"])
    sh(as_postgres + [f"{binaries}/pg_ctl", "-D", data, "-l", os.path.join(directory, "pg.log"), "-w", "start",
                      "-o", f"-k {sockets} -p {port} -c listen_addresses=''"])
    sh([f"{binaries}/psql", "-h", sockets, "-p", str(port), "-U", "mixlab", "-d", "postgres", "-c", "CREATE DATABASE mixlab"])

    def stop():
        subprocess.run(as_postgres + [f"{binaries}/pg_ctl", "-D", data, "-m", "fast", "stop"], capture_output=True)
    return f"postgres://mixlab@/mixlab?host={sockets}&port={port}", stop


def percentile(sorted_values, q):
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixlab", default=".build/release/mixlab")
    parser.add_argument("--out", default="mixlab-online-latency")
    parser.add_argument("--runs", type=int, default=4, help="concurrent online runs (workers × slots)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--domains", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--sweeps-per-round", type=int, default=4)
    parser.add_argument("--postgres", action="store_true", help="store on a throwaway PostgreSQL cluster instead of SQLite")
    args = parser.parse_args()
    mixlab = os.path.abspath(args.mixlab)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.abspath(args.out)
    shutil.rmtree(out, ignore_errors=True)
    waits_dir = os.path.join(out, "waits")
    os.makedirs(waits_dir)
    shutil.copy(os.path.join(root, "clients/python/mixlab_trainer.py"), out)
    with open(os.path.join(out, "null_trainer.py"), "w") as f:
        f.write(NULL_TRAINER)

    database, stop_postgres = (None, None)
    if args.postgres:
        database, stop_postgres = start_postgres(os.path.join(out, "pg"))
    slots = -(-args.runs // args.workers)
    cluster = Cluster(mixlab, out, args.workers, database=database, cpu_slots=slots)
    try:
        domains = [f"d{i}" for i in range(args.domains)]
        # Steps per round: the learn segments (sweeps × domains × 4 steps) and a main segment of 16×.
        steps = args.rounds * args.sweeps_per_round * args.domains * 4 * 16
        uniform = "{" + ", ".join(f"{d}: {1 / len(domains)}" for d in domains) + "}"
        command = ["python3", os.path.join(out, "null_trainer.py"), waits_dir, "{run_id}"]
        spec = f"""name: online-latency
domains:
{chr(10).join(f"  - {{name: {d}, path: /dev/null}}" for d in domains)}
design: {{kind: list, mixtures: [{uniform}]}}
trainer:
  command: {json.dumps(command)}
  env: {{PYTHONPATH: "{out}"}}
  resources: {{cpus: 1}}
scales:
{chr(10).join(f"  - {{steps: {steps}, seed: {seed}}}" for seed in range(1, args.runs + 1))}
run_seeds: shared
online:
  method: aioli
  rounds: {args.rounds}
  params: {{sweeps_per_round: {args.sweeps_per_round}, interval_steps: 4}}
  command: {json.dumps(command)}
laws: []
"""
        started = time.time()
        sweep = cluster.submit("online-latency", spec)
        status = cluster.wait(sweep)
        wall = time.time() - started
        if status["state"] != "completed" or any(r["state"] != "succeeded" for r in cluster.runs(sweep)):
            sys.exit(f"sweep {sweep} did not succeed: {json.dumps(status)}; see {out}/w*.log")
        waits = []
        for name in sorted(os.listdir(waits_dir)):
            with open(os.path.join(waits_dir, name)) as f:
                waits += json.load(f)
        waits.sort()
        ms = [w * 1000 for w in waits]
        result = {
            "store": "postgresql" if args.postgres else "sqlite", "runs": args.runs, "domains": args.domains,
            "rounds": args.rounds, "decisions": len(ms), "decisions_per_run": len(ms) / args.runs,
            "p50_ms": percentile(ms, 0.5), "p95_ms": percentile(ms, 0.95), "p99_ms": percentile(ms, 0.99),
            "max_ms": ms[-1], "mean_ms": statistics.fmean(ms), "sweep_seconds": wall,
            "decisions_per_second": len(ms) / wall,
        }
        with open(os.path.join(out, "result.json"), "w") as f:
            json.dump(result, f, indent=2)
        print(json.dumps(result))
        print(f"| {result['store']} | {args.runs} | {len(ms)} | {result['p50_ms']:.1f} | {result['p95_ms']:.1f} | "
              f"{result['p99_ms']:.1f} | {result['max_ms']:.1f} | {result['decisions_per_second']:.0f} |")
    finally:
        cluster.stop()
        if stop_postgres:
            stop_postgres()


if __name__ == "__main__":
    main()

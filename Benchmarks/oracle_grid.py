#!/usr/bin/env python3
"""Dense-grid oracle for docs/results.md: trains every mixture on a simplex grid of step 1/k at one
seed (the same budget as Benchmarks/method_evidence.py) and reports where a given mixture (the
DML recommendation) ranks among them, with the best grid mixture's loss.

    python3 Benchmarks/oracle_grid.py --mixlab .build/debug/mixlab --out /tmp/oracle \\
        --corpus mixlab-demo/corpus --mixture code=0.2523,docs=0.2483,math=0.1716,prose=0.3278

With --test-bytes T every mixture is ranked on the test slice (NAME.test) instead of the held-out
slice the DML mixture was fitted on.
"""
import argparse
import json
import os
import time

from method_evidence import Cluster, flow, mean_loss, spec


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixlab", default=".build/debug/mixlab")
    parser.add_argument("--out", default="mixlab-oracle")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--mixture", required=True, help="NAME=SHARE,… the mixture to rank")
    parser.add_argument("--k", type=int, default=10, help="grid step 1/k")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--eval-bytes", type=int, default=8192)
    parser.add_argument("--test-bytes", type=int, default=0, help="rank on a test slice of this many positions per domain")
    args = parser.parse_args()

    mixlab, out, corpus = os.path.abspath(args.mixlab), os.path.abspath(args.out), os.path.abspath(args.corpus)
    os.makedirs(out, exist_ok=True)
    given = {name: float(share) for name, share in (part.split("=") for part in args.mixture.split(","))}
    domains = sorted(given)
    static = [mixlab, "proxy", "train", "--steps", "{steps}", "--seed", "{seed}", "--eval-every", "0", "--eval-bytes", str(args.eval_bytes)]
    measured = domains
    evaluation = ""
    if args.test_bytes:
        static += ["--test-bytes", str(args.test_bytes)]
        measured = [f"{d}.test" for d in domains]
        evaluation = f"eval_domains: {json.dumps(domains + measured)}"
    scales = [{"steps": args.steps, "seed": args.seed}]
    uniform = flow({d: 1 / len(domains) for d in domains}, domains)
    ranked = flow(given, domains)
    cluster = Cluster(mixlab, out, args.workers)
    started = time.time()
    try:
        grid = cluster.submit("oracle-grid", spec("oracle-grid", domains, corpus, f"{{kind: grid, k: {args.k}}}", static, scales, "laws: []", evaluation))
        pair = cluster.submit("oracle-pair", spec("oracle-pair", domains, corpus, f"{{kind: list, mixtures: [{ranked}, {uniform}]}}", static, scales, "laws: []", evaluation))
        cluster.wait(grid)
        cluster.wait(pair)
        grid_runs = [(mean_loss(r, measured), r["mixture"]) for r in cluster.runs(grid) if r["state"] == "succeeded"]
        grid_runs.sort(key=lambda item: item[0])
        pair_runs = {r["index"]: mean_loss(r, measured) for r in cluster.runs(pair) if r["state"] == "succeeded"}
        mixture_loss, uniform_loss = pair_runs.get(0), pair_runs.get(1)
        rank = 1 + sum(1 for loss, _ in grid_runs if loss < mixture_loss)
        result = {
            "measured_on": measured, "grid_points": len(grid_runs), "best": {"loss": grid_runs[0][0], "mixture": grid_runs[0][1]},
            "median_loss": grid_runs[len(grid_runs) // 2][0], "mixture": given, "mixture_loss": mixture_loss,
            "mixture_rank": rank, "stratified_loss": uniform_loss, "seconds": time.time() - started,
            "top5": [{"loss": loss, "mixture": mixture} for loss, mixture in grid_runs[:5]],
        }
        with open(os.path.join(out, "oracle.json"), "w") as f:
            json.dump(result, f, indent=2)
        print(json.dumps(result, indent=2))
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Evidence for the mixing methods on real proxy training (issue 6; results in docs/results.md).

Starts a coordinator and workers on loopback (throwaway CA, SQLite store), trains ProxyLM runs
through them, and compares, at the same number of training steps per run and for each of the
evaluation seeds:

  stratified      equal shares
  grid            the best of `--grid` static mixtures (Aioli's cover of the simplex), picked per seed
  dml             the DML law's optimum, fitted on a separate Dirichlet sweep (its own seed)
  aioli           Aioli, unrestricted (starts from uniform; the coordinator drives it)
  aioli-restricted  Aioli after the first half of the run on stratified
  aioli-transfer  the proportions Aioli learned on quarter-length runs (their own seeds), trained
                  statically at full length

stratified, grid and aioli are one sweep (`online.compare`), and their rows are that sweep's
`mixlab sweep compare` output; the other methods are separate sweeps compared per seed with the
stratified runs of that sweep.

The number is the mean held-out cross-entropy (nats/byte) over the domains at the end of the run.
By default every method's final loss is measured on the same held-out slice that Aioli steers by
and that grid/dml select by. With --test-bytes T the runs also report a test slice (NAME.test, the
T positions after the held-out ones) and every method is judged on it instead.

    python3 Benchmarks/method_evidence.py --mixlab .build/debug/mixlab --out /tmp/evidence
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time


def sh(cmd, env=None):
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Cluster:
    def __init__(self, mixlab, directory, workers, database=None, cpu_slots=1):
        self.mixlab, self.directory = mixlab, directory
        certs = os.path.join(directory, "certs")
        sh([mixlab, "certs", "init", "--dir", certs, "--force"])
        for role, name in [("coordinator", "coordinator"), ("client", "bench")] + [("worker", f"w{i}") for i in range(workers)]:
            sh([mixlab, "certs", "issue", "--dir", certs, "--role", role, name, "--force"])
        log = open(os.path.join(directory, "coordinator.log"), "w")
        self.coordinator = subprocess.Popen(
            [mixlab, "coordinator", "--listen", "127.0.0.1:0", "--database", database or f"sqlite:{directory}/mixlab.db",
             "--ca", f"{certs}/ca.pem", "--cert", f"{certs}/coordinator.pem", "--key", f"{certs}/coordinator.key"],
            stdout=subprocess.PIPE, stderr=log, text=True)
        line = self.coordinator.stdout.readline()
        self.port = int(line.split("127.0.0.1:")[1].split()[0])
        self.workers = [
            subprocess.Popen(
                [mixlab, "worker", "--coordinator", f"127.0.0.1:{self.port}", "--ca", f"{certs}/ca.pem",
                 "--cert", f"{certs}/w{i}.pem", "--key", f"{certs}/w{i}.key", "--cpu-slots", str(cpu_slots),
                 "--work-dir", f"{directory}/work-w{i}", "--host", f"w{i}", "--drain", "hand-back"],
                stdout=open(os.path.join(directory, f"w{i}.log"), "w"), stderr=subprocess.STDOUT)
            for i in range(workers)]
        self.env = dict(os.environ, MIXLAB_COORDINATOR=f"127.0.0.1:{self.port}", MIXLAB_CA=f"{certs}/ca.pem",
                        MIXLAB_CERT=f"{certs}/bench.pem", MIXLAB_KEY=f"{certs}/bench.key")

    def cli(self, *args):
        return sh([self.mixlab, *args], env=self.env)

    def submit(self, name, text):
        path = os.path.join(self.directory, f"{name}.yaml")
        with open(path, "w") as f:
            f.write(text)
        return json.loads(self.cli("sweep", "submit", path, "--json"))["id"]

    def wait(self, sweep):
        while True:
            status = json.loads(self.cli("sweep", "show", sweep, "--json"))
            if status["state"] in ("completed", "cancelled"):
                return status
            time.sleep(1)

    def mixture(self, sweep, law):
        """The sweep's stored mixture for `law`, waiting up to two minutes for the fit after completion."""
        for _ in range(120):
            result = subprocess.run([self.mixlab, "sweep", "mixture", sweep, "--law", law, "--format", "json"],
                                    env=self.env, capture_output=True, text=True)
            if result.returncode == 0:
                return json.loads(result.stdout)["mixture"]
            time.sleep(1)
        sys.exit(f"no {law} mixture appeared for sweep {sweep}")

    def runs(self, sweep):
        return json.loads(self.cli("runs", "ls", sweep, "--json"))

    def compare(self, sweep, domains):
        return json.loads(self.cli("sweep", "compare", sweep, "--domains", ",".join(domains), "--json"))

    def stop(self):
        for process in self.workers + [self.coordinator]:
            process.send_signal(signal.SIGTERM)
        for process in self.workers + [self.coordinator]:
            process.wait(timeout=60)


def spec(name, domains, corpus, design, command, scales, extra="", evaluation=""):
    domain_lines = "\n".join(f'  - {{name: {d}, path: "{os.path.join(corpus, d)}"}}' for d in domains)
    scale_lines = "\n".join(f"  - {{steps: {s['steps']}, seed: {s['seed']}}}" for s in scales)
    return f"""name: {name}
domains:
{domain_lines}
design: {design}
trainer:
  command: {json.dumps(command)}
  resources: {{cpus: 1}}
  max_attempts: 2
scales:
{scale_lines}
run_seeds: shared
{evaluation}
{extra}
"""


def flow(shares, domains):
    """A `{domain: share, …}` YAML flow mapping in domain order."""
    return "{" + ", ".join(f"{d}: {shares[d]}" for d in domains) + "}"


def pair_seed(pair):
    """The seed of a `sweep compare` pair such as `seed=3 steps=4000`."""
    return int(dict(item.split("=", 1) for item in pair.split())["seed"])


def mean_loss(run, domains):
    losses = run.get("final_losses") or {}
    return sum(losses[d] for d in domains) / len(domains) if all(d in losses for d in domains) else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixlab", default=".build/debug/mixlab")
    parser.add_argument("--out", default="mixlab-evidence")
    parser.add_argument("--corpus", help="corpus folder (default: gather into OUT/corpus)")
    parser.add_argument("--domains", default="code,docs,math,prose")
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--grid", type=int, default=10)
    parser.add_argument("--search-runs", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--eval-bytes", type=int, default=8192)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--test-bytes", type=int, default=0,
                        help="judge every method on a test slice of this many positions after the held-out one (NAME.test), "
                             "while Aioli steers and grid/dml select on the held-out slice (0: judge on the held-out slice)")
    args = parser.parse_args()

    mixlab = os.path.abspath(args.mixlab)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    domains = sorted(args.domains.split(","))
    corpus = os.path.abspath(args.corpus) if args.corpus else os.path.join(out, "corpus")
    if not args.corpus and not os.path.exists(os.path.join(corpus, "manifest.json")):
        sh([mixlab, "corpus", "gather", "--out", corpus, "--domains", ",".join(domains), "--cap-mib", "2"])
    seeds = list(range(1, args.seeds + 1))
    scales = [{"steps": args.steps, "seed": s} for s in seeds]
    evaluation_args = ["--eval-bytes", str(args.eval_bytes)] + (["--test-bytes", str(args.test_bytes)] if args.test_bytes else [])
    static = [mixlab, "proxy", "train", "--steps", "{steps}", "--seed", "{seed}", "--eval-every", "0"] + evaluation_args
    online = [mixlab, "proxy", "train", "--online", "--seed", "{seed}"] + evaluation_args
    # The loss every method is judged by: the held-out slice, or with --test-bytes the test slice no method saw.
    measured = [f"{d}.test" for d in domains] if args.test_bytes else domains
    uniform = flow({d: 1 / len(domains) for d in domains}, domains)
    aioli = f"online: {{method: aioli, rounds: {args.rounds}, params: {{sweeps_per_round: 2, interval_steps: 4, eta: 0.2}}}}"
    restricted = (f"online: {{method: aioli, rounds: {args.rounds // 2}, init_steps: {args.steps // 2}, "
                  f"params: {{sweeps_per_round: 2, interval_steps: 4, eta: 0.2}}}}")
    objective = "objective: {targets: " + uniform + "}"
    evaluation = objective + (f"\neval_domains: {json.dumps(domains + measured)}" if args.test_bytes else "")
    # Aioli with its stratified and grid baselines in one sweep: same budgets and seeds, the static runs use trainer.command.
    compared = (f"online: {{method: aioli, rounds: {args.rounds}, params: {{sweeps_per_round: 2, interval_steps: 4, eta: 0.2}},\n"
                f"  command: {json.dumps(online)},\n  compare: {{stratified: true, grid: {args.grid}, grid_seed: 7}}}}")

    cluster = Cluster(mixlab, out, args.workers)
    started = time.time()
    try:
        methods = cluster.submit("methods", spec(
            "methods", domains, corpus, f"{{kind: list, mixtures: [{uniform}]}}", static, scales, f"{compared}\nlaws: []", evaluation))
        sweeps = {
            "aioli-restricted": cluster.submit("aioli-restricted", spec("aioli-restricted", domains, corpus, f"{{kind: list, mixtures: [{uniform}]}}", online, scales, restricted + "\nlaws: []", evaluation)),
        }
        # The DML search runs with its own seed (never an evaluation seed), then its optimum is trained at every evaluation seed.
        search = cluster.submit("dml-search", spec(
            "dml-search", domains, corpus, f"{{kind: dirichlet, runs: {args.search_runs}, seed: 3, strengths: [1, 2, 4, 8, 16]}}", static,
            [{"steps": args.steps, "seed": 1000}], "laws: [dml]", evaluation))
        cluster.wait(search)
        recommended = cluster.mixture(search, "dml")
        # Aioli's transfer setting: learn proportions on short runs (their own seeds), train them statically at full length.
        short = cluster.submit("aioli-short", spec(
            "aioli-short", domains, corpus, f"{{kind: list, mixtures: [{uniform}]}}", online,
            [{"steps": args.steps // 4, "seed": 2000 + s} for s in range(3)], aioli + "\nlaws: []", evaluation))
        cluster.wait(short)
        learned = cluster.mixture(short, "aioli")
        learned_mixture = flow(learned, domains)
        sweeps["aioli-transfer"] = cluster.submit("aioli-transfer", spec(
            "aioli-transfer", domains, corpus, f"{{kind: list, mixtures: [{learned_mixture}]}}", static, scales, "laws: []", evaluation))
        dml_mixture = flow(recommended, domains)
        sweeps["dml"] = cluster.submit("dml", spec("dml", domains, corpus, f"{{kind: list, mixtures: [{dml_mixture}]}}", static, scales, "laws: []", evaluation))
        cluster.wait(methods)
        for sweep in sweeps.values():
            cluster.wait(sweep)

        # stratified, grid and aioli: the one sweep's comparison (grid = its best mixture per seed by the objective).
        comparison = cluster.compare(methods, measured)
        pair_seeds = [pair_seed(pair) for pair in comparison["pairs"]]
        per_seed, steps_per_seed = {}, {}
        for row in comparison["rows"]:
            values = dict(zip(pair_seeds, row["per_pair"]))
            per_seed[row["method"]] = {s: float("nan") if values.get(s) is None else values[s] for s in seeds}
            steps_per_seed[row["method"]] = row["training_steps_per_pair"]
        # The methods trained in sweeps of their own: one static or Aioli run per seed (pair index = seed order).
        for method, sweep in sweeps.items():
            runs = [r for r in cluster.runs(sweep) if r["state"] == "succeeded"]
            per_seed[method] = {seeds[r["index"]]: mean_loss(r, measured) for r in runs}
            steps_per_seed[method] = args.steps
        shared_steps = {"dml": args.search_runs * args.steps, "aioli-transfer": 3 * (args.steps // 4)}
        rows = []
        for method in ["stratified", "grid", "dml", "aioli", "aioli-restricted", "aioli-transfer"]:
            values = [per_seed[method].get(s, float("nan")) for s in seeds]
            base = [per_seed["stratified"].get(s, float("nan")) for s in seeds]
            wins = sum(1 for v, b in zip(values, base) if v < b)
            rows.append({
                "method": method, "mean": statistics.fmean(values), "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
                "delta_vs_stratified": statistics.fmean(values) - statistics.fmean(base), "wins_vs_stratified": wins,
                "per_seed": values, "training_steps_per_seed": int(steps_per_seed[method]),
                "shared_training_steps": shared_steps.get(method, 0),
            })
        sweeps["stratified+grid+aioli"] = methods
        result = {"seeds": seeds, "steps": args.steps, "domains": domains, "measured_on": measured, "dml_mixture": recommended, "aioli_learned": learned, "rows": rows,
                  "seconds": time.time() - started, "sweeps": sweeps, "compare": comparison}
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump(result, f, indent=2)
        print("| method | mean loss (nats/byte) | sd over seeds | Δ vs stratified | wins vs stratified | training steps |")
        print("|---|---|---|---|---|---|")
        for row in rows:
            shared = f" + {row['shared_training_steps']} once" if row["shared_training_steps"] else ""
            print(f"| {row['method']} | {row['mean']:.4f} | {row['stdev']:.4f} | {row['delta_vs_stratified']:+.4f} | "
                  f"{row['wins_vs_stratified']}/{len(seeds)} | {row['training_steps_per_seed']} per seed{shared} |")
        print(f"dml mixture: {recommended}; aioli learned: {learned}; {time.time() - started:.0f} s")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()

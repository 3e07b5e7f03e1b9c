#!/usr/bin/env python3
"""Cross-domain D-CPT evidence (issue 6; results in docs/results.md, "Cross-domain D-CPT").

Starts a coordinator and workers on loopback (Cluster from method_evidence.py) and trains every
ProxyLM run through them:

  base    per model size N, pretrain on the general domain only (all domains loaded, weight 0 but
          the general one) and save the weights (--save-checkpoint): k1(domain, N) = the base
          model's held-out loss on the domain at the end.
  probe   per CPT domain and N, a short CPT run from the base at r_d = 1 (only the domain) for
          --probe-steps steps: k2(domain, N) = (k1 − L_probe) / k1, clamped at 0 (laws.md §1.7).
  dcpt    per CPT domain, a D-CPT sweep (kind: dcpt, general + domain) over the model sizes ×
          ratios, every run continuing from its size's base (--init-from), evaluated at the token
          checkpoints (D = CPT tokens).

Then `mixlab export` each D-CPT sweep, join each checkpoint's domain loss with its run's N (from
`mixlab runs show`), r (ratios.csv), k1 and k2 into OUT/points.csv, and run
`mixlab cross-domain --data OUT/points.csv`: leave-one-domain-out fits of the Cross-Domain D-CPT
Law, next to the per-domain D-CPT fit (upper bound) and the D-CPT fit without a domain term.

    python3 Benchmarks/cross_domain_dcpt.py --mixlab .build/debug/mixlab --out /tmp/crossdomain
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from method_evidence import Cluster, flow, sh  # noqa: E402


def sweep_spec(name, domains, corpus, design, command, scales=None, budget=None):
    """A sweep YAML; `scales` is a list of budgets (dicts), else one `budget`."""
    domain_lines = "\n".join(f'  - {{name: {d}, path: "{os.path.join(corpus, d)}"}}' for d in domains)
    if scales is not None:
        budgets = "scales:\n" + "\n".join("  - {" + ", ".join(f"{k}: {v}" for k, v in s.items()) + "}" for s in scales)
    else:
        budgets = "budget: {" + ", ".join(f"{k}: {v}" for k, v in budget.items()) + "}"
    return f"""name: {name}
domains:
{domain_lines}
design: {design}
trainer:
  command: {json.dumps(command)}
  resources: {{cpus: 1}}
  max_attempts: 2
{budgets}
run_seeds: shared
laws: []
"""


def succeeded(cluster, sweep):
    runs = cluster.runs(sweep)
    failed = [r["id"] for r in runs if r["state"] != "succeeded"]
    if failed:
        sys.exit(f"sweep {sweep}: runs did not succeed: {failed}; see `mixlab runs logs`")
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixlab", default=".build/debug/mixlab")
    parser.add_argument("--out", default="mixlab-crossdomain")
    parser.add_argument("--corpus", help="corpus folder (default: a synthetic corpus in OUT/corpus)")
    parser.add_argument("--synth-bytes", type=int, default=1_000_000, help="bytes per domain of the synthetic corpus")
    parser.add_argument("--synth-seed", type=int, default=42)
    parser.add_argument("--add-synthetic", default="",
                        help="with --corpus: also these synthetic domains, named syn_<domain> (a combined corpus of links in OUT/corpus-combined)")
    parser.add_argument("--general", default="prose")
    parser.add_argument("--domains", default="code,config,docs,legal,math", help="CPT domains")
    parser.add_argument("--sizes", default="21000,37000,54000", help="model sizes N (parameters)")
    parser.add_argument("--base-steps", type=int, default=3000)
    parser.add_argument("--probe-steps", type=int, default=50)
    parser.add_argument("--ratios", default="0.1,0.3,0.5,0.7,0.9")
    parser.add_argument("--tokens", default="16000,32000,64000,128000", help="CPT token checkpoints D")
    parser.add_argument("--eval-bytes", type=int, default=4096)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    mixlab = os.path.abspath(args.mixlab)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    cpt_domains = sorted(args.domains.split(","))
    all_domains = sorted(set(cpt_domains) | {args.general})
    sizes = [int(s) for s in args.sizes.split(",")]
    corpus = os.path.abspath(args.corpus) if args.corpus else os.path.join(out, "corpus")
    def synthesize(folder, domains):
        if not os.path.exists(os.path.join(folder, "manifest.json")):
            sh([mixlab, "corpus", "synth", "--out", folder, "--seed", str(args.synth_seed), "--bytes-per-domain", str(args.synth_bytes),
                "--domains", ",".join(domains)])
    if not args.corpus:
        synthesize(corpus, all_domains)
    elif args.add_synthetic:
        synthetic = args.add_synthetic.split(",")
        synthesize(os.path.join(out, "corpus-synthetic"), synthetic)
        combined = os.path.join(out, "corpus-combined")
        os.makedirs(combined, exist_ok=True)
        links = {d: os.path.join(corpus, d) for d in os.listdir(corpus) if os.path.isdir(os.path.join(corpus, d))}
        links.update({f"syn_{d}": os.path.join(out, "corpus-synthetic", d) for d in synthetic})
        for name, target in links.items():
            if not os.path.lexists(os.path.join(combined, name)):
                os.symlink(target, os.path.join(combined, name))
        corpus = combined
    checkpoints = os.path.join(out, "checkpoints")
    os.makedirs(checkpoints, exist_ok=True)
    base_checkpoint = os.path.join(checkpoints, "base-{model_size}.ckpt")
    train = [mixlab, "proxy", "train", "--model-size", "{model_size}", "--seed", "{seed}", "--eval-every", "0",
             "--eval-bytes", str(args.eval_bytes)]

    cluster = Cluster(mixlab, out, args.workers)
    started = time.time()
    timings = {}
    try:
        # Base models: the general domain only; every domain is loaded, so every domain is evaluated.
        general_only = flow({d: 1 if d == args.general else 0 for d in all_domains}, all_domains)
        base = cluster.submit("base", sweep_spec(
            "base", all_domains, corpus, f"{{kind: list, mixtures: [{general_only}]}}",
            train + ["--steps", "{steps}", "--save-checkpoint", base_checkpoint],
            scales=[{"steps": args.base_steps, "model_size": n, "seed": args.seed} for n in sizes]))
        cluster.wait(base)
        timings["base_s"] = time.time() - started
        k1 = {}
        for run in succeeded(cluster, base):
            n = sizes[run["index"]]
            for domain in cpt_domains:
                k1[(domain, n)] = run["final_losses"][domain]

        # Probes (r_d = 1, a few steps from the base) and the D-CPT grids run side by side.
        init = ["--init-from", base_checkpoint]
        mixtures = ", ".join(flow({d: 1 if d == c else 0 for d in cpt_domains}, cpt_domains) for c in cpt_domains)
        probe = cluster.submit("probe", sweep_spec(
            "probe", cpt_domains, corpus, f"{{kind: list, mixtures: [{mixtures}]}}", train + ["--steps", "{steps}"] + init,
            scales=[{"steps": args.probe_steps, "model_size": n, "seed": args.seed} for n in sizes]))
        grids = {}
        for domain in cpt_domains:
            design = (f"{{kind: dcpt, general: {args.general}, domain: {domain}, model_sizes: [{args.sizes}], "
                      f"tokens: [{args.tokens}], ratios: [{args.ratios}], checkpoints: true}}")
            grids[domain] = cluster.submit(f"dcpt-{domain}", sweep_spec(
                f"dcpt-{domain}", [args.general, domain], corpus, design,
                train + ["--tokens", "{tokens}", "--eval-tokens", "{eval_tokens}"] + init, budget={"seed": args.seed}))
        cluster.wait(probe)
        k2 = {}
        for run in succeeded(cluster, probe):
            n, domain = sizes[run["index"] // len(cpt_domains)], cpt_domains[run["index"] % len(cpt_domains)]
            k2[(domain, n)] = max(0.0, (k1[(domain, n)] - run["final_losses"][domain]) / k1[(domain, n)])
        for sweep in grids.values():
            cluster.wait(sweep)
        timings["training_s"] = time.time() - started

        # Every checkpoint's domain loss, from the export, with its run's N and r.
        points = []
        for domain, sweep in grids.items():
            runs = {r["id"]: r for r in succeeded(cluster, sweep)}
            folder = os.path.join(out, "export", domain)
            cluster.cli("export", sweep, "--out", folder)
            with open(os.path.join(folder, "ratios.csv")) as f:
                share = {row["run"]: float(row[domain]) for row in csv.DictReader(f)}
            size = {}
            for run_id in runs:
                budget = json.loads(json.loads(cluster.cli("runs", "show", run_id, "--json"))["budget"])
                size[run_id] = int(budget["model_size"])
            latest = {}
            with open(os.path.join(folder, "evals.csv")) as f:
                for row in csv.DictReader(f):
                    run = runs.get(row["run"])
                    if run is None or row["domain"] != domain or int(row["attempt"]) != run["attempt"] or int(row["tokens"]) == 0:
                        continue
                    latest[(row["run"], int(row["tokens"]))] = float(row["loss"])
            for (run_id, tokens), loss in sorted(latest.items()):
                n = size[run_id]
                points.append({"domain": domain, "N": n, "D": tokens, "r": share[run_id], "k1": k1[(domain, n)],
                               "k2": k2[(domain, n)], "loss": loss, "run": run_id})
        points_path = os.path.join(out, "points.csv")
        with open(points_path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["domain", "N", "D", "r", "k1", "k2", "loss", "run"], lineterminator="\n")
            writer.writeheader()
            writer.writerows(points)

        fit_started = time.time()
        report = json.loads(sh([mixlab, "cross-domain", "--data", points_path, "--format", "json"]))
        timings["fit_s"] = time.time() - fit_started
        timings["total_s"] = time.time() - started
        result = {"general": args.general, "domains": cpt_domains, "sizes": sizes, "base_steps": args.base_steps,
                  "probe_steps": args.probe_steps, "ratios": args.ratios, "tokens": args.tokens,
                  "k1": {f"{d}@{n}": v for (d, n), v in sorted(k1.items())},
                  "k2": {f"{d}@{n}": v for (d, n), v in sorted(k2.items())},
                  "report": report, "timings": timings, "sweeps": dict(grids, base=base, probe=probe)}
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump(result, f, indent=2)
        print("| domain | " + " | ".join(f"k1 @ N={n}" for n in sizes) + " | " + " | ".join(f"k2 @ N={n}" for n in sizes) + " |")
        print("|---|" + "---|" * (2 * len(sizes)))
        for d in cpt_domains:
            print(f"| {d} | " + " | ".join(f"{k1[(d, n)]:.4f}" for n in sizes) + " | " + " | ".join(f"{k2[(d, n)]:.4f}" for n in sizes) + " |")
        print()
        def cells(error):
            return f"{error['r2']:.3f} | {error['mae']:.4f} | {error['mape_percent']:.2f}%"
        print("| held-out domain | rows | cross-domain R² | MAE | MAPE | per-domain fit R² | MAE | MAPE | no domain term R² | MAE | MAPE |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for held in report["held_out"]:
            print(f"| {held['domain']} | {held['cross_domain']['rows']} | {cells(held['cross_domain'])} | {cells(held['per_domain_fit'])} "
                  f"| {cells(held['no_domain_term'])} |")
        means = report["mean"]
        print(f"| mean | | {cells(means['cross_domain'])} | {cells(means['per_domain_fit'])} | {cells(means['no_domain_term'])} |")
        print()
        print("| held-out domain | E | A | alpha | B | eta | beta | C | gamma | epsilon | F | mu | w1 | w2 |")
        print("|---|" + "---|" * 13)
        for held in report["held_out"]:
            p = held["params"]
            print(f"| {held['domain']} | " + " | ".join(f"{p[k]:.4g}" for k in
                  ["E", "A", "alpha", "B", "eta", "beta", "C", "gamma", "epsilon", "F", "mu", "w1", "w2"]) + " |")
        for warning in report.get("warnings", []):
            print(f"warning: {warning}")
        print(f"{len(points)} points; base {timings['base_s']:.0f} s, all training {timings['training_s']:.0f} s, "
              f"fits {timings['fit_s']:.0f} s, total {timings['total_s']:.0f} s")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()

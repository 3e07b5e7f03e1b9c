#!/usr/bin/env python3
"""scipy side of MixLab's fit benchmark: wall time of two multi-start fits, one run each.

    python3 Benchmarks/scipy_fit_bench.py                 # D-CPT + all five 5Mix groups
    python3 Benchmarks/scipy_fit_bench.py dcpt_synthetic dml_5mix_prose   # a selection

Prints one JSON line per fit, `{"problem", "seconds", "objective", "starts"}` (objective = unscaled
SUM of Huber losses), then for the 5Mix groups one aggregate line `"problem": "dml_5mix"` with the
summed seconds, objectives and starts of the groups that ran. Single-threaded (BLAS threads pinned
to 1); run it on an otherwise idle machine.

The problems, laws, optimiser settings and start sets are exactly those of
`scripts/reference-fits.py` (this file imports it), i.e. the same data as the committed fixtures in
Tests/MixingLawsTests/Fixtures/ (the script checks the losses are identical before timing).

How `mixlab bench fit` (Swift) must pair with it
------------------------------------------------
* dcpt_synthetic — data: `dcpt_synthetic.json` ("features" rows [N, D, r], "losses"; 540 rows).
  Law L3 in LSE form, θ (e, a, alpha, b, eta, beta, c, gamma, s), Huber δ 1e-3 on ln L, bounds
  alpha, beta ∈ [0, 3], eta, gamma ∈ [0, 5], s ∈ [ln 1e-4, 0]. Timed work = variable projection
  over the 61,440-point exponent grid (alpha, beta ∈ linspace(.05, .8, 16),
  eta ∈ {.25, .5, .75, 1, 1.5, 2}, gamma ∈ linspace(.1, 1.5, 8), eps ∈ {.003, .01, .03, .1, .3};
  one 540×4 NNLS per grid point, rows [1, N^-alpha, r^eta D^-beta, (r+eps)^-gamma] / L against 1)
  + L-BFGS-B polishing of the 100 lowest NNLS residuals. Swift: `polishCount = 100` with the law's
  own projection starts on that grid; for a polish-only comparison use the fixture's
  "scipy"."start_list" (the same 100 starts, best first) and compare against "polish_seconds".
* dml_5mix_<group> (academic, prose, dialogue, symbolic, internet) — data: `dml_5mix_<group>.json`
  ("features" = 26 rows of 5 shares, "losses" = group losses). Law exp(lc) + exp(lk + t·r),
  θ (lc, lk, t_1..t_5), Huber δ 0.05 on the raw loss, no bounds. Starts: 6,000 per group =
  lc ∈ linspace(-2, 1.5, 10) × lk ∈ linspace(-10, 1, 20) × the fixture's 30 "scipy"."t_vectors",
  loop order lc (outer), lk, t (inner); every start is polished (Swift: `polishCount = 6000`,
  `starts:` given explicitly). The aggregate line covers all five groups = 30,000 starts.
Optimiser: L-BFGS-B (maxcor 10, maxls 50, maxiter 15000) on the objective scaled by 1/(n δ²),
ftol 1e-13, gtol 1e-9 per start, then one re-polish of the best start (ftol 1e-16, gtol 1e-12).
Swift's stopping rules differ (BoundedLBFGS' relative rules), so compare time *and* objective:
a faster fit that ends at a higher objective is not a win.
"""

import importlib.util
import json
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("reference_fits", HERE.parent / "scripts" / "reference-fits.py")
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

import numpy as np  # noqa: E402  (after the module pinned the BLAS threads)


def check_against_fixture(problem):
    path = ref.FIXTURES / f"{problem.name}.json"
    if path.exists():
        stored = json.loads(path.read_text())
        if not np.array_equal(np.array(stored["losses"]), problem.losses):
            sys.exit(f"{path.name} holds different data: re-run scripts/reference-fits.py first")


def emit(problem, seconds, objective, starts, **extra):
    print(json.dumps({"problem": problem, "seconds": round(seconds, 3), "objective": objective,
                      "starts": starts, **extra}), flush=True)


def bench_dcpt():
    check_against_fixture(ref.dcpt_problem())
    began = time.perf_counter()
    problem, _, objective, _, _, starts, grid_size, projection = ref.fit_dcpt()
    seconds = time.perf_counter() - began
    emit(problem.name, seconds, objective, len(starts), projection_seconds=round(projection, 3),
         polish_seconds=round(seconds - projection, 3), projection_grid=grid_size)


def bench_dml(group):
    check_against_fixture(ref.dml_5mix_problem(group))
    began = time.perf_counter()
    problem, _, objective, _, _, starts, _ = ref.fit_dml_5mix(group)
    seconds = time.perf_counter() - began
    emit(problem.name, seconds, objective, len(starts))
    return seconds, objective, len(starts)


def bench_chinchilla():
    check_against_fixture(ref.chinchilla_problem())
    began = time.perf_counter()
    problem, _, objective, _, _, starts = ref.fit_chinchilla()
    emit(problem.name, time.perf_counter() - began, objective, len(starts))


def main(argv):
    choices = ["dcpt_synthetic"] + [f"dml_5mix_{g}" for g in ref.GROUPS] + ["chinchilla"]
    selected = argv or choices
    unknown = [s for s in selected if s not in choices]
    if unknown:
        sys.exit(f"unknown problem(s) {unknown}; choose from {choices}")
    dml = []
    for name in selected:
        if name == "dcpt_synthetic":
            bench_dcpt()
        elif name == "chinchilla":
            bench_chinchilla()
        else:
            dml.append(bench_dml(name.removeprefix("dml_5mix_")))
    if dml:
        emit("dml_5mix", sum(d[0] for d in dml), sum(d[1] for d in dml), sum(d[2] for d in dml),
             groups=len(dml))


if __name__ == "__main__":
    main(sys.argv[1:])

#!/usr/bin/env python3
"""Independent scipy reference fits for MixLab's laws (numpy + scipy only, deterministic).

Run from the repository root (the shared data folder must sit beside the checkout, as for the tests):

    python3 scripts/reference-fits.py                 # every problem
    python3 scripts/reference-fits.py chinchilla dml_2mix   # a selection

It writes one JSON fixture per problem to Tests/MixingLawsTests/Fixtures/ and prints one summary line
per problem. Nothing here is MixLab code: it re-implements each law, its analytic gradient and the
Huber objective in numpy and minimises it with scipy's L-BFGS-B from a stated set of starts, so the
Swift fitter can be checked against an optimiser written by someone else.

Problems (laws.md sections in brackets)
    chinchilla          [§5.1, A1] shared/data/chinchilla_epoch, D = FLOP/(6N), the 5 highest losses
                        dropped (240 rows); ln L = LSE(e, a - alpha lnN, b - beta lnD);
                        theta (e, a, b, alpha, beta); Huber 1e-3 on ln L; no bounds (as Epoch AI);
                        starts: the full 4,500-point Hoffmann grid, order alpha, beta, e, a, b (outer
                        to inner), each over its listed values in increasing order.
    dcpt_synthetic      [§1.5, A8] the 540-point synthetic design (N in {0.5, 1.8, 4}e9, the paper's
                        nine ratios r with 1/3 and 2/3 exact, D = 1..20 e9), truth = A8 domain law,
                        Gaussian noise sigma 0.003 on ln L from numpy default_rng(20240601); law L3
                        in LSE form, theta (e, a, alpha, b, eta, beta, c, gamma, s), eps = e^s; Huber
                        1e-3 on ln L; bounds alpha, beta in [0,3], eta, gamma in [0,5],
                        s in [ln 1e-4, 0], the rest free; starts: variable projection over the
                        61,440-point exponent grid alpha, beta in linspace(.05,.8,16),
                        eta in {.25,.5,.75,1,1.5,2}, gamma in linspace(.1,1.5,8),
                        eps in {.003,.01,.03,.1,.3} (loop order alpha, beta, eta, gamma, eps, outer to
                        inner); per grid point (E,A,B,C) = scipy nnls of rows
                        [1, N^-alpha, r^eta D^-beta, (r+eps)^-gamma]/L against 1; candidates ranked by
                        the NNLS residual norm (stable sort, ties keep grid order); the 100 best are
                        polished; zero scales become 1e-8. The 100 start vectors are written into the
                        fixture ("scipy"."start_list").
    dml_5mix_<group>    [§2.1, §2.3, §4.2, A5] 5Mix.csv, 70M, step 30000, 26 mixtures; group loss =
                        valid_weight-weighted mean of the member subsets; L = exp(lc) + exp(lk + t.r);
                        theta (lc, lk, t_1..t_5); Huber 0.05 on raw loss; no bounds; starts: the
                        notebook grid lc in linspace(-2,1.5,10) x lk in linspace(-10,1,20) x 30 t
                        vectors (own group t_ii = -U(0,1), others U(0,0.1), drawn once per group from
                        default_rng(7 + group index)), loop order lc, lk, t (outer to inner) = 6,000
                        starts; the 30 t vectors are written into the fixture ("scipy"."t_vectors").
                        Selection is by training objective (the released code selects on a held-out
                        score; here every row is fitted).
    dml_2mix            [§2.3, A2] 2Mix.csv, 70M, Github validation, step 10000 (5 mixtures);
                        feature r = Github share; L = c + exp(kappa r + b); theta (c, kappa, b);
                        c in [0, min y], kappa, b free; Huber 0.02 on raw loss; starts:
                        c in linspace(0, min y, 10, endpoint=False) x kappa in linspace(-2.4,-1.6,11)
                        x b in linspace(-1,-0.1,11) (loop order c, kappa, b) = 1,210 starts.
    linear_regmix       [§3.3, A6] RegMix 1M: OLS with intercept on the 17 raw weights -> Pile-CC loss
                        (numpy lstsq on centred data, like sklearn's LinearRegression); Spearman of
                        the predictions of the 256 1M test mixtures. No Huber (objective = SSE).

Optimiser settings (all problems): scipy L-BFGS-B, analytic gradients, on the objective scaled by
1/(n delta^2) (the scaling MixLab's LawFitter uses, so tolerances mean the same thing), maxcor 10,
maxls 50, maxiter 15000, ftol 1e-13, gtol 1e-9 for every start; the best start is then re-polished
with ftol 1e-16, gtol 1e-12 and kept if lower. Reported objectives are the unscaled SUM of Huber
losses. "near_best" counts starts that ended within 1e-6 (relative) of the best objective.

Fixture format: {"problem", "law", "theta_names", "feature_names", "features" (rows of raw
features), "losses", "residual_scale": "log"|"loss", "huber_delta", "bounds": {"lower", "upper"}
(null = unbounded), "predictions" (scipy's fitted losses, loss scale), "scipy": {"theta",
"objective", "starts", "start_set", "near_best", "seconds", "scipy_version", "numpy_version"}}, plus
problem-specific extras ("truth" for the synthetic problem).
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import csv
import json
import pathlib
import sys
import time

import numpy as np
import scipy
from scipy.optimize import minimize, nnls
from scipy.stats import spearmanr

REPO = pathlib.Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
if not DATA.is_dir():
    DATA = pathlib.Path("/work/shared/data")
FIXTURES = REPO / "Tests" / "MixingLawsTests" / "Fixtures"

SCREEN = dict(maxcor=10, maxls=50, maxiter=15000, ftol=1e-13, gtol=1e-9)
POLISH = dict(maxcor=10, maxls=50, maxiter=15000, ftol=1e-16, gtol=1e-12)


# ----------------------------------------------------------------------------------------------
# Huber objective and the multi-start driver
# ----------------------------------------------------------------------------------------------

def huber(residual, delta):
    """Per-row Huber values and derivatives (PyTorch convention)."""
    small = np.abs(residual) <= delta
    value = np.where(small, 0.5 * residual * residual, delta * (np.abs(residual) - 0.5 * delta))
    slope = np.where(small, residual, delta * np.sign(residual))
    return value, slope


class Problem:
    """A law (prediction + Jacobian on the residual scale) and its data."""

    def __init__(self, name, law, theta_names, feature_names, features, losses, residual_scale,
                 delta, lower, upper, model):
        self.name, self.law, self.theta_names = name, law, theta_names
        self.feature_names = feature_names
        self.features = np.asarray(features, dtype=float)
        self.losses = np.asarray(losses, dtype=float)
        self.residual_scale, self.delta = residual_scale, delta
        self.lower, self.upper = lower, upper
        self.model = model  # theta -> (prediction on residual scale, Jacobian n x p)
        self.target = np.log(self.losses) if residual_scale == "log" else self.losses
        self.scale = 1.0 / (len(self.losses) * delta * delta)

    def objective(self, theta):
        pred, _ = self.model(theta, need_jacobian=False)
        return float(np.sum(huber(pred - self.target, self.delta)[0]))

    def scaled(self, theta):
        with np.errstate(over="ignore", invalid="ignore"):
            pred, jac = self.model(theta, need_jacobian=True)
            value, slope = huber(pred - self.target, self.delta)
            f = float(np.sum(value)) * self.scale
            g = (jac.T @ slope) * self.scale
        if not np.isfinite(f) or not np.all(np.isfinite(g)):
            return 1e300, np.zeros_like(theta)
        return f, g

    def bounds(self):
        return list(zip(self.lower, self.upper))

    def predictions(self, theta):
        pred, _ = self.model(np.asarray(theta), need_jacobian=False)
        return np.exp(pred) if self.residual_scale == "log" else pred


def run_start(problem, x0, options):
    result = minimize(problem.scaled, np.asarray(x0, dtype=float), jac=True, method="L-BFGS-B",
                      bounds=problem.bounds(), options=options)
    return result.x, result.fun


def multistart(problem, starts):
    """Polishes every start; returns (theta, unscaled objective, near-best count, seconds)."""
    began = time.perf_counter()
    best_x, best_f, values = None, np.inf, []
    for x0 in starts:
        x, f = run_start(problem, x0, SCREEN)
        values.append(f)
        if f < best_f:
            best_x, best_f = x, f
    x, f = run_start(problem, best_x, POLISH)
    if f < best_f:
        best_x, best_f = x, f
    seconds = time.perf_counter() - began
    values = np.asarray(values)
    near = int(np.sum(values <= best_f + 1e-6 * abs(best_f)))
    return best_x, problem.objective(best_x), near, seconds


# ----------------------------------------------------------------------------------------------
# Laws
# ----------------------------------------------------------------------------------------------

def softmax_rows(t):
    m = np.max(t, axis=1, keepdims=True)
    e = np.exp(t - m)
    s = np.sum(e, axis=1, keepdims=True)
    return m[:, 0] + np.log(s[:, 0]), e / s


def chinchilla_model(features):
    ln_n, ln_d = np.log(features[:, 0]), np.log(features[:, 1])

    def model(theta, need_jacobian=True):
        e, a, b, alpha, beta = theta
        t = np.column_stack([np.full_like(ln_n, e), a - alpha * ln_n, b - beta * ln_d])
        pred, w = softmax_rows(t)
        if not need_jacobian:
            return pred, None
        jac = np.column_stack([w[:, 0], w[:, 1], w[:, 2], -w[:, 1] * ln_n, -w[:, 2] * ln_d])
        return pred, jac
    return model


def dcpt_model(features):
    ln_n, ln_d, r = np.log(features[:, 0]), np.log(features[:, 1]), features[:, 2]
    positive = r > 0
    ln_r = np.where(positive, np.log(np.where(positive, r, 1.0)), 0.0)

    def model(theta, need_jacobian=True):
        e, a, alpha, b, eta, beta, c, gamma, s = theta
        eps = np.exp(s)
        ln_re = np.log(r + eps)
        t2 = np.where(positive, b + eta * ln_r - beta * ln_d, -np.inf)
        t = np.column_stack([np.full_like(ln_n, e), a - alpha * ln_n, t2, c - gamma * ln_re])
        pred, w = softmax_rows(t)
        if not need_jacobian:
            return pred, None
        jac = np.column_stack([
            w[:, 0], w[:, 1], -w[:, 1] * ln_n, w[:, 2], w[:, 2] * ln_r, -w[:, 2] * ln_d,
            w[:, 3], -w[:, 3] * ln_re, -w[:, 3] * gamma * eps / (r + eps)])
        return pred, jac
    return model


def dcpt_loss(theta, features):
    pred, _ = dcpt_model(np.asarray(features, dtype=float))(np.asarray(theta), need_jacobian=False)
    return np.exp(pred)


def dml_model(shares):
    def model(theta, need_jacobian=True):
        lc, lk, t = theta[0], theta[1], theta[2:]
        q = np.exp(lk + shares @ t)
        pred = np.exp(lc) + q
        if not need_jacobian:
            return pred, None
        jac = np.column_stack([np.full_like(q, np.exp(lc)), q, q[:, None] * shares])
        return pred, jac
    return model


def two_domain_model(features):
    r = features[:, 0]

    def model(theta, need_jacobian=True):
        c, kappa, b = theta
        q = np.exp(kappa * r + b)
        pred = c + q
        if not need_jacobian:
            return pred, None
        return pred, np.column_stack([np.ones_like(q), q * r, q])
    return model


# ----------------------------------------------------------------------------------------------
# Problems
# ----------------------------------------------------------------------------------------------

def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def chinchilla_problem():
    rows = read_csv(DATA / "chinchilla_epoch" / "svg_extracted_data.csv")
    n = np.array([float(r["Model Size"]) for r in rows])
    flop = np.array([float(r["Training FLOP"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    keep = loss < np.sort(loss)[::-1][4]
    features = np.column_stack([n, flop / (6 * n)])[keep]
    return Problem("chinchilla", "ln L = LSE(e, a - alpha ln N, b - beta ln D)",
                   ["e", "a", "b", "alpha", "beta"], ["N", "D"], features, loss[keep], "log", 1e-3,
                   [None] * 5, [None] * 5, chinchilla_model(features))


def hoffmann_grid():
    values = np.arange(0, 2.01, 0.5)
    return [[e, a, b, alpha, beta]
            for alpha in values for beta in values for e in np.arange(-1, 1.01, 0.5)
            for a in np.arange(0, 25.1, 5) for b in np.arange(0, 25.1, 5)]


DCPT_TRUTH = dict(E=0.8, A=np.exp(5), alpha=0.3, B=np.exp(5.8), eta=0.6, beta=0.35, C=0.5,
                  gamma=0.5, eps=0.05)
DCPT_SEED = 20240601


def dcpt_truth_theta():
    t = DCPT_TRUTH
    return [np.log(t["E"]), np.log(t["A"]), t["alpha"], np.log(t["B"]), t["eta"], t["beta"],
            np.log(t["C"]), t["gamma"], np.log(t["eps"])]


def dcpt_problem():
    sizes = [0.5e9, 1.8e9, 4e9]
    ratios = [0.0, 0.1, 0.2, 1 / 3, 0.5, 2 / 3, 0.8, 0.9, 1.0]
    tokens = [k * 1e9 for k in range(1, 21)]
    features = np.array([[n, d, r] for n in sizes for r in ratios for d in tokens])
    clean = dcpt_loss(dcpt_truth_theta(), features)
    noise = 0.003 * np.random.default_rng(DCPT_SEED).standard_normal(len(features))
    losses = clean * np.exp(noise)
    lower = [None, None, 0.0, None, 0.0, 0.0, None, 0.0, float(np.log(1e-4))]
    upper = [None, None, 3.0, None, 5.0, 3.0, None, 5.0, 0.0]
    problem = Problem("dcpt_synthetic",
                      "ln L = LSE(e, a - alpha ln N, b + eta ln r - beta ln D [r > 0], c - gamma ln(r + e^s))",
                      ["e", "a", "alpha", "b", "eta", "beta", "c", "gamma", "s"], ["N", "D", "r"],
                      features, losses, "log", 1e-3, lower, upper, dcpt_model(features))
    problem.truth = {"theta": dcpt_truth_theta(), "losses": clean.tolist(),
                     "noise": f"ln L = ln L_true + 0.003 * numpy.random.default_rng({DCPT_SEED}).standard_normal(540)"}
    return problem


def dcpt_projection_starts(problem, keep=100):
    n, d, r = problem.features.T
    inv = 1.0 / problem.losses
    ones = np.ones(len(n))
    candidates = []
    for alpha in np.linspace(0.05, 0.8, 16):
        col_a = n ** -alpha * inv
        for beta in np.linspace(0.05, 0.8, 16):
            d_beta = d ** -beta
            for eta in [0.25, 0.5, 0.75, 1.0, 1.5, 2.0]:
                col_b = r ** eta * d_beta * inv
                for gamma in np.linspace(0.1, 1.5, 8):
                    for eps in [0.003, 0.01, 0.03, 0.1, 0.3]:
                        x = np.column_stack([inv, col_a, col_b, (r + eps) ** -gamma * inv])
                        scales, rnorm = nnls(x, ones)
                        candidates.append((rnorm, alpha, beta, eta, gamma, eps, scales))
    order = np.argsort(np.array([c[0] for c in candidates]), kind="stable")[:keep]
    starts = []
    for i in order:
        _, alpha, beta, eta, gamma, eps, s = candidates[i]
        ln = np.log(np.maximum(s, 1e-8))
        starts.append([ln[0], ln[1], alpha, ln[2], eta, beta, ln[3], gamma, np.log(eps)])
    return starts, len(candidates)


GROUPS = {
    "academic": ["ArXiv", "PubMed_Abstracts", "PhilPapers", "NIH_ExPorter", "FreeLaw",
                 "USPTO_Backgrounds", "PubMed_Central"],
    "prose": ["PG19", "Books3", "BookCorpus2"],
    "dialogue": ["Ubuntu_IRC", "OpenSubtitles", "EuroParl", "Enron_Emails", "HackerNews",
                 "YoutubeSubtitles"],
    "symbolic": ["DM_Mathematics", "Github"],
    "internet": ["Pile-CC", "OpenWebText2", "StackExchange", "Wikipedia_en"],
}
SHARE_COLUMNS = ["p_academic", "p_prose", "p_dialogue", "p_symbolic", "p_internet"]


def dml_5mix_problem(group):
    weights = json.loads((DATA / "mixinglaws" / "raw" / "valid_weight.json").read_text())
    members = GROUPS[group]
    runs = {}
    for row in read_csv(DATA / "mixinglaws" / "5Mix.csv"):
        if row["model"] != "70M" or row["step"] != "30000" or row["valid_domain"] not in members:
            continue
        run = runs.setdefault(int(row["run_id"]), {"shares": [float(row[c]) for c in SHARE_COLUMNS],
                                                   "losses": {}})
        run["losses"][row["valid_domain"]] = float(row["loss"])
    ids = sorted(runs)
    total = sum(weights[m] for m in members)
    shares, losses = [], []
    for i in ids:
        assert set(runs[i]["losses"]) == set(members), f"run {i} lacks a member subset"
        shares.append(runs[i]["shares"])
        losses.append(sum(weights[m] * runs[i]["losses"][m] for m in members) / total)
    shares = np.array(shares)
    problem = Problem(f"dml_5mix_{group}", "L = exp(lc) + exp(lk + t . r)",
                      ["lc", "lk", "t_1", "t_2", "t_3", "t_4", "t_5"],
                      [c[2:] for c in SHARE_COLUMNS], shares, losses, "loss", 0.05,
                      [None] * 7, [None] * 7, dml_model(shares))
    problem.run_ids = ids
    return problem


def dml_t_vectors(group_index, count=30):
    rng = np.random.default_rng(7 + group_index)
    vectors = []
    for _ in range(count):
        t = rng.uniform(0.0, 0.1, size=5)
        t[group_index] = -rng.uniform(0.0, 1.0)
        vectors.append(t)
    return vectors


def dml_starts(t_vectors):
    return [[lc, lk, *t] for lc in np.linspace(-2, 1.5, 10) for lk in np.linspace(-10, 1, 20)
            for t in t_vectors]


def dml_2mix_problem():
    rows = [r for r in read_csv(DATA / "mixinglaws" / "2Mix.csv")
            if r["model"] == "70M" and r["step"] == "10000" and r["valid_domain"] == "Github"]
    rows.sort(key=lambda r: int(r["run_id"]))
    features = np.array([[float(r["p_Github"])] for r in rows])
    losses = np.array([float(r["loss"]) for r in rows])
    problem = Problem("dml_2mix", "L = c + exp(kappa r + b)", ["c", "kappa", "b"], ["r_Github"],
                      features, losses, "loss", 0.02, [0.0, None, None],
                      [float(losses.min()), None, None], two_domain_model(features))
    problem.run_ids = [int(r["run_id"]) for r in rows]
    return problem


def two_mix_starts(problem):
    return [[c, kappa, b]
            for c in np.linspace(0, problem.losses.min(), 10, endpoint=False)
            for kappa in np.linspace(-2.4, -1.6, 11) for b in np.linspace(-1, -0.1, 11)]


# ----------------------------------------------------------------------------------------------
# Fixture writing
# ----------------------------------------------------------------------------------------------

def versions():
    return {"scipy_version": scipy.__version__, "numpy_version": np.__version__}


def fixture(problem, theta, objective, starts, start_set, near, seconds, **scipy_extra):
    return {
        "problem": problem.name,
        "law": problem.law,
        "theta_names": problem.theta_names,
        "feature_names": problem.feature_names,
        "features": problem.features.tolist(),
        "losses": problem.losses.tolist(),
        "residual_scale": problem.residual_scale,
        "huber_delta": problem.delta,
        "bounds": {"lower": problem.lower, "upper": problem.upper},
        "predictions": problem.predictions(theta).tolist(),
        "scipy": {"theta": np.asarray(theta).tolist(), "objective": objective, "starts": starts,
                  "start_set": start_set, "near_best": near, "seconds": round(seconds, 3),
                  **versions(), **scipy_extra},
    }


def write(name, payload):
    FIXTURES.mkdir(parents=True, exist_ok=True)
    path = FIXTURES / f"{name}.json"
    path.write_text(json.dumps(payload, indent=None, separators=(",", ":")) + "\n")
    size = path.stat().st_size
    assert size < 300_000, f"{path} is {size} bytes"
    scipy_part = payload.get("scipy", {})
    print(json.dumps({"fixture": path.name, "bytes": size, "objective": scipy_part.get("objective"),
                      "starts": scipy_part.get("starts"), "near_best": scipy_part.get("near_best"),
                      "seconds": scipy_part.get("seconds")}), flush=True)


def fit_chinchilla():
    problem = chinchilla_problem()
    starts = hoffmann_grid()
    theta, objective, near, seconds = multistart(problem, starts)
    return problem, theta, objective, near, seconds, starts


def fit_dcpt():
    problem = dcpt_problem()
    began = time.perf_counter()
    starts, grid_size = dcpt_projection_starts(problem)
    projection_seconds = time.perf_counter() - began
    theta, objective, near, seconds = multistart(problem, starts)
    return problem, theta, objective, near, seconds + projection_seconds, starts, grid_size, projection_seconds


def fit_dml_5mix(group):
    problem = dml_5mix_problem(group)
    t_vectors = dml_t_vectors(list(GROUPS).index(group))
    starts = dml_starts(t_vectors)
    theta, objective, near, seconds = multistart(problem, starts)
    return problem, theta, objective, near, seconds, starts, t_vectors


def make_chinchilla():
    problem, theta, objective, near, seconds, starts = fit_chinchilla()
    write("chinchilla", fixture(problem, theta, objective, len(starts),
                                "Hoffmann grid: alpha, beta in {0,.5,1,1.5,2}, e in {-1,-.5,0,.5,1}, "
                                "a, b in {0,5,...,25}; loop order alpha, beta, e, a, b", near, seconds,
                                reported={"E": float(np.exp(theta[0])), "A": float(np.exp(theta[1])),
                                          "B": float(np.exp(theta[2])), "alpha": float(theta[3]),
                                          "beta": float(theta[4])}))


def make_dcpt():
    problem, theta, objective, near, seconds, starts, grid_size, projection = fit_dcpt()
    payload = fixture(problem, theta, objective, len(starts),
                      f"variable projection: {grid_size} NNLS solves on the exponent grid, the "
                      f"{len(starts)} lowest NNLS residuals polished (list in start_list)",
                      near, seconds, projection_seconds=round(projection, 3),
                      start_list=np.asarray(starts).tolist())
    payload["truth"] = problem.truth
    payload["truth"]["objective"] = problem.objective(np.array(problem.truth["theta"]))
    write("dcpt_synthetic", payload)


def make_dml_5mix(group):
    problem, theta, objective, near, seconds, starts, t_vectors = fit_dml_5mix(group)
    pred = problem.predictions(theta)
    write(problem.name, fixture(problem, theta, objective, len(starts),
                                "notebook grid lc in linspace(-2,1.5,10) x lk in linspace(-10,1,20) x "
                                "the 30 t_vectors; loop order lc, lk, t", near, seconds,
                                t_vectors=np.asarray(t_vectors).tolist(),
                                mae=float(np.mean(np.abs(pred - problem.losses))),
                                max_abs_error=float(np.max(np.abs(pred - problem.losses))),
                                run_ids=problem.run_ids))


def make_dml_2mix():
    problem = dml_2mix_problem()
    starts = two_mix_starts(problem)
    theta, objective, near, seconds = multistart(problem, starts)
    pred = problem.predictions(theta)
    write("dml_2mix", fixture(problem, theta, objective, len(starts),
                              "c in linspace(0, min y, 10, endpoint=False) x kappa in "
                              "linspace(-2.4,-1.6,11) x b in linspace(-1,-0.1,11); loop order c, kappa, b",
                              near, seconds, max_abs_error=float(np.max(np.abs(pred - problem.losses))),
                              run_ids=problem.run_ids))


def make_linear_regmix():
    folder = DATA / "regmix"

    def table(name):
        with open(folder / name, newline="") as handle:
            rows = list(csv.reader(handle))
        return rows[0], np.array([[float(v) for v in row] for row in rows[1:] if row])

    mix_header, train_x = table("train_mixture_1m.csv")
    loss_header, train_y = table("train_pile_loss_1m.csv")
    _, test_x = table("test_mixture_1m.csv")
    _, test_y = table("test_pile_loss_1m.csv")
    target = loss_header.index("metric/the_pile_pile_cc_val_loss")
    assert np.array_equal(train_x[:, 0], train_y[:, 0]) and np.array_equal(test_x[:, 0], test_y[:, 0])
    x, y = train_x[:, 1:], train_y[:, target]
    began = time.perf_counter()
    x_mean, y_mean = x.mean(axis=0), y.mean()
    coef, _, rank, _ = np.linalg.lstsq(x - x_mean, y - y_mean, rcond=None)
    intercept = y_mean - x_mean @ coef
    seconds = time.perf_counter() - began
    train_pred = intercept + x @ coef
    test_pred = intercept + test_x[:, 1:] @ coef
    rho = spearmanr(test_pred, test_y[:, target]).statistic
    payload = {
        "problem": "linear_regmix",
        "law": "L = intercept + w . r (OLS with intercept, raw 3-decimal weights)",
        "theta_names": ["intercept"] + [h.removeprefix("train_the_pile_") for h in mix_header[1:]],
        "feature_names": [h.removeprefix("train_the_pile_") for h in mix_header[1:]],
        "features": x.tolist(),
        "losses": y.tolist(),
        "residual_scale": "loss",
        "huber_delta": None,
        "bounds": None,
        "predictions": train_pred.tolist(),
        "test_features": test_x[:, 1:].tolist(),
        "test_losses": test_y[:, target].tolist(),
        "test_predictions": test_pred.tolist(),
        "scipy": {"theta": [float(intercept), *coef.tolist()],
                  "objective": float(np.sum((train_pred - y) ** 2)), "starts": 0,
                  "start_set": "closed form: numpy lstsq on centred data", "rank": int(rank),
                  "spearman_test_1m": float(rho), "seconds": round(seconds, 4), **versions()},
    }
    write("linear_regmix", payload)


MAKERS = {
    "chinchilla": make_chinchilla,
    "dcpt_synthetic": make_dcpt,
    **{f"dml_5mix_{g}": (lambda g=g: make_dml_5mix(g)) for g in GROUPS},
    "dml_2mix": make_dml_2mix,
    "linear_regmix": make_linear_regmix,
}


def main(argv):
    selected = argv or list(MAKERS)
    unknown = [s for s in selected if s not in MAKERS]
    if unknown:
        sys.exit(f"unknown problem(s) {unknown}; choose from {list(MAKERS)}")
    for name in selected:
        MAKERS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])

"""Reference twins (numpy, and PyTorch when importable) of MixLab's built-in ProxyLM, for benchmarks.

The architecture is the ProxyLM's: the previous C = 16 bytes are looked up in a 256 x d embedding
(d = 16), the C embeddings are concatenated (C*d = 256 inputs), then a dense layer to H = 96 with
tanh, then a dense layer to 256 logits, and softmax cross-entropy against the next byte. Adam
(lr 3e-3, betas 0.9/0.999, eps 1e-8). Each step trains on 64 positions of one domain, the domain
drawn uniformly.

FLOP count: 6 * N_dense per token, where N_dense is the number of weights of the two dense layers,
(C*d)*H + H*256 = 256*96 + 96*256 = 49,152, so 294,912 FLOPs per token (2 for the forward
multiply-add, 4 for the backward ones). Embedding look-ups, biases, tanh, softmax and the Adam
update are not counted, so the effective GFLOP/s understate the arithmetic actually done.

Each (backend, threads) measurement runs in its own process with OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set before numpy/torch are imported (and
torch.set_num_threads), so thread counts do not leak between measurements.

    python3 examples/trainers/proxylm_reference.py --steps 3000          # numpy and torch, 1 and 2 threads
    python3 examples/trainers/proxylm_reference.py --check               # gradients vs finite differences / torch
    python3 examples/trainers/proxylm_reference.py --data corpus/code corpus/prose   # real text (train.txt)
"""
import argparse
import json
import os
import subprocess
import sys
import time

CONTEXT = 16
EMBEDDING = 16
HIDDEN = 96
VOCABULARY = 256
BATCH = 64
LEARNING_RATE = 3e-3
DENSE_WEIGHTS = CONTEXT * EMBEDDING * HIDDEN + HIDDEN * VOCABULARY
FLOPS_PER_TOKEN = 6 * DENSE_WEIGHTS
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000, help="timed training steps per measurement (default 2000)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed steps before timing (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", default="1,2", help="thread counts to measure (default 1,2)")
    parser.add_argument("--backends", default="numpy,torch", help="numpy, torch or both (default numpy,torch)")
    parser.add_argument("--data", nargs="*", default=None,
                        help="domain directories holding train.txt (default: 4 synthetic domains)")
    parser.add_argument("--check", action="store_true", help="check gradients and torch agreement, then exit")
    parser.add_argument("--json", action="store_true", help="print results as JSON lines")
    parser.add_argument("--measure", nargs=2, metavar=("BACKEND", "THREADS"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def load_domains(np, directories, seed):
    """A list of uint8 arrays, one per domain: the given train.txt files, or synthetic Markov text."""
    if directories:
        domains = []
        for directory in directories:
            path = os.path.join(directory, "train.txt")
            with open(path, "rb") as handle:
                data = np.frombuffer(handle.read(), dtype=np.uint8)
            if data.size <= CONTEXT:
                raise SystemExit(f"{path}: needs more than {CONTEXT} bytes")
            domains.append(data)
        return domains
    rng = np.random.default_rng(seed + 1000)
    domains = []
    for _ in range(4):
        alphabet = rng.choice(np.arange(32, 127), size=24, replace=False)
        transitions = rng.dirichlet(np.full(len(alphabet), 0.2), size=len(alphabet)).cumsum(axis=1)
        state, out = 0, np.empty(100_000, dtype=np.uint8)
        draws = rng.random(out.size)
        for i in range(out.size):
            state = min(int(np.searchsorted(transitions[state], draws[i])), len(alphabet) - 1)
            out[i] = alphabet[state]
        domains.append(out)
    return domains


def initial_parameters(np, seed):
    rng = np.random.default_rng(seed)
    inputs = CONTEXT * EMBEDDING
    return {
        "embedding": (rng.standard_normal((VOCABULARY, EMBEDDING)) * 0.1).astype(np.float32),
        "w1": rng.uniform(-1, 1, (inputs, HIDDEN)).astype(np.float32) / np.float32(np.sqrt(inputs)),
        "b1": np.zeros(HIDDEN, dtype=np.float32),
        "w2": rng.uniform(-1, 1, (HIDDEN, VOCABULARY)).astype(np.float32) / np.float32(np.sqrt(HIDDEN)),
        "b2": np.zeros(VOCABULARY, dtype=np.float32),
    }


class BatchSampler:
    """64 (context, next byte) positions from one domain per call, the domain drawn uniformly."""

    def __init__(self, np, domains, seed):
        self.np = np
        self.domains = domains
        self.rng = np.random.default_rng(seed + 1)
        self.offsets = np.arange(CONTEXT + 1)

    def __call__(self):
        data = self.domains[self.rng.integers(len(self.domains))]
        starts = self.rng.integers(0, data.size - CONTEXT, BATCH)
        windows = data[starts[:, None] + self.offsets].astype(self.np.int64)
        return windows[:, :CONTEXT], windows[:, CONTEXT]


def numpy_loss_and_gradients(np, p, contexts, targets):
    flat = p["embedding"][contexts].reshape(len(targets), CONTEXT * EMBEDDING)
    hidden = np.tanh(flat @ p["w1"] + p["b1"])
    logits = hidden @ p["w2"] + p["b2"]
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    sums = exp.sum(axis=1, keepdims=True)
    rows = np.arange(len(targets))
    loss = float(np.mean(np.log(sums[:, 0]) - logits[rows, targets]))
    d_logits = exp / sums
    d_logits[rows, targets] -= 1
    d_logits /= len(targets)
    d_hidden = (d_logits @ p["w2"].T) * (1 - hidden * hidden)
    d_flat = d_hidden @ p["w1"].T
    d_embedding = np.zeros_like(p["embedding"])
    np.add.at(d_embedding, contexts.reshape(-1), d_flat.reshape(-1, EMBEDDING))
    return loss, {
        "embedding": d_embedding, "w1": flat.T @ d_hidden, "b1": d_hidden.sum(axis=0),
        "w2": hidden.T @ d_logits, "b2": d_logits.sum(axis=0),
    }


class NumpyAdam:
    def __init__(self, np, parameters, lr=LEARNING_RATE, betas=(0.9, 0.999), eps=1e-8):
        self.np, self.lr, self.betas, self.eps, self.t = np, lr, betas, eps, 0
        self.m = {k: np.zeros_like(v) for k, v in parameters.items()}
        self.v = {k: np.zeros_like(v) for k, v in parameters.items()}

    def step(self, parameters, gradients):
        self.t += 1
        b1, b2 = self.betas
        scale = self.lr * (1 - b2 ** self.t) ** 0.5 / (1 - b1 ** self.t)
        for name, gradient in gradients.items():
            m, v = self.m[name], self.v[name]
            m *= b1
            m += (1 - b1) * gradient
            v *= b2
            v += (1 - b2) * gradient * gradient
            parameters[name] -= scale * m / (self.np.sqrt(v) + self.eps)


def numpy_trainer(np, parameters):
    optimiser = NumpyAdam(np, parameters)

    def step(contexts, targets):
        loss, gradients = numpy_loss_and_gradients(np, parameters, contexts, targets)
        optimiser.step(parameters, gradients)
        return loss

    return step


def torch_model(torch, parameters):
    model = torch.nn.ParameterDict({k: torch.nn.Parameter(torch.from_numpy(v.copy())) for k, v in parameters.items()})

    def loss_of(contexts, targets):
        flat = model["embedding"][contexts].reshape(len(targets), CONTEXT * EMBEDDING)
        hidden = torch.tanh(flat @ model["w1"] + model["b1"])
        return torch.nn.functional.cross_entropy(hidden @ model["w2"] + model["b2"], targets)

    return model, loss_of


def torch_trainer(torch, parameters):
    model, loss_of = torch_model(torch, parameters)
    optimiser = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, betas=(0.9, 0.999), eps=1e-8)

    def step(contexts, targets):
        loss = loss_of(torch.from_numpy(contexts), torch.from_numpy(targets))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        return loss.item()

    return step


def measure(backend, threads, args):
    """One measurement in this process (thread variables already set by the parent)."""
    import numpy as np

    torch = None
    if backend == "torch":
        import torch
        torch.set_num_threads(threads)
        torch.manual_seed(args.seed)
    domains = load_domains(np, args.data, args.seed)
    parameters = initial_parameters(np, args.seed)
    step = numpy_trainer(np, parameters) if backend == "numpy" else torch_trainer(torch, parameters)
    sampler = BatchSampler(np, domains, args.seed)
    batches = [sampler() for _ in range(args.warmup + args.steps)]
    losses = [step(*batch) for batch in batches[:args.warmup]]
    started = time.perf_counter()
    losses += [step(*batch) for batch in batches[args.warmup:]]
    seconds = time.perf_counter() - started
    tokens = args.steps * BATCH
    window = min(50, len(losses))
    return {
        "backend": backend, "version": (torch or np).__version__, "threads": threads, "steps": args.steps,
        "seconds": round(seconds, 4), "tokens_per_second": round(tokens / seconds, 1),
        "gflops": round(tokens * FLOPS_PER_TOKEN / seconds / 1e9, 4),
        "first_loss": round(sum(losses[:window]) / window, 4), "last_loss": round(sum(losses[-window:]) / window, 4),
    }


def check(args):
    """Finite differences on the numpy gradients, then numpy against torch on the same weights."""
    import numpy as np

    domains = load_domains(np, args.data, args.seed)
    parameters = {k: v.astype(np.float64) for k, v in initial_parameters(np, args.seed).items()}
    contexts, targets = BatchSampler(np, domains, args.seed)()
    loss, gradients = numpy_loss_and_gradients(np, parameters, contexts, targets)
    rng = np.random.default_rng(args.seed + 7)
    worst = 0.0
    for name, values in parameters.items():
        for _ in range(12):
            index = tuple(rng.integers(0, n) for n in values.shape)
            if name == "embedding":
                index = (int(contexts[rng.integers(BATCH), rng.integers(CONTEXT)]), index[1])
            saved, h = values[index], 1e-5
            values[index] = saved + h
            up = numpy_loss_and_gradients(np, parameters, contexts, targets)[0]
            values[index] = saved - h
            down = numpy_loss_and_gradients(np, parameters, contexts, targets)[0]
            values[index] = saved
            numeric = (up - down) / (2 * h)
            worst = max(worst, abs(numeric - gradients[name][index]) / max(1e-6, abs(numeric) + abs(gradients[name][index])))
    print(f"numpy gradients vs central differences (float64): loss {loss:.6f}, worst relative error {worst:.2e}")
    ok = worst < 1e-5
    try:
        import torch
    except ImportError:
        print("torch not importable: skipped the torch comparison (pip install torch)")
        return 0 if ok else 1
    torch.set_default_dtype(torch.float64)
    model, loss_of = torch_model(torch, parameters)
    torch_loss = loss_of(torch.from_numpy(contexts), torch.from_numpy(targets))
    torch_loss.backward()
    difference = max(float(np.max(np.abs(model[k].grad.numpy() - gradients[k]))) for k in gradients)
    print(f"torch {torch.__version__}: loss {torch_loss.item():.6f} (numpy {loss:.6f}), "
          f"largest gradient difference {difference:.2e}")
    ok = ok and abs(torch_loss.item() - loss) < 1e-9 and difference < 1e-9
    print("ok" if ok else "MISMATCH")
    return 0 if ok else 1


def main(argv=None):
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    if args.measure:
        print(json.dumps(measure(args.measure[0], int(args.measure[1]), args)))
        return 0
    if args.check:
        return check(args)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    threads = [int(t) for t in args.threads.split(",")]
    if not args.json:
        print(f"ProxyLM reference: C={CONTEXT}, d={EMBEDDING}, H={HIDDEN}, batch {BATCH}, Adam lr {LEARNING_RATE}; "
              f"{args.steps} timed steps after {args.warmup} warm-up steps; "
              f"FLOPs/token = 6 x N_dense = 6 x {DENSE_WEIGHTS:,} = {FLOPS_PER_TOKEN:,}")
        print(f"{'backend':<20}{'threads':>8}{'tokens/s':>12}{'GFLOP/s':>10}{'loss first→last 50 steps':>28}")
    status = 0
    forwarded = ["--steps", str(args.steps), "--warmup", str(args.warmup), "--seed", str(args.seed)]
    if args.data:
        forwarded += ["--data", *args.data]
    for backend in backends:
        for count in threads:
            env = dict(os.environ, **{name: str(count) for name in THREAD_VARIABLES})
            child = subprocess.run([sys.executable, os.path.abspath(__file__), "--measure", backend, str(count), *forwarded],
                                   env=env, capture_output=True, text=True)
            if child.returncode != 0:
                reason = child.stderr.strip().splitlines()[-1] if child.stderr.strip() else f"exit {child.returncode}"
                print(f"{backend} with {count} thread(s): not measured ({reason})", file=sys.stderr)
                status = 1
                continue
            result = json.loads(child.stdout.strip().splitlines()[-1])
            if args.json:
                print(json.dumps(result))
            else:
                name = f"{backend} {result['version']}"
                print(f"{name:<20}{count:>8}{result['tokens_per_second']:>12,.0f}{result['gflops']:>10.3f}"
                      f"{result['first_loss']:>16.3f} → {result['last_loss']:.3f}")
    return status


if __name__ == "__main__":
    sys.exit(main())

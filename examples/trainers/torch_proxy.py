"""A small GPT-style PyTorch proxy trainer for MixLab (byte-level, vocabulary 256).

Each domain is a directory holding ``train.txt`` and ``valid.txt``. Every training batch comes from
one domain, drawn with the probabilities of the current mixture. At each evaluation checkpoint the
model's cross-entropy (nats per byte) is measured on a fixed slice of every domain's
``valid.txt`` (the first ``--eval-bytes`` bytes) and reported per domain.

Under a MixLab worker (``MIXLAB_CONTROL`` set) the domains, mixture and budget come from the
environment and evaluations go to the worker through ``clients/python/mixlab_trainer.py``; with
``--online`` the trainer asks the worker for each segment (``next`` → train exactly that many steps
on the given weights → full evaluation) until told to stop. Standalone (no ``MIXLAB_CONTROL``) it
takes ``--domains`` and ``--mixture`` and prints each evaluation as a JSON line on stdout.

GPUs: the worker sets ``CUDA_VISIBLE_DEVICES`` to the attempt's GPUs (the empty string for a CPU
slot); with ``--device auto`` the first visible GPU is used, or the CPU when none is visible.

``torch`` is imported after the arguments are parsed, so ``--help`` works without it.
"""
import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
import mixlab_trainer  # noqa: E402

VOCABULARY = 256


class ConfigError(Exception):
    """Bad flags, environment or data; the message names what is wrong and how to fix it."""


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        description="GPT-style byte-level PyTorch proxy trainer speaking MixLab trainer protocol 1.",
        epilog="Under a MixLab worker, domains/mixture/budget come from MIXLAB_DOMAINS, MIXLAB_MIXTURE and "
               "MIXLAB_BUDGET; flags given explicitly win over the budget. Each domain directory must "
               "hold train.txt and valid.txt.")
    model = parser.add_argument_group("model (nanoGPT-style)")
    model.add_argument("--n-layer", type=int, default=4, help="transformer blocks (default 4)")
    model.add_argument("--n-head", type=int, default=4, help="attention heads (default 4)")
    model.add_argument("--n-embd", type=int, default=128, help="embedding width, a multiple of --n-head (default 128)")
    model.add_argument("--block-size", type=int, default=128, help="context length in bytes (default 128)")
    model.add_argument("--dropout", type=float, default=0.0, help="dropout probability (default 0)")
    train = parser.add_argument_group("training")
    train.add_argument("--steps", type=int, default=None,
                       help="training steps (default: the budget's steps, else 1000); with --online the "
                            "worker decides and this is only the learning-rate horizon")
    train.add_argument("--seed", type=int, default=None, help="random seed (default: the budget's seed, else 0)")
    train.add_argument("--batch-size", type=int, default=16, help="sequences per step (default 16)")
    train.add_argument("--lr", type=float, default=1e-3, help="peak learning rate of AdamW (default 1e-3)")
    train.add_argument("--min-lr-ratio", type=float, default=0.1, help="cosine decay floor as a fraction of --lr (default 0.1)")
    train.add_argument("--warmup-steps", type=int, default=None, help="linear warm-up steps (default: 5%% of --steps)")
    train.add_argument("--weight-decay", type=float, default=0.1, help="AdamW weight decay on matrices (default 0.1)")
    train.add_argument("--grad-clip", type=float, default=1.0, help="gradient norm clip, 0 for none (default 1.0)")
    evaluation = parser.add_argument_group("evaluation")
    evaluation.add_argument("--eval-every", type=int, default=100, help="evaluate every N steps, 0 for only at the end (default 100)")
    evaluation.add_argument("--eval-bytes", type=int, default=65536, help="bytes of each valid.txt to evaluate on (default 65536)")
    evaluation.add_argument("--eval-batch-size", type=int, default=32, help="windows per evaluation batch (default 32)")
    run = parser.add_argument_group("running")
    run.add_argument("--online", action="store_true",
                     help="ask the worker for each segment (next/mixture/stop); needs MIXLAB_CONTROL")
    run.add_argument("--device", default="auto",
                     help="auto (first visible GPU, else CPU), cpu, cuda or cuda:N (default auto)")
    run.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    run.add_argument("--progress-every", type=float, default=10.0,
                     help="send a progress report at most every N seconds (default 10)")
    run.add_argument("--domains", default=None,
                     help='standalone: JSON {"name": "dir"} or name=dir,name=dir (default: $MIXLAB_DOMAINS)')
    run.add_argument("--mixture", default=None,
                     help='standalone: JSON {"name": share} or name=share,... (default: $MIXLAB_MIXTURE, else uniform)')
    return parser.parse_args(argv)


def parse_mapping(text, flag, value_type):
    """Reads ``{"a": x}`` JSON or ``a=x,b=y`` into a dict, with errors that name the flag."""
    text = text.strip()
    if text.startswith("{"):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{flag}: not valid JSON ({error}); write e.g. '{{\"code\": ...}}'") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{flag}: expected a JSON object")
        pairs = list(raw.items())
    else:
        pairs = []
        for item in filter(None, (part.strip() for part in text.split(","))):
            if "=" not in item:
                raise ConfigError(f"{flag}: '{item}' is not name=value; write e.g. code=...,prose=...")
            name, value = item.split("=", 1)
            pairs.append((name.strip(), value.strip()))
    try:
        return {str(name): value_type(value) for name, value in pairs}
    except (TypeError, ValueError):
        raise ConfigError(f"{flag}: a value is not a {value_type.__name__}: {text}") from None


def validate_mixture(weights, domains, source):
    unknown = sorted(set(weights) - set(domains))
    if unknown:
        raise ConfigError(f"{source}: domain(s) {unknown} have no data; known domains are {sorted(domains)}")
    for name, share in weights.items():
        if not math.isfinite(share) or share < 0:
            raise ConfigError(f"{source}: share of {name!r} is {share}; shares must be finite and >= 0")
    total = sum(weights.values())
    if total <= 0:
        raise ConfigError(f"{source}: all shares are 0; give at least one domain a positive share")
    return {name: weights.get(name, 0.0) / total for name in domains}


def resolve_settings(args):
    """Domains, initial mixture, steps and seed from flags, then the MixLab environment, then defaults."""
    under_worker = bool(os.environ.get("MIXLAB_CONTROL"))
    if args.online and not under_worker:
        raise ConfigError("--online: needs a MixLab worker (MIXLAB_CONTROL is not set); drop --online to run standalone")
    if args.domains is not None:
        domains = parse_mapping(args.domains, "--domains", str)
    elif os.environ.get("MIXLAB_DOMAINS"):
        domains = parse_mapping(os.environ["MIXLAB_DOMAINS"], "MIXLAB_DOMAINS", str)
    else:
        raise ConfigError("no domains: pass --domains code=DIR,prose=DIR (each DIR holding train.txt and valid.txt)")
    if not domains:
        raise ConfigError("--domains: no domain given")
    if args.mixture is not None:
        weights, source = parse_mapping(args.mixture, "--mixture", float), "--mixture"
    elif os.environ.get("MIXLAB_MIXTURE"):
        weights, source = parse_mapping(os.environ["MIXLAB_MIXTURE"], "MIXLAB_MIXTURE", float), "MIXLAB_MIXTURE"
    else:
        weights, source = {name: 1.0 for name in domains}, "uniform mixture"
    mixture = validate_mixture(weights, domains, source)
    budget = {}
    if os.environ.get("MIXLAB_BUDGET"):
        try:
            budget = json.loads(os.environ["MIXLAB_BUDGET"])
        except json.JSONDecodeError as error:
            raise ConfigError(f"MIXLAB_BUDGET: not valid JSON ({error})") from None
    steps = args.steps if args.steps is not None else int(budget.get("steps", 1000))
    seed = args.seed if args.seed is not None else int(budget.get("seed", 0))
    checks = [
        (steps >= 1, f"--steps: is {steps}; use 1 or more"),
        (args.n_layer >= 1, "--n-layer: use 1 or more"),
        (args.n_head >= 1 and args.n_embd % args.n_head == 0,
         f"--n-embd: {args.n_embd} is not a multiple of --n-head {args.n_head}"),
        (args.block_size >= 1, "--block-size: use 1 or more"),
        (args.batch_size >= 1, "--batch-size: use 1 or more"),
        (args.lr > 0, "--lr: use a positive learning rate"),
        (args.eval_every >= 0, "--eval-every: use 0 (only at the end) or more"),
        (args.eval_bytes >= 2, "--eval-bytes: use 2 or more"),
        (0 <= args.dropout < 1, "--dropout: use a probability in [0, 1)"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    return domains, mixture, steps, seed, under_worker


def read_corpus(domains, block_size, eval_bytes):
    """{domain: (train bytes, fixed validation slice)} as uint8 arrays; torch is imported by then."""
    import torch

    corpus = {}
    for name, directory in domains.items():
        parts = {}
        for split in ("train", "valid"):
            path = os.path.join(directory, f"{split}.txt")
            try:
                with open(path, "rb") as handle:
                    data = handle.read() if split == "train" else handle.read(eval_bytes)
            except OSError as error:
                raise ConfigError(f"domain {name!r}: cannot read {path} ({error.strerror}); "
                                  f"each domain directory needs train.txt and valid.txt") from None
            parts[split] = torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else torch.zeros(0, dtype=torch.uint8)
        if parts["train"].numel() < block_size + 1:
            raise ConfigError(f"domain {name!r}: train.txt has {parts['train'].numel()} bytes; it needs more than "
                              f"--block-size ({block_size})")
        if parts["valid"].numel() < 2:
            raise ConfigError(f"domain {name!r}: valid.txt has fewer than 2 bytes; give it held-out text")
        corpus[name] = parts
    return corpus


def build_model(args):
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1 = nn.LayerNorm(args.n_embd)
            self.qkv = nn.Linear(args.n_embd, 3 * args.n_embd)
            self.projection = nn.Linear(args.n_embd, args.n_embd)
            self.norm2 = nn.LayerNorm(args.n_embd)
            self.up = nn.Linear(args.n_embd, 4 * args.n_embd)
            self.down = nn.Linear(4 * args.n_embd, args.n_embd)
            self.dropout = nn.Dropout(args.dropout)

        def forward(self, x):
            batch, length, width = x.shape
            q, k, v = self.qkv(self.norm1(x)).split(width, dim=2)
            heads = lambda t: t.view(batch, length, args.n_head, width // args.n_head).transpose(1, 2)
            attended = F.scaled_dot_product_attention(
                heads(q), heads(k), heads(v), is_causal=True,
                dropout_p=args.dropout if self.training else 0.0)
            x = x + self.dropout(self.projection(attended.transpose(1, 2).reshape(batch, length, width)))
            return x + self.dropout(self.down(F.gelu(self.up(self.norm2(x)))))

    class ByteGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.token = nn.Embedding(VOCABULARY, args.n_embd)
            self.position = nn.Embedding(args.block_size, args.n_embd)
            self.blocks = nn.ModuleList(Block() for _ in range(args.n_layer))
            self.norm = nn.LayerNorm(args.n_embd)
            self.head = nn.Linear(args.n_embd, VOCABULARY, bias=False)
            self.head.weight = self.token.weight
            self.apply(self._initialise)
            residual_std = 0.02 / math.sqrt(2 * args.n_layer)
            for block in self.blocks:
                nn.init.normal_(block.projection.weight, std=residual_std)
                nn.init.normal_(block.down.weight, std=residual_std)

        @staticmethod
        def _initialise(module):
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

        def forward(self, tokens):
            positions = torch.arange(tokens.shape[1], device=tokens.device)
            x = self.token(tokens) + self.position(positions)
            for block in self.blocks:
                x = block(x)
            return self.head(self.norm(x))

    return ByteGPT()


def choose_device(requested):
    import torch

    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError:
        raise ConfigError(f"--device: '{requested}' is not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        raise ConfigError(f"--device {requested}: CUDA is not available (CUDA_VISIBLE_DEVICES={visible!r}, "
                          f"torch {torch.__version__}); use --device auto or cpu, or install a CUDA build of torch")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ConfigError(f"--device {requested}: only {torch.cuda.device_count()} GPU(s) visible")
    return device


class Reporter:
    """Sends evaluations and progress to the worker, or prints them as JSON lines standalone."""

    def __init__(self, trainer, progress_every):
        self.trainer = trainer
        self.progress_every = progress_every
        self.last_report = time.monotonic()
        self.last_eval = None

    def eval(self, step, tokens, losses):
        self.last_eval = (step, losses)
        if self.trainer is not None:
            self.trainer.eval(step, tokens, losses)
        else:
            print(json.dumps({"type": "eval", "step": step, "tokens": tokens, "losses": losses}), flush=True)
        self.last_report = time.monotonic()

    def progress(self, step, tokens):
        if self.trainer is not None and time.monotonic() - self.last_report >= self.progress_every:
            self.trainer.progress(step, tokens)
            self.last_report = time.monotonic()


class Run:
    """The model, optimiser, data and step counter of one training run."""

    def __init__(self, args, corpus, seed, horizon, device):
        import torch

        self.torch = torch
        self.args = args
        self.corpus = corpus
        self.device = device
        self.horizon = horizon
        self.warmup = args.warmup_steps if args.warmup_steps is not None else max(1, horizon // 20)
        torch.manual_seed(seed)
        self.model = build_model(args).to(device)
        matrices = [p for p in self.model.parameters() if p.dim() >= 2]
        others = [p for p in self.model.parameters() if p.dim() < 2]
        fused = {"fused": True} if device.type == "cuda" else {}
        self.optimiser = torch.optim.AdamW(
            [{"params": matrices, "weight_decay": args.weight_decay}, {"params": others, "weight_decay": 0.0}],
            lr=args.lr, betas=(0.9, 0.95), **fused)
        self.sampler = torch.Generator().manual_seed(seed + 1)
        use_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
        self.autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_bf16 else None
        self.step = 0
        self.tokens_per_step = args.batch_size * args.block_size
        self.parameter_count = sum(p.numel() for p in self.model.parameters())

    def learning_rate(self):
        step = self.step + 1
        if step <= self.warmup:
            return self.args.lr * step / self.warmup
        floor = self.args.lr * self.args.min_lr_ratio
        progress = min(1.0, (step - self.warmup) / max(1, self.horizon - self.warmup))
        return floor + 0.5 * (1 + math.cos(math.pi * progress)) * (self.args.lr - floor)

    def _forward(self, inputs):
        if self.autocast is None:
            return self.model(inputs)
        with self.autocast():
            return self.model(inputs)

    def train_steps(self, count, mixture, reporter):
        torch, args = self.torch, self.args
        names = [name for name in mixture if mixture[name] > 0]
        shares = torch.tensor([mixture[name] for name in names], dtype=torch.float64)
        self.model.train()
        for _ in range(count):
            domain = names[int(torch.multinomial(shares, 1, generator=self.sampler))]
            data = self.corpus[domain]["train"]
            starts = torch.randint(0, data.numel() - args.block_size, (args.batch_size,), generator=self.sampler)
            windows = torch.stack([data[s:s + args.block_size + 1] for s in starts.tolist()]).long().to(self.device)
            logits = self._forward(windows[:, :-1])
            loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, VOCABULARY), windows[:, 1:].reshape(-1))
            if not torch.isfinite(loss):
                raise FloatingPointError(f"training loss is {loss.item()} at step {self.step + 1} (domain {domain}); "
                                         f"lower --lr")
            for group in self.optimiser.param_groups:
                group["lr"] = self.learning_rate()
            self.optimiser.zero_grad(set_to_none=True)
            loss.backward()
            if args.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), args.grad_clip)
            self.optimiser.step()
            self.step += 1
            reporter.progress(self.step, self.tokens)

    @property
    def tokens(self):
        return self.step * self.tokens_per_step

    def evaluate(self):
        """Mean next-byte cross-entropy (nats/byte) on each domain's fixed validation slice."""
        torch, block = self.torch, self.args.block_size
        self.model.eval()
        losses = {}
        with torch.no_grad():
            for name, parts in self.corpus.items():
                data = parts["valid"].long()
                predicted = data.numel() - 1
                full = predicted // block
                total = 0.0
                for first in range(0, full, self.args.eval_batch_size):
                    last = min(full, first + self.args.eval_batch_size)
                    windows = torch.stack([data[i * block:i * block + block + 1] for i in range(first, last)])
                    total += self._batch_loss(windows.to(self.device))
                if predicted % block:
                    total += self._batch_loss(data[full * block:].unsqueeze(0).to(self.device))
                losses[name] = total / predicted
        self.model.train()
        return losses

    def _batch_loss(self, windows):
        logits = self._forward(windows[:, :-1]).float()
        return self.torch.nn.functional.cross_entropy(
            logits.reshape(-1, VOCABULARY), windows[:, 1:].reshape(-1), reduction="sum").item()


def train_fixed(run, steps, mixture, eval_every, reporter):
    while run.step < steps:
        segment = min(steps - run.step, eval_every or steps)
        run.train_steps(segment, mixture, reporter)
        reporter.eval(run.step, run.tokens, run.evaluate())


def train_online(run, trainer, domains, reporter):
    while True:
        answer = trainer.next(run.step)
        if answer is None:
            break
        weights, segment = answer
        mixture = validate_mixture(weights, domains, f"mixture from the worker at step {run.step}")
        if segment > 0:
            run.train_steps(segment, mixture, reporter)
        reporter.eval(run.step, run.tokens, run.evaluate())


def main(argv=None):
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        domains, mixture, steps, seed, under_worker = resolve_settings(args)
    except ConfigError as error:
        print(f"torch_proxy: {error}", file=sys.stderr)
        return 2
    try:
        import torch
    except ImportError as error:
        print(f"torch_proxy: cannot import torch ({error}); install it with `pip install torch` "
              f"(see https://pytorch.org for CUDA builds)", file=sys.stderr)
        return 3
    try:
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        device = choose_device(args.device)
        if device.type == "cpu":
            torch.use_deterministic_algorithms(True)
        corpus = read_corpus(domains, args.block_size, args.eval_bytes)
    except ConfigError as error:
        print(f"torch_proxy: {error}", file=sys.stderr)
        return 2
    run = Run(args, corpus, seed, steps, device)
    note = (f"torch_proxy: torch {torch.__version__}, device {device}"
            f" (CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r}), {run.parameter_count} parameters, "
            f"{args.n_layer}x{args.n_embd} ({args.n_head} heads), block {args.block_size}, batch {args.batch_size}, "
            f"seed {seed}, {'online' if args.online else f'{steps} steps'}, mixture {json.dumps(mixture)}")
    print(note, file=sys.stderr if not under_worker else sys.stdout, flush=True)
    if not under_worker:
        reporter = Reporter(None, args.progress_every)
        train_fixed(run, steps, mixture, args.eval_every, reporter)
        return 0
    with mixlab_trainer.connect() as trainer:
        reporter = Reporter(trainer, args.progress_every)
        if args.online:
            train_online(run, trainer, domains, reporter)
        else:
            train_fixed(run, steps, mixture, args.eval_every, reporter)
        final = reporter.last_eval
        if final is None or final[0] != run.step:
            final = (run.step, run.evaluate())
        trainer.eval(run.step, run.tokens, final[1])
        trainer.done()
    return 0


if __name__ == "__main__":
    sys.exit(main())

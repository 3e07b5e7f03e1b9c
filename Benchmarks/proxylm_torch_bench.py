"""Throughput of the ProxyLM architecture in PyTorch on the CPU, for docs/benchmarks.md.

The same model as `mixlab proxy train` (byte embedding → concatenated context → tanh layers →
256 logits, Adam, one domain's batch per step), trained on a synthetic byte stream. Prints one
JSON line per configuration: tokens/s and effective GFLOP/s (6 FLOPs per dense weight per token),
by wall clock and by process CPU time.

    python3 Benchmarks/proxylm_torch_bench.py --steps 4000 --threads 1
"""
import argparse
import json
import time

import torch


def build(context, embedding, hidden, layers):
    modules = [torch.nn.Embedding(256, embedding), torch.nn.Flatten()]
    width = context * embedding
    for _ in range(layers):
        modules += [torch.nn.Linear(width, hidden), torch.nn.Tanh()]
        width = hidden
    modules.append(torch.nn.Linear(width, 256))
    return torch.nn.Sequential(*modules)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--context", type=int, default=16)
    parser.add_argument("--embedding", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=96)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build(args.context, args.embedding, args.hidden, args.layers)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3, betas=(0.9, 0.999), eps=1e-8)
    generator = torch.Generator().manual_seed(0)
    text = torch.randint(0, 64, (200_000,), generator=generator)
    offsets = torch.arange(-args.context, 0)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        positions = torch.randint(args.context, len(text), (args.batch,), generator=generator)
        contexts = text[positions[:, None] + offsets]
        loss = loss_fn(model(contexts), text[positions])
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()

    for _ in range(50):
        step()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        step()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    dense = args.context * args.embedding * args.hidden + (args.layers - 1) * args.hidden ** 2 + args.hidden * 256
    tokens = args.steps * args.batch
    print(json.dumps({
        "impl": "pytorch", "torch": torch.__version__, "threads": args.threads,
        "parameters": sum(p.numel() for p in model.parameters()), "tokens": tokens,
        "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
        "tokens_per_s_wall": round(tokens / wall), "tokens_per_s_cpu": round(tokens / cpu),
        "gflops_wall": round(6 * dense * tokens / wall / 1e9, 2), "gflops_cpu": round(6 * dense * tokens / cpu / 1e9, 2),
    }))


if __name__ == "__main__":
    main()

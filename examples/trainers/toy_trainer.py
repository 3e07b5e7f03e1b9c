"""A stand-in trainer for trying MixLab without a GPU or a corpus.

It trains nothing: each domain's "loss" falls with the share of that domain and with the step,
plus a little transfer from the other domains, so the fitted mixing law has something to find.
Run it through a sweep (examples/sweeps/toy.yaml); it speaks trainer protocol 1 through the
stdlib-only client in clients/python.
"""
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
import mixlab_trainer  # noqa: E402

mixture = mixlab_trainer.mixture()
budget = mixlab_trainer.budget()
steps = int(budget.get("steps", 5))
with mixlab_trainer.connect() as trainer:
    for step in range(1, steps + 1):
        time.sleep(0.05)
        losses = {}
        for domain, share in mixture.items():
            others = sum(s for d, s in mixture.items() if d != domain)
            losses[domain] = 1.5 + 2.0 * math.exp(-2.5 * share - 0.3 * others) * (1 + 1.0 / step)
        trainer.eval(step, step * 4096, losses)
    trainer.done()

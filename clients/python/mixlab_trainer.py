"""Trainer side of the MixLab trainer protocol (version 1), standard library only.

A MixLab worker starts your training command with these environment variables:

    MIXLAB_RUN_ID, MIXLAB_SWEEP_ID, MIXLAB_ATTEMPT   identifiers of this attempt
    MIXLAB_MIXTURE   JSON object {domain: share}: the run's (initial) mixture
    MIXLAB_BUDGET    JSON object: the run's budget (steps, tokens, model size, ...)
    MIXLAB_DOMAINS   JSON object {domain: data path}
    MIXLAB_CONTROL   path of the Unix socket to report to
    MIXLAB_PROTOCOL  "1"

and expects one JSON object per line on the control socket. Example::

    import mixlab_trainer as mt

    mixture = mt.mixture()              # {"code": 0.3, "prose": 0.7}
    steps = int(mt.budget().get("steps", 1000))
    with mt.connect() as trainer:       # connects and says hello
        for step in range(1, steps + 1):
            train_one_step(mixture)
            if step % 100 == 0:
                trainer.eval(step, tokens=step * 4096, losses=evaluate())  # {"code": 2.3, ...}
            elif step % 10 == 0:
                trainer.progress(step, tokens=step * 4096)
        trainer.eval(steps, tokens=steps * 4096, losses=evaluate())        # the final result
        trainer.done()

Online methods ask for the next mixture at each round boundary::

    answer = trainer.next(step)         # None means stop: final eval, then done()
    if answer is not None:
        mixture, round_steps = answer

Exit with status 0 only after ``done()``; exiting 0 without it fails the run
(cause ``protocol_error``).
"""

import json
import math
import os
import socket

PROTOCOL = 1
__all__ = ["PROTOCOL", "ProtocolError", "Trainer", "connect", "mixture", "budget", "domains"]


class ProtocolError(Exception):
    """The worker answered something this helper does not understand."""


def _env_json(name):
    text = os.environ.get(name)
    if text is None:
        raise KeyError(f"{name} is not set; run this under a MixLab worker (or set it by hand for tests)")
    return json.loads(text)


def mixture():
    """The run's initial mixture: {domain: share}."""
    return {str(k): float(v) for k, v in _env_json("MIXLAB_MIXTURE").items()}


def budget():
    """The run's budget object, e.g. {"steps": 1000, "model_size": "20M"}."""
    return _env_json("MIXLAB_BUDGET")


def domains():
    """{domain: data path} for the run's domains."""
    return {str(k): str(v) for k, v in _env_json("MIXLAB_DOMAINS").items()}


class Trainer:
    """A connection to the worker's control socket. Use :func:`connect` to make one."""

    def __init__(self, path=None):
        path = path or os.environ.get("MIXLAB_CONTROL")
        if not path:
            raise KeyError("MIXLAB_CONTROL is not set; run this under a MixLab worker")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(path)
        self._reader = self._sock.makefile("r", encoding="utf-8", newline="\n")
        self._send({"type": "hello", "protocol": PROTOCOL})

    def _send(self, message):
        line = json.dumps(message, separators=(",", ":"), allow_nan=False) + "\n"
        self._sock.sendall(line.encode("utf-8"))

    def eval(self, step, tokens, losses):
        """Reports per-domain losses at ``step`` (after ``tokens`` training tokens)."""
        clean = {}
        for domain, loss in losses.items():
            loss = float(loss)
            if not math.isfinite(loss) or loss < 0:
                raise ValueError(f"loss of {domain!r} is {loss}; losses must be finite and >= 0")
            clean[str(domain)] = loss
        self._send({"type": "eval", "step": int(step), "tokens": int(tokens), "losses": clean})

    def progress(self, step, tokens):
        """Tells the worker training is alive (resets its no-report watchdog)."""
        self._send({"type": "progress", "step": int(step), "tokens": int(tokens)})

    def next(self, step):
        """Asks for the next mixture. Returns ``(weights, steps)`` or ``None`` when told to stop."""
        self._send({"type": "next", "step": int(step)})
        line = self._reader.readline()
        if not line:
            raise ProtocolError("the worker closed the control socket while a next was pending")
        reply = json.loads(line)
        if reply.get("type") == "stop":
            return None
        if reply.get("type") == "mixture":
            weights = {str(k): float(v) for k, v in reply["weights"].items()}
            return weights, int(reply["steps"])
        raise ProtocolError(f"unexpected reply: {line.strip()}")

    def done(self):
        """Marks training finished; the last eval sent before this is the run's result."""
        self._send({"type": "done"})

    def close(self):
        self._reader.close()
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False


def connect(path=None):
    """Connects to ``path`` (default: ``$MIXLAB_CONTROL``) and says hello."""
    return Trainer(path)

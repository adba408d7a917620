"""PyTorch side of the sganc benchmark suite (bench/run.ts starts it; not meant to be run by hand).

Builds the same StyleGAN computations as sganc from the checked model's layer lists and the same
parameters, runs and times them, and exports forward cases to ONNX for onnxruntime-node.
Written for PyTorch 1.13 (Debian's python3-torch) and numpy.

Protocol: one JSON request per line on stdin, one JSON reply per line on stdout. Tensors travel
as float32 safetensors files. A request that fails gets {"error": "..."}; the process keeps going.
"""

import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise ValueError(f"tensor {name} has dtype {entry['dtype']}, expected F32")
        start, end = entry["data_offsets"]
        data = np.frombuffer(raw[base + start : base + end], dtype="<f4").copy()
        tensors[name] = torch.from_numpy(data.reshape(entry["shape"]))
    return tensors


def write_safetensors(path, tensors):
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        data = tensors[name].detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)


_blur_filters = {}


def blur_filter(kernel, channels):
    """Return the normalised outer product of the 1-D kernel with itself, flipped, as depthwise weights.

    The filter is built with numpy and cached, so an ONNX export records a constant of known shape.
    """
    key = (tuple(kernel), channels)
    if key not in _blur_filters:
        k = np.asarray(kernel, dtype=np.float32)
        taps = np.outer(k, k)[::-1, ::-1] / k.sum() ** 2
        weights = np.tile(taps.reshape(1, 1, len(kernel), len(kernel)), (channels, 1, 1, 1)).astype(np.float32)
        _blur_filters[key] = torch.from_numpy(np.ascontiguousarray(weights))
    return _blur_filters[key]


class Net:
    """Parameters (unscaled, as stored) with their equalized-learning-rate scales, and the inputs."""

    def __init__(self, param_specs, feeds):
        self.scales = {p["name"]: p["runtimeScale"] for p in param_specs}
        self.params = {name: t for name, t in feeds.items() if name in self.scales}
        self.inputs = {name: t for name, t in feeds.items() if name not in self.scales}

    def scaled(self, name):
        return self.params[name] * self.scales[name]


def per_channel(v, rank):
    return v.reshape(1, -1) if rank == 2 else v.reshape(1, -1, 1, 1)


def apply_layer(net, x, layer, style, noise):
    kind = layer["kind"]
    if kind == "pixelnorm":
        return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + layer["eps"])
    if kind == "dense":
        bias = net.scaled(layer["bias"]) if "bias" in layer else None
        return F.linear(x, net.scaled(layer["weight"]), bias)
    if kind == "conv":
        k = layer["kernel"]
        low = (k - 1) // 2
        y = F.conv2d(F.pad(x, (low, k - 1 - low, low, k - 1 - low)), net.scaled(layer["weight"]))
        return y if "bias" not in layer else y + per_channel(net.scaled(layer["bias"]), 4)
    if kind == "bias":
        return x + per_channel(net.scaled(layer["param"]), x.dim())
    if kind == "lrelu":
        return F.leaky_relu(x, layer["slope"]) * layer["gain"]
    if kind == "noise":
        return x + per_channel(net.scaled(layer["strength"]), 4) * noise(layer["input"])
    if kind == "adain":
        centred = x - x.mean(dim=(2, 3), keepdim=True)
        variance = centred.square().mean(dim=(2, 3), keepdim=True)
        normalized = centred * torch.rsqrt(variance + layer["eps"])
        affine = F.linear(style(layer["styleIndex"]), net.scaled(layer["styleWeight"]), net.scaled(layer["styleBias"]))
        c = layer["channels"]
        scale = affine[:, :c].reshape(-1, c, 1, 1)
        bias = affine[:, c:].reshape(-1, c, 1, 1)
        return normalized * (scale + 1) + bias
    if kind == "upsample":
        if layer["mode"] == "nearest":
            return F.interpolate(x, scale_factor=2, mode="nearest")
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    if kind == "blur":
        kernel = layer["kernel"]
        k = len(kernel)
        low = (k - 1) // 2
        padded = F.pad(x, (low, k - 1 - low, low, k - 1 - low))
        return F.conv2d(padded, blur_filter(kernel, x.shape[1]).to(x.dtype), groups=x.shape[1])
    if kind == "downsample":
        return F.avg_pool2d(x, 2)
    if kind == "mbstd":
        return minibatch_stddev(x, layer["group"], layer["features"])
    if kind == "flatten":
        return x.reshape(x.shape[0], -1)
    raise ValueError(f"unknown layer kind {kind}")


def minibatch_stddev(x, group, features):
    """Sample n = g * M + m falls in group m = n % M, as in sganc and NVlabs' StyleGAN."""
    n, c, h, w = x.shape
    g = min(group, n)
    m = n // g
    grouped = x.reshape(g, m, features, c // features, h, w)
    centred = grouped - grouped.mean(dim=0, keepdim=True)
    stddev = torch.sqrt(centred.square().mean(dim=0) + 1e-8)
    per_group = stddev.mean(dim=(2, 3, 4))
    tiled = per_group.reshape(1, m, features, 1, 1).expand(g, m, features, h, w).reshape(n, features, h, w)
    return torch.cat([x, tiled], dim=1)


def apply_layers(net, x, layers, style=None, noise=None):
    for layer in layers:
        x = apply_layer(net, x, layer, style, noise)
    return x


def mapping(net, spec, z):
    return apply_layers(net, z, spec["mapping"]["layers"])


def synthesis(net, spec, stage, w, noise):
    const = spec["synthesis"]["constant"]
    x = net.scaled(const["param"]).reshape(1, const["channels"], const["size"], const["size"])
    x = x.expand(w.shape[0], -1, -1, -1)
    active = [s for s in spec["synthesis"]["stages"] if s["res"] <= stage]
    for s in active:
        x = apply_layers(net, x, s["layers"], lambda i: w, noise)
    return apply_layers(net, x, active[-1]["torgb"], lambda i: w, noise)


def discriminator(net, spec, stage, image):
    stages = spec["discriminator"]["stages"]
    first = next(i for i, s in enumerate(stages) if s["res"] == stage)
    x = apply_layers(net, image, stages[first]["fromrgb"])
    for s in stages[first:]:
        x = apply_layers(net, x, s["layers"])
    return x


class Case:
    """One case: `run()` returns the outputs named as sganc names them; `forward_inputs` feed ONNX."""

    def __init__(self, request):
        peer = request["peer"]
        self.kind = peer["kind"]
        self.peer = peer
        self.spec = request.get("spec")
        feeds = read_safetensors(request["feeds"])
        if self.kind == "layers":
            param_specs = peer["params"]
        elif self.spec is not None:
            param_specs = self.spec["params"]
        else:
            param_specs = []
        self.net = Net(param_specs, feeds)
        self.feeds = feeds
        if self.kind == "train":
            for t in self.net.params.values():
                t.requires_grad_(True)

    def noise(self, name):
        return self.net.inputs[name]

    def forward(self, inputs):
        """The forward cases as a function of their non-parameter inputs; returns (name, tensor)."""
        net = self.net
        if self.kind == "conv2d":
            return "conv/out", F.conv2d(inputs["x"], inputs["w"], stride=self.peer["stride"], padding=self.peer["padding"])
        if self.kind == "matmul":
            return "matmul/out", torch.mm(inputs["a"], inputs["b"])
        if self.kind == "layers":
            return "layer/y", apply_layers(net, inputs["x"], self.peer["layers"], lambda i: inputs["w"], lambda n: inputs[n])
        if self.kind == "mapping":
            return "mapping/w", mapping(net, self.spec, inputs["z"])
        if self.kind == "generator":
            w = mapping(net, self.spec, inputs["z"])
            return "generator/image", synthesis(net, self.spec, self.peer["stage"], w, lambda n: inputs[n])
        raise ValueError(f"case kind {self.kind} has no forward export")

    def train_step(self):
        """Run one G step, then one D step with R1, as sganc's buildGeneratorStep and buildDiscriminatorStep."""
        net, spec, stage = self.net, self.spec, self.peer["stage"]
        params = net.params
        mapping_and_synthesis = [n for n, p in net.scales.items() if not n.startswith("discriminator.") and n in params]
        disc = [n for n in net.scales if n.startswith("discriminator.") and n in params]
        out = {}

        w = mapping(net, spec, net.inputs["z1"])
        image = synthesis(net, spec, stage, w, self.noise)
        loss_g = F.softplus(-discriminator(net, spec, stage, image)).mean()
        grads = torch.autograd.grad(loss_g, [params[n] for n in mapping_and_synthesis], allow_unused=True)
        out["g/loss_g"] = loss_g
        for name, g in zip(mapping_and_synthesis, grads):
            if g is not None:
                out[f"g/grad.{name}"] = g

        real = net.inputs["real"].detach().requires_grad_(True)
        logits_real = discriminator(net, spec, stage, real)
        logits_fake = discriminator(net, spec, stage, net.inputs["fake"])
        loss_d = F.softplus(logits_fake).mean() + F.softplus(-logits_real).mean()
        gamma = self.peer["r1Gamma"]
        if gamma > 0:
            (grad_real,) = torch.autograd.grad(logits_real.sum(), real, create_graph=True)
            r1 = grad_real.square().sum() * (gamma / 2 / real.shape[0])
        else:
            r1 = torch.zeros(())
        grads = torch.autograd.grad(loss_d + r1, [params[n] for n in disc], allow_unused=True)
        out["d/loss_d"] = loss_d
        out["d/r1"] = r1
        out["d/score_real"] = logits_real.mean()
        out["d/score_fake"] = logits_fake.mean()
        for name, g in zip(disc, grads):
            if g is not None:
                out[f"d/grad.{name}"] = g
        return out

    def run(self):
        if self.kind == "train":
            return {k: v.detach() for k, v in self.train_step().items()}
        with torch.no_grad():
            name, y = self.forward(self.net.inputs)
        return {name: y}


def time_case(case, warmup, runs):
    for _ in range(warmup):
        case.run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        case.run()
        times.append((time.perf_counter() - start) * 1000)
    return times


def count_kernels(case):
    """Counts the leaf ops (those that call no other op) of one run in the autograd profiler."""
    with torch.autograd.profiler.profile() as prof:
        case.run()
    return sum(1 for e in prof.function_events if not e.cpu_children)


def export_onnx(case, path):
    names = sorted(case.net.inputs)

    class Forward(torch.nn.Module):
        def forward(self, *tensors):
            return case.forward(dict(zip(names, tensors)))[1]

    args = tuple(case.net.inputs[n] for n in names)
    with torch.no_grad():
        output_name = case.forward(case.net.inputs)[0]
        torch.onnx.export(Forward(), args, path, input_names=names, output_names=[output_name], opset_version=13)
    return {"output": output_name}


def best_seconds(fn, runs):
    fn()
    best = math.inf
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def measure_peak(runs):
    """Best fp32 GFLOP/s of a large 3x3 convolution (oneDNN) and a large matmul, over `runs` runs each.

    Debian's PyTorch calls the generic BLAS interface, so its matmul measures that BLAS, not the CPU.
    """
    x = torch.rand(8, 256, 32, 32)
    w = torch.rand(256, 256, 3, 3)
    conv = 2 * 8 * 256 * 32 * 32 * 256 * 9 / best_seconds(lambda: F.conv2d(x, w, padding=1), runs) / 1e9
    a = torch.rand(1024, 1024)
    matmul = 2 * 1024**3 / best_seconds(lambda: torch.mm(a, a), runs) / 1e9
    return {"conv": conv, "matmul": matmul}


def export_matmul(size, path):
    class MatMul(torch.nn.Module):
        def forward(self, a, b):
            return torch.matmul(a, b)

    a = torch.rand(size, size)
    torch.onnx.export(MatMul(), (a, a), path, input_names=["a", "b"], output_names=["y"], opset_version=13)
    return {"ok": True}


def handle(request, cases):
    cmd = request["cmd"]
    if "threads" in request:
        torch.set_num_threads(request["threads"])
    if cmd == "hello":
        return {"torch": torch.__version__, "threads": torch.get_num_threads()}
    if cmd == "peak":
        return measure_peak(request["runs"])
    if cmd == "export_matmul":
        return export_matmul(request["size"], request["path"])
    if cmd == "load":
        case = Case(request)
        cases[request["case"]] = case
        write_safetensors(request["outputs"], case.run())
        return {"ok": True}
    case = cases[request["case"]]
    if cmd == "time":
        return {"times": time_case(case, request["warmup"], request["runs"])}
    if cmd == "kernels":
        return {"kernels": count_kernels(case)}
    if cmd == "onnx":
        return export_onnx(case, request["path"])
    if cmd == "drop":
        del cases[request["case"]]
        return {"ok": True}
    raise ValueError(f"unknown request {cmd}")


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cases = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = handle(json.loads(line), cases)
        except Exception as error:  # noqa: BLE001 - every failure goes back to the caller as a reply
            reply = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

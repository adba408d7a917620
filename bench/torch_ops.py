"""Times 3x3 convolutions (forward and both transposes) and a matmul of StyleGAN shapes in PyTorch.

bench/cpu-torch.ts runs this script with /usr/bin/python3 and compares the figures with the cpu
target on the same shapes. Prints one JSON object per case: name, gflop and the median ms of
REPEATS runs after two warm-up runs, on THREADS intra-op threads.

Usage: /usr/bin/python3 bench/torch_ops.py THREADS REPEATS
"""

import json
import statistics
import sys
import time

import torch
import torch.nn.grad

CONV_SHAPES = [
    ("batch 8, 64 channels, 32x32", (8, 64, 32, 32), 64),
    ("fashion 32x32", (16, 32, 32, 32), 32),
    ("fashion 8x8", (32, 64, 8, 8), 64),
    ("StyleGAN 32x32", (2, 128, 32, 32), 128),
]
MATMUL_SHAPES = [(64, 512, 512)]


def median_ms(run, repeats):
    for _ in range(2):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def conv_cases(label, x_shape, out_channels):
    n, c, h, w = x_shape
    x = torch.rand(x_shape) * 2 - 1
    weight = torch.rand((out_channels, c, 3, 3)) * 2 - 1
    dy = torch.rand((n, out_channels, h, w)) * 2 - 1
    gflop = 2 * n * out_channels * h * w * c * 9 / 1e9
    shape = f"{'x'.join(map(str, x_shape))} -> {out_channels}"
    yield f"conv2d {label} {shape}", gflop, lambda: torch.nn.functional.conv2d(x, weight, padding=1)
    yield f"conv2dBackInput {label} {shape}", gflop, lambda: torch.nn.grad.conv2d_input(x.shape, weight, dy, padding=1)
    yield f"conv2dBackWeight {label} {shape}", gflop, lambda: torch.nn.grad.conv2d_weight(x, weight.shape, dy, padding=1)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: torch_ops.py THREADS REPEATS")
    threads, repeats = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cases = []
    for label, x_shape, out_channels in CONV_SHAPES:
        cases.extend(conv_cases(label, x_shape, out_channels))
    for m, k, n in MATMUL_SHAPES:
        a = torch.rand((m, k)) * 2 - 1
        b = torch.rand((k, n)) * 2 - 1
        cases.append((f"matmul {m}x{k} @ {k}x{n}", 2 * m * k * n / 1e9, lambda a=a, b=b: a @ b))
    with torch.no_grad():
        for name, gflop, run in cases:
            print(json.dumps({"name": name, "gflop": gflop, "ms": median_ms(run, repeats), "threads": torch.get_num_threads()}), flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Speed of the completion loop: image-iterations per second and the share of the FLOP peak.

    python bench/bench_completion.py --batches 1 8 64 --iters 50 [--precision mixed_bfloat16]

For each batch size B, ``completion.complete`` runs 2 * iters iterations logged every
``iters``: the first chunk warms up (tracing, first execution), the second is timed
from the progress callback at iteration ``iters`` to the one at 2 * iters. That is one
compiled loop of ``iters`` steps plus one evaluation of the losses, exactly as a real run
spends its time between two logged iterations.

FLOPs are counted analytically from the layer shapes (multiply-adds x 2; batch norm and
activations are left out). One iteration = forward through G and D + the gradient with
respect to the *inputs* back through D and G, about 2x the forward FLOPs: the weight
gradients (the third forward-sized pass of training) are not needed for a gradient in z
and TensorFlow prunes them from the graph. The timed chunk also holds one forward
evaluation. The peak is a large matmul (4096 x 4096, in the run's compute dtype) timed
in the same process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from dcgan_completion import completion, masks  # noqa: E402
from dcgan_completion.config import DTYPE_POLICIES, ModelConfig  # noqa: E402
from dcgan_completion.model import build_discriminator, build_generator  # noqa: E402
from flops import discriminator_flops, generator_flops, matmul_peak  # noqa: E402


def time_batch(G, D, config: ModelConfig, batch: int, iters: int) -> float:
    """Seconds for one logged chunk of ``iters`` iterations at batch size ``batch``."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (batch,) + config.image_shape, dtype=np.uint8)
    m = masks.MaskSpec("center", config.image_size).masks(batch).values
    stamps = {}

    def progress(it):
        stamps[it] = time.perf_counter()

    completion.complete(x, m, G, D, n_iter=2 * iters, out_interval=iters, blend="none",
                        progress=progress)
    return stamps[2 * iters] - stamps[iters]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8, 64], help="batch sizes (default: 1 8 64)")
    p.add_argument("--iters", type=int, default=50, help="timed iterations per batch size (default: 50)")
    p.add_argument("--precision", choices=DTYPE_POLICIES,
                   default="float32", help="the models' dtype policy (default: float32)")
    p.add_argument("--image_size", type=int, default=64)
    p.add_argument("--gf_dim", type=int, default=64)
    p.add_argument("--df_dim", type=int, default=64)
    p.add_argument("--z_dim", type=int, default=100)
    args = p.parse_args(argv)

    config = ModelConfig(image_size=args.image_size, gf_dim=args.gf_dim, df_dim=args.df_dim,
                         z_dim=args.z_dim, dtype_policy=args.precision)
    tf.keras.utils.set_random_seed(0)
    G, D = build_generator(config), build_discriminator(config)
    g_flops, d_flops = generator_flops(config), discriminator_flops(config)
    per_iter = 2.0 * (g_flops + d_flops)                              # forward + input gradient
    compute = {"float32": tf.float32, "mixed_bfloat16": tf.bfloat16, "mixed_float16": tf.float16}
    peak = matmul_peak(dtype=compute[args.precision])
    devices = ", ".join(d.device_type for d in tf.config.list_physical_devices()) or "CPU"

    print(f"model {config.image_size}x{config.image_size}x{config.channels}, z_dim {config.z_dim}, "
          f"gf_dim {config.gf_dim}, df_dim {config.df_dim}, {args.precision}; devices: {devices}")
    print(f"forward MFLOP per image: G {g_flops / 1e6:.1f}, D {d_flops / 1e6:.1f}; "
          f"one iteration (forward + input gradient) {per_iter / 1e6:.1f} MFLOP")
    print(f"peak ({args.precision} compute, 4096^2 matmul): {peak / 1e9:.1f} GFLOP/s")
    print(f"{'batch':>6} {'iter/s':>9} {'img-iter/s':>11} {'GFLOP/s':>9} {'% of peak':>10}")
    for batch in args.batches:
        seconds = time_batch(G, D, config, batch, args.iters)
        rate = args.iters / seconds
        flops = batch * (args.iters * per_iter + (g_flops + d_flops)) / seconds
        print(f"{batch:>6} {rate:>9.2f} {rate * batch:>11.1f} {flops / 1e9:>9.1f} "
              f"{100 * flops / peak:>9.1f}%", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

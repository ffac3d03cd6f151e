#!/usr/bin/env python3
"""Training throughput: images/s of a full training step, and the fraction of peak reached.

    python bench/bench_train.py                      # batch 64, 64x64, DCGAN loss, float32
    python bench/bench_train.py --precision mixed_bfloat16
    python bench/bench_train.py --loss wgan-gp --steps 10
    python bench/bench_train.py --augment color,translation,cutout --ema 0.999 --r1 1

A full DCGAN step is one discriminator update and two generator updates (the default);
images/s counts the real images consumed. The data are a fixed random batch, so the
figure is the training step alone (the tf.data pipeline runs beside it in real training).
FLOPs per image, counted analytically (bench/flops.py; G and D are the forward costs):
  D update: G forward + D forward and backward on real and on fake   = G + 6 D
  G update: G forward and backward + D forward and input-gradient   = 3 G + 2 D
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tensorflow as tf  # noqa: E402

from dcgan_completion.config import DTYPE_POLICIES, ModelConfig  # noqa: E402
from dcgan_completion.train import GANTrainer, TrainConfig  # noqa: E402
from flops import discriminator_flops, generator_flops, matmul_peak  # noqa: E402


def step_flops_per_image(model_cfg: ModelConfig, train_cfg: TrainConfig) -> float:
    G, D = generator_flops(model_cfg), discriminator_flops(model_cfg)
    d_update = G + 6 * D
    if train_cfg.gp_weight:
        d_update += 3 * D          # the penalty's double backward through D, roughly
    g_update = 3 * G + 2 * D
    # Per real image consumed: d_steps D updates share one step's g_steps G updates.
    return d_update + g_update * train_cfg.g_steps / train_cfg.d_steps


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--image_size", type=int, default=64)
    p.add_argument("--loss", default="dcgan", choices=("dcgan", "wgan", "wgan-gp", "hinge"))
    p.add_argument("--precision", default="float32", choices=DTYPE_POLICIES)
    p.add_argument("--steps", type=int, default=20, help="timed steps after 3 warm-up steps")
    p.add_argument("--augment", default="", help="DiffAugment policy, e.g. color,translation,cutout")
    p.add_argument("--ema", type=float, default=0.0, help="decay of G's moving average (0: none)")
    p.add_argument("--r1", type=float, default=0.0, help="R1 penalty weight gamma (0: none)")
    args = p.parse_args()

    model_cfg = ModelConfig(image_size=args.image_size, dtype_policy=args.precision)
    train_cfg = TrainConfig(loss=args.loss, batch_size=args.batch_size, augment=args.augment,
                            ema=args.ema, r1=args.r1).resolved()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = GANTrainer(model_cfg, train_cfg, tmp)
        n = train_cfg.batch_size * train_cfg.d_steps
        real = tf.random.uniform((n, args.image_size, args.image_size, 3), -1.0, 1.0)
        positions = tf.range(n, dtype=tf.int64)
        for _ in range(3):
            trainer.run.train_step(positions, real)["d_loss"].numpy()
        t = time.perf_counter()
        for _ in range(args.steps):
            metrics = trainer.run.train_step(positions, real)
        metrics["d_loss"].numpy()
        seconds = time.perf_counter() - t

    images_per_s = n * args.steps / seconds
    flops = step_flops_per_image(trainer.model_config, train_cfg)
    achieved = images_per_s * flops
    peak = matmul_peak()
    bf16_peak = matmul_peak(dtype=tf.bfloat16) if args.precision == "mixed_bfloat16" else None
    print(f"device:            {'GPU' if tf.config.list_logical_devices('GPU') else 'CPU'} "
          f"({os.cpu_count()} cores visible)")
    options = ", ".join(f"{name} {value}" for name, value in
                        (("augment", args.augment), ("ema", args.ema), ("r1", args.r1)) if value)
    print(f"setting:           {args.loss} loss, batch {args.batch_size}, "
          f"{args.image_size}x{args.image_size}, {args.precision}{', ' + options if options else ''}")
    print(f"training step:     {images_per_s:.1f} images/s "
          f"({seconds / args.steps * 1000:.0f} ms per step of {n} images)")
    print(f"FLOPs per image:   {flops / 1e9:.2f} GFLOP (G fwd {generator_flops(model_cfg) / 1e6:.0f} M, "
          f"D fwd {discriminator_flops(model_cfg) / 1e6:.0f} M)")
    print(f"achieved:          {achieved / 1e9:.1f} GFLOP/s")
    print(f"float32 matmul:    {peak / 1e9:.1f} GFLOP/s (4096x4096, the practical peak)")
    print(f"fraction of peak:  {achieved / peak:.0%} of the float32 peak")
    if bf16_peak:
        print(f"bfloat16 matmul:   {bf16_peak / 1e9:.1f} GFLOP/s; {achieved / bf16_peak:.0%} of it")


if __name__ == "__main__":
    main()

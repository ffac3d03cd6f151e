"""Analytic FLOP counts of the networks and a measured practical peak, shared by the benchmarks.

A multiply-add counts as 2 FLOPs. Only convolutions and dense layers are counted (batch
norm and activations are a few percent). A backward pass costs about twice its forward
pass (gradients with respect to the inputs and to the weights); a backward pass that
needs only the input gradients (the completion's d/dz) costs about one forward pass.
"""

from __future__ import annotations

import time

import tensorflow as tf

from dcgan_completion.config import ModelConfig
from dcgan_completion.model import BASE_SIZE, discriminator_widths, generator_widths

KERNEL = 5


def generator_flops(cfg: ModelConfig) -> int:
    """Forward FLOPs of G for one image."""
    widths = generator_widths(cfg) + [cfg.channels]
    flops = 2 * cfg.z_dim * BASE_SIZE * BASE_SIZE * widths[0]          # linear
    size = BASE_SIZE
    for c_in, c_out in zip(widths[:-1], widths[1:]):                     # transposed convs
        flops += 2 * KERNEL * KERNEL * c_in * c_out * size * size       # per input pixel
        size *= 2
    return flops


def discriminator_flops(cfg: ModelConfig) -> int:
    """Forward FLOPs of D for one image."""
    widths = [cfg.channels] + discriminator_widths(cfg)
    flops, size = 0, cfg.image_size
    for c_in, c_out in zip(widths[:-1], widths[1:]):                     # strided convs
        size //= 2
        flops += 2 * KERNEL * KERNEL * c_in * c_out * size * size       # per output pixel
    return flops + 2 * BASE_SIZE * BASE_SIZE * widths[-1]               # linear


def matmul_peak(n: int = 4096, repeats: int = 5, dtype=tf.float32) -> float:
    """Practical peak in FLOP/s: the best of ``repeats`` n x n matmuls in ``dtype``."""
    a = tf.cast(tf.random.normal((n, n)), dtype)
    mm = tf.function(lambda x: tf.reduce_sum(tf.cast(tf.linalg.matmul(x, x), tf.float32)))
    mm(a).numpy()                                                        # warm-up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        mm(a).numpy()
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best

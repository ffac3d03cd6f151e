#!/usr/bin/env python3
"""Completion throughput in images/s: the completion network (one forward pass) beside
OpenCV's Telea / Navier-Stokes inpainting and the DCGAN projection (completion.complete).

    python bench/bench_completion_net.py [--batches 1 64] [--iters 20] [--width 32] [--no-skips]
        [--precisions float32 mixed_bfloat16] [--no-dcgan] [--image_size 64] [--detail]
        [--masks patch center left strokes]

SxSx3 images (``--image_size``, default 64) with block-patch holes (28x28 at 64x64, what
the network is trained for, and the same share of the face at other sizes; ``--masks``
times other mask kinds, each image its own mask where the kind draws them); random
weights (speed does not depend on them). For each batch size B and mask kind:

  network      NetworkCompleter.complete on B images, after one warm-up call (tracing);
               the best of ``--repeats`` timed calls, once per compute precision (the
               network as load_completion_net builds it for ``--precision``). Includes
               the uint8 conversions and the composite.
  net+detail   with ``--detail``: the same with the fine detail of a DCGAN of the same
               side in the same precision, from an encoder's z (inference.DetailedCompleter,
               the library's settings: G's image on the prior's sphere, the two-scale
               merge and the Poisson blend, whose factorisation images that share a mask
               share).
  telea / ns   evaluate.BASELINES on the same B images (one cv2.inpaint per image).
  dcgan        completion.complete with the default model (gf_dim = df_dim = 64; at 128
               px a model of the shape the grown one has) and
               settings, run for 2 * iters iterations logged every ``iters``: the second
               chunk of ``iters`` is timed (as bench_completion.py does) and the time per
               image is **extrapolated** to the default n_iter (1000) iterations, plus no
               blending (Poisson blending adds a few ms per image).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from dcgan_completion import completion, evaluate  # noqa: E402
from dcgan_completion import masks as mask_lib  # noqa: E402
from dcgan_completion.completion_net.inference import DetailedCompleter, NetworkCompleter  # noqa: E402
from dcgan_completion.completion_net.networks import CompletionConfig, build_completion_net  # noqa: E402
from dcgan_completion.config import DTYPE_POLICIES, ModelConfig  # noqa: E402
from dcgan_completion.encoder import EncoderConfig, build_encoder  # noqa: E402
from dcgan_completion.model import build_discriminator, build_generator  # noqa: E402


PRECISION_NAMES = {"float32": "float32", "mixed_bfloat16": "bf16", "mixed_float16": "fp16"}


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def dcgan_seconds_per_image(G, D, x, masks, iters: int, n_iter: int) -> float:
    stamps = {}
    completion.complete(x, masks, G, D, n_iter=2 * iters, out_interval=iters, blend="none",
                        progress=lambda it: stamps.__setitem__(it, time.perf_counter()))
    per_iteration = (stamps[2 * iters] - stamps[iters]) / iters
    return per_iteration * n_iter / len(x)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", type=int, nargs="+", default=[1, 64])
    p.add_argument("--iters", type=int, default=20, help="timed DCGAN iterations (default: 20)")
    p.add_argument("--repeats", type=int, default=3, help="timed calls, best kept (default: 3)")
    p.add_argument("--image_size", type=int, default=CompletionConfig.image_size,
                   help="image side (default: %(default)s)")
    p.add_argument("--width", type=int, default=CompletionConfig.width)
    p.add_argument("--skips", action=argparse.BooleanOptionalAction, default=CompletionConfig.skips,
                   help="the network's U-Net concatenations (default: the config's default)")
    p.add_argument("--precisions", nargs="+", choices=DTYPE_POLICIES,
                   default=["float32", "mixed_bfloat16"], help="the network's compute precisions")
    p.add_argument("--dcgan", action=argparse.BooleanOptionalAction, default=True,
                   help="time the DCGAN projection too (default: yes)")
    p.add_argument("--detail", action="store_true",
                   help="time the network with the DCGAN's detail too (--detail)")
    p.add_argument("--masks", nargs="+", default=["patch"], choices=mask_lib.MASK_TYPES,
                   help="mask kinds to time (default: patch)")
    args = p.parse_args(argv)

    tf.keras.utils.set_random_seed(0)
    size = args.image_size
    config = CompletionConfig(image_size=size, width=args.width, skips=args.skips)
    completers = {precision: NetworkCompleter(build_completion_net(config, dtype_policy=precision))
                  for precision in args.precisions}
    net = completers[args.precisions[0]].net
    dcgan = ModelConfig(image_size=size)
    G, D = build_generator(dcgan), build_discriminator(dcgan)
    detailed = {}
    if args.detail:
        # The bundled encoders read the image averaged down to 64 px (pooling).
        E = build_encoder(EncoderConfig(image_size=size, pooling=max(1, size // 64)))
        settings = completion.default_settings("encoder")
        for precision, completer in completers.items():
            policy = ModelConfig(image_size=size, dtype_policy=precision)
            detailed[precision] = DetailedCompleter(
                completer, build_generator(policy), build_discriminator(policy), E, settings)
    n_iter = completion.default_settings("random")["n_iter"]     # the recipe, from random z
    patch = mask_lib.MaskSpec("patch", size).k
    print(f"{size}x{size}x3, masks: {', '.join(args.masks)} (block patches {patch}x{patch}); "
          f"network width {config.width}, skips "
          f"{'on' if config.skips else 'off'} "
          f"({net.count_params() / 1e6:.2f} M parameters); DCGAN projection at {n_iter} "
          f"iterations extrapolated from {args.iters} timed ones")
    print(f"{'batch':>5} {'mask':<8} {'method':<18} {'images/s':>10} {'ms/image':>10}")
    for batch, kind in ((b, k) for b in args.batches for k in args.masks):
        rng = np.random.default_rng(batch)
        x = rng.integers(0, 256, (batch, size, size, 3), dtype=np.uint8)
        masks = mask_lib.MaskSpec(kind, size, seed=batch).masks(batch).values
        rows = {}
        for name, timed in ([(f"net {PRECISION_NAMES[p]}", c) for p, c in completers.items()] +
                            [(f"net+detail {PRECISION_NAMES[p]}", c) for p, c in detailed.items()]):
            timed.complete(x, masks, batch_size=batch)                      # warm-up / trace
            rows[name] = best_time(lambda: timed.complete(x, masks, batch_size=batch),
                                   args.repeats) / batch
        for name, method in evaluate.BASELINES.items():
            rows[name] = best_time(lambda: method(x, masks), args.repeats) / batch
        if args.dcgan:
            rows[f"dcgan ({n_iter} it)"] = dcgan_seconds_per_image(G, D, x, masks, args.iters,
                                                                   n_iter)
        for name, seconds in rows.items():
            print(f"{batch:>5} {kind:<8} {name:<18} {1.0 / seconds:>10.2f} {1000.0 * seconds:>10.2f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

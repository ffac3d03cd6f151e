#!/usr/bin/env python3
"""Time to quality of the projection: hole PSNR against seconds per face, all faces in one batch.

    python bench/bench_time_to_quality.py [--split report|select] [--per_source 13]
        [--masks center left random] [--checkpointDir PATH] [--precision mixed_bfloat16]
        [--setting recipe n_iter=1000] [--setting fast init=encoder n_iter=100 tol=0.001]

On validation faces of ../shared/data (bench/validation.py: 13 of each of the five
sources = 65 faces; skipped with a message when the data is absent), with the bundled
model unless --checkpointDir. Each --setting NAME k=v ... is a set of complete() settings
over its defaults, plus init=random|encoder (the start point: random z, or the model's
encoder, --encoder to name another); "recipe" is the original one (Adam, 1000
iterations, random start). For each mask and setting it prints the hole PSNR (dB, mean
over the faces) at every logged iteration against the seconds per face spent to get
there, then the final line, and OpenCV Navier-Stokes on the same holes.

Seconds per face = (encoding + the optimisation, run unblended + one blend of the final
frame with the setting's blend) / faces, measured; the time of a logged iteration i of n
is the encoding + i / n of the optimisation + the blend (with tol, images that stop leave
the batch, so the late iterations cost less than this straight line says; the final line
is measured). The PSNR of every logged iteration is that of G's frame blended as the
final one is (untimed). Run it alone: other work on the cores halves every figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from dcgan_completion.runtime import start_tensorflow  # noqa: E402

start_tensorflow()          # without TensorFlow's start-up lines

from dcgan_completion import completion, encoder, evaluate, images, masks  # noqa: E402
from dcgan_completion.blend import blend_frames  # noqa: E402
from dcgan_completion.checkpoints import CheckpointError, load_model, start_encoder  # noqa: E402
from dcgan_completion.config import DTYPE_POLICIES  # noqa: E402
from validation import add_split_arguments, faces_or_skip  # noqa: E402


def hole_psnr(original, completed, mask) -> float:
    return float(np.mean([evaluate.image_metrics(o, c, m)["hole_psnr"]
                          for o, c, m in zip(original, completed, mask)]))


INITS = ("random", "encoder")


def parse_setting(words: list[str]) -> tuple[str, dict]:
    """("name", {setting: value}) of NAME k=v ...; init=random|encoder besides complete()'s
    (whose n_iter and refine, unless given, are the budget of the start point)."""
    name, settings = words[0], {"init": "random"}
    defaults = completion.default_settings()
    for word in words[1:]:
        key, _, value = word.partition("=")
        if key == "init" and value in INITS:
            settings[key] = value
        elif key in defaults:
            # n_iter and refine default to None (the start point's budget): integers.
            settings[key] = (int if defaults[key] is None else type(defaults[key]))(value)
        else:
            raise SystemExit(f"--setting {name}: unknown {word!r} (init={'|'.join(INITS)} or one "
                             f"of {', '.join(sorted(defaults))})")
    return name, settings


def run_setting(faces, m, G, D, E, settings: dict):
    """(logged iterations, seconds per face at each, hole PSNR at each, final seconds per face,
    final hole PSNR)."""
    chosen = {**completion.default_settings(), **settings}
    init, blend = chosen.pop("init"), chosen["blend"]
    start = time.perf_counter()
    z_init = encoder.encode(E if init == "encoder" else None, faces, m)
    encoded = time.perf_counter()
    result = completion.complete(faces, m, G, D, **{**chosen, "blend": "none"}, z_init=z_init)
    optimised = time.perf_counter()
    final = blend_frames(faces, m, result.generated[None], blend)[0]
    end = time.perf_counter()
    n, B = max(1, int(result.iterations[-1])), len(faces)
    blend_time, optimise_time = end - optimised, optimised - encoded
    seconds = [(encoded - start + optimise_time * it / n + blend_time) / B
               for it in result.iterations]
    curve = [hole_psnr(faces, frame, m)
             for frame in blend_frames(faces, m, result.generated_trajectory, blend)]
    return result.iterations, seconds, curve, (end - start) / B, hole_psnr(faces, final, m)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_split_arguments(p, per_source=13)
    p.add_argument("--masks", nargs="+", default=["center", "left", "random"])
    p.add_argument("--checkpointDir", default=None, help="model (default: the bundled one)")
    p.add_argument("--precision", choices=DTYPE_POLICIES, default="float32",
                   help="compute precision of the projection (default: float32)")
    p.add_argument("--encoder", default=None,
                   help="encoder of the settings with init=encoder (default: the model's own)")
    p.add_argument("--setting", nargs="+", action="append", metavar="NAME K=V",
                   help="a named set of complete() settings and init=random|encoder "
                   "(default: recipe n_iter=1000)")
    args = p.parse_args(argv)
    settings = [parse_setting(s) for s in (args.setting or [["recipe", "n_iter=1000"]])]
    paths = faces_or_skip(args.data, args.per_source, args.split)
    if paths is None:
        return 0
    config, G, D = load_model(args.checkpointDir, args.precision)
    E = None
    if any(chosen["init"] == "encoder" for _, chosen in settings):
        try:
            E, where = start_encoder(args.checkpointDir, config, "encoder", args.encoder)
        except CheckpointError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"encoder: {where}")
    faces = np.stack([images.load_image(p, config.image_size, config.channels) for p in paths])
    print(f"{len(faces)} validation faces ({args.split} split), model "
          f"{args.checkpointDir or 'bundled'}, {args.precision}")
    summary = []
    for kind in args.masks:
        m = masks.MaskSpec(kind, config.image_size).masks(len(faces)).values
        ns = hole_psnr(faces, evaluate.BASELINES["navier-stokes"](faces, m), m)
        print(f"\n{kind}: navier-stokes {ns:.2f} dB")
        summary.append((kind, "navier-stokes", float("nan"), ns))
        for name, chosen in settings:
            logged, seconds, curve, total, final = run_setting(faces, m, G, D, E, chosen)
            for it, sec, db in zip(logged, seconds, curve):
                print(f"  {name:<10} it {int(it):>5}  {sec:7.3f} s/face  {db:6.2f} dB")
            print(f"  {name:<10} final {total:7.3f} s/face  {final:6.2f} dB")
            summary.append((kind, name, total, final))
    print("\n| mask | setting | s/face | hole PSNR dB |\n|---|---|---|---|")
    for kind, name, total, final in summary:
        print(f"| {kind} | {name} | {'-' if np.isnan(total) else f'{total:.3f}'} | {final:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

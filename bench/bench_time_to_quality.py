#!/usr/bin/env python3
"""Time to quality of the projection: hole PSNR against seconds per face, all faces in one batch.

    python bench/bench_time_to_quality.py [--per_source 13] [--masks center left random]
        [--checkpointDir PATH] [--setting recipe n_iter=1000] [--setting tol tol=0.001]

On validation faces of ../shared/data (bench/validation.py: the first 13 of each of the
five sources = 65 faces; skipped with a message when the data is absent), with the
bundled model unless --checkpointDir. Each --setting NAME k=v ... is a set of complete()
settings over its defaults; "recipe" is the original one (Adam, 1000 iterations, random
start). For each mask and setting it prints the hole PSNR (dB, mean over the faces) at
every logged iteration against the seconds per face spent to get there (wall time of
the batch / faces; the logged iterations are spaced evenly in time, so the time of
iteration i is i / n_iter of the whole), and OpenCV Navier-Stokes on the same holes.
Run it alone: other work on the cores halves every figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from dcgan_completion.runtime import start_tensorflow  # noqa: E402

start_tensorflow()          # without TensorFlow's start-up lines

from dcgan_completion import completion, evaluate, images, masks  # noqa: E402
from dcgan_completion.checkpoints import load_model  # noqa: E402
from validation import DEFAULT_DATA, SPLITS, validation_faces  # noqa: E402


def hole_psnr(original, completed, mask) -> float:
    return float(np.mean([evaluate.image_metrics(o, c, m)["hole_psnr"]
                          for o, c, m in zip(original, completed, mask)]))


def parse_setting(words: list[str]) -> tuple[str, dict]:
    name, settings = words[0], {}
    for word in words[1:]:
        key, value = word.split("=")
        settings[key] = type(completion.default_settings()[key])(value)
    return name, settings


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=DEFAULT_DATA, help="folder of faces-64.tar.gz and its list")
    p.add_argument("--split", choices=SPLITS, default="report",
                   help="report: the first faces of each source (figures to quote); select: the "
                   "last ones (for choosing settings and checkpoints)")
    p.add_argument("--per_source", type=int, default=13, help="faces of each source (default: 13)")
    p.add_argument("--masks", nargs="+", default=["center", "left", "random"])
    p.add_argument("--checkpointDir", default=None, help="model (default: the bundled one)")
    p.add_argument("--setting", nargs="+", action="append", metavar="NAME K=V",
                   help="a named set of complete() settings (default: recipe n_iter=1000)")
    args = p.parse_args(argv)
    settings = [parse_setting(s) for s in (args.setting or [["recipe", "n_iter=1000"]])]
    try:
        paths = validation_faces(args.data, args.per_source, os.path.join(tempfile.gettempdir(),
                                                                           "dcgan-validation"),
                                 args.split)
    except FileNotFoundError as e:
        print(f"skipped: {e}")
        return 0
    config, G, D = load_model(args.checkpointDir)
    faces = np.stack([images.load_image(p, config.image_size, config.channels) for p in paths])
    print(f"{len(faces)} validation faces, model {args.checkpointDir or 'bundled'}")
    for kind in args.masks:
        m = masks.MaskSpec(kind, config.image_size).masks(len(faces)).values
        ns = evaluate.BASELINES["navier-stokes"](faces, m)
        print(f"\n{kind}: navier-stokes {hole_psnr(faces, ns, m):.2f} dB")
        for name, changes in settings:
            chosen = {**completion.default_settings(), "blend": "none", **changes}
            start = time.perf_counter()
            result = completion.complete(faces, m, G, D, **chosen)
            seconds = (time.perf_counter() - start) / len(faces)
            n = max(1, chosen["n_iter"])
            for it, frame in zip(result.iterations, result.trajectory):
                print(f"  {name:<10} it {int(it):>5}  {seconds * it / n:7.3f} s/face  "
                      f"{hole_psnr(faces, frame, m):6.2f} dB")
            print(f"  {name:<10} final {seconds:7.3f} s/face  "
                  f"{hole_psnr(faces, result.completed, m):6.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""How good a face prior is, on the fixed validation faces (issue 12's yardstick).

    python bench/bench_prior.py [--checkpointDir PATH] [--per_source 13] [--out prior-report]
        [--split report|select] [--nIter N] [--precision mixed_bfloat16]

For a DCGAN (the bundled one unless --checkpointDir: a checkpoint folder, which uses its
moving average of G where it has one, or a weights file), on the first ``per_source``
validation faces of each of the five sources (bench/validation.py; skipped with a
message when ../shared/data is absent):
  (a) the projection's hole PSNR with the default completion settings on the centre,
      left-half and random-80 % masks, beside OpenCV Navier-Stokes and Telea on the same
      holes, with the sharpness ratio in the hole, dlib's identity distance and the
      Frechet distance on dlib descriptors (dcgan_completion/metrics.py);
  (b) the pure projection's reconstruction PSNR of the unseen faces (mask "full": how
      much of the face space G reaches), and whether the reconstruction is the same person;
  (c) a grid of 64 samples of G (fixed z) and, per mask, original | masked | completions.
Writes ``out/report.md`` (the table), ``out/results.json`` (every figure, settings and
faces) and the pictures. The projection starts where dcgan-complete's does (the model's
encoder when it has one, --init to choose) with that start's iteration budget: slow from
random z (1000 iterations); ``--nIter`` shortens it for a quick look (then say so beside
any figure quoted).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from dcgan_completion.runtime import start_tensorflow  # noqa: E402

start_tensorflow()          # without TensorFlow's start-up lines

from dcgan_completion import completion, evaluate, faceid, images, masks, metrics  # noqa: E402
from dcgan_completion.blend import visible_input  # noqa: E402
from dcgan_completion.checkpoints import load_model, start_encoder  # noqa: E402
from dcgan_completion.config import DTYPE_POLICIES  # noqa: E402
from dcgan_completion.encoder import encode  # noqa: E402
from dcgan_completion.model import sample_z  # noqa: E402
from validation import add_split_arguments, faces_or_skip  # noqa: E402

MASKS = ("center", "left", "random", "full")
BASELINES = ("navier-stokes", "telea")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_split_arguments(p, per_source=13)
    p.add_argument("--checkpointDir", default=None, help="model (default: the bundled one)")
    p.add_argument("--nIter", type=int, default=None, help="projection iterations (default: complete's)")
    p.add_argument("--precision", choices=DTYPE_POLICIES, default="float32",
                   help="compute precision of the projection (default: float32)")
    p.add_argument("--init", choices=completion.STARTS, default=None,
                   help="start of the projection (default: the model's encoder when it has one)")
    p.add_argument("--out", default="prior-report", help="output folder (default: prior-report)")
    args = p.parse_args(argv)
    paths = faces_or_skip(args.data, args.per_source, args.split)
    if paths is None:
        return 0
    config, G, D = load_model(args.checkpointDir, args.precision)
    E, where = start_encoder(args.checkpointDir, config, args.init)
    faces = np.stack([images.load_image(p, config.image_size, config.channels) for p in paths])
    settings = completion.default_settings(completion.start_of(E))
    if args.nIter:
        settings["n_iter"] = args.nIter
    os.makedirs(args.out, exist_ok=True)
    reference = faceid.FaceReference.of(faceid.FaceDescriber(), faces)
    samples = images.to_uint8(G(sample_z(64, config.z_dim, (2016, 7)), training=False))
    images.save_image(os.path.join(args.out, "samples.png"), images.make_grid(samples))

    results = {}
    for kind in MASKS:
        m = masks.MaskSpec(kind, config.image_size).masks(len(faces)).values
        # With nothing missing the completion is the input itself: judge G(z) instead.
        picture = "generated" if kind == "full" else "completed"
        methods = {"dcgan": lambda x, mm, picture=picture: getattr(completion.complete(
            x, mm, G, D, z_init=encode(E, x, mm), **settings), picture)}
        if kind != "full":
            methods.update({name: evaluate.BASELINES[name] for name in BASELINES})
        results[kind], shown = {}, {}
        for name, method in methods.items():
            run = evaluate.run_method(method, faces, m, faces=reference)
            results[kind][name] = run.summary(reference.descriptors)
            shown[name] = run.completed[:8]
            print(f"{kind:<7} {name:<14} hole PSNR {results[kind][name]['hole_psnr']:6.2f}  "
                  f"PSNR {results[kind][name]['psnr']:6.2f}", flush=True)
        columns = [faces[:8], visible_input(faces[:8], m[:8])] + list(shown.values())
        tiles = np.stack(columns, axis=1).reshape((-1,) + faces.shape[1:])
        images.save_image(os.path.join(args.out, f"grid_{kind}.png"),
                          images.make_grid(tiles, columns=len(columns)))

    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"model": args.checkpointDir or "bundled", "settings": settings, "start": where,
                   "split": args.split, "precision": args.precision,
                   "faces": [os.path.relpath(p, os.path.dirname(os.path.dirname(p))) for p in paths],
                   "unreadable_faces": [paths[i] for i in reference.unreadable],
                   "results": results}, f, indent=1)
    lines = ["| mask | " + " | ".join(("dcgan",) + BASELINES) + " |", "|---|---|---|---|"]
    for kind in MASKS:
        key = "psnr" if kind == "full" else "hole_psnr"
        row = [f"{results[kind][n][key]:.2f}" if n in results[kind] else "-" for n in ("dcgan",) + BASELINES]
        lines.append(f"| {kind}{' (whole-image PSNR)' if kind == 'full' else ''} | " + " | ".join(row) + " |")
    lines += ["", "sharpness in the hole at half resolution / identity distance / share of the "
              "same person (below 0.6) / Frechet distance " + metrics.FRECHET_LABEL, "",
              "| mask | " + " | ".join(("dcgan",) + BASELINES) + " |", "|---|---|---|---|"]
    for kind in MASKS:
        row = []
        for n in ("dcgan",) + BASELINES:
            r = results[kind].get(n)
            row.append("-" if r is None else " / ".join(
                "-" if v is None else f"{v:{spec}}" for v, spec in (
                    (r["sharpness_1"], ".2f"), (r["identity"], ".3f"),
                    (r["identity_same"], ".0%"), (r["frechet"], ".3f"))))
        lines.append(f"| {kind} | " + " | ".join(row) + " |")
    report = "\n".join(lines)
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(f"{len(faces)} validation faces ({args.split} split), model "
                f"{args.checkpointDir or 'bundled'}, from {where or 'random z'}, "
                f"{settings['n_iter']} iterations + {settings['refine']} refining, "
                f"{args.precision}; hole PSNR in dB\n\n{report}\n")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

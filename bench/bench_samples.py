#!/usr/bin/env python3
"""Several fills per hole (issue 26): how good and how different the K fills are.

    python bench/bench_samples.py [--per_source 20] [--samples 4] [--mask center]
        [--checkpointDir PATH] [--split report|select] [--precision float32] [--out samples-report]

On the first ``per_source`` validation faces of each of the five sources
(bench/validation.py; skipped with a message when ../shared/data is absent), the
projection of dcgan-complete's defaults (the model's encoder as start, its budget)
completes each face once (today's completion, K = 1) and with ``--samples K``, and the
script reports:
  - hole PSNR of today's completion, of rank 1 (the lowest loss, the result), and
    best-of-K (the fill closest to the original, among the distinct fills: what a person
    choosing among them could reach at best);
  - how many distinct fills the diversity rule kept per face;
  - the mean pairwise distance between the distinct fills in the hole (mean absolute
    difference, pixel values in [0, 1]: completion.hole_distance);
  - their identity spread: the mean pairwise distance between dlib's face descriptors of
    the fills (dcgan_completion/faceid.py, metrics.identity_distance; the landmarks are
    the original's, as dcgan-evaluate does), beside rank 1's identity distance to the
    original (dlib's same-person threshold is 0.6).
Writes ``out/report.md``, ``out/results.json`` and ``out/grid.png`` (original, masked,
then the fills by rank, for the first 10 faces).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time

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
from validation import add_split_arguments, faces_or_skip  # noqa: E402


def hole_psnr(original, completed, mask) -> float:
    return evaluate.image_metrics(original, completed, mask)["hole_psnr"]


def mean_pairwise(values: list, distance) -> float | None:
    """The mean of ``distance`` over all pairs of ``values`` (None: fewer than two, or a
    pair whose distance is None)."""
    pairs = [distance(a, b) for a, b in itertools.combinations(values, 2)]
    pairs = [d for d in pairs if d is not None]
    return float(np.mean(pairs)) if pairs else None


def mean_of(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_split_arguments(p, per_source=20)
    p.add_argument("--samples", type=int, default=4, help="fills per face (default: 4)")
    p.add_argument("--mask", choices=masks.MASK_TYPES, default="center")
    p.add_argument("--sampleSpread", type=float, default=None, help="(default: complete's)")
    p.add_argument("--sampleDistance", type=float, default=None, help="(default: complete's)")
    p.add_argument("--checkpointDir", default=None, help="model (default: the bundled one)")
    p.add_argument("--precision", choices=DTYPE_POLICIES, default="float32")
    p.add_argument("--out", default="samples-report", help="output folder (default: samples-report)")
    args = p.parse_args(argv)
    paths = faces_or_skip(args.data, args.per_source, args.split)
    if paths is None:
        return 0
    config, G, D = load_model(args.checkpointDir, args.precision)
    E, where = start_encoder(args.checkpointDir, config, None)
    faces = np.stack([images.load_image(p, config.image_size, config.channels) for p in paths])
    spec = masks.MaskSpec(args.mask, config.image_size)
    m = spec.masks(len(faces)).values
    settings = completion.default_settings(completion.start_of(E))
    for key, value in (("sample_spread", args.sampleSpread), ("sample_distance", args.sampleDistance)):
        if value is not None:
            settings[key] = value
    z_init = encode(E, faces, m, spec.lowres_factor)
    os.makedirs(args.out, exist_ok=True)

    start = time.perf_counter()
    today = completion.complete(faces, m, G, D, z_init=z_init, **settings)
    seconds_one = (time.perf_counter() - start) / len(faces)
    start = time.perf_counter()
    result = completion.complete(faces, m, G, D, z_init=z_init, **{**settings, "samples": args.samples})
    seconds_k = (time.perf_counter() - start) / len(faces)
    s = result.samples
    count = s.count()

    reference = faceid.FaceReference.of(faceid.FaceDescriber(), faces)
    described = np.stack([reference.describe(s.completed[:, r]) for r in range(args.samples)], 1)

    def identity(a, b):                       # descriptors (128,), NaN where unreadable
        return None if np.isnan(a).any() or np.isnan(b).any() else metrics.identity_distance(a, b)

    per_face = []
    for i in range(len(faces)):
        hole = m[i, ..., 0] == 0
        fills = s.completed[i, :count[i]]
        psnrs = [hole_psnr(faces[i], f, m[i]) for f in fills]
        per_face.append({
            "face": os.path.relpath(paths[i], os.path.dirname(os.path.dirname(paths[i]))),
            "today": hole_psnr(faces[i], today.completed[i], m[i]), "rank1": psnrs[0],
            "best": max(psnrs), "fills": int(count[i]),
            "hole_distance": mean_pairwise(list(fills), lambda a, b: completion.hole_distance(a, b, hole)),
            "identity_spread": mean_pairwise(list(described[i, :count[i]]), identity),
            "rank1_identity": identity(reference.descriptors[i], described[i, 0]),
            "losses": [float(v) for v in s.losses[i, :count[i], 2]]})
    summary = {
        "faces": len(faces), "samples": args.samples, "mask": args.mask,
        "today_hole_psnr": mean_of(f["today"] for f in per_face),
        "rank1_hole_psnr": mean_of(f["rank1"] for f in per_face),
        "best_of_k_hole_psnr": mean_of(f["best"] for f in per_face),
        "mean_distinct_fills": float(np.mean(count)),
        "faces_with_one_fill": int(np.sum(count == 1)),
        "mean_pairwise_hole_distance": mean_of(f["hole_distance"] for f in per_face),
        "identity_spread": mean_of(f["identity_spread"] for f in per_face),
        "rank1_identity_distance": mean_of(f["rank1_identity"] for f in per_face),
        "unreadable_faces": len(reference.unreadable),
        "seconds_per_face_one": seconds_one, "seconds_per_face_k": seconds_k}

    rows = 10
    tiles = []
    for i in range(min(rows, len(faces))):
        shown = list(s.completed[i, :count[i]]) + [np.full_like(faces[i], 255)] * (args.samples - count[i])
        tiles += [faces[i], visible_input(faces[i:i + 1], m[i:i + 1])[0]] + shown
    images.save_image(os.path.join(args.out, "grid.png"),
                      images.make_grid(np.stack(tiles), columns=2 + args.samples))
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"model": args.checkpointDir or "bundled", "start": where, "split": args.split,
                   "precision": args.precision, "settings": settings, "summary": summary,
                   "per_face": per_face}, f, indent=1)
    S = summary
    report = "\n".join([
        f"{S['faces']} validation faces ({args.split} split), {args.mask} mask, K = {args.samples}, "
        f"model {args.checkpointDir or 'bundled'} from {where or 'random z'}, "
        f"{settings['n_iter']} + {settings['refine']} refining, sample_spread "
        f"{settings['sample_spread']}, sample_distance {settings['sample_distance']}, {args.precision}",
        "",
        "| measure | value |", "|---|---|",
        f"| hole PSNR, today (K = 1) | {S['today_hole_psnr']:.2f} dB |",
        f"| hole PSNR, rank 1 | {S['rank1_hole_psnr']:.2f} dB |",
        f"| hole PSNR, best of the K | {S['best_of_k_hole_psnr']:.2f} dB |",
        f"| distinct fills per face | {S['mean_distinct_fills']:.2f} of {args.samples} "
        f"(faces with one only: {S['faces_with_one_fill']}) |",
        f"| mean pairwise distance in the hole | {S['mean_pairwise_hole_distance']:.4f} "
        f"({255 * S['mean_pairwise_hole_distance']:.1f} grey levels) |",
        f"| identity spread (mean pairwise dlib distance) | {S['identity_spread']:.3f} |",
        f"| rank 1's identity distance to the original | {S['rank1_identity_distance']:.3f} |",
        f"| seconds per face, K = 1 / K = {args.samples} | {seconds_one:.2f} / {seconds_k:.2f} |"])
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(report + "\n")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

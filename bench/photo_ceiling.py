#!/usr/bin/env python3
"""What a perfect fill at each model side could reach in a photo (issue 24).

    python bench/photo_ceiling.py [PHOTO ...] [--sizes 64 128 256] [--masks center left strokes]

For the main face of each photo (default: the demo's two, scikit-image's astronaut and
matplotlib's Grace Hopper), the face is aligned at each model side S exactly as
dcgan-complete --photo aligns it, and that aligned original itself is pasted back over
the hole as if it were the completion (the Poisson blend included): the best any model of
side S can do. The table gives the sharpness ratio in the photo's hole at 1:1, 1:2 and
1:4, as dcgan-evaluate --photo measures it, so a measured fill can be read against the
ceiling of its model's side: a fill far below it lacks what the model could have drawn,
not resolution.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from dcgan_completion import align, images, masks, metrics, photos  # noqa: E402


def ceiling(photo: np.ndarray, landmarks: np.ndarray, size: int, kind: str) -> list:
    """[sharpness ratio at each of metrics.SHARPNESS_LEVELS] of the photo's own face,
    aligned at ``size`` from ``landmarks`` (68, 2) and pasted back over the hole of mask
    ``kind``."""
    affine = align.landmark_affine(landmarks, size)
    inverse = cv2.invertAffineTransform(affine)
    shrink = align.affine_scale(affine) < 1          # an area average when shrinking, as
    flags = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR   # a photo is made smaller
    face = cv2.warpAffine(photo, affine, (size, size), flags=flags)              # (S, S, 3)
    mask = masks.MaskSpec(kind, size).masks(1).values[0]                         # (S, S, 1)
    restored = align.paste_face(photo, face, inverse, mask)
    known = (~align.paste_region(photo.shape, inverse, mask))[..., None].astype(np.float32)
    return [metrics.sharpness_ratio(photo, restored, known, level=level)
            for level in metrics.SHARPNESS_LEVELS]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos", nargs="*", help="photographs (default: the demo's two)")
    p.add_argument("--sizes", nargs="+", type=int, default=[64, 128, 256])
    p.add_argument("--masks", nargs="+", choices=masks.MASK_TYPES,
                   default=["center", "left", "strokes"])
    args = p.parse_args(argv)
    paths = args.photos
    if not paths:
        from dcgan_completion.cli.demo import demo_photos
        paths = demo_photos(tempfile.mkdtemp(prefix="photo-ceiling-"))
    aligner = align.FaceAligner()
    print("| photo | face side (px) | mask | model side | sharpness 1:1 | 1:2 | 1:4 |")
    print("|---|---|---|---|---|---|---|")
    for path in paths:
        try:
            photo = images.load_image(path, channels=3)
        except images.ImageReadError as e:
            print(f"skipped: {e}", file=sys.stderr)
            continue
        face = aligner.align(photo, max(args.sizes))
        if face is None:
            print(f"skipped: {path}: no face found", file=sys.stderr)
            continue
        side = photos.face_side(face)
        for kind in args.masks:
            for size in args.sizes:
                ratios = ceiling(photo, face.landmarks, size, kind)
                cells = " | ".join("-" if r is None else f"{r:.2f}" for r in ratios)
                print(f"| {os.path.basename(path)} | {side:.0f} | {kind} | {size} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

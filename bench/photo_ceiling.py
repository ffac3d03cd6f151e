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

import numpy as np  # noqa: E402

from dcgan_completion import align, images, masks, metrics, photos  # noqa: E402


def ceiling(face: photos.PhotoFace, size: int, kind: str) -> list:
    """[sharpness ratio at each of metrics.SHARPNESS_LEVELS] of the photo's own face,
    aligned at ``size`` as photo mode aligns it (photos.at_size) and pasted back over the
    hole of mask ``kind`` as photo mode pastes a completion (photos.restore)."""
    spec = masks.MaskSpec(kind, size)
    sized = photos.at_size(face, spec, spec.reader(), 0)
    restored, _ = photos.restore(sized, sized.face.image, texture=False)   # the fill alone
    region = align.paste_region(sized.photo.shape, sized.face.inverse, sized.mask)
    known = (~region)[..., None].astype(np.float32)
    return [metrics.sharpness_ratio(sized.photo, restored, known, level=level)
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
        try:
            face = photos.photo_face(path, photo, masks.MaskSpec("center", max(args.sizes)),
                                     aligner)
        except images.ImageReadError as e:                               # no face found
            print(f"skipped: {e}", file=sys.stderr)
            continue
        side = photos.face_side(face.face)
        for kind in args.masks:
            for size in args.sizes:
                ratios = ceiling(face, size, kind)
                cells = " | ".join("-" if r is None else f"{r:.2f}" for r in ratios)
                print(f"| {os.path.basename(path)} | {side:.0f} | {kind} | {size} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

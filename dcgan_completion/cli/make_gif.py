"""scripts/make-gif.py / dcgan-make-gif: turn a folder of frames into an animated GIF.

    scripts/make-gif.py outputImages/batch000 completion.gif --delay 10 --loop 0

The replacement for ImageMagick's `convert -delay 10 -loop 0 completed/*.png out.gif`:
frames are the folder's images in natural order (frame2 before frame10), --delay is in
hundredths of a second as in ImageMagick, --loop 0 repeats forever. Frames of another
size than the first are resized to it.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys

import numpy as np
from PIL import Image

from .common import HelpFormatter, add_verbose_flag, setup_logging

log = logging.getLogger("make-gif")


def natural_key(name: str):
    """'frame10.png' sorts after 'frame2.png'."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="make-gif", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("frames", metavar="DIR_OF_FRAMES", help="folder of png/jpg/... frames")
    p.add_argument("out", metavar="OUT.gif", help="the GIF to write (an existing file is refused)")
    p.add_argument("--delay", type=float, default=10, help="hundredths of a second per frame (default: 10)")
    p.add_argument("--loop", type=int, default=0, help="times to play, 0 = forever (default: 0)")
    add_verbose_flag(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    from ..images import IMAGE_EXTENSIONS, ImageReadError, load_image, save_gif
    if not os.path.isdir(args.frames):
        log.error("%s is not a folder", args.frames)
        return 2
    if os.path.exists(args.out):
        log.error("%s exists; choose another name (nothing is overwritten)", args.out)
        return 2
    names = sorted((n for n in os.listdir(args.frames) if n.lower().endswith(IMAGE_EXTENSIONS)),
                   key=natural_key)
    frames, size = [], None
    for name in names:
        path = os.path.join(args.frames, name)
        try:
            frame = load_image(path, channels=3)
            if size is not None and frame.shape[:2] != size:
                frame = np.asarray(Image.fromarray(frame).resize(size[::-1], Image.Resampling.LANCZOS))
            frames.append(frame)
            size = frame.shape[:2]
        except ImageReadError as e:
            log.warning("skipping %s", e)
    if not frames:
        log.error("no readable frames in %s", args.frames)
        return 2
    save_gif(args.out, frames, duration_s=args.delay / 100.0, loop=args.loop)
    log.info("wrote %s: %d frames, %.2f s each", args.out, len(frames), args.delay / 100.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

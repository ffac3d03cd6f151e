"""The server behind dcgan-web: a local page where a person paints over what is missing
in a photo and gets the face completed (the page itself is page.html, beside this file).

    app = create_app()                    # Flask app; models load on first use
    app.run("127.0.0.1", 7860)

Endpoints (JSON answers; every error is {"error": message} with a 4xx / 5xx status, and
the server keeps serving):
  GET  /                 the page (one HTML file, nothing loaded from elsewhere)
  GET  /api/info         mask types, defaults, the upload limit, whether a job is running
  POST /api/faces        photo -> its size, the detected faces' boxes (main face first),
                         and the photo as the server reads it (upright), as PNG data
  POST /api/complete     photo, mask (a PNG the photo's size, white = known, black =
                         missing, as --photoMask) or mask_type (a preset in the aligned
                         face, as --maskType), face, method (dcgan | network), n_iter, lam,
                         seed, samples (dcgan only: fills per hole, as --samples),
                         sphere (dcgan only: 1 or 0, as --sphere: sharper fills),
                         with_network (dcgan only: 1 or 0, as --withNetwork: the fill
                         averaged with the completion network's of the model's side,
                         where one is installed; default: completion.WITH_NETWORK
                         without --checkpointDir, and then detail defaults to on too;
                         /api/info gives the page each method's default of detail:
                         detail for the projection, network_detail for the network),
                         detail (1 or 0, as --detail: fine detail from the face model
                         on the prior's sphere over the fill; for the network, that of
                         the face model of its side), texture (1 or 0, as --texture /
                         --no-texture: the restored photo takes the photo's own fine
                         texture; default photos.PHOTO_TEXTURE).
                         network: the result at once; dcgan: {"job": id}, 202
  GET  /api/jobs/<id>    a projection's progress (iteration, the completed face so far as
                         PNG data) and, once done, its result

A result holds the restored photo at full resolution, the photo as the completion saw it
(damaged), the completed aligned face and, for the projection, the completion GIF, each
as a data: URL; with samples > 1, "fills" lists the distinct fills by rank, each with its
face, its restored photo and its loss (the first is the result's own), for the page to
offer as thumbnails. The path is the one of ``./complete.py --photo``: photos.photo_face (or
photos.aligned_face for an image of a model's size), completion.complete or
NetworkCompleter.complete, photos.restore. One completion runs at a time; another
request meanwhile gets 409 and a message.

The model is chosen as dcgan-complete --modelSize auto chooses it: among the bundled
models installed (or the one given, --checkpointDir / --networkDir), the smallest at
least as large as the face is in the photo, else the largest (photos.choose_model_size);
each is loaded when a face first needs it. A result and a job say which: model_size
(the model's image side) and face_size (the face's own size in the photo, pixels).
"""

from __future__ import annotations

import base64
import dataclasses
import io
import itertools
import logging
import math
import os
import threading
import time

import numpy as np
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from .. import align, images, masks, photos
from ..config import SEED_MAX

log = logging.getLogger("dcgan-web")

MAX_UPLOAD_MB = 20
PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "page.html")
METHODS = ("dcgan", "network")
PAINTED = "painted"           # mask_type of a mask painted on the page
MAX_ITERATIONS = 10000
MAX_SAMPLES = 8               # fills per hole the page may ask for
GIF_FRAMES = 20               # the projection logs about this many iterations
JOBS_KEPT = 8


class WebError(Exception):
    """A request that cannot be served; the message is shown on the page."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class Upload(io.BytesIO):
    """An uploaded file held in memory, named by its file name in messages."""

    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name

    def __str__(self) -> str:
        return self.name


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def png_url(pixels: np.ndarray) -> str:
    return data_url(images.encode_png(pixels), "image/png")


# --- the models, loaded once -------------------------------------------------------------

class Models:
    """The face aligner and the completers (the DCGAN and the network, one per image side),
    each loaded on first use and kept."""

    def __init__(self, checkpoint_dir=None, network_dir=None, predictor_path=None):
        self.checkpoint_dir, self.network_dir = checkpoint_dir, network_dir
        self.predictor_path = predictor_path
        self._loaded: dict = {}
        self._load_lock = threading.Lock()
        self.align_lock = threading.Lock()        # dlib's detector: one caller at a time

    def _get(self, name, load):
        with self._load_lock:
            if name not in self._loaded:
                self._loaded[name] = load()
            return self._loaded[name]

    def aligner(self) -> align.FaceAligner:
        return self._get("aligner", lambda: align.FaceAligner(self.predictor_path))

    def dcgan(self, size: int | None = None):
        """(image size, G, D, its encoder or None) of the DCGAN of image side ``size``
        (None: the smallest; --checkpointDir's, else the bundled one): the projection starts
        where dcgan-complete's does."""
        return self._model("dcgan", self.source("dcgan", size))

    def network(self, size: int | None = None):
        """(image size, NetworkCompleter) of image side ``size`` (None: the smallest;
        --networkDir's, else the bundled network)."""
        return self._model("network", self.source("network", size))

    def detailed(self, completer, size: int, settings: dict):
        """The network's ``completer`` with the detail of the DCGAN of the same side
        (inference.DetailedCompleter, ``settings``: complete()'s); WebError when there is
        no such DCGAN or it has no encoder."""
        from ..completion_net.inference import DetailedCompleter
        if size not in self.sizes("dcgan"):
            raise WebError(f"detail: the network's fills take detail from a {size}-px face "
                           "model, and there is none here")
        _, G, D, E = self.dcgan(size)
        try:
            return DetailedCompleter(completer, G, D, E, settings)
        except ValueError as e:
            raise WebError(f"detail: {e}") from e

    def _model(self, method: str, source: str | None):
        load = load_network if method == "network" else load_dcgan
        return self._get((method, source), lambda: load(source))

    def sources(self, method: str) -> dict[int, str | None]:
        """{image side: source} of the models of ``method`` to choose from, smallest first:
        the one given (--checkpointDir / --networkDir; loaded to learn its side), else the
        bundled ones installed (None: the default one, whose absence loading reports)."""
        given = self.network_dir if method == "network" else self.checkpoint_dir
        if given:
            return {self._model(method, given)[0]: given}
        return bundled_sources(method)

    def source(self, method: str, size: int | None = None) -> str | None:
        sources = self.sources(method)
        return sources[min(sources) if size is None else size]

    def sizes(self, method: str) -> list[int]:
        """The image sides of the models of ``method`` to choose from, smallest first."""
        return sorted(self.sources(method))

    def with_network(self) -> bool:
        """Whether the projection averages its fills with the network's by default
        (completion.WITH_NETWORK, with the bundled face models only, as dcgan-complete)."""
        from ..completion import WITH_NETWORK
        return WITH_NETWORK and not self.checkpoint_dir

    def projection_defaults(self) -> dict:
        """complete()'s defaults with the budget of the DCGAN's start (its encoder or random),
        found without loading the model (the smallest bundled one's, without --checkpointDir)."""
        from ..checkpoints import find_encoder
        from ..completion import default_settings, start_of
        source = self.checkpoint_dir or min(bundled_sources("dcgan").items())[1]
        return default_settings(start_of(find_encoder(source)))


def bundled_sources(method: str) -> dict[int, str | None]:
    """{image side: source} of the bundled models of ``method`` installed, smallest first
    (model_sizes.bundled_sources)."""
    from ..model_sizes import bundled_sources as installed
    return installed(network=method == "network")


def load_dcgan(source: str | None):
    """(image size, G, D, its encoder or None) of the DCGAN ``source`` (None: the bundled one)."""
    from ..checkpoints import start_encoder
    from ..precision import load_fastest_dcgan
    # One picture at a time: the precision that is faster for a batch of one.
    config, G, D, _ = load_fastest_dcgan(source, batch_size=1)
    encoder, _ = start_encoder(source, config, None)
    return config.image_size, G, D, encoder


def load_network(source: str | None):
    """(image size, NetworkCompleter) of the network ``source`` (None: the bundled one)."""
    from ..completion_net.inference import load_network_completer
    # One picture at a time: the precision that is faster for a batch of one.
    config, completer, _ = load_network_completer(source, batch_size=1)
    return config.image_size, completer


# --- one completion ----------------------------------------------------------------------

@dataclasses.dataclass
class Request:
    """A completion asked for by the page, read and checked."""
    name: str
    photo: np.ndarray                 # uint8 (H, W, 3)
    drawn: np.ndarray | None          # (H, W, 1), 1 = known; None: a preset mask type
    mask_type: str
    method: str
    face: int
    settings: dict                    # completion.complete's settings
    texture: bool = photos.PHOTO_TEXTURE   # the restored photo takes the photo's own texture
    with_network: bool = False        # the projection's fill averaged with the network's


@dataclasses.dataclass
class Job:
    """A projection running in its worker thread."""
    id: str
    n_iter: int                       # iterations in all: on z, refining G's features, detail
    status: str = "running"           # running, done, failed
    iteration: int = 0
    face_png: bytes | None = None     # the completed face so far
    result: dict | None = None
    error: str | None = None
    choice: dict = dataclasses.field(default_factory=dict)    # model_choice of its face

    def state(self) -> dict:
        out = {"job": self.id, "status": self.status, "iteration": self.iteration,
               "n_iter": self.n_iter, **self.choice}
        if self.face_png is not None:
            out["face"] = data_url(self.face_png, "image/png")
        if self.error:
            out["error"] = self.error
        if self.result:
            out.update(self.result)
        return out


def read_photo() -> tuple[str, np.ndarray]:
    """The uploaded photo: (its file name, uint8 (H, W, 3))."""
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        raise WebError("no photo: choose or drop a photo first")
    name = os.path.basename(upload.filename)
    try:
        return name, images.load_image(Upload(upload.read(), name), channels=3)
    except images.ImageReadError as e:
        raise WebError(f"{e}: choose a photo (PNG, JPEG, WebP, BMP)") from e


def number(form, key: str, kind, default, low, high):
    """A number from the form, ``default`` when absent; WebError when it is not in [low, high]."""
    text = form.get(key, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise WebError(f"{key}: {text!r} is not a {'whole ' if kind is int else ''}number") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise WebError(f"{key} must be from {low} to {high}, got {text}")
    return value


def switch(form, key: str, default: bool) -> bool:
    """An on/off setting from the form ("1" / "0", "true" / "false"), ``default`` when
    absent; WebError for anything else."""
    text = form.get(key, "").strip().lower()
    if not text:
        return default
    if text not in ("1", "0", "true", "false"):
        raise WebError(f"{key} must be 1 or 0, got {text!r}")
    return text in ("1", "true")


def read_request(defaults: dict, with_network: bool = False) -> Request:
    """The completion the page asks for, over complete()'s settings ``defaults`` and the
    default of with_network; WebError with a message for anything unusable."""
    from ..completion import GUIDE_DETAIL, PROJECTION_ONLY, check_settings, projection_only
    form = request.form
    name, photo = read_photo()
    method = form.get("method", "dcgan")
    if method not in METHODS:
        raise WebError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    mask_type = form.get("mask_type", PAINTED)
    if mask_type != PAINTED and mask_type not in preset_masks():
        raise WebError(f"unknown mask type {mask_type!r}; choose from "
                       f"{', '.join((PAINTED,) + preset_masks())}")
    drawn = None
    if mask_type == PAINTED:
        upload = request.files.get("mask")
        if upload is None:
            raise WebError("no mask: paint over what is missing, or choose a mask type")
        try:
            gray = masks.read_gray(Upload(upload.read(), "the painted mask"))
            drawn = masks.fit_mask(gray, "the painted mask", photo.shape[:2], photo=True)
        except masks.MaskError as e:
            raise WebError(str(e)) from e
        if drawn.min() > 0:
            raise WebError("nothing is painted: paint over what is missing in the photo")
    settings = dict(defaults)
    settings["n_iter"] = number(form, "n_iter", int, settings["n_iter"], 1, MAX_ITERATIONS)
    settings["lam"] = number(form, "lam", float, settings["lam"], 0.0, 1e6)
    settings["seed"] = number(form, "seed", int, settings["seed"], 0, SEED_MAX)
    settings["samples"] = number(form, "samples", int, settings["samples"], 1, MAX_SAMPLES)
    settings["sphere"] = switch(form, "sphere", settings["sphere"])
    with_network = method == "dcgan" and switch(form, "with_network", with_network)
    settings["detail"] = switch(form, "detail", GUIDE_DETAIL if with_network
                                else settings["detail"])
    refused = projection_only(settings) if method == "network" else []
    if refused:
        name = refused[0]
        raise WebError(f"{name}: the network {PROJECTION_ONLY[name]}; choose the projection")
    settings["out_interval"] = max(1, settings["n_iter"] // GIF_FRAMES)
    check_settings(**settings)
    face = number(form, "face", int, 0, 0, 1000)
    texture = switch(form, "texture", photos.PHOTO_TEXTURE)
    return Request(name, photo, drawn, mask_type, method, face, settings, texture,
                   with_network)


def preset_masks() -> tuple[str, ...]:
    """The mask types the page offers besides painting: --maskType's, but for files."""
    return tuple(k for k in masks.MASK_TYPES if k != "file")


def prepare(req: Request, models: Models) -> tuple[photos.PhotoFace, masks.MaskSpec]:
    """The aligned face to complete and its mask, as ./complete.py --photo makes them:
    an image of a model's size is taken as an aligned face of that size, anything else as
    a photo, whose face is aligned at the side of the model its size picks."""
    from ..completion_net.inference import unsupported_masks
    sizes = models.sizes(req.method)
    aligned = req.photo.shape[0] == req.photo.shape[1] and req.photo.shape[0] in sizes
    spec = mask_spec(req, req.photo.shape[0] if aligned else sizes[0])
    if req.method == "network" and req.drawn is None and unsupported_masks(spec):
        raise WebError(f"the network cannot complete these masks: {unsupported_masks(spec)}")
    try:
        if aligned:
            face = photos.aligned_face(req.name, req.photo, spec, drawn=req.drawn)
        else:
            with models.align_lock:
                face = photos.photo_face(req.name, req.photo, spec, models.aligner(),
                                         drawn=req.drawn, which=req.face)
            size = photos.choose_model_size(photos.face_side(face.face), sizes)
            if size != spec.size:             # aligned again from its landmarks
                spec = mask_spec(req, size)
                face = photos.at_size(face, spec, None, 0, drawn=req.drawn)
    except images.ImageReadError as e:        # no face
        raise WebError(f"{e}: choose a photo with a face in it (seen from the front, at least "
                       "about 40 pixels wide)", 422) from e
    except ValueError as e:                   # MaskError, or no such face
        raise WebError(str(e), 422) from e
    if face.mask.min() > 0:
        raise WebError("the painted region misses the face: paint over the part of the face "
                       "that is missing", 422)
    return face, spec


def mask_spec(req: Request, size: int) -> masks.MaskSpec:
    """The masks.MaskSpec of the request's mask type at image side ``size``."""
    kind = masks.DEFAULT_KIND if req.mask_type == PAINTED else req.mask_type
    try:
        return masks.MaskSpec.create(kind, size, seed=req.settings["seed"])
    except masks.MaskError as e:
        raise WebError(str(e)) from e


def model_choice(face: photos.PhotoFace) -> dict:
    """model_size (the image side of the model that completes ``face``) and face_size (the
    face's own size in the photo, pixels), as a result and a job report them."""
    return {"model_size": int(face.face.image.shape[0]),
            "face_size": int(round(photos.face_side(face.face)))}


def result_of(face: photos.PhotoFace, completed: np.ndarray, blend: str, seconds: float,
              gif: bytes | None = None, samples=None, texture: bool = photos.PHOTO_TEXTURE) -> dict:
    """What the page shows: the restored photo, the damaged one and the completed face;
    with ``samples`` (completion.Samples of this one face, more than one fill) the
    distinct fills by rank, each restored (rank 1 is ``completed``); ``texture``: the
    restored photos take the photo's own texture (photos.restore)."""
    restored, damaged = photos.restore(face, completed, blend, texture=texture)
    out = {"status": "done", "restored": png_url(restored), "damaged": png_url(damaged),
           "face": png_url(completed), "width": int(restored.shape[1]),
           "height": int(restored.shape[0]), "seconds": round(seconds, 3),
           "box": [int(v) for v in face.face.box], **model_choice(face)}
    if gif is not None:
        out["gif"] = data_url(gif, "image/gif")
    if samples is not None and samples.completed.shape[1] > 1:
        out["fills"] = [{"face": out["face"], "restored": out["restored"],
                         "loss": float(samples.losses[0, 0, 2])}]
        for r in range(1, int(samples.count()[0])):
            fill = samples.completed[0, r]
            out["fills"].append({"face": png_url(fill),
                                 "restored": png_url(photos.restore(face, fill, blend,
                                                                    texture=texture)[0]),
                                 "loss": float(samples.losses[0, r, 2])})
    return out


def complete_with_network(req: Request, models: Models) -> dict:
    start = time.perf_counter()
    face, spec = prepare(req, models)
    _, completer = models.network(spec.size)
    if req.settings["detail"]:
        completer = models.detailed(completer, spec.size, req.settings)
    completed = completer.complete(face.face.image[None], face.mask[None], 1)[0]
    return result_of(face, completed, req.settings["blend"], time.perf_counter() - start,
                     texture=req.texture)


def project(job: Job, req: Request, face: photos.PhotoFace, spec: masks.MaskSpec,
            models: Models) -> None:
    """The projection (completion.complete), run in a worker thread; fills in ``job``."""
    from ..completion import complete
    from ..encoder import encode
    from ..outputs import trajectory_frames
    start = time.perf_counter()
    _, G, D, E = models.dcgan(spec.size)

    def progress(iteration, completed):
        job.face_png = images.encode_png(completed[0])
        job.iteration = iteration

    x, m = face.face.image[None], face.mask[None]
    lowres = spec.lowres_factor if req.drawn is None else None
    guide = None         # the network's fill, where one of this side can fill these masks
    if req.with_network and not lowres and spec.size in models.sizes("network"):
        guide = models.network(spec.size)[1].complete(x, m, 1)
    result = complete(x, m, G, D, lowres_factor=lowres, z_init=encode(E, x, m, lowres),
                      guide=guide, progress=progress, **req.settings)
    gif = images.encode_gif(trajectory_frames(result))
    job.result = result_of(face, result.completed[0], req.settings["blend"],
                           time.perf_counter() - start, gif, result.samples, req.texture)
    job.result["with_network"] = guide is not None
    job.status = "done"


# --- the app -------------------------------------------------------------------------------

def create_app(checkpoint_dir: str | None = None, network_dir: str | None = None,
               predictor_path: str | None = None, models: Models | None = None) -> Flask:
    """The Flask app of dcgan-web (see the module doc); ``models`` may be shared or preloaded."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_MB * 1024 * 1024
    models = models or Models(checkpoint_dir, network_dir, predictor_path)
    busy = threading.Lock()                   # one completion at a time
    jobs: dict[str, Job] = {}
    ids = itertools.count(1)

    @app.errorhandler(WebError)
    def web_error(e: WebError):
        return jsonify(error=str(e)), e.status

    @app.errorhandler(413)
    def too_large(e):
        return jsonify(error=f"the upload is larger than {MAX_UPLOAD_MB} MB: choose a smaller "
                       "photo"), 413

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        return jsonify(error=f"{e.code} {e.name}: {e.description}"), e.code

    @app.errorhandler(Exception)
    def unexpected(e: Exception):
        log.exception("unexpected error")
        return jsonify(error=f"unexpected error on the server ({type(e).__name__}: {e}); "
                       "the server goes on; see its terminal"), 500

    @app.get("/")
    def page():
        with open(PAGE, encoding="utf-8") as f:
            return Response(f.read(), mimetype="text/html")

    @app.get("/api/info")
    def info():
        from ..completion import GUIDE_DETAIL
        S = models.projection_defaults()
        return jsonify(mask_types=list(preset_masks()), painted=PAINTED, methods=list(METHODS),
                       n_iter=S["n_iter"], lam=S["lam"], seed=S["seed"], max_iterations=MAX_ITERATIONS,
                       samples=S["samples"], max_samples=MAX_SAMPLES, sphere=S["sphere"],
                       detail=S["detail"] or (GUIDE_DETAIL and models.with_network()),
                       network_detail=S["detail"],
                       with_network=models.with_network(), texture=photos.PHOTO_TEXTURE,
                       max_upload_bytes=app.config["MAX_CONTENT_LENGTH"], busy=busy.locked())

    @app.post("/api/faces")
    def faces():
        name, photo = read_photo()
        with models.align_lock:
            found = models.aligner().detect(photo)
        boxes = [{"box": [r.left(), r.top(), r.right(), r.bottom()], "score": round(float(s), 3)}
                 for r, s in found]
        aligned = photo.shape[0] == photo.shape[1] and photo.shape[0] in models.sizes("network")
        return jsonify(name=name, width=int(photo.shape[1]), height=int(photo.shape[0]),
                       faces=boxes, aligned=aligned, photo=png_url(photo))

    @app.post("/api/complete")
    def complete():
        req = read_request(models.projection_defaults(), models.with_network())
        if not busy.acquire(blocking=False):
            raise WebError("busy: another completion is running; wait until it is done", 409)
        started = False
        try:
            if req.method == "network":
                return jsonify(complete_with_network(req, models))
            face, spec = prepare(req, models)
            S = req.settings
            job = Job(str(next(ids)), S["n_iter"] + S["refine"] +
                      (S["detail_iter"] if S["detail"] else 0), choice=model_choice(face))
            for old in list(jobs)[:-JOBS_KEPT + 1]:
                jobs.pop(old)
            jobs[job.id] = job

            def work():
                try:
                    project(job, req, face, spec, models)
                except Exception as e:  # noqa: BLE001 -- shown on the page, logged in full
                    log.exception("the projection failed")
                    job.error, job.status = f"the completion failed: {type(e).__name__}: {e}", "failed"
                finally:
                    busy.release()

            threading.Thread(target=work, name=f"dcgan-web job {job.id}", daemon=True).start()
            started = True
            return jsonify(job.state()), 202
        finally:
            if not started:
                busy.release()

    @app.get("/api/jobs/<job_id>")
    def job_state(job_id: str):
        job = jobs.get(job_id)
        if job is None:
            raise WebError(f"no job {job_id} (the server keeps the last {JOBS_KEPT})", 404)
        return jsonify(job.state())

    return app

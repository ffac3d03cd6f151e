"""Completing the face inside a whole photograph: find and align its main face, give the
aligned face its mask, and paste the completed face back at the photo's full resolution.

    aligner = align.FaceAligner()
    faces, failed = find_faces(paths, spec, aligner)      # a PhotoFace per photo with a face
    restored, damaged = restore(faces[0], completed)      # uint8 (H, W, 3) each

    face = photo_face(name, photo, spec, aligner, drawn=mask, which=1)   # one photo in memory

Masks come from a masks.MaskSpec: with ``in_photo`` its mask files are drawn on the
photographs, read at each photo's size and warped into the aligned face; any other spec
gives the aligned face's mask directly, the i-th photo with a face taking mask i (as the
i-th aligned input would). ``photo_face`` does the same for one photo already in memory,
with a mask already drawn on it as an array (``drawn``: what the web page sends) and the
face to use (``which``, in align.rank_faces order; 0 = the main face).

Which model size suits a face (issue 24, "sharp at photo resolution"):

    side = face_side(faces[0].face)                  # the face's own size, photo pixels
    size = choose_model_size(side, [64, 128])        # the model to complete it with
    faces[0] = at_size(faces[0], spec_of(size), reader, index)   # re-aligned, no detection

model_sizes.py applies this rule to a whole run (find_sized_faces, by_size, SizedModels),
for dcgan-complete, dcgan-evaluate --photo and dcgan-demo.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from . import align, images, masks
from .blend import MISSING_GRAY
from .texture import TEXTURE_SIGMA, transfer_texture


PHOTO_TEXTURE = True       # restored photos take the photo's own texture (with_texture)


@dataclasses.dataclass
class PhotoFace:
    """A photograph, its aligned main face and that face's mask."""
    path: str
    photo: np.ndarray            # uint8 (H, W, 3)
    face: align.AlignedFace      # .image: uint8 (S, S, 3)
    mask: np.ndarray             # (S, S, 1) float32, 1 = known


def face_mask(spec: masks.MaskSpec, reader, path: str, photo: np.ndarray,
              face: align.AlignedFace, index: int, drawn: np.ndarray | None = None) -> np.ndarray:
    """(S, S, 1): the aligned mask of ``face``, the ``index``-th face of the run; ``reader``
    is ``spec.reader()``. ``drawn``: a mask drawn on the photo, (H, W, 1) with 1 = known
    (masks.fit_mask's output), used instead of the spec's kind."""
    if drawn is not None:
        if drawn.shape[:2] != photo.shape[:2]:
            raise masks.MaskError(f"{path}: the mask is {drawn.shape[1]}x{drawn.shape[0]}, but the "
                                  f"photo is {photo.shape[1]}x{photo.shape[0]}")
        return align.warp_mask_to_aligned(drawn, face.affine, spec.size)
    if spec.in_photo:
        drawn = spec.for_image(path, index, photo.shape[:2], reader)              # (H, W, 1)
        return align.warp_mask_to_aligned(drawn, face.affine, spec.size)
    return spec.for_image(path, index, reader=reader)


def find_faces(paths: list[str], spec: masks.MaskSpec, aligner: align.FaceAligner,
               reader=None, first_index: int = 0) -> tuple[list[PhotoFace], dict[str, str]]:
    """The main face of each photo, aligned to the spec's size, with its mask; and {path:
    reason} for the photos that cannot be used (unreadable, no face, no fitting mask).
    ``reader``: ``spec.reader()``, opened by the caller (MaskError there if it is missing);
    ``first_index``: the run's index of the first face found here (a shard's offset)."""
    found, failed = [], {}
    for path in paths:
        try:
            photo = images.load_image(path, channels=3)                         # (H, W, 3)
            found.append(photo_face(path, photo, spec, aligner, index=first_index + len(found),
                                    reader=reader))
        except (images.ImageReadError, masks.MaskError) as e:
            failed[path] = str(e)
    return found, failed


def photo_face(path: str, photo: np.ndarray, spec: masks.MaskSpec, aligner: align.FaceAligner, *,
               index: int = 0, reader=None, drawn: np.ndarray | None = None,
               which: int = 0) -> PhotoFace:
    """The PhotoFace of face ``which`` (align.rank_faces order: 0 is the main face) of
    ``photo`` (uint8 (H, W, 3), read from ``path``), the run's ``index``-th face, with its
    mask: ``drawn`` (a mask drawn on the photo, (H, W, 1), 1 = known) or the spec's.
    ImageReadError when the photo has no face, MaskError when the mask does not fit,
    ValueError when there is no face ``which``."""
    photo = np.ascontiguousarray(photo[..., :3])
    if which == 0:                            # the main face: what ./complete.py --photo takes
        face = aligner.align(photo, spec.size)
        if face is None:
            raise images.ImageReadError(f"{path}: no face found")
    else:
        faces = aligner.detect(photo)
        if not faces:
            raise images.ImageReadError(f"{path}: no face found")
        if not 0 <= which < len(faces):
            raise ValueError(f"{path}: face {which} asked for, but {len(faces)} face(s) found "
                             f"(0 to {len(faces) - 1})")
        face = aligner.align_detected(photo, faces, spec.size, which=which)
    return PhotoFace(path, photo, face, face_mask(spec, reader, path, photo, face, index, drawn))


def with_mask(face: PhotoFace, spec: masks.MaskSpec, reader, index: int) -> PhotoFace:
    """``face`` with the mask ``spec`` gives the run's ``index``-th face (``reader``:
    ``spec.reader()``): another mask on a face already found, without a new detection."""
    return dataclasses.replace(face, mask=face_mask(spec, reader, face.path, face.photo,
                                                    face.face, index))


def restore(photo_face: PhotoFace, completed: np.ndarray, blend: str = "poisson", *,
            texture: bool = PHOTO_TEXTURE):
    """(restored, damaged), uint8 (H, W, 3): the photo with the face's hole filled from the
    completed aligned face (S, S, 3), and the photo as the completion saw it (the hole gray).
    With ``texture`` the hole then takes the photo's own fine texture, at the photo's
    resolution (with_texture)."""
    photo, inverse, mask = photo_face.photo, photo_face.face.inverse, photo_face.mask
    restored = align.paste_face(photo, completed, inverse, mask, blend=blend)
    if texture:
        restored = with_texture(photo_face, restored)
    gray = np.full_like(completed, MISSING_GRAY)
    damaged = align.paste_face(photo, gray, inverse, mask, blend="none")
    return restored, damaged


def with_texture(photo_face: PhotoFace, restored: np.ndarray) -> np.ndarray:
    """``restored`` (the photo with the face's hole filled, uint8 (H, W, 3)) with the photo's
    own fine texture in the hole: texture.transfer_texture at TEXTURE_SIGMA pixels of the
    model's image, that is TEXTURE_SIGMA / scale photo pixels, taken from the known pixels
    of the square the aligned face covers."""
    photo, inverse, mask = photo_face.photo, photo_face.face.inverse, photo_face.mask
    hole = align.paste_region(photo.shape, inverse, mask)                      # (H, W) bool
    square = align.aligned_square(photo.shape, inverse, mask.shape[0])
    return transfer_texture(photo, restored, hole, area=square,
                            sigma=TEXTURE_SIGMA / photo_face.face.scale)


def aligned_face(path: str, image: np.ndarray, spec: masks.MaskSpec, *, index: int = 0,
                 reader=None, drawn: np.ndarray | None = None) -> PhotoFace:
    """The PhotoFace of an image that is already an aligned S x S face (S = the spec's
    size): no detection, the identity transform; ``drawn`` and the spec as in photo_face."""
    S = spec.size
    if image.shape[:2] != (S, S):
        raise ValueError(f"{path}: an aligned face must be {S}x{S}, got "
                         f"{image.shape[1]}x{image.shape[0]}")
    image = np.ascontiguousarray(image[..., :3])
    face = align.AlignedFace(image, (0, 0, S, S), 0.0, np.zeros((68, 2), np.float32),
                             np.float32([[1, 0, 0], [0, 1, 0]]), 0)
    return PhotoFace(path, image, face, face_mask(spec, reader, path, image, face, index, drawn))


# --- which model size suits a face --------------------------------------------------------

def face_side(face: align.AlignedFace) -> float:
    """The face's own size in photo pixels: the aligned side at which the alignment neither
    enlarges nor shrinks it (S / scale for a face aligned at S)."""
    return face.image.shape[0] / face.scale


def choose_model_size(side: float, sizes) -> int:
    """The model size (of ``sizes``, the image sides of the models at hand) to complete a
    face of ``side`` pixels with: the smallest that is at least ``side`` (never a model
    below the face's resolution when a larger one exists), else the largest.
    ValueError when ``sizes`` is empty."""
    sizes = sorted(sizes)
    if not sizes:
        raise ValueError("no model to choose from")
    return next((s for s in sizes if s >= side), sizes[-1])


def at_size(face: PhotoFace, spec: masks.MaskSpec, reader, index: int,
            drawn: np.ndarray | None = None) -> PhotoFace:
    """``face`` aligned again at ``spec``'s size from the landmarks already found (no new
    detection), with that spec's mask for the run's ``index``-th face (``drawn``: as in
    photo_face). The affine is the one FaceAligner.align would give at that size."""
    size = spec.size
    affine = align.landmark_affine(face.face.landmarks, size)
    image = cv2.warpAffine(face.photo, affine, (size, size), flags=cv2.INTER_LINEAR)
    moved = dataclasses.replace(face.face, image=image, affine=affine)
    return PhotoFace(face.path, face.photo, moved,
                     face_mask(spec, reader, face.path, face.photo, moved, index, drawn))

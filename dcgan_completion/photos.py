"""Completing the face inside a whole photograph: find and align its main face, give the
aligned face its mask, and paste the completed face back at the photo's full resolution.

    aligner = align.FaceAligner()
    faces, failed = find_faces(paths, spec, aligner)      # a PhotoFace per photo with a face
    restored, damaged = restore(faces[0], completed)      # uint8 (H, W, 3) each

Masks come from a masks.MaskSpec: with ``in_photo`` its mask files are drawn on the
photographs, read at each photo's size and warped into the aligned face; any other spec
gives the aligned face's mask directly, the i-th photo with a face taking mask i (as the
i-th aligned input would).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import align, images, masks
from .blend import MISSING_GRAY


@dataclasses.dataclass
class PhotoFace:
    """A photograph, its aligned main face and that face's mask."""
    path: str
    photo: np.ndarray            # uint8 (H, W, 3)
    face: align.AlignedFace      # .image: uint8 (S, S, 3)
    mask: np.ndarray             # (S, S, 1) float32, 1 = known


def face_mask(spec: masks.MaskSpec, reader, path: str, photo: np.ndarray,
              face: align.AlignedFace, index: int) -> np.ndarray:
    """(S, S, 1): the aligned mask of ``face``, the ``index``-th face of the run; ``reader``
    is ``spec.reader()``."""
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
            face = aligner.align(photo, spec.size)
            if face is None:
                raise images.ImageReadError(f"{path}: no face found")
            mask = face_mask(spec, reader, path, photo, face, first_index + len(found))
        except (images.ImageReadError, masks.MaskError) as e:
            failed[path] = str(e)
            continue
        found.append(PhotoFace(path, photo, face, mask))
    return found, failed


def restore(photo_face: PhotoFace, completed: np.ndarray, blend: str = "poisson"):
    """(restored, damaged), uint8 (H, W, 3): the photo with the face's hole filled from the
    completed aligned face (S, S, 3), and the photo as the completion saw it (the hole gray)."""
    photo, inverse, mask = photo_face.photo, photo_face.face.inverse, photo_face.mask
    restored = align.paste_face(photo, completed, inverse, mask, blend=blend)
    gray = np.full_like(completed, MISSING_GRAY)
    damaged = align.paste_face(photo, gray, inverse, mask, blend="none")
    return restored, damaged

"""Measuring completions against the ground truth, and the classical baselines.

Metrics, per image, on uint8 pictures (hole = the pixels the mask marks missing):

    hole PSNR   10 log10(255^2 / MSE over the hole's pixels and channels)
    PSNR        the same over the whole image (skimage.metrics.peak_signal_noise_ratio)
    SSIM        skimage.metrics.structural_similarity over the whole image (7x7 windows)
    hole L1     mean |completed - original| over the hole, on the [0, 1] intensity scale

    sharpness_L  metrics.sharpness_ratio at level L = 0, 1, 2 (full, half, quarter
                resolution): the hole's Laplacian energy, completed / original; 1 = as
                detailed, < 1 = blurred; None where the original's hole is flat
    identity    metrics.identity_distance of dlib's descriptors of the original and the
                completed face (faceid.py); None where the original cannot be read

PSNR of identical pictures is infinite; it is capped at PSNR_CAP dB so that means stay
finite. A method's summary averages these (sharpness by geometric mean, identity over the
readable faces, with the share below metrics.SAME_PERSON and the count of unreadable
faces) and adds the Frechet and kernel distances between the completions' descriptors and
the originals' (metrics.FRECHET_LABEL). Methods are functions (images uint8 (B, H, W, C),
masks (B, H, W, 1)) -> uint8 completions; the baselines are OpenCV's Telea and
Navier-Stokes inpainting.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

import cv2
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from . import metrics as measures
from .config import BATCH_SIZE

PSNR_CAP = 100.0
INPAINT_RADIUS = 3          # OpenCV's neighbourhood radius, in pixels (its documented example)

Method = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _psnr(mse: float) -> float:
    return PSNR_CAP if mse <= 0 else min(PSNR_CAP, 10.0 * np.log10(255.0 ** 2 / mse))


def image_metrics(original: np.ndarray, completed: np.ndarray, mask: np.ndarray) -> dict:
    """Metrics of one completion: uint8 (H, W, C) pictures, mask (H, W, 1) with 1 = known."""
    a, b = original.astype(np.float64), completed.astype(np.float64)
    hole = np.broadcast_to(mask < 0.5, a.shape)
    if hole.any():
        hole_mse = float(np.mean((a[hole] - b[hole]) ** 2))
        hole_l1 = float(np.mean(np.abs(a[hole] - b[hole]))) / 255.0
    else:
        hole_mse, hole_l1 = 0.0, 0.0
    whole = peak_signal_noise_ratio(original, completed, data_range=255) \
        if np.any(original != completed) else PSNR_CAP
    ssim = structural_similarity(original, completed, data_range=255, channel_axis=-1)
    out = {"hole_psnr": _psnr(hole_mse), "psnr": min(PSNR_CAP, float(whole)),
           "ssim": float(ssim), "hole_l1": hole_l1}
    for level in measures.SHARPNESS_LEVELS:
        out[f"sharpness_{level}"] = measures.sharpness_ratio(original, completed, mask, level)
    return out


def opencv_inpaint(flag: int) -> Method:
    """A Method inpainting each image's hole with cv2.inpaint (Telea or Navier-Stokes)."""
    def method(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        out = []
        for image, mask in zip(images, masks):
            hole = (mask[..., 0] < 0.5).astype(np.uint8) * 255           # 255 = inpaint here
            out.append(cv2.inpaint(image, hole, INPAINT_RADIUS, flag).reshape(image.shape))
        return np.stack(out)
    return method


def at_model_size(method: Method, size: int, blend: str = "poisson") -> Method:
    """A Method for images larger than ``method``'s model (size x size): each face and its
    mask are brought to ``size`` and the completion pasted back as dcgan-complete --photo
    does for a face larger than its model (align.warp_mask_to_aligned, align.paste_face);
    the yardstick "a 64-px model upscaled" on 128-px faces."""
    from .align import paste_face, warp_mask_to_aligned
    from .blend import MISSING_GRAY

    def run(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        S = images.shape[1]
        if S == size:
            return method(images, masks)
        f = size / S
        down = np.float32([[f, 0, 0], [0, f, 0]])                  # image -> model pixels
        up = np.float32([[1 / f, 0, 0], [0, 1 / f, 0]])            # and back
        known = masks >= 0.5                                       # (B, S, S, 1)
        # The hole's true pixels are gone before anything is resized or pasted.
        seen = np.where(known, images, np.uint8(MISSING_GRAY))
        small = np.stack([cv2.warpAffine(x, down, (size, size), flags=cv2.INTER_LINEAR
                                         ).reshape(size, size, -1) for x in seen])
        small_masks = np.stack([warp_mask_to_aligned(m, down, size) for m in masks])
        completed = method(small, small_masks)                    # (B, size, size, C)
        pasted = np.stack([paste_face(x, c, up, m, blend)
                           for x, c, m in zip(seen, completed, small_masks)])
        return np.where(known, images, pasted)
    return run


BASELINES = {"telea": opencv_inpaint(cv2.INPAINT_TELEA),
             "navier-stokes": opencv_inpaint(cv2.INPAINT_NS)}


MEAN_KEYS = ("hole_psnr", "psnr", "ssim", "hole_l1")
SHARPNESS_KEYS = tuple(f"sharpness_{level}" for level in measures.SHARPNESS_LEVELS)


@dataclasses.dataclass
class MethodResult:
    completed: list | np.ndarray     # uint8 (N, H, W, C), or N photos of their own sizes
    metrics: list[dict]              # one dict per image
    seconds: float                   # wall time of the method over all images
    descriptors: np.ndarray | None = None    # (N, 128) of the completions; NaN: unreadable

    def summary(self, reference: np.ndarray | None = None) -> dict:
        """The means (see the module doc); with ``reference``, the originals' (N, 128)
        descriptors, also the Frechet and kernel distances to the completions'."""
        out = {k: float(np.mean([m[k] for m in self.metrics])) for k in MEAN_KEYS}
        for k in SHARPNESS_KEYS:
            out[k] = measures.geometric_mean(m[k] for m in self.metrics)
        if self.metrics and "identity" in self.metrics[0]:
            ids = [m["identity"] for m in self.metrics if m["identity"] is not None]
            out["identity"] = float(np.mean(ids)) if ids else None
            out["identity_same"] = float(np.mean(np.less(ids, measures.SAME_PERSON))) \
                if ids else None
            out["identity_unreadable"] = len(self.metrics) - len(ids)
        if reference is not None and self.descriptors is not None:
            out.update(set_distances(reference, self.descriptors))
        out["seconds_per_image"] = self.seconds / max(len(self.metrics), 1)
        return out


def set_distances(reference: np.ndarray, completed: np.ndarray) -> dict:
    """{"frechet": ..., "kernel": ...} between the readable rows of two (N, 128) descriptor
    sets (None each with fewer than 2 readable faces)."""
    a = reference[~np.isnan(reference).any(1)]
    b = completed[~np.isnan(completed).any(1)]
    if len(a) < 2 or len(b) < 2:
        return {"frechet": None, "kernel": None}
    return {"frechet": measures.frechet_distance(b, a), "kernel": measures.kernel_distance(b, a)}


def measure(originals, completed, masks, faces=None) -> tuple[list[dict], np.ndarray | None]:
    """(image_metrics of each completion, with "identity" when ``faces`` (a
    faceid.FaceReference of the originals) is given; the completions' descriptors or None)."""
    from .faceid import identity_distances
    scores = [image_metrics(o, c, m) for o, c, m in zip(originals, completed, masks)]
    if faces is None:
        return scores, None
    descriptors = faces.describe(completed)
    for score, d in zip(scores, identity_distances(faces.descriptors, descriptors)):
        score["identity"] = d
    return scores, descriptors


def run_method(method: Method, images: np.ndarray, masks: np.ndarray,
               batch_size: int = BATCH_SIZE, faces=None) -> MethodResult:
    """Complete ``images`` with ``method`` batch by batch and measure each completion
    (``faces``: as in measure)."""
    parts, t = [], time.perf_counter()
    for start in range(0, len(images), batch_size):
        parts.append(method(images[start:start + batch_size], masks[start:start + batch_size]))
    seconds = time.perf_counter() - t
    completed = np.concatenate(parts)
    scores, descriptors = measure(images, completed, masks, faces)
    return MethodResult(completed, scores, seconds, descriptors)


def format_table(results: dict) -> str:
    """results[mask][method] = summary dict -> an aligned text table."""
    cols = ("hole_psnr", "psnr", "ssim", "hole_l1", *SHARPNESS_KEYS, "identity",
            "identity_same", "frechet", "kernel", "seconds_per_image")
    heads = ("hole PSNR", "PSNR", "SSIM", "hole L1", "sharp 1:1", "sharp 1:2", "sharp 1:4",
             "identity", "same <0.6", "FD (dlib)", "KID (dlib)", "s/image")
    digits = {"hole_psnr": 2, "psnr": 2, "frechet": 4, "kernel": 4}
    present = [i for i, c in enumerate(cols)
               if any(c in s for methods in results.values() for s in methods.values())]
    lines = [f"{'mask':<8} {'method':<14} " + " ".join(f"{heads[i]:>10}" for i in present)]
    for mask, methods in results.items():
        for name, s in methods.items():
            cells = []
            for i in present:
                value = s.get(cols[i])
                cells.append(f"{'-':>10}" if value is None else
                             f"{value:>10.{digits.get(cols[i], 3)}f}")
            lines.append(f"{mask:<8} {name:<14} " + " ".join(cells))
    notes = ["hole PSNR and PSNR in dB; sharp 1:N = Laplacian energy in the hole, completed / "
             "original, at 1/N resolution (1 = as detailed, < 1 = blurred)"]
    if any("identity" in s for methods in results.values() for s in methods.values()):
        notes.append(f"identity = dlib descriptor distance to the original (same person below "
                     f"{measures.SAME_PERSON}); FD, KID: Frechet and kernel distances "
                     f"{measures.FRECHET_LABEL}")
    return "\n".join(lines + notes)

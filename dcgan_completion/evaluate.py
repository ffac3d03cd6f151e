"""Measuring completions against the ground truth, and the classical baselines.

Metrics, per image, on uint8 pictures (hole = the pixels the mask marks missing):

    hole PSNR   10 log10(255^2 / MSE over the hole's pixels and channels)
    PSNR        the same over the whole image (skimage.metrics.peak_signal_noise_ratio)
    SSIM        skimage.metrics.structural_similarity over the whole image (7x7 windows)
    hole L1     mean |completed - original| over the hole, on the [0, 1] intensity scale

PSNR of identical pictures is infinite; it is capped at PSNR_CAP dB so that means stay
finite. Methods are functions (images uint8 (B, H, W, C), masks (B, H, W, 1)) -> uint8
completions; the baselines are OpenCV's Telea and Navier-Stokes inpainting.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

import cv2
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

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
    return {"hole_psnr": _psnr(hole_mse), "psnr": min(PSNR_CAP, float(whole)),
            "ssim": float(ssim), "hole_l1": hole_l1}


def opencv_inpaint(flag: int) -> Method:
    """A Method inpainting each image's hole with cv2.inpaint (Telea or Navier-Stokes)."""
    def method(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        out = []
        for image, mask in zip(images, masks):
            hole = (mask[..., 0] < 0.5).astype(np.uint8) * 255           # 255 = inpaint here
            out.append(cv2.inpaint(image, hole, INPAINT_RADIUS, flag).reshape(image.shape))
        return np.stack(out)
    return method


BASELINES = {"telea": opencv_inpaint(cv2.INPAINT_TELEA),
             "navier-stokes": opencv_inpaint(cv2.INPAINT_NS)}


@dataclasses.dataclass
class MethodResult:
    completed: np.ndarray            # uint8 (N, H, W, C)
    metrics: list[dict]              # one dict per image
    seconds: float                   # wall time of the method over all images

    def summary(self) -> dict:
        keys = self.metrics[0].keys() if self.metrics else ()
        out = {k: float(np.mean([m[k] for m in self.metrics])) for k in keys}
        out["seconds_per_image"] = self.seconds / max(len(self.metrics), 1)
        return out


def run_method(method: Method, images: np.ndarray, masks: np.ndarray,
               batch_size: int = BATCH_SIZE) -> MethodResult:
    """Complete ``images`` with ``method`` batch by batch and measure each completion."""
    parts, t = [], time.perf_counter()
    for start in range(0, len(images), batch_size):
        parts.append(method(images[start:start + batch_size], masks[start:start + batch_size]))
    seconds = time.perf_counter() - t
    completed = np.concatenate(parts)
    metrics = [image_metrics(o, c, m) for o, c, m in zip(images, completed, masks)]
    return MethodResult(completed, metrics, seconds)


def format_table(results: dict) -> str:
    """results[mask][method] = summary dict -> an aligned text table."""
    cols = ("hole_psnr", "psnr", "ssim", "hole_l1", "seconds_per_image")
    heads = ("hole PSNR dB", "PSNR dB", "SSIM", "hole L1", "s/image")
    lines = [f"{'mask':<8} {'method':<14} " + " ".join(f"{h:>12}" for h in heads)]
    for mask, methods in results.items():
        for name, s in methods.items():
            lines.append(f"{mask:<8} {name:<14} " + " ".join(
                f"{s[c]:>12.4f}" if c in ("ssim", "hole_l1", "seconds_per_image")
                else f"{s[c]:>12.2f}" for c in cols))
    return "\n".join(lines)

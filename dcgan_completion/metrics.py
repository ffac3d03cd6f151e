"""Perceptual measures of a completion, beside evaluate.py's PSNR: sharpness, identity and
the distance between two sets of face descriptors. Pure functions on arrays; no I/O.

    sharpness ratio   laplacian_energy(completed) / laplacian_energy(original) over the
                      hole's interior (not its rim, where a seam would count), at full resolution (level 0) and after 1 or 2 halvings (cv2.pyrDown):
                      1.0 = as detailed as the original, < 1 = blurred, > 1 = noisier
    identity          ||d(original) - d(completed)||, d = dlib's 128-D face descriptor;
                      below SAME_PERSON = 0.6 dlib calls two faces the same person
    Frechet distance  ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between the
                      Gaussians fitted to two descriptor sets (Heusel et al. 2017, on dlib
                      descriptors here: not comparable to published FIDs on Inception)
    kernel distance   the unbiased MMD^2 with the kernel k(x, y) = (x.y / d + 1)^3
                      (Binkowski et al. 2018, "KID"): unbiased, so usable on small sets

Why these: PSNR rewards blur (the mean of all plausible fills scores best), so a blurred
fill and a sharp, plausible one need a measure of detail and one of who the face shows.
"""

from __future__ import annotations

import cv2
import numpy as np
import scipy.linalg

SAME_PERSON = 0.6          # dlib's documented threshold for its face-recognition ResNet
SHARPNESS_LEVELS = (0, 1, 2)
SHARPNESS_FLOOR = 1e-3     # ratios are floored here before a geometric mean (log 0 is -inf)
FRECHET_LABEL = "on dlib face descriptors, not comparable to published FIDs"


def luminance(image: np.ndarray) -> np.ndarray:
    """(H, W) float64 in [0, 255]: the picture's luminance (Rec. 601), or its only channel."""
    x = image.astype(np.float64)
    if x.ndim == 3 and x.shape[-1] == 3:
        return x @ np.float64([0.299, 0.587, 0.114])
    return x.reshape(x.shape[:2])


def laplacian_energy(image: np.ndarray, region: np.ndarray) -> float:
    """The mean squared Laplacian (3x3 kernel) of the luminance over ``region`` (H, W) bool:
    near 0 for a flat or blurred patch, large for fine detail."""
    lap = cv2.Laplacian(luminance(image), cv2.CV_64F, ksize=1, borderType=cv2.BORDER_REFLECT)
    return float(np.mean(lap[region] ** 2)) if region.any() else 0.0


def _halve(image: np.ndarray, hole: np.ndarray, times: int):
    """The picture pyrDown-ed ``times`` times, and the hole at that size (area share >= 0.5)."""
    hole = hole.astype(np.float32)
    for _ in range(times):
        h, w = image.shape[:2]
        image = cv2.pyrDown(image)
        hole = cv2.resize(hole, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_AREA)
        if (h, w) == image.shape[:2]:
            break
    return image, hole >= 0.5


def sharpness_ratio(original: np.ndarray, completed: np.ndarray, mask: np.ndarray,
                    level: int = 0) -> float | None:
    """laplacian_energy(completed) / laplacian_energy(original) inside the hole after
    ``level`` halvings, over the hole's interior (its rim left out). uint8 pictures
    (H, W, C); mask (H, W) or (H, W, 1), 1 = known. None when the original has no detail
    there to compare with (a flat hole, no hole, or one too thin to have an interior at
    that resolution)."""
    hole = mask.reshape(mask.shape[:2]) < 0.5
    a, region = _halve(original, hole, level)
    b, _ = _halve(completed, hole, level)
    # Only the hole's interior, where the 3x3 stencil sees filled pixels alone: on its rim a
    # seam between the known pixels and a blurred fill would read as detail.
    region = cv2.erode(region.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    reference = laplacian_energy(a, region)
    if reference <= 1e-9:
        return None
    return laplacian_energy(b, region) / reference


def geometric_mean(ratios) -> float | None:
    """The geometric mean of the ratios that are not None, each floored at SHARPNESS_FLOOR
    (ratios 2 and 1/2 average to 1); None when there is none."""
    values = [max(r, SHARPNESS_FLOOR) for r in ratios if r is not None]
    return float(np.exp(np.mean(np.log(values)))) if values else None


def identity_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The Euclidean distance between two face descriptors (128,)."""
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The Frechet distance between Gaussians fitted to the rows of ``a`` (N, D) and ``b``
    (M, D): ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 sqrtm(S_a S_b)). Needs N, M >= 2."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"a Frechet distance needs at least 2 samples a side, got {len(a)} "
                         f"and {len(b)}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)          # (D, D)
    root = scipy.linalg.sqrtm(s_a @ s_b)
    # Rounding makes sqrtm of a (near-)singular product slightly complex: keep the real part.
    trace = np.trace(s_a) + np.trace(s_b) - 2.0 * np.trace(np.real(root))
    return float(np.sum((mu_a - mu_b) ** 2) + max(trace, 0.0))


def kernel_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The unbiased squared MMD between the rows of ``a`` (N, D) and ``b`` (M, D) with the
    cubic polynomial kernel k(x, y) = (x.y / D + 1)^3; can be slightly negative when the
    two sets come from one distribution. Needs N, M >= 2."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"a kernel distance needs at least 2 samples a side, got {len(a)} "
                         f"and {len(b)}")
    d = a.shape[1]
    k_aa, k_bb, k_ab = ((x @ y.T / d + 1.0) ** 3 for x, y in ((a, a), (b, b), (a, b)))
    n, m = len(a), len(b)
    # The diagonal (a sample with itself) is left out of the within-set means: unbiased.
    within_a = (k_aa.sum() - np.trace(k_aa)) / (n * (n - 1))
    within_b = (k_bb.sum() - np.trace(k_bb)) / (m * (m - 1))
    return float(within_a + within_b - 2.0 * k_ab.mean())

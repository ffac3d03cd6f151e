"""The picture's own fine texture carried into a filled hole (guided texture transfer).

A face model draws at its own size (64 or 128 px) and draws smooth skin: pasted into a
photo whose face is larger, its fill is also enlarged, and the hole is a soft patch
beside the photo's pores, wrinkles and grain. The photo itself shows what that detail
looks like, around the hole. ``transfer_texture`` gives it to the hole:

  1. split at a Gaussian of ``sigma`` px: the fill's coarse band (its structure: nose,
     mouth, shading) guides the search; the picture's fine band (luminance less its
     blur) is what is carried;
  2. the hole is covered by square patches of ``patch`` px, half a patch apart. For each,
     the known patches of the picture (wholly outside the hole, inside ``area``) are
     compared with it on the coarse band, colour included (mean squared difference), and
     one of the ``choices`` best (kept at least half a patch apart) is taken, at random
     with a fixed seed: with only the best, every flat stretch of a fill takes the same
     flattest source, and the repeats read as a grid;
  3. the chosen patches' fine bands are added with sin^2 windows and divided by the root
     of the summed squared windows: independent patches then keep their strength, where
     a plain average of overlapping patches would soften them;
  4. only what the fill lacks is added: the carried band is scaled so that the hole's
     fine band (the fill's own plus the carried) is as strong as the picture's on the
     known pixels next to the hole (deficit_gain, at most 1). An enlarged, smooth fill
     gets about the photo's texture; a fill drawn at the photo's resolution or finer
     keeps its own edges (lips, nostrils) and gets little. It is added the same on every
     channel (fine detail is mostly luminance; carrying colour would paint, e.g., a
     glasses frame's colour onto skin). Known pixels are unchanged.

This is the texture half of Yang et al. 2017 ("High-Resolution Image Inpainting using
Multi-Scale Neural Patch Synthesis": a network's coarse content, with fine texture taken
from the known region's best-matching patches), done on pixels with a blurred guide as
in Image Analogies (Hertzmann et al. 2001) rather than on a network's features. It adds
what the photo has, not what the face needs: a wrinkle or a pore where the source patch
had one, not where this face would. bench/README.md ("The photo's own texture") measures
it.
"""

from __future__ import annotations

import cv2
import numpy as np

from .metrics import luminance

TEXTURE_SIGMA = 0.75       # where coarse becomes fine, in pixels of the model's images
TEXTURE_PATCH = 6.0        # patch side in units of sigma
TEXTURE_CHOICES = 6        # how many of the best-matching sources one is drawn from
MATCH_SIGMA = 1.0          # patches are compared at a size where sigma is at most this
PICK_POOL = 64             # the best sources among which the choices are kept apart
TARGET_CHUNK = 256         # hole patches compared with every source at once


def patch_side(sigma: float) -> int:
    """The patch side for ``sigma``: TEXTURE_PATCH sigmas, even (half a patch is the step),
    at least 4 px."""
    return max(4, 2 * int(round(TEXTURE_PATCH * sigma / 2)))


def _window(side: int) -> np.ndarray:
    """(side, side) float32: sin^2 in each direction; copies half a side apart sum to 1."""
    w = np.sin(np.pi * (np.arange(side) + 0.5) / side) ** 2
    return np.outer(w, w).astype(np.float32)


def _sources(known: np.ndarray, side: int) -> np.ndarray:
    """(H - side + 1, W - side + 1) bool: the top-left corners of side x side patches that
    lie wholly in ``known``."""
    h, w = known.shape
    share = cv2.boxFilter(known.astype(np.float32), -1, (side, side), normalize=True,
                          anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    return share[:h - side + 1, :w - side + 1] > 1.0 - 1e-6


def _pick(cost: np.ndarray, i: np.ndarray, j: np.ndarray, apart: int, choices: int,
          rng) -> int:
    """The index of one of the ``choices`` lowest ``cost`` sources (at (i, j)), each more
    than ``apart`` from the better ones in both directions, drawn by ``rng``; the lowest
    PICK_POOL costs are searched."""
    pool = np.argpartition(cost, min(PICK_POOL, len(cost)) - 1)[:PICK_POOL]
    pool = pool[np.argsort(cost[pool], kind="stable")]                      # best first
    near = np.maximum(np.abs(i[pool][:, None] - i[pool][None, :]),
                      np.abs(j[pool][:, None] - j[pool][None, :])) <= apart  # (P, P)
    kept, free = [], np.ones(len(pool), bool)
    while free.any() and len(kept) < choices:
        p = int(np.argmax(free))                     # the best not near one kept already
        kept.append(p)
        free &= ~near[p]
    return int(pool[kept[int(rng.integers(len(kept)))]])


def transfer_texture(picture: np.ndarray, filled: np.ndarray, hole: np.ndarray, *,
                     sigma: float, patch: int | None = None, area: np.ndarray | None = None,
                     choices: int = TEXTURE_CHOICES, seed: int = 0) -> np.ndarray:
    """uint8 (H, W, C): ``filled`` with fine detail carried into its hole from the known
    pixels of ``picture`` (the module doc): the fine band (finer than a Gaussian of
    ``sigma`` px) of the known patches of ``patch`` px (default patch_side(sigma)) inside
    ``area`` ((H, W) bool, default everywhere) whose coarse band best matches the fill's,
    added as far as the fill lacks the picture's detail (deficit_gain).

    picture, filled: uint8 (H, W, C), equal outside the hole (a completion); hole: (H, W)
    bool, True = missing. ``filled`` comes back unchanged when there is no hole or no
    known patch to take from. Deterministic for a given ``seed``."""
    hole = np.asarray(hole, bool)
    side = patch or patch_side(sigma)
    if choices < 1:
        raise ValueError(f"choices must be at least 1, got {choices}")
    area = np.ones_like(hole) if area is None else np.asarray(area, bool)
    if not hole.any():
        return filled.copy()
    # Everything happens inside the box of the area and the hole, a patch's margin round.
    ys, xs = np.nonzero(area | hole)
    top, left = max(ys.min() - side, 0), max(xs.min() - side, 0)
    bottom, right = min(ys.max() + side + 1, hole.shape[0]), min(xs.max() + side + 1, hole.shape[1])
    box = (slice(top, bottom), slice(left, right))
    hole_b, area_b = hole[box], area[box]
    valid = _sources(area_b & ~hole_b, side)                                # (h', w') corners
    if not valid.any() or min(hole_b.shape) < side:
        return filled.copy()

    def blurred(x):
        return cv2.GaussianBlur(x, (0, 0), sigma).reshape(x.shape)

    own = luminance(picture[box]).astype(np.float32)                           # (h, w)
    fine = own - blurred(own)                                                  # what is carried
    fill = filled[box].astype(np.float32)                                      # (h, w[, C])
    coarse = blurred(fill)                                                     # the fill's structure
    # Patches are compared on the coarse band, which has nothing finer than sigma: at
    # MATCH_SIGMA px a sigma it can be compared f times smaller, so that a large face costs
    # what a small one does (the search is area x patch area: side^4 at full size).
    f = max(1.0, sigma / MATCH_SIGMA)
    small = (max(1, round(coarse.shape[1] / f)), max(1, round(coarse.shape[0] / f)))
    guide = cv2.resize(coarse, small, interpolation=cv2.INTER_AREA).reshape(
        (small[1], small[0], -1))                                              # (h/f, w/f, C)
    side_s = max(2, int(round(side / f)))
    h_s, w_s = guide.shape[0] - side_s + 1, guide.shape[1] - side_s + 1
    # A small corner (i, j) stands for the full corner (round(i f), round(j f)).
    rows = np.minimum(np.rint(np.arange(h_s) * f).astype(int), valid.shape[0] - 1)
    cols = np.minimum(np.rint(np.arange(w_s) * f).astype(int), valid.shape[1] - 1)
    allowed = valid[np.ix_(rows, cols)]                                        # (h_s, w_s)
    if not allowed.any():
        return filled.copy()

    # Every allowed source patch as a vector (N, d), d = C side_s^2; the guide is centred
    # so that the squared distances below lose no precision to a large common level.
    guide = guide - guide.mean()
    patches = np.lib.stride_tricks.sliding_window_view(guide, (side_s, side_s), axis=(0, 1))
    src_i, src_j = np.nonzero(allowed)                                         # (N,) each
    sources = patches[src_i, src_j].reshape(len(src_i), -1)                    # (N, d)
    norms = np.einsum("nd,nd->n", sources, sources)                           # (N,)
    # The patches that cover the hole, half a patch apart (full-size corners).
    h, w = hole_b.shape
    step = side // 2
    hy, hx = np.nonzero(hole_b)
    first_y = min(max(hy.min() - step, 0), h - side)       # a hole on the box's last rows
    first_x = min(max(hx.min() - step, 0), w - side)       # still gets its patch
    corners = [(y, x) for y in range(first_y, min(hy.max(), h - side) + 1, step)
               for x in range(first_x, min(hx.max(), w - side) + 1, step)
               if hole_b[y:y + side, x:x + side].any()]
    at = np.array([(min(int(round(y / f)), h_s - 1), min(int(round(x / f)), w_s - 1))
                   for y, x in corners])                                       # (T, 2) small
    targets = patches[at[:, 0], at[:, 1]].reshape(len(corners), -1)            # (T, d)

    rng = np.random.default_rng(seed)
    window = _window(side)
    carried = np.zeros(hole_b.shape, np.float32)
    weight = np.zeros(hole_b.shape, np.float32)
    for lo in range(0, len(corners), TARGET_CHUNK):
        # |s - t|^2 less |t|^2, the same for every source s: (chunk, N).
        cost = norms[None, :] - 2.0 * (targets[lo:lo + TARGET_CHUNK] @ sources.T)
        for (y, x), row in zip(corners[lo:lo + TARGET_CHUNK], cost):
            k = _pick(row, src_i, src_j, side_s // 2, choices, rng)
            sy, sx = rows[src_i[k]], cols[src_j[k]]
            carried[y:y + side, x:x + side] += window * fine[sy:sy + side, sx:sx + side]
            weight[y:y + side, x:x + side] += window ** 2
    detail = carried / np.sqrt(np.maximum(weight, 1e-6))                      # (h, w)
    # Only what the fill lacks is added: the photo's detail next to the hole, less the
    # fill's own (a fill drawn at or above the photo's resolution keeps its edges and
    # gets little; an enlarged, smooth one gets about the photo's).
    gain = deficit_gain(fine, fill, hole_b, detail, sigma, side)
    lifted = fill + gain * (detail[..., None] if fill.ndim == 3 else detail)
    out_box = np.where(hole_b[..., None] if fill.ndim == 3 else hole_b, lifted, fill)
    out = filled.copy()
    out[box] = np.clip(np.rint(out_box), 0, 255).astype(np.uint8)
    return out


def deficit_gain(fine: np.ndarray, fill: np.ndarray, hole: np.ndarray, detail: np.ndarray,
                 sigma: float, ring: int) -> float:
    """The gain g in [0, 1] at which the fill's own fine band plus g x ``detail`` has, in
    the hole, the mean square the picture's fine band ``fine`` has on the known pixels
    within ``ring`` px of it (their rim left out):

        g^2 = max(E_ring[fine^2] - E_hole[fine(fill)^2], 0) / E_hole[detail^2]

    (fine(fill): the fill's luminance less its Gaussian of ``sigma``). 0 when nothing is
    known near the hole or ``detail`` is empty."""
    near = cv2.dilate(hole.astype(np.uint8), np.ones((2 * ring + 1,) * 2, np.uint8)).astype(bool)
    near = cv2.erode((near & ~hole).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    inside = cv2.erode(hole.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    inside = inside if inside.any() else hole
    drawn = np.mean(detail[hole] ** 2)
    if not near.any() or drawn <= 1e-9:
        return 0.0
    lum = luminance(np.clip(fill, 0, 255)).astype(np.float32)
    own = lum - cv2.GaussianBlur(lum, (0, 0), sigma)
    lacking = np.mean(fine[near] ** 2) - np.mean(own[inside] ** 2)
    return float(np.clip(np.sqrt(max(lacking, 0.0) / drawn), 0.0, 1.0))

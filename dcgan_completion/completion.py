"""Semantic image completion by projected gradient descent on z (Yeh et al. 2016).

Given images x with known pixels M (1 = known, 0 = missing; see masks.py), find the
latent z whose image G(z) agrees with the known pixels and looks real to D: minimise,
per image, the completion objective of losses.py (its module doc gives the formulas)

    total(z) = contextual(z) + lam * perceptual(z)          (losses.completion_loss)

with contextual the L1 distance to the known pixels (losses.contextual_loss, weighted
by losses.context_weights with ``weighted_context=N``; losses.lowres_contextual_loss for
'lowres' masks, ``lowres_factor=f``) and perceptual = softplus(-D(G(z)))
(losses.perceptual_loss).

Every step takes the gradient of sum_i total_i with respect to z only. Image i's loss
depends on z_i alone (G and D run with training=False: batch norm uses its moving
statistics), so the sum gives each image its own gradient and results do not depend
on the batch size. Each step updates z and projects it back onto [-1, 1]^z_dim.

Defaults (keyword arguments of ``complete``, the one place they live):
  optimizer 'adam', lr 0.01, betas 0.9 / 0.999, eps 1e-8 (the default of Amos' later
      complete.py). 'momentum' is the Nesterov form of Amos' blog (lr 0.01, momentum 0.9):
          v_prev = v;  v = momentum * v - lr * grad;  z += -momentum * v_prev + (1 + momentum) * v
      It is kept to reproduce the blog, but its step scales with the gradient, which grows
      with the number of known pixels: with lr 0.01 it oscillated without converging on
      our 16x16 and 64x64 test generators, where Adam's scale-free steps recovered a
      hidden z to within 1e-3 in a few hundred iterations.
  lam 0.003: the paper's weight per image. The original tool's lam 0.1 multiplied a
      batch *mean* over 64 images, i.e. ~0.0016 per image.
  n_iter (START_BUDGETS): from a random z 1000, the default of Amos' complete.py
      (--nIter 1000); from an encoder's z (z_init) 20, then 20 refining (below). Each
      iteration costs ~1.3 GFLOP per 64x64 image (bench/bench_completion.py).
  out_interval 50, restarts 1, blend 'poisson'; samples 1, sample_spread SAMPLE_SPREAD,
      sample_distance SAMPLE_DISTANCE (below).

Refinement beyond z (``refine`` > 0, by default from an encoder's z only; generator
surgery / ILO, Daras et al. 2021): once z is found, G is split after block ``refine_layer`` into head and tail
(model.split_generator), and the feature map h, from h0 = head(z), is optimised with Adam
(``refine_lr``) for ``refine`` more iterations on the same per-image total plus
losses.feature_penalty, ``refine_weight`` * mean (h - h0)^2, and projected back onto
h >= 0 (G's features are ReLU outputs). The image is then tail(h), which may leave G's
range: it can agree more closely with the known pixels than any G(z). Its settings'
defaults, refine_layer 0 (the 4x4 map), refine_weight 1000, refine_lr 0.03, were the best
of a small sweep on 10 validation faces with the bundled model (centre mask, 200
iterations on z, then 100 refining): hole PSNR 17.94 dB unrefined, 18.17 with 100 more
iterations on z instead, 18.56 refined (block 1: 18.2-18.3; weight 1e4: 18.1). From an
encoder's z, 50 steps on z then 50 refining gained +0.3 dB on the centre, +0.15 on the
left half and +1.0 on random 80 % over 100 steps on z alone (65 validation faces), so the
encoder's budget refines.

On the prior's sphere (``sphere=True``; PULSE, Menon et al. 2020, searched on the sphere
where a Gaussian prior's samples lie): z ~ U[-1, 1]^d lies near the sphere of radius
sqrt(d / 3) (prior_radius: E|z|^2 = d/3), but an encoder trained to regress z predicts
the mean of the z that fit a masked face, well inside it (norm 3.5 against 5.8 for the
bundled encoder), where G's faces are smooth; the descent on the contextual loss drifts
inwards too. With ``sphere`` the start points are moved onto that sphere and every step
on z is projected back onto it (onto_sphere, within [-1, 1]^d): the fills are sharper,
their hole PSNR lower (bench/README.md, "Sharper fills on the prior's sphere").

Detail from the prior's sphere (``detail=True``; a two-scale fill). The descent and the
refinement beyond z both trade detail for agreement: the refined fill has the best hole
PSNR and a third of the original's detail, the sphere's fills the most detail and the
lowest PSNR (perception against distortion, Blau and Michaeli 2018). With ``detail`` the
chosen z of each sample is moved onto the prior's sphere and optimised there for
``detail_iter`` more iterations, without refining, and the final image takes its
low frequencies from the fill found before and its high frequencies from that sharp
one (blend.two_scale, Gaussian ``detail_sigma``): the coarse face of the best-fitting fill
with the fine structure of a face G draws where its faces are detailed. That detail is
scaled to the photo's own (``detail_gain`` "match", blend.matched_gain): by how much
finer the image's known pixels around the hole are than G's sharp image of them, so a
soft photo gets a softer fill and a sharp one a sharper. Logged as one more iteration,
n_iter + refine + detail_iter; the losses stay those of the fill before.

With another method's fills (``guide``; an ensemble of two estimates): a completion
network trained on a pixel loss and the projection err differently (the network towards
the mean face of its training set, the projection towards a face G can draw), so the mean
of the two fills is nearer the hidden pixels than either. With ``guide`` each sample's
last fill becomes that mean (averaged) before the detail is added, so the coarse content
is the two methods' and the fine detail G's on the sphere. On the 128-px select split
(100 faces, the bundled 128-px models), hole PSNR / sharpness at 1:1, centre / left half
/ strokes: the projection 21.05 / 0.41, 16.56 / 0.40, 23.65 / 0.45; the network 21.56 /
0.07, 16.96 / 0.07, 24.37 / 0.11; their mean 21.89 / 0.14, 17.37 / 0.13, 24.64 / 0.16;
the mean with the detail 21.66 / 0.86, 17.21 / 0.99, 24.20 / 0.89 (bench/README.md). The
losses and z stay the projection's.

The completion is the known pixels of x and the hole of G(z), Poisson-blended with
blend='poisson' (the paper's post-processing) wherever the mask has a hole and a known
pixel: blend.py.

Several fills per hole (``samples`` = K > 1; pluralistic completion, Zheng et al. 2019): a
hole has many plausible fills, and different start points land on different faces that
agree with the known pixels. Samples and restarts share one mechanism: every image gets
K x ``restarts`` start points, optimised together in one batch (row (k * restarts + r) * B
+ i is restart r of sample k of image i), and each sample keeps its best restart, as a
run without samples does. Sample 0 starts where a run without samples starts (z_init
itself, or its random z); sample k > 0 draws its start points from a seed of its own
(sample_key): z_init moved by Gaussian noise of ``sample_spread`` (SAMPLE_SPREAD, five
times a restart's RESTART_SPREAD: far enough to reach another face, near enough to stay
plausible) with its restarts around that as a run's restarts lie around z_init, or
without z_init random z of its own. So
``restarts`` keeps its meaning (the best of R tries) and ``samples`` asks for K different
answers. The samples are then ranked by their final total loss, and a diversity rule
measured on the hole keeps them apart: going down the ranking, a sample whose completion
differs from a better-ranked kept one by less than ``sample_distance`` (mean absolute
difference over the hole's pixels and channels, pixel values in [0, 1]) is marked not
distinct and moved after the distinct ones. Nothing is re-drawn to replace it: an image
gets between 1 and K distinct fills (a mask with no hole gets one). result.samples holds
all K, by rank; the result's other fields are rank 1's, the lowest loss. samples=1 is
exactly a run without samples.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from .blend import BLENDS, blend_frames, matched_gain, two_scale
from .config import SEED_MAX
from .images import to_float, to_uint8
from .losses import (completion_loss, context_weights, contextual_loss, feature_penalty,
                     lowres_contextual_loss, perceptual_loss)
from .model import sample_z, split_generator

OPTIMIZERS = ("momentum", "adam")
ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8


@dataclasses.dataclass
class CompletionResult:
    """What ``complete`` found for B images; all pictures are uint8 (B, H, W, C).

    completed:  the final completions (known pixels of the input + hole of G(z), blended).
    generated:  G(z) for the chosen z, unblended (tail(h) when refined).
    z:          (B, z_dim) float32 in [-1, 1], the chosen latent of each image.
    contextual, perceptual, total: (B,) float32 losses of the final images.
    restart:    (B,) int, which of the restarts was kept for each image.
    iterations: (T,) int, the logged iterations: 0, out_interval, 2 out_interval, ..., n_iter,
                then n_iter + out_interval, ..., n_iter + refine when refined, and one
                more, n_iter + refine + detail_iter, with detail.
    trajectory: (T, B, H, W, C) uint8 completions at the logged iterations
                (trajectory[-1] == completed), for the chosen restart.
    generated_trajectory: (T, B, H, W, C) uint8 G's outputs at those iterations, unblended
                (generated_trajectory[-1] == generated): blend_frames of them with another
                method gives the trajectory that method would have given.
    trajectory_losses: (T, B, 3) float32 (contextual, perceptual, total) at those iterations.
    samples:    all the samples of each image, by rank (Samples); everything above is rank 1's.
    """
    completed: np.ndarray
    generated: np.ndarray
    z: np.ndarray
    contextual: np.ndarray
    perceptual: np.ndarray
    total: np.ndarray
    restart: np.ndarray
    iterations: np.ndarray
    trajectory: np.ndarray
    trajectory_losses: np.ndarray
    generated_trajectory: np.ndarray
    samples: "Samples"


@dataclasses.dataclass
class Samples:
    """The K = ``samples`` fills of each of B images (complete(samples=K)), by rank: [i, 0]
    is image i's lowest final total loss, and the distinct fills (the diversity rule of the
    module doc) come before the others, each group by rising loss.

    completed:  (B, K, H, W, C) uint8 completions, blended as result.completed.
    generated:  (B, K, H, W, C) uint8 G's outputs (tail(h) when refined).
    z:          (B, K, z_dim) float32, each fill's latent.
    losses:     (B, K, 3) float32 final (contextual, perceptual, total).
    trajectory_losses: (T, B, K, 3) float32 those losses at the logged iterations.
    sample:     (B, K) int, the start point of each rank (0: where a run without samples
                starts; see start_points).
    restart:    (B, K) int, the restart kept for each.
    distinct:   (B, K) bool, False for a fill too close to a better one in the hole.
    """
    completed: np.ndarray
    generated: np.ndarray
    z: np.ndarray
    losses: np.ndarray
    trajectory_losses: np.ndarray
    sample: np.ndarray
    restart: np.ndarray
    distinct: np.ndarray

    def count(self) -> np.ndarray:
        """(B,) int: how many distinct fills each image has (1 to K; they are [i, :count])."""
        return self.distinct.sum(axis=1)


# --- pieces used by complete() ---------------------------------------------------------

def sample_key(seed: int, index: int, sample: int):
    """The seed pair of ``sample`` of image ``index``: (seed, index) itself for sample 0 (a
    run without samples starts from it), else a pair folded from it and ``sample``, so
    that each sample's start points depend on nothing else (not on samples or restarts)."""
    if sample == 0:
        return seed, index
    fold = tf.random.experimental.stateless_fold_in
    return tf.cast(fold(fold(tf.constant([seed, index], tf.int64), 0), sample), tf.int64)


def initial_z(count: int, restarts: int, z_dim: int, seed: int, first_index: int = 0,
              samples: int = 1) -> tf.Tensor:
    """(samples * restarts * count, z_dim) random start points: restart r of sample k of
    image i at row (k * restarts + r) * count + i, drawn from sample_key(seed,
    first_index + i, k) only (for sample 0 the seed pair (seed, first_index + i))."""
    rows = []
    for k in range(samples):
        per_image = [sample_z(restarts, z_dim, sample_key(seed, first_index + i, k))
                     for i in range(count)]
        rows.append(tf.reshape(tf.transpose(tf.stack(per_image), [1, 0, 2]),
                               (restarts * count, z_dim)))
    return tf.concat(rows, axis=0)


# Restarts around a given start point (z_init): restart k > 0 of image i starts at
# clip(z_init_i + RESTART_SPREAD * n, -1, 1), n ~ N(0, I) drawn from (seed, index, k).
RESTART_SPREAD = 0.1
# Samples around it (complete(samples=K); the module doc): sample k > 0 starts at
# clip(z_init_i + sample_spread * n, -1, 1). On 50 validation faces ("select" split,
# centre mask, 4 samples, the bundled model's encoder and budget) spreads 0.25 / 0.5 / 1 / 2
# gave fills differing in the hole by 0.025 / 0.042 / 0.062 / 0.074 on average (mean
# absolute difference, pixels in [0, 1]), with the samples' mean loss 6 / 20 / 54 / 90 %
# above rank 1's (20 + 20 iterations do not bring a far start back) and rank 1's hole
# PSNR the same: 0.5 is far enough for another face and near enough to stay plausible.
SAMPLE_SPREAD = 0.5
# The diversity rule's least distance in the hole between two kept fills (mean absolute
# difference, pixel values in [0, 1]): about 5 grey levels, a fill hardly told apart from
# the better one (at spread 0.5, one pair in ten of those 50 faces was closer than 0.025).
SAMPLE_DISTANCE = 0.02


# The two-scale fill (detail=True; the module doc): one iteration on the sphere from the
# z the descent found, and the split between the two fills at a Gaussian of sigma 1 px.
# On the 128-px select split (100 faces, the bundled 128-px model), centre / left half /
# strokes hole PSNR and sharpness in the hole at 1:1: the refined fill (the defaults)
# 21.05 / 0.41, 16.56 / 0.40, 23.65 / 0.45; the sphere's fill 19.83 / 0.89, 14.90 / 1.00,
# 21.49 / 0.93. Split at sigma 1 / 1.5 / 2 after 20 iterations on the sphere (merging
# the two completions afterwards): centre 20.99 / 0.73, 20.91 / 0.81, 20.82 / 0.84; left
# 16.52 / 0.79, 16.47 / 0.89, 16.41 / 0.94; strokes 23.52 / 0.75, 23.34 / 0.84, 23.14 /
# 0.88; as built (merged before the Poisson blend) 20 iterations at sigma 1.5 gave 20.90 /
# 0.80, 16.47 / 0.89, 23.30 / 0.84. Fewer iterations keep more of the sphere's detail
# (the descent on the sphere smooths G's image as it fits the known pixels): after one,
# sigma 1 gives 20.90 / 0.92, 16.47 / 1.09, 23.29 / 1.03 and sigma 1.5 20.74 / 1.06,
# 16.38 / 1.27, 22.94 / 1.19, so sigma 1 is again the smallest with 0.8 (issue 24's
# target) on every mask, at the same hole PSNR as 20 iterations at 1.5 and 0.06 s a
# face less. For a completion network's fills (inference.DetailedCompleter, from the
# encoder's z) the same choice gives 20.93 / 0.83, 16.15 / 0.93, 23.24 / 0.98 (20 at 1.5:
# 20.94 / 0.80, 16.16 / 0.82, 23.29 / 0.84) at 43 images/s instead of 11.
DETAIL_ITER = 1
DETAIL_SIGMA = 1.0
# The strength of the added detail (detail_gain): "match" scales each image's by
# blend.matched_gain, the photo's own fine detail over the sharp fill's on the known
# pixels within DETAIL_RING of the image's side of the hole (16 px at 128 px), clipped
# to DETAIL_GAIN_LIMITS; a number fixes it (1: G's detail as drawn, the versions before
# 2026-12-07's fourth session). On the 128-px select split (100
# faces, the bundled 128-px model), centre / left half / strokes hole PSNR and sharpness
# in the hole at 1:1, gain 1: 20.90 / 0.92, 16.47 / 1.09, 23.29 / 1.03; matched: 20.90 /
# 0.91, 16.46 / 1.05, 23.37 / 0.94, the same on the whole, but each source nearer its own
# detail: MEBeauty's sharp photos 0.48 / 0.54 / 0.57 -> 0.70 / 0.75 / 0.77, UTKFace's soft
# ones 1.81 / 2.56 / 1.85 -> 1.21 / 1.74 / 1.22 (mean |log ratio| over the faces 0.70 /
# 0.71 / 0.69 -> 0.41 / 0.47 / 0.42). Rings of 8 and 24 px and limits (0.5, 1.5),
# (0.5, 3) and (0.33, 3) measured within 0.05 dB and 0.13 of it (bench/README.md).
DETAIL_GAIN = "match"
DETAIL_RING = 0.125
DETAIL_GAIN_LIMITS = (0.5, 2.0)
# A completion network's detail takes G's image at the encoder's z moved onto the sphere,
# without iterating: the iteration changed the hole PSNR by at most 0.01 dB and the
# sharpness by at most 0.01 (above: 0 against 1 iteration; the same with the network
# shipped since, on the select and the report faces), and it was 0.31 s of a 64-face
# batch at 128 px (the network's own pass: 0.63 s).
NETWORK_DETAIL_ITER = 0
# Whether the commands' projection averages its fills with the bundled completion
# network's of the same side (complete(guide=...); dcgan-complete --withNetwork), with
# the bundled face models; and whether such a fill then takes the detail (GUIDE_DETAIL;
# --detail / --no-detail decide when given): the mean of two fills is smoother than
# either, and the detail gives it G's. On the 128-px select split (100 faces, the bundled
# 128-px models), centre / left half / strokes hole PSNR / sharpness at 1:1: the
# projection alone 21.05 / 0.41, 16.56 / 0.40, 23.65 / 0.45 (Navier-Stokes 19.06, 14.14,
# 21.19); averaged 21.88 / 0.14, 17.37 / 0.13, 24.64 / 0.16; averaged with the detail
# 21.66 / 0.86, 17.21 / 0.99, 24.20 / 0.89. Equal weights were set before measuring; the
# network's at 0.7 gained less than 0.1 dB (bench/README.md).
WITH_NETWORK = True
GUIDE_DETAIL = True


def prior_radius(z_dim: int) -> float:
    """sqrt(z_dim / 3): the norm about which z ~ U[-1, 1]^z_dim lies (E|z|^2 = z_dim / 3)."""
    return math.sqrt(z_dim / 3.0)


# Rescaling onto the sphere can push coordinates past [-1, 1] and clipping pulls the norm
# back under the radius: alternating the two three times ends within a few per cent of it
# (1 % on average for encoders' z; the cube's corner, at sqrt(d), is far outside sqrt(d / 3)),
# and the last step is the clip, so z stays in the prior's cube.
SPHERE_ROUNDS = 3


def onto_sphere(z, radius: float):
    """z (B, z_dim) moved onto the sphere |z| = ``radius`` and into [-1, 1]^z_dim: scaled to
    the radius, then clipped, SPHERE_ROUNDS times. A tf.Tensor for a tensor or an array."""
    z = tf.convert_to_tensor(z, tf.float32)
    for _ in range(SPHERE_ROUNDS):
        norm = tf.maximum(tf.norm(z, axis=-1, keepdims=True), 1e-12)
        z = tf.clip_by_value(z * (radius / norm), -1.0, 1.0)
    return z


def start_points(z_init, restarts: int, seed: int, first_index: int = 0, samples: int = 1,
                 spread: float = SAMPLE_SPREAD) -> tf.Tensor:
    """(samples * restarts * count, z_dim) start points around ``z_init`` (count, z_dim).

    Restart r of sample k of image i is row (k * restarts + r) * count + i, drawn from
    key = sample_key(seed, first_index + i, k) alone: sample k's centre c is z_init_i
    (k = 0) or clip(z_init_i + spread * n, -1, 1) with n ~ N(0, I) from key, and restart
    r > 0 starts at clip(c + RESTART_SPREAD * n_r, -1, 1), n_r from key folded with r.
    With one sample, row i is z_init_i itself and restart r lies near it, as it always has."""
    z_init = tf.convert_to_tensor(z_init, tf.float32)
    count, z_dim = z_init.shape
    fold = tf.random.experimental.stateless_fold_in
    rows = []
    for k in range(samples):
        keys = [tf.convert_to_tensor(sample_key(seed, first_index + i, k), tf.int64)
                for i in range(count)]

        def noise(r=None):                                           # (count, z_dim)
            return tf.stack([tf.random.stateless_normal((z_dim,), key if r is None else fold(key, r))
                             for key in keys])

        centre = z_init if k == 0 else tf.clip_by_value(z_init + spread * noise(), -1.0, 1.0)
        rows.append(centre)
        rows += [tf.clip_by_value(centre + RESTART_SPREAD * noise(r), -1.0, 1.0)
                 for r in range(1, restarts)]
    return tf.concat(rows, axis=0)


def adam_update(v, grad, s1, s2, t, lr: float):
    """One Adam step on ``v`` (any shape) at step count ``t`` (counting this one); s1, s2:
    the first and second moment estimates. Returns the new v, s1, s2."""
    b1, b2 = ADAM_BETAS
    s1 = b1 * s1 + (1.0 - b1) * grad
    s2 = b2 * s2 + (1.0 - b2) * tf.square(grad)
    m_hat, v_hat = s1 / (1.0 - b1 ** t), s2 / (1.0 - b2 ** t)
    return v - lr * m_hat / (tf.sqrt(v_hat) + ADAM_EPSILON), s1, s2


def logged_iterations(n: int, out_interval: int) -> list[int]:
    """0, out_interval, 2 out_interval, ..., and n itself."""
    return sorted(set(range(0, n + 1, out_interval)) | {n})


# --- the compiled loops ------------------------------------------------------------------
#
# Module-level tf.functions whose models and settings are arguments: TensorFlow keeps one
# graph per (models, settings) and batch shape (reduce_retracing: any batch size after the
# second), so the later batches of a run, and later calls with the same models (the web
# page, the evaluation), reuse it. Defined inside complete(), as they were, every call
# traced both again: 1.5-2 s a batch on the 2-core CPU (issue 25).

def image_losses(discriminator: keras.Model, g, x, w, *, lam: float, lowres_factor):
    """The per-image losses of images g (losses.py): contextual, perceptual, total (B,)
    each, against targets x (lowres_factor: x holds the block averages) and weights w."""
    perceptual = perceptual_loss(discriminator(g, training=False))
    if lowres_factor:
        contextual = lowres_contextual_loss(g, x, lowres_factor)
    else:
        contextual = contextual_loss(g, x, w)
    return contextual, perceptual, completion_loss(contextual, perceptual, lam)


def _z_step(generator, discriminator, z, s1, s2, t, x, w, *, optimizer, lr, momentum, radius,
            losses):
    """One optimiser step on z from the gradient of sum_i total_i; then onto [-1, 1], and
    with ``radius`` onto that sphere within it (onto_sphere)."""
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(z)
        _, _, total = image_losses(discriminator, generator(z, training=False), x, w, **losses)
        loss = tf.reduce_sum(total)
    grad = tape.gradient(loss, z)                                                # (B, z_dim)
    t = t + 1.0
    if optimizer == "momentum":     # Nesterov momentum as in Amos' blog; s1 = velocity
        v_prev, s1 = s1, momentum * s1 - lr * grad
        z = z - momentum * v_prev + (1.0 + momentum) * s1
    else:                           # Adam; s1, s2 = first and second moment estimates
        z, s1, s2 = adam_update(z, grad, s1, s2, t, lr)
    if radius is not None:
        return onto_sphere(z, radius), s1, s2, t
    return tf.clip_by_value(z, -1.0, 1.0), s1, s2, t


@tf.function(reduce_retracing=True)
def run_z(generator, discriminator, z, s1, s2, t, steps, x, w, *, optimizer: str, lr: float,
          momentum: float, lam: float, lowres_factor, radius: float | None = None):
    """``steps`` updates of z (B, z_dim) in one compiled loop, from optimiser state s1, s2
    and step count t, each kept on the sphere of ``radius`` if given; returns (z, s1, s2,
    t, contextual, perceptual, total, G(z))."""
    losses = dict(lam=lam, lowres_factor=lowres_factor)
    for _ in tf.range(steps):
        z, s1, s2, t = _z_step(generator, discriminator, z, s1, s2, t, x, w,
                               optimizer=optimizer, lr=lr, momentum=momentum, radius=radius,
                               losses=losses)
    g = generator(z, training=False)                                             # (B, H, W, C)
    return (z, s1, s2, t) + image_losses(discriminator, g, x, w, **losses) + (g,)


# A penalty rather than ILO's projection onto a ball around h0: the refinement stays one
# smooth objective that trades closeness to h0 against the known pixels per image (an
# image that G(z) already matches moves little), and needs no radius in units of each
# layer's feature norms; a huge weight gives back the unrefined result.
@tf.function(reduce_retracing=True)
def run_features(generator, discriminator, h, h0, s1, s2, t, steps, x, w, *, layer: int,
                 weight: float, lr: float, lam: float, lowres_factor):
    """``steps`` Adam updates of G's feature map h after block ``layer`` (B, s, s, width),
    each projected onto h >= 0; returns (h, s1, s2, t, contextual, perceptual, total,
    tail(h))."""
    tail = split_generator(generator, layer)[1]           # built while tracing, only then
    losses = dict(lam=lam, lowres_factor=lowres_factor)
    for _ in tf.range(steps):
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(h)
            _, _, total = image_losses(discriminator, tail(h, training=False), x, w, **losses)
            loss = tf.reduce_sum(total + feature_penalty(h, h0, weight))
        t = t + 1.0
        h, s1, s2 = adam_update(h, tape.gradient(loss, h), s1, s2, t, lr)
        h = tf.nn.relu(h)                     # back onto h >= 0, where G's features live
    g = tail(h, training=False)                                                  # (B, H, W, C)
    return (h, s1, s2, t) + image_losses(discriminator, g, x, w, **losses) + (g,)


def sphere_fill(z, x, w, generator: keras.Model, discriminator: keras.Model, *, steps: int,
                optimizer: str, lr: float, momentum: float, lam: float,
                lowres_factor) -> np.ndarray:
    """G's uint8 images (B, H, W, C) after ``steps`` updates of z (B, z_dim) kept on the
    prior's sphere, from z moved onto it and a fresh optimiser: the detail of complete's
    two-scale fill."""
    radius = prior_radius(z.shape[-1])
    start = onto_sphere(z, radius)
    if steps == 0:                       # G's image there: no losses, no discriminator
        return to_uint8(generator(start, training=False))
    zeros = tf.zeros_like(start)
    *_, g = run_z(generator, discriminator, start, zeros, zeros, tf.constant(0.0),
                  tf.constant(steps), x, w, optimizer=optimizer, lr=lr, momentum=momentum,
                  lam=lam, lowres_factor=lowres_factor, radius=radius)
    return to_uint8(g)


def add_detail(images: np.ndarray, masks: np.ndarray, fills: np.ndarray,
               generator: keras.Model, discriminator: keras.Model, z: np.ndarray,
               settings: dict, *, steps: int | None = None) -> np.ndarray:
    """uint8 completions (B, H, W, C): ``fills`` (uint8, e.g. a completion network's) with
    the high frequencies of G's fill found on the prior's sphere from ``z`` (B, z_dim), e.g.
    the encoder's for the masked images, after ``steps`` iterations there (default:
    settings['detail_iter']; 0: G's image at z on the sphere), blended into the known
    pixels of ``images``: the two-scale fill of complete(detail=True) for fills that come
    from elsewhere. ``settings``: complete()'s (default_settings()); optimizer, lr,
    momentum, lam, weighted_context, detail_iter, detail_sigma, detail_gain and blend are
    used."""
    masks = np.asarray(masks, np.float32)
    _check_inputs(images, masks, generator, None)
    x = to_float(images)                                                         # (B, H, W, C)
    w = context_weights(masks, settings["weighted_context"])                     # (B, H, W, 1)
    sharp = sphere_fill(np.asarray(z, np.float32), x, w, generator, discriminator,
                        steps=settings["detail_iter"] if steps is None else steps,
                        optimizer=settings["optimizer"],
                        lr=float(settings["lr"]), momentum=float(settings["momentum"]),
                        lam=float(settings["lam"]), lowres_factor=None)
    merged = detailed(images, masks, fills, sharp, settings["detail_sigma"],
                      settings["detail_gain"])
    return blend_frames(images, masks, merged[None], settings["blend"])[0]


def averaged(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """uint8: the pixel-wise mean of two uint8 pictures of one shape, rounded."""
    return ((a.astype(np.uint16) + b.astype(np.uint16) + 1) // 2).astype(np.uint8)


def detailed(images: np.ndarray, masks: np.ndarray, fills: np.ndarray, sharp: np.ndarray,
             sigma: float, gain) -> np.ndarray:
    """uint8 (B, H, W, C): the two-scale fill, ``fills``' coarse content and ``sharp``'s
    fine detail at ``sigma`` (blend.two_scale), the detail times ``gain``: a number, or
    "match" for each image's blend.matched_gain (DETAIL_RING, DETAIL_GAIN_LIMITS)."""
    if gain == "match":
        ring = max(1, round(DETAIL_RING * images.shape[-2]))
        gain = matched_gain(images, masks, sharp, sigma, ring=ring, limits=DETAIL_GAIN_LIMITS)
    return two_scale(fills, sharp, sigma, gain)


def refine_features(z, x, w, generator: keras.Model, discriminator: keras.Model, *,
                    layer: int, steps: int, weight: float, lr: float, out_interval: int,
                    lam: float, lowres_factor):
    """Optimise G's feature map after block ``layer`` from h0 = head(z) (see the module doc).

    z (B, z_dim); x, w the targets and weights of image_losses. Yields (k, tail(h) as uint8
    (B, H, W, C), losses (B, 3)) at k = out_interval, 2 out_interval, ..., steps.
    """
    head = split_generator(generator, layer)[0]
    h0 = tf.cast(head(z, training=False), tf.float32)                # (B, s, s, width)
    h, s1, s2, t, done = h0, tf.zeros_like(h0), tf.zeros_like(h0), tf.constant(0.0), 0
    for k in logged_iterations(steps, out_interval)[1:]:
        h, s1, s2, t, *found = run_features(
            generator, discriminator, h, h0, s1, s2, t, tf.constant(k - done), x, w,
            layer=layer, weight=weight, lr=lr, lam=lam, lowres_factor=lowres_factor)
        done = k
        yield k, to_uint8(found[3]), np.stack([v.numpy() for v in found[:3]], axis=-1)


def projection_step(generator: keras.Model, discriminator: keras.Model, batch_size: int
                    ) -> Callable[[], np.ndarray]:
    """A call that returns one projection step's gradient (B, z_dim) (of the completion
    loss w.r.t. z, as complete() computes it) for ``batch_size`` grey images with a centre
    hole: the work whose speed precision.load_fastest_dcgan compares between precisions."""
    S, C = generator.output_shape[1], generator.output_shape[-1]
    x = tf.zeros((batch_size, S, S, C))                                          # grey
    m = np.ones((batch_size, S, S, 1), np.float32)
    m[:, S // 4:S - S // 4, S // 4:S - S // 4] = 0.0
    w = context_weights(m, 0)                                                    # (B, S, S, 1)
    z = tf.constant(initial_z(batch_size, 1, generator.input_shape[-1], 0, 0))   # (B, z_dim)
    lam = default_settings()["lam"]

    @tf.function
    def gradient(z):
        with tf.GradientTape() as tape:
            tape.watch(z)
            g = generator(z, training=False)
            perceptual = perceptual_loss(discriminator(g, training=False))
            total = completion_loss(contextual_loss(g, x, w), perceptual, lam)     # (B,)
            loss = tf.reduce_sum(total)
        return tape.gradient(loss, z)                                            # (B, z_dim)

    return lambda: gradient(z).numpy()


# The iteration budget by start point (issue 13; bench/README.md, "Time to quality"). From
# an encoder's z the hole is about as good as it gets at once: on 65 validation faces, 20
# steps on z and 20 refining G's features beat the 1000-step recipe on the centre, left-half
# and random-80 % masks in 0.17-0.19 s a face (bf16, batch 65, 2-core CPU; 30 + 30 gave the
# same quality in 0.25-0.31 s). From a random z the projection needs the recipe's 1000
# steps, unrefined (`--nIter 1000 --init random`).
START_BUDGETS = {"encoder": {"n_iter": 20, "refine": 20},
                 "random": {"n_iter": 1000, "refine": 0}}
STARTS = tuple(START_BUDGETS)


def start_of(start) -> str:
    """The START_BUDGETS name of a start point: "random" for None (a random z), "encoder"
    for anything else (an encoder, its path, or the z_init it gave)."""
    return "random" if start is None else "encoder"


def default_settings(start: str | None = None) -> dict:
    """complete()'s run settings and their defaults (its signature is the one place they
    live), with n_iter and refine None ("the start point's budget"), or with ``start``
    ("encoder" or "random") that start's START_BUDGETS.

    Leaves out what belongs to a batch rather than a run: first_index, lowres_factor (from
    the masks), z_init, guide and progress.
    """
    per_batch = ("first_index", "lowres_factor", "z_init", "guide", "progress")
    settings = {name: p.default for name, p in inspect.signature(complete).parameters.items()
                if p.kind is p.KEYWORD_ONLY and name not in per_batch}
    return settings if start is None else with_budget(settings, start)


def with_budget(settings: dict, start: str) -> dict:
    """``settings`` with n_iter and refine that are None set to the budget of ``start``."""
    budget = START_BUDGETS[start]
    return {**settings, **{k: v for k, v in budget.items() if settings.get(k) is None}}


# Settings only the projection has: a completion network (one forward pass, no z) cannot
# honour them. Name -> why, for the interfaces' messages (projection_only).
PROJECTION_ONLY = {
    "samples": "gives one fill per hole (it has no start point to vary)",
    "sphere": "has no z to keep on the prior's sphere",
}


def projection_only(settings: dict) -> list[str]:
    """The PROJECTION_ONLY settings that ``settings`` asks for (samples > 1, sphere on), in
    that order: what a completion network must refuse."""
    asked = {"samples": settings.get("samples", 1) > 1, "sphere": bool(settings.get("sphere"))}
    return [name for name in PROJECTION_ONLY if asked[name]]


def check_settings(*, n_iter: int | None, out_interval: int, restarts: int, optimizer: str,
                   blend: str, weighted_context: int, lr: float | None = None,
                   momentum: float | None = None, lam: float | None = None,
                   tol: float | None = None, refine: int | None = 0, refine_layer: int = 0,
                   refine_weight: float | None = None, refine_lr: float | None = None,
                   samples: int = 1, sample_spread: float | None = None,
                   sample_distance: float | None = None, detail_iter: int = DETAIL_ITER,
                   detail_sigma: float | None = DETAIL_SIGMA, detail_gain=DETAIL_GAIN,
                   **other) -> None:
    """Raise ValueError for settings ``complete`` cannot use (callers may check before loading data).

    A NaN or infinite number is refused: it would not fail, but make black G(z), NaN
    losses and completions written as if fine.
    """
    numbers = dict(n_iter=n_iter, out_interval=out_interval, restarts=restarts,
                   weighted_context=weighted_context, lr=lr, momentum=momentum, lam=lam, tol=tol,
                   refine=refine, refine_layer=refine_layer, refine_weight=refine_weight,
                   refine_lr=refine_lr, samples=samples, sample_spread=sample_spread,
                   sample_distance=sample_distance, detail_iter=detail_iter,
                   detail_sigma=detail_sigma)
    for name, value in numbers.items():
        if value is not None and not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if (n_iter is not None and n_iter < 0) or out_interval < 1 or restarts < 1:
        raise ValueError(f"need n_iter >= 0, out_interval >= 1 and restarts >= 1; got {n_iter}, "
                         f"{out_interval} and {restarts}")
    for name, value in (("lr", lr), ("refine_lr", refine_lr)):
        if value is not None and value <= 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")
    if (refine is not None and refine < 0) or refine_layer < 0:
        raise ValueError(f"need refine >= 0 and refine_layer >= 0; got {refine} and {refine_layer}")
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples!r}")
    for name, value in (("sample_spread", sample_spread), ("sample_distance", sample_distance)):
        if value is not None and value < 0:
            raise ValueError(f"{name} must be >= 0, got {value!r}")
    if detail_iter < 1 or (detail_sigma is not None and detail_sigma <= 0):
        raise ValueError(f"need detail_iter >= 1 and detail_sigma > 0; got {detail_iter!r} and "
                         f"{detail_sigma!r}")
    if detail_gain != "match" and not (isinstance(detail_gain, (int, float))
                                       and math.isfinite(detail_gain) and detail_gain >= 0):
        raise ValueError(f"detail_gain must be 'match' or a finite number >= 0, got "
                         f"{detail_gain!r}")
    if refine_weight is not None and refine_weight < 0:
        raise ValueError(f"refine_weight must be >= 0, got {refine_weight!r}")
    if momentum is not None and not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if lam is not None and lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam!r}")
    if tol is not None and tol < 0:
        raise ValueError(f"tol must be >= 0 (0: no stopping rule), got {tol!r}")
    seed = other.get("seed")
    if seed is not None and not 0 <= seed <= SEED_MAX:
        raise ValueError(f"seed must be a whole number from 0 to {SEED_MAX}, got {seed!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
    if blend not in BLENDS:
        raise ValueError(f"unknown blend {blend!r}; choose from {', '.join(BLENDS)}")
    if weighted_context < 0 or (weighted_context and weighted_context % 2 == 0):
        raise ValueError(f"weighted_context must be 0 (off) or an odd window size, got {weighted_context}")


def best_rows(total: np.ndarray, count: int) -> np.ndarray:
    """(count,) the row of the lowest ``total`` of each image i among its rows k * count + i."""
    return np.argmin(total.reshape(-1, count), axis=0) * count + np.arange(count)


def hole_distance(a: np.ndarray, b: np.ndarray, hole: np.ndarray) -> float:
    """The mean absolute difference of uint8 pictures ``a`` and ``b`` (H, W, C) over the
    pixels where ``hole`` (H, W) is True and their channels, pixel values in [0, 1]; 0 for
    an empty hole."""
    if not hole.any():
        return 0.0
    return float(np.abs(a[hole].astype(np.float32) - b[hole]).mean() / 255.0)


def rank_samples(total: np.ndarray, completed: np.ndarray, masks: np.ndarray,
                 min_distance: float) -> tuple[np.ndarray, np.ndarray]:
    """The ranking of K samples of B images and the diversity rule (module doc).

    total (K, B) final total losses; completed (K, B, H, W, C) uint8; masks (B, H, W, 1),
    0 = the hole. Returns order (B, K), the samples of each image by rank, and distinct
    (B, K): going down the ranking by loss, a sample closer than ``min_distance``
    (hole_distance) to a distinct one is not distinct, and moves after the distinct ones.
    """
    K, B = total.shape
    order, distinct = np.zeros((B, K), int), np.zeros((B, K), bool)
    for i in range(B):
        hole = masks[i, ..., 0] == 0
        kept, dropped = [], []
        for k in np.argsort(total[:, i], kind="stable"):
            near = any(hole_distance(completed[k, i], completed[j, i], hole) < min_distance
                       for j in kept)
            (dropped if near else kept).append(k)
        order[i], distinct[i, :len(kept)] = kept + dropped, True
    return order, distinct


def _check_inputs(images, masks, generator, lowres_factor):
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(f"images must be uint8 (B, H, W, C), got {images.dtype} {images.shape}")
    if len(images) == 0:
        raise ValueError("no images to complete")
    want = tuple(generator.output_shape[1:])
    if images.shape[1:] != want:
        raise ValueError(f"images are {'x'.join(map(str, images.shape[1:]))} but the generator "
                         f"makes {'x'.join(map(str, want))}")
    if masks.shape != images.shape[:3] + (1,):
        raise ValueError(f"masks must be (B, H, W, 1) = {images.shape[:3] + (1,)}, got {masks.shape}")
    if lowres_factor and images.shape[1] % lowres_factor:
        raise ValueError(f"lowres_factor {lowres_factor} does not divide the image size {images.shape[1]}")


def _positional_arity(fn) -> int:
    """How many positional arguments ``fn`` accepts (a large number for *args)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):        # some builtins have no signature
        return 1
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return 2
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
               for p in params)


# --- the completion --------------------------------------------------------------------

def complete(images: np.ndarray, masks: np.ndarray, generator: keras.Model,
             discriminator: keras.Model, *, n_iter: int | None = None, lr: float = 0.01,
             momentum: float = 0.9, optimizer: str = "adam", lam: float = 0.003,
             weighted_context: int = 0, lowres_factor: int | None = None, restarts: int = 1,
             out_interval: int = 50, seed: int = 0, first_index: int = 0,
             blend: str = "poisson", tol: float = 0.0, refine: int | None = None,
             refine_layer: int = 0,
             refine_weight: float = 1000.0, refine_lr: float = 0.03,
             samples: int = 1, sample_spread: float = SAMPLE_SPREAD,
             sample_distance: float = SAMPLE_DISTANCE, sphere: bool = False,
             detail: bool = False, detail_iter: int = DETAIL_ITER,
             detail_sigma: float = DETAIL_SIGMA, detail_gain: float | str = DETAIL_GAIN,
             z_init: np.ndarray | None = None, guide: np.ndarray | None = None,
             progress: Callable[..., None] | None = None) -> CompletionResult:
    """Complete uint8 ``images`` (B, H, W, C) where ``masks`` (B, H, W, 1) is 0; see the module doc.

    ``n_iter`` and ``refine`` left None take the budget of the start point
    (START_BUDGETS: a short one from ``z_init``, the recipe's 1000 steps from random z).
    ``first_index`` is the index of images[0] in the whole run: image i starts from
    z drawn from (seed, first_index + i), so results do not depend on the batching.
    ``z_init`` (B, z_dim) in [-1, 1], e.g. an encoder's (encoder.encode), replaces that
    random start: restart 0 starts at z_init itself, the others near it (start_points).
    ``tol`` > 0 stops each image (each restart) whose total loss changed by less than
    ``tol`` relatively between two logged iterations: its z is final, and it leaves the
    batch, so a finished image stops costing. ``refine`` > 0 then optimises G's feature
    map after block ``refine_layer`` (module doc) for that many iterations, logged as
    n_iter + k; result.z stays the z. ``progress(iteration)`` is called at each
    logged iteration; a ``progress`` that takes two arguments is called
    ``progress(iteration, completed)`` with the completions so far, uint8 (B, H, W, C),
    blended as the final ones (the best start point at that iteration). ``samples`` = K > 1
    gives K fills per image from K start points (sample_spread around z_init, or random),
    ranked by loss and kept apart by the diversity rule (sample_distance): result.samples
    (module doc). ``sphere`` keeps z on the prior's sphere (module doc): sharper fills,
    a lower hole PSNR. ``detail`` adds the high frequencies of a fill found on the sphere
    (``detail_iter`` iterations from the chosen z) to each final fill's low frequencies
    (split at a Gaussian of ``detail_sigma`` px), times ``detail_gain`` ("match": as
    strong as the image's own around the hole; DETAIL_GAIN), logged as one more iteration
    (module doc): about twice the detail for a few tenths of a dB. ``guide``, uint8
    (B, H, W, C), another method's fills of the same images (a completion network's):
    each sample's final fill becomes the mean of G's and the guide's, before the detail
    (module doc). Writes no files.
    """
    budget = with_budget(dict(n_iter=n_iter, refine=refine), start_of(z_init))
    n_iter, refine = budget["n_iter"], budget["refine"]
    masks = np.asarray(masks, np.float32)
    check_settings(n_iter=n_iter, out_interval=out_interval, restarts=restarts,
                   optimizer=optimizer, blend=blend, weighted_context=weighted_context,
                   lr=lr, momentum=momentum, lam=lam, tol=tol, refine=refine,
                   refine_layer=refine_layer, refine_weight=refine_weight, refine_lr=refine_lr,
                   samples=samples, sample_spread=sample_spread, sample_distance=sample_distance,
                   detail_iter=detail_iter, detail_sigma=detail_sigma,
                   detail_gain=detail_gain)
    _check_inputs(images, masks, generator, lowres_factor)
    B, S, R = len(images), samples, restarts
    K = S * R                                                    # start points per image
    z_dim = generator.input_shape[-1]
    if z_init is not None:
        z_init = np.asarray(z_init, np.float32)
        if z_init.shape != (B, z_dim) or not np.isfinite(z_init).all():
            raise ValueError(f"z_init must be finite (B, z_dim) = {(B, z_dim)}, got "
                             f"{z_init.dtype} {z_init.shape}")
    if guide is not None:
        guide = np.asarray(guide)
        if guide.dtype != np.uint8 or guide.shape != images.shape:
            raise ValueError(f"guide must be uint8 {images.shape} like the images, got "
                             f"{guide.dtype} {guide.shape}")

    # Targets, tiled for the K start points: row k * B + i is start point k of image i,
    # k = s * R + r restart r of sample s.
    x = tf.tile(to_float(images), [K, 1, 1, 1])                                  # (KB, H, W, C)
    w = tf.tile(context_weights(masks, weighted_context), [K, 1, 1, 1])          # (KB, H, W, 1)
    if lowres_factor:
        x = tf.nn.avg_pool2d(x, lowres_factor, lowres_factor, "VALID")           # (KB, H/f, W/f, C)

    # The compiled loops' settings (run_z, run_features): a Python literal each, part of
    # TensorFlow's key for their graphs.
    losses = dict(lam=float(lam), lowres_factor=int(lowres_factor) if lowres_factor else None)
    radius = prior_radius(z_dim) if sphere else None
    optimise = dict(optimizer=optimizer, lr=float(lr), momentum=float(momentum), radius=radius,
                    **losses)

    # Optimise: Python only between logged iterations 0, out_interval, ..., n_iter, on the
    # rows still moving (all of them unless tol stops some): the others keep their state.
    if z_init is None:
        z = initial_z(B, R, z_dim, seed, first_index, S)                         # (KB, z_dim)
    else:
        z = start_points(np.clip(z_init, -1.0, 1.0), R, seed, first_index, S, sample_spread)
    if sphere:
        z = onto_sphere(z, radius)                                               # (KB, z_dim)
    z = np.array(z, np.float32)
    s1, s2, t = np.zeros_like(z), np.zeros_like(z), tf.constant(0.0)
    logged = logged_iterations(n_iter, out_interval)
    wants_images = progress is not None and _positional_arity(progress) >= 2

    def report(it, frame):          # progress at iteration it; frame (B, H, W, C) uint8 G's
        if wants_images:
            progress(it, blend_frames(images, masks, frame[None], blend)[0])
        elif progress is not None:
            progress(it)

    frames, frame_losses, done = [], [], 0
    moving = np.arange(K * B)                                                    # rows optimised
    image = np.zeros((K * B,) + images.shape[1:], np.uint8)                      # G(z), uint8
    losses_now = np.zeros((K * B, 3), np.float32)                                # (KB, 3)
    x_r, w_r = x, w                                # the moving rows' targets and weights
    for it in logged:
        r = moving
        z_r, s1_r, s2_r, t, *found = run_z(generator, discriminator, tf.constant(z[r]),
                                           tf.constant(s1[r]), tf.constant(s2[r]), t,
                                           tf.constant(it - done), x_r, w_r, **optimise)
        done = it
        z[r], s1[r], s2[r] = z_r.numpy(), s1_r.numpy(), s2_r.numpy()
        previous = losses_now[r, 2].copy()
        losses_now[r] = np.stack([v.numpy() for v in found[:3]], axis=-1)
        image[r] = to_uint8(found[3])
        frames.append(image.copy())                                              # (KB, H, W, C)
        frame_losses.append(losses_now.copy())                                   # (KB, 3)
        if tol and it > 0:   # settled: the loss changed by less than tol since the last log
            change = np.abs(previous - losses_now[r, 2]) / np.maximum(np.abs(previous), 1e-12)
            moving = r[change >= tol]
            if len(moving) < len(r):               # gathered only when some rows stopped
                x_r, w_r = tf.gather(x, moving), tf.gather(w, moving)
        report(it, frames[-1][best_rows(frame_losses[-1][:, 2], B)])
        if not len(moving):
            break
    # Images that stopped early keep their last state in the remaining logged frames.
    frames += [frames[-1]] * (len(logged) - len(frames))
    frame_losses += [frame_losses[-1]] * (len(logged) - len(frame_losses))
    frames, frame_losses = np.stack(frames), np.stack(frame_losses)   # (T, KB, H, W, C), (T, KB, 3)

    # Keep, per image and sample, the restart with the lowest final total loss: row s * B + i.
    restart = np.argmin(frame_losses[-1, :, 2].reshape(S, R, B), axis=1)         # (S, B)
    rows = ((np.arange(S)[:, None] * R + restart) * B + np.arange(B)).reshape(-1)
    frames, frame_losses = frames[:, rows], frame_losses[:, rows]     # (T, SB, ...)
    z = z[rows]

    # Refine beyond z (optional): G's feature map, from where z ended, logged as n_iter + k.
    if refine:
        stage = refine_features(z, tf.gather(x, rows), tf.gather(w, rows), generator,
                                discriminator, layer=refine_layer, steps=refine,
                                weight=float(refine_weight), lr=float(refine_lr),
                                out_interval=out_interval, **losses)
        more = []
        for k, frame, found in stage:                    # (SB, H, W, C) uint8, (SB, 3)
            report(n_iter + k, frame[best_rows(found[:, 2], B)])
            more.append((n_iter + k, frame, found))
        logged += [it for it, _, _ in more]
        frames = np.concatenate([frames, np.stack([f for _, f, _ in more])])
        frame_losses = np.concatenate([frame_losses, np.stack([v for _, _, v in more])])

    # Each sample's rows of the inputs: row s * B + i is sample s of image i.
    images_s, masks_s = np.tile(images, (S, 1, 1, 1)), np.tile(masks, (S, 1, 1, 1))

    # Guide (optional): each sample's last fill averaged with the other method's fill of
    # its image, two estimates of the hole whose errors partly cancel (module doc).
    if guide is not None:
        frames[-1] = averaged(frames[-1], np.tile(guide, (S, 1, 1, 1)))      # (SB, H, W, C)

    # Detail (optional): the high frequencies of a fill found on the prior's sphere from
    # each sample's z, over the low frequencies of the fill so far; one more logged frame.
    if detail:
        sharp = sphere_fill(z, tf.gather(x, rows), tf.gather(w, rows), generator,
                            discriminator, steps=detail_iter, optimizer=optimizer, lr=float(lr),
                            momentum=float(momentum), **losses)                # (SB, H, W, C)
        frame = detailed(images_s, masks_s, frames[-1], sharp, detail_sigma, detail_gain)
        logged = list(logged) + [logged[-1] + detail_iter]
        report(logged[-1], frame[best_rows(frame_losses[-1, :, 2], B)])
        frames = np.concatenate([frames, frame[None]])
        frame_losses = np.concatenate([frame_losses, frame_losses[-1:]])

    # Blend: known pixels from the input, hole from G(z), at every logged iteration.
    trajectory = blend_frames(images_s, masks_s, frames, blend)          # (T, SB, H, W, C)
    frame_losses = frame_losses.astype(np.float32)

    # Rank each image's samples by loss, the diversity rule on the hole (rank_samples);
    # ranked[i, k] is the row of rank k of image i, and rank 1 is the result.
    shape = (S, B) + images.shape[1:]
    order, distinct = rank_samples(frame_losses[-1, :, 2].reshape(S, B),
                                   trajectory[-1].reshape(shape), masks, sample_distance)
    ranked = order * B + np.arange(B)[:, None]                                   # (B, S)
    top = ranked[:, 0]
    final = frame_losses[-1, top]
    return CompletionResult(
        completed=trajectory[-1, top], generated=frames[-1, top], z=z[top],
        contextual=final[:, 0], perceptual=final[:, 1], total=final[:, 2],
        restart=restart[order[:, 0], np.arange(B)], iterations=np.asarray(logged),
        trajectory=trajectory[:, top], trajectory_losses=frame_losses[:, top],
        generated_trajectory=frames[:, top],
        samples=Samples(completed=trajectory[-1][ranked], generated=frames[-1][ranked],
                        z=z[ranked], losses=frame_losses[-1][ranked],
                        trajectory_losses=frame_losses[:, ranked], sample=order,
                        restart=np.take_along_axis(restart.T, order, axis=1),
                        distinct=distinct))


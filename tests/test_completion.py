"""Completion: masks, the projected-gradient engine and the dcgan-complete CLI.

All on a tiny 16x16 model whose generator kernels are re-drawn with He scaling, so that
an untrained G still makes varied images (the DCGAN's N(0, 0.02) init makes near-flat ones).
"""

import csv
import logging
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from dcgan_completion import blend, checkpoints, completion, images, masks
from dcgan_completion.cli import complete as complete_cli
from dcgan_completion.config import ModelConfig, save_config
from dcgan_completion.model import build_discriminator, build_generator, sample_z, split_generator

from conftest import write_toy_faces

S = 16
TINY = ModelConfig(image_size=S, channels=3, z_dim=16, gf_dim=8, df_dim=8)
QUICK = dict(n_iter=20, out_interval=10, blend="none")


def he_rescaled(generator, seed=0):
    """Re-draw every kernel of ``generator`` as N(0, 2 / fan_in): varied images without training."""
    rng = np.random.default_rng(seed)
    for v in generator.weights:
        if "kernel" in v.path:
            shape = v.shape
            if "g_h0" in v.path or len(shape) == 2:
                fan_in = shape[0]
            else:   # Conv2DTranspose kernel (k, k, out, in), stride 2: ~k*k*in/4 inputs per output
                fan_in = shape[0] * shape[1] * shape[3] / 4
            v.assign(rng.normal(0.0, np.sqrt(2.0 / fan_in), shape).astype(np.float32))
    return generator


@pytest.fixture(scope="module")
def models():
    tf.keras.utils.set_random_seed(1)
    return he_rescaled(build_generator(TINY)), build_discriminator(TINY)


@pytest.fixture(scope="module")
def targets(models):
    """Four images the generator can make exactly: y = G(z*) for hidden z*."""
    G, _ = models
    z_star = sample_z(4, TINY.z_dim, (123, 4))
    return images.to_uint8(G(z_star, training=False)), z_star.numpy()


@pytest.fixture(scope="module")
def checkpoint(models, tmp_path_factory):
    G, D = models
    folder = str(tmp_path_factory.mktemp("ckpt"))
    tf.train.Checkpoint(generator=G, discriminator=D).save(os.path.join(folder, "ckpt"))
    save_config(TINY, folder)
    return folder


def result_fields(result) -> dict:
    """Every array of a CompletionResult, its samples' as samples.<name>."""
    fields = {k: v for k, v in vars(result).items() if k != "samples"}
    return {**fields, **{f"samples.{k}": v for k, v in vars(result.samples).items()}}


def assert_same_result(a, b):
    """Two CompletionResults equal in every field, bit for bit."""
    fa, fb = result_fields(a), result_fields(b)
    assert fa.keys() == fb.keys()
    for field, value in fb.items():
        np.testing.assert_array_equal(fa[field], value, err_msg=field)


def psnr(a, b):
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-12))


# --- masks ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, known", [
    ("center", S * S - (12 - 4) ** 2),          # rows/cols [4, 12) hidden at scale 0.25
    ("random", S * S - round(0.8 * S * S)),      # 80% missing by default
    ("left", S * S // 2),
    ("full", S * S),
    ("grid", (S // 4) ** 2),                     # every 4th pixel in both directions
    ("lowres", 0),                               # nothing known pixel-wise
])
def test_mask_shapes_and_known_counts(kind, known):
    m = masks.MaskSpec(kind, S, seed=5).masks(3)
    assert m.values.shape == (3, S, S, 1) and m.values.dtype == np.float32
    assert set(np.unique(m.values)) <= {0.0, 1.0}
    assert [int(v.sum()) for v in m.values] == [known] * 3
    assert m.lowres_factor == (8 if kind == "lowres" else None)


def test_mask_definitions():
    c = masks.center_mask(64, 0.25)[..., 0]
    assert c[16:48, 16:48].sum() == 0 and c.sum() == 64 * 64 - 32 * 32
    assert masks.left_mask(S)[:, :S // 2].sum() == 0 and masks.left_mask(S)[:, S // 2:].min() == 1
    g = masks.grid_mask(S)[..., 0]
    assert g[::4, ::4].min() == 1 and g.sum() == 16
    spec = masks.MaskSpec("random", S, seed=1)
    r1, r2 = spec.masks(2).values, spec.masks(2).values
    assert np.array_equal(spec.masks(5).values[3], spec.for_index(3))    # image i's mask alone
    assert np.array_equal(r1, r2) and not np.array_equal(r1[0], r1[1])    # seeded, per image
    assert not np.array_equal(r1, masks.MaskSpec("random", S, seed=2).masks(2).values)
    with pytest.raises(masks.MaskError, match="center scale must be in"):
        masks.MaskSpec("center", S, scale=0.7)
    with pytest.raises(masks.MaskError, match="needs a mask file"):
        masks.MaskSpec("file", S)
    with pytest.raises(masks.MaskError, match="cannot read a mask file"):
        masks.MaskSpec("center", S, file="m.png")
    with pytest.raises(masks.MaskError, match="divisible by 8"):
        masks.MaskSpec("lowres", 20)
    with pytest.raises(masks.MaskError, match="not made"):
        masks.MaskSpec("file", S, file="m.png").for_index(0)
    assert masks.MaskSpec.create(None, S, file="m.png").kind == "file"
    assert masks.MaskSpec.create(None, S, scale=None) == masks.MaskSpec("center", S)   # None: default


def test_stroke_masks_are_seeded_per_image_and_cover_the_documented_range():
    spec = masks.MaskSpec("strokes", 64, seed=4)
    m = spec.masks(120).values
    np.testing.assert_array_equal(m[7], spec.for_index(7))              # image i's alone
    np.testing.assert_array_equal(m[:3], masks.MaskSpec("strokes", 64, seed=4).masks(3).values)
    assert not np.array_equal(m[:3], masks.MaskSpec("strokes", 64, seed=5).masks(3).values)
    missing = 1 - m.mean(axis=(1, 2, 3))
    assert missing.min() >= 0.03 and missing.max() <= 0.50                # the documented range
    assert 0.15 <= missing.mean() <= 0.27
    assert set(np.unique(m)) == {0.0, 1.0}


def test_mask_files(tmp_path):
    pattern = np.zeros((32, 32), np.uint8)
    pattern[:, 16:] = 200                       # right half white = known, resized 32 -> 16
    Image.fromarray(pattern).save(tmp_path / "shared.png")
    spec = masks.MaskSpec("file", S, file=str(tmp_path / "shared.png"))
    reader = spec.reader()
    shared = spec.stack([spec.for_image(p, i, reader=reader) for i, p in enumerate(["a.jpg", "b.png"])])
    assert shared.values.shape == (2, S, S, 1)
    assert shared.values[0, :, :8].sum() == 0 and shared.values[0, :, 8:].min() == 1
    inverted = masks.MaskSpec("file", S, file=str(tmp_path / "shared.png"), invert=True)
    assert np.array_equal(inverted.for_image("a.jpg", 0, reader=inverted.reader()), 1 - shared.values[0])

    folder = tmp_path / "masks"
    folder.mkdir()
    Image.fromarray(pattern).save(folder / "a.png")
    Image.fromarray(255 - pattern).save(folder / "b.png")
    spec = masks.MaskSpec("file", S, file=str(folder))
    per_image = spec.stack([spec.for_image(p, i, reader=spec.reader())
                            for i, p in enumerate(["photos/a.jpg", "other/b.png"])])
    assert np.array_equal(per_image.values[0], 1 - per_image.values[1])
    with pytest.raises(masks.MaskError, match="c.png"):
        masks.MaskFile(str(folder), S).for_image("photos/c.png")
    (tmp_path / "junk.png").write_text("not an image")
    with pytest.raises(masks.MaskError, match="junk.png"):
        masks.MaskSpec("file", S, file=str(tmp_path / "junk.png")).reader()


# --- the engine ----------------------------------------------------------------------------

def test_per_image_masks_and_known_pixels(models, targets):
    G, D = models
    y, _ = targets
    m = np.stack([masks.center_mask(S), masks.left_mask(S), masks.grid_mask(S),
                  masks.random_mask(S, 0.5, (0, 3))])
    r = completion.complete(y, m, G, D, **QUICK)
    for i in range(4):
        known = m[i, ..., 0] == 1
        assert np.array_equal(r.completed[i][known], y[i][known])          # exact, blend='none'
        assert np.array_equal(r.completed[i][~known], r.generated[i][~known])
    # Each image is completed on its own: alone (same first_index) gives the same result.
    alone = completion.complete(y[1:2], m[1:2], G, D, first_index=1, **QUICK)
    np.testing.assert_allclose(alone.z[0], r.z[1], atol=1e-4)


def test_z_is_projected_and_loss_falls(models, targets):
    G, D = models
    y, _ = targets
    m = masks.MaskSpec("center", S).masks(4).values
    r = completion.complete(y, m, G, D, n_iter=30, out_interval=10, lr=0.5, blend="none")
    assert r.z.shape == (4, TINY.z_dim)
    assert r.z.min() >= -1.0 and r.z.max() <= 1.0 and np.abs(r.z).max() == 1.0   # clipped
    for optimizer, lr in (("adam", 0.01), ("momentum", 0.001)):
        r = completion.complete(y, m, G, D, n_iter=60, out_interval=20, lr=lr,
                                optimizer=optimizer, blend="none")
        total = r.trajectory_losses[:, :, 2]                                 # (T, B)
        assert np.all(total[-1] < 0.8 * total[0]), (optimizer, total)
        assert np.allclose(r.total, total[-1])


def test_onto_sphere_moves_z_onto_the_priors_sphere_inside_the_cube():
    # E|z|^2 = d/3 for z ~ U[-1, 1]^d: prior samples lie within a few per cent of the radius.
    assert completion.prior_radius(300) == 10.0
    prior = sample_z(1000, 100, (5, 6)).numpy()
    assert np.mean(np.linalg.norm(prior, axis=1)) == pytest.approx(completion.prior_radius(100),
                                                                   rel=0.02)
    rng = np.random.default_rng(0)
    inside = np.clip(rng.normal(0.0, 0.35, (50, 100)), -1, 1).astype(np.float32)  # norm ~3.5
    moved = completion.onto_sphere(inside, completion.prior_radius(100)).numpy()
    assert moved.min() >= -1.0 and moved.max() <= 1.0
    norms = np.linalg.norm(moved, axis=1) / completion.prior_radius(100)
    assert norms.max() <= 1.0 + 1e-5 and norms.min() > 0.95
    on = np.full((2, 100), 3 ** -0.5, np.float32) * [[1], [-1]]   # already there: unchanged
    np.testing.assert_allclose(completion.onto_sphere(on, completion.prior_radius(100)), on,
                               rtol=1e-6)


def test_sphere_keeps_every_z_on_the_sphere_from_start_to_end(models, targets):
    G, D = models
    y, _ = targets
    m = masks.MaskSpec("center", S).masks(4).values
    small_z = 0.1 * sample_z(4, TINY.z_dim, (7, 7)).numpy()       # an encoder's z: near 0
    radius = completion.prior_radius(TINY.z_dim)
    r = completion.complete(y, m, G, D, z_init=small_z, sphere=True, restarts=2, samples=2,
                            **QUICK)
    for z in (r.z, r.samples.z.reshape(-1, TINY.z_dim)):
        assert np.abs(z).max() <= 1.0
        np.testing.assert_allclose(np.linalg.norm(z, axis=1), radius, rtol=0.05)
    total = r.trajectory_losses[:, :, 2]                                     # (T, B)
    assert np.all(total[-1] <= total[0])
    off = completion.complete(y, m, G, D, z_init=small_z, **QUICK)          # today's
    assert np.all(np.linalg.norm(off.z, axis=1) < 0.8 * radius)


def test_detail_adds_the_sphere_fills_fine_detail_as_one_more_logged_iteration(models, targets):
    G, D = models
    y, _ = targets
    m = masks.MaskSpec("center", S).masks(4).values
    small_z = 0.1 * sample_z(4, TINY.z_dim, (7, 7)).numpy()
    settings = dict(n_iter=20, out_interval=10, refine=4, z_init=small_z)
    plain = completion.complete(y, m, G, D, **settings)
    sharp = completion.complete(y, m, G, D, detail=True, detail_iter=6, **settings)
    # The same search, then one frame more at n_iter + refine + detail_iter.
    assert list(sharp.iterations) == list(plain.iterations) + [30]
    np.testing.assert_array_equal(sharp.trajectory[:-1], plain.trajectory)
    np.testing.assert_array_equal(sharp.z, plain.z)
    assert np.array_equal(sharp.trajectory[-1], sharp.completed)
    np.testing.assert_array_equal(sharp.total, plain.total)     # the losses of the fill before
    # Its G image is two_scale(the fill before, G on the sphere from that z): coarse content
    # from the first, and not the first itself.
    on_sphere = completion.sphere_fill(
        plain.z, tf.constant(images.to_float(y)), tf.constant(m), G, D, steps=6, optimizer="adam",
        lr=0.01, momentum=0.9, lam=0.003, lowres_factor=None)
    # Its detail is scaled to the photo's own (detail_gain "match", the default).
    gain = blend.matched_gain(y, m, on_sphere, completion.DETAIL_SIGMA,
                              ring=round(completion.DETAIL_RING * S), limits=completion.DETAIL_GAIN_LIMITS)
    np.testing.assert_array_equal(
        sharp.generated, blend.two_scale(plain.generated, on_sphere, completion.DETAIL_SIGMA, gain))
    assert not np.array_equal(sharp.generated, plain.generated)
    fixed = completion.complete(y, m, G, D, detail=True, detail_iter=6, detail_gain=1, **settings)
    np.testing.assert_array_equal(
        fixed.generated, blend.two_scale(plain.generated, on_sphere, completion.DETAIL_SIGMA))
    known = np.broadcast_to(m > 0.5, y.shape)
    np.testing.assert_array_equal(sharp.completed[known], y[known])      # known pixels kept
    two = completion.complete(y, m, G, D, detail=True, detail_iter=6, samples=2, **settings)
    assert two.samples.completed.shape[:2] == (4, 2) and list(two.iterations)[-1] == 30
    with pytest.raises(ValueError, match="detail_sigma > 0"):
        completion.complete(y, m, G, D, detail=True, detail_sigma=0.0, **settings)
    for bad in (-1.0, float("nan"), "loud"):
        with pytest.raises(ValueError, match="detail_gain must be 'match' or a finite number"):
            completion.complete(y, m, G, D, detail=True, detail_gain=bad, **settings)


def test_averaged_rounds_the_mean_half_up():
    a = np.array([0, 1, 254, 255, 10], np.uint8)
    b = np.array([1, 1, 255, 255, 13], np.uint8)
    np.testing.assert_array_equal(completion.averaged(a, b), [1, 1, 255, 255, 12])
    assert completion.averaged(a, b).dtype == np.uint8


def test_guide_averages_the_final_fill_with_another_methods_before_the_detail(models, targets):
    G, D = models
    y, _ = targets
    m = masks.MaskSpec("center", S).masks(4).values
    settings = dict(n_iter=8, out_interval=4, blend="none")
    plain = completion.complete(y, m, G, D, **settings)
    other = np.random.default_rng(0).integers(0, 256, y.shape, dtype=np.uint8)   # a network's
    guided = completion.complete(y, m, G, D, guide=other, **settings)
    # The search is the projection's: the same z, losses and frames until the last.
    np.testing.assert_array_equal(guided.z, plain.z)
    np.testing.assert_array_equal(guided.total, plain.total)
    np.testing.assert_array_equal(guided.trajectory[:-1], plain.trajectory[:-1])
    mean = completion.averaged(plain.generated, other)
    np.testing.assert_array_equal(guided.generated, mean)
    hole = np.broadcast_to(m < 0.5, y.shape)
    np.testing.assert_array_equal(guided.completed[hole], mean[hole])
    np.testing.assert_array_equal(guided.completed[~hole], y[~hole])           # known kept
    assert np.array_equal(guided.trajectory[-1], guided.completed)
    # With detail, the mean is the coarse content under G's detail on the sphere.
    sharp = completion.complete(y, m, G, D, guide=other, detail=True, detail_iter=3,
                                detail_gain=1, **settings)
    on_sphere = completion.sphere_fill(
        plain.z, tf.constant(images.to_float(y)), tf.constant(m), G, D, steps=3,
        optimizer="adam", lr=0.01, momentum=0.9, lam=0.003, lowres_factor=None)
    np.testing.assert_array_equal(
        sharp.generated, blend.two_scale(mean, on_sphere, completion.DETAIL_SIGMA))
    # Every sample of an image is averaged with that image's guide.
    two = completion.complete(y, m, G, D, guide=other, samples=2, **settings)
    for k in range(2):
        own = completion.complete(y, m, G, D, samples=2, **settings).samples.generated[:, k]
        np.testing.assert_array_equal(two.samples.generated[:, k],
                                      completion.averaged(own, other))
    for bad in (other.astype(np.float32), other[:2], other[..., :1]):
        with pytest.raises(ValueError, match="guide must be uint8"):
            completion.complete(y, m, G, D, guide=bad, **settings)
    assert "guide" not in completion.default_settings()          # a batch's, not a run's


def test_trajectory_restarts_and_lowres(models, targets):
    G, D = models
    y, _ = targets
    m = masks.MaskSpec("center", S).masks(4).values
    r = completion.complete(y, m, G, D, n_iter=20, out_interval=7, blend="poisson")
    assert list(r.iterations) == [0, 7, 14, 20]                  # the last one always
    assert r.trajectory.shape == (4, 4, S, S, 3) and r.trajectory_losses.shape == (4, 4, 3)
    assert np.array_equal(r.trajectory[-1], r.completed)
    assert np.array_equal(r.generated_trajectory[-1], r.generated)
    # The unblended frames, blended afterwards, are the trajectory complete() blended.
    assert np.array_equal(blend.blend_frames(y, m, r.generated_trajectory, "poisson"), r.trajectory)
    known = m[..., 0] == 1
    assert np.array_equal(r.completed[known], y[known])          # Poisson keeps known pixels too
    three = completion.complete(y, m, G, D, n_iter=20, out_interval=20, restarts=3, blend="none")
    assert three.restart.shape == (4,) and set(three.restart) <= {0, 1, 2}
    assert np.all(three.total <= r.total + 1e-3)                 # restart 0 is the K = 1 run

    low = masks.MaskSpec("lowres", S).masks(4)
    r = completion.complete(y, low.values, G, D, lowres_factor=low.lowres_factor, n_iter=40,
                            out_interval=40, blend="poisson")
    assert np.array_equal(r.completed, r.generated)              # nothing known pixel-wise
    assert np.all(r.trajectory_losses[-1, :, 0] < r.trajectory_losses[0, :, 0])


def test_bad_arguments(models, targets):
    G, D = models
    y, _ = targets
    m = masks.MaskSpec("center", S).masks(4).values
    for bad, says in ((dict(optimizer="sgd"), "unknown optimizer 'sgd'"),
                      (dict(weighted_context=4), "odd window size, got 4"),
                      (dict(restarts=0), "restarts >= 1"), (dict(out_interval=0), "out_interval >= 1"),
                      (dict(blend="alpha"), "unknown blend 'alpha'")):
        with pytest.raises(ValueError, match=says):
            completion.complete(y, m, G, D, **bad)
    with pytest.raises(ValueError, match="16x16x3"):
        completion.complete(np.zeros((1, 8, 8, 3), np.uint8), np.ones((1, 8, 8, 1)), G, D)
    with pytest.raises(ValueError, match="masks"):
        completion.complete(y, m[:1], G, D)


def test_method_recovers_a_hidden_image(models, targets):
    """y = G(z*): with lam = 0 the hole must come back far better than a mean fill.

    Checked by hand: with the gradient zeroed in completion.step the hole PSNR equals
    that of G(z0) and this test fails.
    """
    G, D = models
    y, _ = targets
    m = masks.MaskSpec("center", S).masks(4).values
    r = completion.complete(y, m, G, D, n_iter=300, out_interval=300, lam=0.0, blend="none")
    hole = m[..., 0] == 0                                                  # (B, H, W)
    mean_fill = np.stack([np.broadcast_to(y[i][~hole[i]].mean(0), y[i].shape) for i in range(4)])
    ours, baseline = psnr(r.completed[hole], y[hole]), psnr(mean_fill[hole], y[hole])
    assert ours >= baseline + 10.0, (ours, baseline)


def test_stopping_rule_stops_settled_images_only(models, targets):
    # Image 0 has nothing known and lam 0: its loss is 0 and settled from the start.
    # Image 1 is a face with every pixel known, whose loss keeps falling.
    G, D = models
    y, _ = targets
    x = y[:2]
    m = np.stack([np.zeros((S, S, 1), np.float32), masks.MaskSpec("full", S).for_index(1)])
    settings = dict(n_iter=200, out_interval=20, lam=0.0, blend="none")
    free = completion.complete(x, m, G, D, **settings)
    ruled = completion.complete(x, m, G, D, tol=1e-3, **settings)
    t = ruled.trajectory_losses[:, :, 2]                                    # (T, B)
    assert (ruled.trajectory[1:, 0] == ruled.trajectory[1, 0]).all()   # image 0: stopped at once
    assert t[-1, 1] < t[1, 1] * 0.9                        # image 1: went on improving
    np.testing.assert_allclose(ruled.total[1], free.total[1], rtol=0.05)
    # An image's course does not depend on the others': image 1 alone, same index (equal
    # but for float rounding of another batch size, which 200 Adam steps amplify a little).
    alone = completion.complete(x[1:], m[1:], G, D, tol=1e-3, first_index=1, **settings)
    np.testing.assert_allclose(alone.trajectory_losses[:2, 0], ruled.trajectory_losses[:2, 1],
                               rtol=1e-5)
    np.testing.assert_allclose(alone.trajectory_losses[:, 0], ruled.trajectory_losses[:, 1],
                               rtol=2e-2)
    with pytest.raises(ValueError, match="tol must be >= 0"):
        completion.complete(x, m, G, D, tol=-1.0)


# --- refinement beyond z ---------------------------------------------------------------------

def shifted(targets):
    """Targets no z makes exactly (y shifted by 3 columns), and per-image masks: a hole,
    the left half, a grid, and nothing known (loss 0 at lam 0, so refinement leaves it be)."""
    y = np.roll(targets[0], 3, axis=2)
    m = np.stack([masks.center_mask(S), masks.left_mask(S), masks.grid_mask(S),
                  np.zeros((S, S, 1), np.float32)])
    return y, m


def test_refinement_lowers_the_contextual_loss_and_continues_the_trajectory(models, targets):
    G, D = models
    y, m = shifted(targets)
    settings = dict(QUICK, lam=0.0)
    plain = completion.complete(y, m, G, D, **settings)
    calls = []
    refined = completion.complete(y, m, G, D, refine=20, progress=lambda it, done: calls.append(it),
                                  **settings)
    assert list(refined.iterations) == calls == [0, 10, 20, 30, 40]
    assert refined.trajectory.shape == (5, 4, S, S, 3) and refined.trajectory_losses.shape == (5, 4, 3)
    np.testing.assert_array_equal(refined.trajectory[:3], plain.trajectory)   # z's course first
    np.testing.assert_array_equal(refined.trajectory_losses[:3], plain.trajectory_losses)
    np.testing.assert_array_equal(refined.z, plain.z)                        # result.z stays the z
    assert np.array_equal(refined.trajectory[-1], refined.completed)
    np.testing.assert_array_equal(refined.trajectory_losses[-1, :, 0], refined.contextual)
    assert np.all(refined.contextual[:3] < 0.9 * plain.contextual[:3]), (refined.contextual,
                                                                         plain.contextual)
    assert refined.contextual[3] == plain.contextual[3] == 0.0               # nothing known: kept
    np.testing.assert_array_equal(refined.generated[3], plain.generated[3])
    known = m[..., 0] == 1
    assert np.array_equal(refined.completed[known], y[known])                # blend='none'
    assert not np.array_equal(refined.generated[:3], plain.generated[:3])


def test_refinement_penalty_keeps_the_features_near_gs_own(models, targets):
    G, D = models
    y, m = shifted(targets)
    plain = completion.complete(y, m, G, D, **QUICK)
    # Adam's steps do not scale with the gradient: its first one moves every feature by
    # about refine_lr whatever the weight, and a stiff penalty then pulls h back to h0. So
    # the stiff limit is the unrefined result within O(refine_lr): a small one here.
    stiff = completion.complete(y, m, G, D, refine=20, refine_weight=1e9, refine_lr=0.003, **QUICK)
    np.testing.assert_allclose(stiff.contextual, plain.contextual, rtol=1e-2)
    assert np.abs(stiff.completed.astype(int) - plain.completed).max() <= 3
    loose = completion.complete(y, m, G, D, refine=20, refine_weight=10.0, **QUICK)
    assert np.all(loose.contextual[:3] < stiff.contextual[:3])
    z = sample_z(2, TINY.z_dim, (5, 5))
    head, tail = split_generator(G, 1)                                       # G = tail o head
    np.testing.assert_array_equal(tail(head(z, training=False), training=False),
                                  G(z, training=False))


def test_refine_off_is_todays_completion(models, targets):
    # refine=0 ignores the other refinement settings: every field is the same, bit for bit.
    # (Checked by hand against main's complete(), before refinement existed: identical too.)
    G, D = models
    y, m = shifted(targets)
    today = completion.complete(y, m, G, D, restarts=2, **QUICK)
    off = completion.complete(y, m, G, D, restarts=2, refine=0, refine_layer=0, refine_weight=7.0,
                              refine_lr=1.0, **QUICK)
    assert_same_result(off, today)


def test_refinement_is_per_image_and_checked(models, targets):
    G, D = models
    y, m = shifted(targets)
    batch = completion.complete(y, m, G, D, refine=20, **QUICK)
    alone = completion.complete(y[1:2], m[1:2], G, D, first_index=1, refine=20, **QUICK)
    np.testing.assert_allclose(alone.trajectory_losses[:, 0], batch.trajectory_losses[:, 1],
                               rtol=1e-3)
    assert np.abs(alone.completed[0].astype(int) - batch.completed[1]).max() <= 2
    for bad, says in ((dict(refine=-1), "refine >= 0"), (dict(refine_layer=-1), "refine_layer >= 0"),
                      (dict(refine_weight=-1.0), "refine_weight must be >= 0"),
                      (dict(refine_lr=0.0), "refine_lr must be > 0"),
                      (dict(refine_weight=float("nan")), "refine_weight must be a finite"),
                      (dict(refine=2, refine_layer=2), "blocks 0 to 1, not 2")):
        with pytest.raises(ValueError, match=says):
            completion.complete(y, m, G, D, **dict(QUICK, **bad))


# --- the CLI -------------------------------------------------------------------------------

def run_cli(tmp_path, checkpoint, inputs, *extra):
    out = str(tmp_path / "out")
    # A named precision: runs compared with each other must not each time their own.
    argv = ["--checkpointDir", checkpoint, "--outDir", out, "--nIter", "4", "--outInterval", "2",
            "--no-progress", "--precision", "float32", *extra, *inputs]
    return complete_cli.main(argv), out


def test_cli_batches_and_files(tmp_path, checkpoint):
    faces = write_toy_faces(str(tmp_path / "faces"), 4, size=(S, S))
    Image.open(faces[0]).convert("L").save(tmp_path / "faces" / "gray.png")   # converted
    Image.open(faces[1]).convert("RGBA").resize((20, 24)).save(tmp_path / "faces" / "big.png")
    before = set(os.listdir(tmp_path))
    rc, out = run_cli(tmp_path, checkpoint, [str(tmp_path / "faces")], "--batchSize", "2")
    assert rc == 0
    assert set(os.listdir(tmp_path)) == before | {"out"}                 # nothing outside outDir
    names = sorted(["big.png", "gray.png", "face000.png", "face001.png", "face002.png", "face003.png"])
    for sub in ("completed", "input", "masked", "generated"):
        assert sorted(os.listdir(os.path.join(out, sub))) == names
    batches = sorted(d for d in os.listdir(out) if d.startswith("batch"))
    assert batches == ["batch000", "batch001", "batch002"]
    for b in batches:
        assert sorted(os.listdir(os.path.join(out, b))) == [
            "completed_0000.png", "completed_0002.png", "completed_0004.png", "completion.gif",
            "input.png", "masked.png"]
        with Image.open(os.path.join(out, b, "completion.gif")) as gif:
            assert gif.n_frames == 3                                     # iterations 0, 2, 4
    with open(os.path.join(out, "losses.csv")) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["image", "batch", "iteration", "contextual", "perceptual", "total"]
    assert len(rows) == 6 * 3 and {r["batch"] for r in rows} == {"0", "1", "2"}
    assert sorted({r["image"] for r in rows}) == names
    assert images.load_image(os.path.join(out, "completed", "gray.png")).shape == (S, S, 3)


def test_cli_five_images_in_batches_of_two(tmp_path, checkpoint):
    faces = write_toy_faces(str(tmp_path / "faces"), 5, size=(S, S))
    rc, out = run_cli(tmp_path, checkpoint, faces, "--batch-size", "2", "--mask-type", "random",
                      "--blend", "none")
    assert rc == 0
    assert len(os.listdir(os.path.join(out, "completed"))) == 5
    assert len([d for d in os.listdir(out) if d.startswith("batch")]) == 3
    for path in faces:                    # every image kept its own known pixels
        name = os.path.basename(path)
        x = images.load_image(os.path.join(out, "input", name))
        done = images.load_image(os.path.join(out, "completed", name))
        shown = images.load_image(os.path.join(out, "masked", name))
        known = np.all(shown == x, axis=-1) & np.any(shown != blend.MISSING_GRAY, axis=-1)
        assert known.sum() > 0 and np.array_equal(done[known], x[known])


def test_cli_bad_inputs_are_skipped(tmp_path, checkpoint, caplog):
    faces = write_toy_faces(str(tmp_path / "faces"), 2, size=(S, S))
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    odd = tmp_path / "odd.png"
    Image.new("RGB", (20, 20)).save(odd)
    inputs = faces + [str(tmp_path / "notes.txt"), str(tmp_path / "broken.png"),
                      str(tmp_path / "missing.png"), str(tmp_path / "nomatch*.png"), str(odd)]
    with caplog.at_level(logging.INFO):
        rc, out = run_cli(tmp_path, checkpoint, inputs, "--strict")
    assert rc == 1
    assert sorted(os.listdir(os.path.join(out, "completed"))) == ["face000.png", "face001.png"]
    for name in ("notes.txt", "broken.png", "missing.png", "nomatch*.png", "odd.png"):
        assert any(name in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records), name


def test_cli_glob_and_mask_folder(tmp_path, checkpoint):
    faces = write_toy_faces(str(tmp_path / "faces"), 3, size=(S, S))
    folder = tmp_path / "masks"
    folder.mkdir()
    for i, path in enumerate(faces[:2]):
        m = np.full((S, S), 255, np.uint8)
        m[:, : 4 * (i + 1)] = 0                                   # different per image
        Image.fromarray(m).save(folder / os.path.basename(path))
    rc, out = run_cli(tmp_path, checkpoint, [str(tmp_path / "faces" / "face*.png")],
                      "--maskFile", str(folder), "--blend", "none")
    assert rc == 1                                               # face002 has no mask
    assert sorted(os.listdir(os.path.join(out, "completed"))) == ["face000.png", "face001.png"]
    shown = [images.load_image(os.path.join(out, "masked", f"face00{i}.png")) for i in range(2)]
    assert [int(np.all(s == blend.MISSING_GRAY, -1).sum()) for s in shown] == [4 * S, 8 * S]


def test_cli_refuses_bad_setups(tmp_path, checkpoint, caplog, monkeypatch):
    faces = write_toy_faces(str(tmp_path / "faces"), 1, size=(S, S))
    monkeypatch.setattr(checkpoints, "BUNDLED_WEIGHTS", str(tmp_path / "none.npz"))
    with caplog.at_level(logging.ERROR):
        assert complete_cli.main(faces) == 2                   # no checkpoint, none bundled
        assert "--checkpointDir" in caplog.text
        rc, _ = run_cli(tmp_path, checkpoint, faces, "--imgSize", "64")
        assert rc == 2 and "16x16x3" in caplog.text and "64x64x3" in caplog.text
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "keep.txt").write_text("mine")
        rc, _ = run_cli(tmp_path, checkpoint, faces)
        assert rc == 2 and "not empty" in caplog.text
        assert os.listdir(tmp_path / "out") == ["keep.txt"]
        rc, _ = run_cli(tmp_path, checkpoint, faces, "--weightedContext", "4", "--outDir",
                        str(tmp_path / "new"))
        assert rc == 2 and not os.path.exists(tmp_path / "new")


def test_cli_flag_aliases():
    parser = complete_cli.build_parser()
    camel = parser.parse_args(["--outDir", "o", "--maskType", "grid", "--nIter", "5", "x.png"])
    kebab = parser.parse_args(["--out-dir", "o", "--mask-type", "grid", "--n-iter", "5", "x.png"])
    assert vars(camel) == vars(kebab)
    assert camel.lam is None and camel.batch_size is None              # defaults live in the library


def test_cli_photo_mode_restores_the_photo(tmp_path, checkpoint):
    # --photo: align the face, complete it, paste it back at full resolution.
    from skimage import data as skdata
    photos = tmp_path / "photos"
    images.save_image(str(photos / "astronaut.png"), skdata.astronaut())
    images.save_image(str(photos / "coins.png"), skdata.coins()[..., None])        # no face
    rc, out = run_cli(tmp_path, checkpoint, [str(photos)], "--photo", "--blend", "none")
    assert rc == 1                                                   # coins: no face, named
    restored = images.load_image(os.path.join(out, "restored", "astronaut.png"))
    damaged = images.load_image(os.path.join(out, "damaged", "astronaut.png"))
    photo = skdata.astronaut()
    assert restored.shape == damaged.shape == photo.shape            # full resolution
    changed = np.any(restored != photo, axis=-1)
    assert 0 < changed.mean() < 0.05                                  # the face's centre only
    ys, xs = np.nonzero(changed)
    assert 60 < ys.mean() < 200 and 150 < xs.mean() < 290            # inside the face box
    np.testing.assert_array_equal(np.any(damaged != photo, axis=-1), changed)
    assert sorted(os.listdir(os.path.join(out, "completed"))) == ["astronaut.png"]


def test_cli_photo_mask_in_photo_coordinates(tmp_path, checkpoint):
    from skimage import data as skdata
    photo = skdata.astronaut()
    images.save_image(str(tmp_path / "astronaut.png"), photo)
    mask = np.full(photo.shape[:2] + (1,), 255, np.uint8)
    mask[130:160, 190:250] = 0                                        # the mouth, black = missing
    images.save_image(str(tmp_path / "mask.png"), mask)
    rc, out = run_cli(tmp_path, checkpoint, [str(tmp_path / "astronaut.png")], "--photo",
                      "--photoMask", str(tmp_path / "mask.png"), "--blend", "none")
    assert rc == 0
    restored = images.load_image(os.path.join(out, "restored", "astronaut.png"))
    changed = np.any(restored != photo, axis=-1)
    assert changed[135:155, 195:245].mean() > 0.5                     # the hole was refilled
    assert not changed[:100].any() and not changed[200:].any()         # far from it, nothing


def test_photo_faces_take_the_masks_of_their_place_in_the_run(tmp_path):
    # The i-th photo with a face gets mask i, as the i-th aligned input would: a photo
    # without a face takes no mask (the spec's for_index, not a counter of its own).
    from dcgan_completion import align, photos

    class Aligner:                            # a stand-in for dlib: no face in "empty.png"
        def align(self, photo, size):
            if photo.mean() == 0:
                return None
            return align.AlignedFace(photo[:size, :size], (0, 0, size, size), 1.0,
                                     np.zeros((68, 2), np.float32),
                                     np.float32([[1, 0, 0], [0, 1, 0]]), 1)

    paths = []
    for name, value in (("a.png", 90), ("empty.png", 0), ("b.png", 200), ("c.png", 50)):
        paths.append(str(tmp_path / name))
        images.save_image(paths[-1], np.full((40, 30, 3), value, np.uint8))
    for kind in ("random", "patch", "center"):
        spec = masks.MaskSpec(kind, S, seed=3)
        faces, failed = photos.find_faces(paths, spec, Aligner())
        assert [f.path for f in faces] == [paths[0], paths[2], paths[3]]
        assert list(failed) == [paths[1]] and "no face found" in failed[paths[1]]
        for i, face in enumerate(faces):
            np.testing.assert_array_equal(face.mask, spec.for_index(i))
    # A mask drawn on the photo is read at the photo's size and warped into the face.
    drawn = np.full((40, 30), 255, np.uint8)
    drawn[2:6, 3:9] = 0
    images.save_image(str(tmp_path / "drawn.png"), drawn[..., None])
    spec = masks.MaskSpec("file", S, file=str(tmp_path / "drawn.png"), in_photo=True)
    faces, _ = photos.find_faces(paths[:1], spec, Aligner(), spec.reader())
    assert faces[0].mask[..., 0].sum() == S * S - 24 and faces[0].mask[2:6, 3:9].max() == 0
    restored, damaged = photos.restore(faces[0], np.zeros((S, S, 3), np.uint8), blend="none")
    assert restored.shape == damaged.shape == (40, 30, 3)
    assert (restored[:, :, 0] != 90).sum() > 0 and (restored[20:, :, 0] == 90).all()


def test_restored_photo_takes_the_photos_own_texture_in_the_hole_only():
    # A detail-less fill pasted into a sharp photo is a soft patch; with texture the hole
    # gets about the photo's own detail, and nothing outside it changes.
    import cv2
    from skimage import data as skdata

    from dcgan_completion import align, photos
    from dcgan_completion.metrics import sharpness_ratio
    photo = skdata.astronaut()
    face = photos.photo_face("astronaut.png", photo, masks.MaskSpec("center", 64), align.FaceAligner())
    smooth = cv2.GaussianBlur(face.face.image, (0, 0), 2)            # the right look, no detail
    plain, _ = photos.restore(face, smooth, texture=False)
    rich, damaged = photos.restore(face, smooth, texture=True)
    hole = align.paste_region(photo.shape, face.face.inverse, face.mask)
    np.testing.assert_array_equal(rich[~hole], photo[~hole])
    assert np.any(rich[hole] != plain[hole])
    known = (~hole)[..., None].astype(np.float32)
    before, after = (sharpness_ratio(photo, p, known) for p in (plain, rich))
    assert before < 0.05 and 0.2 < after < 2.5 and after > 10 * before
    assert photos.PHOTO_TEXTURE                      # the default: restore() adds it
    np.testing.assert_array_equal(photos.restore(face, smooth)[0], rich)


def test_cli_mask_flags_that_contradict_each_other_are_refused(tmp_path, checkpoint, caplog):
    faces = write_toy_faces(str(tmp_path / "faces"), 1, size=(S, S))
    cases = [(("--photoMask", "m.png"), "needs --photo"),
             (("--photo", "--photoMask", "m.png", "--maskFile", "m.png"), "cannot be combined"),
             (("--maskFile", "m.png", "--maskType", "grid"), "cannot be combined with --maskType grid"),
             (("--maskType", "file"), "needs --maskFile"),
             (("--texture",), "they need --photo"), (("--no-texture",), "they need --photo")]
    for flags, message in cases:
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            rc, out = run_cli(tmp_path, checkpoint, faces, *flags)
        assert rc == 2 and message in caplog.text and not os.path.exists(out)


def test_cli_shards_split_the_inputs_and_keep_each_images_mask_and_start(tmp_path, checkpoint):
    faces = write_toy_faces(str(tmp_path / "faces"), 5, size=(S, S))
    flags = ("--maskType", "random", "--seed", "7")
    rc, whole = run_cli(tmp_path, checkpoint, faces, *flags)
    assert rc == 0
    done = []
    for k in (1, 2):
        rc, out = run_cli(tmp_path / f"s{k}", checkpoint, faces, *flags, "--shard", f"{k}/2")
        assert rc == 0
        done += sorted(os.listdir(os.path.join(out, "completed")))
        for name in os.listdir(os.path.join(out, "completed")):
            for part in ("masked", "completed"):
                a = images.load_image(os.path.join(out, part, name)).astype(int)
                b = images.load_image(os.path.join(whole, part, name)).astype(int)
                assert np.abs(a - b).max() <= (0 if part == "masked" else 2), (k, name, part)
    assert done == sorted(os.listdir(os.path.join(whole, "completed")))    # each image once
    for bad in ("3/2", "0/2", "half"):
        with pytest.raises(SystemExit):
            run_cli(tmp_path / "bad", checkpoint, faces, "--shard", bad)


TWO_DEVICES = """
import os, sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from dcgan_completion import checkpoints, images, inputs, masks, outputs
checkpoint, faces, out = sys.argv[1], sys.argv[2:7], sys.argv[7]
G, D = checkpoints.load_model(checkpoint)[1:]
with tf.device("/CPU:1"):
    G1, D1 = checkpoints.load_model(checkpoint)[1:]
assert "CPU:1" in G1.weights[0].value.device
pixels = np.stack([images.load_image(f) for f in faces])
spec = masks.MaskSpec("random", pixels.shape[1], seed=2)
settings = dict(n_iter=6, out_interval=3, lam=0.003, seed=1, blend="none")
names = inputs.unique_names(faces)
for folder, replicas in (("one", ()), ("two", [("/CPU:1", G1, D1)])):
    os.makedirs(os.path.join(out, folder))
    record = outputs.RunRecord(os.path.join(out, folder), faces, names, {}, with_losses=True)
    outputs.run_projection(record, names, pixels, spec.masks(len(pixels)), G, D, settings, 2,
                           quiet=True, replicas=replicas)
"""


def test_batches_on_several_devices_are_written_as_on_one(tmp_path, checkpoint):
    # Two logical CPUs stand in for two GPUs: each completes its own batch at the same
    # time, and the files are those of a run on one device.
    import subprocess
    import sys
    faces = write_toy_faces(str(tmp_path / "faces"), 5, size=(S, S))
    script = tmp_path / "two.py"
    script.write_text(TWO_DEVICES)
    subprocess.run([sys.executable, str(script), checkpoint, *faces, str(tmp_path / "out")],
                   check=True, timeout=300)
    one, two = tmp_path / "out" / "one", tmp_path / "out" / "two"
    assert sorted(os.listdir(two / "completed")) == sorted(os.listdir(one / "completed"))
    for name in os.listdir(one / "completed"):
        np.testing.assert_array_equal(images.load_image(str(two / "completed" / name)),
                                      images.load_image(str(one / "completed" / name)))
    assert (two / "losses.csv").read_text() == (one / "losses.csv").read_text()
    assert (two / "inputs.csv").read_text() == (one / "inputs.csv").read_text()
    assert sorted(os.listdir(two)) == sorted(os.listdir(one))          # batch000-002 alike


def test_cli_sphere_flag_reaches_the_projection(tmp_path, checkpoint, caplog):
    faces = write_toy_faces(str(tmp_path / "faces"), 2, size=(S, S))
    with caplog.at_level(logging.INFO):
        rc, out = run_cli(tmp_path, checkpoint, faces, "--sphere", "--init", "random")
    assert rc == 0 and "iterations from random starting z on the prior's sphere" in caplog.text
    assert sorted(os.listdir(os.path.join(out, "completed"))) == ["face000.png", "face001.png"]
    with caplog.at_level(logging.ERROR):
        rc, out = run_cli(tmp_path / "net", checkpoint, faces, "--sphere", "--method", "network")
    assert rc == 2 and "--sphere: --method network has no z" in caplog.text
    assert not os.path.exists(out)


def test_cli_detail_flag_reaches_the_projection(tmp_path, checkpoint, caplog):
    faces = write_toy_faces(str(tmp_path / "faces"), 2, size=(S, S))
    with caplog.at_level(logging.INFO):
        rc, out = run_cli(tmp_path, checkpoint, faces, "--detail", "--detailSigma", "2",
                          "--init", "random", "--nIter", "10")
    assert rc == 0
    assert ("then 1 iteration on the prior's sphere for detail (sigma 2.0 px, matched to "
            "the photo's)") in caplog.text
    assert sorted(os.listdir(os.path.join(out, "completed"))) == ["face000.png", "face001.png"]
    caplog.clear()
    with caplog.at_level(logging.INFO):
        rc, out = run_cli(tmp_path, checkpoint, faces, "--detail", "--detail-gain", "1.5",
                          "--init", "random", "--nIter", "10", "--outDir", str(tmp_path / "b"))
    assert rc == 0 and "(sigma 1.0 px, gain 1.5)" in caplog.text
    parser = complete_cli.build_parser()
    assert parser.parse_args(["x.png", "--detailGain", "MATCH"]).detail_gain == "match"
    with pytest.raises(SystemExit):
        parser.parse_args(["x.png", "--detailGain", "-1"])


def test_cli_with_network_needs_a_network_of_the_models_side(tmp_path, checkpoint, caplog):
    faces = write_toy_faces(str(tmp_path / "faces"), 2, size=(S, S))
    with caplog.at_level(logging.ERROR):
        rc, out = run_cli(tmp_path, checkpoint, faces, "--withNetwork")
    assert rc == 2 and (f"--withNetwork: the fills are averaged with the bundled completion "
                        f"network of their side, and no bundled {S}-px completion network is "
                        "installed") in caplog.text
    assert not os.path.exists(out)
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        rc, out = run_cli(tmp_path, checkpoint, faces, "--with-network", "--method", "network")
    assert rc == 2 and "--method network has no projection" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO):     # off: a model of one's own is completed alone
        rc, out = run_cli(tmp_path, checkpoint, faces, "--no-withNetwork")
    assert rc == 0 and "averaged" not in caplog.text


def test_cli_refine_continues_the_logged_iterations(tmp_path, checkpoint):
    faces = write_toy_faces(str(tmp_path / "faces"), 2, size=(S, S))
    rc, out = run_cli(tmp_path, checkpoint, faces, "--refine", "4", "--refine-layer", "0",
                      "--refineWeight", "10", "--refineLr", "0.05")
    assert rc == 0
    assert sorted(os.listdir(os.path.join(out, "batch000"))) == [
        "completed_0000.png", "completed_0002.png", "completed_0004.png", "completed_0006.png",
        "completed_0008.png", "completion.gif", "input.png", "masked.png"]
    with Image.open(os.path.join(out, "batch000", "completion.gif")) as gif:
        assert gif.n_frames == 5                                         # iterations 0 to 8
    with open(os.path.join(out, "losses.csv")) as f:
        rows = list(csv.DictReader(f))
    assert sorted({int(r["iteration"]) for r in rows}) == [0, 2, 4, 6, 8] and len(rows) == 2 * 5
    parser = complete_cli.build_parser()
    assert parser.parse_args(["x.png"]).refine is None                   # the library's default


def test_blocks_masks_hide_two_to_four_seeded_squares():
    from scipy import ndimage
    spec = masks.MaskSpec("blocks", 64, seed=4)
    m = spec.masks(60).values
    np.testing.assert_array_equal(m[5], spec.for_index(5))              # image i's alone
    assert not np.array_equal(m[:3], masks.MaskSpec("blocks", 64, seed=5).masks(3).values)
    missing = (1 - m[..., 0]).sum(axis=(1, 2))
    assert missing.min() >= 64 and missing.max() <= 4 * 16 * 16          # 1 to 4 squares of 8-16
    counts = [ndimage.label(1 - mm[..., 0])[1] for mm in m]
    assert max(counts) >= 3 and min(counts) >= 1                         # several holes (may touch)
    for mm in m:                                                         # every hole a union of squares
        labels, n = ndimage.label(1 - mm[..., 0])
        assert all((labels == j).sum() >= 64 for j in range(1, n + 1))

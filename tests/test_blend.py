"""Blending: the composite, and Poisson blending of every hole that has known pixels."""

import cv2
import numpy as np

from dcgan_completion import blend, masks

S = 16


def test_poisson_blend_matches_the_context():
    """Known pixels 200, G(z) a texture around 70: the blended hole takes the context's level
    and keeps G(z)'s texture, for a centre hole and for a hole at the border."""
    rng = np.random.default_rng(0)
    size = 32
    image = np.full((size, size, 3), 200, np.uint8)
    texture = rng.normal(0.0, 8.0, (size, size, 3))
    generated = np.clip(70 + texture, 0, 255).astype(np.uint8)
    for m in (masks.center_mask(size), masks.left_mask(size)):
        hole = m[..., 0] == 0
        out = blend.poisson_blend(image, m, generated).astype(float)
        assert abs(out[hole].mean() - 200) < 5
        residual = out[hole] - generated[hole].astype(float)      # G(z) shifted, not replaced
        assert residual.std() < 0.5 * generated[hole].std()          # a flat fill gives 1.0
        assert np.array_equal(out[~hole], image[~hole])                # known pixels kept


def test_poisson_fills_scattered_holes_from_the_residual():
    """Known pixels on a smooth ramp, G(z) the ramp shifted by 40 plus texture: blended, the
    scattered holes get the ramp's level back (G(z) plus the interpolated residual)."""
    rng = np.random.default_rng(1)
    ramp = np.linspace(60, 200, S)[None, :, None] * np.ones((S, S, 3))
    image = np.round(ramp).astype(np.uint8)
    generated = np.clip(np.round(ramp - 40 + rng.normal(0, 3, ramp.shape)), 0, 255).astype(np.uint8)
    m = masks.MaskSpec("random", S, seed=3).for_index(0)                # 80 % missing
    hole = np.broadcast_to(m == 0, image.shape)
    pasted = blend.composite(image, m, generated).astype(float)
    out = blend.blend_frames(image[None], m[None], generated[None, None], "poisson")[0, 0]
    assert np.abs(out[hole] - ramp[hole]).mean() < 0.25 * np.abs(pasted[hole] - ramp[hole]).mean()
    assert np.array_equal(out[~hole], image[~hole])


def test_blending():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (S, S, 3), dtype=np.uint8)
    generated = rng.integers(0, 256, (S, S, 3), dtype=np.uint8)
    for m in (masks.left_mask(S), masks.center_mask(S), masks.center_mask(S, 0.0)):
        out = blend.poisson_blend(image, m, generated)             # hole at the border too
        assert out.shape == image.shape and out.dtype == np.uint8
    known = masks.center_mask(S)[..., 0] == 1
    out = blend.poisson_blend(image, masks.center_mask(S), generated)
    assert np.array_equal(out[known], image[known])                     # known pixels kept
    flat = np.full_like(image, 90)                                      # src == dst: unchanged
    assert np.abs(blend.poisson_blend(flat, masks.center_mask(S), flat).astype(int) - 90).max() <= 1
    batch = np.stack([image] * 3)
    m = np.stack([masks.MaskSpec(k, S).for_index(0) for k in ("full", "grid", "center")])
    (out,) = blend.blend_frames(batch, m, np.stack([generated] * 3)[None], "poisson")
    assert np.array_equal(out[0], image)                                # no hole: untouched
    for i in (1, 2):                                                    # scattered and one hole
        np.testing.assert_array_equal(out[i], blend.poisson_blend(image, m[i], generated))
        assert not np.array_equal(out[i], blend.composite(image, m[i], generated))
    (none,) = blend.blend_frames(batch, m, np.stack([generated] * 3)[None], "none")
    np.testing.assert_array_equal(none, blend.composite(batch, m, np.stack([generated] * 3)))
    gray = blend.poisson_blend(image[..., :1], masks.center_mask(S), generated[..., :1])
    assert gray.shape == (S, S, 1)


def test_images_that_share_a_mask_are_blended_each_with_their_own_pixels():
    """A batch with one mask repeated and another mask: every image is blended as it would
    be alone (the factorisation is shared, the right-hand sides are each image's)."""
    rng = np.random.default_rng(2)
    batch = rng.integers(0, 256, (4, S, S, 3), dtype=np.uint8)
    generated = rng.integers(0, 256, (2, 4, S, S, 3), dtype=np.uint8)      # two frames
    m = np.stack([masks.center_mask(S)] * 3 + [masks.left_mask(S)])
    out = blend.blend_frames(batch, m, generated, "poisson")
    for t in range(2):
        for i in range(4):
            np.testing.assert_array_equal(out[t, i], blend.poisson_blend(batch[i], m[i], generated[t, i]))
    assert not np.array_equal(out[0, 0], out[0, 1])


def test_two_scale_takes_coarse_content_from_one_picture_and_fine_detail_from_the_other():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:32, 0:32]
    smooth = np.stack([60 + 3 * yy, 80 + 2 * xx, 100 + yy + xx], -1).astype(np.uint8)  # a ramp
    checker = (((yy + xx) % 2) * 40 - 20)[..., None]                  # +-20: the finest detail
    detailed = np.clip(200 - smooth.astype(int) + checker, 0, 255).astype(np.uint8)
    pictures = np.stack([smooth, smooth])
    out = blend.two_scale(pictures, np.stack([detailed, detailed]), 1.5)
    assert out.shape == pictures.shape and out.dtype == np.uint8

    def low(p):
        return cv2.GaussianBlur(p.astype(np.float32), (0, 0), 1.5)
    inner = (slice(4, -4), slice(4, -4))               # away from the reflected borders
    # Coarse: the smooth picture's (a ramp passes a Gaussian unchanged); fine: the checker.
    np.testing.assert_allclose(low(out[0])[inner], low(smooth)[inner], atol=1.0)
    fine = out[0].astype(np.float32) - low(out[0])
    np.testing.assert_allclose(fine[inner], (detailed.astype(np.float32) - low(detailed))[inner],
                               atol=1.0)
    assert 15 < np.abs(fine[inner]).mean() < 25       # the checker's +-20, barely blurred
    # One picture as both: unchanged; a single (H, W, 1) picture keeps its shape.
    noisy = rng.integers(0, 256, (16, 16, 1), dtype=np.uint8)
    np.testing.assert_array_equal(blend.two_scale(noisy, noisy, 2.0), noisy)
    # A gain scales the fine detail, one per picture: 0 leaves the coarse content alone.
    scaled = blend.two_scale(pictures, np.stack([detailed, detailed]), 1.5, np.array([0.0, 0.5]))
    np.testing.assert_allclose(scaled[0][inner], np.rint(low(smooth))[inner], atol=1.0)
    half = scaled[1].astype(np.float32) - low(scaled[1])
    assert 7 < np.abs(half[inner]).mean() < 13        # half the checker's +-20


def test_matched_gain_is_how_much_finer_the_photo_is_than_the_detail_near_the_hole():
    yy, xx = np.mgrid[0:48, 0:48]
    checker = (((yy + xx) % 2) * 2 - 1)[..., None]                   # +-1, the finest detail
    grey = lambda a: np.broadcast_to(128 + a * checker, (48, 48, 3)).astype(np.uint8)
    photo, drawn = grey(30), grey(10)          # the photo's detail three times the drawing's
    m = np.ones((48, 48, 1), np.float32)
    m[16:32, 16:32] = 0                                                       # the hole
    kw = dict(ring=6, limits=(0.5, 2.0))
    gain = blend.matched_gain(np.stack([photo, drawn, photo]), np.stack([m, m, np.ones_like(m)]),
                              np.stack([drawn, photo, drawn]), 1.0, **kw)
    # 3 clipped to 2; 1/3 clipped to 0.5; no hole: nothing to match, 1.
    np.testing.assert_allclose(gain, [2.0, 0.5, 1.0], rtol=1e-5)
    wide = blend.matched_gain(photo[None], m[None], drawn[None], 1.0, ring=6, limits=(0.1, 10))
    np.testing.assert_allclose(wide, [3.0], rtol=0.02)
    # Only the ring counts: detail far from the hole does not.
    far = photo.copy()
    far[:4] = 128
    far[:, :4] = 128
    np.testing.assert_allclose(blend.matched_gain(far[None], m[None], drawn[None], 1.0, ring=6,
                                                  limits=(0.1, 10)), [3.0], rtol=0.02)


def test_free_pixels_are_no_boundary_as_if_the_image_ended_there():
    # A hole next to pixels marked free blends as it would in the picture cut there: the
    # free pixels (whatever their values) neither hold nor pull the fill.
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (20, 24, 3)).astype(np.uint8)
    generated = rng.integers(0, 256, (20, 24, 3)).astype(np.uint8)
    mask = np.ones((20, 24, 1), np.float32)
    mask[4:15, 6:12] = 0                                   # the hole starts at column 6
    free = np.zeros((20, 24), bool)
    free[:, :6] = True                                     # the columns left of it
    padded = blend.poisson_blend(image, mask, generated, free=free)
    cut = blend.poisson_blend(image[:, 6:], mask[:, 6:], generated[:, 6:])
    np.testing.assert_array_equal(padded[:, 6:], cut)
    np.testing.assert_array_equal(padded[:, :6], image[:, :6])

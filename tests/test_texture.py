"""texture.transfer_texture: the picture's own fine texture carried into a filled hole."""

import cv2
import numpy as np
import pytest

from dcgan_completion import texture
from dcgan_completion.blend import fine_band
from dcgan_completion.texture import patch_side, transfer_texture


def stripes(shape, period: int, vertical: bool, amplitude: float = 30.0) -> np.ndarray:
    """(H, W) float32: a sine grating, lines running up and down when ``vertical``."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    return (amplitude * np.sin(2 * np.pi * (x if vertical else y) / period)).astype(np.float32)


def two_tone(size: int = 96) -> np.ndarray:
    """uint8 (size, size, 3): a dark left half with vertical fine lines, a bright right half
    with horizontal ones: two textures that the coarse look tells apart."""
    base = np.where(np.arange(size) < size // 2, 70.0, 180.0)[None, :].repeat(size, 0)
    left = stripes((size, size), 3, vertical=True)
    right = stripes((size, size), 3, vertical=False)
    lum = base + np.where(np.arange(size) < size // 2, left, right)
    return np.clip(np.rint(np.repeat(lum[..., None], 3, -1)), 0, 255).astype(np.uint8)


def centre_hole(size: int, side: int) -> np.ndarray:
    hole = np.zeros((size, size), bool)
    lo = (size - side) // 2
    hole[lo:lo + side, lo:lo + side] = True
    return hole


def smooth_fill(picture: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The picture with its hole replaced by its own heavy blur: the right coarse look,
    no detail (what a model's enlarged fill is like)."""
    blur = cv2.GaussianBlur(picture.astype(np.float32), (0, 0), 4).reshape(picture.shape)
    out = picture.copy()
    out[hole] = np.clip(np.rint(blur[hole]), 0, 255).astype(np.uint8)
    return out


def gradient_energy(picture: np.ndarray, region: np.ndarray) -> tuple[float, float]:
    """Mean squared horizontal and vertical differences of the luminance over ``region``."""
    y = picture.astype(np.float32).mean(-1)
    dx, dy = np.zeros_like(y), np.zeros_like(y)
    dx[:, 1:], dy[1:] = np.diff(y, axis=1), np.diff(y, axis=0)
    return float(np.mean(dx[region] ** 2)), float(np.mean(dy[region] ** 2))


def test_known_pixels_stay_and_the_hole_gets_the_pictures_detail():
    picture = two_tone()
    hole = centre_hole(96, 32)
    filled = smooth_fill(picture, hole)
    out = transfer_texture(picture, filled, hole, sigma=1.5)
    np.testing.assert_array_equal(out[~hole], filled[~hole])
    inner = cv2.erode(hole.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    # The hole had no detail; it now has about as much as the picture has around it.
    def energy(p):
        return float(np.mean(fine_band(p.astype(np.float32).mean(-1), 1.5)[inner] ** 2))
    assert energy(filled) < 0.05 * energy(picture)
    assert 0.5 * energy(picture) < energy(out) < 1.5 * energy(picture)
    # The coarse look is the fill's: detail is added, the structure is not moved.
    blur = lambda p: cv2.GaussianBlur(p.astype(np.float32), (0, 0), 4)           # noqa: E731
    assert np.abs(blur(out) - blur(filled))[inner].mean() < 3.0


def test_each_part_of_the_hole_takes_the_texture_of_what_it_looks_like():
    # The dark half of the hole must take the dark side's vertical lines, the bright half
    # the bright side's horizontal ones: the fill's coarse look picks the source.
    picture = two_tone()
    hole = centre_hole(96, 32)
    out = transfer_texture(picture, smooth_fill(picture, hole), hole, sigma=1.5)
    inner = cv2.erode(hole.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    dark, bright = inner.copy(), inner.copy()
    dark[:, 44:], bright[:, :52] = False, False          # away from the edge between them
    dx, dy = gradient_energy(out, dark)
    assert dx > 4 * dy                                     # vertical lines: changes along x
    dx, dy = gradient_energy(out, bright)
    assert dy > 4 * dx


def test_a_large_sigma_is_matched_smaller_and_still_carries_the_detail():
    # sigma above MATCH_SIGMA compares patches at a reduced size (a large face costs what
    # a small one does); the detail still comes across, from the right side.
    picture = cv2.resize(two_tone(), (192, 192), interpolation=cv2.INTER_NEAREST)
    hole = centre_hole(192, 64)
    sigma = 2.0 * texture.MATCH_SIGMA
    out = transfer_texture(picture, smooth_fill(picture, hole), hole, sigma=sigma)
    inner = cv2.erode(hole.astype(np.uint8), np.ones((17, 17), np.uint8)).astype(bool)
    dark, bright = inner.copy(), inner.copy()
    dark[:, 88:], bright[:, :104] = False, False
    assert np.greater(*gradient_energy(out, dark))
    assert np.less(*gradient_energy(out, bright))
    assert np.array_equal(out[~hole], picture[~hole])


def test_nothing_to_do_or_nothing_to_take_from_leaves_the_fill_as_it_is():
    picture = two_tone(48)
    none = np.zeros((48, 48), bool)
    np.testing.assert_array_equal(transfer_texture(picture, picture, none, sigma=1.5), picture)
    everything = np.ones((48, 48), bool)                       # no known patch at all
    filled = np.full_like(picture, 99)
    np.testing.assert_array_equal(transfer_texture(picture, filled, everything, sigma=1.5), filled)
    # Sources only where ``area`` allows: an area that holds no whole patch gives nothing.
    hole = centre_hole(48, 16)
    tiny = np.zeros((48, 48), bool)
    tiny[:3, :3] = True
    filled = smooth_fill(picture, hole)
    np.testing.assert_array_equal(transfer_texture(picture, filled, hole, sigma=1.5, area=tiny),
                                  filled)


def test_the_same_seed_gives_the_same_texture_and_one_channel_works():
    rng = np.random.default_rng(0)
    picture = np.clip(rng.normal(128, 25, (64, 64, 1)), 0, 255).astype(np.uint8)
    hole = centre_hole(64, 20)
    filled = smooth_fill(picture, hole)
    a = transfer_texture(picture, filled, hole, sigma=1.0, seed=3)
    b = transfer_texture(picture, filled, hole, sigma=1.0, seed=3)
    c = transfer_texture(picture, filled, hole, sigma=1.0, seed=4)
    assert a.shape == picture.shape and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert np.any(a != c)
    with pytest.raises(ValueError, match="choices"):
        transfer_texture(picture, filled, hole, sigma=1.0, choices=0)


def test_patch_side_is_even_and_grows_with_sigma():
    sides = [patch_side(s) for s in (0.2, 1.0, 1.5, 3.0, 10.0)]
    assert all(s % 2 == 0 and s >= 4 for s in sides)
    assert sides == sorted(sides) and sides[-1] == 60


def test_a_fill_as_detailed_as_the_picture_gets_nothing_added():
    # Only what the fill lacks is carried: the picture's own content in the hole (as
    # detailed as its surroundings) comes back as it was.
    picture = two_tone()
    hole = centre_hole(96, 32)
    np.testing.assert_array_equal(transfer_texture(picture, picture, hole, sigma=1.5), picture)


def test_deficit_gain_fills_the_gap_between_the_pictures_detail_and_the_fills():
    # g^2 = (E_ring[fine^2] - E_hole[fine(fill)^2]) / E_hole[detail^2], clipped to [0, 1].
    hole = centre_hole(40, 10)
    fine = np.full((40, 40), 2.0, np.float32)                  # E_ring = 4
    flat = np.full((40, 40, 3), 100.0, np.float32)             # the fill has no detail
    gain = texture.deficit_gain
    assert gain(fine, flat, hole, np.full((40, 40), 4.0, np.float32), 1.0, 5) == pytest.approx(0.5)
    assert gain(fine, flat, hole, np.full((40, 40), 1.0, np.float32), 1.0, 5) == 1.0   # at most 1
    stripes_fill = flat + stripes((40, 40), 3, vertical=True, amplitude=6.0)[..., None]
    assert gain(fine, stripes_fill, hole, np.full((40, 40), 4.0, np.float32), 1.0, 5) == 0.0
    assert gain(fine, flat, hole, np.zeros((40, 40), np.float32), 1.0, 5) == 0.0


def test_a_hole_on_the_pictures_edge_is_reached():
    picture = two_tone(64)
    hole = np.zeros((64, 64), bool)
    hole[-2:, 10:40] = True                                  # the last two rows only
    filled = smooth_fill(picture, hole)
    out = transfer_texture(picture, filled, hole, sigma=1.5)
    np.testing.assert_array_equal(out[~hole], filled[~hole])
    assert np.any(out[hole] != filled[hole])

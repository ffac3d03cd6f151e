"""DiffAugment: seeded, differentiable, and each transformation does what it says."""

import numpy as np
import pytest
import tensorflow as tf

from dcgan_completion import augment

S = 16


def faces(n=4, seed=0):
    return tf.constant(np.random.default_rng(seed).uniform(-1, 1, (n, S, S, 3)), tf.float32)


def test_seeded_per_image_and_differentiable():
    x = faces()
    seed = tf.constant([3, 4], tf.int64)
    a = augment.diff_augment(x, augment.DEFAULT_POLICY, seed)
    np.testing.assert_array_equal(a, augment.diff_augment(x, augment.DEFAULT_POLICY, seed))
    assert not np.array_equal(a, augment.diff_augment(x, augment.DEFAULT_POLICY, seed + 1))
    assert a.shape == x.shape
    for policy in [(name,) for name in augment.AUGMENTATIONS] + [augment.DEFAULT_POLICY]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(augment.diff_augment(x, policy, seed) ** 2)
        grad = tape.gradient(y, x)
        assert grad is not None and np.isfinite(grad).all() and np.abs(grad).sum() > 0, policy
    np.testing.assert_array_equal(augment.diff_augment(x, (), seed), x)


def test_translation_shifts_whole_pixels_and_fills_zeros():
    x = tf.reshape(tf.range(1, S * S + 1, dtype=tf.float32), (1, S, S, 1))
    y = augment.translation(x, tf.constant([0, 1], tf.int64)).numpy()[0, ..., 0]
    r = 2                                                   # 1/8 of 16
    found = [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)
             if np.array_equal(y, np.roll(np.pad(x.numpy()[0, ..., 0], r), (dy, dx), (0, 1))[r:-r, r:-r])]
    assert len(found) == 1                                  # one shift within the range, zeros in


def test_cutout_zeroes_one_square_of_half_the_side():
    x = tf.ones((64, S, S, 1))
    y = augment.cutout(x, tf.constant([5, 6], tf.int64)).numpy()[..., 0]
    holes = (y == 0).sum(axis=(1, 2))
    assert (holes <= (S // 2) ** 2).all() and (holes > 0).all()
    assert (holes == (S // 2) ** 2).any()                   # a square inside the image is whole
    assert set(np.unique(y)) == {0.0, 1.0}


def test_color_changes_a_flat_gray_image_by_its_brightness_only():
    x = tf.fill((8, S, S, 3), 0.2)                          # saturation and contrast: no effect
    y = augment.color(x, tf.constant([1, 2], tf.int64)).numpy()
    shift = y[:, 0, 0, 0] - 0.2
    np.testing.assert_allclose(y, 0.2 + shift[:, None, None, None] * np.ones_like(y), atol=1e-6)
    assert (np.abs(shift) <= 0.5).all() and len(np.unique(shift.round(6))) == 8   # one per image


def test_unknown_augmentation_is_named():
    assert augment.check_policy(["color", "cutout"]) == ("color", "cutout")
    with pytest.raises(ValueError, match="unknown augmentation 'flip'"):
        augment.check_policy(["color", "flip"])

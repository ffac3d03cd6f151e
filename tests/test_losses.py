"""Golden values of the GAN objectives."""

import math

import numpy as np
import pytest
import tensorflow as tf

from dcgan_completion import losses


def test_dcgan_losses_at_zero_logits():
    zeros = tf.zeros((4, 1))
    np.testing.assert_allclose(losses.dcgan_discriminator_loss(zeros, zeros), [2 * math.log(2)] * 4,
                               rtol=1e-6)
    np.testing.assert_allclose(losses.dcgan_generator_loss(zeros), [math.log(2)] * 4, rtol=1e-6)


def test_dcgan_losses_match_binary_cross_entropy():
    real = tf.constant([[2.0], [-1.0]])
    fake = tf.constant([[0.5], [-3.0]])
    sig = tf.sigmoid
    expected = -np.log(sig(real).numpy()) - np.log(1 - sig(fake).numpy())
    np.testing.assert_allclose(losses.dcgan_discriminator_loss(real, fake), expected[:, 0], rtol=1e-5)
    np.testing.assert_allclose(losses.dcgan_generator_loss(fake), -np.log(sig(fake).numpy())[:, 0],
                               rtol=1e-5)
    # Stable for huge logits where log(sigmoid) would overflow.
    assert np.isfinite(losses.dcgan_generator_loss(tf.constant([[-1e4]])).numpy()).all()


def test_wgan_losses():
    real, fake = tf.constant([[3.0], [1.0]]), tf.constant([[1.0], [2.0]])
    np.testing.assert_allclose(losses.wgan_critic_loss(real, fake), [-2.0, 1.0])
    np.testing.assert_allclose(losses.wgan_generator_loss(fake), [-1.0, -2.0])


def test_gradient_penalty_of_a_linear_critic():
    # f(x) = sum(w * x) has gradient w everywhere, so the penalty is (||w|| - 1)^2.
    w = tf.constant(np.full((1, 2, 2, 1), 1.5, np.float32))            # ||w|| = 3
    critic = lambda x, training=False: tf.reduce_sum(x * w, axis=[1, 2, 3])[:, None]  # noqa: E731
    real, fake = tf.ones((3, 2, 2, 1)), tf.zeros((3, 2, 2, 1))
    gp = losses.gradient_penalty(critic, real, fake, tf.fill((3, 1, 1, 1), 0.3))
    np.testing.assert_allclose(gp, [4.0] * 3, rtol=1e-5)


def test_r1_penalty_of_a_linear_critic():
    # f(x) = sum(w * x): the gradient is w at every real image, so R1 = ||w||^2 = 9.
    w = tf.constant(np.full((1, 2, 2, 1), 1.5, np.float32))
    critic = lambda x, training=False: tf.reduce_sum(x * w, axis=[1, 2, 3])[:, None]  # noqa: E731
    np.testing.assert_allclose(losses.r1_penalty(critic, tf.ones((3, 2, 2, 1))), [9.0] * 3, rtol=1e-6)


def test_masked_l1_averages_over_the_weighted_pixels_only():
    pred = tf.zeros((2, 2, 2, 3))
    target = tf.constant(np.arange(24, dtype=np.float32).reshape(2, 2, 2, 3))
    weights = tf.constant([[[[1.0], [0.0]], [[0.0], [1.0]]],
                           [[[0.0], [0.0]], [[0.0], [0.0]]]])
    # Example 0: pixels (0, 0) = 0, 1, 2 and (1, 1) = 9, 10, 11 -> 33 / 6; example 1: none.
    np.testing.assert_allclose(losses.masked_l1(pred, target, weights), [5.5, 0.0])


def test_hinge_losses():
    real, fake = tf.constant([[3.0], [0.5]]), tf.constant([[-2.0], [0.25]])
    # max(0, 1 - real) + max(0, 1 + fake): (0 + 0), (0.5 + 1.25)
    np.testing.assert_allclose(losses.discriminator_loss("hinge", real, fake), [0.0, 1.75])
    np.testing.assert_allclose(losses.generator_loss("hinge", fake), [2.0, -0.25])


def test_dispatch_and_unknown_loss():
    fake = tf.constant([[1.0]])
    assert losses.generator_loss("wgan-gp", fake).numpy()[0] == -1.0
    with pytest.raises(ValueError, match="unknown loss"):
        losses.generator_loss("lsgan", fake)


# --- the completion objective ----------------------------------------------------------------

def test_context_weights():
    m = np.ones((1, 3, 3, 1), np.float32)
    m[0, 1, 1] = 0                                               # the centre is missing
    # Share of missing pixels in each 3x3 window, counting pixels inside the image only:
    # corners see 1 of 4, edges 1 of 6; the missing pixel itself has weight 0.
    expected = [[1 / 4, 1 / 6, 1 / 4], [1 / 6, 0, 1 / 6], [1 / 4, 1 / 6, 1 / 4]]
    np.testing.assert_allclose(losses.context_weights(m, 3)[0, ..., 0], expected, rtol=1e-6)
    assert np.array_equal(losses.context_weights(m, 0).numpy(), m)
    big = np.ones((1, 16, 16, 1), np.float32)
    big[0, 4:12, 4:12] = 0                                       # a centre hole, the paper's window 7
    w = losses.context_weights(big, 7).numpy()[0, ..., 0]
    assert w[3, 8] == pytest.approx(3 / 7)                       # next to the hole: 3 of 7 rows
    assert w[1, 8] > 0 and w[0, 8] == 0 and w[0, 0] == 0         # > 3 pixels from the hole: 0


def test_contextual_loss_plain_and_weighted():
    generated = tf.constant([[[[1.0], [2.0]], [[3.0], [4.0]]]] * 2)         # (2, 2, 2, 1)
    target = tf.constant([[[[0.0], [4.0]], [[3.0], [1.0]]]] * 2)            # |diff| 1 2 / 0 3
    weights = tf.constant([[[[1.0], [1.0]], [[0.0], [1.0]]],                # the mask: 1 + 2 + 3
                           [[[0.5], [0.25]], [[1.0], [1.0]]]])              # 0.5 + 0.5 + 0 + 3
    np.testing.assert_allclose(losses.contextual_loss(generated, target, weights), [6.0, 4.0])


def test_lowres_contextual_loss():
    generated = tf.constant([[[[1.0], [2.0]], [[3.0], [6.0]]]] * 2)         # block average 3
    pooled = tf.constant([[[[1.0]]], [[[3.5]]]])                           # (2, 1, 1, 1)
    # f^2 |3 - 1| = 8 and f^2 |3 - 3.5| = 2, f = 2.
    np.testing.assert_allclose(losses.lowres_contextual_loss(generated, pooled, 2), [8.0, 2.0])


def test_perceptual_and_completion_loss():
    logits = tf.constant([[0.0], [2.0]])
    np.testing.assert_allclose(losses.perceptual_loss(logits), [math.log(2), math.log1p(math.exp(-2))],
                               rtol=1e-6)
    np.testing.assert_allclose(losses.completion_loss(tf.constant([6.0, 4.0]), tf.constant([2.0, 10.0]),
                                                      0.5), [7.0, 9.0])


def test_feature_penalty():
    start = tf.zeros((2, 1, 2, 2))
    features = tf.constant([[[[1.0, -1.0], [2.0, 0.0]]], [[[0.0, 0.0], [0.0, 0.0]]]])
    # Image 0: mean(1, 1, 4, 0) = 1.5, times the weight 2; image 1 is at its start: 0.
    np.testing.assert_allclose(losses.feature_penalty(features, start, 2.0), [3.0, 0.0])
    np.testing.assert_allclose(losses.feature_penalty(features + 5.0, start + 5.0, 2.0), [3.0, 0.0])

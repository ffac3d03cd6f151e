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


def test_masked_l1_averages_over_the_weighted_pixels_only():
    pred = tf.zeros((2, 2, 2, 3))
    target = tf.constant(np.arange(24, dtype=np.float32).reshape(2, 2, 2, 3))
    weights = tf.constant([[[[1.0], [0.0]], [[0.0], [1.0]]],
                           [[[0.0], [0.0]], [[0.0], [0.0]]]])
    # Example 0: pixels (0, 0) = 0, 1, 2 and (1, 1) = 9, 10, 11 -> 33 / 6; example 1: none.
    np.testing.assert_allclose(losses.masked_l1(pred, target, weights), [5.5, 0.0])


def test_dispatch_and_unknown_loss():
    fake = tf.constant([[1.0]])
    assert losses.generator_loss("wgan-gp", fake).numpy()[0] == -1.0
    with pytest.raises(ValueError, match="unknown loss"):
        losses.generator_loss("lsgan", fake)

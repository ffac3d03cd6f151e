"""GAN objectives as pure functions of discriminator logits.

Every function returns a per-example loss of shape (B,); callers reduce. Per-example
values let the training loop divide by the global batch under tf.distribute, and let the
completion use the adversarial loss of each image on its own, independent of batch size.
"""

from __future__ import annotations

import tensorflow as tf

LOSSES = ("dcgan", "wgan", "wgan-gp")


def _flat(logits):
    return tf.reshape(tf.cast(logits, tf.float32), [-1])


def dcgan_discriminator_loss(real_logits, fake_logits):
    """-log D(x) - log(1 - D(G(z))), with D = sigmoid(logit).

    Written as softplus(-real) + softplus(fake), the numerically stable form of the
    binary cross-entropy with targets 1 for real and 0 for fake. Logits 0 and 0 give 2 ln 2.
    """
    return tf.nn.softplus(-_flat(real_logits)) + tf.nn.softplus(_flat(fake_logits))


def dcgan_generator_loss(fake_logits):
    """Non-saturating generator loss -log D(G(z)) = softplus(-logit) (Goodfellow et al. 2014).

    This is also the perceptual loss of semantic inpainting (Yeh et al. 2016).
    """
    return tf.nn.softplus(-_flat(fake_logits))


def wgan_critic_loss(real_scores, fake_scores):
    """Critic minimises f(G(z)) - f(x), i.e. maximises the Wasserstein estimate (Arjovsky et al. 2017)."""
    return _flat(fake_scores) - _flat(real_scores)


def wgan_generator_loss(fake_scores):
    """Generator minimises -f(G(z))."""
    return -_flat(fake_scores)


def gradient_penalty(critic, real, fake, epsilon):
    """(||grad_x f(x_hat)||_2 - 1)^2 at x_hat = eps * real + (1 - eps) * fake (Gulrajani et al. 2017).

    ``epsilon`` has shape (B, 1, 1, 1), uniform in [0, 1]. The critic is called in
    training mode; a WGAN-GP critic has no batch norm, so the mode changes nothing.
    """
    real = tf.cast(real, tf.float32)
    fake = tf.cast(fake, tf.float32)
    x_hat = epsilon * real + (1.0 - epsilon) * fake                  # (B, H, W, C)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat, training=True)
    grads = tape.gradient(scores, x_hat)                              # (B, H, W, C)
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
    return tf.square(norms - 1.0)


def masked_l1(pred, target, weights):
    """sum(W |pred - target|) / (C sum(W)) per example: the mean absolute error over the
    pixels where W = 1.

    pred, target (B, H, W, C); weights (B, H, W, 1) in {0, 1}. An example with no weighted
    pixel has loss 0 (the denominator is clamped to 1).
    """
    pred, target, weights = (tf.cast(t, tf.float32) for t in (pred, target, weights))
    channels = tf.cast(tf.shape(pred)[-1], tf.float32)
    errors = tf.reduce_sum(weights * tf.abs(pred - target), axis=[1, 2, 3])      # (B,)
    counts = channels * tf.reduce_sum(weights, axis=[1, 2, 3])                  # (B,)
    return errors / tf.maximum(counts, 1.0)


def generator_loss(loss: str, fake_logits):
    """The generator objective of ``loss`` (one of LOSSES), per example."""
    if loss == "dcgan":
        return dcgan_generator_loss(fake_logits)
    if loss in ("wgan", "wgan-gp"):
        return wgan_generator_loss(fake_logits)
    raise ValueError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")


def discriminator_loss(loss: str, real_logits, fake_logits):
    """The discriminator / critic objective of ``loss`` without any penalty, per example."""
    if loss == "dcgan":
        return dcgan_discriminator_loss(real_logits, fake_logits)
    if loss in ("wgan", "wgan-gp"):
        return wgan_critic_loss(real_logits, fake_logits)
    raise ValueError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")

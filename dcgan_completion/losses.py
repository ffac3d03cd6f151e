"""GAN objectives and the completion objective, as pure per-example functions.

Every function returns a per-example loss of shape (B,); callers reduce. Per-example
values let the training loop divide by the global batch under tf.distribute, and let the
completion use the loss of each image on its own, independent of batch size.

The completion objective (Yeh et al. 2016), minimised over z by completion.complete for
images x with known pixels M (1 = known, 0 = missing):

    contextual(z) = sum_{h,w,c} W * |G(z) - x|                       contextual_loss
    perceptual(z) = -log sigmoid(D(G(z))) = softplus(-D(G(z)))       perceptual_loss
    total(z)      = contextual(z) + lam * perceptual(z)              completion_loss

with W = M, or with a window N > 0 the paper's importance weights
W = M * (fraction of missing pixels in the N x N window around each pixel), so that
known pixels next to the hole count most (N = 7 in the paper; known pixels more than
N // 2 from the hole then get weight 0): context_weights. For 'lowres' masks (factor f)
the contextual term compares f x f block averages instead (lowres_contextual_loss):
contextual = f^2 * sum |avgpool_f(G(z)) - avgpool_f(x)| (f^2 keeps it on the per-pixel scale).

The optional refinement beyond z (completion.complete's ``refine``) minimises the same
total over an intermediate feature map h of G = tail o head, G(z) = tail(head(z)),
from h0 = head(z*), plus a penalty that keeps h near G's own features:

    total(tail(h)) + weight * mean_{h,w,c} (h - h0)^2                feature_penalty
"""

from __future__ import annotations

import tensorflow as tf

LOSSES = ("dcgan", "wgan", "wgan-gp", "hinge")


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


def hinge_discriminator_loss(real_logits, fake_logits):
    """max(0, 1 - D(x)) + max(0, 1 + D(G(z))): the hinge loss (Lim & Ye 2017, used by
    Miyato et al. 2018 and BigGAN); its generator minimises -D(G(z)) (wgan_generator_loss)."""
    return tf.nn.relu(1.0 - _flat(real_logits)) + tf.nn.relu(1.0 + _flat(fake_logits))


def _input_gradients(critic, x):
    """grad_x sum(critic(x)) (B, H, W, C): each example's score's gradient at its input."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = critic(x, training=True)
    return tape.gradient(scores, x)


def gradient_penalty(critic, real, fake, epsilon):
    """(||grad_x f(x_hat)||_2 - 1)^2 at x_hat = eps * real + (1 - eps) * fake (Gulrajani et al. 2017).

    ``epsilon`` has shape (B, 1, 1, 1), uniform in [0, 1]. The critic is called in
    training mode; a WGAN-GP critic has no batch norm, so the mode changes nothing.
    """
    real = tf.cast(real, tf.float32)
    fake = tf.cast(fake, tf.float32)
    x_hat = epsilon * real + (1.0 - epsilon) * fake                  # (B, H, W, C)
    grads = _input_gradients(critic, x_hat)                           # (B, H, W, C)
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
    return tf.square(norms - 1.0)


def r1_penalty(discriminator, real):
    """||grad_x D(x)||_2^2 at the real images x, per example (the R1 regulariser of
    Mescheder et al. 2018, weighted gamma / 2 by the caller): it keeps D flat on the data,
    which stabilises GAN training without changing its optimum."""
    grads = _input_gradients(discriminator, tf.cast(real, tf.float32))   # (B, H, W, C)
    return tf.reduce_sum(tf.square(grads), axis=[1, 2, 3])


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
    if loss in ("wgan", "wgan-gp", "hinge"):
        return wgan_generator_loss(fake_logits)
    raise ValueError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")


def discriminator_loss(loss: str, real_logits, fake_logits):
    """The discriminator / critic objective of ``loss`` without any penalty, per example."""
    if loss == "dcgan":
        return dcgan_discriminator_loss(real_logits, fake_logits)
    if loss in ("wgan", "wgan-gp"):
        return wgan_critic_loss(real_logits, fake_logits)
    if loss == "hinge":
        return hinge_discriminator_loss(real_logits, fake_logits)
    raise ValueError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")


# --- the completion objective (Yeh et al. 2016) ------------------------------------------

def context_weights(masks, window: int = 0) -> tf.Tensor:
    """W of the contextual loss, (B, H, W, 1): M, or M * mean_{N x N window}(1 - M) if window N > 0.

    The window mean at the border averages over the pixels inside the image only.
    """
    m = tf.convert_to_tensor(masks, tf.float32)                          # (B, H, W, 1)
    if not window:
        return m
    missing_share = tf.nn.avg_pool2d(1.0 - m, window, strides=1, padding="SAME")
    return m * missing_share


def contextual_loss(generated, target, weights):
    """sum_{h,w,c} W * |G(z) - x| per image: the weighted L1 distance to the known pixels.

    generated G(z), target x (B, H, W, C); weights W (B, H, W, 1): the mask M, or
    context_weights(M, N).
    """
    return tf.reduce_sum(weights * tf.abs(generated - target), axis=[1, 2, 3])   # (B,)


def lowres_contextual_loss(generated, target_pooled, factor: int):
    """f^2 * sum_{h,w,c} |avgpool_f(G(z)) - avgpool_f(x)| per image, f = ``factor``.

    generated G(z) (B, H, W, C); target_pooled avgpool_f(x) (B, H/f, W/f, C), pooled
    once by the caller. The factor f^2 keeps the loss on the per-pixel scale.
    """
    f = factor
    diff = tf.abs(tf.nn.avg_pool2d(generated, f, f, "VALID") - target_pooled)   # (B, H/f, W/f, C)
    return float(f * f) * tf.reduce_sum(diff, axis=[1, 2, 3])                  # (B,)


def perceptual_loss(fake_logits):
    """-log D(G(z)) = softplus(-D(G(z))) per image: how fake G(z) looks to D.

    The non-saturating generator loss: this calls dcgan_generator_loss.
    """
    return dcgan_generator_loss(fake_logits)


def completion_loss(contextual, perceptual, lam: float):
    """contextual + lam * perceptual per image: the total that the completion minimises."""
    return contextual + lam * perceptual


def feature_penalty(features, start, weight: float):
    """weight * mean_{h,w,c} (h - h0)^2 per image: how far the refined feature map h of G
    has moved from G's own h0 = head(z) (the refinement's penalty; 0 at h = h0).

    features h, start h0 (B, h, w, c). The mean, not the sum, keeps ``weight`` meaning the
    same at every layer of G, whatever its size.
    """
    squares = tf.square(tf.cast(features, tf.float32) - tf.cast(start, tf.float32))
    return weight * tf.reduce_mean(squares, axis=[1, 2, 3])                      # (B,)

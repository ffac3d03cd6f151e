"""Layer helpers with the DCGAN's settings.

Keras 3's defaults differ from the DCGAN paper's (Radford et al. 2015) and from the
original TensorFlow code: batch norm momentum 0.99 / epsilon 1e-3 against 0.9 / 1e-5,
LeakyReLU slope 0.3 against 0.2, Glorot initialisation against N(0, 0.02). These helpers
set the DCGAN values in one place so that the model file reads like the architecture.
"""

from __future__ import annotations

import keras
from keras import layers

KERNEL_SIZE = 5
STRIDE = 2
INIT_STDDEV = 0.02
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5
LEAK = 0.2


def _init(seed=None):
    return keras.initializers.RandomNormal(stddev=INIT_STDDEV, seed=seed)


def conv2d(filters: int, name: str, dtype=None) -> layers.Layer:
    """5x5 stride-2 convolution: halves height and width."""
    return layers.Conv2D(filters, KERNEL_SIZE, strides=STRIDE, padding="same",
                         kernel_initializer=_init(), name=name, dtype=dtype)


def deconv2d(filters: int, name: str, dtype=None) -> layers.Layer:
    """5x5 stride-2 transposed convolution: doubles height and width."""
    return layers.Conv2DTranspose(filters, KERNEL_SIZE, strides=STRIDE, padding="same",
                                  kernel_initializer=_init(), name=name, dtype=dtype)


def linear(units: int, name: str, dtype=None) -> layers.Layer:
    return layers.Dense(units, kernel_initializer=_init(), name=name, dtype=dtype)


def batch_norm(name: str, synchronized: bool = False, dtype=None) -> layers.Layer:
    """Batch norm with the DCGAN's momentum and epsilon.

    ``synchronized`` averages the batch statistics over all replicas of a tf.distribute
    strategy; without it each replica normalises with its own statistics and the moving
    averages drift apart between replicas.
    """
    return layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON,
                                     synchronized=synchronized, name=name, dtype=dtype)


def lrelu(name: str, dtype=None) -> layers.Layer:
    return layers.LeakyReLU(negative_slope=LEAK, name=name, dtype=dtype)

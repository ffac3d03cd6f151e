"""dcgan-completion: semantic face-image completion with a GAN prior.

Modules, one concept each: config (model settings saved beside weights), ops (layers),
model (G and D), losses, data (input pipeline), train (training loop), callbacks,
checkpoints (loading and export), images (I/O and the uint8 <-> [-1, 1] converter).
"""

__version__ = "0.1.0"

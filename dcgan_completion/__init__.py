"""dcgan-completion: semantic face-image completion with a GAN prior.

Modules, one concept each: config (model settings saved beside weights), ops (layers),
model (G and D), losses (the GAN and completion objectives), data (input pipeline), engine
(the training loop, checkpoints and resume every method shares), train (the DCGAN method:
its settings and step), callbacks, checkpoints (loading and export), images (I/O and the
uint8 <-> [-1, 1] converter), files (atomic writes, output locations checked before work),
runtime (TensorFlow's quiet start-up), masks, blend (composite, Poisson blending, the
visible input), completion (projection onto the DCGAN prior), outputs (a completion run's
files, inputs.csv and losses.csv), align (dlib face alignment and paste-back), evaluate
(metrics and OpenCV baselines); completion_net/ holds the completion network (networks,
measurements, training, weights, inference: each its own module); cli/ holds the
command-line front ends.
"""

__version__ = "0.1.0"

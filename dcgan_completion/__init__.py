"""dcgan-completion: semantic face-image completion with a GAN prior.

Modules, one concept each, in the order imports flow (each imports only those above it):
    files        atomic writes, output locations checked before any work
    config       model settings saved beside the weights (config.json); shared constants
    runtime      TensorFlow's quiet start-up
    images       image and GIF I/O, the one uint8 <-> [-1, 1] converter, grids
    inputs       the images a command is given (files, folders, globs), read at the model's size
    ops, model   layers; G and D (no I/O)
    encoder      the encoder: (masked image, mask) -> a starting z (no I/O)
    losses       the GAN objectives and the completion objective (contextual, perceptual, total)
    augment      DiffAugment: differentiable augmentation of what the discriminator sees
    masks        MaskSpec: every mask type, its parameters, image i's mask; mask files
    blend        composite, Poisson blending, the visible input
    data         the training input pipeline (tf.data), unreadable files reported
    checkpoints  finding, reading and exporting checkpoints and weights files
    engine       the training loop every method shares: counters, checkpoints, resume
    train        the DCGAN method: its settings and its step
    train_encoder  the encoder's method, against a frozen generator
    callbacks    progress bar, sample grids, TensorBoard
    completion   projection onto the DCGAN prior (the optimisation of z)
    align        dlib face alignment and pasting a face back into its photo
    photos       completing the face inside a whole photograph
    outputs      a completion run's folder: batches completed and written whole, inputs.csv
    evaluate     metrics and the OpenCV baselines
    completion_net/  the completion network: networks, measurements, training, weights,
                 inference (each its own module)
    web/         dcgan-web's server and page (needs Flask; nothing else imports it)
    cli/         the command-line front ends: parse, build the spec, load, call, write
"""

__version__ = "0.1.0"

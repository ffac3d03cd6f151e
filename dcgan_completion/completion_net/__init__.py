"""The completion network: image completion in one forward pass, learned from damaged
images only (AmbientGAN measurements + GLCIC networks).

Modules, one concept each:
    networks      CompletionConfig (and its config.json), the completion net, the critic,
                  hole_window_offsets
    measurements  the lossy measurements y = f_theta(x) training sees
    training      CompletionTrainConfig, CompletionTrainer, the measured input pipeline,
                  the sample grids and TensorBoard callbacks
    weights       the weights file, loading a weights file, a checkpoint folder or the
                  bundled network
    inference     NetworkCompleter: completing uint8 images with a loaded network

Import from the modules themselves; inference and weights never import training.
"""

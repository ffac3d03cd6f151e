"""Growing a model to twice its size (progressive growing): widths by resolution, the
fading models, and a growing training run (--grow_from)."""

import json

import numpy as np
import pytest
import tensorflow as tf

from dcgan_completion import checkpoints, data, model
from dcgan_completion.cli import train as train_cli
from dcgan_completion.config import ModelConfig
from dcgan_completion.train import GANTrainer, TrainConfig

from test_train import tiny_cli_args

SMALL = ModelConfig(image_size=64, z_dim=8, gf_dim=4, df_dim=4)
BIG = SMALL.replace(image_size=128)


def test_widths_follow_the_resolution_so_every_layer_of_the_smaller_model_has_a_place():
    default = ModelConfig()
    assert model.generator_widths(default.replace(image_size=128)) == [512, 256, 128, 64, 32]
    assert model.discriminator_widths(default.replace(image_size=128)) == [32, 64, 128, 256, 512]
    assert model.discriminator_widths(default.replace(image_size=256)) == [16, 32, 64, 128, 256, 512]
    # 64x64 and smaller keep the layout earlier versions saved.
    assert model.generator_widths(default) == [512, 256, 128, 64]
    assert model.discriminator_widths(default) == [64, 128, 256, 512]
    assert model.discriminator_widths(default.replace(image_size=16)) == [64, 128]


def grown_pair():
    """A random 64x64 tiny model and the fading 128x128 one grown from it."""
    G, D = model.build_models(SMALL)
    faded_g, faded_d, fades = model.fading_models(*model.build_models(BIG))
    model.grow_weights(G, D, faded_g, faded_d)
    return G, D, faded_g, faded_d, fades


def test_at_alpha_0_the_grown_models_are_the_smaller_ones_on_upsampled_and_downsampled_images():
    G, D, faded_g, faded_d, fades = grown_pair()
    z = model.sample_z(3, SMALL.z_dim, (1, 2))
    small = G(z, training=False).numpy()                                   # (3, 64, 64, 3)
    upsampled = np.repeat(np.repeat(small, 2, axis=1), 2, axis=2)           # nearest, 2x
    np.testing.assert_array_equal(faded_g(z, training=False).numpy(), upsampled)
    x = tf.random.stateless_uniform((3, 128, 128, 3), (3, 4), -1.0, 1.0)
    pooled = tf.nn.avg_pool2d(x, 2, 2, "VALID")
    np.testing.assert_array_equal(faded_d(x, training=False).numpy(),
                                  D(pooled, training=False).numpy())
    assert [float(f.alpha.numpy()) for f in fades] == [0.0, 0.0]


def test_at_alpha_1_the_grown_models_are_the_plain_larger_ones():
    G2, D2 = model.build_models(BIG)
    faded_g, faded_d, fades = model.fading_models(G2, D2)
    model.set_fade(fades, 3.0)                                              # clipped to 1
    z = model.sample_z(2, SMALL.z_dim, (5, 6))
    np.testing.assert_array_equal(faded_g(z, training=False), G2(z, training=False))
    x = tf.random.stateless_uniform((2, 128, 128, 3), (7, 8), -1.0, 1.0)
    np.testing.assert_array_equal(faded_d(x, training=False), D2(x, training=False))
    # The fading models train the larger model's weights themselves, plus the smaller one's ends.
    shared = {id(v) for v in G2.trainable_variables}
    assert shared <= {id(v) for v in faded_g.trainable_variables}


def test_a_model_that_is_not_half_the_size_does_not_grow():
    G, D = model.build_models(SMALL.replace(gf_dim=8))
    faded_g, faded_d, _ = model.fading_models(*model.build_models(BIG))
    with pytest.raises(ValueError, match="does not fit"):
        model.grow_weights(G, D, faded_g, faded_d)


@pytest.fixture
def small_weights(tmp_path):
    G, D = model.build_models(SMALL)
    path = str(tmp_path / "small.npz")
    checkpoints.save_weights_file(SMALL, G, D, path, dtype=np.float32)
    return path, G


def test_a_growing_run_fades_in_checkpoints_and_loads_as_a_plain_128_model(
        tmp_path, toy_dataset, small_weights):
    path, small_g = small_weights
    paths = data.find_training_images(toy_dataset)
    cfg = TrainConfig(epochs=1, batch_size=8, grow_from=path, fade_steps=2, ema=0.9)
    trainer = GANTrainer(BIG, cfg, str(tmp_path / "run"))
    assert not trainer.run.restore()
    trainer.start_new_run()
    faded_g = trainer.stepped[0]
    z = model.sample_z(2, SMALL.z_dim, (0, 9))
    upsampled = np.repeat(np.repeat(small_g(z, training=False).numpy(), 2, 1), 2, 2)
    np.testing.assert_array_equal(faded_g(z, training=False).numpy(), upsampled)
    trainer.run.fit(paths, [])                                # 3 steps: alpha 0.5, then 1
    assert [float(f.alpha.numpy()) for f in trainer.fades] == [1.0, 1.0, 1.0]   # G, D, G's average
    config, G, D = checkpoints.load_models(str(tmp_path / "run"))
    assert config.image_size == 128 and G.output_shape == (None, 128, 128, 3)
    np.testing.assert_allclose(G(z, training=False), trainer.final_generator(z, training=False),
                               atol=1e-6)
    # The samples show the fading G's moving average; a resumed run has it all back.
    np.testing.assert_array_equal(trainer.sample(z), trainer.ema_fading(z, training=False))
    again = GANTrainer(BIG, cfg, str(tmp_path / "run"))
    assert again.run.restore()
    assert [float(f.alpha.numpy()) for f in again.fades] == [1.0, 1.0, 1.0]
    for mine, theirs in ((again.stepped[1], trainer.stepped[1]),
                         (again.ema_fading, trainer.ema_fading)):
        for a, b in zip(mine.get_weights(), theirs.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_the_command_grows_and_refuses_a_model_of_another_size(tmp_path, toy_dataset,
                                                                small_weights, caplog):
    path, _ = small_weights
    flags = ["--image_size", "128", "--gf_dim", "4", "--df_dim", "4", "--z_dim", "8",
             "--epoch", "1", "--grow_from", path, "--fade_steps", "2"]
    args = tiny_cli_args(toy_dataset, tmp_path / "cli", *flags)
    assert train_cli.main(args) == 0
    saved = json.load(open(tmp_path / "cli" / "ckpt" / "config.json"))
    assert saved["train"]["grow_from"] == path and saved["model"]["image_size"] == 128
    wrong = tiny_cli_args(toy_dataset, tmp_path / "wrong", *flags[:1], "256", *flags[2:])
    assert train_cli.main(wrong) == 2
    assert (f"{path} holds another model than the 128x128 model that this 256x256 run grows: "
            "image_size 64 instead of 128") in caplog.text
    assert "--grow_from WEIGHTS of half the --image_size" in caplog.text
    assert not (tmp_path / "wrong").exists()
    with pytest.raises(ValueError, match="not both"):
        TrainConfig(init_from=path, grow_from=path)


def test_real_images_fade_in_as_the_new_blocks_do():
    x = tf.random.stateless_uniform((2, 8, 8, 3), (1, 1), -1.0, 1.0)
    coarse = np.repeat(np.repeat(tf.nn.avg_pool2d(x, 2, 2, "VALID").numpy(), 2, 1), 2, 2)
    np.testing.assert_array_equal(model.fade_reals(x, 0.0), coarse)      # what the small D saw
    np.testing.assert_array_equal(model.fade_reals(x, 1.0), x)
    np.testing.assert_allclose(model.fade_reals(x, 0.25), 0.75 * coarse + 0.25 * x.numpy(),
                               atol=1e-6)

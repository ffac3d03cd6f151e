"""Shapes and settings of the generator and discriminator, and the config round trip."""

import numpy as np
import pytest
import tensorflow as tf

from dcgan_completion import model, ops
from dcgan_completion.config import ConfigError, ModelConfig, load_config, save_config


@pytest.mark.parametrize("size,channels", [(8, 1), (16, 3), (32, 1), (64, 3)])
def test_shapes_for_sizes_and_channels(size, channels):
    cfg = ModelConfig(image_size=size, channels=channels, z_dim=10, gf_dim=4, df_dim=4)
    G, D = model.build_models(cfg)
    z = model.sample_z(3, cfg.z_dim, (1, 2))
    x = G(z, training=False)
    assert x.shape == (3, size, size, channels)
    assert float(tf.reduce_max(tf.abs(x))) <= 1.0          # tanh output
    assert D(x, training=False).shape == (3, 1)


def test_default_architecture_matches_the_dcgan():
    cfg = ModelConfig()
    G, D = model.build_models(cfg)
    assert model.generator_widths(cfg) == [512, 256, 128, 64]
    assert model.discriminator_widths(cfg) == [64, 128, 256, 512]
    assert G.get_layer("g_h0_reshape").output.shape[1:] == (4, 4, 512)
    assert G.get_layer("g_h1").kernel.shape == (5, 5, 256, 512)   # 5x5 transposed conv
    assert D.get_layer("d_h0_conv").strides == (2, 2)
    # Batch norm on all discriminator layers but the first, with the DCGAN's settings.
    bns = [layer for layer in D.layers if "bn" in layer.name]
    assert [b.name for b in bns] == ["d_bn1", "d_bn2", "d_bn3"]
    assert all(b.momentum == 0.9 and b.epsilon == 1e-5 for b in bns)
    assert D.get_layer("d_h0_lrelu").negative_slope == pytest.approx(0.2)
    # 100 -> 4*4*512 linear (827,392), 4 deconvs (4,306,051), batch norms (3,840)
    assert G.count_params() == 5_137_283


def test_weights_are_normal_002():
    G = model.build_generator(ModelConfig(gf_dim=16))
    w = G.get_layer("g_h1").kernel.numpy()
    assert abs(w.mean()) < 0.002 and w.std() == pytest.approx(ops.INIT_STDDEV, rel=0.05)


def test_wgan_gp_critic_has_no_batch_norm():
    D = model.build_discriminator(ModelConfig(critic_batch_norm=False, df_dim=4))
    assert not [layer for layer in D.layers if "bn" in layer.name]


def test_sample_z_is_uniform_and_reproducible():
    a = model.sample_z(1000, 100, (3, 4)).numpy()
    assert a.min() >= -1 and a.max() <= 1 and abs(a.mean()) < 0.01
    np.testing.assert_array_equal(a, model.sample_z(1000, 100, (3, 4)).numpy())


def test_standing_statistics_average_the_batch_statistics():
    config = ModelConfig(image_size=8, channels=1, gf_dim=4, df_dim=4, z_dim=5)
    G = model.build_generator(config)
    zs = [model.sample_z(6, 5, (k, 1)) for k in range(3)]
    inputs = tf.keras.Model(G.input, G.get_layer("g_h0_reshape").output)  # (B, 4, 4, 32), g_bn0's input
    h = [inputs(z).numpy() for z in zs]
    momentum = G.get_layer("g_bn0").momentum
    model.standing_statistics(G, zs)
    bn = G.get_layer("g_bn0")
    np.testing.assert_allclose(bn.moving_mean, np.mean([x.mean(axis=(0, 1, 2)) for x in h], axis=0),
                               atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance,
                               np.mean([x.var(axis=(0, 1, 2)) for x in h], axis=0), rtol=1e-5)
    assert bn.momentum == momentum                                    # left as it was


def test_mixed_precision_output_is_float32():
    cfg = ModelConfig(image_size=8, gf_dim=4, df_dim=4, dtype_policy="mixed_bfloat16")
    G, D = model.build_models(cfg)
    x = G(model.sample_z(2, cfg.z_dim, (0, 0)), training=False)
    assert x.dtype == tf.float32 and D(x).dtype == tf.float32


@pytest.mark.parametrize("bad,says", [
    (dict(image_size=48), "image_size must be a power of two >= 8, got 48"),
    (dict(image_size=4), "image_size must be a power of two >= 8, got 4"),
    (dict(channels=2), "channels must be 1 or 3, got 2"), (dict(z_dim=0), "z_dim must be positive")])
def test_invalid_configs_are_refused(bad, says):
    with pytest.raises(ConfigError, match=says):
        ModelConfig(**bad)


def test_config_round_trip(tmp_path):
    cfg = ModelConfig(image_size=32, channels=1, z_dim=7)
    save_config(cfg, str(tmp_path), {"train": {"loss": "wgan"}})
    loaded, extra = load_config(str(tmp_path))
    assert loaded == cfg and extra == {"train": {"loss": "wgan"}}

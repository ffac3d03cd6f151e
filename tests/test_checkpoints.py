"""Loading networks back: training checkpoints and the compact weights file."""

import numpy as np
import pytest
import tensorflow as tf

from dcgan_completion import checkpoints
from dcgan_completion.config import ModelConfig, save_config
from dcgan_completion.model import build_models, sample_z

TINY = ModelConfig(image_size=16, z_dim=8, gf_dim=4, df_dim=4)


def test_weights_file_round_trip(tmp_path):
    G, D = build_models(TINY)
    path = checkpoints.save_weights_file(TINY, G, D, str(tmp_path / "w.npz"))
    config, G2, D2 = checkpoints.load_weights_file(path)
    assert config == TINY
    z = sample_z(3, TINY.z_dim, (0, 0))
    x = G(z, training=False)
    np.testing.assert_allclose(G2(z, training=False), x, atol=2e-3)      # float16 storage
    np.testing.assert_allclose(D2(x, training=False), D(x, training=False), atol=2e-3)
    with np.load(path, allow_pickle=False) as f:                         # no pickle inside
        assert all(f[k].dtype != object for k in f.files)


def test_weights_file_with_a_wrong_shape_is_refused(tmp_path):
    G, D = build_models(TINY)
    path = str(tmp_path / "w.npz")
    checkpoints.save_weights_file(TINY, G, D, path)
    with np.load(path) as f:
        arrays = dict(f)
    arrays["generator/g_h0_lin/kernel"] = np.zeros((3, 3), np.float16)
    np.savez(path, **arrays)
    with pytest.raises(checkpoints.CheckpointError, match=r"g_h0_lin/kernel has shape \(3, 3\)"):
        checkpoints.load_weights_file(path)


def test_not_a_weights_file(tmp_path):
    bad = tmp_path / "w.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(checkpoints.CheckpointError, match="not a dcgan-completion weights file"):
        checkpoints.load_weights_file(str(bad))


def test_checkpoint_that_does_not_match_its_config(tmp_path):
    G, D = build_models(TINY)
    tf.train.Checkpoint(generator=G, discriminator=D).save(str(tmp_path / "ckpt"))
    save_config(TINY.replace(gf_dim=8), str(tmp_path))                   # lies about the width
    with pytest.raises(checkpoints.CheckpointError, match="does not match"):
        checkpoints.load_models(str(tmp_path))


def test_missing_checkpoint_folder():
    with pytest.raises(checkpoints.CheckpointError, match="does not exist"):
        checkpoints.load_models("/nonexistent/run")

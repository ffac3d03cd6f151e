"""dcgan-demo and the bundled model."""

import os

import numpy as np
import pytest

from dcgan_completion import checkpoints, images
from dcgan_completion.cli import demo
from dcgan_completion.config import ModelConfig
from dcgan_completion.model import build_models, sample_z


def test_demo_writes_before_after_pictures(tmp_path):
    cfg = ModelConfig(image_size=16, z_dim=8, gf_dim=4, df_dim=4)
    weights = checkpoints.save_weights_file(cfg, *build_models(cfg), str(tmp_path / "tiny.npz"))
    out = tmp_path / "demo"
    assert demo.main(["--outDir", str(out), "--checkpointDir", weights, "--nIter", "2"]) == 0
    assert sorted(os.listdir(out / "before_after")) == ["astronaut.png", "grace_hopper.png"]
    pair = images.load_image(str(out / "before_after" / "astronaut.png"))
    assert pair.shape == (512, 2 * 512 + 8, 3)
    assert os.path.exists(out / "completion" / "batch000" / "completion.gif")
    assert demo.main(["--outDir", str(out), "--checkpointDir", weights]) == 2   # not empty


@pytest.mark.skipif(not checkpoints.bundled_model_available(), reason="no bundled model")
def test_bundled_model_loads_and_makes_faces():
    config, G, D = checkpoints.load_model()
    assert config.image_shape == (64, 64, 3)
    x = images.to_uint8(G(sample_z(16, config.z_dim, (0, 0)), training=False))
    assert x.shape == (16, 64, 64, 3)
    assert x.std() > 20                               # varied pictures, not a flat colour
    assert np.isfinite(D(images.to_float(x), training=False).numpy()).all()

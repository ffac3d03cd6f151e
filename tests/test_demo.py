"""dcgan-demo and the bundled model."""

import os

import numpy as np
import pytest

from dcgan_completion import checkpoints, completion, images
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


needs_bundled = pytest.mark.skipif(not checkpoints.bundled_model_available(),
                                   reason="no bundled model installed")


@needs_bundled
def test_bundled_model_loads_and_makes_faces():
    config, G, D = checkpoints.load_model()
    assert config.image_shape == (64, 64, 3) and config.z_dim == 100
    z = sample_z(16, config.z_dim, (0, 0))
    x = images.to_uint8(G(z, training=False))
    assert x.shape == (16, 64, 64, 3)
    assert x.std() > 20                               # varied pictures, not a flat colour
    np.testing.assert_array_equal(images.to_uint8(G(z, training=False)), x)   # deterministic
    _, G2, _ = checkpoints.load_model()
    np.testing.assert_array_equal(images.to_uint8(G2(z, training=False)), x)
    assert D(images.to_float(x), training=False).shape == (16, 1)


@needs_bundled
def test_demo_with_the_bundled_model_writes_every_promised_file(tmp_path):
    out = tmp_path / "demo"
    assert demo.main(["--outDir", str(out), "--nIter", "3"]) == 0
    names = ["astronaut.png", "grace_hopper.png"]
    assert sorted(os.listdir(out / "before_after")) == names
    for folder in ("restored", "damaged", "completed", "input", "masked", "generated"):
        assert sorted(os.listdir(out / "completion" / folder)) == names, folder
    # The bundled model has an encoder: 3 iterations on z, then its budget's refinement.
    refine = completion.START_BUDGETS["encoder"]["refine"]
    for name in ("completion.gif", "masked.png", f"completed_{3 + refine:04d}.png"):
        assert os.path.getsize(out / "completion" / "batch000" / name) > 0
    rows = open(out / "completion" / "losses.csv").readlines()
    # it 0, 3 and 3 + refine, and the detail's one more where fills are averaged with the
    # bundled network by default (dcgan-complete's default).
    from dcgan_completion.completion_net.weights import bundled_network_available
    detail = completion.WITH_NETWORK and completion.GUIDE_DETAIL and bundled_network_available()
    assert len(rows) == 1 + 2 * (3 + detail)


@needs_bundled
def test_with_network_averages_the_bundled_projection_with_the_bundled_network(tmp_path,
                                                                               caplog):
    import logging

    from skimage import data as skdata

    from dcgan_completion import align
    from dcgan_completion.cli import complete as complete_cli
    from dcgan_completion.completion_net.weights import bundled_network_available
    if not bundled_network_available():
        pytest.skip("no bundled completion network installed")
    face = align.FaceAligner().align(skdata.astronaut(), 64).image
    images.save_image(str(tmp_path / "astronaut.png"), face)
    runs = {}
    for flag in ("--withNetwork", "--no-withNetwork"):
        out = tmp_path / flag.strip("-")
        caplog.clear()
        with caplog.at_level(logging.INFO):
            assert complete_cli.main([str(tmp_path / "astronaut.png"), "--nIter", "2",
                                      "--modelSize", "64", "--outDir", str(out), flag,
                                      "--precision", "float32", "--noProgress"]) == 0
        runs[flag] = images.load_image(str(out / "completed" / "astronaut.png"))
        assert ("each fill averaged with the completion network's" in caplog.text) == (
            flag == "--withNetwork")
    from dcgan_completion import masks
    hole = np.broadcast_to(masks.MaskSpec(masks.DEFAULT_KIND, 64).masks(1).values[0] < 0.5,
                           face.shape)
    assert not np.array_equal(runs["--withNetwork"][hole], runs["--no-withNetwork"][hole])
    np.testing.assert_array_equal(runs["--withNetwork"][~hole], face[~hole])
    # lowres masks know no pixel to fill around: the projection alone by default, and
    # --withNetwork refused with the reason.
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert complete_cli.main([str(tmp_path / "astronaut.png"), "--nIter", "2",
                                  "--modelSize", "64", "--maskType", "lowres", "--outDir",
                                  str(tmp_path / "lowres"), "--noProgress"]) == 0
    assert "averaged" not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        assert complete_cli.main([str(tmp_path / "astronaut.png"), "--maskType", "lowres",
                                  "--withNetwork", "--outDir", str(tmp_path / "refused")]) == 2
    assert "--withNetwork: a completion network fills holes" in caplog.text


@needs_bundled
def test_evaluate_on_the_packaged_photos(tmp_path):
    import json

    import matplotlib.cbook
    from PIL import Image
    from skimage import data as skdata

    from dcgan_completion import align
    from dcgan_completion.cli import evaluate as evaluate_cli
    aligner = align.FaceAligner()
    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as img:
        hopper = np.asarray(img.convert("RGB"))
    for name, photo in (("astronaut", skdata.astronaut()), ("hopper", hopper)):
        images.save_image(str(tmp_path / "faces" / f"{name}.png"), aligner.align(photo, 64).image)
    out = tmp_path / "eval"
    assert evaluate_cli.main([str(tmp_path / "faces"), "--nIter", "3", "--masks", "center",
                              "left", "--outDir", str(out), "--noProgress"]) == 0
    results = json.load(open(out / "results.json"))
    assert results["model"] == "bundled"
    assert results["dcgan_with_network"] == completion.WITH_NETWORK
    assert set(results["summary"]["left"]) == {"telea", "navier-stokes", "dcgan", "network"}
    assert all(len(v) == 2 for v in results["per_image"]["center"].values())
    assert (out / "grid_center.png").exists() and (out / "table.txt").exists()

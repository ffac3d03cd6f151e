"""The evaluation metrics, the OpenCV baselines and the dcgan-evaluate command."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from dcgan_completion import evaluate
from dcgan_completion.cli import evaluate as evaluate_cli
from dcgan_completion.config import ModelConfig, save_config
from dcgan_completion.model import build_models

from conftest import write_toy_faces


def tiny_checkpoint(tmp_path, size=16):
    cfg = ModelConfig(image_size=size, z_dim=8, gf_dim=4, df_dim=4)
    G, D = build_models(cfg)
    ckpt = tmp_path / "ckpt"
    tf.train.Checkpoint(generator=G, discriminator=D).save(str(ckpt / "ckpt"))
    save_config(cfg, str(ckpt))
    return str(ckpt)


def test_hole_metrics_golden_values():
    original = np.full((8, 8, 3), 100, np.uint8)
    completed = original.copy()
    mask = np.ones((8, 8, 1), np.float32)
    mask[2:4, 2:4] = 0
    completed[2:4, 2:4] = 110                                # error 10 in the hole only
    m = evaluate.image_metrics(original, completed, mask)
    assert m["hole_psnr"] == pytest.approx(10 * np.log10(255 ** 2 / 100))      # 28.13 dB
    assert m["psnr"] == pytest.approx(10 * np.log10(255 ** 2 / (100 * 4 / 64)))
    assert m["hole_l1"] == pytest.approx(10 / 255)
    assert evaluate.image_metrics(original, original, mask)["hole_psnr"] == evaluate.PSNR_CAP


@pytest.mark.parametrize("name", sorted(evaluate.BASELINES))
def test_opencv_baselines_fill_only_the_hole(name):
    rng = np.random.default_rng(0)
    images = np.repeat(np.linspace(0, 255, 32, dtype=np.uint8)[None, None, :, None], 32, 1)
    images = np.repeat(np.repeat(images, 3, -1), 2, 0)                  # (2, 32, 32, 3) ramp
    masks = np.ones((2, 32, 32, 1), np.float32)
    masks[:, 8:24, 8:24] = 0
    holed = np.where(masks > 0, images, rng.integers(0, 255, images.shape)).astype(np.uint8)
    out = evaluate.BASELINES[name](holed, masks)
    known = np.broadcast_to(masks > 0, images.shape)
    np.testing.assert_array_equal(out[known], images[known])
    # A horizontal ramp is easy to inpaint: far better than the noise that was there.
    assert evaluate.image_metrics(images[0], out[0], masks[0])["hole_psnr"] > 20   # noise: ~8


def test_a_smaller_model_fills_only_the_hole_and_never_sees_it():
    """at_model_size: the method gets the face at its own size, the hole gray (the true
    pixels gone); the known pixels come back exactly, the hole from the method's output,
    whatever the hole's true pixels were."""
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    masks = np.ones((2, 32, 32, 1), np.float32)
    masks[:, 8:24, 8:24] = 0
    seen = {}

    def paint(x, m):                      # a 16-px "model": fills its hole with 200
        seen["x"], seen["m"] = x, m
        return np.where(m >= 0.5, x, np.uint8(200))

    out = evaluate.at_model_size(paint, 16, blend="paste")(faces, masks)
    assert seen["x"].shape == (2, 16, 16, 3) and seen["m"].shape == (2, 16, 16, 1)
    assert np.all(seen["x"][seen["m"][..., 0] < 0.5] == 128)      # the hole arrives gray
    known = masks[..., 0] >= 0.5
    assert np.array_equal(out[known], faces[known])
    assert np.all(out[:, 12:20, 12:20] == 200)          # the hole's inside: the method's fill
    other = faces.copy()
    other[~known] = 255 - other[~known]                       # other true pixels in the hole
    again = evaluate.at_model_size(paint, 16, blend="paste")(other, masks)
    assert np.array_equal(again, np.where(known[..., None], other, out))   # nothing leaked
    same = evaluate.at_model_size(paint, 32)(faces, masks)      # the model's own size
    assert np.array_equal(same, paint(faces, masks))


def test_cli_writes_table_json_and_grids(tmp_path, capsys, caplog):
    ckpt = tiny_checkpoint(tmp_path)
    write_toy_faces(str(tmp_path / "faces"), 5, size=(16, 16))
    out = tmp_path / "eval"
    rc = evaluate_cli.main([str(tmp_path / "faces"), "--checkpointDir", str(ckpt), "--nIter", "5",
                            "--limit", "4", "--masks", "center", "random", "--outDir", str(out),
                            "--noProgress"])
    assert rc == 0
    assert sorted(os.listdir(out)) == ["grid_center.png", "grid_random.png", "results.json",
                                       "table.txt"]
    results = json.load(open(out / "results.json"))
    assert set(results["summary"]) == {"center", "random"}
    assert set(results["summary"]["center"]) == {"telea", "navier-stokes", "dcgan"}
    assert len(results["per_image"]["random"]["dcgan"]) == 4
    center = results["summary"]["center"]["dcgan"]
    assert {"sharpness_0", "sharpness_1", "sharpness_2", "identity", "frechet",
            "kernel"} <= set(center)
    # Toy squares are no faces: the descriptor reads none, and says so; none is dropped.
    assert len(results["identity"]["unreadable_faces"]) == 4
    assert center["identity_unreadable"] == 4 and center["identity"] is None
    assert all(m["identity"] is None for m in results["per_image"]["center"]["dcgan"])
    assert "navier-stokes" in capsys.readouterr().out
    assert "could not read 4 of 4" in caplog.text
    # Rerunning into the same folder is refused: nothing is overwritten.
    assert evaluate_cli.main([str(tmp_path / "faces"), "--checkpointDir", str(ckpt),
                              "--outDir", str(out)]) == 2


def test_ssim_and_psnr_by_hand_on_a_constant_pair():
    # Constant pictures 100 and 110: the SSIM's structure term is 1 and its luminance term
    # is (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) with C1 = (0.01 * 255)^2.
    a, b = np.full((16, 16, 3), 100, np.uint8), np.full((16, 16, 3), 110, np.uint8)
    c1 = (0.01 * 255) ** 2
    m = evaluate.image_metrics(a, b, np.zeros((16, 16, 1), np.float32))   # all missing
    assert m["ssim"] == pytest.approx((2 * 100 * 110 + c1) / (100 ** 2 + 110 ** 2 + c1))
    assert m["psnr"] == pytest.approx(20 * np.log10(255 / 10)) == m["hole_psnr"]
    assert m["hole_l1"] == pytest.approx(10 / 255)



def test_photo_evaluation_of_the_packaged_photos(tmp_path, caplog):
    import matplotlib.cbook
    from PIL import Image
    from skimage import data as skdata
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(skdata.astronaut()).save(photos / "astronaut.png")
    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as img:
        img.convert("RGB").save(photos / "hopper.jpg")
    (photos / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "eval"
    rc = evaluate_cli.main(["--photo", str(photos), "--checkpointDir", tiny_checkpoint(tmp_path),
                            "--nIter", "2", "--methods", "navier-stokes", "dcgan",
                            "--masks", "center", "--outDir", str(out), "--noProgress"])
    assert rc == 1                                        # the broken file: named, skipped
    assert sorted(os.listdir(out)) == ["grid_center.png", "results.json", "table.txt"]
    results = json.load(open(out / "results.json"))
    assert results["photo"] and list(results["skipped"]) == [str(photos / "broken.jpg")]
    assert results["texture"] is True                     # photo mode's default, recorded
    assert [os.path.basename(p) for p in results["images"]] == ["astronaut.png", "hopper.jpg"]
    for name in ("navier-stokes", "dcgan"):
        summary = results["summary"]["center"][name]
        # Scored in the photos: both faces read, sharpness measured, no set distance.
        assert summary["identity_unreadable"] == 0 and 0 <= summary["identity"] < 2
        assert 0 < summary["sharpness_0"] < 1 and "frechet" not in summary
        assert 5 < summary["hole_psnr"] < 40
        assert len(results["per_image"]["center"][name]) == 2
    assert "broken.jpg" in caplog.text


def test_photo_flags_that_do_not_fit_are_refused(tmp_path, caplog):
    write_toy_faces(str(tmp_path / "faces"), 2, size=(16, 16))
    ckpt = tiny_checkpoint(tmp_path)
    cases = [([str(tmp_path / "faces"), str(tmp_path / "faces")], "one folder"),
             ([str(tmp_path / "faces"), "--photoMask", "m.png"], "needs --photo"),
             (["--photo", str(tmp_path / "faces"), "--photoMask", "m.png", "--masks", "left"],
              "cannot be combined"),
             ([str(tmp_path / "faces"), "--no-texture"], "they need --photo")]
    for argv, message in cases:
        assert evaluate_cli.main(argv + ["--checkpointDir", ckpt, "--methods", "telea",
                                         "--outDir", str(tmp_path / "out")]) == 2
        assert message in caplog.text
        caplog.clear()
    assert not os.path.exists(tmp_path / "out")

"""The align-dlib, make-gif and simple-distributions front ends, called through main(argv)."""

import logging
import os
import subprocess
import sys

import imageio.v3 as iio
import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from dcgan_completion import images
from dcgan_completion.cli import align as align_cli
from dcgan_completion.cli import distributions, make_gif

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _photo_folder(tmp_path):
    src = tmp_path / "raw"
    images.save_image(str(src / "people" / "astronaut.png"), skdata.astronaut())
    (src / "more").mkdir()
    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as img:
        img.convert("RGB").save(src / "more" / "hopper.jpg")
    images.save_image(str(src / "people" / "coins.png"), skdata.coins()[..., None])   # no face
    (src / "people" / "broken.jpg").write_bytes(b"not a jpeg at all")
    return src


def test_align_cli_openface_syntax_and_flat_layout(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    src, out = _photo_folder(tmp_path), tmp_path / "flat"
    rc = align_cli.main([str(src), "align", "outerEyesAndNose", str(out), "--size", "48",
                         "--flat", "--workers", "1", "--noProgress"])
    assert rc == 1                        # some photos skipped: done, but not everything
    assert sorted(f for f in os.listdir(out) if f.endswith(".png")) == ["astronaut.png", "hopper.png"]
    assert images.load_image(str(out / "hopper.png")).shape == (48, 48, 3)
    text = caplog.text
    assert "aligned: 2" in text and "coins.png" in text and "broken.jpg" in text


def test_align_cli_fatal_errors(tmp_path, capsys):
    src = _photo_folder(tmp_path)
    assert align_cli.main([str(tmp_path / "nowhere"), "align", str(tmp_path / "o"), "--noProgress"]) == 2
    assert align_cli.main([str(src), "align", str(tmp_path / "o"), "--dlibFacePredictor",
                           str(tmp_path / "missing.dat"), "--noProgress"]) == 2
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    assert align_cli.main([str(src), "align", str(blocker / "out"), "--noProgress"]) == 2
    for bad in (["--workers", "0"], ["--size", "x"], ["--mode"]):
        with pytest.raises(SystemExit) as e:
            align_cli.main([str(src), "align", str(tmp_path / "o")] + bad)
        assert e.value.code == 2 and bad[0] in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        align_cli.main([str(src), "align", "noSuchLandmarks", str(tmp_path / "o")])
    assert e.value.code == 2 and "invalid choice: 'noSuchLandmarks'" in capsys.readouterr().err


def test_align_script_runs_from_a_checkout():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "align-dlib.py"), "--help"],
                         capture_output=True, text=True, timeout=120, cwd="/")
    assert out.returncode == 0, out.stderr
    assert "innerEyesAndBottomLip" in out.stdout and "--dlibFacePredictor" in out.stdout


def test_make_gif_natural_order_delay_and_loop(tmp_path):
    frames = tmp_path / "frames"
    for i in (1, 2, 10):                                          # natural order: 1, 2, 10
        images.save_image(str(frames / f"frame{i}.png"), np.full((8, 8, 3), 20 * i, np.uint8))
    (frames / "notes.txt").write_text("ignored")
    out = tmp_path / "out.gif"
    assert make_gif.main([str(frames), str(out), "--delay", "20", "--loop", "0"]) == 0
    gif = iio.imread(out, index=None)
    assert gif.shape[0] == 3
    assert gif[0].mean() < gif[1].mean() < gif[2].mean()          # 1, 2, 10 (not 1, 10, 2)
    meta = iio.immeta(out, index=0)
    assert meta["duration"] == 200 and meta.get("loop", 0) == 0   # 20 hundredths = 200 ms
    assert make_gif.main([str(frames), str(out)]) == 2             # never overwrites
    assert make_gif.main([str(tmp_path / "nowhere"), str(tmp_path / "x.gif")]) == 2


def test_make_gif_resizes_odd_frames_and_skips_unreadable(tmp_path):
    frames = tmp_path / "frames"
    images.save_image(str(frames / "a1.png"), np.zeros((8, 8, 3), np.uint8))
    images.save_image(str(frames / "a2.png"), np.full((16, 12, 1), 200, np.uint8))
    (frames / "a3.png").write_bytes(b"garbage")
    assert make_gif.main([str(frames), str(tmp_path / "out.gif")]) == 1     # a frame dropped
    gif = iio.imread(tmp_path / "out.gif", index=None)
    assert gif.shape[:3] == (2, 8, 8)


def test_simple_distributions_writes_three_pngs(tmp_path):
    assert distributions.main([str(tmp_path / "figs"), "--seed", "3"]) == 0
    assert sorted(os.listdir(tmp_path / "figs")) == sorted(distributions.FILES)
    for name in distributions.FILES:
        with Image.open(tmp_path / "figs" / name) as img:
            assert img.format == "PNG" and min(img.size) > 100


def test_average_weights_script_writes_the_mean_and_refuses_other_models(tmp_path):
    """dev/runs/average-weights.py: the mean of each array in the inputs' dtype, their
    config kept; files of another model or config are refused, and no input is overwritten."""
    from dcgan_completion.checkpoints import read_weights_file, write_weights_file
    meta = {"kind": "completion-net", "width": 4}
    paths = []
    for k, value in enumerate((1.0, 2.0, 6.0)):
        path = str(tmp_path / f"w{k}.npz")
        write_weights_file(path, {"a/kernel": np.full((2, 3), value, np.float16),
                                  "a/bias": np.full((3,), -value, np.float16)}, meta)
        paths.append(path)
    script = os.path.join(ROOT, "dev", "runs", "average-weights.py")
    out = str(tmp_path / "mean.npz")
    run = subprocess.run([sys.executable, script, out, *paths], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    arrays, saved = read_weights_file(out)
    assert saved == meta
    np.testing.assert_array_equal(arrays["a/kernel"], np.full((2, 3), 3.0, np.float16))
    np.testing.assert_array_equal(arrays["a/bias"], np.full((3,), -3.0, np.float16))
    assert arrays["a/kernel"].dtype == np.float16
    other = str(tmp_path / "other.npz")
    write_weights_file(other, {"a/kernel": np.zeros((2, 3), np.float16),
                               "a/bias": np.zeros((3,), np.float16)}, {**meta, "width": 8})
    run = subprocess.run([sys.executable, script, str(tmp_path / "x.npz"), paths[0], other],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "another config" in run.stderr
    assert not os.path.exists(tmp_path / "x.npz")
    before = open(paths[0], "rb").read()
    run = subprocess.run([sys.executable, script, paths[0], *paths], capture_output=True, text=True)
    assert run.returncode == 2 and "one of the inputs" in run.stderr
    assert open(paths[0], "rb").read() == before

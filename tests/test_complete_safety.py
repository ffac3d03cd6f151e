"""dcgan-complete from the user's side: bad settings, interrupts, the inputs.csv record,
the exit status, the output folder, mask sizes and EXIF-rotated photos.

A tiny 16x16 model saved as a weights file, tiny images and 2-4 iterations: each test
takes seconds.
"""

import csv
import functools
import logging
import math
import os

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageOps

from dcgan_completion import blend, checkpoints, completion, images
from dcgan_completion.cli import complete as complete_cli
from dcgan_completion.config import ModelConfig
from dcgan_completion.model import build_models

from conftest import write_toy_faces

S = 16


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    cfg = ModelConfig(image_size=S, z_dim=8, gf_dim=4, df_dim=4)
    path = str(tmp_path_factory.mktemp("model") / "tiny.npz")
    return checkpoints.save_weights_file(cfg, *build_models(cfg), path)


def run(weights, out, inputs, *extra):
    return complete_cli.main(["--checkpointDir", weights, "--outDir", str(out), "--nIter", "2",
                              "--outInterval", "1", "--noProgress", "--precision", "float32",
                              *map(str, extra), *map(str, inputs)])


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def all_files(folder):
    return sorted(os.path.relpath(os.path.join(d, n), folder)
                  for d, _, names in os.walk(folder) for n in names)


# --- 1. numbers are refused at parse time ----------------------------------------------------

@pytest.mark.parametrize("flag, value", [
    ("--lam", "nan"), ("--lam", "-1"), ("--lr", "nan"), ("--lr", "0"), ("--lr", "inf"),
    ("--momentum", "1"), ("--momentum", "nan"), ("--nIter", "0"), ("--batchSize", "0"),
    ("--outInterval", "0"), ("--restarts", "0"), ("--weightedContext", "-1"),
    ("--centerScale", "0.7"), ("--fraction", "1.5"), ("--imgSize", "0"), ("--nIter", "2.5"),
    ("--seed", "-1"), ("--seed", "4294967296"), ("--seed", "99999999999999999999"),
    ("--samples", "0"), ("--samples", "1.5"), ("--sampleSpread", "-0.1"),
    ("--sampleSpread", "nan"), ("--sampleDistance", "inf"), ("--sampleDistance", "-1"),
])
def test_bad_numbers_are_refused_at_parse_time(tmp_path, capsys, flag, value):
    with pytest.raises(SystemExit) as stop:
        complete_cli.main(["--outDir", str(tmp_path / "out"), flag, value, "x.png"])
    assert stop.value.code == 2
    assert flag in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "out")


def test_the_library_refuses_non_finite_settings():
    for name in ("lam", "lr", "momentum"):
        with pytest.raises(ValueError, match=name):
            completion.check_settings(**{**completion.default_settings(), name: math.nan})
    with pytest.raises(ValueError, match="momentum"):
        completion.check_settings(**{**completion.default_settings(), "momentum": 1.0})
    for name in ("sample_spread", "sample_distance"):
        with pytest.raises(ValueError, match=name):
            completion.check_settings(**{**completion.default_settings(), name: math.inf})
    for seed in (-1, 2 ** 32):
        with pytest.raises(ValueError, match="seed must be a whole number from 0"):
            completion.check_settings(**{**completion.default_settings(), "seed": seed})


# --- 2. an interrupt leaves only complete, listed files --------------------------------------

@pytest.mark.parametrize("where", ["writing", "optimising"])
def test_interrupt_keeps_exactly_the_completed_batches(tmp_path, weights, caplog, monkeypatch,
                                                       where):
    faces = write_toy_faces(str(tmp_path / "faces"), 5, size=(S, S))
    if where == "writing":      # Ctrl-C while the second batch's pictures are written
        real, calls = images.save_image, []

        def save_image(path, pixels):
            calls.append(path)
            if len(calls) == 13 + 5:    # batch 0: 2 x 4 pictures + 2 grids + 3 frames
                raise KeyboardInterrupt
            real(path, pixels)
        monkeypatch.setattr(images, "save_image", save_image)
    else:                       # Ctrl-C while the second batch is optimised
        real, calls = completion.complete, []

        @functools.wraps(real)          # default_settings() reads complete's signature
        def complete(*args, **kw):
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return real(*args, **kw)
        monkeypatch.setattr(completion, "complete", complete)
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO):
        assert run(weights, out, faces, "--batchSize", "2") == 130
    assert f"interrupted: 2 of 5 image(s) completed (listed in {out / 'inputs.csv'})" in caplog.text
    done = ["face000.png", "face001.png"]
    rows = read_csv(out / "inputs.csv")
    assert [r["status"] for r in rows] == ["completed"] * 2 + ["interrupted"] * 3
    assert [r["name"] for r in rows if r["status"] == "completed"] == done
    pictures = [f"{sub}/{name}" for sub in ("completed", "generated", "input", "masked")
                for name in done]
    batch = [f"batch000/{name}" for name in ("completed_0000.png", "completed_0001.png",
                                             "completed_0002.png", "completion.gif",
                                             "input.png", "masked.png")]
    assert all_files(out) == sorted(pictures + batch + ["inputs.csv", "losses.csv"])
    for path in pictures:
        assert images.load_image(str(out / path)).shape == (S, S, 3)      # complete files
    losses = read_csv(out / "losses.csv")
    assert len(losses) == 2 * 3 and {r["image"] for r in losses} == set(done)


def test_a_full_disk_stops_the_run_with_the_completed_batches_listed(tmp_path, weights, caplog,
                                                                      monkeypatch):
    faces = write_toy_faces(str(tmp_path / "faces"), 3, size=(S, S))
    real, calls = images.save_image, []

    def save_image(path, pixels):
        calls.append(path)
        if len(calls) > 13:                 # everything after batch 0
            raise OSError(28, "No space left on device")
        real(path, pixels)
    monkeypatch.setattr(images, "save_image", save_image)
    out = tmp_path / "out"
    with caplog.at_level(logging.ERROR):
        assert run(weights, out, faces, "--batchSize", "2") == 1     # some completed
    assert "No space left on device" in caplog.text
    assert "2 of 3 image(s) completed" in caplog.text
    rows = read_csv(out / "inputs.csv")
    assert [r["status"] for r in rows] == ["completed", "completed", "failed"]
    assert sorted(os.listdir(out / "completed")) == ["face000.png", "face001.png"]
    assert not os.path.exists(out / "batch001")


def test_interrupt_before_any_completion_leaves_nothing(tmp_path, weights, caplog, monkeypatch):
    faces = write_toy_faces(str(tmp_path / "faces"), 2, size=(S, S))

    def stop(*args, **kw):
        raise KeyboardInterrupt
    monkeypatch.setattr(complete_cli, "load_inputs", stop)
    with caplog.at_level(logging.WARNING):
        assert run(weights, tmp_path / "out", faces) == 130
    assert "interrupted before any image was completed" in caplog.text
    assert not os.path.exists(tmp_path / "out")


# --- 3. inputs.csv maps every output name to its input --------------------------------------

def test_inputs_csv_tells_same_stems_apart_and_lists_skipped(tmp_path, weights, caplog):
    a = write_toy_faces(str(tmp_path / "a"), 1, size=(S, S))[0]
    b = write_toy_faces(str(tmp_path / "b"), 1, size=(S, S), seed=1)[0]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO):
        assert run(weights, out, [a, b, broken, tmp_path / "missing.png"]) == 1
    rows = read_csv(out / "inputs.csv")
    assert [(r["name"], r["input"], r["status"]) for r in rows[:2]] == [
        ("face000.png", a, "completed"), ("face000_2.png", b, "completed")]
    skipped = {r["input"]: (r["name"], r["status"], r["reason"]) for r in rows[2:]}
    assert skipped == {
        str(broken): ("", "skipped", f"{broken}: not an image file (unknown format)"),
        str(tmp_path / "missing.png"): ("", "skipped", f"{tmp_path / 'missing.png'}: no such "
                                        "file or folder")}
    for name in ("broken.png", "missing.png"):
        assert any(name in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    np.testing.assert_array_equal(images.load_image(str(out / "input" / "face000_2.png")),
                                  images.load_image(b))


# --- 4. and 5. nothing completed, or an unusable output folder: exit 2, no traceback ---------

def test_nothing_to_complete_exits_2_and_leaves_no_folder(tmp_path, weights, caplog):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with caplog.at_level(logging.ERROR):
        assert run(weights, tmp_path / "out", [tmp_path / "broken.png"]) == 2
    assert "broken.png" in caplog.text and "no image to complete" in caplog.text
    assert not os.path.exists(tmp_path / "out")


def test_output_folder_below_a_file_exits_2(tmp_path, weights, caplog):
    faces = write_toy_faces(str(tmp_path / "faces"), 1, size=(S, S))
    (tmp_path / "file").write_text("mine")
    with caplog.at_level(logging.ERROR):
        assert run(weights, tmp_path / "file" / "out", faces) == 2
    assert "output folder" in caplog.text and "is a file, not a folder" in caplog.text
    assert "Traceback" not in caplog.text
    assert (tmp_path / "file").read_text() == "mine"


def test_demo_refuses_an_output_folder_below_a_file(tmp_path, caplog):
    from dcgan_completion.cli import demo
    (tmp_path / "file").write_text("mine")
    with caplog.at_level(logging.ERROR):
        assert demo.main(["--outDir", str(tmp_path / "file" / "demo")]) == 2
    assert "is a file, not a folder" in caplog.text


def test_demo_checks_the_model_before_writing_anything(tmp_path, caplog):
    from dcgan_completion.cli import demo
    (tmp_path / "cut.npz").write_bytes(b"PK\x03\x04 cut short")
    for model in (str(tmp_path / "cut.npz"), str(tmp_path / "nowhere")):
        with caplog.at_level(logging.ERROR):
            assert demo.main(["--outDir", str(tmp_path / "demo"), "--checkpointDir", model]) == 2
        assert not (tmp_path / "demo").exists()
    assert "cut.npz" in caplog.text and "nowhere" in caplog.text


# --- 6. masks of another size ----------------------------------------------------------------

def test_mask_file_of_another_size_is_resized_with_one_warning(tmp_path, weights, caplog):
    faces = write_toy_faces(str(tmp_path / "faces"), 3, size=(S, S))
    mask = np.full((32, 32), 255, np.uint8)
    mask[:, :16] = 0                                               # left half missing
    Image.fromarray(mask).save(tmp_path / "mask.png")
    with caplog.at_level(logging.WARNING):
        assert run(weights, tmp_path / "out", faces, "--maskFile", tmp_path / "mask.png",
                   "--blend", "none") == 0
    warnings = [r.getMessage() for r in caplog.records if "mask.png" in r.getMessage()]
    assert warnings == [f"mask {tmp_path / 'mask.png'} is 32x32; resizing it to the model's 16x16"]
    shown = images.load_image(str(tmp_path / "out" / "masked" / "face000.png"))
    assert np.all(shown[:, :8] == blend.MISSING_GRAY)


def astronaut_photo(width=400):
    """The packaged astronaut photo, cropped to 512 x ``width`` (the face stays inside)."""
    from skimage import data as skdata
    return np.ascontiguousarray(skdata.astronaut()[:, :width])


def test_photo_masks_must_have_the_photos_shape(tmp_path, weights, caplog):
    photo = astronaut_photo()                                          # 512 high, 400 wide
    for name in ("same", "other"):
        images.save_image(str(tmp_path / "photos" / f"{name}.png"), photo)
    same = np.full((256, 200), 255, np.uint8)                          # half size, same shape
    same[65:80, 95:125] = 0
    images.save_image(str(tmp_path / "masks" / "same.png"), same[..., None])
    images.save_image(str(tmp_path / "masks" / "other.png"),
                      np.full((300, 300, 1), 255, np.uint8))           # square: refused
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING):
        assert run(weights, out, [tmp_path / "photos"], "--photo", "--photoMask",
                   tmp_path / "masks", "--blend", "none") == 1
    mask_same = tmp_path / "masks" / "same.png"
    assert f"mask {mask_same} is 200x256; resizing it to the photo's 400x512" in caplog.text
    refused = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(str(tmp_path / "photos" / "other.png") in m and "300x300" in m and "400x512" in m
               for m in refused), refused
    assert os.listdir(out / "restored") == ["same.png"]
    rows = {r["input"]: r["status"] for r in read_csv(out / "inputs.csv")}
    assert rows == {str(tmp_path / "photos" / "same.png"): "completed",
                    str(tmp_path / "photos" / "other.png"): "skipped"}
    changed = np.any(images.load_image(str(out / "restored" / "same.png")) != photo, axis=-1)
    assert changed[135:155, 195:245].mean() > 0.5 and not changed[:100].any()


# --- 7. photos stored sideways with an EXIF orientation -------------------------------------

def test_photo_stored_sideways_is_completed_upright(tmp_path, weights):
    upright = astronaut_photo()                                        # (512, 400, 3)
    sideways = np.rot90(upright)                                       # stored 400 high, 512 wide
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6                                   # display: rotate 90 cw
    Image.fromarray(sideways).save(tmp_path / "portrait.jpg", exif=exif, quality=95)
    with Image.open(tmp_path / "portrait.jpg") as img:
        assert ImageOps.exif_transpose(img).size == (400, 512)          # (width, height) shown
    out = tmp_path / "out"
    assert run(weights, out, [tmp_path / "portrait.jpg"], "--photo", "--blend", "none") == 0
    restored = images.load_image(str(out / "restored" / "portrait.png"))
    assert restored.shape == upright.shape                             # the displayed size
    assert np.abs(restored[:100].astype(int) - upright[:100]).mean() < 5   # upright, not rotated

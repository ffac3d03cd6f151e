"""Images are read as what they are, and written so that an interrupt cuts nothing."""

import os

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageOps

from dcgan_completion import files, images


def test_16_bit_gray_is_scaled_by_its_bit_depth_not_its_maximum(tmp_path):
    # A dark 16-bit image: its brightest pixel is a quarter of full scale.
    values = np.array([[0, 16384], [8192, 65535 // 4]], np.uint16)
    path = str(tmp_path / "dark16.png")
    Image.fromarray(values).save(path)
    with Image.open(path) as img:
        assert img.mode.startswith("I")              # PIL really reads it as 16-bit
    pixels = images.load_image(path, channels=1)[..., 0]
    np.testing.assert_array_equal(pixels, np.round(values / 257.0).astype(np.uint8))
    assert pixels.max() == 64                         # not stretched to 255


def test_exif_orientation_is_applied(tmp_path):
    # Stored sideways (4 wide, 2 high) with Orientation 6: displayed 2 wide, 4 high.
    stored = np.zeros((2, 4, 3), np.uint8)
    stored[0, 0] = (255, 0, 0)                       # top-left as stored
    path = str(tmp_path / "portrait.jpg")
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6                 # "rotate 90 CW to display"
    Image.fromarray(stored).save(path, exif=exif, quality=100, subsampling=0)
    upright = images.load_image(path)
    assert upright.shape == (4, 2, 3)
    with Image.open(path) as img:
        assert ImageOps.exif_transpose(img).size == (2, 4)   # (width, height) as displayed
    assert upright[0, 1, 0] > 200 and upright[0, 1, 1:].max() < 60   # red went top-right


def test_a_truncated_file_is_named_not_decoded_half(tmp_path):
    path = str(tmp_path / "cut.png")
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(path)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(images.ImageReadError, match="cut.png: cannot decode"):
        images.load_image(path)


def test_an_interrupted_write_leaves_neither_a_cut_file_nor_a_temporary(tmp_path, monkeypatch):
    path = str(tmp_path / "out" / "face.png")
    images.save_image(path, np.zeros((4, 4, 3), np.uint8))
    before = open(path, "rb").read()

    def cut_off(tmp, pixels, **kw):                  # writes half a file, then Ctrl-C
        with open(tmp, "wb") as f:
            f.write(b"\x89PNG half")
        raise KeyboardInterrupt("cut off")

    monkeypatch.setattr(images.iio, "imwrite", cut_off)
    with pytest.raises(KeyboardInterrupt, match="cut off"):
        images.save_image(path, np.full((4, 4, 3), 255, np.uint8))
    assert open(path, "rb").read() == before          # the old file is untouched
    assert os.listdir(tmp_path / "out") == ["face.png"]


def test_atomic_write_replaces_only_on_success(tmp_path):
    path = str(tmp_path / "table.txt")
    with files.atomic_write(path) as f:
        f.write("first\n")
    with pytest.raises(RuntimeError, match="disk full"):
        with files.atomic_write(path) as f:
            f.write("second, cut")
            raise RuntimeError("disk full")
    assert open(path).read() == "first\n"
    assert os.listdir(tmp_path) == ["table.txt"]


def test_output_folders_are_checked_before_any_work(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    with pytest.raises(files.OutputError, match=r"notes.txt is a file, not a folder"):
        files.ensure_output_dir(str(a_file / "out"))
    with pytest.raises(files.OutputError, match="is a file, not a folder"):
        files.ensure_output_dir(str(a_file))
    full = tmp_path / "full"
    full.mkdir()
    (full / "x.png").write_bytes(b"")
    with pytest.raises(files.OutputError, match="not empty"):
        files.ensure_output_dir(str(full), must_be_empty=True)
    made = files.ensure_output_dir(str(tmp_path / "new" / "deeper"))
    assert os.path.isdir(made) and os.listdir(made) == []
    with pytest.raises(files.OutputError, match="exists; choose a new name"):
        files.check_new_file(str(a_file))
    with pytest.raises(files.OutputError, match="is a folder"):
        files.check_new_file(str(full))
    with pytest.raises(files.OutputError, match="is a file, not a folder"):
        files.check_new_file(str(a_file / "x.gif"))
    assert a_file.read_text() == "mine"


def test_a_missing_file_and_a_folder_are_named_as_such(tmp_path):
    from dcgan_completion import checkpoints
    (tmp_path / "dir.png").mkdir()
    for name, says in (("none.png", "none.png: not found"), ("dir.png", "dir.png: is a folder")):
        with pytest.raises(images.ImageReadError, match=says):
            images.load_image(str(tmp_path / name))
    for name, says in (("none.npz", "none.npz' not found"), ("dir.png", "dir.png' is a folder")):
        with pytest.raises(checkpoints.CheckpointError, match=f"weights file .*{says}"):
            checkpoints.read_weights_file(str(tmp_path / name))

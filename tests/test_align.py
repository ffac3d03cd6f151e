"""Face alignment on real photos that ship inside installed packages, and pasting back."""

import json
import os
import subprocess
import sys

import cv2
import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from dcgan_completion import align, images
from dcgan_completion.cli import align as align_cli
from dcgan_completion.cli import distributions, make_gif

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def grace_hopper():
    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as img:
        return np.asarray(img.convert("RGB"))


@pytest.fixture(scope="module")
def aligner():
    return align.FaceAligner()


@pytest.mark.parametrize("landmarks", sorted(align.LANDMARK_SETS))
@pytest.mark.parametrize("photo", [skdata.astronaut, grace_hopper])
def test_landmarks_land_on_the_template(aligner, photo, landmarks):
    face = aligner.align(photo(), size=64, landmarks=landmarks)
    assert face is not None and face.image.shape == (64, 64, 3)
    idx = list(align.LANDMARK_SETS[landmarks])
    moved = cv2.transform(face.landmarks[idx][None], face.affine)[0]
    np.testing.assert_allclose(moved, 64 * align.MINMAX_TEMPLATE[idx], atol=1e-3)
    # All 68 landmarks fall near their template places: it really is a face, aligned.
    all_moved = cv2.transform(face.landmarks[None], face.affine)[0]
    assert np.median(np.linalg.norm(all_moved - 64 * align.MINMAX_TEMPLATE, axis=1)) < 3.0


def test_near_tie_goes_to_the_real_face(aligner):
    faces = aligner.detect(skdata.astronaut())
    assert len(faces) == 2                     # Eileen Collins, and a false detection
    areas = [r.area() for r, _ in faces]
    assert min(areas) > 0.95 * max(areas)      # almost as large
    best = faces[0][0]
    assert 150 < best.left() < 200 and 50 < best.top() < 100, best   # the astronaut's face


def test_template_is_min_max_normalised():
    t = align.MINMAX_TEMPLATE
    assert t.shape == (68, 2)
    np.testing.assert_allclose(t.min(0), [0, 0])
    np.testing.assert_allclose(t.max(0), [1, 1])


def _photo_folder(tmp_path):
    src = tmp_path / "raw"
    (src / "people").mkdir(parents=True)
    (src / "more").mkdir()
    images.save_image(str(src / "people" / "astronaut.png"), skdata.astronaut())
    Image.fromarray(grace_hopper()).save(src / "more" / "hopper.jpg")
    images.save_image(str(src / "people" / "coins.png"), skdata.coins()[..., None])   # no face
    (src / "people" / "broken.jpg").write_bytes(b"not a jpeg at all")
    return src


def test_align_directory_counts_names_and_resumes(tmp_path):
    src, out = _photo_folder(tmp_path), tmp_path / "aligned"
    summary = align.align_directory(str(src), str(out), size=32, workers=1, progress=False)
    assert summary.counts() == {"aligned": 2, "already done": 0, "skipped, no face": 1,
                                "skipped, several faces": 0, "failed": 1}
    assert summary.no_face == [str(src / "people" / "coins.png")]
    assert "broken.jpg" in next(iter(summary.failed.values()))
    # OpenFace's layout: one folder per input folder.
    assert images.load_image(str(out / "people" / "astronaut.png")).shape == (32, 32, 3)
    assert os.path.exists(out / "more" / "hopper.png")
    rows = [json.loads(line) for line in open(out / "manifest.jsonl")]
    assert {os.path.basename(r["source"]) for r in rows} == {"astronaut.png", "hopper.jpg"}
    assert all(len(r["landmarks"]) == 68 and np.shape(r["affine"]) == (2, 3) for r in rows)
    log = open(out / "align-log.txt").read()
    assert "no face" in log and "broken.jpg" in log
    # A second run keeps what is there and does only the rest.
    again = align.align_directory(str(src), str(out), size=32, workers=1, progress=False)
    assert again.counts()["already done"] == 2 and again.counts()["aligned"] == 0


def test_flat_layout_and_the_cli(tmp_path):
    src, out = _photo_folder(tmp_path), tmp_path / "flat"
    rc = align_cli.main([str(src), "align", "outerEyesAndNose", str(out), "--size", "48",
                         "--flat", "--workers", "1", "--noProgress"])
    assert rc == 0
    assert sorted(f for f in os.listdir(out) if f.endswith(".png")) == ["astronaut.png", "hopper.png"]


def test_flat_names_never_collide():
    outs = align.output_paths(["in/a/x.jpg", "in/b/x.jpg", "in/x.png"], "in", "out", flat=True)
    assert len(set(outs)) == 3 and outs[0] == os.path.join("out", "x.png")


def test_unwritable_output_and_missing_model_stop_at_once(tmp_path):
    src = _photo_folder(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(align.AlignError, match="cannot write"):
        align.align_directory(str(src), str(blocker / "out"), progress=False)
    with pytest.raises(align.AlignError, match="not found"):
        align.FaceAligner(str(tmp_path / "missing.dat"))
    corrupt = tmp_path / "corrupt.dat"
    corrupt.write_bytes(b"\0" * 100)
    with pytest.raises(align.AlignError, match="could not be loaded"):
        align.FaceAligner(str(corrupt))
    assert align_cli.main([str(src), "align", str(tmp_path / "o"), "--dlibFacePredictor",
                           str(corrupt), "--noProgress"]) == 2


@pytest.mark.parametrize("blend", ["none", "poisson"])
def test_paste_back_changes_only_the_hole(aligner, blend):
    photo = skdata.astronaut()
    face = aligner.align(photo, size=64)
    mask = np.ones((64, 64, 1), np.float32)
    mask[16:48, 16:48] = 0                                        # the centre is "missing"
    restored = align.paste_face(photo, face.image, face.inverse, mask, blend=blend)
    region = align.warp_to_photo((1 - mask[..., 0]).astype(np.uint8) * 255, face.inverse,
                                 photo.shape, nearest=True)[..., 0] > 0
    far = cv2.dilate(region.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
    np.testing.assert_array_equal(restored[far], photo[far])      # the rest: untouched
    # Pasting the face's own aligned pixels back costs only resampling blur.
    diff = np.abs(restored[region].astype(int) - photo[region].astype(int)).mean()
    assert diff < 12, diff


def test_photo_mask_warps_into_aligned_space(aligner):
    photo = skdata.astronaut()
    face = aligner.align(photo, size=64)
    photo_mask = np.ones(photo.shape[:2] + (1,), np.float32)
    x0, y0, x1, y1 = face.box
    photo_mask[(y0 + y1) // 2:y1, x0:x1] = 0                      # lower half of the face box
    m = align.warp_mask_to_aligned(photo_mask, face.affine, 64)
    assert m.shape == (64, 64, 1) and 0 < (m == 0).mean() < 0.6
    assert m[:20].all() and not m[50:55, 25:40].any()             # eyes known, mouth missing


def test_make_gif_and_distribution_figures(tmp_path):
    frames = tmp_path / "frames"
    for i in (1, 2, 10):                                          # natural order: 1, 2, 10
        images.save_image(str(frames / f"frame{i}.png"), np.full((8, 8, 3), 20 * i, np.uint8))
    (frames / "notes.txt").write_text("ignored")
    assert make_gif.main([str(frames), str(tmp_path / "out.gif"), "--delay", "20"]) == 0
    import imageio.v3 as iio
    gif = iio.imread(tmp_path / "out.gif", index=None)
    assert gif.shape[0] == 3 and gif[2].mean() > gif[0].mean()
    assert make_gif.main([str(frames), str(tmp_path / "out.gif")]) == 2    # never overwrites
    assert distributions.main([str(tmp_path / "figs")]) == 0
    assert sorted(os.listdir(tmp_path / "figs")) == sorted(distributions.FILES)


def test_align_script_runs_from_a_checkout():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "align-dlib.py"), "--help"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "innerEyesAndBottomLip" in out.stdout

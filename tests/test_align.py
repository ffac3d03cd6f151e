"""Face alignment on real photos that ship inside installed packages, and pasting back."""

import json
import os

import cv2
import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from dcgan_completion import align, images
from dcgan_completion.cli import align as align_cli


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


def test_rank_faces_prefers_size_then_score_on_near_ties():
    import dlib
    real, patch = (dlib.rectangle(175, 76, 265, 166), 1.16), (dlib.rectangle(126, 335, 216, 426), 0.12)
    assert align.rank_faces([patch, real])[0] is real          # 2 % larger, far less sure
    big = (dlib.rectangle(0, 0, 200, 200), 0.05)
    assert align.rank_faces([real, big])[0] is big             # clearly larger wins
    assert align.rank_faces([]) == []


def test_the_chosen_face_is_eileen_collins(aligner):
    face = aligner.align(skdata.astronaut(), size=64)
    left, top, right, bottom = face.box
    assert 150 < left and right < 290 and 50 < top and bottom < 190, face.box
    assert face.faces_found == 2


def test_default_model_comes_from_the_package():
    path = align.default_predictor_path()
    assert path.endswith("shape_predictor_68_face_landmarks.dat") and os.path.isfile(path)


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
                                "skipped, several faces": 0, "refused, upsampled": 0,
                                "failed": 1}
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
    assert len(open(out / "manifest.jsonl").readlines()) == 2     # appended to, not redone


def test_scale_is_recorded_for_every_face(aligner):
    # The astronaut's face is about 90 px wide: a 64-px face shrinks it, a 128-px one
    # enlarges it; the scale doubles with the output size.
    small, large = (aligner.align(skdata.astronaut(), size=s) for s in (64, 128))
    assert small.scale < 1 < large.scale
    assert large.scale == pytest.approx(2 * small.scale)
    assert align.affine_scale(np.float64([[2, 0, 5], [0, 0.5, 7]])) == pytest.approx(1.0)
    assert align.affine_scale(np.float64([[0, -3, 0], [3, 0, 0]])) == pytest.approx(3.0)


def test_max_scale_refuses_a_face_that_would_be_upsampled(tmp_path):
    """At 128 px the astronaut (scale 1.37) would be upsampled, Grace Hopper (0.69) not."""
    src = _photo_folder(tmp_path)
    out = tmp_path / "strict"
    summary = align.align_directory(str(src), str(out), size=128, workers=1, progress=False,
                                    max_scale=1.0)
    astronaut = str(src / "people" / "astronaut.png")
    assert summary.aligned == [str(src / "more" / "hopper.jpg")]
    assert list(summary.upsampled) == [astronaut] and summary.upsampled[astronaut] > 1.3
    assert summary.counts()["refused, upsampled"] == 1 and summary.skipped == 3
    assert not os.path.exists(out / "people" / "astronaut.png")      # nothing written
    log = open(out / "align-log.txt").read()
    assert "refused, upsampled (scale 1.3" in log and astronaut in log
    rows = [json.loads(line) for line in open(out / "manifest.jsonl")]
    assert len(rows) == 1 and rows[0]["scale"] < 1
    assert rows[0]["scale"] == pytest.approx(align.affine_scale(np.float64(rows[0]["affine"])),
                                             abs=1e-4)
    # Without the limit the same face is accepted, and its scale recorded.
    loose = align.align_directory(str(src), str(tmp_path / "loose"), size=128, workers=1,
                                  progress=False)
    assert astronaut in loose.aligned and not loose.upsampled
    scales = {os.path.basename(r["source"]): r["scale"]
              for r in map(json.loads, open(tmp_path / "loose" / "manifest.jsonl"))}
    assert scales["astronaut.png"] > 1.3 and scales["hopper.jpg"] < 1


def test_max_scale_on_the_command_line(tmp_path, caplog):
    src, out = _photo_folder(tmp_path), tmp_path / "cli"
    (src / "people" / "broken.jpg").unlink()
    (src / "people" / "coins.png").unlink()
    args = [str(src), "align", "innerEyesAndBottomLip", str(out), "--size", "128", "--flat",
            "--workers", "1", "--noProgress"]
    assert align_cli.main(args + ["--maxScale", "1"]) == 1        # a photo was skipped
    assert "would be upsampled" in caplog.text and "astronaut.png" in caplog.text
    assert sorted(os.listdir(out)) == ["align-log.txt", "hopper.png", "manifest.jsonl"]
    assert align_cli.main(args) == 0                              # no limit: accepted now
    assert os.path.exists(out / "astronaut.png")
    with pytest.raises(SystemExit):
        align_cli.build_parser().parse_args(args + ["--maxScale", "0"])


def test_manifest_rows_reproduce_the_alignment(tmp_path):
    src, out = _photo_folder(tmp_path), tmp_path / "aligned"
    align.align_directory(str(src), str(out), size=64, workers=1, progress=False)
    for row in map(json.loads, open(out / "manifest.jsonl")):
        photo = images.load_image(row["source"])
        redo = cv2.warpAffine(photo, np.float64(row["affine"]), (64, 64), flags=cv2.INTER_LINEAR)
        saved = images.load_image(row["output"])
        assert np.abs(redo.astype(int) - saved).mean() < 1.0      # affine rounded to 1e-6
        idx = list(align.LANDMARK_SETS["innerEyesAndBottomLip"])
        moved = cv2.transform(np.float32(row["landmarks"])[idx][None], np.float64(row["affine"]))[0]
        np.testing.assert_allclose(moved, 64 * align.MINMAX_TEMPLATE[idx], atol=1.0)
        x0, y0, x1, y1 = row["box"]
        assert x1 > x0 and y1 > y0 and row["score"] > 0


def test_parallel_workers_and_skip_multi(tmp_path):
    src = _photo_folder(tmp_path)
    both = np.zeros((600, 1024, 3), np.uint8)                     # two faces in one photo
    both[:512, :512], both[:, 512:] = skdata.astronaut(), grace_hopper()
    images.save_image(str(src / "more" / "pair.png"), both)
    out = tmp_path / "par"
    summary = align.align_directory(str(src), str(out), size=32, skip_multi=True, flat=True,
                                    workers=2, progress=False)
    # The astronaut counts as several faces too: dlib also finds her mission patch.
    assert summary.counts() == {"aligned": 1, "already done": 0, "skipped, no face": 1,
                                "skipped, several faces": 2, "refused, upsampled": 0,
                                "failed": 1}
    assert summary.multiple == [str(src / "more" / "pair.png"), str(src / "people" / "astronaut.png")]
    assert sorted(os.listdir(out)) == ["align-log.txt", "hopper.png", "manifest.jsonl"]
    assert "several faces: " + str(src / "more" / "pair.png") in open(out / "align-log.txt").read()


def test_one_failing_photo_does_not_stop_the_run(tmp_path, monkeypatch):
    src, out = _photo_folder(tmp_path), tmp_path / "aligned"
    save = align._save_atomically

    def full_disk_for_hopper(path, pixels):
        if "hopper" in path:
            raise OSError(28, "No space left on device")
        save(path, pixels)
    monkeypatch.setattr(align, "_save_atomically", full_disk_for_hopper)
    summary = align.align_directory(str(src), str(out), size=32, workers=1, progress=False)
    assert summary.aligned == [str(src / "people" / "astronaut.png")]
    assert "No space left" in summary.failed[str(src / "more" / "hopper.jpg")]
    assert not any(f.endswith(".partial.png") for _, _, fs in os.walk(out) for f in fs)


def test_flat_names_stay_put_when_inputs_are_added(tmp_path):
    src, out = tmp_path / "raw", tmp_path / "flat"
    images.save_image(str(src / "b" / "x.png"), skdata.astronaut())
    align.align_directory(str(src), str(out), size=32, flat=True, workers=1, progress=False)
    first = images.load_image(str(out / "x.png"))
    images.save_image(str(src / "a" / "x.png"), grace_hopper())   # sorts before b/x.png
    with open(out / "manifest.jsonl", "a") as f:
        f.write('{"source": "cut sho')                              # a crashed run's last line
    summary = align.align_directory(str(src), str(out), size=32, flat=True, workers=1,
                                    progress=False)
    assert summary.existing == [str(src / "b" / "x.png")]
    assert summary.aligned == [str(src / "a" / "x.png")]
    np.testing.assert_array_equal(images.load_image(str(out / "x.png")), first)   # untouched
    assert os.path.exists(out / "a_x.png")


def test_flat_names_never_collide():
    outs = align.output_paths(["in/a/x.jpg", "in/b/x.jpg", "in/x.png"], "in", "out", flat=True)
    assert len(set(outs)) == 3 and outs[0] == os.path.join("out", "x.png")


def test_earlier_names_are_kept_whatever_the_spelling_of_the_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    previous = {str(tmp_path / "in" / "b" / "x.jpg"): str(tmp_path / "out" / "x.png"),
                "/elsewhere/y.jpg": "/elsewhere/out/y.png"}              # not in this folder
    outs = align.output_paths(["in/a/x.jpg", "in/b/x.jpg", "in/y.jpg"], "in", "out", flat=True,
                              previous=previous)
    assert outs == [os.path.join("out", "a_x.png"), os.path.join("out", "x.png"),
                    os.path.join("out", "y.png")]


def test_unwritable_output_and_missing_model_stop_at_once(tmp_path):
    src = _photo_folder(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(align.AlignError, match="cannot write"):
        align.align_directory(str(src), str(blocker / "out"), progress=False)
    with pytest.raises(align.AlignError, match="not found") as missing:
        align.FaceAligner(str(tmp_path / "missing.dat"))
    assert missing.value.setting == "predictor_path" and "--" not in str(missing.value)
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
    # paste_region names exactly the pixels that may change (what dcgan-evaluate --photo
    # scores and OpenCV inpaints): a gray paste changes each one of them.
    changed = align.paste_face(photo, np.full_like(face.image, 128), face.inverse, mask,
                               blend="none") != photo
    pasted = align.paste_region(photo.shape, face.inverse, mask)
    assert not changed.any(-1)[~pasted].any() and pasted.sum() > region.sum()
    # Pasting the face's own aligned pixels back costs only resampling blur.
    diff = np.abs(restored[region].astype(int) - photo[region].astype(int)).mean()
    assert diff < 12, diff


@pytest.mark.parametrize("blend", ["none", "poisson"])
@pytest.mark.parametrize("offset", [(210, 110), (300, 300)])   # face cut by the edge; face outside
def test_paste_back_near_and_beyond_the_border(aligner, blend, offset):
    full = skdata.astronaut()
    face = aligner.align(full, size=64)
    ox, oy = offset
    photo = np.ascontiguousarray(full[oy:, ox:])                  # the face's photo, cropped
    affine = face.affine.copy()
    affine[:, 2] += affine[:, :2] @ np.float64([ox, oy])          # crop -> aligned
    mask = np.ones((64, 64, 1), np.float32)
    mask[8:56, 8:56] = 0
    restored = align.paste_face(photo, face.image, cv2.invertAffineTransform(affine), mask,
                                blend=blend)
    assert restored.shape == photo.shape and restored.dtype == np.uint8
    assert np.abs(restored.astype(int) - photo).mean() < 1.0
    if offset == (300, 300):
        np.testing.assert_array_equal(restored, photo)


def test_photo_mask_warps_into_aligned_space(aligner):
    photo = skdata.astronaut()
    face = aligner.align(photo, size=64)
    photo_mask = np.ones(photo.shape[:2] + (1,), np.float32)
    x0, y0, x1, y1 = face.box
    photo_mask[(y0 + y1) // 2:y1, x0:x1] = 0                      # lower half of the face box
    m = align.warp_mask_to_aligned(photo_mask, face.affine, 64)
    assert m.shape == (64, 64, 1) and 0 < (m == 0).mean() < 0.6
    assert m[:20].all() and not m[50:55, 25:40].any()             # eyes known, mouth missing


def _data_128_script(name):
    """A dev/data-128 script's module (they are scripts, not part of the package)."""
    import importlib.util
    path = os.path.join(os.path.dirname(__file__), "..", "dev", "data-128", name)
    spec = importlib.util.spec_from_file_location(name.replace(".py", "").replace("-", "_"), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_data_128_scripts_refuse_a_face_that_would_be_upsampled(tmp_path):
    """Issue 24: align.sh aligns with --maxScale 1, and finish.py stops on any face whose
    recorded scale is above 1 (or missing) instead of putting it in the set."""
    script = open(os.path.join(os.path.dirname(__file__), "..", "dev", "data-128", "align.sh")).read()
    assert "--size 128" in script and "--maxScale 1" in script
    finish = _data_128_script("finish.py")
    data, sources = tmp_path / "data", tmp_path / "sources.tsv"
    sources.write_text("# comment\nsrc\towner/repo\t" + "0" * 40 + "\tfolder\tlicence\n")
    folder = data / "aligned" / "src"
    hopper = np.asarray(Image.fromarray(grace_hopper()).resize((128, 128)))

    def write(scale):
        folder.mkdir(parents=True, exist_ok=True)
        images.save_image(str(folder / "a.png"), hopper)
        row = {"source": "raw/a.jpg", "output": str(folder / "a.png"), "affine": [[1, 0, 0], [0, 1, 0]]}
        if scale is not None:
            row["scale"] = scale
        (folder / "manifest.jsonl").write_text(json.dumps(row) + "\n")
    for bad in (1.2, None):
        write(bad)
        with pytest.raises(SystemExit, match="--maxScale 1"):
            finish.main(["--data", str(data), "--sources", str(sources)])
        assert not (data / "faces-128").exists()
    write(0.8)
    assert finish.main(["--data", str(data), "--sources", str(sources)]) == 0
    assert os.listdir(data / "faces-128" / "src") == ["a.png"]
    assert open(data / "faces-128-validation.txt").read() == "faces-128/src/a.png\n"


def test_data_128_near_duplicates_are_copies_not_look_alikes(tmp_path):
    finish = _data_128_script("finish.py")
    face = np.asarray(Image.fromarray(grace_hopper()).resize((128, 128)))
    other = np.asarray(Image.fromarray(skdata.astronaut()).resize((128, 128)))
    Image.fromarray(face).save(tmp_path / "copy.jpg", quality=40)      # a re-encoded copy
    copy = np.asarray(Image.open(tmp_path / "copy.jpg"))
    hashes = np.array([finish.phash(x) for x in (face, copy, other)], dtype=np.uint64)
    pairs = finish.near_duplicates(hashes, finish.DUP_BITS)
    paths = []
    for name, pixels in zip("abc", (face, copy, other)):
        images.save_image(str(tmp_path / f"{name}.png"), pixels)
        paths.append(str(tmp_path / f"{name}.png"))
    assert [(i, j) for i, j, _, _ in finish.confirmed(pairs, paths)] == [(0, 1)]
    assert finish.black_fraction(np.zeros((4, 4, 3), np.uint8)) == 1.0


def test_a_hole_at_the_squares_edge_is_not_pulled_towards_what_lies_past_it():
    # Past the aligned square lie photo pixels the completion never saw: a white wall
    # beside the face must not brighten a fill that meets the square's edge.
    photo = np.full((60, 60, 3), 250, np.uint8)
    photo[10:50, 10:50] = 100                                 # the face's square
    inverse = np.float32([[1, 0, 10], [0, 1, 10]])            # aligned 40 x 40 -> photo
    mask = np.ones((40, 40, 1), np.float32)
    mask[:, :20] = 0                                           # the left half
    completed = np.full((40, 40, 3), 100, np.uint8)           # as the face is
    out = align.paste_face(photo, completed, inverse, mask, blend="poisson")
    region = align.paste_region(photo.shape, inverse, mask)
    assert region[:, 10].any() and not region[:, 9].any()     # it reaches the square's edge
    assert np.abs(out[region].astype(int) - 100).max() <= 1
    np.testing.assert_array_equal(out[~region], photo[~region])
    assert align.aligned_square(photo.shape, inverse, 40).sum() == 40 * 40

"""The perceptual measures: sharpness, identity and the distances between descriptor sets."""

import cv2
import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from dcgan_completion import evaluate, faceid, metrics


def checkerboard(side=32):
    board = (np.indices((side, side)).sum(0) % 2 * 255).astype(np.uint8)
    return np.repeat(board[..., None], 3, -1)                          # (S, S, 3)


def textured(side=64, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (side, side, 3)).astype(np.uint8)


def test_laplacian_energy_golden_values():
    # 3x3 Laplacian of a 0/255 checkerboard: every interior pixel is +-4 * 255 = +-1020.
    region = np.zeros((32, 32), bool)
    region[4:28, 4:28] = True
    assert metrics.laplacian_energy(checkerboard(), region) == pytest.approx(1020.0 ** 2)
    assert metrics.laplacian_energy(np.full((32, 32, 3), 77, np.uint8), region) == 0.0
    # Luminance weights sum to 1: a gray picture's luminance is its value.
    assert metrics.luminance(np.full((2, 2, 3), 200, np.uint8)) == pytest.approx(200.0)


def test_blurring_a_completion_lowers_its_sharpness_monotonically():
    original = cv2.resize(skdata.astronaut()[0:256, 128:384], (64, 64), interpolation=cv2.INTER_AREA)
    mask = np.ones((64, 64, 1), np.float32)
    mask[16:48, 16:48] = 0
    for level in metrics.SHARPNESS_LEVELS:
        assert metrics.sharpness_ratio(original, original, mask, level) == pytest.approx(1.0)
        ratios = []
        for sigma in (0.5, 1.0, 2.0, 3.0):
            blurred = cv2.GaussianBlur(original, (0, 0), sigma)
            completed = np.where(mask > 0, original, blurred).astype(np.uint8)
            ratios.append(metrics.sharpness_ratio(original, completed, mask, level))
        assert all(a > b for a, b in zip(ratios, ratios[1:])), (level, ratios)
        assert ratios[0] < 1.0
    # Nothing to compare with: no hole, or a flat original.
    assert metrics.sharpness_ratio(original, original, np.ones((64, 64, 1))) is None
    flat = np.full((64, 64, 3), 90, np.uint8)
    assert metrics.sharpness_ratio(flat, original, mask) is None


def test_geometric_mean_of_ratios():
    assert metrics.geometric_mean([2.0, 0.5, None]) == pytest.approx(1.0)
    assert metrics.geometric_mean([0.0, 1.0]) == pytest.approx(np.sqrt(metrics.SHARPNESS_FLOOR))
    assert metrics.geometric_mean([None]) is None


def test_frechet_distance_golden_values():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 4))
    # A shifted copy has the same covariance: the distance is the squared shift, exactly.
    shift = np.float64([1.0, -2.0, 0.5, 0.0])
    assert metrics.frechet_distance(a, a + shift) == pytest.approx(float(shift @ shift), abs=1e-6)
    # Two samples of one Gaussian: near 0; shifting one grows it.
    b = rng.normal(size=(4000, 4))
    same = metrics.frechet_distance(a, b)
    assert same < 0.01
    shifted = [metrics.frechet_distance(a, b + s) for s in (0.25, 0.5, 1.0)]
    assert same < shifted[0] < shifted[1] < shifted[2]
    # N(0, I) against N(0, 4 I) in D = 4: D (1 + 4 - 2 * 2) = 4.
    assert metrics.frechet_distance(a, 2.0 * b) == pytest.approx(4.0, rel=0.05)
    with pytest.raises(ValueError, match="at least 2"):
        metrics.frechet_distance(a[:1], b)


def test_kernel_distance_golden_value_and_small_sets():
    # By hand, D = 1, k(x, y) = (x y + 1)^3: within a = 1, within b = 343, across
    # (1 + 1 + 27 + 64) / 4 = 23.25, so 1 + 343 - 2 * 23.25 = 297.5.
    a, b = np.float64([[0.0], [1.0]]), np.float64([[2.0], [3.0]])
    assert metrics.kernel_distance(a, b) == pytest.approx(297.5)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(50, 8)), rng.normal(size=(50, 8))
    assert abs(metrics.kernel_distance(x, y)) < 0.1
    assert metrics.kernel_distance(x, y + 1.0) > 10 * abs(metrics.kernel_distance(x, y))


def grace_hopper():
    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as img:
        return np.asarray(img.convert("RGB"))


@pytest.fixture(scope="module")
def describer():
    return faceid.FaceDescriber()


def test_identity_of_a_face_with_itself_and_of_two_people(describer):
    photos = [skdata.astronaut(), grace_hopper()]
    reference = faceid.FaceReference.of(describer, photos)
    assert reference.unreadable == []
    same = faceid.identity_distances(reference.descriptors, reference.describe(photos))
    assert same == [0.0, 0.0]
    apart = metrics.identity_distance(*reference.descriptors)
    assert apart > metrics.SAME_PERSON, apart                       # measured: 0.71


def test_a_64px_aligned_face_is_located_and_kept_apart(describer):
    from dcgan_completion import align
    aligner = describer.aligner
    faces = [aligner.align(p, 64).image for p in (skdata.astronaut(), grace_hopper())]
    reference = faceid.FaceReference.of(describer, faces)
    assert reference.unreadable == []
    # The landmarks of the small face lie inside it, where the template puts them.
    template = 64 * align.MINMAX_TEMPLATE
    assert np.abs(reference.points[0] - template).mean() < 4.0
    assert metrics.identity_distance(*reference.descriptors) > 0.5   # measured: 0.69


def test_a_face_the_descriptor_cannot_read_is_reported(describer):
    noise = textured(64, seed=3)
    reference = faceid.FaceReference.of(describer, [noise, skdata.astronaut()])
    assert reference.unreadable == [0]
    assert np.isnan(reference.descriptors[0]).all()
    assert not np.isnan(reference.descriptors[1]).any()
    scores, _ = evaluate.measure([noise, skdata.astronaut()], [noise, skdata.astronaut()],
                                 [np.ones((64, 64, 1)), np.ones((512, 512, 1))], reference)
    assert [s["identity"] for s in scores] == [None, 0.0]
    summary = evaluate.MethodResult([], scores, 1.0).summary()
    assert summary["identity_unreadable"] == 1 and summary["identity_same"] == 1.0


def test_summary_and_table_carry_the_new_measures():
    rng = np.random.default_rng(2)
    reference = rng.normal(size=(6, 128))
    scores = [dict(hole_psnr=20.0, psnr=25.0, ssim=0.9, hole_l1=0.1, sharpness_0=r,
                   sharpness_1=r, sharpness_2=None, identity=0.5) for r in (0.5, 2.0)]
    summary = evaluate.MethodResult([], scores, 2.0, reference + 0.1).summary(reference)
    assert summary["sharpness_0"] == pytest.approx(1.0) and summary["sharpness_2"] is None
    assert summary["frechet"] == pytest.approx(128 * 0.01, abs=1e-6)
    table = evaluate.format_table({"center": {"dcgan": summary}})
    assert "FD (dlib)" in table and metrics.FRECHET_LABEL in table

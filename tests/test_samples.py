"""Several fills per hole (complete(samples=K), dcgan-complete --samples): K start points
optimised together, ranked by loss, kept apart in the hole; K = 1 is today's completion.

On the tiny 16x16 model of test_completion.py (an untrained G re-drawn with He scaling).
"""

import csv
import logging
import os

import numpy as np
import pytest
import tensorflow as tf

from dcgan_completion import completion, images, masks
from dcgan_completion.cli import complete as complete_cli
from dcgan_completion.model import build_discriminator, build_generator, sample_z

from conftest import write_toy_faces
from test_completion import TINY, S, QUICK, assert_same_result, he_rescaled, run_cli
from test_completion import checkpoint  # noqa: F401 -- the fixture, a folder of the tiny model


@pytest.fixture(scope="module")
def models():
    tf.keras.utils.set_random_seed(1)
    return he_rescaled(build_generator(TINY)), build_discriminator(TINY)


@pytest.fixture(scope="module")
def faces(models):
    """Four faces no z makes exactly (G's images shifted), each with a centre hole."""
    G, _ = models
    y = np.roll(images.to_uint8(G(sample_z(4, TINY.z_dim, (123, 4)), training=False)), 3, axis=2)
    return y, masks.MaskSpec("center", S).masks(4).values


@pytest.fixture(scope="module")
def z_init(faces):
    return np.random.default_rng(0).uniform(-0.5, 0.5, (4, TINY.z_dim)).astype(np.float32)


def hole_of(m):
    return m[..., 0] == 0                                                  # (B, H, W)


@pytest.mark.parametrize("start", ["random", "encoder"])
@pytest.mark.parametrize("blend", ["none", "poisson"])
def test_fills_differ_in_the_hole_and_keep_the_known_pixels(models, faces, z_init, start, blend):
    G, D = models
    y, m = faces
    r = completion.complete(y, m, G, D, samples=3, sample_distance=0.0, blend=blend,
                            n_iter=20, out_interval=10,
                            z_init=z_init if start == "encoder" else None)
    s = r.samples
    assert s.completed.shape == (4, 3, S, S, 3) and s.losses.shape == (4, 3, 3)
    assert s.trajectory_losses.shape == (len(r.iterations), 4, 3, 3) and s.z.shape == (4, 3, TINY.z_dim)
    assert s.distinct.all() and sorted(s.sample[0]) == [0, 1, 2]
    hole = hole_of(m)
    for i in range(4):
        for a in range(3):
            np.testing.assert_array_equal(s.completed[i, a][~hole[i]], y[i][~hole[i]])
            for b in range(a + 1, 3):
                gap = completion.hole_distance(s.completed[i, a], s.completed[i, b], hole[i])
                assert gap > 0.01, (i, a, b, gap)               # another face in the hole
    if blend == "none":
        np.testing.assert_array_equal(s.completed[hole[:, None].repeat(3, 1)],
                                      s.generated[hole[:, None].repeat(3, 1)])


def test_one_sample_is_todays_completion_bit_for_bit(models, faces, z_init):
    G, D = models
    y, m = faces
    for settings in (dict(QUICK, restarts=2), dict(QUICK, z_init=z_init, restarts=3, refine=6),
                     dict(n_iter=30, out_interval=5, tol=1e-3, blend="poisson")):
        today = completion.complete(y, m, G, D, **settings)
        one = completion.complete(y, m, G, D, samples=1, sample_spread=0.9, sample_distance=0.5,
                                  **settings)
        assert_same_result(one, today)
        np.testing.assert_array_equal(today.samples.completed[:, 0], today.completed)


def test_ranking_follows_the_loss_and_rank_one_is_the_result(models, faces, z_init):
    G, D = models
    y, m = faces
    r = completion.complete(y, m, G, D, samples=4, restarts=2, z_init=z_init, refine=4,
                            sample_distance=0.0, **QUICK)
    s = r.samples
    total = s.losses[..., 2]                                                 # (B, K)
    assert np.all(np.diff(total, axis=1) >= 0), total                        # by rising loss
    np.testing.assert_array_equal(r.total, total[:, 0])
    np.testing.assert_array_equal(r.completed, s.completed[:, 0])
    np.testing.assert_array_equal(r.z, s.z[:, 0])
    np.testing.assert_array_equal(r.restart, s.restart[:, 0])
    np.testing.assert_array_equal(s.trajectory_losses[-1], s.losses)
    np.testing.assert_array_equal(r.trajectory_losses, s.trajectory_losses[:, :, 0])
    assert s.restart.max() <= 1 and s.z.min() >= -1 and s.z.max() <= 1
    # Each sample kept its best restart: its loss is no worse than with one restart (and
    # restart 0 of each sample starts where it does without restarts).
    two, one = (completion.complete(y, m, G, D, samples=4, restarts=R, z_init=z_init, refine=0,
                                    sample_distance=0.0, **QUICK) for R in (2, 1))
    for i in range(4):
        mine = dict(zip(two.samples.sample[i], two.samples.losses[i, :, 2]))
        theirs = dict(zip(one.samples.sample[i], one.samples.losses[i, :, 2]))
        assert all(mine[k] <= theirs[k] * (1 + 1e-4) for k in range(4)), (mine, theirs)


def test_the_diversity_rule_drops_a_fill_too_close_to_a_better_one():
    masks_ = np.ones((2, 4, 4, 1), np.float32)
    masks_[:, 1:3, 1:3] = 0                                                   # a 2x2 hole
    completed = np.zeros((3, 2, 4, 4, 3), np.uint8)
    completed[1, :, 1:3, 1:3] = 3             # sample 1: 3 grey levels from sample 0 in the hole
    completed[2, :, 1:3, 1:3] = 200           # sample 2: far from both
    completed[1, 1, 0, 0] = 255               # outside the hole: does not count
    total = np.array([[5.0, 1.0], [1.0, 2.0], [9.0, 3.0]])    # (K, B): image 1 ranks 0, 1, 2
    order, distinct = completion.rank_samples(total, completed, masks_, 0.02)
    np.testing.assert_array_equal(order, [[1, 2, 0], [0, 2, 1]])     # near one moved last
    np.testing.assert_array_equal(distinct, [[True, True, False], [True, True, False]])
    order, distinct = completion.rank_samples(total, completed, masks_, 0.0)   # rule off
    np.testing.assert_array_equal(order, [[1, 0, 2], [0, 1, 2]]) and distinct.all()
    assert completion.hole_distance(completed[2, 0], completed[0, 0], masks_[0, ..., 0] == 0) == \
        pytest.approx(200 / 255)


def test_the_rule_applied_in_complete_and_a_mask_without_a_hole(models, faces):
    G, D = models
    y, m = faces
    apart = completion.complete(y, m, G, D, samples=3, sample_distance=1.0, **QUICK)
    assert (apart.samples.count() == 1).all()             # nothing is 1.0 apart: rank 1 only
    assert apart.samples.distinct[:, 0].all()
    np.testing.assert_array_equal(apart.samples.count(), apart.samples.distinct.sum(1))
    full = masks.MaskSpec("full", S).masks(4).values
    r = completion.complete(y, full, G, D, samples=3, **QUICK)
    assert (r.samples.count() == 1).all()                  # no hole: the fills cannot differ


def test_sample_start_points(z_init):
    z = completion.start_points(z_init, 2, seed=3, first_index=5, samples=3, spread=0.5)
    assert z.shape == (3 * 2 * 4, TINY.z_dim)
    rows = z.numpy().reshape(6, 4, TINY.z_dim)                   # start point j of image i
    np.testing.assert_array_equal(rows[0], z_init)               # sample 0 starts at z_init
    np.testing.assert_array_equal(rows[:2], completion.start_points(z_init, 2, 3, 5).numpy()
                                  .reshape(2, 4, TINY.z_dim))    # sample 0's restarts as today
    assert 0.2 < np.abs(rows[2] - z_init).mean() < 0.5                          # spread 0.5
    assert 0.03 < np.abs(rows[3] - rows[2]).mean() < 0.12                       # its restart
    alone = completion.start_points(z_init[2:3], 2, 3, first_index=7, samples=3, spread=0.5)
    np.testing.assert_array_equal(alone.numpy().reshape(6, TINY.z_dim), rows[:, 2])  # per image


def test_bad_sample_settings(models, faces):
    G, D = models
    y, m = faces
    for bad, says in ((dict(samples=0), "samples must be >= 1"),
                      (dict(sample_spread=-1.0), "sample_spread must be >= 0"),
                      (dict(sample_distance=float("nan")), "sample_distance must be a finite"),
                      (dict(sample_distance=-0.1), "sample_distance must be >= 0")):
        with pytest.raises(ValueError, match=says):
            completion.complete(y, m, G, D, **bad)


# --- dcgan-complete --samples -----------------------------------------------------------

def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_cli_writes_each_fill_by_rank_a_grid_and_their_losses(tmp_path, checkpoint):  # noqa: F811
    faces = write_toy_faces(str(tmp_path / "faces"), 3, size=(S, S))
    rc, out = run_cli(tmp_path, checkpoint, faces, "--samples", "3", "--sampleDistance", "0",
                      "--batchSize", "2")
    assert rc == 0
    names = [f"face00{i}" for i in range(3)]
    assert sorted(os.listdir(os.path.join(out, "completed"))) == sorted(
        f"{n}_{k}.png" for n in names for k in (1, 2, 3))
    assert sorted(os.listdir(os.path.join(out, "generated"))) == sorted(
        os.listdir(os.path.join(out, "completed")))
    assert sorted(os.listdir(os.path.join(out, "samples"))) == [f"{n}.png" for n in names]
    grid = images.load_image(os.path.join(out, "samples", "face000.png"))
    assert grid.shape == (S + 4, 4 * (S + 2) + 2, 3)                 # known, then 3 fills
    rows = read_rows(os.path.join(out, "losses.csv"))
    assert list(rows[0]) == ["image", "batch", "iteration", "contextual", "perceptual", "total",
                             "rank", "sample"]
    assert len(rows) == 3 * 3 * 3                                  # iterations 0, 2, 4 x 3 fills
    last = [r for r in rows if r["iteration"] == "4" and r["image"] == "face000.png"]
    assert [r["rank"] for r in last] == ["1", "2", "3"]
    assert sorted(r["sample"] for r in last) == ["0", "1", "2"]
    totals = [float(r["total"]) for r in last]
    assert totals == sorted(totals)                                   # rank follows the loss
    x = images.load_image(os.path.join(out, "input", "face000.png"))
    shown = images.load_image(os.path.join(out, "masked", "face000.png"))
    fills = [images.load_image(os.path.join(out, "completed", f"face000_{k}.png")) for k in (1, 2, 3)]
    known = np.any(shown != 128, axis=-1)
    for fill in fills:                                             # known pixels exact (Poisson)
        np.testing.assert_array_equal(fill[known], x[known])
    assert not np.array_equal(fills[0], fills[1])
    assert rows_of_inputs(out) == {f"{n}.png": "completed" for n in names}


def rows_of_inputs(out):
    return {r["name"]: r["status"] for r in read_rows(os.path.join(out, "inputs.csv"))}


def test_cli_one_sample_keeps_todays_files(tmp_path, checkpoint):  # noqa: F811
    faces = write_toy_faces(str(tmp_path / "faces"), 2, size=(S, S))
    rc, today = run_cli(tmp_path / "a", checkpoint, faces)
    rc1, one = run_cli(tmp_path / "b", checkpoint, faces, "--samples", "1")
    assert rc == rc1 == 0
    for folder in ("completed", "generated", "batch000"):
        assert sorted(os.listdir(os.path.join(one, folder))) == sorted(
            os.listdir(os.path.join(today, folder)))
    for name in os.listdir(os.path.join(today, "completed")):
        np.testing.assert_array_equal(images.load_image(os.path.join(one, "completed", name)),
                                      images.load_image(os.path.join(today, "completed", name)))
    assert not os.path.exists(os.path.join(one, "samples"))
    with open(os.path.join(today, "losses.csv")) as a, open(os.path.join(one, "losses.csv")) as b:
        assert a.read() == b.read()                                  # same columns and values


def test_cli_network_refuses_several_samples(tmp_path, caplog):
    faces = write_toy_faces(str(tmp_path / "faces"), 1, size=(S, S))
    with caplog.at_level(logging.ERROR):
        rc = complete_cli.main(["--method", "network", "--samples", "3", "--outDir",
                                str(tmp_path / "out"), "--noProgress", *faces])
    assert rc == 2 and "--samples 3" in caplog.text and "--method network" in caplog.text
    assert not os.path.exists(tmp_path / "out")
    parser = complete_cli.build_parser()
    args = parser.parse_args(["--sample-spread", "0.3", "--sampleDistance", "0.1", "x.png"])
    assert (args.samples, args.sample_spread, args.sample_distance) == (None, 0.3, 0.1)
    with pytest.raises(SystemExit):
        parser.parse_args(["--samples", "0", "x.png"])


def test_cli_photo_mode_restores_each_fill(tmp_path, checkpoint):  # noqa: F811
    from skimage import data as skdata
    photo = skdata.astronaut()
    images.save_image(str(tmp_path / "astronaut.png"), photo)
    rc, out = run_cli(tmp_path, checkpoint, [str(tmp_path / "astronaut.png")], "--photo",
                      "--samples", "2", "--sampleDistance", "0")
    assert rc == 0
    assert sorted(os.listdir(os.path.join(out, "restored"))) == ["astronaut_1.png", "astronaut_2.png"]
    assert os.listdir(os.path.join(out, "damaged")) == ["astronaut.png"]
    first, second = (images.load_image(os.path.join(out, "restored", f"astronaut_{k}.png"))
                     for k in (1, 2))
    assert first.shape == second.shape == photo.shape and not np.array_equal(first, second)
    for restored in (first, second):                       # only the face's centre changed
        ys, xs = np.nonzero(np.any(restored != photo, axis=-1))
        assert 60 < ys.mean() < 200 and 150 < xs.mean() < 290

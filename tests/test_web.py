"""dcgan-web's server through Flask's test client: the page, the completion endpoints
with the astronaut photo and the bundled models, and bad uploads (a message, and the
server goes on serving)."""

import base64
import io
import math
import re
import time

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from dcgan_completion import align, completion
from dcgan_completion.web import server

PAINTED = (slice(105, 125), slice(195, 245))      # rows, columns: across the astronaut's eyes
WIDE = (slice(100, 170), slice(185, 255))         # her eyes, nose and mouth


def png(pixels) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


def decode(url: str) -> np.ndarray:
    assert url.startswith("data:image/")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


@pytest.fixture(scope="module")
def client():
    return server.create_app().test_client()


@pytest.fixture(scope="module")
def astronaut():
    return skdata.astronaut()


def painted_mask(shape, painted=PAINTED) -> np.ndarray:
    mask = np.full(shape[:2], 255, np.uint8)              # white = known
    mask[painted] = 0
    return mask


def post(client, photo_bytes, mask=None, name="astronaut.png", **form):
    fields = {"photo": (io.BytesIO(photo_bytes), name), **{k: str(v) for k, v in form.items()}}
    if mask is not None:
        fields["mask"] = (io.BytesIO(png(mask)), "mask.png")
    return client.post("/api/complete", data=fields)


def assert_only_painted_region_changed(photo, restored, painted=PAINTED):
    """Pixels farther from the painted region than paste_face can reach are the photo's own:
    PASTE_DILATION pixels, plus one aligned pixel (the mask is warped to the aligned face
    and back, and an aligned pixel covers several photo pixels)."""
    face = align.FaceAligner().align(photo, 64)
    photo_per_aligned = 1 / math.sqrt(abs(np.linalg.det(face.affine[:, :2])))
    reach = align.PASTE_DILATION + math.ceil(photo_per_aligned)
    region = np.zeros(photo.shape[:2], np.uint8)
    region[painted] = 1
    near = cv2.dilate(region, np.ones((2 * reach + 1,) * 2, np.uint8)).astype(bool)
    assert restored.shape == photo.shape
    np.testing.assert_array_equal(restored[~near], photo[~near])
    changed = np.any(restored != photo, axis=-1)
    assert changed[painted].mean() > 0.5             # the painted region was filled in


def test_network_completion_changes_only_the_painted_region(client, astronaut):
    r = post(client, png(astronaut), painted_mask(astronaut.shape), method="network")
    assert r.status_code == 200, r.json
    restored = decode(r.json["restored"])
    assert_only_painted_region_changed(astronaut, restored)
    damaged = decode(r.json["damaged"])
    inside = (slice(PAINTED[0].start + 3, PAINTED[0].stop - 3),
              slice(PAINTED[1].start + 3, PAINTED[1].stop - 3))
    assert (damaged[inside] == 128).all()              # the hole as the completion saw it
    side = r.json["model_size"]                        # 128 where such a network is installed
    assert decode(r.json["face"]).shape == (side, side, 3)
    assert "gif" not in r.json                         # one forward pass: no trajectory


def test_projection_job_reports_progress_and_ends_with_photo_and_gif(client, astronaut):
    r = post(client, png(astronaut), painted_mask(astronaut.shape), method="dcgan", n_iter=6,
             seed=3)
    assert r.status_code == 202, r.json
    job = r.json["job"]
    deadline = time.time() + 60
    while True:
        state = client.get(f"/api/jobs/{job}").json
        if state["status"] != "running" or time.time() > deadline:
            break
        time.sleep(0.2)
    assert state["status"] == "done", state
    # The bundled model has an encoder: 6 iterations on z, then its budget's refinement,
    # then the detail's iteration where detail is on by default (averaged fills).
    refine = completion.START_BUDGETS["encoder"]["refine"]
    more = completion.DETAIL_ITER if client.get("/api/info").json["detail"] else 0
    assert state["iteration"] == state["n_iter"] == 6 + refine + more
    side = state["model_size"]                                  # 128 where one is installed
    assert decode(state["face"]).shape == (side, side, 3)       # the last progress image
    gif = Image.open(io.BytesIO(base64.b64decode(state["gif"].split(",", 1)[1])))
    assert gif.format == "GIF" and gif.n_frames == 7 + refine + (1 if more else 0)
    assert_only_painted_region_changed(astronaut, decode(state["restored"]))
    assert client.get("/api/jobs/999").status_code == 404


def finished(client, r, seconds=90):
    """The state of the projection job that answer ``r`` started, once it has ended."""
    assert r.status_code == 202, r.json
    deadline = time.time() + seconds
    while True:
        state = client.get(f"/api/jobs/{r.json['job']}").json
        if state["status"] != "running" or time.time() > deadline:
            return state
        time.sleep(0.2)


def test_projection_gives_several_fills_each_restored(client, astronaut):
    state = finished(client, post(client, png(astronaut), painted_mask(astronaut.shape, WIDE),
                                  method="dcgan", n_iter=4, seed=1, samples=3))
    assert state["status"] == "done", state
    fills = state["fills"]
    assert 2 <= len(fills) <= 3                              # the faces differ in a wide hole
    assert fills[0]["restored"] == state["restored"] and fills[0]["face"] == state["face"]
    losses = [f["loss"] for f in fills]
    assert losses == sorted(losses)                          # best first
    restored = [decode(f["restored"]) for f in fills]
    for photo in restored:
        assert_only_painted_region_changed(astronaut, photo, WIDE)
    assert not np.array_equal(restored[0], restored[1])
    side = state["model_size"]
    assert decode(fills[1]["face"]).shape == (side, side, 3)
    one = post(client, png(astronaut), painted_mask(astronaut.shape), method="network", samples=1)
    assert one.status_code == 200 and "fills" not in one.json
    refused = post(client, png(astronaut), painted_mask(astronaut.shape), method="network",
                   samples=2)
    assert refused.status_code == 400 and "one fill per hole" in refused.json["error"]
    too_many = post(client, png(astronaut), painted_mask(astronaut.shape), method="dcgan",
                    samples=server.MAX_SAMPLES + 1)
    assert too_many.status_code == 400 and "samples must be" in too_many.json["error"]


def switched_projections(client, astronaut, key: str, **form) -> dict:
    """{"0" / "1": the finished state of a projection with the switch ``key`` off / on}:
    each changes only the painted region, and the two fills differ."""
    states = {}
    for value in ("0", "1"):
        state = finished(client, post(client, png(astronaut), painted_mask(astronaut.shape, WIDE),
                                      method="dcgan", n_iter=4, seed=2, **form, **{key: value}))
        assert state["status"] == "done", state
        assert_only_painted_region_changed(astronaut, decode(state["restored"]), WIDE)
        states[value] = state
    assert not np.array_equal(decode(states["0"]["face"]), decode(states["1"]["face"]))
    return states


def test_the_sphere_switch_reaches_the_projection_and_is_checked(client, astronaut):
    assert client.get("/api/info").json["sphere"] is False          # complete()'s default
    switched_projections(client, astronaut, "sphere")
    bad = post(client, png(astronaut), painted_mask(astronaut.shape), method="dcgan",
               sphere="maybe")
    assert bad.status_code == 400 and "sphere must be 1 or 0" in bad.json["error"]
    network = post(client, png(astronaut), painted_mask(astronaut.shape), method="network",
                   sphere="1")
    assert network.status_code == 400 and "choose the projection" in network.json["error"]


def test_the_detail_switch_reaches_both_methods(client, astronaut):
    from dcgan_completion import completion
    info = client.get("/api/info").json     # off (complete()'s), on for averaged fills
    assert info["detail"] is (completion.GUIDE_DETAIL and info["with_network"])
    assert info["network_detail"] is completion.default_settings()["detail"]   # the network's
    state = finished(client, post(client, png(astronaut), painted_mask(astronaut.shape, WIDE),
                                  method="dcgan", n_iter=4, seed=2, detail="1"))
    assert state["status"] == "done", state
    assert_only_painted_region_changed(astronaut, decode(state["restored"]), WIDE)
    fills = {}
    for detail in ("0", "1"):
        r = post(client, png(astronaut), painted_mask(astronaut.shape, WIDE), method="network",
                 detail=detail)
        assert r.status_code == 200, r.json
        assert_only_painted_region_changed(astronaut, decode(r.json["restored"]), WIDE)
        fills[detail] = decode(r.json["face"])
    assert not np.array_equal(fills["0"], fills["1"])


def test_the_with_network_switch_reaches_the_projection_and_is_checked(client, astronaut):
    from dcgan_completion import completion
    assert client.get("/api/info").json["with_network"] is completion.WITH_NETWORK
    states = switched_projections(client, astronaut, "with_network", detail="0")
    assert [states[v]["with_network"] for v in ("0", "1")] == [False, True]
    bad = post(client, png(astronaut), painted_mask(astronaut.shape), method="dcgan",
               with_network="both")
    assert bad.status_code == 400 and "with_network must be 1 or 0" in bad.json["error"]


def test_the_texture_switch_reaches_the_restored_photo_and_is_checked(client, astronaut):
    from dcgan_completion import photos
    assert client.get("/api/info").json["texture"] is photos.PHOTO_TEXTURE
    restored = {}
    for texture in ("0", "1"):
        r = post(client, png(astronaut), painted_mask(astronaut.shape, WIDE), method="network",
                 texture=texture)
        assert r.status_code == 200, r.json
        restored[texture] = decode(r.json["restored"])
        assert_only_painted_region_changed(astronaut, restored[texture], WIDE)
    # The same fill: only the texture carried into the hole differs.
    assert r.json["face"] == post(client, png(astronaut), painted_mask(astronaut.shape, WIDE),
                                  method="network", texture="0").json["face"]
    assert not np.array_equal(restored["0"], restored["1"])
    bad = post(client, png(astronaut), painted_mask(astronaut.shape), method="network",
               texture="yes")
    assert bad.status_code == 400 and "texture must be 1 or 0" in bad.json["error"]


def test_faces_are_listed_main_face_first_and_can_be_chosen(client, astronaut):
    r = client.post("/api/faces", data={"photo": (io.BytesIO(png(astronaut)), "a.png")})
    assert r.status_code == 200
    faces = r.json["faces"]
    assert (r.json["width"], r.json["height"]) == (512, 512) and len(faces) == 2
    assert 150 < faces[0]["box"][0] < 200             # the astronaut's face, then her patch
    np.testing.assert_array_equal(decode(r.json["photo"]), astronaut)
    second = post(client, png(astronaut), mask_type="center", method="network", face=1)
    assert second.status_code == 200, second.json
    assert second.json["box"] == faces[1]["box"]
    missing = post(client, png(astronaut), mask_type="center", method="network", face=2)
    assert missing.status_code == 422 and "2 face(s) found" in missing.json["error"]


def test_an_aligned_face_is_completed_as_it_is(client, astronaut):
    face = align.FaceAligner().align(astronaut, 64).image
    mask = np.full((64, 64), 255, np.uint8)
    mask[20:40, 20:44] = 0
    r = post(client, png(face), mask, name="face.png", method="network")
    assert r.status_code == 200, r.json
    restored = decode(r.json["restored"])
    assert restored.shape == (64, 64, 3)
    keep = np.ones((64, 64), bool)
    keep[20 - align.PASTE_DILATION:40 + align.PASTE_DILATION,
         20 - align.PASTE_DILATION:44 + align.PASTE_DILATION] = False
    np.testing.assert_array_equal(restored[keep], face[keep])


def test_bad_uploads_get_a_message_and_the_server_goes_on(client, astronaut):
    mask = painted_mask(astronaut.shape)
    cases = [
        (post(client, b"this is no image", mask, name="notes.txt", method="network"),
         400, "notes.txt: not an image file"),
        (post(client, png(np.full((300, 400, 3), 90, np.uint8)), np.full((300, 400), 0, np.uint8),
              name="wall.png", method="network"), 422, "wall.png: no face found"),
        (post(client, b"\0" * (server.MAX_UPLOAD_MB * 1024 * 1024 + 1), name="huge.png"),
         413, f"larger than {server.MAX_UPLOAD_MB} MB"),
        (post(client, png(astronaut), mask[:, :300], method="network"), 400, "another shape"),
        (post(client, png(astronaut), np.full((512, 512), 255, np.uint8), method="network"),
         400, "nothing is painted"),
        (post(client, png(astronaut), painted_mask(astronaut.shape)[::-1], method="network"),
         422, "misses the face"),
        (post(client, png(astronaut), mask_type="lowres", method="network"), 400, "lowres"),
        (post(client, png(astronaut), mask, method="dcgan", n_iter=0), 400, "n_iter must be"),
        (post(client, png(astronaut), mask, method="dcgan", lam="nan"), 400, "lam must be"),
        (client.post("/api/faces", data={}), 400, "no photo"),
    ]
    for r, status, text in cases:
        assert r.status_code == status, (text, r.status_code, r.json)
        assert text in r.json["error"], (text, r.json)
    good = post(client, png(astronaut), mask, method="network")
    assert good.status_code == 200, good.json
    assert decode(good.json["restored"]).shape == astronaut.shape


def test_the_page_is_one_file_that_loads_nothing_from_elsewhere(client):
    r = client.get("/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert "<canvas" in page and "/api/complete" in page
    assert not re.search(r"https?://", page, re.IGNORECASE)
    assert not re.search(r"""(src|href)\s*=\s*["']//""", page)     # protocol-relative URLs
    info = client.get("/api/info").json
    assert "file" not in info["mask_types"] and "center" in info["mask_types"]
    assert info["max_upload_bytes"] == server.MAX_UPLOAD_MB * 1024 * 1024
    assert info["samples"] == 1 and info["max_samples"] == server.MAX_SAMPLES

"""dcgan-web in a real browser: headless Chromium (Debian's ``chromium`` package) driven by
Playwright with that browser (no browser download). Opens the page, uploads the astronaut
photo, paints a stroke across her eyes, completes it with the network and checks that
the restored photo appears; and asks the projection for several fills, picks the second
and downloads it. Skipped, with the reason, when Playwright or Chromium is missing.

    WEB_SCREENSHOT=docs/web.png python -m pytest -q tests/test_web_browser.py   # the README's picture
"""

import base64
import io
import os
import shutil
import threading

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from dcgan_completion.web import server

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def chromium_path():
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


@pytest.fixture
def base_url():
    from werkzeug.serving import make_server
    httpd = make_server("127.0.0.1", 0, server.create_app(), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()


def test_paint_complete_and_see_the_restored_photo(base_url, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright is not installed (pip install playwright)")
    browser_path = chromium_path()
    if browser_path is None:
        pytest.skip("no Chromium found (apt-get install chromium, or set CHROMIUM=/path/to/it)")
    photo = tmp_path / "astronaut.png"
    Image.fromarray(skdata.astronaut()).save(photo)
    screenshot = os.environ.get("WEB_SCREENSHOT") or str(tmp_path / "web.png")

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, headless=True,
                                    args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base_url + "/")
            page.wait_for_selector("text=Drop or choose a photo to begin.")
            page.set_input_files("#file", str(photo))
            page.wait_for_selector("#editor:not([hidden])")
            page.wait_for_selector("text=2 face(s) found")

            # A stroke across the eyes, in photo pixels (the canvas is shown scaled).
            box = page.locator("#view").bounding_box()
            scale = box["width"] / 512

            def at(x, y):
                return box["x"] + x * scale, box["y"] + y * scale

            page.mouse.move(*at(195, 114))
            page.mouse.down()
            for x in range(195, 246, 5):
                page.mouse.move(*at(x, 114 + (x - 195) // 10))
            page.mouse.up()

            page.check("input[name=method][value=network]")
            assert not page.is_checked("#detail")       # the network's default: no detail
            page.click("#run")
            page.wait_for_selector("#results:not([hidden])", timeout=60_000)
            after = page.locator("#after")
            assert after.get_attribute("src").startswith("data:image/png;base64,")
            page.wait_for_function("document.getElementById('after').naturalWidth === 512")
            assert page.locator("#dl-restored").get_attribute("href").startswith("data:image/png")
            assert "Done in" in page.text_content("#message")
            # The restored photo differs from the original where the stroke was, and only there.
            restored = page.evaluate("""() => {
                const img = document.getElementById('after'), c = document.createElement('canvas');
                c.width = img.naturalWidth; c.height = img.naturalHeight;
                const x = c.getContext('2d'); x.drawImage(img, 0, 0);
                return Array.from(x.getImageData(0, 0, c.width, c.height).data);
            }""")
            restored = np.uint8(restored).reshape(512, 512, 4)[..., :3]
            changed = np.any(restored != skdata.astronaut(), axis=-1)
            ys, xs = np.nonzero(changed)
            assert changed.sum() > 200
            assert 90 < ys.min() and ys.max() < 140 and 170 < xs.min() and xs.max() < 270
            assert not errors, errors
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=screenshot, full_page=True)
        finally:
            browser.close()
    assert os.path.getsize(screenshot) > 10_000


PIXELS_OF = """(id) => {
    const img = document.getElementById(id), c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const x = c.getContext('2d'); x.drawImage(img, 0, 0);
    return Array.from(x.getImageData(0, 0, c.width, c.height).data);
}"""


def test_pick_the_second_fill_and_download_it(base_url, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright is not installed (pip install playwright)")
    browser_path = chromium_path()
    if browser_path is None:
        pytest.skip("no Chromium found (apt-get install chromium, or set CHROMIUM=/path/to/it)")
    photo = tmp_path / "astronaut.png"
    Image.fromarray(skdata.astronaut()).save(photo)

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, headless=True,
                                    args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base_url + "/")
            page.wait_for_selector("text=Drop or choose a photo to begin.")
            page.set_input_files("#file", str(photo))
            page.wait_for_selector("text=2 face(s) found")
            page.select_option("#mask-type", "center")           # the face's centre, in the face
            page.check("input[name=method][value=network]")
            page.check("input[name=method][value=dcgan]")
            # The projection's defaults: averaged with the network, with the detail.
            from dcgan_completion import completion
            assert page.is_checked("#with_network") is completion.WITH_NETWORK
            assert page.is_checked("#detail") is (completion.WITH_NETWORK and
                                                  completion.GUIDE_DETAIL)
            page.fill("#n_iter", "4")
            page.fill("#samples", "3")
            page.click("#run")
            page.wait_for_selector("#fills-box:not([hidden])", timeout=120_000)
            thumbs = page.locator("#fills button")
            assert 2 <= thumbs.count() <= 3
            assert "fills to choose from" in page.text_content("#message")
            first = page.get_attribute("#after", "src")
            assert thumbs.nth(0).get_attribute("aria-pressed") == "true"

            thumbs.nth(1).click()                               # the second fill
            assert thumbs.nth(1).get_attribute("aria-pressed") == "true"
            assert thumbs.nth(0).get_attribute("aria-pressed") == "false"
            assert page.text_content("#after-caption").startswith("after (fill 2 of")
            second = page.get_attribute("#after", "src")
            assert second.startswith("data:image/png;base64,") and second != first
            assert page.get_attribute("#dl-restored", "href") == second
            page.wait_for_function("document.getElementById('after').naturalWidth === 512")
            shown = np.uint8(page.evaluate(PIXELS_OF, "after")).reshape(512, 512, 4)[..., :3]

            with page.expect_download() as download:
                page.click("#dl-restored")
            saved = tmp_path / "downloaded.png"
            download.value.save_as(saved)
            assert download.value.suggested_filename == "astronaut-restored-fill2.png"
            got = np.asarray(Image.open(saved).convert("RGB"))
            np.testing.assert_array_equal(got, shown)            # the chosen fill, as shown
            original = skdata.astronaut()
            changed = np.any(got != original, axis=-1)
            assert changed.sum() > 200                           # the face's centre, refilled
            ys, xs = np.nonzero(changed)
            assert 60 < ys.mean() < 200 and 150 < xs.mean() < 290
            first_pixels = np.asarray(Image.open(io.BytesIO(
                base64.b64decode(first.split(",", 1)[1]))).convert("RGB"))
            assert not np.array_equal(got, first_pixels)        # not the best fill
            assert not errors, errors
        finally:
            browser.close()

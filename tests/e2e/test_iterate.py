"""Iterating in a real Chromium: an uploaded image previewed through the app's own route; takes sent as one group."""

from __future__ import annotations

import io
import re

from PIL import Image

from lib.store import Store
from tests.support import studio_browser as studio
from tests.support.browser import no_exception, rerun, wait_idle


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 90, 200)).save(buf, format="PNG")
    return buf.getvalue()


def _ws(page) -> str:
    return page.url.split("ws=", 1)[1].split("&", 1)[0]


def test_an_uploaded_image_is_previewed_linked_and_sent(app_server, page):
    page.goto(app_server.url)
    studio.ready(page)
    studio.set_setting(page, "model", "seedance-2.0-image-to-video")
    picker = page.locator(".st-key-upload_image_0 input[type=file]")
    rerun(page, lambda: picker.set_input_files([{"name": "kite.png", "mimeType": "image/png", "buffer": _png()}]))
    links = page.locator(".st-key-image_urls textarea")
    links.wait_for()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/uploads/[A-Za-z0-9_-]{32}", links.input_value())
    # The preview is served by the app's own route, under the page's Content-Security-Policy.
    preview = page.locator(".st-key-uploads img").first
    preview.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth === 640", arg=preview.element_handle())
    studio.type_prompt(page, "The kite from @image1 rises over the dunes, slow tilt up")
    rerun(page, page.locator(".st-key-submit button:visible").click)
    page.wait_for_selector(".st-key-submit-ok")
    (run,) = Store(app_server.data_dir).list_runs(_ws(page))
    assert run.request.image_urls == (links.input_value(),)
    no_exception(page)


def test_takes_are_confirmed_once_and_sent_as_one_group(app_server, page):
    page.goto(app_server.url)
    studio.ready(page)
    studio.type_prompt(page, "A paper boat drifts down a rainy street, low angle")
    step_up = page.locator(".st-key-takes [data-testid='stNumberInputStepUp']:visible")
    for _ in range(2):
        rerun(page, step_up.click)
    assert page.locator(".st-key-takes input").input_value() == "3"
    rerun(page, page.locator(".st-key-takes_run button:visible").click)
    assert "Run 3 takes of this request for a total of" in page.locator(".st-key-takes_confirm").inner_text()
    rerun(page, page.locator(".st-key-takes_go button:visible").click)
    page.wait_for_selector(".st-key-takes-ok")
    wait_idle(page)
    runs = Store(app_server.data_dir).list_runs(_ws(page))
    assert len(runs) == 3 and len({r.group_id for r in runs}) == 1 and all(r.task_id for r in runs)
    no_exception(page)

"""Driving the Studio's settings in Chromium as a person does (menus, buttons, switches, the slider's keys),
and reading back what the page shows.

Widgets are found by their keys (``.st-key-<key>``); every change waits for the script
run it causes (``browser.rerun``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lib import catalog, drafts
from tests.support.browser import rerun, wait_idle

ERRORS = "[data-testid='stAlertContentError']"


def ready(page) -> None:
    """Wait until the Studio's widgets are drawn (not their loading placeholders)."""
    wait_idle(page)
    for key in ("prompt textarea", "model input", "aspect_ratio input", "quality button", "duration input[type=range]"):
        page.wait_for_selector(f".st-key-{key}")


def type_prompt(page, text: str) -> None:
    """Type the prompt (nothing to do if the box holds it already: an unchanged box starts no run)."""
    box = page.locator(".st-key-prompt textarea")
    if box.input_value() == text:
        return
    box.fill(text)
    rerun(page, lambda: box.press("Tab"))  # a text area commits its value on blur


def _choose(page, key: str, label: str) -> None:
    page.locator(f".st-key-{key} input").click()
    option = page.get_by_role("option", name=label, exact=True)
    if option.count() == 0:  # menus whose words carry a detail after the name
        option = page.get_by_role("option").filter(has_text=label).first
    rerun(page, option.click)


def set_setting(page, field: str, value: Any) -> None:
    """Change one setting the way a person would."""
    if field == "model":
        _choose(page, "model", catalog.MODELS[value].label)
    elif field == "aspect_ratio":
        _choose(page, "aspect_ratio", catalog.ASPECT_RATIO_LABELS[value])
    elif field == "quality":
        rerun(page, page.locator(".st-key-quality button[role=radio]", has_text=value).click)
    elif field == "duration":
        thumb = page.locator(".st-key-duration input[type=range]")
        now = int(thumb.input_value())
        thumb.focus()
        key = "ArrowRight" if value > now else "ArrowLeft"
        for _ in range(abs(value - now)):
            rerun(page, lambda: thumb.press(key))  # one step, one run: the keyboard is exact
    else:
        switch = page.locator(f".st-key-{field} input[type=checkbox]")
        switch.focus()
        rerun(page, lambda: switch.press("Space"))  # the keyboard, not the pointer: no tooltip in the way


def screen(page) -> dict[str, Any]:
    """The settings as the page shows them; a menu's words are read back as the option they name."""
    model_words = page.locator(".st-key-model input").input_value()
    web = page.locator(".st-key-web_search input[type=checkbox]")
    return {
        "model": drafts.choice("model", model_words) or model_words,
        "duration": int(page.locator(".st-key-duration input[type=range]").input_value()),
        "quality": page.locator(".st-key-quality button[aria-checked=true]").inner_text().strip(),
        "aspect_ratio": drafts.choice("aspect_ratio", page.locator(".st-key-aspect_ratio input").input_value()),
        "generate_audio": page.locator(".st-key-generate_audio input[type=checkbox]").is_checked(),
        "content_filter": page.locator(".st-key-content_filter input[type=checkbox]").is_checked(),
        "web_search": web.is_checked() if web.count() else False,
    }


def errors(page) -> list[str]:
    return sorted(e.inner_text().strip() for e in page.locator(ERRORS).all())


def simulator_payload(data_dir: Path, task_id: str) -> dict:
    """The request body the app's demo simulator received for ``task_id`` (from its task records)."""
    for path in (data_dir / "simulator" / "tasks").glob("*.json"):
        record = json.loads(path.read_text())
        if record.get("id") == task_id:
            return record["payload"]
    raise AssertionError(f"the simulator has no task {task_id}")

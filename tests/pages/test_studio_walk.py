"""Settings never break each other: randomized walks over the Studio's settings (AppTest), each ending in one submit.

After every change the Studio is valid, or it shows exactly the messages the schema
gives for the settings on screen (a real rule of the chosen model, such as an image
model needing an image). Each walk ends with Generate, and the provider must receive
exactly the settings on screen.
"""

from __future__ import annotations

import random

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1.element_tree import Selectbox

from lib import catalog
from tests.support.settings_walk import TEXT_MODELS, expected_request, next_change, rule_messages

PAGE = "app.py"  # the Studio is its first page; the success message links to the Gallery
PROMPT = "A red fox runs through fresh snow, wide shot, golden light"
SEEDS = (11, 23, 37, 51)
CHANGES = 60  # per walk: 4 walks, 240 changes


def screen(at) -> dict:
    """The settings as the page shows them."""
    web = [t for t in at.toggle if t.key == "web_search"]
    return {
        "model": at.selectbox(key="model").value,
        "duration": at.slider(key="duration").value,
        "quality": at.segmented_control(key="quality").value,
        "aspect_ratio": at.selectbox(key="aspect_ratio").value,
        "generate_audio": at.toggle(key="generate_audio").value,
        "content_filter": at.toggle(key="content_filter").value,
        "web_search": web[0].value if web else False,
    }


def change(at, field: str, value) -> None:
    if field in ("model", "aspect_ratio"):
        at.selectbox(key=field).set_value(value).run()
    elif field == "duration":
        at.slider(key=field).set_value(value).run()
    elif field == "quality":
        at.segmented_control(key=field).set_value(value).run()
    else:
        at.toggle(key=field).set_value(value).run()


@pytest.mark.parametrize("seed", SEEDS)
def test_a_random_walk_over_the_settings_never_breaks_the_studio_and_generate_sends_the_screen(
    demo_app, provider, seed
):
    rng = random.Random(seed)
    at = demo_app.open(PAGE)
    at.text_area(key="prompt").input(PROMPT).run()
    history = []
    for _ in range(CHANGES):
        field, value = next_change(rng, screen(at))
        history.append((field, value))
        change(at, field, value)
        assert not at.exception, (history, at.exception)
        shown = screen(at)
        assert shown[field] == value or field == "model", (history, shown)
        errors = sorted(e.value for e in at.error)
        assert errors == rule_messages(shown, PROMPT), (history, shown)
        assert bool(at.metric) == (not errors), history  # the cost card, whenever the settings are valid
    if catalog.MODELS[screen(at)["model"]].mode != "text":
        change(at, "model", rng.choice(TEXT_MODELS))
    assert not at.button(key="submit").disabled
    at.button(key="submit").click().run()
    assert not at.exception, at.exception
    assert provider.posts == [expected_request(screen(at), PROMPT)], history
    assert at.container(key="submit-ok") is not None


@pytest.mark.parametrize("quality", catalog.QUALITIES)
def test_menus_show_the_same_words_whatever_else_is_chosen(demo_app, quality):
    """A browser sends back the words a menu showed; words that changed with the quality named nothing."""
    at = demo_app.open(PAGE)
    baseline = list(at.selectbox(key="aspect_ratio").options)
    at.segmented_control(key="quality").set_value(quality).run()
    assert list(at.selectbox(key="aspect_ratio").options) == baseline
    assert len(set(baseline)) == len(catalog.ASPECT_RATIOS)
    size = catalog.resolution("16:9", quality)
    assert f"{size[0]}×{size[1]} pixels at {quality}." in [c.value for c in at.caption]


@pytest.mark.parametrize(
    ("field", "words", "value"),
    [
        ("aspect_ratio", "16:9 landscape — 1280×720", "16:9"),  # what the menu used to show at 720p
        ("aspect_ratio", "9:16 portrait — 496×864", "9:16"),  # at 480p
        ("model", "Text to video · fast", "seedance-2.0-fast-text-to-video"),
    ],
)
def test_the_words_a_menu_showed_are_read_as_its_option_never_as_the_value(
    demo_app, provider, monkeypatch, field, words, value
):
    at = demo_app.open(PAGE)
    at.text_area(key="prompt").input(PROMPT).run()
    # A browser sends a menu's choice as the words it showed: send words no option has now.
    stale_id = at.selectbox(key=field).id
    real = Selectbox._widget_state

    def as_the_browser_sends(self):
        return WidgetState(id=self.id, string_value=words) if self.id == stale_id else real.fget(self)

    monkeypatch.setattr(Selectbox, "_widget_state", property(as_the_browser_sends))
    at.toggle(key="generate_audio").set_value(False).run()  # any other change sends every widget's state
    monkeypatch.undo()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key=field).value == value and at.metric  # valid, with its cost
    at.button(key="submit").click().run()
    assert getattr(provider.posts[0], field) == value

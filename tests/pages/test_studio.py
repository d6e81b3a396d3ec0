"""The Studio page, driven through Streamlit's AppTest (no browser), against a fake provider."""

import dataclasses
import re
from types import SimpleNamespace

import httpx
import pytest

from components import submit as submit_component
from lib import catalog, hints, pricing
from lib import submit as submit_rules
from lib.pricing import format_credits, load_rates
from lib.snippets import SNIPPETS
from lib.status import RunStatus
from tests.support.provider import error_response
from tests.support.waiting import Clock

PAGE = "pages/studio.py"
PROMPT = "A fox runs through snow at dawn, slow dolly in, golden light"


@pytest.fixture
def at(demo_app):
    return demo_app.open(PAGE)


def _cost_text(at) -> str:
    return " ".join(m.value for m in at.metric)


def _hint_codes(at) -> list[str]:
    """The codes of the hints shown (each hint's container is keyed ``hint-<code>-<n>``)."""
    return [m.group(1) for c in at.container if c.key and (m := re.fullmatch(r"hint-([a-z-]+)-\d+", c.key))]


def test_defaults_render_with_an_estimate(at):
    assert at.text_area(key="prompt").value == ""
    assert at.selectbox(key="model").value == "seedance-2.0-text-to-video"
    assert at.slider(key="duration").value == 5
    # No prompt yet: no estimate, and no error shouted at a blank editor.
    assert not at.error
    assert "Appears as soon as the settings are valid." in [c.value for c in at.caption]


def test_estimate_updates_with_duration(at):
    card = load_rates()
    per_s = card.rate("standard", "720p").without_video  # the Studio's default model and quality
    at.text_area(key="prompt").input("A lighthouse at dusk, slow pan, warm light").run()
    assert format_credits(5 * per_s) in _cost_text(at)
    at.slider(key="duration").set_value(8).run()
    assert format_credits(8 * per_s) in _cost_text(at)
    at.toggle(key="content_filter").set_value(False).run()
    assert format_credits(8 * per_s * card.content_filter_off_multiplier) in _cost_text(at)


def _price_sentences(at) -> list[str]:
    at.text_area(key="prompt").input("A lighthouse at dusk, slow pan, warm light").run()
    at.toggle(key="content_filter").set_value(False).run()
    assert not at.exception, at.exception
    captions = [c.value for c in at.caption if "×" in c.value]
    helps = [at.toggle(key="content_filter").help, at.toggle(key="web_search").help]
    return captions + helps


def test_prices_in_sentences_come_from_the_rate_card(at):
    words = pricing.price_words()
    sentences = _price_sentences(at)
    assert f"Content filter off: this run costs {words.filter_off}." in sentences
    assert f"Content filter off: {words.filter_off}: " in " ".join(sentences)  # the cost card's line
    assert f"costs {words.filter_off} ({words.filter_off_change})" in sentences[-2]
    assert words.web_search in sentences[-1]


def test_an_edited_rate_card_changes_every_price_on_the_page(demo_app):
    edited = dataclasses.replace(load_rates(), content_filter_off_multiplier=1.5, web_search_credits_per_search=0.25)
    with pricing.use_rates(edited):
        app = demo_app.open(PAGE)
        sentences = _price_sentences(app)
        cost = _cost_text(app)
    assert "Content filter off: this run costs ×1.5." in sentences
    assert "costs ×1.5 (50% more)" in sentences[-2] and "+0.25 credits per search" in sentences[-1]
    per_s = edited.rate("standard", "720p").without_video
    assert format_credits(5 * per_s * 1.5) in cost


def test_curly_quotes_hint_and_fix_all(at):
    at.text_area(key="prompt").input(
        "Close-up of a sailor at dawn. He says “We sail at noon.” Soft light, slow dolly in."
    ).run()
    assert "curly-quotes" in _hint_codes(at)
    at.button(key="fix_all").click().run()
    assert (
        at.text_area(key="prompt").value
        == 'Close-up of a sailor at dawn. He says "We sail at noon." Soft light, slow dolly in.'
    )
    assert "curly-quotes" not in _hint_codes(at)


def test_model_switch_adjusts_quality_and_says_so(at):
    at.text_area(key="prompt").input("A fox in snow, wide shot, morning light").run()
    at.segmented_control(key="quality").set_value("1080p").run()
    at.toggle(key="web_search").set_value(True).run()
    at.selectbox(key="model").set_value("seedance-2.0-fast-text-to-video").run()
    assert at.segmented_control(key="quality").value == "720p"
    notice = " ".join(i.value for i in at.info)
    assert "quality 1080p → 720p" in notice
    assert at.toggle(key="web_search").value is True  # fast text-to-video keeps web search
    at.selectbox(key="model").set_value("seedance-2.0-mini-text-to-video").run()
    assert "web search turned off" in " ".join(i.value for i in at.info)
    assert not [t for t in at.toggle if t.key == "web_search"]  # mini has no web search


def test_invalid_input_shows_the_schema_message(at):
    at.text_area(key="prompt").input("A fox").run()
    at.selectbox(key="model").set_value("seedance-2.0-image-to-video").run()
    # Image-to-video needs 1-2 images: the message appears next to the field.
    errors = " ".join(e.value for e in at.error)
    assert "takes 1 to 2 images" in errors
    at.text_area(key="image_urls").input("ftp://example.com/a.png").run()
    errors = " ".join(e.value for e in at.error)
    assert "Image 1: must be a web link starting with http:// or https://" in errors
    at.text_area(key="image_urls").input("https://example.com/a.png").run()
    assert not at.error
    assert "credits" in _cost_text(at)


def test_callback_url_must_be_public_https(at):
    at.text_area(key="prompt").input("A fox").run()
    at.text_input(key="callback_url").input("http://example.com/hook").run()
    assert any("Callback URL: must start with https://" in e.value for e in at.error)
    at.text_input(key="callback_url").input("https://192.168.1.4/hook").run()
    assert any("not localhost or a private network address" in e.value for e in at.error)


def _unescaped(text: str) -> str:
    """A Markdown source as the screen shows it (the page escapes server text)."""
    return re.sub(r"\\(.)", r"\1", text)


@pytest.fixture
def clock(monkeypatch):
    """The double-click window's clock, moved by the test (and by a slow provider)."""
    now = Clock(1000.0)
    monkeypatch.setattr(submit_component, "time", SimpleNamespace(monotonic=now))
    return now


def test_a_click_queued_behind_a_slow_post_sends_nothing_more(at, demo_app, provider, clock):
    def slow(request, _http):
        clock.advance(3 * submit_rules.DOUBLE_CLICK_WINDOW)  # the POST outlasts the window
        return None

    provider.on_post = slow
    at.text_area(key="prompt").input(PROMPT).run()
    at.button(key="submit").click().run()
    at.button(key="submit").click().run()  # the double click's second half, handled right after the slow POST
    assert len(provider.posts) == 1
    assert len(demo_app.store.list_runs(at.session_state["ws"])) == 1
    # Once the window has passed, the same request again is a new run, deliberately.
    clock.advance(submit_rules.DOUBLE_CLICK_WINDOW + 1)
    at.button(key="submit").click().run()
    assert len(provider.posts) == 2
    assert len(demo_app.store.list_runs(at.session_state["ws"])) == 2


def test_a_refused_run_stays_visible_and_retry_sends_one_new_run(at, demo_app, provider):
    provider.on_post = lambda request, _http: (
        error_response(400, "invalid_request", "Invalid request parameters") if len(provider.posts) == 1 else None
    )
    at.text_area(key="prompt").input("A fox that the provider will refuse, wide shot, soft light").run()
    at.button(key="submit").click().run()
    assert at.button(key="retry")  # refused: the run stays visible with a Retry
    at.button(key="retry").click().run()
    assert at.button(key="submit")  # the page is still there
    runs = demo_app.store.list_runs(at.session_state["ws"])
    assert sorted(r.status for r in runs) == ["pending", "submit_failed"]
    assert len(provider.posts) == 2


def _read_timeout(_request, http_request: httpx.Request):
    raise httpx.ReadTimeout("the answer never came", request=http_request)


@pytest.mark.parametrize(
    "failure",
    [_read_timeout, lambda _r, _h: error_response(502, "bad_gateway", "Bad gateway")],
    ids=["read-timeout", "502"],
)
def test_a_post_that_may_have_been_billed_is_unknown_and_never_resent(at, demo_app, provider, failure):
    """The POST left but its answer did not come back: the provider may have created (and bill) the task."""
    provider.on_post = failure
    at.text_area(key="prompt").input(PROMPT).run()
    at.button(key="submit").click().run()
    assert not at.exception, at.exception
    shown = " ".join(_unescaped(e.value) for e in at.error)
    assert "Unknown — it may have been charged" in shown
    assert "Ask the facilitator to check the Evolink account before submitting it again." in shown
    assert not [b for b in at.button if b.key == "retry"]  # nothing that would send it again
    at.run()  # a rerun sends nothing either
    assert len(provider.posts) == 1
    [run] = demo_app.store.list_runs(at.session_state["ws"])
    assert run.status == RunStatus.UNKNOWN and run.task_id is None
    assert run.request.prompt == PROMPT


def test_a_fix_clicked_in_the_same_round_trip_as_an_edit_applies_to_the_edited_text(at):
    at.text_area(key="prompt").input("Close-up. She says “Hi” and smiles, soft light, slow pan.").run()
    # Edit and click in one round trip: the hint's offsets on screen are for the old text.
    at.text_area(key="prompt").input("A tall old man at the harbour. She says “Hi” and smiles, soft light, slow pan.")
    at.button(key="fix_all").click().run()
    assert at.text_area(key="prompt").value == (
        'A tall old man at the harbour. She says "Hi" and smiles, soft light, slow pan.'
    )


def test_reference_videos_on_the_servers_own_network_are_not_probed(monkeypatch):
    from components import cost_card
    from lib import pricing

    opened = []
    monkeypatch.setattr(pricing, "probe_video_seconds", lambda url, timeout=5.0: opened.append(url) or 7.0)
    cost_card._probe.clear()
    assert cost_card._probe(("http://127.0.0.1:22/x.mp4",)) is None
    assert cost_card._probe(("https://[::1]/x.mp4", "https://example.com/a.mp4")) is None
    assert opened == []
    assert cost_card._probe(("https://example.com/a.mp4",)) == 7.0
    assert opened == ["https://example.com/a.mp4"]


def test_the_hint_panel_shows_every_hint_and_grows_with_them(at):
    prompt = "A fox says “hi” to the camera, 16:9, 4K"
    at.text_area(key="prompt").input(prompt).run()
    found = hints.lint(
        prompt,
        model=catalog.DEFAULT_MODEL,
        web_search=False,
        aspect_ratio=at.selectbox(key="aspect_ratio").value,
        quality=at.segmented_control(key="quality").value,
    )
    assert len(found) >= 4
    assert sorted(_hint_codes(at)) == sorted(h.code for h in found)  # the last one too
    [panel] = [c for c in at.container if c.key == "hints"]
    assert panel.proto.height_config.use_content  # no fixed height: nothing scrolls out of sight


def test_the_callback_url_and_copy_as_code_live_under_for_developers(at):
    at.text_area(key="prompt").input(PROMPT).run()
    [developers] = [e for e in at.expander if e.label == "For developers"]
    assert not developers.proto.expanded  # closed: participants need none of it
    assert [t.key for t in developers.text_input] == ["callback_url"]
    assert "**Copy as code**" in [m.value for m in developers.markdown]
    kinds = list(SNIPPETS.values())
    assert [tab.label for tab in developers.tabs] == [k.label for k in kinds] == ["curl", "Python", "Node"]
    codes = [tab.code[0] for tab in developers.tabs]
    assert [c.language for c in codes] == [k.language for k in kinds]
    assert all('"seedance-2.0' in c.value and "YOUR_API_KEY" in c.value for c in codes)
    assert [t.key for t in at.text_input] == ["callback_url"]  # and nowhere else

"""The Batch page, driven through AppTest: upload, preview with problems and costs, one confirmation, one group."""

from __future__ import annotations

import pytest

from lib.pricing import format_amount, format_credits, format_usd, load_rates

CARD = load_rates()
# The two valid rows: 4 s fast 480p and 8 s standard 720p (the default quality).
VALID_ROWS = 4 * CARD.rate("fast", "480p").without_video + 8 * CARD.rate("standard", "720p").without_video

CSV = (
    b"prompt,model,duration,quality\n"
    b"A red fox in snow,seedance-2.0-fast-text-to-video,4,480p\n"
    b"A lighthouse at dusk,,8,\n"
    b"A bad row,seedance-2.0-fast-text-to-video,16,1080p\n"
)


@pytest.fixture
def at(demo_app):
    # Through app.py's st.navigation: the page links to the Gallery once a batch is sent.
    app = demo_app.open("app.py")
    app.switch_page("pages/batch.py").run()
    app.file_uploader(key="batch_file").set_value(("prompts.csv", CSV, "text/csv")).run()
    assert not app.exception, app.exception
    return app


def test_preview_flags_the_bad_row_and_prices_the_good_ones(at, provider):
    text = " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.warning, *at.error])
    table = at.dataframe[0].value.to_string()
    assert "Duration: a whole number of seconds from 4 to 15" in table + text
    assert format_credits(VALID_ROWS) in " ".join(m.value for m in at.metric) + text
    assert provider.posts == []


def test_confirm_sends_the_valid_rows_as_one_group(at, provider, demo_app):
    at.button(key="batch_run").click().run()
    usd = format_usd(VALID_ROWS * CARD.usd_per_credit)
    assert [m.value for m in at.markdown if "for a total of" in m.value] == [
        f"Send **2 runs** for a total of **{format_credits(VALID_ROWS)}** (≈ {usd})?"
    ]
    assert provider.posts == []
    at.button(key="batch_go").click().run()
    assert not at.exception, at.exception
    assert [r.prompt for r in provider.posts] == ["A red fox in snow", "A lighthouse at dusk"]
    runs = demo_app.store.list_runs(at.session_state["ws"])
    assert len(runs) == 2 and len({r.group_id for r in runs}) == 1
    # A rerun after sending (or a second click) sends nothing more.
    at.run()
    assert len(provider.posts) == 2


def test_a_batch_over_the_budget_cannot_be_sent_and_says_by_how_much(at, provider, demo_app):
    budget = round(VALID_ROWS / 2)
    demo_app.store.set_budget(at.session_state["ws"], budget, by=at.session_state["pid"])  # this session started it
    at.run()
    assert at.button(key="batch_run").disabled
    blocked = at.container(key="batch_blocked")
    assert [w.value for w in blocked.warning] == [
        f"Over the workshop budget by {format_amount(VALID_ROWS - budget)} credits."
    ]
    assert provider.posts == [] and demo_app.store.list_runs(at.session_state["ws"]) == []


def test_the_preview_leads_with_each_rows_problem_and_never_shows_none(at):
    frame = at.dataframe[0].value
    assert list(frame.columns[:4]) == ["Row", "Problems", "Hints", "Credits"]
    assert "None" not in frame.to_string() and "nan" not in frame.to_string()
    by_row = {r["Row"]: r for r in frame.to_dict("records")}
    assert by_row["4"]["Problems"].startswith("Duration: a whole number of seconds from 4 to 15")
    assert by_row["4"]["Credits"] == "" and by_row["2"]["Problems"] == "ready"
    assert by_row["2"]["Model"] == "Text to video · fast"  # as the Studio shows it


def test_a_sent_file_is_marked_and_is_not_sent_again_by_accident(at, provider):
    at.button(key="batch_run").click().run()
    at.button(key="batch_go").click().run()
    assert len(provider.posts) == 2
    assert at.container(key="batch_sent_before") is not None
    assert at.button(key="batch_run").disabled
    # Deliberately, it can be sent again.
    [again] = [c for c in at.checkbox if c.key and c.key.startswith("batch_again_")]
    again.check().run()
    assert not at.button(key="batch_run").disabled
    at.button(key="batch_run").click().run()
    at.button(key="batch_go").click().run()
    assert len(provider.posts) == 4

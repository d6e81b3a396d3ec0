"""The Compare page, driven through Streamlit's AppTest (no browser): build, price, confirm, refuse, reopen."""

from __future__ import annotations

import pytest

from lib.pricing import format_amount, format_credits, format_usd, load_rates

PAGE = "pages/compare.py"
CARD = load_rates()


def per_s(tier: str, quality: str) -> float:
    return CARD.rate(tier, quality).without_video


# The default grid: the Studio's defaults (5 s, standard text-to-video), rows 480p and 720p.
DEFAULT_GRID = 5 * per_s("standard", "480p") + 5 * per_s("standard", "720p")
TWO_BY_TWO = 2 * DEFAULT_GRID  # audio on and off cost the same


@pytest.fixture
def at(demo_app):
    return demo_app.open(PAGE, session_state={"prompt": "A red fox runs through snow, wide shot"})


@pytest.fixture
def db(demo_app):
    return demo_app.store


def _total(at) -> str:
    return at.metric[0].value


def _two_by_two(at):
    at.selectbox(key="cmp_cols").set_value("generate_audio").run()
    assert not at.exception, at.exception


def test_default_grid_is_priced_before_anything_is_sent(at, provider):
    assert at.text_area(key="cmp_prompt").value == "A red fox runs through snow, wide shot"
    assert at.selectbox(key="cmp_rows").value == "quality"
    assert at.multiselect(key="cmp_rows_quality").value == ["480p", "720p"]
    assert _total(at) == format_credits(DEFAULT_GRID)
    assert provider.posts == []


def test_two_by_two_grid_has_a_line_per_cell(at):
    _two_by_two(at)
    assert _total(at) == format_credits(TWO_BY_TWO)
    lines = at.dataframe[0].value
    assert list(lines["Cell"]) == ["480p · audio on", "480p · audio off", "720p · audio on", "720p · audio off"]


def test_invalid_cells_show_the_schema_message(demo_app):
    at = demo_app.open(PAGE, session_state={"prompt": "A fox", "model": "seedance-2.0-fast-text-to-video"})
    at.multiselect(key="cmp_rows_quality").set_value(["480p", "1080p"]).run()
    captions = [c.value for c in at.caption]
    assert "Not sent: Quality: Text to video · fast offers 480p or 720p; 1080p needs a standard model." in captions
    at.button(key="cmp_run").click().run()
    confirm = [m.value for m in at.markdown if "for a total of" in m.value]
    one = 5 * per_s("fast", "480p")
    assert confirm == [
        f"Run **1 video** for a total of **{format_credits(one)}** (≈ {format_usd(one * CARD.usd_per_credit)})? "
        "1 invalid cell will not be sent."
    ]


def test_confirm_states_the_total_then_sends_one_post_per_cell(at, provider, db):
    _two_by_two(at)
    at.button(key="cmp_run").click().run()
    confirm = [m.value for m in at.markdown if "for a total of" in m.value]
    usd = format_usd(TWO_BY_TWO * CARD.usd_per_credit)
    assert confirm == [f"Run **4 videos** for a total of **{format_credits(TWO_BY_TWO)}** (≈ {usd})?"]
    assert provider.posts == []  # nothing before the confirmation
    at.button(key="cmp_go").click().run()
    assert not at.exception, at.exception
    assert len(provider.posts) == 4
    cmp_id = at.query_params["cmp"]
    comparison = db.get_comparison(cmp_id)
    assert comparison.title == "Quality × Audio"
    runs = db.list_runs(comparison.workspace_id, group_id=cmp_id)
    assert len(runs) == 4 and {r.task_id for r in runs} == {"task_1", "task_2", "task_3", "task_4"}
    assert sorted(c["run_id"] for c in comparison.spec["cells"]) == sorted(r.id for r in runs)
    # The page now shows the comparison, still running.
    assert at.subheader[0].value == "Quality × Audio"


def test_a_grid_over_the_budget_cannot_be_asked_for_and_says_by_how_much(at, provider, db):
    budget = round(TWO_BY_TWO / 2)
    db.set_budget(at.session_state["ws"], budget, by=at.session_state["pid"])  # this session started it
    _two_by_two(at)
    assert at.button(key="cmp_run").disabled
    assert [w.value for w in at.warning] == [
        f"Over the workshop budget by {format_amount(TWO_BY_TWO - budget)} credits."
    ]
    assert provider.posts == [] and db.list_runs(at.session_state["ws"]) == []


def test_a_budget_lowered_while_confirming_disables_confirm(at, provider, db):
    _two_by_two(at)
    at.button(key="cmp_run").click().run()
    assert not at.button(key="cmp_go").disabled
    db.set_budget(at.session_state["ws"], 10, by=at.session_state["pid"])  # the facilitator, from another tab
    at.run()
    assert at.button(key="cmp_go").disabled
    assert [w.value for w in at.warning] == [f"Over the workshop budget by {format_amount(TWO_BY_TWO - 10)} credits."]
    assert provider.posts == []


def test_cancel_sends_nothing(at, provider):
    at.button(key="cmp_run").click().run()
    at.button(key="cmp_cancel").click().run()
    assert provider.posts == [] and not [m for m in at.markdown if "for a total of" in m.value]


def test_prompt_variants_axis_and_word_diff(at, provider, db):
    at.selectbox(key="cmp_rows").set_value("prompt").run()
    assert at.text_area(key="cmp_var_A").value == "A red fox runs through snow, wide shot"
    at.text_area(key="cmp_var_B").input("A grey fox runs through <deep> snow, wide shot").run()
    assert _total(at) == format_credits(2 * 5 * per_s("standard", "720p"))  # two prompts, the Studio's defaults
    at.button(key="cmp_run").click().run()
    at.button(key="cmp_go").click().run()
    assert [p.prompt for p in provider.posts] == [
        "A red fox runs through snow, wide shot",
        "A grey fox runs through <deep> snow, wide shot",
    ]
    diffs = [h.proto.body for h in at.get("html")]
    assert any("<del>red</del><ins>grey</ins>" in d and "&lt;deep&gt;" in d for d in diffs)


def test_finished_comparison_reopens_with_player_rating_and_winner(at, db, demo_app):
    at.button(key="cmp_run").click().run()
    at.button(key="cmp_go").click().run()
    ws = at.session_state["ws"]
    runs = db.list_runs(ws)
    for run in runs:
        db.mark_failed(run.id, "generation_timeout", "The provider took too long.")
    fresh = demo_app.open(PAGE, query_params={"ws": ws})
    cmp_id = db.list_comparisons(ws)[0].id
    reopen = fresh.button(key=f"cmp-open-{cmp_id}")
    assert reopen.label.startswith("Quality · 2 cells")
    reopen.click().run()
    assert fresh.query_params["cmp"] == cmp_id
    assert not fresh.exception, fresh.exception
    assert fresh.subheader[0].value == "Quality"
    assert len(fresh.get("iframe")) == 1
    first = runs[-1]  # oldest first in the grid
    fresh.button(key=f"cmp-win-{first.id}").click().run()
    assert db.get_comparison(cmp_id).spec["winner"] == first.id
    assert fresh.button(key=f"cmp-win-{first.id}").label == "Winner"
    player = fresh.get("iframe")[0].proto.srcdoc
    assert player.count('<td class="winner">') == 1 and "Winner ·" in player  # marked on the grid


def test_the_base_settings_read_as_plain_words(at):
    [base] = [c.value for c in at.caption if c.value.startswith("Base settings:")]
    assert base == (
        "Base settings: Text to video · standard · 720p · 5 s · 16:9 · audio on · content filter on · web search off"
    )


def test_starting_from_an_earlier_run_fills_the_base_prompt_and_the_variants(at, provider, db):
    # A comparison of two prompts, so its runs carry their variants.
    at.selectbox(key="cmp_rows").set_value("prompt").run()
    at.text_area(key="cmp_var_B").input("A grey fox naps in the snow, close-up").run()
    at.button(key="cmp_run").click().run()
    at.button(key="cmp_go").click().run()
    at.button(key="cmp_new").click().run()
    at.segmented_control(key="cmp_source").set_value("run").run()
    chosen = db.get_run(at.selectbox(key="cmp_base_run").value)
    assert at.text_area(key="cmp_prompt").value == chosen.request.prompt  # no menu change needed
    at.selectbox(key="cmp_rows").set_value("prompt").run()
    variants = {at.text_area(key="cmp_var_A").value, at.text_area(key="cmp_var_B").value}
    assert variants == {"A red fox runs through snow, wide shot", "A grey fox naps in the snow, close-up"}
    assert at.text_area(key="cmp_var_A").value == chosen.request.prompt

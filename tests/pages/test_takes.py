"""Takes: N runs of one Studio request, priced as N runs, confirmed once, saved as one group; "take" in Compare."""

from __future__ import annotations

import pytest

from lib import compare
from lib.pricing import format_amount, format_credits, format_usd, load_rates

STUDIO = "pages/studio.py"
COMPARE = "pages/compare.py"
PROMPT = "A paper boat drifts down a rainy street, low angle, soft light"
CARD = load_rates()
ONE = 5 * CARD.rate("standard", "720p").without_video  # the Studio's defaults: 5 s, standard, 720p


def _studio(demo_app):
    # Through app.py's st.navigation: the takes' outcome links to the Compare page.
    app = demo_app.open("app.py")
    app.switch_page(STUDIO).run()
    app.text_area(key="prompt").input(PROMPT).run()
    assert not app.exception, app.exception
    return app


@pytest.fixture
def at(demo_app):
    return _studio(demo_app)


def _question(at) -> list[str]:
    return [m.value for m in at.markdown if "for a total of" in m.value]


def test_one_take_is_the_ordinary_generate_button(at):
    assert at.number_input(key="takes").value == 1
    assert at.button(key="submit") and not [b for b in at.button if b.key == "takes_run"]


def test_takes_are_priced_as_n_runs_confirmed_once_and_sent_as_one_group(at, demo_app, provider):
    at.number_input(key="takes").set_value(3).run()
    assert not [b for b in at.button if b.key == "submit"]
    at.button(key="takes_run").click().run()
    total = 3 * ONE
    usd = format_usd(total * CARD.usd_per_credit)
    assert _question(at) == [f"Run **3 takes** of this request for a total of **{format_credits(total)}** (≈ {usd})?"]
    assert provider.posts == []  # nothing before the confirmation
    at.button(key="takes_go").click().run()
    assert not at.exception, at.exception
    assert [p.prompt for p in provider.posts] == [PROMPT] * 3
    db = demo_app.store
    runs = db.list_runs(at.session_state["ws"])
    assert len(runs) == 3 and len({r.group_id for r in runs}) == 1
    group_id = runs[0].group_id
    comparison = db.get_comparison(group_id)
    assert comparison.title == "3 takes"
    assert comparison.spec["rows"]["axis"] == compare.TAKE and not comparison.spec.get("cols")  # takes alone
    assert [c["label"] for c in comparison.spec["cells"]] == ["Take 1", "Take 2", "Take 3"]
    assert sorted(c["run_id"] for c in comparison.spec["cells"]) == sorted(r.id for r in runs)
    assert "3 takes submitted" in " ".join(s.value for s in at.success)
    # A rerun (or a second click on a stale Confirm) sends nothing more.
    at.run()
    assert len(provider.posts) == 3


def test_takes_over_the_budget_cannot_be_asked_for(at, demo_app, provider):
    db = demo_app.store
    budget = round(2 * ONE)
    db.set_budget(at.session_state["ws"], budget, by=at.session_state["pid"])
    at.number_input(key="takes").set_value(4).run()
    assert at.button(key="takes_run").disabled
    assert f"Over the workshop budget by {format_amount(4 * ONE - budget)} credits." in [w.value for w in at.warning]
    assert provider.posts == [] and db.list_runs(at.session_state["ws"]) == []


def test_takes_of_a_remix_are_all_its_children(demo_app, provider):
    at = _studio(demo_app)
    at.button(key="submit").click().run()
    (parent,) = demo_app.store.list_runs(at.session_state["ws"])
    at.session_state["remix_of"] = parent.id
    at.number_input(key="takes").set_value(2).run()
    at.button(key="takes_run").click().run()
    at.button(key="takes_go").click().run()
    children = [r for r in demo_app.store.list_runs(at.session_state["ws"]) if r.id != parent.id]
    assert len(children) == 2 and {r.parent_id for r in children} == {parent.id}


def test_compare_offers_take_as_an_axis(demo_app, provider):
    at = demo_app.open(COMPARE, session_state={"prompt": "A red fox runs through snow, wide shot"})
    at.selectbox(key="cmp_cols").set_value("take").run()
    assert not at.exception, at.exception
    assert at.multiselect(key="cmp_cols_take").value == [1, 2, 3]
    lines = list(at.dataframe[0].value["Cell"])
    assert lines == [f"{q} · Take {n}" for q in ("480p", "720p") for n in (1, 2, 3)]
    at.button(key="cmp_run").click().run()
    at.button(key="cmp_go").click().run()
    assert [p.quality for p in provider.posts] == ["480p"] * 3 + ["720p"] * 3
    assert {p.prompt for p in provider.posts} == {"A red fox runs through snow, wide shot"}

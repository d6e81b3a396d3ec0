"""A workshop in real Chromium: a facilitator and two participants, three browser contexts (three cookies), one server.

Covers what went wrong when a workshop was tried for real: Generate breaking after a
quality change (a randomized walk over every setting, ending in a submit checked
against what the simulator received), participants changing the limits, a cleared
budget stored as 0, a link that made whoever opened it someone else, drafts lost on
a reload, workspaces multiplying, and limits that spoke only after the click.
"""

from __future__ import annotations

import random

import pytest

from lib import catalog
from lib.identity import COOKIE
from lib.pricing import format_amount, load_rates
from lib.schema import GenerationRequest
from lib.store import Role, Store
from tests.support import studio_browser as studio
from tests.support.browser import TIMEOUT_MS, no_exception, rerun, wait_idle
from tests.support.server import AppProcess
from tests.support.settings_walk import TEXT_MODELS, expected_request, next_change, rule_messages

PROMPT = "A red kite over a green hill, wide shot, morning light, slow pan right."
# The Studio's default run: 5 s of standard text-to-video at 720p.
DEFAULT_RUN = 5 * load_rates().rate("standard", "720p").without_video
WALK_CHANGES = 35


@pytest.fixture(scope="module")
def server(tmp_path_factory, chromium_path):
    app = AppProcess(tmp_path_factory.mktemp("workshop")).start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def people(browser, server):
    """One browser context each (each has its own cookie, so its own participant id): a page per person."""
    contexts, pages = [], {}
    for name in ("facilitator", "ana", "ben"):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        pages[name] = page
    yield pages
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def workshop(people, server):
    """The facilitator starts a workspace; the participants open its invite link. Returns (ws id, invite link)."""
    fac = people["facilitator"]
    fac.goto(server.url)
    studio.ready(fac)
    ws = _ws(fac)
    invite = _invite(fac)
    for name in ("ana", "ben"):
        people[name].goto(invite)
        studio.ready(people[name])
    return ws, invite


def _ws(page) -> str:
    assert "ws=" in page.url, page.url
    return page.url.split("ws=", 1)[1].split("&", 1)[0]


def _invite(page) -> str:
    return page.locator(".st-key-invite_link code").inner_text().strip()


def _pid(page) -> str:
    [cookie] = [c for c in page.context.cookies() if c["name"] == COOKIE]
    return cookie["value"]


def _open_limits(page) -> None:
    limits = page.locator("[data-testid='stSidebar'] [data-testid='stExpander'] summary", has_text="Workshop budget")
    if page.locator(".st-key-ws_budget input").count() == 0 or not page.locator(".st-key-ws_budget input").is_visible():
        limits.click()
    page.locator(".st-key-ws_budget input").wait_for()


def _set_limit(page, key: str, value: str) -> None:
    _open_limits(page)
    box = page.locator(f".st-key-{key} input")
    box.fill(value)
    rerun(page, lambda: box.press("Enter"))


def _reload(page) -> None:
    page.reload()
    studio.ready(page)


def _sidebar_total(page) -> str:
    return page.locator(".st-key-ws_committed").inner_text()


# --- defects 2, 3, 4: roles, limits, identities ----------------------------------------------------


def test_the_invite_link_carries_the_workspace_only_and_makes_nobody_someone_else(people, workshop, server):
    ws, invite = workshop
    fac, ana, ben = people["facilitator"], people["ana"], people["ben"]
    assert invite == f"{server.url}/?ws={ws}"
    pids = {name: _pid(page) for name, page in people.items()}
    assert len(set(pids.values())) == 3  # three browsers, three participants
    flink = fac.locator(".st-key-facilitator_link code").inner_text()
    assert "&f=" in flink and "&f=" not in invite
    secret = flink.split("&f=", 1)[1].strip()
    assert secret not in server.log_path.read_text(errors="replace")  # never logged
    assert secret not in people["ana"].content() and secret not in people["ben"].content()
    for name, page in people.items():
        assert pids[name] not in invite and pids[name] not in page.url and pids[name] not in page.content()
    db = Store(server.data_dir)
    roles = {m.participant_id: m.role for m in db.members(ws)}
    assert roles == {
        pids["facilitator"]: Role.FACILITATOR,
        pids["ana"]: Role.PARTICIPANT,
        pids["ben"]: Role.PARTICIPANT,
    }
    # Ana names herself; Ben opens the very address Ana's browser shows and stays Ben.
    name = ana.locator(".st-key-display_name input")
    name.fill("alice")
    rerun(ana, lambda: name.press("Enter"))
    assert "who=" not in ana.url and "alice" not in ana.url
    ben.goto(ana.url)
    studio.ready(ben)
    assert ben.locator(".st-key-display_name input").input_value() == "Participant 2"
    assert db.member(ws, pids["ben"]).display_name == "Participant 2"
    no_exception(fac), no_exception(ana), no_exception(ben)


def test_only_the_facilitator_changes_the_limits_and_a_cleared_limit_is_no_limit(people, workshop, server):
    ws, _invite = workshop
    fac, ana = people["facilitator"], people["ana"]
    db = Store(server.data_dir)
    _set_limit(fac, "ws_budget", "400")
    _set_limit(fac, "ws_cap", "100")
    assert (db.get_workspace(ws).budget_credits, db.get_workspace(ws).per_participant_cap) == (400, 100)
    _reload(ana)
    _open_limits(ana)
    for key in ("ws_name", "ws_budget", "ws_cap"):
        assert ana.locator(f".st-key-{key} input").is_disabled(), key
    assert ana.locator(".st-key-ws_budget input").input_value() == "400.00"
    assert "You take part in this workshop." in ana.locator("[data-testid='stSidebar']").inner_text()
    # Cleared, each limit is gone (not 0.00), and every run fits again.
    _set_limit(fac, "ws_budget", "")
    _set_limit(fac, "ws_cap", "")
    assert (db.get_workspace(ws).budget_credits, db.get_workspace(ws).per_participant_cap) == (None, None)
    assert fac.locator(".st-key-ws_budget input").input_value() == ""
    _reload(ana)
    studio.type_prompt(ana, PROMPT)
    assert ana.locator(".st-key-submit button:visible").is_enabled()
    no_exception(fac), no_exception(ana)


def test_the_cap_follows_the_browser_not_the_name(people, workshop, server):
    ws, _invite = workshop
    fac, ana, ben = people["facilitator"], people["ana"], people["ben"]
    db = Store(server.data_dir)
    _set_limit(fac, "ws_cap", f"{DEFAULT_RUN * 1.5:.2f}")
    for page in (ana, ben):
        _reload(page)
        name = page.locator(".st-key-display_name input")
        name.fill("Alice")
        rerun(page, lambda name=name: name.press("Enter"))
        studio.type_prompt(page, PROMPT)
        page.click(".st-key-submit button:visible")
        page.wait_for_selector(".st-key-submit-ok")
        wait_idle(page)
        # Half a run is left under this browser's cap, whatever its name.
        assert page.locator(".st-key-submit button:visible").is_disabled()
        assert "Over your cap by" in page.locator(".st-key-submit_blocked").inner_text()
    runs = db.list_runs(ws)
    assert {r.participant_id for r in runs} == {_pid(ana), _pid(ben)} and {r.participant for r in runs} == {"Alice"}
    _set_limit(fac, "ws_cap", "")
    no_exception(ana), no_exception(ben)


# --- defect 8: limits speak before the click ------------------------------------------------------


def test_over_budget_generate_says_which_limit_and_the_total_moves_with_the_click(people, workshop, server):
    ws, _invite = workshop
    fac, ben = people["facilitator"], people["ben"]
    db = Store(server.data_dir)
    committed = db.committed_credits(ws)
    _set_limit(fac, "ws_budget", f"{committed + DEFAULT_RUN / 2:.2f}")
    _reload(ben)
    studio.type_prompt(ben, PROMPT)
    button = ben.locator(".st-key-submit button:visible")
    assert button.is_disabled()
    blocked = ben.locator(".st-key-submit_blocked").inner_text()
    assert f"Over the workshop budget by {format_amount(DEFAULT_RUN / 2)} credits." in blocked
    assert "Left under the workshop budget" in ben.locator(".st-key-cost").inner_text()
    # Room for one more run: the sidebar's total counts it as soon as Generate is clicked.
    _set_limit(fac, "ws_budget", f"{committed + DEFAULT_RUN * 1.5:.2f}")
    _reload(ben)
    assert format_amount(committed) in _sidebar_total(ben)
    rerun(ben, ben.locator(".st-key-submit button:visible").click)
    ben.wait_for_selector(".st-key-submit-ok")
    wait_idle(ben)
    assert format_amount(committed + DEFAULT_RUN) in _sidebar_total(ben)
    assert ben.locator(".st-key-submit button:visible").is_disabled()  # half a run left now
    _set_limit(fac, "ws_budget", "")
    no_exception(ben)


# --- defect 1: Generate never breaks, whatever the settings did -------------------------------------


def test_a_random_walk_over_the_settings_never_breaks_generate(people, workshop, server):
    ws, _invite = workshop
    ana = people["ana"]
    _reload(ana)
    studio.type_prompt(ana, PROMPT)
    rng = random.Random(2026)
    history = []
    for _ in range(WALK_CHANGES):
        field, value = next_change(rng, studio.screen(ana), duration_step=3)
        history.append((field, value))
        studio.set_setting(ana, field, value)
        shown = studio.screen(ana)
        assert shown[field] == value or field == "model", (history, shown)
        assert [e.split("\n")[-1] for e in studio.errors(ana)] == rule_messages(shown, PROMPT), history
    if catalog.MODELS[studio.screen(ana)["model"]].mode != "text":
        studio.set_setting(ana, "model", rng.choice(TEXT_MODELS))
    shown = studio.screen(ana)
    before = {r.id for r in Store(server.data_dir).list_runs(ws)}
    rerun(ana, ana.locator(".st-key-submit button:visible").click)
    ana.wait_for_selector(".st-key-submit-ok")
    [run] = [r for r in Store(server.data_dir).list_runs(ws) if r.id not in before]
    assert run.request == expected_request(shown, PROMPT), history
    received = studio.simulator_payload(server.data_dir, run.task_id)
    assert GenerationRequest.from_payload(received) == expected_request(shown, PROMPT)
    no_exception(ana)


# --- defect 6: workspaces you can find -------------------------------------------------------------


def _workspace_count(server) -> int:
    with Store(server.data_dir).engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM workspaces").scalar()


def test_no_link_reopens_the_latest_workspace_and_a_wrong_one_creates_nothing(people, workshop, server, browser):
    ws, _invite = workshop
    ben = people["ben"]
    count = _workspace_count(server)
    ben.goto(f"{server.url}/gallery")
    wait_idle(ben)
    ben.wait_for_url(f"**/gallery?ws={ws}")
    ben.goto(f"{server.url}/gallery?ws=NoSuchWorkspace1")
    wait_idle(ben)
    not_found = ben.locator(".st-key-ws_not_found")
    not_found.wait_for()
    assert "No workspace has this link" in not_found.inner_text()
    assert ben.locator("[data-testid='stMainBlockContainer'] h1").count() == 0  # no page behind it
    assert _workspace_count(server) == count
    rerun(ben, not_found.locator(f".st-key-ws_nf_open-{ws} button").click)
    ben.wait_for_url(f"**?ws={ws}")
    assert _workspace_count(server) == count
    # A browser that never took part gets a workspace of its own to facilitate, once.
    newcomer = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = newcomer.new_page()
        page.goto(f"{server.url}/gallery")
        wait_idle(page)
        own = _ws(page)
        assert own != ws and _workspace_count(server) == count + 1
        page.goto(f"{server.url}/gallery")
        wait_idle(page)
        assert _ws(page) == own and _workspace_count(server) == count + 1
        assert Store(server.data_dir).is_facilitator(own, _pid(page))
    finally:
        newcomer.close()
    no_exception(ben)


# --- defect 5: drafts survive a reload, a new tab and a restart --------------------------------------


def test_a_draft_survives_a_reload_a_new_tab_and_a_restart(people, workshop, server):
    ws, invite = workshop
    ben = people["ben"]
    ben.goto(invite)
    studio.ready(ben)
    draft = "A lighthouse at dusk, waves crash on the rocks, slow dolly in, warm light."
    studio.type_prompt(ben, draft)
    studio.set_setting(ben, "model", "seedance-2.0-fast-text-to-video")
    studio.set_setting(ben, "quality", "480p")
    studio.set_setting(ben, "aspect_ratio", "9:16")
    wanted = studio.screen(ben)

    def kept(page) -> None:
        assert page.locator(".st-key-prompt textarea").input_value() == draft
        assert studio.screen(page) == wanted

    _reload(ben)
    kept(ben)
    tab = ben.context.new_page()
    tab.goto(invite)
    studio.ready(tab)
    kept(tab)
    tab.close()
    assert people["ana"].locator(".st-key-prompt textarea").input_value() != draft  # drafts are per participant
    server.stop()
    server.start()  # same data dir, same port
    ben.goto(invite)
    studio.ready(ben)
    kept(ben)
    rerun(ben, ben.locator(".st-key-clear_draft button:visible").click)
    assert ben.locator(".st-key-prompt textarea").input_value() == ""
    _reload(ben)
    assert ben.locator(".st-key-prompt textarea").input_value() == ""
    assert Store(server.data_dir).load_draft(ws, _pid(ben)) == {}
    no_exception(ben)

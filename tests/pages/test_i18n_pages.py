"""Every page in 中文 (AppTest): no screen word left in English, and nothing asked of ``t`` without a translation.

Each page is opened as app.py opens it, after ``components.language.apply()`` with the
browser's choice ``lang=zh``; the same pages in English keep their exact English words
(the other page tests check those).
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lib import i18n
from lib.status import RunStatus
from lib.text import CJK_LETTER
from tests.support.apptest import TIMEOUT, like_one_server
from tests.support.screen_words import untranslated

PROMPT = "一只红狐狸在雪地里奔跑，广角镜头，金色光线"

# The page as app.py runs it: the language first, then the page. (AppTest runs only the page after a
# first run of app.py, and its switch_page skips app.py, so app.py itself cannot be walked here.)
_SCRIPT = """
import runpy
import streamlit as st
# No st.navigation here, so a page link shows as its label (the words are what this test reads).
st.page_link = lambda page, *, label=None, **options: st.markdown(label or "")
from components import connection, language, workspace
language.apply()
ws, slot = workspace.sidebar_section()
connection.sidebar_section()
connection.demo_banner()
runpy.run_path({page!r}, run_name="__main__")
workspace.budget_block(slot, ws)
"""


def open_page(page: str, lang: str, *, query: dict[str, str] | None = None, **session_state) -> AppTest:
    # AppTest formats a choice widget's value in this thread too, with the page's format_func.
    i18n.set_language(lang)
    like_one_server()
    at = AppTest.from_string(_SCRIPT.format(page=page), default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.context["url"] = "http://localhost:8501/"
    for key, value in (query or {}).items():
        at.query_params[key] = value
    for key, value in session_state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def check(at, *, allow: tuple[str, ...] = ()) -> None:
    left = untranslated(at, allow=allow)
    assert not left, "still in English:\n" + "\n".join(f"{kind}: {text!r}" for kind, text in left)
    assert not i18n.missing("zh"), "asked for with no translation:\n" + "\n".join(sorted(i18n.missing("zh")))


@pytest.fixture(autouse=True)
def _fresh_missing():
    i18n.forget_missing()
    with i18n.use(i18n.DEFAULT):
        yield
    i18n.forget_missing()


def test_the_studio_speaks_chinese(demo_app):
    at = open_page("pages/studio.py", "zh")
    check(at)
    at.text_area(key="prompt").input(PROMPT).run()
    check(at, allow=(PROMPT,))


# Prompts that raise every kind of hint between them (each test below checks which codes appeared).
HINTED = (
    "She smiles and says “hello there”. A sign reads “OPEN”. He whispers 'come closer now'. "
    'Narrator: the sea is calm today. 16:9, 4K, 0-3s: the latest news. @image1 @video2 "',
    "a",
    "",
    "一只猫。" * 700,
)


def test_the_studio_speaks_chinese_with_every_hint_model_and_invalid_field(demo_app):
    from lib import catalog
    from lib.hints import TITLES, lint

    at = open_page("pages/studio.py", "zh")
    seen: set[str] = set()
    for prompt in HINTED:
        at.text_area(key="prompt").input(prompt).run()
        assert not at.exception, at.exception
        check(at, allow=(prompt,))
        seen |= {h.code for h in lint(prompt, model=catalog.DEFAULT_MODEL)}
    assert seen >= set(TITLES) - {"web-search-suggested"}, set(TITLES) - seen
    at.text_area(key="prompt").input("最新的新闻：一位主持人在演播室里说话").run()
    check(at, allow=("最新的新闻：一位主持人在演播室里说话",))

    for model in catalog.MODELS:
        at.selectbox(key="model").set_value(model).run()
        assert not at.exception, at.exception
        check(at, allow=("最新的新闻：一位主持人在演播室里说话",))
        for media in catalog.MEDIA.values():
            found = [w for w in at.text_area if w.key == media.field]
            if found:
                found[0].input("not a link\nftp://example.com/x").run()
                check(at, allow=("最新的新闻：一位主持人在演播室里说话", "not a link\nftp://example.com/x"))
    at.selectbox(key="model").set_value(catalog.DEFAULT_MODEL).run()
    at.text_input(key="callback_url").input("http://not-https.example").run()
    check(at, allow=("最新的新闻：一位主持人在演播室里说话", "http://not-https.example"))


def test_the_sidebar_speaks_chinese_to_a_participant_with_limits_and_to_a_wrong_link(demo_app):
    from lib.identity import new_participant_id

    fac, guest = new_participant_id(), new_participant_id()
    ws = demo_app.store.create_workspace("工作坊", facilitator=fac)
    demo_app.store.set_budget(ws.id, budget_credits=500.0, per_participant_cap=100.0, by=fac)
    at = open_page("pages/studio.py", "zh", query={"ws": ws.id}, pid=guest)
    check(at, allow=("工作坊",))
    at = open_page("pages/studio.py", "zh", query={"ws": ws.id}, pid=fac)
    check(at, allow=("工作坊",))
    at = open_page("pages/studio.py", "zh", query={"ws": "ws_doesnotexist0000"}, pid=guest)
    check(at)


def _seed_every_state(db, ws_id: str) -> dict:
    from lib.schema import GenerationRequest
    from lib.schema.task import Task

    def task(status="pending", n=1, **extra):
        return Task.model_validate({"id": f"task-unified-{n}", "status": status, **extra})

    def new(prompt: str, n: int, **req):
        run = db.create_run(
            ws_id, GenerationRequest(model="seedance-2.0-text-to-video", prompt=prompt, **req), 67.5, True, "k"
        )
        assert db.claim_submit(run.id)
        return run

    runs = {}
    run = new("一只风筝飞过沙丘", 1, content_filter=False, generate_audio=False)
    db.mark_submitted(run.id, task(n=1))
    db.update_from_task(run.id, task("completed", n=1, progress=100, results=["http://sim/v.mp4"]))
    runs["archived"] = db.mark_archived(run.id, "t" * 32, 1234, 5.0, 1280, 720)
    run = new("暴风雨中的灯塔", 2)
    db.mark_submitted(run.id, task(n=2))
    runs["failed"] = db.update_from_task(
        run.id, task("failed", n=2, error={"code": "content_policy_violation", "message": "blocked"})
    )
    run = new("雪地里的狐狸", 3, web_search=True)
    db.mark_submitted(run.id, task(n=3))
    runs["processing"] = db.update_from_task(run.id, task("processing", n=3, progress=40), next_poll_at=2e9)
    run = new("清晨的港口", 4)
    db.mark_submitted(run.id, task(n=4))
    db.update_from_task(run.id, task("completed", n=4, progress=100, results=["http://sim/v4.mp4"]))
    runs["expired"] = db.mark_expired(run.id)
    runs["queued"] = db.mark_submitted(new("夜晚的城市", 5).id, task(n=5))
    runs["submitting"] = new("山间的云海", 6)
    runs["submit_failed"] = db.mark_submit_failed(new("雨中的街道", 7).id, "invalid_parameters", "bad")
    runs["unknown"] = db.mark_unknown(new("沙漠中的骆驼", 8).id, "submit_interrupted", "lost")
    run = new("森林里的小鹿", 9)
    db.mark_submitted(run.id, task(n=9))
    runs["completed"] = db.update_from_task(run.id, task("completed", n=9, progress=100, results=["http://sim/9.mp4"]))
    assert {r.status.value for r in runs.values()} >= {s.value for s in RunStatus}, runs
    return runs


def _card_words(at) -> list[str]:
    import json

    from tests.support.apptest import walk

    out = []
    for node in walk(at._tree):
        if type(node).__name__ == "UnknownElement" and getattr(node.proto, "component_name", "") == "studio_cards":
            data = json.loads(node.proto.json)
            out += [str(v) for v in data.get("words", {}).values()]
            if data.get("empty"):
                out.append(data["empty"])
            for card in data["cards"]:
                out += [card["label"], *card["facts"], *(text for _tone, text in card["badges"])]
                out += [x for x in (card.get("note"), card.get("toast")) if x]
                if card.get("error"):
                    out.append(card["error"]["advice"])
    return out


def test_the_gallery_speaks_chinese_with_runs_in_every_state_and_their_details(demo_app):
    from tests.support.screen_words import english

    at = open_page("pages/gallery.py", "zh")
    check(at)
    ws = at.session_state["ws"]
    runs = _seed_every_state(demo_app.store, ws)
    prompts = tuple(run.request.prompt for run in runs.values())
    at = open_page("pages/gallery.py", "zh", query={"ws": ws}, filters_toggle=True)
    check(at, allow=(*prompts, "lost"))
    words = _card_words(at)
    assert len(words) > 20
    left = [w for w in words if english(w)]
    assert not left, left
    lost = runs["unknown"].id
    at.text_input(key=f"attach-{lost}").input("not a task id").run()
    at.button(key=f"attach-go-{lost}").click().run()
    assert [e for e in at.error if "任务 ID" in e.value]  # the refusal, in Chinese
    check(at, allow=(*prompts, "lost", "not a task id"))
    # Every run's details (an unknown run's attach controls stay above the cards, once).
    for run in runs.values():
        at = open_page("pages/gallery.py", "zh", query={"ws": ws, "run": run.id})
        assert not at.exception, at.exception
        check(at, allow=(*prompts, "blocked", "bad", "lost", "bad (bad)"))


# What the provider says in its own words: shown as it came, in every language.
PROVIDER_REFUSED = "Duration must be between 4 and 15 seconds."
PROVIDER_FAILED = "Generation took too long and was stopped. Try again, perhaps with a shorter duration."
SLATE_HOST = "https://api.test"


def _seed_app_messages(db, ws_id: str, provider) -> dict:
    """A run ended by every message the app writes itself, each written by the code that writes it."""
    import httpx

    from lib import submit
    from lib.client import EvolinkClient, key_fingerprint
    from lib.schema import GenerationRequest
    from lib.schema.task import Task
    from lib.worker import Worker
    from tests.support.media import make_mp4
    from tests.support.provider import error_response

    key = "sk-i18n-messages-test-key"
    now = 2e9  # the app's own worker (if one runs) never finds these due
    runs: dict = {}

    def new(name: str):
        req = GenerationRequest(model="seedance-2.0-text-to-video", prompt=f"消息测试：{name}")
        runs[name] = db.create_run(ws_id, req, 67.5, True, key_fingerprint(key))
        return runs[name]

    # Submits the provider refused, or whose outcome is unknown (lib/submit.py with the real client).
    client = EvolinkClient(key, SLATE_HOST, transport=provider.transport, max_retries=0, sleep=lambda s: None)

    def unreachable(_req, request):
        raise httpx.ConnectError("connection refused", request=request)

    answers = {
        "refused": lambda _req, _r: error_response(400, "invalid_parameters", PROVIDER_REFUSED),
        "rate_limited": lambda _req, _r: httpx.Response(
            429, headers={"retry-after": "7"}, json={"error": {"code": "rate_limit", "message": "Slow down"}}
        ),
        "gateway": lambda _req, _r: httpx.Response(
            502, headers={"content-type": "text/html"}, text="<html><title>502 Bad Gateway</title></html>"
        ),
        "unreachable": unreachable,
    }
    for name, answer in answers.items():
        provider.on_post = answer
        runs[name] = submit.send(db, client, new(name))
    provider.on_post = None

    # Runs a previous process left while sending (lib/store/submission.py).
    new("not_sent")
    assert db.claim_submit(new("submit_interrupted").id)
    db.recover_after_crash(grace_seconds=0, now=now)

    # Two runs the provider answered with the same task.
    for name in ("first_of_two", "duplicate_task"):
        assert db.claim_submit(new(name).id)
        runs[name] = db.mark_submitted(runs[name].id, Task.model_validate({"id": "task-twice", "status": "pending"}))

    # What the worker learns by polling and downloading (lib/worker, lib/store/polling.py, lib/archive.py).
    answers_by_task = {
        "unexpected_status": {"status": "paused"},
        "provider_failed": {"status": "failed"},
        "provider_words": {"status": "failed", "error": {"code": "generation_timeout", "message": PROVIDER_FAILED}},
        "no_result": {"status": "completed", "progress": 100},
        "link_gone": {"status": "completed", "results": [f"{SLATE_HOST}/files/gone.mp4"]},
        "not_saved": {"status": "completed", "results": [f"{SLATE_HOST}/files/broken.mp4"]},
    }

    def api(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/files/gone.mp4":
            return httpx.Response(410)
        if path == "/files/broken.mp4":
            return httpx.Response(200, content=b"not a video at all")
        if path == "/files/ok.mp4":
            return httpx.Response(200, content=make_mp4())
        name = path.rsplit("/", 1)[-1].removeprefix("task-")
        if name == "slow_down":
            return httpx.Response(429, headers={"retry-after": "30"}, json={"error": {"code": "rate_limit"}})
        if name in answers_by_task:
            return httpx.Response(200, json={"id": f"task-{name}", **answers_by_task[name]})
        return error_response(404, "task_not_found", "The requested task could not be found")

    transport = httpx.MockTransport(api)
    worker = Worker(
        db,
        clock=lambda: now,
        max_rps=1000,
        burst=1000,
        archive_attempts=1,
        not_found_limit=1,
        download_client=httpx.Client(transport=transport),
    )
    worker.register_key(key, SLATE_HOST, transport=transport)
    polled = [*answers_by_task, "task_not_found", "gave_up"]
    for name in polled:
        assert db.claim_submit(new(name).id)
        task = Task.model_validate({"id": f"task-{name}", "status": "pending"})
        db.mark_submitted(runs[name].id, task, now=now - (3 * 86400 if name == "gave_up" else 600))
    try:
        for _ in range(5):
            worker.run_once(now)
        # Last, alone: a 429 holds back every poll after it.
        assert db.claim_submit(new("slow_down").id)
        db.mark_submitted(runs["slow_down"].id, Task.model_validate({"id": "task-slow_down"}), now=now - 600)
        worker.run_once(now)
    finally:
        worker.close()
    runs = {name: db.get_run(run.id) for name, run in runs.items()}
    codes = {name: (run.status.value, run.error_code) for name, run in runs.items()}
    assert codes["gave_up"] == ("unknown", "gave_up"), codes
    assert codes["task_not_found"] == ("failed", "task_not_found"), codes
    assert codes["submit_interrupted"] == ("unknown", "submit_interrupted"), codes
    assert codes["not_sent"] == ("submit_failed", "not_sent"), codes
    assert codes["duplicate_task"] == ("unknown", "duplicate_task"), codes
    assert codes["refused"] == ("submit_failed", "invalid_parameters"), codes
    assert codes["gateway"][0] == "unknown" and codes["unreachable"][0] == "submit_failed", codes
    assert codes["link_gone"] == ("expired", "link_expired") and codes["not_saved"][0] == "failed", codes
    assert runs["slow_down"].poll_error and not runs["slow_down"].finished, runs["slow_down"]
    return runs


def test_the_apps_own_stored_messages_read_in_the_readers_language_and_the_providers_stay_verbatim(demo_app, provider):
    from tests.support.screen_words import english_left

    at = open_page("pages/gallery.py", "zh")
    ws = at.session_state["ws"]
    runs = _seed_app_messages(demo_app.store, ws, provider)
    prompts = tuple(run.request.prompt for run in runs.values())
    verbatim = {  # the provider's words (and names) inside each message, shown as they came
        "refused": (PROVIDER_REFUSED,),
        "rate_limited": ("Slow down",),
        "unexpected_status": ("'paused'",),
        "unreachable": ("api.test", "ConnectError"),
        "provider_words": (PROVIDER_FAILED,),
    }

    def cards(lang: str) -> dict:
        import json

        from tests.support.apptest import walk

        page = open_page("pages/gallery.py", lang, query={"ws": ws})
        for node in walk(page._tree):
            if type(node).__name__ == "UnknownElement" and node.proto.component_name == "studio_cards":
                return {card["id"]: card for card in json.loads(node.proto.json)["cards"]}
        raise AssertionError("no cards on the page")

    shown = cards("zh")
    for name, run in runs.items():
        card = shown[run.id]
        said = (card["error"] or {}).get("message") or card["note"] or ""
        assert said, (name, card)
        if name == "provider_words":
            assert said == PROVIDER_FAILED  # the provider's own words, untouched
            continue
        assert not english_left(said, keep=verbatim.get(name, ())), (name, said)
        for kept in verbatim.get(name, ()):
            assert kept in said, (name, said)
        if card["toast"]:
            assert not english_left(card["toast"], keep=(*verbatim.get(name, ()), run.request.prompt)), card["toast"]
    assert "7" in shown[runs["rate_limited"].id]["error"]["message"]  # the seconds, read back from the English
    assert "（Duration must be" in shown[runs["refused"].id]["error"]["message"]

    # The stored text stays English (exports, logs), and an English reader sees it unchanged.
    english_cards = cards("en")
    for name, run in runs.items():
        stored = run.error_message or run.poll_error
        card = english_cards[run.id]
        assert english_left(stored), (name, stored)  # stored in English
        assert (card["error"] or {}).get("message") == run.error_message or stored in (card["note"] or ""), name

    # Each run's details say the same, in Chinese.
    for name, run in runs.items():
        at = open_page("pages/gallery.py", "zh", query={"ws": ws, "run": run.id})
        check(at, allow=(*prompts, PROVIDER_FAILED))
        if run.error_message:
            assert shown[run.id]["error"]["message"] in [e.value for e in at.text], name


def test_a_failed_submit_in_the_studio_says_the_apps_words_in_chinese_and_the_providers_as_they_came(
    demo_app, provider
):
    from tests.support.provider import error_response
    from tests.support.screen_words import english_left

    prompt = "一位老渔夫在黎明时分微笑，镜头缓慢推近"
    provider.on_post = lambda _req, _r: error_response(400, "invalid_parameters", PROVIDER_REFUSED)
    at = open_page("pages/studio.py", "zh", prompt=prompt)
    at.button(key="submit").click().run()
    assert not at.exception, at.exception
    # Markdown, so the provider's words come escaped (``md``): read them without the backslashes.
    [failed] = [e.value.replace("\\", "") for e in at.error if "Duration must be" in e.value]
    assert PROVIDER_REFUSED in failed and not english_left(failed, keep=(PROVIDER_REFUSED,)), failed
    check(at, allow=(prompt,))


def test_compare_speaks_chinese_from_the_builder_to_an_opened_comparison(demo_app, provider):
    prompt = "雪地里奔跑的红狐狸，广角镜头"
    at = open_page("pages/compare.py", "zh", prompt=prompt)
    check(at, allow=(prompt,))
    at.selectbox(key="cmp_cols").set_value("generate_audio").run()
    check(at, allow=(prompt,))
    at.button(key="cmp_run").click().run()
    check(at, allow=(prompt,))
    at.button(key="cmp_go").click().run()
    assert not at.exception, at.exception
    check(at, allow=(prompt,))
    ws = at.session_state["ws"]
    for run in demo_app.store.list_runs(ws):
        demo_app.store.mark_failed(run.id, "generation_timeout", "The provider took too long.")
    cmp_id = demo_app.store.list_comparisons(ws)[0].id
    at = open_page("pages/compare.py", "zh", query={"ws": ws, "cmp": cmp_id})
    check(at, allow=(prompt, "The provider took too long."))
    at = open_page("pages/compare.py", "zh", query={"ws": ws})
    check(at, allow=(prompt,))


@pytest.mark.parametrize(("made_in", "read_in"), [("en", "zh"), ("zh", "en")])
def test_a_comparison_reads_in_its_readers_language_whoever_made_it(demo_app, provider, made_in, read_in):
    from lib import compare
    from tests.support.screen_words import texts

    prompt = "A red fox runs through the snow, wide shot"
    at = open_page("pages/compare.py", made_in, prompt=prompt)
    at.selectbox(key="cmp_cols").set_value("generate_audio").run()
    at.button(key="cmp_run").click().run()
    at.button(key="cmp_go").click().run()
    assert not at.exception, at.exception
    ws = at.session_state["ws"]
    [saved] = demo_app.store.list_comparisons(ws)
    # The title the reader would have saved: made by the builder's own function, in the reader's language.
    rows, cols = (compare.Axis(saved.spec[k]["axis"], tuple(saved.spec[k]["values"])) for k in ("rows", "cols"))
    with i18n.use(read_in):
        theirs = compare.title(rows, cols)
    with i18n.use(made_in):
        assert saved.title == compare.title(rows, cols) != theirs  # saved in the maker's words

    at = open_page("pages/compare.py", read_in, query={"ws": ws, "cmp": saved.id})
    assert theirs in [h.value for h in at.subheader]
    opened = at
    at = open_page("pages/compare.py", read_in, query={"ws": ws})
    assert [b for b in at.button if b.label.startswith(f"{theirs} · ")]  # the earlier comparisons
    if read_in == "zh":
        check(opened, allow=(prompt,))
        check(at, allow=(prompt,))
    else:  # and not a word of the maker's Chinese left on the English page (the language switch has both)
        from components import language

        both = {*i18n.LANGUAGES.values(), language.LABEL}
        for page in (opened, at):
            left = [x for _, x in texts(page) if x not in both and CJK_LETTER.search(x)]
            assert not left, left


BATCH_CSV = (
    "prompt,model,duration,quality\n"
    "一只猫在屋顶上睡觉,seedance-2.0-fast-text-to-video,5,480p\n"
    ",seedance-2.0-text-to-video,99,4k\n"
    "一只狗在海边奔跑 @image1,seedance-2.0-text-to-video,5,720p\n"
).encode()


def test_batch_speaks_chinese_with_a_preview(demo_app, provider):
    at = open_page("pages/batch.py", "zh")
    check(at)
    at.file_uploader(key="batch_file").set_value(("prompts.csv", BATCH_CSV, "text/csv")).run()
    assert not at.exception, at.exception
    check(at, allow=("一只猫在屋顶上睡觉", "一只狗在海边奔跑 @image1"))
    from tests.support.screen_words import english, texts

    assert any(kind == "dataframe.header" for kind, _ in texts(at))
    [table] = [df.value for df in at.dataframe if "问题" in df.value.columns]
    problems = [str(v) for v in table["问题"] if str(v)]
    assert len(problems) == 3 and not [p for p in problems if english(p)], problems


def test_the_studio_speaks_chinese_when_a_run_is_sent_and_when_the_budget_refuses(demo_app, provider):
    prompt = "一位老渔夫在黎明时分微笑，镜头缓慢推近，金色光线"
    at = open_page("pages/studio.py", "zh")
    at.text_area(key="prompt").input(prompt).run()
    at.button(key="submit").click().run()
    assert not at.exception, at.exception
    assert len(provider.posts) == 1
    check(at, allow=(prompt,))
    ws, pid = at.session_state["ws"], at.session_state["pid"]
    demo_app.store.set_budget(ws, 1.0, None, by=pid)
    at = open_page("pages/studio.py", "zh", query={"ws": ws}, pid=pid, prompt=prompt)
    check(at, allow=(prompt,))
    assert at.button(key="submit").disabled  # refused before the click, in words
    at.number_input(key="takes").set_value(3).run()
    check(at, allow=(prompt,))
    demo_app.store.set_budget(ws, None, None, by=pid)
    at = open_page("pages/studio.py", "zh", query={"ws": ws}, pid=pid, prompt=prompt)
    at.number_input(key="takes").set_value(3).run()
    at.button(key="takes_run").click().run()
    check(at, allow=(prompt,))
    at.button(key="takes_go").click().run()
    assert not at.exception, at.exception
    assert len(provider.posts) == 4
    check(at, allow=(prompt,))


def test_live_mode_speaks_chinese_in_the_sidebar_and_the_studio(demo_app, provider):
    demo_app.configure(api_key="sk-live-test-key-0123456789", base_url="https://api.evolink.ai")
    at = open_page("pages/studio.py", "zh")
    check(at)
    at.selectbox(key="model").set_value("seedance-2.0-reference-to-video").run()
    check(at)

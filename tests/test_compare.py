"""Comparison grids: expansion, invalid cells, cost totals, the saved spec, word diffs and the player's HTML."""

from __future__ import annotations

import doctest

import pytest

from components.compare_player import PlayerCell, player_html
from lib import compare, pricing
from lib.compare import Axis, expand, grid_total
from lib.schema import GenerationRequest
from lib.store import Store

BASE = {"model": "seedance-2.0-text-to-video", "prompt": "A red fox runs through snow", "duration": 5}


def test_one_axis_grid_has_a_cell_per_value():
    cells = expand(BASE, Axis("duration", (4, 8, 12)))
    assert [(c.row, c.col, c.label) for c in cells] == [(0, 0, "4 s"), (1, 0, "8 s"), (2, 0, "12 s")]
    assert [c.request.duration for c in cells] == [4, 8, 12]


def test_two_axis_grid_is_row_major_and_labelled_with_both_values():
    cells = expand(BASE, Axis("quality", ("480p", "720p")), Axis("generate_audio", (True, False)))
    assert [c.label for c in cells] == ["480p · audio on", "480p · audio off", "720p · audio on", "720p · audio off"]
    assert [(c.row, c.col) for c in cells] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert cells[1].request.generate_audio is False and cells[2].request.quality == "720p"


def test_cost_total_is_the_sum_of_cells_with_a_line_each():
    cells = expand(BASE, Axis("quality", ("480p", "720p")), Axis("content_filter", (True, False)))
    total = grid_total(cells)
    each = [pricing.estimate(c.request).credits for c in cells]
    assert total.credits == pytest.approx(sum(each))
    assert [line.label for line in total.lines] == [c.label for c in cells]
    # Filter off costs the card's multiplier on top of the same cell with the filter on.
    card = pricing.load_rates()
    assert cells[2].estimate.credits == pytest.approx(5 * card.rate("standard", "720p").without_video)
    assert cells[3].estimate.credits == pytest.approx(cells[2].estimate.credits * card.content_filter_off_multiplier)


def test_invalid_cells_carry_the_schema_message_and_are_not_priced():
    base = {**BASE, "model": "seedance-2.0-fast-text-to-video"}
    cells = expand(base, Axis("quality", ("720p", "1080p")))
    bad = cells[1]
    assert not bad.valid and bad.estimate is None
    assert bad.message == "Quality: Text to video · fast offers 480p or 720p; 1080p needs a standard model."
    total = grid_total(cells)
    assert len(total.lines) == 1 and total.credits == pytest.approx(cells[0].estimate.credits)


def test_model_axis_marks_media_models_invalid_without_media():
    cells = expand(BASE, Axis("model", ("seedance-2.0-text-to-video", "seedance-2.0-image-to-video")))
    assert cells[0].valid and not cells[1].valid
    assert "needs" in cells[1].message or "image" in cells[1].message.lower()
    assert cells[1].label == "Image to video · standard"


def test_web_search_off_on_a_model_without_it_is_quietly_not_sent():
    cells = expand({**BASE, "model": "seedance-2.0-mini-text-to-video"}, Axis("web_search", (False, True)))
    assert cells[0].valid and cells[0].request.web_search is None
    assert not cells[1].valid and "Web search" in cells[1].message


def test_prompt_axis_from_variants_skips_blanks_and_keeps_letters():
    axis = Axis.prompts(["A fox", "", "A grey fox at night"])
    assert axis.labels == ("Prompt A", "Prompt C")
    cells = expand(BASE, axis, Axis("duration", (4, 5)))
    assert [c.label for c in cells][:2] == ["Prompt A · 4 s", "Prompt A · 5 s"]
    assert cells[2].request.prompt == "A grey fox at night"
    blank = expand(BASE, Axis.prompts(["   ", "x"]))
    assert blank[0].label == "Prompt B"


@pytest.mark.parametrize(
    "rows, cols, message",
    [
        (Axis("quality", ("480p",)), Axis("quality", ("720p",)), "two different settings"),
        (
            Axis("duration", tuple(range(4, 9))),
            Axis("aspect_ratio", ("16:9", "9:16", "1:1", "4:3")),
            "at most 16 cells",
        ),
    ],
)
def test_grid_rules(rows, cols, message):
    with pytest.raises(ValueError, match=message):
        expand(BASE, rows, cols)


def test_axis_rules():
    with pytest.raises(ValueError, match="at least one value"):
        Axis("quality", ())
    with pytest.raises(ValueError, match="choose one of"):
        Axis("colour", ("red",))
    with pytest.raises(ValueError, match="each value once"):
        Axis("duration", (4, 4))
    with pytest.raises(ValueError, match="at least one value"):
        Axis.prompts(["", " "])


def test_value_labels():
    assert compare.value_label("model", "seedance-2.0-fast-text-to-video") == "Text to video · fast"
    assert compare.value_label("content_filter", False) == "content filter off"
    assert compare.value_label("aspect_ratio", "9:16") == "9:16"
    assert compare.title(Axis("quality", ("480p",)), Axis("generate_audio", (True,))) == "Quality × Audio"


def test_request_fields_drop_the_callback_url():
    req = GenerationRequest(
        model="seedance-2.0-text-to-video", prompt="x", duration=6, callback_url="https://example.com/hook/secret"
    )
    assert compare.request_fields(req) == {"model": "seedance-2.0-text-to-video", "prompt": "x", "duration": 6}


def test_spec_round_trips_through_the_store_and_lays_out_as_a_grid():
    db = Store("sqlite://")
    ws = db.create_workspace("W")
    rows, cols = Axis("quality", ("480p", "1080p")), Axis("generate_audio", (True, False))
    base = {**BASE, "model": "seedance-2.0-fast-text-to-video", "image_urls": ("https://e.com/a.jpg",)}
    cells = expand({k: v for k, v in base.items() if k != "image_urls"}, rows, cols)
    spec = compare.make_spec(base, rows, cols, cells, {(0, 0): "run_aaaaaa", (0, 1): "run_bbbbbb"})
    saved = db.create_comparison(ws.id, compare.title(rows, cols), spec, comparison_id="cmp_123456")
    again = db.create_comparison(ws.id, "other", spec, comparison_id="cmp_123456")  # a rerun keeps the first
    assert again.title == "Quality × Audio"
    got = db.get_comparison(saved.id)
    assert got.spec["base"]["image_urls"] == ["https://e.com/a.jpg"]
    row_labels, col_labels, matrix = compare.layout(got.spec)
    assert row_labels == ["480p", "1080p"] and col_labels == ["audio on", "audio off"]
    assert matrix[0][1]["run_id"] == "run_bbbbbb"
    assert matrix[1][0]["run_id"] is None and "1080p needs a standard model" in matrix[1][0]["error"]
    assert [c.id for c in db.list_comparisons(ws.id)] == ["cmp_123456"]
    assert db.list_comparisons(db.create_workspace("other").id) == []
    assert db.get_comparison("../../etc") is None
    with pytest.raises(ValueError):
        db.create_comparison(ws.id, "x", spec, comparison_id="no/slashes")


def test_one_axis_layout_has_one_blank_column():
    cells = expand(BASE, Axis("duration", (4, 8)))
    spec = compare.make_spec(BASE, Axis("duration", (4, 8)), None, cells, {(0, 0): "r1xxxx", (1, 0): "r2xxxx"})
    rows, cols, matrix = compare.layout(spec)
    assert rows == ["4 s", "8 s"] and cols == [""] and matrix[1][0]["run_id"] == "r2xxxx"


def test_winner_must_be_a_run_of_the_grid():
    cells = expand(BASE, Axis("duration", (4, 8)))
    spec = compare.make_spec(BASE, Axis("duration", (4, 8)), None, cells, {(0, 0): "r1xxxx", (1, 0): "r2xxxx"})
    assert compare.with_winner(spec, "r2xxxx")["winner"] == "r2xxxx"
    assert compare.with_winner(spec, None)["winner"] is None
    with pytest.raises(ValueError):
        compare.with_winner(spec, "someone-else")


def test_prompt_variants_from_spec():
    axis = Axis.prompts(["A fox", "A grey fox"])
    spec = compare.make_spec(BASE, Axis("duration", (4,)), axis, expand(BASE, Axis("duration", (4,)), axis), {})
    assert compare.prompt_variants(spec) == {"Prompt A": "A fox", "Prompt B": "A grey fox"}
    assert compare.prompt_variants(compare.make_spec(BASE, Axis("duration", (4,)), None, [], {})) == {}


def test_word_diff_marks_added_and_removed_words():
    ops = compare.word_diff("A red fox runs through snow", "A grey fox runs through deep snow")
    assert ("removed", "red") in ops and ("added", "grey") in ops and ("added", "deep ") in ops
    # Joining what was kept and added gives back the variant; kept and removed give back the base.
    assert "".join(t for op, t in ops if op != "removed") == "A grey fox runs through deep snow"
    assert "".join(t for op, t in ops if op != "added") == "A red fox runs through snow"
    assert compare.word_diff("same", "same") == [("same", "same")]


def test_diff_html_escapes_prompt_text():
    out = compare.diff_html(compare.word_diff("a <b>", 'a <script>alert("x")</script>'))
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert out.startswith("<span>a </span>")


def test_player_html_escapes_labels_and_places_cells():
    cells = [
        PlayerCell(0, 0, "480p · audio on", "http://127.0.0.1:8501/api/media/tok1"),
        PlayerCell(0, 1, '<img src=x onerror="alert(1)">', None, 'Failed: <b>"bad"</b>'),
        PlayerCell(1, 0, "720p · audio on", "http://127.0.0.1:8501/api/media/tok2"),
    ]
    doc = player_html(cells, ["480p", "720p"], ["audio on", "<i>off</i>"])
    assert doc.count("<video") == 2
    assert 'src="http://127.0.0.1:8501/api/media/tok1"' in doc
    assert "<img" not in doc and "&lt;img src=x" in doc
    assert "<b>" not in doc and "&lt;b&gt;" in doc and "&lt;i&gt;off&lt;/i&gt;" in doc
    assert 'data-cell="1"' in doc  # playable cells are numbered in grid order for the sound selector
    assert doc.count("<option") == 2


def test_player_html_one_axis_has_no_column_header():
    doc = player_html([PlayerCell(0, 0, "4 s", "/api/media/t")], ["4 s"], [""])
    assert "<th></th>" not in doc and doc.count("<video") == 1


# --- a saved comparison for a reader of another language -------------------------------------------


def _saved(axes, lang: str, base: dict | None = None) -> tuple[str, dict]:
    """A comparison's title and spec as someone reading ``lang`` would have made and saved them."""
    from lib import i18n

    with i18n.use(lang):
        rows, cols = axes()  # made in the maker's language, as the builder makes them
        cells = expand(base or BASE, rows, cols)
        return compare.title(rows, cols), compare.make_spec(base or BASE, rows, cols, cells, {})


@pytest.mark.parametrize(("made_in", "read_in"), [("en", "zh"), ("zh", "en")])
@pytest.mark.parametrize(
    "axes",
    [
        lambda: (Axis("quality", ("480p", "720p")), Axis("generate_audio", (True, False))),
        lambda: (Axis.takes(3), None),
        lambda: (Axis.prompts(["A fox", "", "A cat"]), Axis("duration", (4, 8))),
    ],
    ids=["two-axes", "takes", "prompts"],
)
def test_a_made_title_and_its_labels_read_in_the_readers_language(made_in, read_in, axes):
    from lib import i18n

    title, spec = _saved(axes, made_in)
    their_title, their_spec = _saved(axes, read_in)
    # The two languages do say it differently.
    assert title != their_title and spec["cells"][0]["label"] != their_spec["cells"][0]["label"]
    with i18n.use(read_in):
        assert compare.shown_title(title, spec) == their_title
        shown = compare.shown_spec(spec)
    assert shown["rows"]["labels"] == their_spec["rows"]["labels"]
    assert (shown["cols"] or {}).get("labels") == (their_spec["cols"] or {}).get("labels")
    assert [c["label"] for c in shown["cells"]] == [c["label"] for c in their_spec["cells"]]


def test_a_typed_title_is_kept_and_a_made_one_from_before_is_read_again():
    from lib import i18n

    _, spec = _saved(lambda: (Axis.takes(3), None), "en")
    with i18n.use("zh"):
        assert compare.shown_title("Fox takes for Monday", spec) == "Fox takes for Monday"
        assert compare.shown_title("3 takes", spec) == "3 条"  # saved before takes were translated
        assert compare.shown_title("2 takes", spec) == "2 takes"  # not what this spec makes: someone typed it
    assert compare.shown_title("Quality", {"rows": "not a spec"}) == "Quality"


def test_a_cell_that_was_not_sent_says_why_in_the_readers_language():
    from lib import i18n

    base = {"model": "seedance-2.0-fast-text-to-video", "prompt": "A fox", "duration": 4}
    _, spec = _saved(lambda: (Axis("quality", ("480p", "1080p")), None), "en", base)
    [why] = [c["error"] for c in spec["cells"] if c["error"]]
    with i18n.use("zh"):
        [shown] = [c["error"] for c in compare.shown_spec(spec)["cells"] if c["error"]]
    from tests.support.screen_words import english_left

    assert english_left(why) and "1080p" in shown and not english_left(shown), shown


def test_doctests():
    result = doctest.testmod(compare)
    assert result.attempted > 0 and result.failed == 0

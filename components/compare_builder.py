"""Building a comparison grid: a base request, one or two axes, each cell's cost, then one confirmation and sending.

The opened grid (live cells, results, winner) is ``compare_view``; the rules of a
grid (cells, prices, the saved spec) are ``lib.compare``.
"""

from __future__ import annotations

import streamlit as st

from components import compare_view, parameters, submit, workspace
from components.plain import md
from lib import compare, pricing, workshop
from lib.i18n import Words, t
from lib.store import Workspace
from lib.text import one_line

_PREFIX = "cmp"  # widget keys cmp_run, cmp_confirm, cmp_go, cmp_cancel

# What a new axis starts with, so a two-value grid is one click away.
DEFAULT_VALUES = {
    "model": ["seedance-2.0-text-to-video", "seedance-2.0-fast-text-to-video"],
    "quality": ["480p", "720p"],
    "duration": [5, 10],
    "aspect_ratio": ["16:9", "9:16"],
    "generate_audio": [True, False],
    "content_filter": [True, False],
    "web_search": [False, True],
    "take": [1, 2, 3],
}


# --- where the grid starts -------------------------------------------------------------------


def _studio_base() -> dict:
    parameters.init_state()
    request, _ = parameters.current_request()
    if request is not None:
        return compare.request_fields(request)
    # The Studio's prompt may be blank: the grid has its own base prompt, so keep the settings.
    ss = st.session_state
    base = {f: ss.get(f) for f in parameters.FIELDS if ss.get(f) is not None}
    if not parameters.current_spec().web_search:
        base.pop("web_search", None)
    return base


_FILLED_FROM = "_cmp_filled_from"  # the run whose prompt the base prompt and variants were filled from

# Every word this module puts on screen (the axes' titles and values are in ``lib.compare``).
WORDS = Words(
    {
        "start_from": "Start from",
        "sources": {"studio": "The Studio's settings", "run": "An earlier run"},
        "run": "Run",
        "no_runs": "No runs yet in this workspace: starting from the Studio's settings.",
        "base_prompt": "Base prompt",
        "base_prompt_help": "Used by every cell unless prompts are one of the axes.",
        "base": "Base settings: {summary}",
    }
)


def _fill_from(run_id: str | None) -> None:
    """The base prompt and the prompt variants from a run: its own prompt as A, and the other variants of
    the comparison it was part of, if prompts were compared there."""
    ss = st.session_state
    run = workspace.store().get_run(run_id or "")
    if run is None or ss.get(_FILLED_FROM) == run.id:
        return
    ss[_FILLED_FROM] = run.id
    ss["cmp_prompt"] = run.request.prompt
    others: list[str] = []
    comparison = workspace.store().get_comparison(run.group_id) if run.group_id else None
    if comparison is not None:
        others = [p for p in compare.prompt_variants(comparison.spec).values() if p != run.request.prompt]
    variants = [run.request.prompt, *others][: len(compare.PROMPT_LABELS)]
    for label, text in zip(compare.PROMPT_LABELS, variants, strict=False):
        ss[f"cmp_var_{label}"] = text
    if others:
        for label in compare.PROMPT_LABELS[len(variants) :]:
            ss[f"cmp_var_{label}"] = ""


def base_picker(ws: Workspace) -> dict:
    """The base request's fields: the Studio's current settings, or any earlier run's."""
    runs = workspace.store().list_runs(ws.id, limit=50)
    source = st.segmented_control(
        WORDS["start_from"],
        ["studio", "run"],
        key="cmp_source",
        required=True,
        default="studio",
        format_func=WORDS["sources"].get,
    )
    if source == "run" and runs:
        by_id = {r.id: r for r in runs}
        run_id = st.selectbox(
            WORDS["run"],
            list(by_id),
            key="cmp_base_run",
            format_func=lambda i: (
                f"{one_line(by_id[i].request.prompt, 70)} · {by_id[i].request.effective('quality')}"
                f" · {t('{s} s', s=by_id[i].request.effective('duration'))}"
            ),
        )
        # Also when the menu's first run is taken as it is: nothing "changed", but it is the start.
        _fill_from(run_id)
        base = compare.request_fields(by_id[run_id].request)
    else:
        if source == "run":
            st.caption(WORDS["no_runs"])
        base = _studio_base()
    st.session_state.setdefault("cmp_prompt", base.get("prompt", ""))
    st.text_area(WORDS["base_prompt"], key="cmp_prompt", height=100, help=WORDS["base_prompt_help"])
    base["prompt"] = st.session_state.get("cmp_prompt", "")
    st.caption(WORDS["base"].format(summary=compare.summary(base)))
    return base


# --- the axes --------------------------------------------------------------------------------------


def _prompt_variants(base_prompt: str) -> compare.Axis | None:
    st.session_state.setdefault("cmp_var_A", base_prompt)
    cols = st.columns(len(compare.PROMPT_LABELS))
    texts = []
    for col, label in zip(cols, compare.PROMPT_LABELS, strict=False):
        with col:
            texts.append(
                st.text_area(
                    t("Prompt {label}", label=label),
                    key=f"cmp_var_{label}",
                    height=120,
                    placeholder=t("Leave blank to compare fewer prompts"),
                )
            )
    try:
        return compare.Axis.prompts(texts)
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        return None


def axis_picker(which: str, base_prompt: str, *, optional: bool) -> compare.Axis | None:
    """One axis: the setting to vary and its values (``which`` is "rows" or "cols")."""
    options = ([None] if optional else []) + list(compare.AXES)
    name = st.selectbox(
        t("Vary (columns)") if which == "cols" else t("Vary (rows)"),
        options,
        key=f"cmp_{which}",
        index=0 if optional else options.index("quality"),
        format_func=lambda a: t("nothing else (one row of cells)") if a is None else t(compare.AXES[a].title),
    )
    if name is None:
        return None
    if name == "prompt":
        return _prompt_variants(base_prompt)
    kind = compare.AXES[name]
    # One widget per axis, so switching axes never leaves values of the wrong kind behind.
    values = st.multiselect(
        t("Values"),
        list(kind.choices),
        key=f"cmp_{which}_{name}",
        default=DEFAULT_VALUES.get(name),
        format_func=lambda v: compare.value_label(name, v),
    )
    try:
        return compare.Axis(name, tuple(values))
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        return None


# --- preview, confirmation, sending ------------------------------------------------------------------


def preview(rows: compare.Axis, cols: compare.Axis | None, cells: list[compare.Cell]) -> pricing.Estimate:
    """The grid before anything is sent: each cell's cost or why it cannot run, then the total."""
    col_labels = [cols.label(i) for i in range(len(cols.values))] if cols else [""]
    with st.container(key="cmp_preview"):
        if cols:
            header = st.columns([1] + [2] * len(col_labels))
            for h, label in zip(header[1:], col_labels, strict=False):
                h.markdown(f"**{md(label)}**")
        for r in range(len(rows.values)):
            line = st.columns([1] + [2] * len(col_labels), vertical_alignment="center")
            line[0].markdown(f"**{md(rows.label(r))}**")
            for c in range(len(col_labels)):
                cell = cells[r * len(col_labels) + c]
                with line[c + 1].container(border=True, key=f"cmp_cell_{r}_{c}"):
                    if cell.valid:
                        st.markdown(
                            f"{'≈ ' if not cell.estimate.exact else ''}{pricing.format_credits(cell.estimate.credits)}"
                        )
                    else:
                        st.caption(t("Not sent: {why}", why=cell.message))
    total = compare.grid_total(cells)
    lines = [
        {
            t("Cell"): c.label,
            t("Credits"): None if not c.valid else round(c.estimate.credits, 2),
            t("Note"): "" if c.valid else t("not sent: {why}", why=c.message),
        }
        for c in cells
    ]
    st.dataframe(lines, hide_index=True, width="stretch")
    with st.container(key="cmp_total"):
        st.metric(t("Total"), pricing.format_credits(total.credits), help=t("The sum of the cells that will be sent."))
        st.caption(
            t(
                "≈ {usd} · {n} of {total} cells will be sent",
                usd=pricing.format_usd(total.usd),
                n=sum(c.valid for c in cells),
                total=len(cells),
            )
        )
    for note in total.notes:
        st.caption(note)
    return total


def confirm_and_send(
    ws: Workspace,
    base: dict,
    rows: compare.Axis,
    cols: compare.Axis | None,
    cells: list[compare.Cell],
    total: pricing.Estimate,
) -> None:
    """One confirmation that states the total; then the whole grid is saved and sent, or none of it."""
    valid = [c for c in cells if c.valid]
    skipped = len(cells) - len(valid)
    group_id = submit.confirm_group(
        _PREFIX,
        ask=t("Run {n} cells…", n=len(valid)),
        icon=":material/grid_view:",
        count=len(valid),
        total=total,
        budget_label=t("Budget left for this grid"),
        question=t(
            "Run **{n} videos** for a total of **{credits}** (≈ {usd})?"
            if len(valid) != 1
            else "Run **{n} video** for a total of **{credits}** (≈ {usd})?",
            n=len(valid),
            credits=pricing.format_credits(total.credits),
            usd=pricing.format_usd(total.usd),
        )
        + (
            t(
                " {n} invalid cells will not be sent." if skipped != 1 else " {n} invalid cell will not be sent.",
                n=skipped,
            )
            if skipped
            else ""
        ),
    )
    if group_id is not None:
        _send(ws, base, rows, cols, cells, group_id)


def _send(
    ws: Workspace, base: dict, rows: compare.Axis, cols: compare.Axis | None, cells: list[compare.Cell], group_id: str
) -> None:
    valid = [c for c in cells if c.valid]
    items = [workshop.Item(c.request, c.estimate, c.label) for c in valid]
    runs = submit.save_group(items, group_id, what="This grid")
    if runs is None:
        return
    run_ids = {(c.row, c.col): run.id for c, run in zip(valid, runs, strict=False)}
    db = workspace.store()
    # Saved before the POSTs, so the grid can be reopened whatever happens while sending.
    db.create_comparison(
        ws.id, compare.title(rows, cols), compare.make_spec(base, rows, cols, cells, run_ids), comparison_id=group_id
    )
    with st.spinner(t("Sending {n} runs…", n=len(runs))):
        submit.send_group(runs)
    submit.forget_confirmation(_PREFIX)
    compare_view.open_comparison(group_id)


def builder(ws: Workspace) -> None:
    """Choose a base and one or two axes, see the grid and its cost, and run it."""
    base = base_picker(ws)
    left, right = st.columns(2)
    with left:
        rows = axis_picker("rows", base["prompt"], optional=False)
    with right:
        cols = axis_picker("cols", base["prompt"], optional=True)
    if rows is None:
        return
    try:
        cells = compare.expand(base, rows, cols)
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    total = preview(rows, cols, cells)
    confirm_and_send(ws, base, rows, cols, cells, total)

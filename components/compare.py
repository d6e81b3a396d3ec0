"""The Compare page's pieces: build a grid and price it, confirm and send it, then watch, rate and pick a winner."""

from __future__ import annotations

import html
import time

import streamlit as st

from components import compare_player, parameters, run_card, submit, workspace
from components.plain import md
from lib import compare, pricing, workshop
from lib.store import Comparison, Run, Workspace, valid_id

LIVE_REFRESH = 2.0  # seconds between re-reads of a running grid (a store read, no API call)
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


def _use_run_prompt() -> None:
    run = workspace.store().get_run(st.session_state.get("cmp_base_run") or "")
    if run is not None:
        st.session_state["cmp_prompt"] = run.request.prompt
        st.session_state["cmp_var_A"] = run.request.prompt


def base_picker(ws: Workspace) -> dict:
    """The base request's fields: the Studio's current settings, or any earlier run's."""
    runs = workspace.store().list_runs(ws.id, limit=50)
    source = st.segmented_control(
        "Start from",
        ["studio", "run"],
        key="cmp_source",
        required=True,
        default="studio",
        format_func={"studio": "The Studio's settings", "run": "An earlier run"}.get,
    )
    if source == "run" and runs:
        by_id = {r.id: r for r in runs}
        run_id = st.selectbox(
            "Run",
            list(by_id),
            key="cmp_base_run",
            on_change=_use_run_prompt,
            format_func=lambda i: (
                f"{by_id[i].request.prompt[:70]} · {by_id[i].request.effective('quality')}"
                f" · {by_id[i].request.effective('duration')} s"
            ),
        )
        base = compare.request_fields(by_id[run_id].request)
    else:
        if source == "run":
            st.caption("No runs yet in this workspace: starting from the Studio's settings.")
        base = _studio_base()
    st.session_state.setdefault("cmp_prompt", base.get("prompt", ""))
    st.text_area(
        "Base prompt", key="cmp_prompt", height=100, help="Used by every cell unless prompts are one of the axes."
    )
    base["prompt"] = st.session_state.get("cmp_prompt", "")
    shown = {k: v for k, v in base.items() if k != "prompt"}
    st.caption(
        "Base settings: "
        + (
            ", ".join(
                f"{k.replace('_', ' ')} {compare.value_label(k, v) if k in compare.AXES else v}"
                for k, v in shown.items()
            )
            or "the API defaults"
        )
    )
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
                    f"Prompt {label}",
                    key=f"cmp_var_{label}",
                    height=120,
                    placeholder="Leave blank to compare fewer prompts",
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
        f"Vary ({'columns' if which == 'cols' else 'rows'})",
        options,
        key=f"cmp_{which}",
        index=0 if optional else options.index("quality"),
        format_func=lambda a: "nothing else (one row of cells)" if a is None else compare.AXES[a].title,
    )
    if name is None:
        return None
    if name == "prompt":
        return _prompt_variants(base_prompt)
    kind = compare.AXES[name]
    # One widget per axis, so switching axes never leaves values of the wrong kind behind.
    values = st.multiselect(
        "Values",
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
                        st.caption("Not sent: " + cell.message)
    total = compare.grid_total(cells)
    lines = [
        {
            "Cell": c.label,
            "Credits": None if not c.valid else round(c.estimate.credits, 2),
            "Note": "" if c.valid else "not sent: " + c.message,
        }
        for c in cells
    ]
    st.dataframe(lines, hide_index=True, width="stretch")
    with st.container(key="cmp_total"):
        st.metric("Total", pricing.format_credits(total.credits), help="The sum of the cells that will be sent.")
        st.caption(
            f"≈ {pricing.format_usd(total.usd)} · {sum(c.valid for c in cells)} of {len(cells)} cells will be sent"
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
        ask=f"Run {len(valid)} cells…",
        icon=":material/grid_view:",
        count=len(valid),
        total=total,
        budget_label="Budget left for this grid",
        question=f"Run **{len(valid)} video{'s' if len(valid) != 1 else ''}** for a total of "
        f"**{pricing.format_credits(total.credits)}** (≈ {pricing.format_usd(total.usd)})?"
        + (f" {skipped} invalid cell{'s' if skipped != 1 else ''} will not be sent." if skipped else ""),
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
    with st.spinner(f"Sending {len(runs)} runs…"):
        submit.send_group(runs)
    submit.forget_confirmation(_PREFIX)
    open_comparison(group_id)


def open_comparison(comparison_id: str | None) -> None:
    """Show a comparison (None: back to a new grid)."""
    if comparison_id:
        st.query_params["cmp"] = comparison_id
        st.session_state["cmp_open"] = comparison_id
    else:
        st.query_params.pop("cmp", None)
        st.session_state.pop("cmp_open", None)
    st.rerun()


def opened(ws: Workspace) -> Comparison | None:
    """The comparison named in the URL (or this session), if it belongs to this workspace."""
    for candidate in (st.query_params.get("cmp"), st.session_state.get("cmp_open")):
        if valid_id(candidate):
            comparison = workspace.store().get_comparison(candidate)
            if comparison is not None and comparison.workspace_id == ws.id:
                # st.navigation drops query params on a page switch: put it back so a reload keeps it.
                st.session_state["cmp_open"] = comparison.id
                if st.query_params.get("cmp") != comparison.id:
                    st.query_params["cmp"] = comparison.id
                return comparison
    return None


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


# --- the comparison view ------------------------------------------------------------------------------


def _runs(comparison: Comparison) -> dict[str, Run]:
    runs = workspace.store().list_runs(comparison.workspace_id, group_id=comparison.id, limit=None)
    return {r.id: r for r in runs}


def variants(comparison: Comparison) -> None:
    """Each prompt variant as a word diff against the base prompt."""
    texts = compare.prompt_variants(comparison.spec)
    if not texts:
        return
    base = comparison.spec["base"].get("prompt", "")
    with st.expander("Prompt variants against the base prompt", expanded=True):
        style = "<style>ins{background:#d3f9d8;text-decoration:none}del{background:#ffe3e3}</style>"
        for label, text in texts.items():
            st.html(f"{style}<p><b>{html.escape(label)}</b>: {compare.diff_html(compare.word_diff(base, text))}</p>")


def view(comparison: Comparison) -> None:
    """A comparison: live statuses while cells run, then the synced player with rating and winner."""
    spec = comparison.spec
    st.subheader(comparison.title)
    st.caption(
        time.strftime("Created %Y-%m-%d %H:%M", time.localtime(comparison.created_at))
        + f" · {sum(1 for c in spec['cells'] if c.get('run_id'))} runs"
    )
    if st.button("New comparison", key="cmp_new", icon=":material/add:"):
        open_comparison(None)
    variants(comparison)
    runs = _runs(comparison)
    if any(not r.finished for r in runs.values()):
        live_grid(comparison.id)
    else:
        results(comparison, runs)


def _cell_status(cell: dict, run: Run | None) -> str:
    if run is None:
        return "Not sent: " + (cell.get("error") or "no run")
    if run.archived:
        return ""
    if run.finished:
        return f"{run.label.capitalize()}: {run.error_message or ''}".strip()
    return f"{run.label.capitalize()} · {run.progress}%"


@st.fragment(run_every=LIVE_REFRESH)
def live_grid(comparison_id: str) -> None:
    """Re-read a running grid; when every cell has finished, rerun the page for the full view."""
    comparison = workspace.store().get_comparison(comparison_id)
    if comparison is None:
        return
    runs = _runs(comparison)
    if all(r.finished for r in runs.values()):
        st.rerun(scope="app")
    row_labels, col_labels, matrix = compare.layout(comparison.spec)
    with st.container(key="cmp_live"):
        for r, row_label in enumerate(row_labels):
            line = st.columns([1] + [2] * len(col_labels))
            line[0].markdown(f"**{md(row_label)}**")
            for c, cell in enumerate(matrix[r]):
                run = runs.get(cell.get("run_id") or "")
                with line[c + 1].container(border=True):
                    st.caption(cell.get("label", ""))
                    if run is not None and not run.finished:
                        st.progress(run.progress / 100, text=_cell_status(cell, run))
                    else:
                        st.text(_cell_status(cell, run) or "Done")


def _set_winner(comparison_id: str, run_id: str | None) -> None:
    db = workspace.store()
    comparison = db.get_comparison(comparison_id)
    if comparison is not None:
        db.update_comparison_spec(comparison_id, compare.with_winner(comparison.spec, run_id))


def results(comparison: Comparison, runs: dict[str, Run]) -> None:
    """The synced player, then a rating, a winner toggle and remix for each cell."""
    spec = comparison.spec
    row_labels, col_labels, matrix = compare.layout(spec)
    cells = []
    for cell in spec["cells"]:
        run = runs.get(cell.get("run_id") or "")
        src = run_card.media_url(run.media_token) if run is not None and run.archived else None
        cells.append(compare_player.PlayerCell(cell["row"], cell["col"], cell["label"], src, _cell_status(cell, run)))
    with st.container(key="cmp_player"):
        compare_player.player(cells, row_labels, col_labels)
    winner = spec.get("winner")
    for r in range(len(row_labels)):
        line = st.columns(len(col_labels))
        for c, cell in enumerate(matrix[r]):
            run = runs.get(cell.get("run_id") or "")
            if run is None:
                continue
            with line[c].container(border=True, key=f"cmp-cell-{run.id}"):
                st.caption(("🏆 " if run.id == winner else "") + cell["label"])
                run_card.rating(run, f"cmp-rate-{run.id}")
                with st.container(horizontal=True):
                    if run.id == winner:
                        st.button(
                            "Winner",
                            key=f"cmp-win-{run.id}",
                            type="primary",
                            icon=":material/trophy:",
                            on_click=_set_winner,
                            args=(comparison.id, None),
                            help="Click to clear",
                        )
                    else:
                        st.button(
                            "Mark winner",
                            key=f"cmp-win-{run.id}",
                            icon=":material/trophy:",
                            on_click=_set_winner,
                            args=(comparison.id, run.id),
                        )
                    if st.button(
                        "Remix",
                        key=f"cmp-remix-{run.id}",
                        icon=":material/edit:",
                        on_click=run_card.remix,
                        args=(run,),
                    ):
                        st.switch_page("pages/studio.py", query_params={"ws": run.workspace_id})


# --- earlier comparisons and the leaderboard -----------------------------------------------------------


def history(ws: Workspace, *, limit: int = 20, on_compare_page: bool = False) -> None:
    """Earlier comparisons of this workspace, each one click from being reopened."""
    items = workspace.store().list_comparisons(ws.id, limit=limit)
    if not items:
        st.caption("No comparisons yet.")
        return
    for item in items:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(item.created_at))
        label = f"{item.title} · {len(item.spec.get('cells', []))} cells · {when}"
        if on_compare_page:
            if st.button(label, key=f"cmp-open-{item.id}", icon=":material/grid_view:", type="tertiary"):
                open_comparison(item.id)
        else:
            st.page_link(
                "pages/compare.py", label=label, icon=":material/grid_view:", query_params={"ws": ws.id, "cmp": item.id}
            )


def leaderboard(ws: Workspace) -> None:
    """Prompts ranked by their average rating, from every run of the workspace."""
    table = workshop.leaderboard(workspace.store().list_runs(ws.id, limit=None))
    if not table:
        st.caption("Rate some runs (in the gallery or a comparison) and the best prompts appear here.")
        return
    st.dataframe(
        [
            {
                "Prompt": s.prompt[:120],
                "Average": round(s.average, 2),
                "Ratings": s.ratings,
                "Runs": s.runs,
                "By": ", ".join(s.participants),
            }
            for s in table
        ],
        hide_index=True,
        width="stretch",
        key="leaderboard",
        column_config={"Average": st.column_config.NumberColumn(format="%.2f ★")},
    )

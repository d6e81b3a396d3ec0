"""The prompt editor and the hints beside it: coaching as you type, with one-click fixes."""

from __future__ import annotations

import streamlit as st

from components.plain import md
from lib import catalog, prompt_lint

_ICONS = {"error": ":material/error:", "warning": ":material/warning:", "info": ":material/lightbulb:"}
_QUOTE_MAX = 60


def prompt_box(errors: dict[str, str]) -> None:
    st.text_area(
        "Prompt",
        key="prompt", persist_state="session",
        height=260,
        placeholder='A close-up of an old fisherman at dawn, golden light. He smiles and says: "The sea is calm today." Slow dolly in.',
        help='Dialogue in straight double quotes ("…") is spoken aloud. Set the aspect ratio and quality in the panel, not here.',
    )
    stats = prompt_lint.stats(st.session_state.get("prompt", ""))
    st.caption(_counter(stats))
    if "prompt" in errors and st.session_state.get("prompt", "").strip():
        st.error(errors["prompt"], icon=":material/error:")


def _counter(stats) -> str:
    words, cjk = stats.words, stats.cjk
    parts = [f"{stats.characters:,} characters"]
    parts.append(f"{words:,} / {catalog.PROMPT_RECOMMENDED_WORDS:,} English words")
    if cjk:
        parts.append(f"{cjk:,} / {catalog.PROMPT_RECOMMENDED_CJK} Chinese characters")
    return " · ".join(parts)


def _apply_all() -> None:
    hints = st.session_state.get("_hints") or []
    st.session_state["prompt"] = prompt_lint.apply_fixes(st.session_state.get("prompt", ""), hints)


def _apply_one(hint) -> None:
    st.session_state["prompt"] = prompt_lint.apply_fixes(st.session_state.get("prompt", ""), [hint])


_ORDER = {"error": 0, "warning": 1, "info": 2}


def hints_panel(spec: catalog.ModelSpec, media: dict[str, int], web_search: bool) -> list:
    """Lint the current prompt and list the hints, most serious first, each quoting its text."""
    prompt = st.session_state.get("prompt", "")
    # An editor nobody has typed in yet gets an invitation, not an error.
    hints = prompt_lint.lint(prompt, model=spec.id, web_search=web_search, **media) if prompt else []
    st.session_state["_hints"] = hints
    with st.container(key="hints", border=True, height=420):
        fixable = [h for h in hints if h.fix is not None]
        st.markdown(f"**Hints** · {len(hints)}" if hints else "**Hints**")
        if fixable:
            st.button(f"Fix all ({len(fixable)})", key="fix_all", on_click=_apply_all,
                      icon=":material/auto_fix_high:", use_container_width=True)
        if not prompt:
            st.caption("Hints appear here as you type.")
        elif not hints:
            st.caption("Nothing to flag. Subject, action, camera and light are all there.")
        for i, hint in sorted(enumerate(hints), key=lambda p: (_ORDER.get(p[1].severity, 3), p[1].start)):
            quoted = prompt[hint.start:hint.end].strip()
            if len(quoted) > _QUOTE_MAX:
                quoted = quoted[: _QUOTE_MAX - 1] + "…"
            with st.container(key=f"hint-{i}", gap="small"):
                st.markdown(f"{_ICONS.get(hint.severity, '')} **{hint.code}**"
                            + (f" · `{_code_escape(quoted)}`" if quoted else ""))
                st.caption(md(hint.message, limit=2000))
                if hint.fix is not None:
                    st.button("Apply fix", key=f"fix-{i}", on_click=_apply_one, args=(hint,), type="tertiary",
                              icon=":material/auto_fix_normal:", help=f"Replace with: {hint.fix or '(nothing)'}")
    return hints


def _code_escape(text: str) -> str:
    """Inline code cannot hold a backtick or a line break."""
    return text.replace("`", "'").replace("\n", " ")

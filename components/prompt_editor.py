"""The prompt editor and the hints beside it: coaching as you type, with one-click fixes."""

from __future__ import annotations

import streamlit as st

from components.plain import md
from lib import catalog, hints
from lib.text import one_line

_ICONS = {"error": ":material/error:", "warning": ":material/warning:", "info": ":material/lightbulb:"}
_QUOTE_MAX = 60
_HINT_ARGS = "_hint_args"  # what the hints were last checked with, for the fix buttons' callbacks


def prompt_box(errors: dict[str, str]) -> None:
    st.text_area(
        "Prompt",
        key="prompt",
        persist_state="session",
        height=260,
        placeholder=(
            "A close-up of an old fisherman at dawn, golden light. "
            'He smiles and says: "The sea is calm today." Slow dolly in.'
        ),
        help=(
            'Dialogue in straight double quotes ("…") is spoken aloud. '
            "Set the aspect ratio and quality in the panel, not here."
        ),
    )
    stats = hints.stats(st.session_state.get("prompt", ""))
    st.caption(_counter(stats))
    if "prompt" in errors and st.session_state.get("prompt", "").strip():
        st.error(errors["prompt"], icon=":material/error:")


def _counter(stats: hints.PromptStats) -> str:
    words, cjk = stats.words, stats.cjk
    parts = [f"{stats.characters:,} characters"]
    parts.append(f"{words:,} / {catalog.PROMPT_RECOMMENDED_WORDS:,} English words")
    if cjk:
        parts.append(f"{cjk:,} / {catalog.PROMPT_RECOMMENDED_CJK} Chinese characters")
    return " · ".join(parts)


def _fresh_hints() -> tuple[str, list[hints.Hint]]:
    """The hints of the prompt as it is now.

    A button's callback runs before the rerun that would check an edit made in the same
    round trip, so hints shown on screen may have offsets into older text: check again.
    """
    prompt = st.session_state.get("prompt", "")
    args = st.session_state.get(_HINT_ARGS) or {}
    return prompt, hints.lint(prompt, **args) if prompt and args else []


def _apply_all() -> None:
    prompt, found = _fresh_hints()
    st.session_state["prompt"] = hints.apply_fixes(prompt, found)


def _apply_one(code: str, text: str) -> None:
    """Apply the fix of the hint with this code about this text, if the prompt still has it."""
    prompt, found = _fresh_hints()
    for hint in found:
        if hint.code == code and prompt[hint.start : hint.end] == text and hint.fix is not None:
            st.session_state["prompt"] = hints.apply_fixes(prompt, [hint])
            return


_ORDER = {"error": 0, "warning": 1, "info": 2}


def hints_panel(spec: catalog.ModelSpec, media: dict[str, int], web_search: bool) -> list[hints.Hint]:
    """Check the current prompt and list its hints, most serious first, each quoting its text.

    ``media`` counts the links of each kind as ``hints.lint`` takes them (``images=``, ...).
    """
    prompt = st.session_state.get("prompt", "")
    # An editor nobody has typed in yet gets an invitation, not an error.
    st.session_state[_HINT_ARGS] = {"model": spec.id, "web_search": web_search, **media}
    found = hints.lint(prompt, **st.session_state[_HINT_ARGS]) if prompt else []
    with st.container(key="hints", border=True, height=420):
        fixable = [h for h in found if h.fix is not None]
        st.markdown(f"**Hints** · {len(found)}" if found else "**Hints**")
        if fixable:
            st.button(
                f"Fix all ({len(fixable)})",
                key="fix_all",
                on_click=_apply_all,
                icon=":material/auto_fix_high:",
                use_container_width=True,
            )
        if not prompt:
            st.caption("Hints appear here as you type.")
        elif not found:
            st.caption("Nothing to flag. Subject, action, camera and light are all there.")
        for i, hint in sorted(enumerate(found), key=lambda p: (_ORDER.get(p[1].severity, 3), p[1].start)):
            quoted = one_line(prompt[hint.start : hint.end], _QUOTE_MAX)
            with st.container(key=f"hint-{i}", gap="small"):
                st.markdown(
                    f"{_ICONS.get(hint.severity, '')} **{hint.code}**"
                    + (f" · `{_code_escape(quoted)}`" if quoted else "")
                )
                st.caption(md(hint.message, limit=2000))
                if hint.fix is not None:
                    st.button(
                        "Apply fix",
                        key=f"fix-{i}",
                        on_click=_apply_one,
                        args=(hint.code, prompt[hint.start : hint.end]),
                        type="tertiary",
                        icon=":material/auto_fix_normal:",
                        help=f"Replace with: {hint.fix or '(nothing)'}",
                    )
    return found


def _code_escape(text: str) -> str:
    """Inline code cannot hold a backtick or a line break."""
    return text.replace("`", "'").replace("\n", " ")

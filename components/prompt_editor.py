"""The prompt editor and the hints beside it: coaching as you type, with one-click fixes."""

from __future__ import annotations

import streamlit as st

from components.plain import md
from lib import catalog, hints
from lib.i18n import Words
from lib.text import one_line

_ICONS = {"error": ":material/error:", "warning": ":material/warning:", "info": ":material/lightbulb:"}
_QUOTE_MAX = 60
_HINT_ARGS = "_hint_args"  # what the hints were last checked with, for the fix buttons' callbacks

# Every word this module puts on screen (hint titles are data next to the hint codes: ``lib.hints.TITLES``).
WORDS = Words(
    {
        "prompt": "Prompt",
        "placeholder": (
            'A close-up of an old fisherman at dawn, golden light. He smiles and says: "The sea is calm today." '
            "Slow dolly in."
        ),
        "prompt_help": (
            'Dialogue in straight double quotes ("…") is spoken aloud. '
            "Set the aspect ratio and quality in the panel, not here."
        ),
        "hints": "**Hints**",
        "hints_count": "**Hints** · {n}",
        "fix_all": "Fix all ({n})",
        "fix_all_help": "Apply every safe fix; settings named in the prompt go into their fields.",
        "empty": "Hints appear here as you type.",
        "clean": "Nothing to flag. Subject, action, camera and light are all there.",
        "fix": "Apply fix",
        "fix_help": "Replace with: {text}",
        "nothing": "(nothing)",
        "set": "Set {field} to {value}",
        "set_and_remove": "Set {field} to {value} and remove the words",
        "remove": "Remove the words",
        "fields": {"aspect_ratio": "Aspect ratio", "quality": "Quality"},
        "characters": "{n:,} characters",
        "words": "{n:,} / {limit:,} English words",
        "cjk": "{n:,} / {limit} Chinese characters",
    }
)


def prompt_box(errors: dict[str, str]) -> None:
    st.text_area(
        WORDS["prompt"],
        key="prompt",
        persist_state="session",
        height=220,
        placeholder=WORDS["placeholder"],
        help=WORDS["prompt_help"],
    )
    stats = hints.stats(st.session_state.get("prompt", ""))
    st.caption(_counter(stats))
    if "prompt" in errors and st.session_state.get("prompt", "").strip():
        st.error(errors["prompt"], icon=":material/error:")


def _counter(stats: hints.PromptStats) -> str:
    parts = [WORDS["characters"].format(n=stats.characters)]
    parts.append(WORDS["words"].format(n=stats.words, limit=catalog.PROMPT_RECOMMENDED_WORDS))
    if stats.cjk:
        parts.append(WORDS["cjk"].format(n=stats.cjk, limit=catalog.PROMPT_RECOMMENDED_CJK))
    return " · ".join(parts)


def _fresh_hints() -> tuple[str, list[hints.Hint]]:
    """The hints of the prompt as it is now.

    A button's callback runs before the rerun that would check an edit made in the same
    round trip, so hints shown on screen may have offsets into older text: check again.
    """
    prompt = st.session_state.get("prompt", "")
    args = st.session_state.get(_HINT_ARGS) or {}
    return prompt, hints.lint(prompt, **args) if prompt and args else []


def _apply(prompt: str, chosen: list[hints.Hint]) -> None:
    """The fixed text, and the settings the fixes carry, so the prompt keeps its meaning."""
    ss = st.session_state
    ss["prompt"] = hints.apply_fixes(prompt, chosen)
    settings = hints.settings_of(chosen)
    for hint in chosen:
        if hint.fix is None and hint.setting is not None:  # words that cannot go tidily: the setting alone
            settings.setdefault(*hint.setting)
    for field, value in settings.items():
        ss[field] = value


def _apply_all() -> None:
    prompt, found = _fresh_hints()
    _apply(prompt, [h for h in found if h.fix is not None])


def _apply_one(code: str, text: str) -> None:
    """Apply the fix (and the setting) of the hint with this code about this text, if the prompt still has it."""
    prompt, found = _fresh_hints()
    for hint in found:
        if hint.code == code and prompt[hint.start : hint.end] == text and (hint.fix, hint.setting) != (None, None):
            _apply(prompt, [hint])
            return


def _fix_label(hint: hints.Hint) -> str:
    if hint.setting is None:
        return WORDS["fix"] if hint.fix else WORDS["remove"]
    field, value = hint.setting
    words = WORDS["set"] if hint.fix is None else WORDS["set_and_remove"]
    return words.format(field=WORDS["fields"].get(field, field), value=value)


_ORDER = {"error": 0, "warning": 1, "info": 2}


def hints_panel(spec: catalog.ModelSpec, media: dict[str, int], web_search: bool) -> list[hints.Hint]:
    """Check the current prompt and list every hint, most serious first, each with its title and its text.

    ``media`` counts the links of each kind as ``hints.lint`` takes them (``images=``, ...).
    The panel grows with its hints (no inner scrolling that could hide the last one).
    """
    ss = st.session_state
    prompt = ss.get("prompt", "")
    # An editor nobody has typed in yet gets an invitation, not an error.
    ss[_HINT_ARGS] = {
        "model": spec.id,
        "web_search": web_search,
        "aspect_ratio": ss.get("aspect_ratio"),
        "quality": ss.get("quality"),
        **media,
    }
    found = hints.lint(prompt, **ss[_HINT_ARGS]) if prompt else []
    with st.container(key="hints", border=True):
        fixable = [h for h in found if h.fix is not None]
        st.markdown(WORDS["hints_count"].format(n=len(found)) if found else WORDS["hints"])
        if fixable:
            st.button(
                WORDS["fix_all"].format(n=len(fixable)),
                key="fix_all",
                on_click=_apply_all,
                icon=":material/auto_fix_high:",
                width="stretch",
                help=WORDS["fix_all_help"],
            )
        if not prompt:
            st.caption(WORDS["empty"])
        elif not found:
            st.caption(WORDS["clean"])
        for i, hint in sorted(enumerate(found), key=lambda p: (_ORDER.get(p[1].severity, 3), p[1].start)):
            quoted = one_line(prompt[hint.start : hint.end], _QUOTE_MAX)
            # The code names the container (for tests and styling); people read the title.
            with st.container(key=f"hint-{hint.code}-{i}", gap="small"):
                st.markdown(
                    f"{_ICONS.get(hint.severity, '')} **{md(hint.title)}**"
                    + (f" · `{_code_escape(quoted)}`" if quoted else "")
                )
                st.caption(md(hint.message, limit=2000))
                if hint.fix is not None or hint.setting is not None:
                    st.button(
                        _fix_label(hint),
                        key=f"fix-{i}",
                        on_click=_apply_one,
                        args=(hint.code, prompt[hint.start : hint.end]),
                        type="tertiary",
                        icon=":material/auto_fix_normal:",
                        help=WORDS["fix_help"].format(text=hint.fix or WORDS["nothing"])
                        if hint.fix is not None
                        else None,
                    )
    return found


def _code_escape(text: str) -> str:
    """Inline code cannot hold a backtick or a line break."""
    return text.replace("`", "'").replace("\n", " ")

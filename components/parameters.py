"""The parameter panel: offers only what the chosen model accepts, and says what changed.

Every value the panel reads goes through ``settle`` first (``lib.drafts.clean``): a
choice is always one of its options. Menus show fixed words for each option (a
ratio's pixel size, which changes with the quality, is a caption under the menu):
Streamlit identifies a menu's choice by the words it shows, so words that changed
with another setting would leave the browser holding words no option has any more.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from pydantic import ValidationError

from components import language
from lib import catalog, drafts, pricing
from lib.i18n import Words, t
from lib.schema import GenerationRequest, error_messages

# Widget keys double as the names in DESIGN.md's browser contract.
FIELDS = ("model", "duration", "quality", "aspect_ratio", "generate_audio", "content_filter", "web_search")
MEDIA_FIELDS = tuple(catalog.MEDIA_BY_FIELD)  # one text area of links per kind of media
_NOTICE = "_param_notice"
REMIXED = "_studio_filled"  # set when a remix filled the Studio: the draft must not overwrite it

_MODEL_ORDER = [m.id for mode in catalog.MODES for m in catalog.MODELS.values() if m.mode == mode]

# Every word this module puts on screen.
WORDS = Words(
    {
        "model": "Model",
        "model_help": "Grouped by mode (text, image, reference) and tier (standard, fast, mini).",
        "duration": "Duration (seconds)",
        "duration_help": "Billed per second of output.",
        "quality": "Quality",
        "quality_help": "1080p is offered by the standard models only.",
        "ratio": "Aspect ratio",
        "ratio_help": "Set the ratio here, not in the prompt.",
        "size": "{width}×{height} pixels at {quality}.",
        "adaptive": "The model picks the shape that suits the prompt.",
        "audio": "Generate audio",
        "audio_help": "Voices, effects and music; no extra cost.",
        "filter": "Content filter",
        "filter_help": "Off relaxes content restrictions and costs {cost} ({change}).",
        "filter_off": "Content filter off: this run costs {cost}.",
        "search": "Web search",
        "search_help": "The model may search the web for current facts: {cost}, only if one is triggered.",
        "media": "Reference media",
        "links": "{label} ({range}, one per line)",
        "range_from": "{min}–{max}",
        "range_up_to": "up to {max}",
        "video_seconds": "Total length of the reference videos (seconds)",
        "video_seconds_help": "Used for the cost estimate when the videos cannot be measured.",
        "callback": "Callback URL (optional)",
        "callback_help": "The provider calls this https address when the run finishes.",
        "switched": "Switched to {model}: {changes}.",
        "quality_changed": "quality {old} → 720p ({model} offers {offered})",
        "search_off": "web search turned off (this model has none)",
        "media_kept": "{links} kept but not sent ({model} takes none)",
    }
)


def defaults() -> dict[str, Any]:
    """Every field the Studio keeps, at its starting value."""
    return {
        "model": catalog.DEFAULT_MODEL,
        "prompt": "",
        "duration": catalog.DEFAULTS["duration"],
        "quality": catalog.DEFAULTS["quality"],
        "aspect_ratio": catalog.DEFAULTS["aspect_ratio"],
        "generate_audio": catalog.DEFAULTS["generate_audio"],
        "content_filter": catalog.DEFAULTS["content_filter"],
        "web_search": catalog.DEFAULTS["web_search"],
        "callback_url": "",
        "input_video_seconds": 0.0,
        **{f: "" for f in MEDIA_FIELDS},
    }


def init_state(values: dict | None = None) -> None:
    """Defaults for every field once per session; ``values`` (a run to remix) overrides them."""
    for key, value in defaults().items():
        st.session_state.setdefault(key, value)
    if values:
        fill(values)
        st.session_state[REMIXED] = True


def fill(values: dict) -> None:
    """Put ``values`` (a remix, a draft) into the Studio's fields; media links may come as lists."""
    known = defaults()
    for key, value in values.items():
        if key in MEDIA_FIELDS and not isinstance(value, str):
            value = "\n".join(value or ())
        if key in known and value is not None:
            st.session_state[key] = value


def reset() -> None:
    """Every field back to its starting value (the Studio's Clear)."""
    for key, value in defaults().items():
        st.session_state[key] = value
    st.session_state[_NOTICE] = None


def settle() -> None:
    """Make every value the Studio holds one its widget can show, before anything reads them.

    A browser may send back the words a menu showed instead of the option (``lib.drafts.choice``
    reads those words as the option); a quality the model does not offer becomes 720p, as
    a model switch does. Run before ``current_request`` and before the widgets.
    """
    ss = st.session_state
    start = defaults()
    for field in ("model", "quality", "aspect_ratio", "duration", *drafts.SWITCHES):
        if field not in ss:
            continue
        cleaned = drafts.clean({field: ss[field]}).get(field, start[field])
        if cleaned != ss[field] or type(cleaned) is not type(ss[field]):
            ss[field] = cleaned
    if ss.get("quality") not in current_spec().qualities:
        ss["quality"] = "720p"


def values() -> dict[str, Any]:
    """The Studio's fields as they are now (what a draft keeps)."""
    ss = st.session_state
    return {field: ss.get(field) for field in drafts.FIELDS if field in ss}


def _links(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def current_spec() -> catalog.ModelSpec:
    return catalog.MODELS.get(st.session_state.get("model"), catalog.MODELS[catalog.DEFAULT_MODEL])


def media_counts(spec: catalog.ModelSpec) -> dict[str, int]:
    """How many links of each kind will be sent, as hints.lint() takes them (``images=``, ...)."""
    ss = st.session_state
    return {
        media.limits: len(_links(ss.get(media.field, ""))) if spec.limits(kind).accepted else 0
        for kind, media in catalog.MEDIA.items()
    }


def current_request() -> tuple[GenerationRequest | None, dict[str, str]]:
    """The request the panel describes right now, or the plain messages saying why not."""
    ss = st.session_state
    spec = current_spec()
    data = {f: ss.get(f) for f in FIELDS}
    data["prompt"] = ss.get("prompt", "")
    if not spec.web_search:
        data.pop("web_search")
    for kind, media in catalog.MEDIA.items():
        if spec.limits(kind).accepted:
            links = _links(ss.get(media.field, ""))
            if links:
                data[media.field] = links
    if ss.get("callback_url", "").strip():
        data["callback_url"] = ss["callback_url"].strip()
    try:
        return GenerationRequest(**data), {}
    except ValidationError as exc:
        return None, error_messages(exc)


def _on_model_change() -> None:
    """Keep the combination valid after a model switch, and say what was adjusted."""
    language.follow()
    ss = st.session_state
    spec = catalog.MODELS.get(drafts.choice("model", ss.get("model")) or "", catalog.MODELS[catalog.DEFAULT_MODEL])
    changed = []
    if ss.get("quality") not in spec.qualities:
        changed.append(
            WORDS["quality_changed"].format(old=ss.get("quality"), model=spec.label, offered=", ".join(spec.qualities))
        )
        ss["quality"] = "720p"
    if ss.get("web_search") and not spec.web_search:
        changed.append(WORDS["search_off"])
        ss["web_search"] = False
    for kind, media in catalog.MEDIA.items():
        if _links(ss.get(media.field, "")) and not spec.limits(kind).accepted:
            changed.append(WORDS["media_kept"].format(links=t(media.links_label).lower(), model=spec.label))
    ss[_NOTICE] = WORDS["switched"].format(model=spec.label, changes="; ".join(changed)) if changed else None


def _field_error(errors: dict[str, str], *fields: str) -> None:
    for field in fields:
        if field in errors:
            st.error(errors[field], icon=":material/error:")


def model_picker(errors: dict[str, str]) -> catalog.ModelSpec:
    st.selectbox(
        WORDS["model"],
        _MODEL_ORDER,
        key="model",
        persist_state="session",
        format_func=model_label,
        on_change=_on_model_change,
        help=WORDS["model_help"],
    )
    spec = catalog.MODELS[st.session_state["model"]]
    st.caption(spec.summary)
    if st.session_state.get(_NOTICE):
        st.info(st.session_state[_NOTICE], icon=":material/tune:")
    _field_error(errors, "model")
    return spec


def model_label(model: str) -> str:
    """The words the Model menu shows for a model: fixed, whatever else is chosen."""
    return catalog.MODELS[model].label


def ratio_label(ratio: str) -> str:
    """The words the Aspect ratio menu shows for a ratio: fixed, whatever the quality (see the module's note)."""
    return t(catalog.ASPECT_RATIO_LABELS[ratio])


def ratio_size(ratio: str, quality: str) -> str:
    """The pixel size a ratio makes at a quality, as a caption under the menu."""
    size = catalog.resolution(ratio, quality) if quality in catalog.QUALITIES else None
    if size is None:
        return WORDS["adaptive"]
    return WORDS["size"].format(width=size[0], height=size[1], quality=quality)


def parameter_panel(spec: catalog.ModelSpec, errors: dict[str, str]) -> None:
    """Duration, quality, ratio, switches; then the reference media the model takes."""
    st.slider(
        WORDS["duration"],
        catalog.DURATION_MIN,
        catalog.DURATION_MAX,
        key="duration",
        persist_state="session",
        help=WORDS["duration_help"],
    )
    _field_error(errors, "duration")
    st.segmented_control(
        WORDS["quality"],
        spec.qualities,
        key="quality",
        persist_state="session",
        required=True,
        help=WORDS["quality_help"],
    )
    _field_error(errors, "quality")
    ratio = st.selectbox(
        WORDS["ratio"],
        catalog.ASPECT_RATIOS,
        key="aspect_ratio",
        persist_state="session",
        format_func=ratio_label,
        help=WORDS["ratio_help"],
    )
    st.caption(ratio_size(ratio or "adaptive", st.session_state.get("quality") or "720p"))
    _field_error(errors, "aspect_ratio")
    st.toggle(WORDS["audio"], key="generate_audio", persist_state="session", help=WORDS["audio_help"])
    prices = pricing.price_words()
    st.toggle(
        WORDS["filter"],
        key="content_filter",
        persist_state="session",
        help=WORDS["filter_help"].format(cost=prices.filter_off, change=prices.filter_off_change),
    )
    if not st.session_state.get("content_filter"):
        st.caption(WORDS["filter_off"].format(cost=prices.filter_off))
    if spec.web_search:
        st.toggle(
            WORDS["search"],
            key="web_search",
            persist_state="session",
            help=WORDS["search_help"].format(cost=prices.web_search),
        )
        _field_error(errors, "web_search")
    _media(spec, errors)


def _media(spec: catalog.ModelSpec, errors: dict[str, str]) -> None:
    """Links to reference images, videos and audio, for the models that take them."""
    if not spec.takes_media:
        return
    with st.expander(WORDS["media"], expanded=True, icon=":material/perm_media:"):
        for kind, media in catalog.MEDIA.items():
            limits = spec.limits(kind)
            if limits.accepted:
                rng = (
                    WORDS["range_from"].format(min=limits.min, max=limits.max)
                    if limits.min
                    else WORDS["range_up_to"].format(max=limits.max)
                )
                st.text_area(
                    WORDS["links"].format(label=t(media.links_label), range=rng),
                    key=media.field,
                    persist_state="session",
                    height=80,
                    placeholder=media.example,
                )
                _field_error(errors, media.field)
        if spec.videos.accepted:
            st.number_input(
                WORDS["video_seconds"],
                0.0,
                drafts.REFERENCE_SECONDS_MAX,
                step=0.5,
                key="input_video_seconds",
                persist_state="session",
                help=WORDS["video_seconds_help"],
            )
        _field_error(errors, "media")


def callback_field(errors: dict[str, str]) -> None:
    """The callback URL, for developers (it lives in the "For developers" expander)."""
    st.text_input(
        WORDS["callback"],
        key="callback_url",
        persist_state="session",
        placeholder="https://your-domain.com/hooks/video",
        help=WORDS["callback_help"],
    )
    _field_error(errors, "callback_url")

"""The parameter panel: offers only what the chosen model accepts, and says what changed."""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from lib import catalog, pricing
from lib.schema import GenerationRequest, error_messages

# Widget keys double as the names in DESIGN.md's browser contract.
FIELDS = ("model", "duration", "quality", "aspect_ratio", "generate_audio", "content_filter", "web_search")
MEDIA_FIELDS = tuple(catalog.MEDIA_BY_FIELD)  # one text area of links per kind of media
_NOTICE = "_param_notice"

_MODEL_ORDER = [m.id for mode in catalog.MODES for m in catalog.MODELS.values() if m.mode == mode]


def init_state(values: dict | None = None) -> None:
    """Defaults for every field once per session; ``values`` (a run to remix) overrides them."""
    defaults = {
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
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
    if values:
        for key, value in values.items():
            if key in MEDIA_FIELDS:
                value = "\n".join(value or ())
            if key in defaults and value is not None:
                st.session_state[key] = value


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
    ss = st.session_state
    spec = catalog.MODELS[ss["model"]]
    changed = []
    if ss.get("quality") not in spec.qualities:
        changed.append(f"quality {ss['quality']} → 720p ({spec.label} offers {', '.join(spec.qualities)})")
        ss["quality"] = "720p"
    if ss.get("web_search") and not spec.web_search:
        changed.append("web search turned off (this model has none)")
        ss["web_search"] = False
    for kind, media in catalog.MEDIA.items():
        if _links(ss.get(media.field, "")) and not spec.limits(kind).accepted:
            changed.append(f"{media.links_label.lower()} kept but not sent ({spec.label} takes none)")
    ss[_NOTICE] = f"Switched to {spec.label}: " + "; ".join(changed) + "." if changed else None


def _field_error(errors: dict[str, str], *fields: str) -> None:
    for field in fields:
        if field in errors:
            st.error(errors[field], icon=":material/error:")


def model_picker(errors: dict[str, str]) -> catalog.ModelSpec:
    st.selectbox(
        "Model",
        _MODEL_ORDER,
        key="model",
        persist_state="session",
        format_func=lambda m: catalog.MODELS[m].label,
        on_change=_on_model_change,
        help="Grouped by mode (text, image, reference) and tier (standard, fast, mini).",
    )
    spec = catalog.MODELS[st.session_state["model"]]
    st.caption(spec.summary)
    if st.session_state.get(_NOTICE):
        st.info(st.session_state[_NOTICE], icon=":material/tune:")
    _field_error(errors, "model")
    return spec


def parameter_panel(spec: catalog.ModelSpec, errors: dict[str, str]) -> None:
    """Duration, quality, ratio, switches; then the advanced fields the model takes."""
    st.slider(
        "Duration (seconds)",
        catalog.DURATION_MIN,
        catalog.DURATION_MAX,
        key="duration",
        persist_state="session",
        help="Billed per second of output.",
    )
    _field_error(errors, "duration")
    st.segmented_control(
        "Quality",
        spec.qualities,
        key="quality",
        persist_state="session",
        required=True,
        help="1080p is offered by the standard models only.",
    )
    _field_error(errors, "quality")
    quality = st.session_state.get("quality") or "720p"

    def ratio_label(ratio: str) -> str:
        size = catalog.resolution(ratio, quality)
        return (
            f"{catalog.ASPECT_RATIO_LABELS[ratio]} — {size[0]}×{size[1]}"
            if size
            else catalog.ASPECT_RATIO_LABELS[ratio]
        )

    st.selectbox(
        "Aspect ratio",
        catalog.ASPECT_RATIOS,
        key="aspect_ratio",
        persist_state="session",
        format_func=ratio_label,
        help="Set the ratio here, not in the prompt.",
    )
    _field_error(errors, "aspect_ratio")
    st.toggle(
        "Generate audio",
        key="generate_audio",
        persist_state="session",
        help="Voices, effects and music; no extra cost.",
    )
    prices = pricing.price_words()
    st.toggle(
        "Content filter",
        key="content_filter",
        persist_state="session",
        help=f"Off relaxes content restrictions and costs {prices.filter_off} ({prices.filter_off_change}).",
    )
    if not st.session_state.get("content_filter"):
        st.caption(f"Content filter off: this run costs {prices.filter_off}.")
    if spec.web_search:
        st.toggle(
            "Web search",
            key="web_search",
            persist_state="session",
            help=f"The model may search the web for current facts: {prices.web_search}, only if one is triggered.",
        )
        _field_error(errors, "web_search")
    _advanced(spec, errors)


def _advanced(spec: catalog.ModelSpec, errors: dict[str, str]) -> None:
    with st.expander("Advanced", expanded=bool(set(errors) & {"callback_url", "media", *MEDIA_FIELDS})):
        for kind, media in catalog.MEDIA.items():
            limits = spec.limits(kind)
            if limits.accepted:
                rng = f"{limits.min}–{limits.max}" if limits.min else f"up to {limits.max}"
                st.text_area(
                    f"{media.links_label} ({rng}, one per line)",
                    key=media.field,
                    persist_state="session",
                    height=80,
                    placeholder=media.example,
                )
                _field_error(errors, media.field)
        if spec.videos.accepted:
            st.number_input(
                "Total length of the reference videos (seconds)",
                0.0,
                15.0,
                step=0.5,
                key="input_video_seconds",
                persist_state="session",
                help="Used for the cost estimate when the videos cannot be measured.",
            )
        _field_error(errors, "media")
        st.text_input(
            "Callback URL (optional)",
            key="callback_url",
            persist_state="session",
            placeholder="https://your-domain.com/hooks/video",
            help="The provider calls this https address when the run finishes.",
        )
        _field_error(errors, "callback_url")

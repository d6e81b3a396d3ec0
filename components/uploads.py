"""Upload images, videos and audio from the computer in the Studio: checked, stored, previewed, linked.

Each accepted file becomes a link (``lib.uploads``) added to the model's links field,
so the request, the draft, a remix and the cost card treat it like any other link. The
checks run in the uploader's callback, before any widget of the page is drawn, so the
links field can be filled in the same click. Without a public address in live mode the
provider could not fetch the files: the control says why and who can fix it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st

from components import language, workspace
from components.plain import md
from lib import catalog, uploads
from lib.i18n import t
from lib.settings import UPLOAD_PREFIX, load_settings

_ROUND = "_upload_round"  # per kind: bumped after each upload so the picker empties itself
_MESSAGES = "_upload_messages"  # what the last upload refused or said, shown once
PREVIEW_WIDTH = 160


def provider_base() -> str | None:
    """Where the provider fetches uploads: the public address, the app itself in demo mode, else None."""
    settings = load_settings()
    if settings.public_url:
        return settings.public_url
    if settings.demo:
        # The demo's simulator runs in this process and reaches the app on the loopback address.
        return f"http://127.0.0.1:{st.get_option('server.port')}"
    return None


def _page_origin() -> str | None:
    parts = urlsplit(st.context.url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _key(kind: str) -> str:
    return f"upload_{kind}_{st.session_state.setdefault(_ROUND, {}).get(kind, 0)}"


def _received(kind: str, key: str, base: str) -> None:
    """Check every chosen file, store the good ones and add their links; say what was refused and why."""
    language.follow()  # a callback runs before app.py sets the language
    ss = st.session_state
    files = ss.get(key) or []
    media = catalog.MEDIA[kind]
    spec = catalog.MODELS.get(ss.get("model") or "", catalog.MODELS[catalog.DEFAULT_MODEL])
    links = _lines(ss.get(media.field))
    messages: list[tuple[str, str]] = []
    data_dir = load_settings().data_dir
    try:
        uploads.check_count(spec, kind, len(links), len(files))
    except uploads.UploadRejected as exc:
        messages.append(("", str(exc)))
        files = []
    seconds = [s for s in (uploads.seconds_of(data_dir, link) for link in links) if s is not None]
    for f in files:
        data = f.getvalue()
        try:
            measured = uploads.inspect(data, f.name, kind)
            if measured.seconds is not None:
                uploads.check_total_seconds(kind, [*seconds, measured.seconds])
            saved = uploads.save(data_dir, data, f.name, measured)
        except uploads.UploadRejected as exc:
            messages.append((f.name, str(exc)))
            continue
        if measured.seconds is not None:
            seconds.append(measured.seconds)
        links.append(uploads.link(base, saved.token))
    ss[media.field] = "\n".join(links)
    ss[_MESSAGES] = messages
    rounds = ss.setdefault(_ROUND, {})
    rounds[kind] = rounds.get(kind, 0) + 1  # a new picker, empty: the files are links now


def _explain_public_url() -> None:
    with st.container(key="uploads_need_public_url"):
        if workspace.is_facilitator(workspace.current()):
            st.info(
                t(
                    "The provider downloads every image, video and audio clip from a link, so uploads need a public "
                    "address for this app. Set STUDIO_PUBLIC_URL to this server's public https address (for example "
                    "a tunnel such as `cloudflared tunnel --url http://localhost:8501`, or your own reverse proxy) "
                    "and restart the app. Until then, paste links to files that are already online."
                ),
                icon=":material/public:",
            )
        else:
            st.info(
                t(
                    "Uploading needs a public address for this app, which only the facilitator can set: ask them. "
                    "Until then, paste links to files that are already online."
                ),
                icon=":material/public:",
            )


def _preview(upload: uploads.Upload, origin: str | None) -> None:
    st.caption(f"{md(upload.name, 80)} · {_describe(upload)}")
    if origin is None:
        return
    url = f"{origin}{UPLOAD_PREFIX}{upload.token}"
    if upload.kind == "image":
        st.image(url, width=PREVIEW_WIDTH)
    elif upload.kind == "video":
        st.video(url)
    else:
        st.audio(url)


def _describe(upload: uploads.Upload) -> str:
    parts = []
    if upload.width and upload.height:
        parts.append(f"{upload.width}×{upload.height}")
    if upload.seconds is not None:
        parts.append(f"{upload.seconds:.1f} s")
    parts.append(f"{upload.size / 1_000_000:.1f} MB" if upload.size >= 100_000 else f"{upload.size / 1000:.0f} kB")
    return " · ".join(parts)


def panel(spec: catalog.ModelSpec) -> None:
    """The upload control for what ``spec`` accepts (nothing for a text-only model)."""
    if not spec.takes_media:
        return
    with st.expander(t("Upload from your computer"), icon=":material/upload_file:", expanded=True):
        with st.container(key="uploads"):
            base = provider_base()
            if base is None:
                _explain_public_url()
                return
            st.caption(
                t(
                    "Each file is checked against the provider's limits, kept on this server for 24 hours and sent "
                    "as a link that stops working once the run has finished."
                )
            )
            for kind, media in catalog.MEDIA.items():
                limits = catalog.FILE_LIMITS[kind]
                if not spec.limits(kind).accepted:
                    continue
                key = _key(kind)
                st.file_uploader(
                    t(
                        "{label} ({formats}, up to {size} MB each)",
                        label=t(media.many.capitalize()),
                        formats=", ".join(limits.formats),
                        size=f"{limits.max_bytes / 1_000_000:g}",
                    ),
                    type=list(limits.suffixes),
                    accept_multiple_files=True,
                    key=key,
                    on_change=_received,
                    args=(kind, key, base),
                )
            for name, message in st.session_state.pop(_MESSAGES, []):
                st.warning(f"{md(name, 80)}: {md(message, 300)}" if name else md(message, 300), icon=":material/block:")
            _previews(spec)


def _previews(spec: catalog.ModelSpec) -> None:
    data_dir, origin = load_settings().data_dir, _page_origin()
    for kind, media in catalog.MEDIA.items():
        if not spec.limits(kind).accepted:
            continue
        for link in _lines(st.session_state.get(media.field)):
            token = uploads.token_of(link)
            upload = uploads.load(data_dir, token) if token else None
            if upload is not None:
                _preview(upload, origin)

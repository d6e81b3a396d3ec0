"""The request we send: ``GenerationRequest`` with every documented rule, and its messages for people.

``GenerationRequest`` enforces every documented rule before a credit is spent, and
its messages are written for the person at the keyboard, not for a developer: each
names the field and says what is allowed.

Example:
    >>> req = GenerationRequest(model="seedance-2.0-text-to-video", prompt="A cat", duration=8)
    >>> req.to_payload()
    {'model': 'seedance-2.0-text-to-video', 'prompt': 'A cat', 'duration': 8}
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from lib import catalog
from lib.i18n import t
from lib.net import is_public_host
from lib.text import count_cjk, shorten

CALLBACK_URL_MAX = 2048


def approx_tokens(text: str) -> int:
    """A deliberately generous estimate of the prompt's token count.

    The provider does not publish its tokenizer. Common tokenizers use about one
    token per Chinese/Japanese/Korean character and about four characters of other
    text per token; counting exactly that way over-estimates English a little, so a
    prompt we accept is very unlikely to be rejected upstream.

    >>> approx_tokens("abcd efgh")
    3
    >>> approx_tokens("你好")
    2
    """
    cjk = count_cjk(text, letters_only=False)
    other = len(text) - cjk
    return cjk + math.ceil(other / 4)


def _shown(value: Any, limit: int = 60) -> str:
    """The user's value as quoted in a message, cut short: a 4 KB paste must not become a 4 KB message."""
    return shorten(repr(value), limit)


def _err(code: str, message: str, **params: Any) -> PydanticCustomError:
    # PydanticCustomError keeps our sentence as the whole message (no "Value error," prefix);
    # ``message`` is English with {placeholders}, said in the reader's language (lib.i18n).
    return PydanticCustomError(code, t(message, **params))


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class GenerationRequest(BaseModel):
    """One video generation request, validated against the model it names.

    Fields left as None are not sent: the API applies its own defaults
    (``lib.catalog.DEFAULTS``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    prompt: str
    duration: int | None = None
    quality: str | None = None
    aspect_ratio: str | None = None
    generate_audio: bool | None = None
    content_filter: bool | None = None
    web_search: bool | None = None
    image_urls: tuple[str, ...] | None = None
    video_urls: tuple[str, ...] | None = None
    audio_urls: tuple[str, ...] | None = None
    callback_url: str | None = None

    # --- single fields -------------------------------------------------------------

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, v: Any) -> str:
        if not isinstance(v, str) or v not in catalog.MODELS:
            raise _err(
                "model",
                "Model: choose one of the 9 Seedance 2.0 models, for example {model}.",
                model=catalog.DEFAULT_MODEL,
            )
        return v

    @field_validator("prompt", mode="before")
    @classmethod
    def _prompt(cls, v: Any) -> str:
        if not isinstance(v, str) or not v.strip():
            raise _err("prompt_empty", "Prompt: write what should happen in the video; it cannot be empty.")
        tokens = approx_tokens(v)
        if tokens > catalog.PROMPT_MAX_TOKENS:
            raise _err(
                "prompt_too_long",
                "Prompt: about {tokens:,} tokens, over the limit of "
                "{limit:,}. Shorten it; under 1000 English words "
                "or 500 Chinese characters works best.",
                tokens=tokens,
                limit=catalog.PROMPT_MAX_TOKENS,
            )
        return v

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> int | None:
        if v is None:
            return None
        lo, hi = catalog.DURATION_MIN, catalog.DURATION_MAX
        if type(v) is not int or not lo <= v <= hi:
            raise _err(
                "duration",
                "Duration: a whole number of seconds from {lo} to {hi} (you gave {value}).",
                lo=lo,
                hi=hi,
                value=_shown(v),
            )
        return v

    @field_validator("quality", mode="before")
    @classmethod
    def _quality(cls, v: Any) -> str | None:
        if v is not None and v not in catalog.QUALITIES:
            raise _err(
                "quality",
                "Quality: choose {options} (you gave {value}).",
                options=", ".join(catalog.QUALITIES),
                value=_shown(v),
            )
        return v

    @field_validator("aspect_ratio", mode="before")
    @classmethod
    def _aspect_ratio(cls, v: Any) -> str | None:
        if v is not None and v not in catalog.ASPECT_RATIOS:
            raise _err(
                "aspect_ratio",
                "Aspect ratio: choose one of {options} (you gave {value}).",
                options=", ".join(catalog.ASPECT_RATIOS),
                value=_shown(v),
            )
        return v

    @field_validator("generate_audio", "content_filter", "web_search", mode="before")
    @classmethod
    def _switch(cls, v: Any, info: ValidationInfo) -> bool | None:
        if v is not None and type(v) is not bool:
            name = str(info.field_name).replace("_", " ").capitalize()
            raise _err(
                "switch", "{name}: must be on or off (true or false), not {value}.", name=t(name), value=_shown(v)
            )
        return v

    @field_validator("image_urls", "video_urls", "audio_urls", mode="before")
    @classmethod
    def _media(cls, v: Any, info: ValidationInfo) -> tuple[str, ...] | None:
        if v is None:
            return None
        media = catalog.MEDIA_BY_FIELD[str(info.field_name)]
        one, many = media.one, media.many
        if isinstance(v, str) or not isinstance(v, (list, tuple)):
            raise _err("media", "{many}: give a list of web links (URLs).", many=t(many.capitalize()))
        for i, url in enumerate(v, 1):
            if not isinstance(url, str) or not _is_http_url(url.strip()):
                raise _err(
                    "media_url",
                    "{one} {i}: must be a web link starting with http:// or https:// (you gave {value}).",
                    one=t(one.capitalize()),
                    i=i,
                    value=repr(shorten(str(url), 80)),
                )
        # An empty list means "none": left out of the body, like a field never set.
        return tuple(u.strip() for u in v) or None

    @field_validator("callback_url", mode="before")
    @classmethod
    def _callback_url(cls, v: Any) -> str | None:
        if v is None:
            return None
        if not isinstance(v, str):
            raise _err("callback_url", "Callback URL: must be a web address starting with https://.")
        v = v.strip()
        if len(v) > CALLBACK_URL_MAX:
            raise _err(
                "callback_url_length",
                "Callback URL: at most {limit} characters (this one has {n}).",
                limit=CALLBACK_URL_MAX,
                n=len(v),
            )
        parts = urlsplit(v)
        if parts.scheme != "https" or not parts.hostname:
            raise _err("callback_url_https", "Callback URL: must start with https:// (plain http is refused).")
        if not is_public_host(parts.hostname):
            raise _err(
                "callback_url_private",
                "Callback URL: must be a public address the provider can reach, not "
                "localhost or a private network address ({host}).",
                host=parts.hostname,
            )
        return v

    # --- rules across fields -----------------------------------------------------------

    @model_validator(mode="before")
    @classmethod
    def _drop_web_search_off(cls, data: Any) -> Any:
        # "Web search off" on a model without web search is a no-op: model_params is
        # documented for the standard and fast text-to-video models only, so never send it.
        if isinstance(data, dict) and data.get("web_search") is False:
            model = data.get("model")
            spec = catalog.MODELS.get(model) if isinstance(model, str) else None
            if spec is not None and not spec.web_search:
                data = {k: v for k, v in data.items() if k != "web_search"}
        return data

    @model_validator(mode="after")
    def _fits_model(self) -> GenerationRequest:
        spec = catalog.MODELS[self.model]
        if self.quality is not None and self.quality not in spec.qualities:
            raise _err(
                "quality_model",
                "Quality: {model} offers {offered}; {quality} needs a standard model.",
                model=spec.label,
                offered=t(" or ").join(spec.qualities),
                quality=self.quality,
            )
        if self.web_search and not spec.web_search:
            raise _err(
                "web_search_model",
                "Web search: only the standard and fast text-to-video models offer it, not {model}.",
                model=spec.label,
            )
        counts: dict[str, int] = {}
        for kind, media in catalog.MEDIA.items():
            urls = getattr(self, media.field)
            n = len(urls) if urls is not None else 0
            counts[kind] = n
            limits, many = spec.limits(kind), media.many
            if n and not limits.accepted:
                where = "an image-to-video or reference-to-video" if kind == "image" else "a reference-to-video"
                raise _err(
                    "media_model",
                    "{Many}: {model} does not take {many}; choose {where} model for them.",
                    Many=t(many.capitalize()),
                    model=spec.label,
                    many=t(many),
                    where=t(where),
                )
            if limits.accepted and not limits.min <= n <= limits.max:
                rng = (
                    t("{lo} to {hi}", lo=limits.min, hi=limits.max) if limits.min else t("at most {hi}", hi=limits.max)
                )
                raise _err(
                    "media_count",
                    "{Many}: {model} takes {range} {many} (you gave {n}).",
                    Many=t(many.capitalize()),
                    model=spec.label,
                    range=rng,
                    many=t(many),
                    n=n,
                )
        if spec.needs_image_or_video and counts["image"] + counts["video"] == 0:
            raise _err(
                "media_visual",
                "Media: {model} needs at least one image or video (audio cannot be used alone)."
                if counts["audio"]
                else "Media: {model} needs at least one image or video.",
                model=spec.label,
            )
        return self

    # --- derived values ------------------------------------------------------------

    @property
    def spec(self) -> catalog.ModelSpec:
        return catalog.MODELS[self.model]

    def effective(self, field: str) -> Any:
        """The value the API will use: the one set here, else the API's default."""
        value = getattr(self, field)
        return catalog.DEFAULTS[field] if value is None else value

    def to_payload(self) -> dict[str, Any]:
        """The exact JSON body for ``POST /v1/videos/generations``."""
        body: dict[str, Any] = {"model": self.model, "prompt": self.prompt}
        for field in ("duration", "quality", "aspect_ratio", "generate_audio", "content_filter"):
            value = getattr(self, field)
            if value is not None:
                body[field] = value
        for field in catalog.MEDIA_BY_FIELD:
            value = getattr(self, field)
            if value is not None:
                body[field] = list(value)
        if self.web_search is not None:
            body["model_params"] = {"web_search": self.web_search}
        if self.callback_url is not None:
            body["callback_url"] = self.callback_url
        return body

    @classmethod
    def from_payload(cls, body: dict[str, Any]) -> GenerationRequest:
        """Parse a JSON body as the API receives it (``model_params`` included)."""
        if not isinstance(body, dict):
            raise _validation_error(
                "request", "request", "Request: must be a JSON object of settings (model, prompt, ...).", body
            )
        data = dict(body)
        params = data.pop("model_params", None)
        if params is not None:
            if not isinstance(params, dict) or set(params) - {"web_search"}:
                raise _validation_error(
                    "model_params",
                    "model_params",
                    "Model params: only web_search (true or false) is supported.",
                    params,
                )
            if "web_search" in params:
                data["web_search"] = params["web_search"]
        return cls.model_validate(data)


def _validation_error(field: str, code: str, message: str, value: Any) -> ValidationError:
    # A real ValidationError (a ValueError too), so callers handle every invalid body one way.
    detail = InitErrorDetails(type=_err(code, message), loc=(field,), input=value)
    return ValidationError.from_exception_data(GenerationRequest.__name__, [detail])


def error_messages(exc: ValidationError) -> dict[str, str]:
    """Plain messages by field name (``"request"`` for rules across fields).

    >>> try:
    ...     GenerationRequest(model="seedance-2.0-text-to-video", prompt="x", duration=3)
    ... except ValidationError as e:
    ...     error_messages(e)["duration"]
    'Duration: a whole number of seconds from 4 to 15 (you gave 3).'
    """
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = err.get("loc") or ()
        field = str(loc[0]) if loc else _field_of(err)
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(GenerationRequest.model_fields)
            msg = t("{field}: is not a setting of this API; the settings are {allowed}.", field=field, allowed=allowed)
        elif err["type"] == "missing":
            msg = t("{field}: is required.", field=field.capitalize())
        elif err["type"] in ("model_type", "dict_type", "model_attributes_type"):
            msg = t("Request: must be a set of named settings (model, prompt, ...).")
        else:
            msg = err["msg"]
        out.setdefault(field, msg)
    return out


def _field_of(err: ErrorDetails) -> str:
    # Cross-field rules carry no location; map their codes to the field a user fixes.
    return {
        "quality_model": "quality",
        "web_search_model": "web_search",
        "media_model": "media",
        "media_count": "media",
        "media_visual": "media",
    }.get(err["type"], "request")

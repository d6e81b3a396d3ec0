"""CSV batches: read prompts and settings from a spreadsheet, and check and price every row before anything is sent.

The file needs a ``prompt`` column; the other columns are optional settings
(``COLUMNS``). Headers are matched ignoring case, spaces and hyphens; a model may be
written as its id or as the Studio shows it ("Text to video · fast"); switches
accept yes/no, true/false, on/off and 1/0; image, video and audio link columns take
one or more links separated by spaces, line breaks or ``|``; a blank cell means the
default.

Example:
    >>> batch = parse_csv("Prompt, Duration ,quality\\nA fox in snow,8,\\nA boat,16,480p\\n")
    >>> [(row.line, row.valid) for row in batch.rows]
    [(2, True), (3, False)]
    >>> batch.rows[1].errors["duration"]
    'Duration: a whole number of seconds from 4 to 15 (you gave 16).'
    >>> batch.total.lines == [("Row 2: A fox in snow", batch.rows[0].estimate.credits)]
    True
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pydantic import ValidationError

from lib import catalog, drafts, pricing
from lib.hints import Hint, lint
from lib.i18n import t
from lib.schema import GenerationRequest, error_messages
from lib.text import one_line, shorten

SETTINGS = ("model", "duration", "quality", "aspect_ratio", "generate_audio", "content_filter", "web_search")
LINKS = tuple(catalog.MEDIA_BY_FIELD)  # image_urls, video_urls, audio_urls
COLUMNS = ("prompt", *SETTINGS, *LINKS)
SWITCHES = ("generate_audio", "content_filter", "web_search")


def _link_aliases(media: catalog.MediaKind) -> tuple[str, ...]:
    """What people call a column of links: image, images, image_url, image links, ..."""
    return (media.kind, media.many.replace(" ", "_"), f"{media.kind}_url", f"{media.kind}_links", f"{media.kind}s")


# Headers people write for the same column.
ALIASES = {
    "audio": "generate_audio",
    "ratio": "aspect_ratio",
    "aspect": "aspect_ratio",
    "filter": "content_filter",
    "search": "web_search",
    "seconds": "duration",
    "resolution": "quality",
    **{alias: media.field for media in catalog.MEDIA.values() for alias in _link_aliases(media)},
}
TRUE_WORDS = frozenset({"yes", "y", "true", "t", "on", "1"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "off", "0"})

UNKNOWN_MODEL = "Model: {given!r} is not a Seedance 2.0 model. Write it as the Studio shows it ({labels}) or as its id."

MAX_ROWS = 200  # one batch is one confirmation: keep it to what a person can review
MAX_BYTES = 5_000_000  # far above any real prompt sheet; stops a wrong file early
PREVIEW_CHARS = 200  # prompts are shortened on screen, never in the request
LABEL_CHARS = 40  # a row's prompt as a line of the total


@dataclass
class BatchRow:
    """One CSV row: its line in the file, the request (or the messages saying why not), hints and cost."""

    line: int
    prompt: str
    values: dict[str, Any]
    request: GenerationRequest | None
    errors: dict[str, str] = field(default_factory=dict)
    hints: list[Hint] = field(default_factory=list)
    estimate: pricing.Estimate | None = None

    @property
    def valid(self) -> bool:
        return self.request is not None

    @property
    def preview(self) -> str:
        return one_line(self.prompt, PREVIEW_CHARS)

    @property
    def label(self) -> str:
        return t("Row {n}: {prompt}", n=self.line, prompt=one_line(self.prompt, LABEL_CHARS))


@dataclass
class Batch:
    """A parsed CSV: its rows and any problem with the file as a whole."""

    rows: list[BatchRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def valid_rows(self) -> list[BatchRow]:
        return [r for r in self.rows if r.valid]

    @property
    def total(self) -> pricing.Estimate:
        """What sending the valid rows costs, a line per row."""
        priced = [(r.label, r.estimate) for r in self.valid_rows if r.estimate is not None]
        return pricing.batch_total([e for _, e in priced], [label for label, _ in priced])


def normalise_header(name: object) -> str:
    """``' Aspect Ratio '`` -> ``'aspect_ratio'``; known aliases map to their column."""
    key = "_".join(str(name).strip().lower().replace("-", " ").split())
    return ALIASES.get(key, key)


def parse_switch(column: str, raw: str) -> bool | None:
    """yes/no, true/false, on/off, 1/0 (any case) as a bool; blank as None (the default)."""
    word = raw.strip().lower()
    if not word:
        return None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    name = column.replace("_", " ").capitalize()
    given = repr(shorten(raw.strip(), 40))
    raise ValueError(t("{name}: write yes or no (or true/false, 1/0), not {value}.", name=t(name), value=given))


def _duration(raw: str) -> Any:
    text = raw.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return shorten(text, 40)  # the schema's message names what was given
    # Spreadsheets write 8 as 8.0; anything else stays as given for the schema to refuse.
    return int(number) if number.is_integer() else number


def _values(cells: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Request fields from one row's text cells, and the cells that could not be read."""
    values: dict[str, Any] = {"prompt": cells.get("prompt", "").strip()}
    errors: dict[str, str] = {}
    model = cells.get("model", "").strip()
    # An id, or the model as the Studio shows it; blank is the default model.
    found = drafts.choice("model", model.lower()) or drafts.choice("model", model) if model else catalog.DEFAULT_MODEL
    values["model"] = found or shorten(model, 80)
    if not found:
        labels = ", ".join(m.label for m in catalog.MODELS.values())
        errors["model"] = t(UNKNOWN_MODEL, given=shorten(model, 40), labels=labels)
    if cells.get("duration", "").strip():
        values["duration"] = _duration(cells["duration"])
    if cells.get("quality", "").strip():
        values["quality"] = shorten(cells["quality"].strip().lower(), 40)
    if cells.get("aspect_ratio", "").strip():
        values["aspect_ratio"] = shorten(cells["aspect_ratio"].strip(), 40)
    for column in SWITCHES:
        try:
            value = parse_switch(column, cells.get(column, ""))
        except ValueError as exc:
            errors[column] = str(exc)
        else:
            if value is not None:
                values[column] = value
    for column in LINKS:
        links = parse_links(cells.get(column, ""))
        if links:
            values[column] = links
    return values, errors


def parse_links(raw: str) -> tuple[str, ...]:
    r"""Links in one cell, separated by spaces, line breaks or ``|`` (a comma can be part of a link).

    >>> parse_links(" https://a.test/1.png | https://a.test/2.png\nhttps://a.test/3.png ")
    ('https://a.test/1.png', 'https://a.test/2.png', 'https://a.test/3.png')
    """
    return tuple(link[:2048] for link in raw.replace("|", " ").split())


def parse_row(line: int, cells: dict[str, str]) -> BatchRow:
    """Check and price one row; every message a person needs is on the row."""
    values, errors = _values(cells)
    request = None
    try:
        request = GenerationRequest(**values)
    except ValidationError as exc:
        for name, message in error_messages(exc).items():
            errors.setdefault(name, message)
    if errors:
        request = None
    row = BatchRow(line=line, prompt=values["prompt"], values=values, request=request, errors=errors)
    if "prompt" not in errors and values["model"] in catalog.MODELS:
        counts = {media.limits: len(values.get(media.field, ())) for media in catalog.MEDIA.values()}
        row.hints = lint(
            values["prompt"],
            model=values["model"],
            web_search=bool(values.get("web_search")),
            aspect_ratio=values.get("aspect_ratio"),
            quality=values.get("quality"),
            **counts,
        )
    if request is not None:
        row.estimate = pricing.estimate(request)
    return row


def parse_csv(data: bytes | str) -> Batch:
    """Every row of a CSV file, checked and priced; file-level problems in ``.problems``."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        return Batch(
            problems=[
                t(
                    "The file is {size} MB; a batch file can be at most {limit} MB.",
                    size=f"{len(raw) / 1e6:.1f}",
                    limit=f"{MAX_BYTES / 1e6:.0f}",
                )
            ]
        )
    try:
        # Everything as text, blanks as "": each cell is read by the rules above, not guessed by pandas.
        df = pd.read_csv(
            io.BytesIO(raw), dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=False
        )  # keeps line numbers true to the file
    except pd.errors.EmptyDataError:
        return Batch(problems=[t("The file is empty: it needs a header row with a prompt column.")])
    except UnicodeDecodeError:
        return Batch(problems=[t("The file is not UTF-8 text: save it from your spreadsheet as “CSV UTF-8”.")])
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        return Batch(problems=[t("The file could not be read as CSV ({error}).", error=one_line(exc, 200))])

    headers = [normalise_header(h) for h in df.columns]
    problems = []
    if "prompt" not in headers:
        return Batch(
            problems=[
                t("The file needs a column named prompt (one prompt per row). Download the template to start from.")
            ]
        )
    seen: set[str] = set()
    keep: dict[str, int] = {}
    for i, name in enumerate(headers):
        if name in seen:
            problems.append(t("The column {name} appears twice; the first one is used.", name=name))
        elif name in COLUMNS:
            keep[name] = i
        elif not name.startswith("unnamed"):
            problems.append(
                t(
                    "The column {name} is not a setting and was ignored (settings: {settings}).",
                    name=repr(shorten(str(df.columns[i]).strip(), 40)),
                    settings=", ".join(COLUMNS),
                )
            )
        seen.add(name)
    if len(df) > MAX_ROWS:
        problems.append(
            t(
                "The file has {n:,} rows; only the first {limit} were read. Split it into several batches.",
                n=len(df),
                limit=MAX_ROWS,
            )
        )
    rows = []
    for n, record in enumerate(df.itertuples(index=False)):
        if n >= MAX_ROWS:
            break
        cells = {name: str(record[i]) for name, i in keep.items()}
        if not any(v.strip() for v in cells.values()):
            continue  # a row of empty cells is spacing, not a run
        rows.append(parse_row(n + 2, cells))  # +2: the header is line 1, as a spreadsheet numbers rows
    if not rows:
        problems.append(t("The file has no rows with a prompt."))
    return Batch(rows=rows, problems=problems)


def template_csv() -> bytes:
    """A CSV to start from: every column, three example rows (one for an image model), blank cells the defaults."""
    df = pd.DataFrame(
        [
            {
                "prompt": 'A lighthouse keeper at dusk says "Storm tonight." Slow dolly in, warm lamplight.',
                "model": catalog.DEFAULT_MODEL,
                "duration": 5,
                "quality": "720p",
                "aspect_ratio": "16:9",
                "generate_audio": "yes",
                "content_filter": "yes",
                "web_search": "no",
                "image_urls": "",
                "video_urls": "",
                "audio_urls": "",
            },
            {
                "prompt": "A paper boat drifts down a rainy street gutter, low angle, tracking shot.",
                "model": "seedance-2.0-fast-text-to-video",
                "duration": 4,
                "quality": "480p",
                "aspect_ratio": "9:16",
                "generate_audio": "no",
                "content_filter": "",
                "web_search": "",
                "image_urls": "",
                "video_urls": "",
                "audio_urls": "",
            },
            {
                "prompt": "@image1 comes to life: the girl in the photo turns and waves, soft window light.",
                "model": "Image to video · fast",
                "duration": 5,
                "quality": "720p",
                "aspect_ratio": "adaptive",
                "generate_audio": "yes",
                "content_filter": "",
                "web_search": "",
                "image_urls": catalog.MEDIA["image"].example,
                "video_urls": "",
                "audio_urls": "",
            },
        ],
        columns=list(COLUMNS),
    )
    return df.to_csv(index=False).encode("utf-8")

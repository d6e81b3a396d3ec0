"""The synced player: every cell of a comparison in one iframe, with one play/pause, one seek bar and one sound.

One iframe (not one ``st.video`` per cell) because only a script that sees every
``<video>`` can start, pause and seek them together. Every label and message is
escaped: prompts and server errors are user or server text, never HTML.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import streamlit as st

from components import inline
from lib.i18n import t

WINNER = "&#127942; Winner ·"  # the mark on the winning cell (a trophy)
VIDEO_HEIGHT = 220  # px per cell; fixed so the iframe's height is known without measuring
_ROW_EXTRA = 44  # the caption under each video
_CHROME = 120  # controls and column headers


@dataclass(frozen=True)
class PlayerCell:
    """What one grid cell shows: a video URL, or a status line instead."""

    row: int
    col: int
    label: str
    src: str | None = None
    status: str = ""
    winner: bool = False


_STYLE = """
body{margin:0;font-family:"Source Sans Pro",system-ui,sans-serif;color:#262730;background:transparent}
#controls{display:flex;gap:.75rem;align-items:center;padding:.5rem 0;flex-wrap:wrap}
#controls button{font:inherit;padding:.3rem .9rem;border:1px solid #bbb;border-radius:.5rem;
 background:#fff;cursor:pointer}
#seek{flex:1;min-width:160px}
table{border-collapse:separate;border-spacing:8px;width:100%;table-layout:fixed}
th{font-weight:600;text-align:center;font-size:.95rem}
th.row{text-align:right;width:9rem;vertical-align:middle}
td{vertical-align:top}
figure{margin:0}
video{width:100%;height:%(h)dpx;background:#000;border-radius:.4rem;object-fit:contain}
figcaption{font-size:.85rem;padding-top:.2rem}
td.winner video,td.winner .status{outline:4px solid #f0b400;outline-offset:2px}
td.winner figcaption{font-weight:600}
.status{height:%(h)dpx;display:flex;align-items:center;justify-content:center;text-align:center;
 background:#f0f2f6;border-radius:.4rem;padding:0 .6rem;font-size:.9rem}
"""

# Keeps every video on the time of the "lead" (the one we hear): play/pause/seek act on
# all, and drift beyond a frame or two is pulled back while they play.
_SCRIPT = inline.script_text("compare_player")


def player_html(cells: list[PlayerCell], row_labels: list[str], col_labels: list[str]) -> str:
    """The whole player document; ``cells`` in any order, placed by row and column."""
    e = html.escape
    by_place = {(c.row, c.col): c for c in cells}
    playable = [c for c in sorted(cells, key=lambda c: (c.row, c.col)) if c.src]
    index = {(c.row, c.col): i for i, c in enumerate(playable)}
    one_axis = col_labels == [""]

    def caption(cell: PlayerCell) -> str:
        return f"{WINNER} {e(cell.label)}" if cell.winner else e(cell.label)

    def td(cell: PlayerCell) -> str:
        return '<td class="winner">' if cell.winner else "<td>"

    head = "" if one_axis else "<tr><th></th>" + "".join(f"<th>{e(label)}</th>" for label in col_labels) + "</tr>"
    body = []
    for r, row_label in enumerate(row_labels):
        tds = []
        for c in range(len(col_labels)):
            cell = by_place.get((r, c))
            if cell is None:
                tds.append("<td></td>")
            elif cell.src:
                tds.append(
                    f'{td(cell)}<figure><video data-cell="{index[(r, c)]}" src="{e(cell.src)}" '
                    f'aria-label="{e(cell.label)}" title="{e(cell.label)}" muted playsinline preload="auto"></video>'
                    f"<figcaption>{caption(cell)}</figcaption></figure></td>"
                )
            else:
                tds.append(
                    f'{td(cell)}<div class="status">{e(cell.status)}</div><figcaption>{caption(cell)}</figcaption></td>'
                )
        body.append(f'<tr><th class="row">{e(row_label)}</th>{"".join(tds)}</tr>')
    options = "".join(f'<option value="{i}">{e(c.label)}</option>' for i, c in enumerate(playable))
    # The script reads its words from the controls' data attributes, in the page's language.
    play, pause, sec = e(t("Play")), e(t("Pause")), e(t("s"))
    controls = (
        f'<div id="controls" data-play="{play}" data-pause="{pause}" data-s="{sec}">'
        f'<button id="play" type="button">&#9654; {play}</button>'
        f'<input id="seek" type="range" min="0" max="1000" value="0" aria-label="{e(t("Seek all videos"))}">'
        f'<span id="clock">0.0 {sec}</span>'
        f'<label>{e(t("Sound from"))} <select id="sound">{options}</select></label></div>'
    )
    style = _STYLE.replace("%(h)d", str(VIDEO_HEIGHT))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{style}</style></head><body>"
        f"{controls}<table>{head}{''.join(body)}</table><script>{_SCRIPT}</script></body></html>"
    )


def height(n_rows: int) -> int:
    return _CHROME + n_rows * (VIDEO_HEIGHT + _ROW_EXTRA)


def player(cells: list[PlayerCell], row_labels: list[str], col_labels: list[str]) -> None:
    """Render the synced player (an iframe that only reloads when its cells change)."""
    # st.iframe is what st.components.v1.html became (the latter is deprecated in 1.67): same iframe, same script.
    st.iframe(player_html(cells, row_labels, col_labels), height=height(len(row_labels)))

"""Rebuild ``NotoSansSC-Slate.otf``: the slate font, a subset of Noto Sans CJK SC Regular (SIL OFL 1.1).

Keeps what demo prompts need: printable ASCII, Latin-1, general and CJK punctuation,
full-width forms, and the 3,755 most common Chinese characters (level 1 of GB 2312)
plus every character of the app's Chinese screen words. Needs fontTools and the
full font (Debian: ``apt-get install fonts-noto-cjk python3-fonttools``)::

    python3 tools/make_slate_font.py [/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]

The app itself needs neither: it ships the result.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parents[1]
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
TARGET = ROOT / "lib" / "simulator" / "fonts" / "NotoSansSC-Slate.otf"


def common_hanzi() -> str:
    """GB 2312 level 1: rows 16–55, cells 1–94 (row 55 stops at cell 89)."""
    chars = []
    for row in range(0xB0, 0xD8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.append(bytes([row, cell]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(chars)


def wanted() -> set[int]:
    points = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | set(range(0x2000, 0x2070))
    points |= set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0)) | {0x2026, 0x00B7, 0x00D7, 0x2192}
    points |= {ord(c) for c in common_hanzi()}
    with (ROOT / "lib" / "i18n" / "zh.toml").open("rb") as fh:
        for text in tomllib.load(fh).values():
            points |= {ord(c) for c in str(text)}
    return points


def main(source: Path = SOURCE) -> None:
    collection = TTCollection(str(source))
    font = next(f for f in collection.fonts if "SC" in f["name"].getDebugName(1))
    options = subset.Options()
    options.layout_features = ["kern", "palt", "vert"]
    options.name_IDs = ["*"]  # keep the copyright and licence records
    options.hinting = False
    sub = subset.Subsetter(options)
    sub.populate(unicodes=wanted())
    sub.subset(font)
    font.save(str(TARGET))
    print(f"{TARGET.name}: {len(font.getGlyphOrder())} glyphs, {TARGET.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)

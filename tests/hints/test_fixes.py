"""apply_fixes: overlapping and duplicate fixes, and hints without one."""

from __future__ import annotations

from lib.hints import Hint, apply_fixes


def test_apply_fixes_skips_overlapping_and_keeps_first():
    prompt = "abcdef"
    hints = [
        Hint("x", "info", "", 1, 3, "X"),
        Hint("y", "info", "", 2, 4, "Y"),  # overlaps x: skipped
        Hint("z", "info", "", 4, 6, ""),
        Hint("n", "info", "", 0, 1, None),  # no fix: ignored
    ]
    assert apply_fixes(prompt, hints) == "aXd"


def test_apply_fixes_with_no_hints_returns_prompt():
    assert apply_fixes("A cat", []) == "A cat"

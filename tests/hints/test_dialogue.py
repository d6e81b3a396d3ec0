"""Dialogue: quotes Seedance voices and quotes it does not."""

from __future__ import annotations

from . import hints_of


def test_one_curly_hint_per_quoted_segment():
    prompt = "他说：“走”。她说：“不”。"
    found = hints_of(prompt, "curly-quotes")
    assert [prompt[h.start : h.end] for h in found] == ["“走”", "“不”"]

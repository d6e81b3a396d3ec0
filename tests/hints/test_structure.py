"""The prompt as a whole: timestamps, length, the counter, and subject / action / camera / lighting coaching."""

from __future__ import annotations

import pytest

from lib.hints import PromptStats, lint, stats

from . import TEXT, hints_of


def test_timestamps_are_info_one_per_stamp():
    prompt = "0-3s: a man walks. 3-6s: he turns. [00:07] he sits."
    found = hints_of(prompt, "timestamps")
    assert [prompt[h.start : h.end] for h in found] == ["0-3s", "3-6s", "[00:07]"]
    assert {h.severity for h in found} == {"info"}
    assert "Shot 1" in found[0].message


# --------------------------------------------------------------------------------------
# Length, emptiness, counter
# --------------------------------------------------------------------------------------


def test_empty_prompt_is_one_error():
    for blank in ("", "   ", "\n\t"):
        (h,) = lint(blank, model=TEXT)
        assert (h.code, h.severity, h.start, h.end) == ("empty-prompt", "error", 0, len(blank))


@pytest.mark.parametrize(
    ("prompt", "too_long"),
    [
        ("word " * 1000, False),
        ("word " * 1001, True),
        ("猫" * 500, False),
        ("猫" * 501, True),
        # mixed: each language uses its own share of the budget
        ("word " * 600 + "猫" * 250, True),
        ("word " * 400 + "猫" * 250, False),
    ],
)
def test_too_long(prompt, too_long):
    found = hints_of(prompt, "too-long")
    assert bool(found) == too_long
    if found:
        assert (found[0].severity, found[0].start, found[0].end) == ("warning", 0, len(prompt))


def test_stats_counts_and_limit():
    s = stats("A cat naps")
    assert (s.characters, s.words, s.cjk, s.limit, s.unit, s.used, s.over) == (10, 3, 0, 1000, "words", 3, False)
    assert s.text == "3 / 1000 words"
    z = stats("一只猫在睡觉")
    assert (z.words, z.cjk, z.limit, z.unit, z.used) == (0, 6, 500, "Chinese characters", 6)
    m = stats("word " * 600 + "猫" * 250)
    assert (m.words, m.cjk, m.used, m.over) == (600, 250, 1100, True)
    assert isinstance(stats(""), PromptStats) and stats("").used == 0
    assert stats("你好").tokens == 2


# --------------------------------------------------------------------------------------
# Structure coaching
# --------------------------------------------------------------------------------------

# How each part appears in the "Consider adding …" half of the message.
PART = {"subject": "who or what", "action": "what happens", "camera": "camera language", "lighting": "lighting ("}

STRUCTURE_CASES = [
    # (prompt, parts reported missing; None = no structure hint at all)
    ("A cat", None),  # still being typed
    ("A girl walks along the beach, close-up, golden hour light", None),
    ("一个女孩在海边奔跑，特写镜头，夕阳光线", None),
    ("A red car on a road", {"action", "camera", "lighting"}),
    ("A luxury watch rotating slowly on marble, soft studio lighting", {"camera"}),
    ("slow dolly in, golden hour lighting, cinematic", {"subject", "action"}),
    ("一只橘猫在窗台上睡觉，阳光洒进来", {"camera"}),
    ("A man walks, aerial tracking shot", {"lighting"}),
]


@pytest.mark.parametrize(("prompt", "missing"), STRUCTURE_CASES)
def test_structure(prompt, missing):
    found = hints_of(prompt, "structure")
    if missing is None:
        assert found == []
        return
    (h,) = found
    assert (h.severity, h.start, h.end, h.fix) == ("info", 0, 0, None)
    advice = h.message.split("Consider adding", 1)[1]
    assert {part for part, words in PART.items() if words in advice} == missing

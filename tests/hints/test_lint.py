"""lint() end to end: what fires, where, with which fix, what must stay quiet; and the contract itself."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import pytest

import lib.hints
from lib import catalog
from lib.hints import apply_fixes, lint

from . import TEXT, codes, hints_of

# --------------------------------------------------------------------------------------
# One offending piece of text per prompt: code, exact span, exact fix.
# --------------------------------------------------------------------------------------

SPAN_CASES = [
    # curly quotes, in every style the brief names, English and Chinese
    ("She says: “Hello there.”", "curly-quotes", "“Hello there.”", '"Hello there."'),
    ("她说：“你好”", "curly-quotes", "“你好”", '"你好"'),
    ("Er sagt: „Komm her“", "curly-quotes", "„Komm her“", '"Komm her"'),
    ("Il dit : « Viens ici »", "curly-quotes", "« Viens ici »", '" Viens ici "'),
    ("「走吧」她说。", "curly-quotes", "「走吧」", '"走吧"'),
    ("他低声说：『别动』", "curly-quotes", "『别动』", '"别动"'),
    ("She whispers ‘it’s late’ to him.", "curly-quotes", "‘it’s late’", '"it’s late"'),
    # single quotes used as speech
    ("She said 'it's fine' and left.", "single-quoted-dialogue", "'it's fine'", '"it\'s fine"'),
    ("He yells at the dog 'stop barking'", "single-quoted-dialogue", "'stop barking'", '"stop barking"'),
    ("Narrator: 'the city sleeps'", "single-quoted-dialogue", "'the city sleeps'", '"the city sleeps"'),
    ("The old man calls out, 'who goes there?'", "single-quoted-dialogue", "'who goes there?'", '"who goes there?"'),
    # unquoted speech: no fix, the span is the words to wrap
    ("他大喊：快跑！", "unquoted-dialogue", "快跑！", None),
    ("She says: run now! Then she leaves.", "unquoted-dialogue", "run now!", None),
    ("Narrator: the city sleeps", "unquoted-dialogue", "the city sleeps", None),
    ("A quiet street at night. Old man: go home now.", "unquoted-dialogue", "go home now.", None),
    ("He turns to her and whispers softly: come closer", "unquoted-dialogue", "come closer", None),
    ("旁白：这座城市从不睡觉。", "unquoted-dialogue", "这座城市从不睡觉。", None),
    ("A man 对她说：我们走吧。 close-up, sunset light", "unquoted-dialogue", "我们走吧。", None),
    # an odd straight quote: the span is the one without a partner
    ('He says "run', "unbalanced-quotes", '"', None),
    ('A sign reads "OPEN" and she says "wait', "unbalanced-quotes", '"', None),
    # aspect ratios: removable list items and clauses, with the words that belong to them
    ("A cat on a sofa, 16:9, soft light", "aspect-ratio-in-prompt", ", 16:9", ""),
    ("A dancer spins, 9:16 vertical", "aspect-ratio-in-prompt", ", 9:16 vertical", ""),
    ("A desert road in 2.35:1.", "aspect-ratio-in-prompt", " in 2.35:1", ""),
    ("Aspect ratio: 1:1 square", "aspect-ratio-in-prompt", "Aspect ratio: 1:1 square", ""),
    ("16:9, a fox runs through snow", "aspect-ratio-in-prompt", "16:9, ", ""),
    ("A fox runs (21:9) through snow", "aspect-ratio-in-prompt", " (21:9)", ""),
    ("A fox runs. 4:3. Snow falls.", "aspect-ratio-in-prompt", " 4:3.", ""),
    ("A harbor at dawn, 16x9", "aspect-ratio-in-prompt", ", 16x9", ""),
    ("A harbor at dawn, 16 by 9 format", "aspect-ratio-in-prompt", ", 16 by 9 format", ""),
    ("比例16:9，一只猫在窗台上睡觉", "aspect-ratio-in-prompt", "比例16:9，", ""),
    ("一只猫在窗台上睡觉，9:16竖屏", "aspect-ratio-in-prompt", "，9:16竖屏", ""),
    # inside a sentence a removal would break grammar: flag, but no fix
    ("A 16:9 shot of a cat", "aspect-ratio-in-prompt", "16:9", None),
    # resolutions
    ("A city skyline in 4K.", "resolution-in-prompt", " in 4K", ""),
    ("cinematic, 8K, shallow depth of field", "resolution-in-prompt", ", 8K", ""),
    ("A forest path, 1080p resolution, birds sing", "resolution-in-prompt", ", 1080p resolution", ""),
    ("4K footage of a city at night", "resolution-in-prompt", "4K", None),
    ("A forest path, Full HD", "resolution-in-prompt", ", Full HD", ""),
    ("城市夜景，4K高清，镜头缓慢推进，霓虹灯光", "resolution-in-prompt", "，4K高清", ""),
    # timestamps
    ("Shot 1 (0-3s): a man walks.", "timestamps", "0-3s", None),
    ("0–3 s: a door opens", "timestamps", "0–3 s", None),
    ("From 3–6 seconds the crowd cheers", "timestamps", "3–6 seconds", None),
    ("[00:03] a bird lands", "timestamps", "[00:03]", None),
    ("Then at 00:05 the glass breaks", "timestamps", "00:05", None),
    ("At 3s the lights go out", "timestamps", "At 3s", None),
    ("0-3秒：女孩转身", "timestamps", "0-3秒", None),
    ("第5秒：她笑了", "timestamps", "第5秒", None),
    # media references on a text-to-video model
    ("@image1 walks into the room", "media-reference", "@image1", None),
]


@pytest.mark.parametrize(("prompt", "code", "text", "fix"), SPAN_CASES)
def test_hint_span_and_fix(prompt, code, text, fix):
    found = hints_of(prompt, code)
    assert len(found) == 1, [(h.code, prompt[h.start : h.end]) for h in lint(prompt, model=TEXT)]
    h = found[0]
    assert prompt[h.start : h.end] == text
    assert h.fix == fix


# --------------------------------------------------------------------------------------
# apply_fixes: the exact text after every safe fix at once
# --------------------------------------------------------------------------------------

FIX_CASES = [
    ("她说：“你好”", '她说："你好"'),
    ("She says: “Hello.” Then he replies: “Bye.”", 'She says: "Hello." Then he replies: "Bye."'),
    ("She said 'it's fine' and left.", 'She said "it\'s fine" and left.'),
    ("A cat on a sofa, 16:9, soft light", "A cat on a sofa, soft light"),
    ("A dancer spins, 9:16 vertical", "A dancer spins"),
    ("A desert road in 2.35:1.", "A desert road."),
    ("16:9, a fox runs through snow", "a fox runs through snow"),
    ("A fox runs (21:9) through snow", "A fox runs through snow"),
    ("A fox runs. 4:3. Snow falls.", "A fox runs. Snow falls."),
    ("cinematic, 8K, shallow depth of field", "cinematic, shallow depth of field"),
    ("城市夜景，4K高清，镜头缓慢推进，霓虹灯光", "城市夜景，镜头缓慢推进，霓虹灯光"),
    ("比例16:9，一只猫在窗台上睡觉", "一只猫在窗台上睡觉"),
    # several rules at once, mixed languages
    (
        "Close-up of a girl at sunset. 她说：“走吧”, 4K, 9:16 vertical",
        'Close-up of a girl at sunset. 她说："走吧"',
    ),
    # nothing safe to fix: the prompt comes back unchanged
    ("他大喊：快跑！", "他大喊：快跑！"),
    ("A 16:9 shot of a cat", "A 16:9 shot of a cat"),
    ("4K footage of a city at night", "4K footage of a city at night"),
]


@pytest.mark.parametrize(("prompt", "fixed"), FIX_CASES)
def test_apply_fixes(prompt, fixed):
    assert apply_fixes(prompt, lint(prompt, model=TEXT)) == fixed


def test_fixed_prompt_lints_clean_of_fixed_codes():
    prompt = "A girl runs, close-up, golden hour. 她说：“走吧”, 4K, 9:16 vertical"
    fixed = apply_fixes(prompt, lint(prompt, model=TEXT))
    assert not {"curly-quotes", "resolution-in-prompt", "aspect-ratio-in-prompt"} & set(codes(fixed))


# --------------------------------------------------------------------------------------
# Non-cases: text that looks close but must not be flagged
# --------------------------------------------------------------------------------------

NON_CASES = [
    # apostrophes are not quotes
    ("It's the dog's toy; he won't share.", "single-quoted-dialogue"),
    ("Rock 'n' roll from the '90s plays on a jukebox.", "single-quoted-dialogue"),
    ("The kids' bikes lean on the wall, it's late.", "single-quoted-dialogue"),
    ("She says it's fine.", "single-quoted-dialogue"),
    ("Style: 'noir', rain on the window", "single-quoted-dialogue"),
    ("It’s the dog’s toy, rock ’n’ roll from the ‘90s", "curly-quotes"),
    # correctly quoted text is left alone
    ('A neon sign reading "OPEN" flickers above the door.', "unbalanced-quotes"),
    ('A neon sign reading "OPEN" flickers above the door.', "curly-quotes"),
    ('She says: "Run now!"', "unquoted-dialogue"),
    ('她说："快跑！"', "unquoted-dialogue"),
    ("她说：“你好”", "unquoted-dialogue"),
    ("Narrator: 'the city sleeps'", "unquoted-dialogue"),
    # descriptive labels are not speakers
    ("Shot 1: wide shot of a harbor. Camera: slow dolly in. Lighting: golden hour.", "unquoted-dialogue"),
    ("Style: film noir. Mood: tense. Setting: a rainy Tokyo street.", "unquoted-dialogue"),
    ("In the morning: sun rises over the hills", "unquoted-dialogue"),
    ("画面：一只猫在窗台上。镜头1：特写。", "unquoted-dialogue"),
    ("街道：湿漉漉的，霓虹灯闪烁", "unquoted-dialogue"),
    ("Visit https://example.com for more", "unquoted-dialogue"),
    ("Aspect ratio: 16:9", "unquoted-dialogue"),
    ("She says: 10:30 is too late", "unquoted-dialogue"),
    # clock times and scores are not ratios
    ("Meet at 10:30 by the fountain.", "aspect-ratio-in-prompt"),
    ("They meet at 3:45 pm.", "aspect-ratio-in-prompt"),
    ("The clock shows 12:00.", "aspect-ratio-in-prompt"),
    ("Wake at 9:16 and run.", "aspect-ratio-in-prompt"),
    ("The final score was 2:1.", "aspect-ratio-in-prompt"),
    ("A 3x2 grid of photos", "aspect-ratio-in-prompt"),
    # a clock time is not a timestamp either
    ("Meet at 10:30 by the fountain.", "timestamps"),
    ("The clock shows 12:00.", "timestamps"),
    # HDR is a look, not a resolution; a plain "hd" in a word is nothing
    ("HDR look with deep blacks", "resolution-in-prompt"),
    ("A shepherd leads his flock", "resolution-in-prompt"),
]


@pytest.mark.parametrize(("prompt", "code"), NON_CASES)
def test_does_not_fire(prompt, code):
    assert code not in codes(prompt)


# --------------------------------------------------------------------------------------
# The contract itself
# --------------------------------------------------------------------------------------


def test_hints_sorted_and_frozen():
    prompt = "She says: “Hi”, 4K, 16:9. He yells: stop! @image1 0-3s"
    hints = lint(prompt, model=TEXT)
    assert [h.start for h in hints] == sorted(h.start for h in hints)
    assert {
        "curly-quotes",
        "resolution-in-prompt",
        "aspect-ratio-in-prompt",
        "unquoted-dialogue",
        "media-reference",
        "timestamps",
    } <= {h.code for h in hints}
    with pytest.raises(dataclasses.FrozenInstanceError):
        hints[0].code = "other"  # type: ignore[misc]
    assert all(h.severity in ("info", "warning", "error") for h in hints)
    assert all(0 <= h.start <= h.end <= len(prompt) for h in hints)


def test_model_may_be_spec_and_unknown_model_is_refused():
    assert codes("@image1 waves", model=catalog.MODELS[TEXT]) == codes("@image1 waves", model=TEXT)
    with pytest.raises(ValueError, match="unknown model"):
        lint("A cat", model="no-such-model")


MODULES = [importlib.import_module(f"lib.hints.{m.name}") for m in pkgutil.iter_modules(lib.hints.__path__)]


def test_the_hints_are_split_by_concern_into_small_modules():
    assert {m.__name__.rsplit(".", 1)[1] for m in MODULES} >= {"dialogue", "fields", "structure", "fixes"}
    for module in [lib.hints, *MODULES]:
        source = open(module.__file__, encoding="utf-8").read()
        assert len(source.splitlines()) < 400, module.__name__

"""Hints about a Seedance prompt, shown beside the editor while the user types.

Every rule comes from the provider's prompt guidance (``shared/facts``, "Prompt
guidance" and "Media inputs"): dialogue in straight double quotes is voiced, aspect
ratio and quality belong in their fields, numbered shots are followed more reliably
than timestamps, and media are referred to as ``@image1`` / ``@video1`` / ``@audio1``.
The word lists are data at the top of the module so a non-programmer can extend them.

Example:
    >>> prompt = 'A girl on a rooftop at sunset, close-up. She says: “Hello.”, 9:16 vertical'
    >>> hints = lint(prompt, model="seedance-2.0-text-to-video")
    >>> [h.code for h in hints]
    ['curly-quotes', 'aspect-ratio-in-prompt']
    >>> apply_fixes(prompt, hints)
    'A girl on a rooftop at sunset, close-up. She says: "Hello."'
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from lib import catalog
from lib.schema import approx_tokens

Severity = Literal["info", "warning", "error"]


def _words(table: str) -> tuple[str, ...]:
    """One entry per line or comma: lets the tables below read as plain lists."""
    return tuple(w.strip() for line in table.strip().splitlines() for w in line.split(",") if w.strip())


# ======================================================================================
# Rule tables (lower case; English entries match whole words only)
# ======================================================================================

# Verbs that introduce spoken words. Every form is listed so nobody has to know regex.
SPEECH_VERBS_EN = _words("""
say, says, said, saying
shout, shouts, shouted, shouting
whisper, whispers, whispered, whispering
ask, asks, asked, asking
reply, replies, replied, replying
yell, yells, yelled, yelling
call out, calls out, called out, calling out
scream, screams, screamed, screaming
cry, cries, cried, crying
mutter, mutters, muttered, muttering
murmur, murmurs, murmured, murmuring
exclaim, exclaims, exclaimed, exclaiming
answer, answers, answered, answering
respond, responds, responded, responding
announce, announces, announced, announcing
declare, declares, declared, declaring
shriek, shrieks, shrieked, shrieking
sing, sings, sang, singing
tell, tells, told, telling
speak, speaks, spoke, speaking
narrate, narrates, narrated, narrating
chant, chants, chanted, chanting
plead, pleads, pleaded, pleading
beg, begs, begged, begging
insist, insists, insisted, insisting
sigh, sighs, sighed, sighing
growl, growls, growled, growling
""")

# Chinese speech verbs, matched right before a colon (Chinese has no spaces, so a
# verb followed by "：" is the reliable signal). Bare 道 is left out on purpose: it
# ends ordinary words such as 街道 ("street").
SPEECH_VERBS_ZH = _words("""
说, 说道, 讲, 讲道, 喊, 大喊, 喊道, 呼喊, 叫, 大叫, 叫道, 尖叫
问, 问道, 回答, 答道, 回应, 吼, 吼道, 怒吼, 嚷, 嚷道
低语, 耳语, 喃喃, 喃喃道, 嘀咕, 嘟囔, 念叨, 唱, 唱道
宣布, 告诉, 感叹, 叹道, 笑道, 骂道, 哭道, 低声道, 轻声道, 自言自语
""")

# Chinese labels that always introduce spoken words ("Narrator:", "Voice-over:").
SPEAKER_LABELS_ZH = _words("旁白, 画外音, 独白, 内心独白, 主持人, 播音员, 配音, 解说")

# "Label:" words that introduce a description, not a speaker. A label containing any
# of these (or a camera/lighting keyword, or a number as in "Shot 1") is not dialogue.
NON_SPEAKER_LABELS = _words("""
shot, shots, scene, scenes, camera, cam, lighting, light, lights, style, mood
atmosphere, tone, look, color, colour, colors, colours, palette, grade, grading
music, soundtrack, score, sound, sounds, sfx, audio, ambience, ambient, setting
location, place, time, date, era, season, weather, subject, subjects, action, actions
composition, lens, lenses, angle, framing, frame, movement, motion, transition, cut
format, aspect, ratio, resolution, quality, duration, length, fps, note, notes, tip
important, example, background, foreground, environment, wardrobe, costume, costumes
props, character, characters, cast, text, title, caption, captions, subtitle
subtitles, visual, visuals, description, prompt, negative, avoid, genre, reference
references, theme, story, plot, summary, ending, opening, intro, outro, beat, part
step, final, effects, effect, vfx, fx, render, medium, technique, keywords, tags
focus, depth, texture, details, detail, pacing, pace, rhythm, tempo, emotion
expression, pose, outfit, makeup, hair, product, brand, logo, goal, audience
platform, sequence, version, update, warning, result, output, input, start, end
""")

# Words that never appear inside a speaker's name: "In the morning:" is not a speaker.
FUNCTION_WORDS = _words("""
a, an, the, in, on, at, of, for, to, from, with, by, and, or, but, then, as, into
onto, over, under, after, before, while, when, where, this, that, these, those
it, its, is, are, was, were, be
""")

# Keywords of camera language (coaching: "describe the camera").
CAMERA_WORDS_EN = _words("""
camera, shot, shots, close-up, close-ups, closeup, close up, extreme close-up
medium shot, wide shot, long shot, full shot, establishing shot, two-shot
pan, pans, panning, panned, tilt, tilts, tilting, tilted, dolly, dollies, dollying
tracking, track, tracks, tracked, zoom, zooms, zooming, zoomed, aerial, drone
crane, handheld, hand-held, steadicam, gimbal, pov, point of view
over-the-shoulder, low angle, low-angle, high angle, high-angle, bird's-eye
birds-eye, dutch angle, top-down, overhead, orbit, orbits, orbiting, push in
pushes in, pull back, pulls back, pull out, pulls out, truck, arc shot, lens
macro, wide-angle, wide angle, telephoto, fisheye, anamorphic, rack focus, focus
depth of field, bokeh, framing, slow motion, slow-motion, time-lapse, timelapse
cut to, static shot, locked-off, follow shot, follows, whip pan, angle, frame
focuses, focused, focusing
""")
CAMERA_WORDS_ZH = _words("""
特写, 近景, 中景, 远景, 全景, 镜头, 推, 拉, 摇, 移, 跟拍, 航拍, 俯拍, 仰拍, 俯视
仰视, 环绕, 运镜, 手持, 慢动作, 延时, 广角, 长焦, 微距, 焦点, 变焦, 景深, 视角
第一人称, 分镜, 机位, 构图
""")

# Keywords of lighting and light-defining atmosphere.
LIGHTING_WORDS_EN = _words("""
light, lights, lighting, lit, sunlight, moonlight, daylight, backlight, backlit
rim light, sunset, sunrise, golden hour, blue hour, dusk, dawn, twilight, neon
shadow, shadows, shadowy, glow, glows, glowing, candlelight, candlelit, lamp
lamplight, lantern, spotlight, silhouette, silhouetted, dim, dimly, bright
brightly, dark, darkness, overcast, volumetric, haze, hazy, fog, foggy, mist
misty, night, midnight, moonlit, sunlit, sunny, cloudy, fluorescent, firelight
chiaroscuro, high-key, low-key, contrast, illuminated, luminous, flicker
flickering, reflections, reflection
""")
LIGHTING_WORDS_ZH = _words("""
光, 灯, 阳光, 月光, 夕阳, 日落, 日出, 黄昏, 霓虹, 阴影, 影子, 逆光, 暗, 亮, 夜
清晨, 雾, 烛, 晨曦, 余晖
""")

# Action: common motion verbs (the heuristic also accepts most "-ing" words).
ACTION_VERBS_EN = _words("""
walk, run, jump, dance, fly, fall, turn, look, smile, laugh, cry, sit, stand, move
rotate, spin, drive, swim, ride, eat, drink, open, close, explode, rise, sink, float
drift, wave, hold, pick, throw, catch, fight, chase, climb, push, pull, sing, play
talk, speak, reach, step, glide, flow, burst, shake, blink, breathe, grow, melt
bloom, pour, splash, roll, crawl, sail, race, leap, kick, hug, kiss, write, type
cook, paint, read, enter, leave, approach, emerge, appear, vanish, disappear
collapse, crash, shatter, sway, swirl, twirl, lift, drop, land, hover, swoop
gallop, sprint, stroll, wander, march, sneak, hide, reveal, transform, morph
beat, pulse, ripple, scatter, spread, unfold, fold, wrap, carry, drag, hit, strike
slide, slip, stumble, kneel, lean, bow, nod, point, grab, touch, stretch, yawn
ran, flew, fell, rose, sank, swam, rode, ate, drank, threw, caught, fought, held
sat, stood, drove, grew, leapt, struck, slid, knelt, hid, woke, broke, shook
sleep, slept, rest, wait, watch, stare, gaze, glance, shine, sparkle, burn, drip
blow, shift, sip, smoke, cut, slice, build, wake, lie, lies, lay, bounce, flutter
""")
ACTION_WORDS_ZH = _words("""
走, 跑, 跳, 飞, 转, 看, 笑, 哭, 坐, 站, 说, 喊, 舞, 游, 落, 升, 爬, 打, 吃, 喝
开, 关, 抱, 追, 流, 飘, 挥, 拿, 握, 冲, 摇, 推, 拉, 旋转, 移动, 奔跑, 行走, 着
正在, 穿过, 走向, 转身, 抬头, 低头, 回头, 睡, 躺, 醒, 洒, 吹, 滚, 滑, 摆, 扔, 踢
骑, 弹, 拍, 敲, 涌, 闪, 燃, 升起, 落下, 照, 奔, 漂, 绽放, 盛开, 碎, 爆炸, 下雨, 下雪
""")
# "-ing" words that are not actions, so "a morning" does not count as motion.
ING_NOT_ACTIONS = _words("""
morning, evening, building, buildings, ceiling, clothing, something, nothing
anything, everything, thing, things, king, ring, spring, string, wing, wings
lighting, painting, paintings, wedding, pudding, sibling, darling, earring
earrings, setting, ending, beginning, framing, feeling, during, awning, icing
railing, landing, parking, housing, lightning, stunning, amazing, interesting
charming, cunning, boring, fascinating, breathtaking
""")
# Words that say nothing about who or what is in the video.
NOT_SUBJECT_WORDS = _words("""
slow, slowly, fast, quick, quickly, soft, softly, warm, cool, cold, cinematic
beautiful, dramatic, epic, moody, realistic, photorealistic, detailed, ultra
high, very, gentle, gently, smooth, smoothly, subtle, golden, hour, style, film
movie, video, scene, shot, shots, footage, clip, mood, atmosphere, colors, colours
color, colour, tones, tone, vibe, aesthetic, look, vintage, modern, retro, hd
""")

# Time-bound words: Web search can bring the model up to date on them.
TIME_WORDS_EN = _words("""
latest, newest, today, today's, tonight, tonight's, yesterday, this week
this weekend, this month, this year, this season, current, currently, breaking
trending, up-to-date, up to date, recent, recently, real-time, right now
""")
TIME_WORDS_ZH = _words("最新, 今天, 今日, 今晚, 昨天, 本周, 这周, 本月, 今年, 目前, 当前, 近期, 最近, 热门, 实时")

# Aspect ratios people write. Integer pairs not in this table (3:45, 10:30) are
# clock times or scores, not ratios; decimal ratios such as 2.35:1 are recognised
# by shape. 2:1 is left out: in prompts it is far more often a score. 9:16 and 16:10
# look like clock times too, so they count as ratios only when no time word ("at",
# "until", "pm") surrounds them.
KNOWN_RATIOS = _words("""
16:9, 9:16, 1:1, 4:3, 3:4, 21:9, 9:21, 3:2, 2:3, 5:4, 4:5, 16:10, 10:16
32:9, 18:9, 9:18, 19.5:9
""")
# Words after a ratio that belong to it, so a fix removes them too.
RATIO_SUFFIXES = _words("""
aspect ratio, aspect, ratio, format, frame, vertical, portrait, landscape
horizontal, square, widescreen, wide-screen, ultrawide, ultra-wide
画幅, 比例, 竖屏, 横屏, 宽屏, 画面
""")
TIME_BEFORE = _words("at, by, until, till, around, from, since, before, after, about, 在, 到")
TIME_AFTER = _words("am, pm, a.m., p.m., o'clock, hrs, h, 点, 分")

# Resolution words and the Quality value each corresponds to ("" = more than any
# model offers: pick the highest).
RESOLUTION_WORDS: dict[str, str] = {
    "480p": "480p",
    "720p": "720p",
    "hd": "720p",
    "高清": "720p",
    "1080p": "1080p",
    "1080i": "1080p",
    "full hd": "1080p",
    "fhd": "1080p",
    "1440p": "",
    "2160p": "",
    "4320p": "",
    "4k": "",
    "5k": "",
    "6k": "",
    "8k": "",
    "uhd": "",
    "ultra hd": "",
    "超清": "",
    "超高清": "",
}
RESOLUTION_SUFFIXES = _words("resolution, quality, video, footage, 画质, 分辨率, 视频")

# Shown in the structure hint: one example per missing part.
STRUCTURE_EXAMPLES = {
    "subject": "who or what is on screen (e.g. an old fisherman, a red sports car)",
    "action": "what happens (e.g. walks slowly toward the sea, the car drifts round a corner)",
    "camera": "camera language (e.g. close-up, slow dolly in, aerial tracking shot)",
    "lighting": "lighting (e.g. golden hour, soft window light, neon at night)",
}

# Opening quote → closing quotes that end it. ” is not an opener: in most prompts it
# is the closing half of “…”.
CURLY_PAIRS: dict[str, str] = {
    "“": "”",
    "„": "“”",
    "«": "»",
    "»": "«",
    "‹": "›",
    "「": "」",
    "『": "』",
    "‘": "’",
    "‚": "‘’",
}
QUOTE_CHARS = "\"'“”„«»‹›「」『』‘’‚"

SENTENCE_END = ".!?。！？"
CLAUSE_SEP = ",;，；、"
MAX_WORDS = catalog.PROMPT_RECOMMENDED_WORDS
MAX_CJK = catalog.PROMPT_RECOMMENDED_CJK
STRUCTURE_MIN_WORDS = 3  # below this the prompt is still being typed: no coaching yet
SUBJECT_CHECK_MAX_WORDS = 12  # only short prompts can plausibly lack a subject


# ======================================================================================
# Public types
# ======================================================================================


@dataclass(frozen=True)
class Hint:
    """One piece of advice about the prompt.

    ``start``/``end`` mark the characters it is about (``0, 0`` or ``0, len`` when it
    is about the whole prompt). ``fix`` replaces ``prompt[start:end]`` when a safe
    automatic fix exists, else None.
    """

    code: str
    severity: Severity
    message: str
    start: int
    end: int
    fix: str | None = None


@dataclass(frozen=True)
class PromptStats:
    """What the length counter beside the editor shows.

    ``used`` is measured in ``unit`` (English words or Chinese characters, whichever
    dominates); a mixed prompt counts each part against its own limit.

    >>> stats("A cat naps").text
    '3 / 1000 words'
    """

    characters: int
    words: int
    cjk: int
    tokens: int
    limit: int
    unit: str
    used: int
    over: bool

    @property
    def fraction(self) -> float:
        return self.used / self.limit

    @property
    def text(self) -> str:
        return f"{self.used} / {self.limit} {self.unit}"


# ======================================================================================
# Helpers
# ======================================================================================

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
_WORD = re.compile(r"[A-Za-z0-9\u00C0-\u024F]+(?:['’\-][A-Za-z0-9\u00C0-\u024F]+)*")
# ASCII-only word edges: Python's \b treats Chinese characters as letters, which would
# hide "4K" in "4K高清".
_L = r"(?<![A-Za-z0-9])"
_R = r"(?![A-Za-z0-9])"


def _alternation(words: Iterable[str]) -> str:
    """Regex alternation, longest first so "call out" wins over "call"; spaces flexible."""
    ordered = sorted(set(words), key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered)


def _en_words_re(words: Iterable[str]) -> re.Pattern[str]:
    return re.compile(rf"{_L}(?:{_alternation(words)}){_R}", re.IGNORECASE)


def _zh_words_re(words: Iterable[str]) -> re.Pattern[str]:
    return re.compile(_alternation(words))


_SPEECH_EN_RE = re.compile(
    rf"{_L}(?:{_alternation(SPEECH_VERBS_EN)}){_R}"
    # up to a few words between verb and colon: "says to her:", "whispers softly:"
    r"(?P<gap>(?:[ \t]+[A-Za-z'’]+){0,4}?)[ \t]*[:：]",
    re.IGNORECASE,
)
_SPEECH_ZH_RE = re.compile(
    rf"(?:{_alternation(SPEECH_VERBS_ZH + SPEAKER_LABELS_ZH)})(?:[他她我你它]们?|大家)?[ \t]*[：:]"
)
# "Name:" at the start of a line or sentence; up to three words.
_LABEL_RE = re.compile(
    r"(?:^|(?<=[\n.!?。！？]))[ \t]*"
    r"(?P<label>[A-Za-z][A-Za-z'’.\-]*(?:[ \t]+[A-Za-z][A-Za-z'’.\-]*){0,2})[ \t]*[:：]",
    re.MULTILINE,
)
_CAMERA_EN_RE = _en_words_re(CAMERA_WORDS_EN)
_CAMERA_ZH_RE = _zh_words_re(CAMERA_WORDS_ZH)
_LIGHTING_EN_RE = _en_words_re(LIGHTING_WORDS_EN)
_LIGHTING_ZH_RE = _zh_words_re(LIGHTING_WORDS_ZH)
_ACTION_ZH_RE = _zh_words_re(ACTION_WORDS_ZH)
_TIME_EN_RE = _en_words_re(TIME_WORDS_EN)
_TIME_ZH_RE = _zh_words_re(TIME_WORDS_ZH)
_SPEECH_VERB_TAIL_RE = re.compile(
    rf"{_L}(?:{_alternation(SPEECH_VERBS_EN)}){_R}(?:[ \t]+[A-Za-z'’]+){{0,4}}[ \t]*[,:：]?[ \t]*$",
    re.IGNORECASE,
)

_NUM = r"\d{1,2}(?:\.\d{1,2})?"
_RATIO_RE = re.compile(
    # optional lead-in that a fix should remove with the ratio
    r"(?P<lead>(?:(?<![A-Za-z])(?:in|at|with)\s+(?:an?\s+)?)?"
    r"(?:(?<![A-Za-z])(?:aspect\s+ratio|ratio)(?:\s+of)?\s*[:：]?\s*|(?:画幅|画面)?比例\s*(?:为|是|[:：])?\s*)?)"
    rf"(?<![A-Za-z0-9.:：])(?P<a>{_NUM})\s?(?P<sep>[:：xX×]|\s+by\s+)\s?(?P<b>{_NUM})(?![A-Za-z0-9:：]|\.\d)"
    rf"(?P<tail>(?:[ \t]*(?:{_alternation(RATIO_SUFFIXES)})(?![A-Za-z])){{0,2}})",
    re.IGNORECASE,
)
_TIME_BEFORE_RE = re.compile(rf"(?:{_L}(?:{_alternation(TIME_BEFORE)}))\s*$", re.IGNORECASE)
_TIME_AFTER_RE = re.compile(rf"^\s*(?:{_alternation(TIME_AFTER)})(?![A-Za-z])", re.IGNORECASE)

_RES_TOKEN = (
    rf"(?:{_L}(?:(?:480|720|1080|1440|2160|4320)[pPiI]|[4568][kK]|UHD|FHD|HD|[Ff]ull[ \t]+HD|[Uu]ltra[ \t]+HD){_R}"
    r"|超高清|超清|高清)"
)
_RESOLUTION_RE = re.compile(
    rf"(?P<lead>(?<![A-Za-z])(?:in|at)[ \t]+)?(?P<core>{_RES_TOKEN}(?:[ \t]*[/+]?[ \t]*{_RES_TOKEN})*)"
    rf"(?P<tail>[ \t]*(?:{_alternation(RESOLUTION_SUFFIXES)})(?![A-Za-z]))?"
)

_TIMESTAMP_RE = re.compile(
    # [00:03], [0:00-0:03], (01:30)
    r"[\[(]\d{1,2}:\d{2}(?:\s*[-–—~]\s*\d{1,2}:\d{2})?[\])]"
    # 00:05, 0:03-0:06, 00:00:05 (a clock time such as 12:00 is left alone)
    r"|(?<![A-Za-z0-9.:])0{1,2}:\d{2}(?::\d{2})?(?:\s*[-–—~]\s*\d{1,2}:\d{2}(?::\d{2})?)?(?![0-9:])"
    # 0-3s, 0–3 s, 3 to 6 seconds, 0s-3s, 0-3秒
    r"|(?<![A-Za-z0-9.])\d{1,3}(?:\.\d)?\s*(?:s|secs?|seconds?)?\s*(?:-|–|—|~|to)\s*"
    r"\d{1,3}(?:\.\d)?\s*(?:seconds?|secs?|s(?![A-Za-z])|秒)"
    # at 3s, at 5 seconds
    r"|(?<![A-Za-z])at\s+\d{1,3}(?:\.\d)?\s*(?:seconds?|secs?|s)(?![A-Za-z])"
    # 第3秒
    r"|第\s*\d{1,3}\s*秒",
    re.IGNORECASE,
)

_MEDIA_RE = re.compile(r"(?<![A-Za-z0-9_.])@(?P<kind>image|video|audio)(?P<n>\d+)?(?![A-Za-z])", re.IGNORECASE)
_MEDIA_NAMES = {"image": ("image", "images"), "video": ("video", "videos"), "audio": ("audio clip", "audio clips")}

_CAMERA_SET = {w.lower() for w in CAMERA_WORDS_EN}
_LIGHTING_SET = {w.lower() for w in LIGHTING_WORDS_EN}
_NON_SPEAKER = {w.lower() for w in NON_SPEAKER_LABELS} | _CAMERA_SET | _LIGHTING_SET
_FUNCTION = set(FUNCTION_WORDS)
_ING_NOT = set(ING_NOT_ACTIONS)
_NOT_SUBJECT = set(NOT_SUBJECT_WORDS) | _FUNCTION


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _resolve_model(model: str | catalog.ModelSpec) -> catalog.ModelSpec:
    if isinstance(model, catalog.ModelSpec):
        return model
    try:
        return catalog.MODELS[model]
    except KeyError:
        raise ValueError(f"unknown model {model!r}; expected one of {', '.join(catalog.MODELS)}") from None


def _removal_span(text: str, start: int, end: int, *, has_lead_word: bool) -> tuple[int, int] | None:
    """Widen ``text[start:end]`` so that deleting it leaves tidy text, or None if unsure.

    Deleting is safe only when the phrase is a whole list item or clause ("…, 16:9, …",
    "… in 16:9.", "(4K)"); inside a sentence ("a 4K shot of …") it would break grammar.
    """
    i = start
    while i > 0 and text[i - 1] in " \t":
        i -= 1
    j = end
    while j < len(text) and text[j] in " \t":
        j += 1
    left = text[i - 1] if i > 0 else ""
    right = text[j] if j < len(text) else ""
    right_is_edge = right in ("", "\n") or right in SENTENCE_END or right in CLAUSE_SEP
    if left == "(" and right == ")":
        k = i - 1
        while k > 0 and text[k - 1] in " \t":
            k -= 1
        return k, j + 1
    if left and left in CLAUSE_SEP and right_is_edge:
        return i - 1, end  # "a, 16:9, b" → "a, b"; "a, 16:9." → "a."
    if left in ("", "\n") or left in SENTENCE_END:
        if right and right in CLAUSE_SEP:
            k = j + 1
            while k < len(text) and text[k] in " \t":
                k += 1
            return start, k  # "16:9, a cat" → "a cat"
        if right in ("", "\n"):
            return i, end  # whole last clause: drop it and the space before it
        if right in SENTENCE_END:
            return (i, j + 1) if left else (start, j + 1 + _spaces_after(text, j + 1))
        return None
    if has_lead_word and right_is_edge:
        return i, end  # "a cat in 16:9." → "a cat."
    return None


def _spaces_after(text: str, k: int) -> int:
    n = 0
    while k + n < len(text) and text[k + n] in " \t":
        n += 1
    return n


# ======================================================================================
# Rules: each returns a list of hints
# ======================================================================================


def _curly_quotes(prompt: str) -> list[Hint]:
    hints: list[Hint] = []
    # Where a search for an opener's closing quote already failed: later openers of
    # the same kind before that point cannot succeed either, so the scan stays linear
    # while the user types into a long prompt full of unmatched quotes.
    no_closer_before: dict[str, int] = {}
    i = 0
    n = len(prompt)
    while i < n:
        opener = prompt[i]
        closers = CURLY_PAIRS.get(opener)
        single = opener in "‘‚"
        # A single curly quote opens only after a non-letter and not before a digit
        # (‘90s); it closes only before a non-letter, so it’s is not a closing quote.
        if (
            closers is None
            or i < no_closer_before.get(opener, -1)
            or (single and ((i > 0 and prompt[i - 1].isalnum()) or prompt[i + 1 : i + 2].isdigit()))
        ):
            i += 1
            continue
        j = i + 1
        while j < n:
            if prompt[j] in closers and (not single or not prompt[j + 1 : j + 2].isalnum()):
                break
            if single and prompt[j] == "\n":
                break  # a single-quoted phrase does not run over a line break
            j += 1
        if j >= n or prompt[j] not in closers:
            no_closer_before[opener] = j
            i += 1
            continue
        if j == i + 1:
            i += 1
            continue
        inner = prompt[i + 1 : j]
        hints.append(
            Hint(
                code="curly-quotes",
                severity="warning",
                message=(
                    f"{opener}{_shorten(inner)}{prompt[j]} uses curly quotes, which Seedance does "
                    'not read as dialogue. If these words are spoken, use straight double quotes ("…") '
                    "so they are voiced."
                ),
                start=i,
                end=j + 1,
                fix=f'"{inner}"',
            )
        )
        i = j + 1
    return hints


def _shorten(text: str, limit: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _single_quoted_dialogue(prompt: str) -> list[Hint]:
    hints: list[Hint] = []
    no_closer_before = -1  # as in _curly_quotes: keeps the scan linear
    i = 0
    n = len(prompt)
    while i < n:
        # An opening ' follows a non-letter (so it's, dog's, won't never open) and is
        # followed by a word, not a digit (the '90s).
        if (
            prompt[i] != "'"
            or i < no_closer_before
            or (i > 0 and prompt[i - 1].isalnum())
            or i + 1 >= n
            or not prompt[i + 1].isalpha()
        ):
            i += 1
            continue
        j = i + 1
        while j < n and prompt[j] != "\n":
            if prompt[j] == "'" and not prompt[j - 1].isspace() and not prompt[j + 1 : j + 2].isalnum():
                break
            j += 1
        if j >= n or prompt[j] != "'":
            no_closer_before = j
            i += 1
            continue
        inner = prompt[i + 1 : j]
        # 'n' in rock 'n' roll is too short to be a line of dialogue.
        if len(inner.strip()) >= 2 and _introduces_speech(prompt[max(0, i - 80) : i]):
            hints.append(
                Hint(
                    code="single-quoted-dialogue",
                    severity="warning",
                    message=(
                        f"'{_shorten(inner)}' looks like spoken words in single quotes. Seedance "
                        'voices dialogue only in straight double quotes ("…").'
                    ),
                    start=i,
                    end=j + 1,
                    fix=f'"{inner}"',
                )
            )
        i = j + 1
    return hints


def _introduces_speech(before: str) -> bool:
    """True when the text right before a quote is a colon or a speech verb."""
    # Only the current sentence counts: "He said it. 'Rock' is…" is not speech.
    cut = max(before.rfind(c) for c in SENTENCE_END + '\n"')
    clause = before[cut + 1 :]
    if clause.rstrip().endswith((":", "：")):
        # "Narrator: 'the city sleeps'" is speech; "Style: 'noir'" is not.
        label_words = [w.lower() for w in _WORD.findall(clause)][-3:]
        return not any(w in _NON_SPEAKER for w in label_words)
    return bool(_SPEECH_VERB_TAIL_RE.search(clause))


def _unquoted_dialogue(prompt: str) -> list[Hint]:
    colons: list[tuple[int, str]] = []  # (index just after the colon, who speaks)
    for m in _SPEECH_EN_RE.finditer(prompt):
        colons.append((m.end(), m.group(0).rstrip(" \t:：")))
    for m in _SPEECH_ZH_RE.finditer(prompt):
        colons.append((m.end(), m.group(0).rstrip(" \t:：")))
    for m in _LABEL_RE.finditer(prompt):
        label = m.group("label")
        words = [w.lower().strip(".'’") for w in label.split()]
        if any(w in _FUNCTION for w in words) or any(w in _NON_SPEAKER for w in words):
            continue
        if label.lower() in _NON_SPEAKER:
            continue
        colons.append((m.end(), label))

    # Positions found once, then looked up, so many colons in a long prompt stay cheap.
    stops = [m.start() for m in re.finditer(rf"[\n{re.escape(SENTENCE_END)}]", prompt)]
    quotes = [i for i, c in enumerate(prompt) if c in QUOTE_CHARS and c != "'"]
    hints: list[Hint] = []
    seen: set[int] = set()
    for after, who in sorted(colons):
        if after in seen:
            continue
        seen.add(after)
        start = after
        while start < len(prompt) and prompt[start] in " \t":
            start += 1
        # Spoken words start with a letter; a quote means they are quoted already,
        # a digit means a ratio or time ("Aspect: 16:9"), "/" a web address.
        if start >= len(prompt) or not prompt[start].isalpha():
            continue
        k = bisect.bisect_left(stops, start)
        end = stops[k] if k < len(stops) else len(prompt)
        if end < len(prompt) and prompt[end] in SENTENCE_END:
            end += 1  # the ! or 。 belongs inside the quotes
        q = bisect.bisect_left(quotes, start)
        if q < len(quotes) and quotes[q] < end:
            continue  # the words are quoted further on
        segment = prompt[start : min(end, start + 60)]  # enough for the message
        hints.append(
            Hint(
                code="unquoted-dialogue",
                severity="warning",
                message=(
                    f'After "{_shorten(who, 24)}:" these words look spoken but are not in quotes. '
                    f'Wrap them in straight double quotes ("{_shorten(segment.strip(), 24)}") '
                    "so Seedance voices them instead of treating them as description."
                ),
                start=start,
                end=end,
            )
        )
    return hints


def _unbalanced_quotes(prompt: str) -> list[Hint]:
    positions = [i for i, c in enumerate(prompt) if c == '"']
    if len(positions) % 2 == 0:
        return []
    last = positions[-1]  # pairing left to right leaves the last one without a partner
    return [
        Hint(
            code="unbalanced-quotes",
            severity="warning",
            message=(
                "This double quote has no partner. Seedance voices the words between a pair "
                "of straight double quotes, so add the missing quote or remove this one."
            ),
            start=last,
            end=last + 1,
        )
    ]


def _ratio_value(a: str, b: str) -> float:
    return float(a) / float(b)


def _closest_field_ratio(value: float) -> str:
    choices = [r for r in catalog.ASPECT_RATIOS if r != "adaptive"]
    return min(choices, key=lambda r: abs(_ratio_value(*r.split(":")) - value))


def _aspect_ratios(prompt: str) -> list[Hint]:
    hints: list[Hint] = []
    for m in _RATIO_RE.finditer(prompt):
        a, b, sep = m.group("a"), m.group("b"), m.group("sep").strip().lower()
        if float(a) > 32 or float(b) > 32 or float(a) == 0 or float(b) == 0:
            continue
        pair = f"{a}:{b}"
        if "." in a or "." in b:
            # Film ratios are written as a decimal over 1 (2.35:1, 1.85:1).
            if not (sep in ":：" and b == "1" and 1.0 < float(a) <= 3.0) and pair not in KNOWN_RATIOS:
                continue
        elif sep in ":：":
            if pair not in KNOWN_RATIOS:
                continue  # 10:30, 3:45: clock times, not ratios
            if len(b) == 2 and (
                _TIME_BEFORE_RE.search(prompt[: m.start("a")]) or _TIME_AFTER_RE.match(prompt[m.end("b") :])
            ):
                continue  # "at 9:16", "9:16 pm"
        elif pair not in catalog.ASPECT_RATIOS:
            continue  # "16x9" is a ratio; "3x2 grid" is not worth the risk
        field_value = pair if pair in catalog.ASPECT_RATIOS else _closest_field_ratio(_ratio_value(a, b))
        if field_value == pair:
            advice = f"Set Aspect ratio to {field_value} instead."
        else:
            advice = f"The Aspect ratio field has no {pair}; {field_value} is the closest."
        lead = m.group("lead")
        phrase_start = m.start() if lead.strip() else m.start("a")
        phrase_end = m.end("tail") if m.group("tail") else m.end("b")
        has_lead_word = bool(re.match(r"(?:in|at|with)\s", lead, re.IGNORECASE))
        span = _removal_span(prompt, phrase_start, phrase_end, has_lead_word=has_lead_word)
        start, end = span if span else (m.start("a"), m.end("b"))
        hints.append(
            Hint(
                code="aspect-ratio-in-prompt",
                severity="warning",
                message=(
                    f'"{prompt[m.start("a") : m.end("b")]}" in the prompt does not set the shape of the video; '
                    f"the Aspect ratio field does. {advice}"
                ),
                start=start,
                end=end,
                fix="" if span else None,
            )
        )
    return hints


def _resolutions(prompt: str, spec: catalog.ModelSpec) -> list[Hint]:
    hints: list[Hint] = []
    best = spec.qualities[-1]
    for m in _RESOLUTION_RE.finditer(prompt):
        core = m.group("core")
        first = re.match(_RES_TOKEN, core).group(0)
        first_key = " ".join(first.lower().split())
        wanted = RESOLUTION_WORDS.get(first_key, "")
        if wanted and wanted in spec.qualities:
            advice = f"Set Quality to {wanted} instead."
        elif wanted:
            advice = f"This model makes up to {best}; set Quality to {best}, or choose a standard model for {wanted}."
        else:
            advice = f"Seedance makes at most 1080p, this model up to {best}: set Quality to {best} instead."
        phrase_start = m.start("lead") if m.group("lead") else m.start("core")
        phrase_end = m.end("tail") if m.group("tail") else m.end("core")
        span = _removal_span(prompt, phrase_start, phrase_end, has_lead_word=bool(m.group("lead")))
        start, end = span if span else (m.start("core"), m.end("core"))
        hints.append(
            Hint(
                code="resolution-in-prompt",
                severity="warning",
                message=f'"{core}" in the prompt does not change the video\'s resolution; '
                f"the Quality field does. {advice}",
                start=start,
                end=end,
                fix="" if span else None,
            )
        )
    return hints


def _timestamps(prompt: str) -> list[Hint]:
    return [
        Hint(
            code="timestamps",
            severity="info",
            message=(
                f'Timestamps like "{m.group(0)}" are followed unreliably. Number the shots in order '
                'instead ("Shot 1: …", "Shot 2: …"), with one camera move per shot.'
            ),
            start=m.start(),
            end=m.end(),
        )
        for m in _TIMESTAMP_RE.finditer(prompt)
    ]


def _web_search(prompt: str, spec: catalog.ModelSpec, web_search: bool) -> list[Hint]:
    if web_search or not spec.web_search:
        return []
    found = sorted(
        [(m.start(), m.end()) for m in _TIME_EN_RE.finditer(prompt)]
        + [(m.start(), m.end()) for m in _TIME_ZH_RE.finditer(prompt)]
    )
    if not found:
        return []
    start, end = found[0]
    return [
        Hint(
            code="web-search-suggested",
            severity="info",
            message=(
                f'"{prompt[start:end]}" is about the present. Turn on Web search so the model can look '
                "up fresh information; it is billed only when a search actually happens."
            ),
            start=start,
            end=end,
        )
    ]


def _media_references(prompt: str, spec: catalog.ModelSpec, counts: dict[str, int]) -> list[Hint]:
    hints: list[Hint] = []
    for m in _MEDIA_RE.finditer(prompt):
        kind = m.group("kind").lower()
        ref = m.group(0)
        one, many = _MEDIA_NAMES[kind]
        if spec.mode == "text":
            problem = (
                f"Text-to-video takes no images, videos or audio, so {ref} refers to nothing. "
                "Remove it, or switch to an image-to-video or reference-to-video model."
            )
        elif not getattr(spec, f"{kind}s").accepted:
            problem = (
                f"This model takes no {many}, so {ref} refers to nothing. Remove it, or use a reference-to-video model."
            )
        elif m.group("n") is None:
            problem = f"Add a number to {ref}: {ref}1 is the first {one}, {ref}2 the second."
        else:
            n, have = int(m.group("n")), counts[kind]
            if 1 <= n <= have:
                continue
            if n < 1:
                problem = f"Media are numbered from 1: @{kind}1 is the first {one}."
            elif have == 0:
                problem = f"{ref} refers to the {_ordinal(n)} {one}, but no {many} are added."
            else:
                added = f"1 {one} is" if have == 1 else f"{have} {many} are"
                problem = f"{ref} refers to the {_ordinal(n)} {one}, but only {added} added."
        hints.append(Hint("media-reference", "error", problem, m.start(), m.end()))
    return hints


def _too_long(prompt: str, st: PromptStats) -> list[Hint]:
    if not st.over:
        return []
    return [
        Hint(
            code="too-long",
            severity="warning",
            message=(
                f"This prompt is about {st.used:,} {st.unit} long. Seedance follows prompts best under "
                f"{MAX_WORDS:,} English words or {MAX_CJK} Chinese characters; shorten it."
            ),
            start=0,
            end=len(prompt),
        )
    ]


def _action_forms(verbs: Iterable[str]) -> set[str]:
    """walk → walks, walked, walking; dance → dancing; run → running; cry → cries."""
    forms: set[str] = set()
    for v in verbs:
        forms |= {v, v + "s", v + "es", v + "ed", v + "d", v + "ing"}
        if v.endswith("e"):
            forms.add(v[:-1] + "ing")
        if v.endswith("y"):
            forms |= {v[:-1] + "ies", v[:-1] + "ied"}
        if len(v) <= 4 and re.fullmatch(r"[a-z]*[^aeiou][aeiou][bdgmnprt]", v):
            forms |= {v + v[-1] + "ing", v + v[-1] + "ed"}
    return forms


_ACTION_FORMS = _action_forms(ACTION_VERBS_EN) | {w.lower() for w in SPEECH_VERBS_EN}


def _is_action_word(word: str) -> bool:
    if word in _ACTION_FORMS:
        return True
    # Most "-ing" words in a video prompt describe motion (a dog chasing, leaves swirling).
    return word.endswith("ing") and len(word) > 5 and word not in _ING_NOT


def _has_action(prompt: str) -> bool:
    if any(_is_action_word(w.lower()) for w in _WORD.findall(prompt)):
        return True
    return bool(_ACTION_ZH_RE.search(prompt))


def _structure(prompt: str, st: PromptStats) -> list[Hint]:
    if st.words + st.cjk / 2 < STRUCTURE_MIN_WORDS:
        return []
    missing: list[str] = []
    if st.words + st.cjk / 2 <= SUBJECT_CHECK_MAX_WORDS:
        # Short prompts only: with more words there is almost always a subject.
        leftover = _CAMERA_EN_RE.sub(" ", _LIGHTING_EN_RE.sub(" ", prompt))
        content = [
            w.lower()
            for w in _WORD.findall(leftover)
            if w.lower() not in _NOT_SUBJECT and not w.isdigit() and not _is_action_word(w.lower())
        ]
        cjk_left = _CJK.findall(_ACTION_ZH_RE.sub("", _CAMERA_ZH_RE.sub("", _LIGHTING_ZH_RE.sub("", prompt))))
        if not content and len(cjk_left) < 2:
            missing.append("subject")
    if not _has_action(prompt):
        missing.append("action")
    if not (_CAMERA_EN_RE.search(prompt) or _CAMERA_ZH_RE.search(prompt)):
        missing.append("camera")
    if not (_LIGHTING_EN_RE.search(prompt) or _LIGHTING_ZH_RE.search(prompt)):
        missing.append("lighting")
    if not missing:
        return []
    parts = [STRUCTURE_EXAMPLES[k] for k in missing]
    listed = parts[0] if len(parts) == 1 else "; ".join(parts[:-1]) + "; and " + parts[-1]
    return [
        Hint(
            code="structure",
            severity="info",
            message=(
                "Seedance follows a prompt best when it describes the subject, the action, the "
                f"camera language and the lighting. Consider adding {listed}."
            ),
            start=0,
            end=0,
        )
    ]


# ======================================================================================
# Public functions
# ======================================================================================


def stats(prompt: str) -> PromptStats:
    """Counts for the length counter, and whether the recommended length is exceeded.

    >>> s = stats("一只猫 naps in the warm sun")
    >>> (s.words, s.cjk, s.unit, s.used, s.limit)
    (5, 3, 'Chinese characters', 6, 500)
    """
    words = len(_WORD.findall(prompt))
    cjk = len(_CJK.findall(prompt))
    # Each language uses up its own share of the budget, so 600 words plus 250 Chinese
    # characters is over the limit even though each part alone is under it.
    fraction = words / MAX_WORDS + cjk / MAX_CJK
    if cjk / MAX_CJK > words / MAX_WORDS:
        limit, unit = MAX_CJK, "Chinese characters"
    else:
        limit, unit = MAX_WORDS, "words"
    return PromptStats(
        characters=len(prompt),
        words=words,
        cjk=cjk,
        tokens=approx_tokens(prompt),
        limit=limit,
        unit=unit,
        used=round(fraction * limit),
        over=fraction > 1,
    )


def lint(
    prompt: str,
    *,
    model: str | catalog.ModelSpec,
    images: int = 0,
    videos: int = 0,
    audios: int = 0,
    web_search: bool = False,
) -> list[Hint]:
    """All hints for a prompt on a model, sorted by position.

    ``images``/``videos``/``audios`` are how many media of each kind the request
    carries; ``web_search`` is whether the Web search switch is on.

    >>> [h.code for h in lint('He whispers: run.', model="seedance-2.0-text-to-video")]
    ['structure', 'unquoted-dialogue']
    """
    spec = _resolve_model(model)
    if not prompt.strip():
        return [
            Hint(
                code="empty-prompt",
                severity="error",
                message="Write what should happen in the video: the prompt cannot be empty.",
                start=0,
                end=len(prompt),
            )
        ]
    st = stats(prompt)
    hints = [
        *_curly_quotes(prompt),
        *_single_quoted_dialogue(prompt),
        *_unquoted_dialogue(prompt),
        *_unbalanced_quotes(prompt),
        *_aspect_ratios(prompt),
        *_resolutions(prompt, spec),
        *_timestamps(prompt),
        *_web_search(prompt, spec, web_search),
        *_media_references(prompt, spec, {"image": images, "video": videos, "audio": audios}),
        *_too_long(prompt, st),
        *_structure(prompt, st),
    ]
    return sorted(hints, key=lambda h: (h.start, h.end, h.code))


def apply_fixes(prompt: str, hints: Iterable[Hint]) -> str:
    """The prompt with every safe fix applied at once.

    Fixes are applied right to left so earlier spans stay valid; when two fixes
    overlap, the one that starts first wins and the other is skipped (lint again
    to see whether it is still needed).

    >>> p = 'She says: “Hi”'
    >>> apply_fixes(p, lint(p, model="seedance-2.0-text-to-video"))
    'She says: "Hi"'
    """
    chosen: list[Hint] = []
    last_end = -1
    for h in sorted((h for h in hints if h.fix is not None), key=lambda h: (h.start, h.end)):
        if chosen and h.start < last_end:
            continue
        if chosen and (h.start, h.end) == (chosen[-1].start, chosen[-1].end):
            continue  # two rules proposing a fix for the same text: apply it once
        chosen.append(h)
        last_end = h.end
    for h in reversed(chosen):
        prompt = prompt[: h.start] + h.fix + prompt[h.end :]
    return prompt

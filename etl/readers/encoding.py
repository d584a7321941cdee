"""Text encoding of an input file: detected from the bytes and checked for plausibility, or declared.

Exports from Chinese office systems come in UTF-8 (with or without BOM) or GBK/GB18030. Big5
(Taiwan, Hong Kong) and Shift-JIS (Japan) bytes almost always decode as GB18030 too, into
gibberish; so a GB18030 decoding is accepted only when its characters are the ones Chinese text
is made of (GB2312 hanzi, CJK and full-width punctuation). When it is not, the other candidates
are tried and the load stops with a message naming the likely encoding. ``--encoding`` on the
command line (:func:`forced_encoding`) or ``encoding`` in a ``source.toml`` declares it instead;
a declared encoding is used as given.
"""

from __future__ import annotations

import codecs
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from functools import cache
from typing import Any

from etl.declared import declared
from geo.errors import ConfigError, InputError

IMPLAUSIBLE_SHARE = 0.2  # share of unusual non-ASCII characters above which a decoding is doubted
IMPLAUSIBLE_MIN = 4  # ... and at least this many of them (one rare name is no evidence)
SAMPLE_CHARS = 1 << 18  # characters looked at from the start, middle and end of a file

# names people write → the Python codec used (each a superset of the name's standard)
_ALIASES = {
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "cp936": "gb18030",
    "936": "gb18030",
    "big5": "cp950",
    "950": "cp950",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "932": "cp932",
    "utf8": "utf-8",
    "65001": "utf-8",
}
# the alternatives tried when GB18030 looks wrong: (name in messages, codec)
_CANDIDATES = (("big5", "cp950"), ("shift_jis", "cp932"))

_forced: ContextVar[str | None] = ContextVar("egis_forced_encoding", default=None)


def codec_name(name: str) -> str:
    """The Python codec for an encoding name as people write it (``GBK`` → ``gb18030``, ``big5`` → ``cp950``).

    Raises
    ------
    ConfigError
        When Python knows no such encoding.
    """
    key = name.strip().lower()
    codec = _ALIASES.get(key, key)
    try:
        return codecs.lookup(codec).name
    except LookupError as exc:
        raise ConfigError(f"unknown encoding {name!r} (e.g. utf-8, gbk, gb18030, big5, shift_jis)") from exc


@contextmanager
def forced_encoding(name: str | None) -> Iterator[None]:
    """Read every text file in this block in encoding ``name`` (``--encoding``); ``None`` changes nothing."""
    token = _forced.set(codec_name(name) if name else None)
    try:
        yield
    finally:
        _forced.reset(token)


def declared_encoding(config: dict[str, Any] | None = None) -> str | None:
    """The encoding declared for a file: ``--encoding`` wins over ``encoding`` in its ``source.toml``; else ``None``.

    The same precedence as the CRS (:func:`etl.declared.declared`); without either, a ``.cpg`` or
    detection decides.

    Raises
    ------
    ConfigError
        When ``source.toml`` names an encoding Python does not know.
    """
    return declared("encoding", _forced.get(), config, codec_name)


def forced_encoding_name() -> str | None:
    """The codec ``--encoding`` forces in this block (:func:`forced_encoding`), or None: part of an input's identity."""
    return _forced.get()


def decode(data: bytes, source: str, encoding: str | None = None) -> tuple[str, str]:
    """The text of ``data`` and the codec used: ``encoding`` when given, else detected.

    Raises
    ------
    InputError
        When the bytes do not decode in the declared encoding, or the detected decoding is
        implausible; the message names ``source`` and the likely encoding.
    """
    if encoding:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise InputError(
                f"cannot read {source}: the bytes are not {encoding} (bad byte at offset {exc.start})"
            ) from exc
    return _detected(data, source)


def detect_encoding(data: bytes, source: str = "text") -> str:
    """``utf-8-sig`` (BOM), ``utf-8`` or ``gb18030`` (a superset of GBK), from the bytes.

    Raises
    ------
    InputError
        When the bytes are none of these, or decode as GB18030 into text that is not plausibly
        Chinese; the message names ``source`` and, when one fits, the likely encoding.
    """
    return _detected(data, source)[1]


def _detected(data: bytes, source: str) -> tuple[str, str]:
    """The text and codec of :func:`detect_encoding` (the bytes are decoded once)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        likely = _likely(data)
        hint = f"; it looks like {likely[0]} (give --encoding {likely[0]})" if likely else ""
        raise InputError(
            f"cannot read {source}: text is neither UTF-8 nor GBK/GB18030 (bad byte at offset {exc.start}){hint}"
        ) from exc
    share, unusual = implausible_share(text, "gb18030")
    if share <= IMPLAUSIBLE_SHARE or unusual < IMPLAUSIBLE_MIN:
        return text, "gb18030"
    likely = _likely(data, better_than=share)
    if likely:
        name = likely[0]
        raise InputError(
            f"cannot read {source}: 文件编码疑似 {name}，按 GBK 读出为乱码 (the text decodes as GBK/GB18030 into "
            f"gibberish: {share:.0%} of its characters are unusual; it looks like {name}). "
            f'Convert it to UTF-8, or load it with --encoding {name} (or encoding = "{name}" in source.toml)'
        )
    raise InputError(
        f"cannot read {source}: 文件编码无法识别 (the text decodes as GBK/GB18030 into unusual characters "
        f"({share:.0%}) and neither Big5 nor Shift-JIS fits). Give the encoding with --encoding "
        f'(or encoding = "..." in source.toml); --encoding gb18030 reads it as GB18030 anyway'
    )


def _likely(data: bytes, better_than: float = 1.0) -> tuple[str, float] | None:
    """The candidate encoding whose decoding looks most like real text, if one looks plausible."""
    best: tuple[str, float] | None = None
    for name, codec in _CANDIDATES:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        share, _ = implausible_share(text, codec)
        if share <= IMPLAUSIBLE_SHARE and share < better_than / 2 and (best is None or share < best[1]):
            best = (name, share)
    return best


def implausible_share(text: str, codec: str) -> tuple[float, int]:
    """Share and count of non-ASCII characters (in a sample) that text in ``codec`` rarely holds.

    Unusual are characters outside the common set of the encoding's language (for GB18030: GB2312
    hanzi and punctuation, so kana, Cyrillic, GBK extension hanzi, rare CJK extension characters,
    private-use characters and U+FFFD are unusual).
    """
    counts = Counter(_sample(text))
    common = _common(codec)
    total = unusual = 0
    for char, n in counts.items():
        if char < "\x80":
            continue
        total += n
        if char not in common:
            unusual += n
    return (unusual / total if total else 0.0), unusual


def _sample(text: str) -> str:
    if len(text) <= 3 * SAMPLE_CHARS:
        return text
    middle = len(text) // 2
    return text[:SAMPLE_CHARS] + text[middle : middle + SAMPLE_CHARS] + text[-SAMPLE_CHARS:]


# common ranges of each encoding, as (first lead, last lead, first trail, last trail) byte ranges
_COMMON_RANGES = {
    # GB2312: punctuation and full-width forms (rows A1-A3), hanzi levels 1 and 2 (rows B0-F7)
    "gb18030": ((0xA1, 0xA3, 0xA1, 0xFE), (0xB0, 0xF7, 0xA1, 0xFE)),
    # Big5: symbols and punctuation (A140-A3BF), frequently used hanzi (A440-C67E)
    "cp950": ((0xA1, 0xA3, 0x40, 0xFE), (0xA4, 0xC6, 0x40, 0xFE)),
    # Shift-JIS: symbols, kana, Greek, Cyrillic (rows 81-84), JIS level 1 kanji (889F-9872)
    "cp932": ((0x81, 0x84, 0x40, 0xFC), (0x88, 0x98, 0x40, 0xFC)),
}
_COMMON_SINGLE = {"cp932": range(0xA1, 0xE0)}  # half-width katakana
_COMMON_EVERYWHERE = "".join(chr(c) for c in [*range(0x3000, 0x3040), *range(0xFF01, 0xFF5F)])


@cache
def _common(codec: str) -> frozenset[str]:
    chars = set(_COMMON_EVERYWHERE)
    for lead_lo, lead_hi, trail_lo, trail_hi in _COMMON_RANGES.get(codec, ()):
        for lead in range(lead_lo, lead_hi + 1):
            for trail in range(trail_lo, trail_hi + 1):
                with suppress(UnicodeDecodeError):
                    chars.add(bytes((lead, trail)).decode(codec))
    for byte in _COMMON_SINGLE.get(codec, ()):
        chars.add(bytes((byte,)).decode(codec))
    chars.discard("\ufffd")
    chars -= {chr(c) for c in range(0xE000, 0xF900)}  # private use: never common
    return frozenset(chars)

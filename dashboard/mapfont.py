"""The font of the map's names, served by the app: a Debian CJK font made loadable by browsers.

Browsers load a web font only after a sanitiser (Chromium's OTS) accepts it, and it refuses
Debian's ``wqy-microhei.ttc`` (a TrueType collection with a misaligned ``FFTM`` table). The first
request converts the collection's first face into a plain TrueType file under
``EGIS_VAR_DIR/fonts`` (a few seconds, once per machine) with fontTools; later requests send that file.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont

from geo.settings import get_settings

FONT_FILES = (  # Debian's CJK fonts (scripts/system-packages.sh installs the first); the first found is used
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
DROPPED_TABLES = ("FFTM",)  # FontForge's timestamps: no use to a browser, and misaligned in wqy-microhei
_lock = threading.Lock()


def source_font() -> Path | None:
    """The installed CJK font the map font is made from (None when none of :data:`FONT_FILES` is)."""
    return next((path for path in FONT_FILES if path.is_file()), None)


def convert(source: Path, target: Path) -> Path:
    """Write the first face of ``source`` (a collection or a single font) to ``target`` as TrueType.

    The file is written beside ``target`` and renamed into place, so concurrent workers never
    read half a font.
    """
    font = TTCollection(source).fonts[0] if source.suffix.lower() in {".ttc", ".otc"} else TTFont(source)
    for tag in DROPPED_TABLES:
        if tag in font:
            del font[tag]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
    font.save(partial)
    partial.replace(target)
    return target


def map_font() -> Path | None:
    """The browser-loadable map font, converted on first use (None when no CJK font is installed)."""
    source = source_font()
    if source is None:
        return None
    target = get_settings().var_dir / "fonts" / f"{source.stem}.ttf"
    if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    with _lock:
        if not (target.is_file() and target.stat().st_mtime >= source.stat().st_mtime):
            convert(source, target)
    return target

"""Screenshots of every page at phone, laptop, desktop and 4K sizes, logged in as a user (the wall by its
kiosk link), saved under ``var/screens/`` to look at.

    .venv/bin/python bench/screens.py                  # synthetic demo-scale data in a scratch schema
    .venv/bin/python bench/screens.py --configured     # the configured database as loaded (make demo)
    .venv/bin/python bench/screens.py --sizes 390x844 --pages / /wall

Each page waits until its maps have drawn their data and the basemap's names (or 20 s), then saves
``<page>_<width>x<height>.png``. Prints the files and, per page, what overflows the window's width.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._browser import CHROMIUM, CHROMIUM_ARGS, sign_in  # noqa: E402
from bench.bench_dashboard import _NAMES_DRAWN, make_accounts, prepare, start_gunicorn, tear_down  # noqa: E402

SIZES = ("390x844", "1366x768", "1920x1080", "3840x2160")
PAGES = ("/", "/wall", "/squad/ZD01", "/street/JL001", "/cases", "/plan/ZD01")
# The maps on show (not those of a hidden tab or panel); charts are plotly graphs without a map.
_SHOWN_MAPS = """[...document.querySelectorAll('.js-plotly-plot')].filter(g => g._fullLayout && g._fullLayout.map
        && g.offsetParent !== null)"""
_MAPS_DRAWN = f"""() => {{ const maps = {_SHOWN_MAPS};
    if (!document.querySelector('#_pages_content, #react-entry-point')) return false;
    return maps.length > 0 && maps.every(g => g.querySelector('canvas.maplibregl-canvas')); }}"""
# What makes the page wider than the window (elements clipped inside a scrolling grid do not count).
_OVERFLOW = """() => document.documentElement.scrollWidth <= window.innerWidth ? [] :
    [...document.querySelectorAll('body *')].filter(e => { const r = e.getBoundingClientRect();
        return r.width > 0 && r.right > window.innerWidth + 1; }).slice(0, 5)
    .map(e => (e.id ? '#' + e.id : e.tagName.toLowerCase() + '.' + [...e.classList].join('.')))"""


def _name(path: str) -> str:
    return path.strip("/").replace("/", "_") or "home"


def shoot(base: str, user: str, password: str, kiosk: str, pages: list[str], sizes: list[str], out: Path) -> None:
    """Save a screenshot of every page at every size under ``out``; print overflowing elements."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for size in sizes:
            width, height = (int(v) for v in size.split("x"))
            for path in pages:
                context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
                page = context.new_page()
                if path.startswith("/wall"):
                    sign_in(page, base, "", kiosk_token=kiosk)
                else:
                    sign_in(page, base, user, password)
                page.goto(base + path)
                try:
                    page.wait_for_function(_MAPS_DRAWN, timeout=20000, polling=200)
                    shown = f"{_SHOWN_MAPS}.map(g => g.closest('.dash-graph')?.id).filter(id => id)"
                    for graph in page.evaluate(shown):
                        page.wait_for_function(_NAMES_DRAWN, arg=[graph], timeout=20000, polling=200)
                except Exception as exc:  # a page without a map, or one that did not draw: shoot it anyway
                    reason = str(exc).splitlines()[0] if str(exc) else ""
                    print(f"  {path} at {size}: {type(exc).__name__} while waiting for the map: {reason}")
                page.wait_for_timeout(800)
                file = out / f"{_name(path)}_{size}.png"
                page.screenshot(path=str(file))
                overflow = page.evaluate(_OVERFLOW)
                print(f"  {file}" + (f"  overflows the width: {', '.join(overflow)}" if overflow else ""), flush=True)
                context.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configured", action="store_true", help="use the configured database as it is")
    parser.add_argument("--sizes", nargs="+", default=list(SIZES))
    parser.add_argument("--pages", nargs="+", default=list(PAGES))
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "screens")
    args = parser.parse_args()
    db_url, schema = prepare(args.configured, 14000)
    accounts = make_accounts(db_url)
    log = ROOT / "var" / "screens-access.log"
    server, base = start_gunicorn(db_url, 2, log)
    try:
        shoot(base, accounts.user, accounts.password, accounts.kiosk, args.pages, args.sizes, args.out)
    finally:
        tear_down(server, db_url, accounts, schema)


if __name__ == "__main__":
    main()

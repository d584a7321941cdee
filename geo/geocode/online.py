"""Optional online geocoder (天地图 Tianditu) for addresses the offline gazetteer cannot place; off by default.

Enabled with ``EGIS_GEOCODER_ONLINE=tianditu`` and a key in ``EGIS_TIANDITU_KEY``. Every answer
is kept in an on-disk cache (one JSON file per address), so an address is asked at most once.
Tianditu answers in CGCS2000, taken as WGS-84 here (see ``geo/crs.py``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo.errors import ConfigError

TIANDITU_URL = "https://api.tianditu.gov.cn/geocoder"
# Tianditu's result levels → ours; coarser answers (城市, 区县) are not used.
LEVELS = {"门址": "门牌", "门牌": "门牌", "道路": "道路", "兴趣点": "小区或地点", "村庄": "村社区", "乡镇": "乡镇"}

Fetch = Callable[[str, dict[str, str]], dict[str, Any]]


@dataclass(frozen=True)
class OnlineHit:
    """A point from the online service with our level and a 0–1 score."""

    lon: float
    lat: float
    level: str
    score: float


def _http_get(url: str, params: dict[str, str]) -> dict[str, Any]:
    import requests

    response = requests.get(url, params=params, timeout=5, headers={"User-Agent": "egis-geocoder"})
    response.raise_for_status()
    return response.json()


class TiandituGeocoder:
    """Ask Tianditu's geocoder, through an on-disk cache.

    Parameters
    ----------
    key
        The Tianditu key (a secret, from the environment).
    cache_dir
        Folder of the cache; created when needed.
    fetch
        The HTTP call (URL, query parameters) → JSON; replaced in tests, which never use the network.
    """

    def __init__(self, key: str | None, cache_dir: Path, fetch: Fetch | None = None) -> None:
        if not key:
            raise ConfigError("EGIS_GEOCODER_ONLINE=tianditu needs a key in EGIS_TIANDITU_KEY")
        self.key = key
        self.cache_dir = Path(cache_dir)
        self.fetch = fetch or _http_get

    def _cache_file(self, address: str) -> Path:
        digest = hashlib.sha1(address.encode("utf-8"), usedforsecurity=False).hexdigest()
        return self.cache_dir / digest[:2] / f"{digest}.json"

    def lookup(self, address: str) -> OnlineHit | None:
        """The service's answer for ``address`` (cached), or None when it has no usable one."""
        cached = self._cache_file(address)
        if cached.exists():
            answer = json.loads(cached.read_text(encoding="utf-8"))
        else:
            try:
                answer = self.fetch(
                    TIANDITU_URL, {"ds": json.dumps({"keyWord": address}, ensure_ascii=False), "tk": self.key}
                )
            except Exception:  # the network or the service failed: no answer, nothing cached
                return None
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_text(json.dumps(answer, ensure_ascii=False), encoding="utf-8")
        return _hit(answer)


def _hit(answer: dict[str, Any]) -> OnlineHit | None:
    location = answer.get("location") if str(answer.get("status", "")) == "0" else None
    if not isinstance(location, dict):
        return None
    level = LEVELS.get(str(location.get("level", "")))
    try:
        lon, lat = float(location["lon"]), float(location["lat"])
        score = float(location.get("score", 0)) / 100
    except (KeyError, TypeError, ValueError):
        return None
    return OnlineHit(lon, lat, level, score) if level else None

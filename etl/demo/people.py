"""Fictitious personal data of the real shapes: names, mobile numbers, ID numbers, credit codes, firms."""

from __future__ import annotations

import numpy as np

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆汪范金石廖贾夏韦傅方邹熊孟秦邱"
)
SURNAME_WEIGHTS = np.linspace(3.0, 0.5, len(SURNAMES))
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华建国志红玲飞鹏斌宇浩凯晨辉婷燕兰峰鑫波海亮琴")

FIRM_WORDS = list("兴旺鑫隆泰顺发盛宏达恒通源昌丰华美佳和信安康瑞祥永利金诚")
FIRM_TRADES = [
    ("餐饮店", "个体"),
    ("小吃店", "个体"),
    ("水果店", "个体"),
    ("五金店", "个体"),
    ("建材商行", "个体"),
    ("汽车修理厂", "个体"),
    ("建筑工程有限公司", "企业"),
    ("房地产开发有限公司", "企业"),
    ("渣土运输有限公司", "企业"),
    ("物流有限公司", "企业"),
    ("工贸有限公司", "企业"),
    ("广告有限公司", "企业"),
    ("燃气有限公司", "企业"),
    ("养殖专业合作社", "企业"),
]

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])


def names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` fictitious Chinese personal names (surname + one or two given characters)."""
    p = SURNAME_WEIGHTS / SURNAME_WEIGHTS.sum()
    surname = rng.choice(len(SURNAMES), size=n, p=p)
    two = rng.random(n) < 0.7
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = rng.integers(0, len(GIVEN), n)
    return [SURNAMES[s] + GIVEN[a] + (GIVEN[b] if t else "") for s, a, b, t in zip(surname, g1, g2, two, strict=True)]


def mobiles(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` 11-digit mainland mobile numbers (13x/15x/17x/18x/19x prefixes)."""
    prefixes = np.array(["133", "135", "136", "137", "138", "139", "150", "151", "157", "158", "159", "177", "187"])
    prefixes = np.concatenate([prefixes, np.array(["188", "189", "198", "199", "130", "131", "132", "155", "156"])])
    head = rng.choice(prefixes, size=n)
    tail = rng.integers(0, 10**8, n)
    return [f"{h}{t:08d}" for h, t in zip(head, tail, strict=True)]


def id_numbers(rng: np.random.Generator, n: int, areas: list[str] | tuple[str, ...]) -> list[str]:
    """``n`` 18-character resident ID numbers with a valid check digit, born 1955–2004, of division codes ``areas``."""
    area = rng.choice(areas, size=n)
    days = rng.integers(0, (2004 - 1955) * 365, n)
    births = np.datetime64("1955-01-01") + days.astype("timedelta64[D]")
    seq = rng.integers(1, 999, n)
    first = np.char.add(
        np.char.add(area, np.char.replace(births.astype(str), "-", "")), np.char.zfill(seq.astype(str), 3)
    )
    digits = np.frombuffer(first.astype("S17").tobytes(), dtype=np.uint8).reshape(n, 17) - ord("0")
    checks = np.array(list(_ID_CHECK))[(digits @ _ID_WEIGHTS) % 11]
    return np.char.add(first, checks).tolist()


def credit_codes(rng: np.random.Generator, n: int, division: str, individual: np.ndarray | None = None) -> list[str]:
    """``n`` unified social credit codes with valid check characters (92… sole traders, 91… firms).

    Layout (GB 32100-2015): registration authority and type (2), division code (6, ``division``), organisation
    code (8 + its own GB 11714 check character), check character.
    """
    body = rng.integers(0, 10, (n, 8))
    org_check = 11 - (body @ _ORG_WEIGHTS) % 11
    org_char = np.where(org_check == 11, "0", np.where(org_check == 10, "X", org_check.astype(str)))
    kind = np.where(individual if individual is not None else np.zeros(n, dtype=bool), "92", "91")
    body_text = (body + ord("0")).astype(np.uint8).tobytes()
    body_text = np.frombuffer(body_text, dtype="S8").astype(str) if n else np.array([], dtype=str)
    first = np.char.add(np.char.add(np.char.add(kind, division), body_text), org_char)
    lookup = np.full(128, -1)
    lookup[[ord(c) for c in _USCC_CHARS]] = np.arange(len(_USCC_CHARS))
    codes = lookup[np.frombuffer(first.astype("S17").tobytes(), dtype=np.uint8).reshape(n, 17)]
    check = np.array(list(_USCC_CHARS))[(31 - (codes @ _USCC_WEIGHTS) % 31) % 31]
    return np.char.add(first, check).tolist()


def firms(rng: np.random.Generator, n: int, places: list[str], county: str) -> tuple[list[str], np.ndarray]:
    """``n`` fictitious business names and whether each is a sole trader (个体工商户).

    Sole traders are named after one of ``places`` (township short names), firms after ``county``
    (the county's short name).
    """
    trade = rng.integers(0, len(FIRM_TRADES), n)
    w1 = rng.integers(0, len(FIRM_WORDS), n)
    w2 = rng.integers(0, len(FIRM_WORDS), n)
    where = rng.integers(0, len(places), n)
    out, individual = [], np.zeros(n, dtype=bool)
    for i in range(n):
        name, kind = FIRM_TRADES[trade[i]]
        individual[i] = kind == "个体"
        prefix = places[where[i]] if individual[i] else county
        out.append(f"{prefix}{FIRM_WORDS[w1[i]]}{FIRM_WORDS[w2[i]]}{name}")
    return out, individual

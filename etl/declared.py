"""What the user declared about an input, in one order of precedence for every setting.

The command line (``--crs``, ``--encoding``) wins over the ``source.toml`` beside the files
(``crs = "gcj02"``, ``encoding = "big5"``); without either, the file's own (a ``.prj``, a
``.cpg``) decides, and without that a default (or, for text, detection). The setting-specific
callers are :func:`etl.source_crs.input_crs` and :func:`etl.readers.encoding.declared_encoding`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from geo.errors import ConfigError


def declared(
    key: str, given: str | None, config: Mapping[str, Any] | None, normalize: Callable[[str], str]
) -> str | None:
    """The value declared for ``key``: ``given`` (the command line) wins over ``key`` in ``source.toml``.

    Parameters
    ----------
    key
        The setting's name in ``source.toml`` (``crs``, ``encoding``).
    given
        The command line's value, or None.
    config
        The settings of the ``source.toml`` that applies (``_file`` names it), or None.
    normalize
        Checks a value and gives its canonical form; raises :class:`ConfigError` when it is invalid.

    Returns
    -------
    str or None
        The canonical value, or None when neither declares one (the file's own or a default decides).

    Raises
    ------
    ConfigError
        When a declared value is invalid; for ``source.toml`` the message names the file.
    """
    if given:
        return normalize(given)
    value = (config or {}).get(key)
    if not value:
        return None
    try:
        return normalize(str(value))
    except ConfigError as exc:
        raise ConfigError(f"{(config or {}).get('_file', 'source.toml')}: {exc}") from exc

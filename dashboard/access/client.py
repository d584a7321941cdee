"""The client address of a request: ``X-Forwarded-For`` is believed only from a trusted proxy."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

UNKNOWN = "unknown"


def _parse(value: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(value.strip())
    except ValueError:
        return None


def client_address(
    remote_addr: str | None, forwarded_for: str | None, trusted: Sequence[IPv4Network | IPv6Network]
) -> str:
    """The address of the client behind the connection from ``remote_addr``.

    Without trusted proxies the header is ignored: anyone can write it. Otherwise the hops of
    ``X-Forwarded-For`` are walked from the right (the one the nearest proxy appended) as long as
    the address that sent them is a trusted proxy; the first hop not vouched for that way is the
    client. A malformed hop stops the walk at the last address known to be true.

    Parameters
    ----------
    remote_addr
        The peer address of the TCP connection.
    forwarded_for
        The ``X-Forwarded-For`` header as received (hops separated by commas), or None.
    trusted
        The networks of the reverse proxies whose header is believed.

    Returns
    -------
    str
        An IP address in its normal form, or ``"unknown"`` when the connection has none.
    """
    current = _parse(remote_addr or "")
    if current is None:
        return UNKNOWN
    hops = [hop for hop in (forwarded_for or "").split(",") if hop.strip()]
    while hops and any(current in network for network in trusted):
        hop = _parse(hops.pop())
        if hop is None:
            break
        current = hop
    return str(current)

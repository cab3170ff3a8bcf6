"""Where deliveries may go: public addresses only.

A webhook makes our servers send requests to a URL someone typed in, so that URL must not
reach anything inside the operator's network (server-side request forgery): every address
the host name resolves to must be a public (global) one — no loopback, private ranges
(10/8, 172.16/12, 192.168/16, fc00::/7), link-local (cloud metadata at 169.254.169.254),
shared or reserved space. ``WEBHOOK_ALLOW_LOOPBACK`` admits 127.0.0.0/8 and ::1 besides,
for tests and local development; it is off in production. The check runs when an endpoint
is registered and again before every request, which then goes to the address that was
checked (so a name that re-resolves to another address in between gains nothing).
Plain ``http`` is accepted only for loopback; everything else needs ``https``.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class AddressRefused(Exception):
    pass


def _allow_loopback() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_LOOPBACK", False))


def _address_ok(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return _allow_loopback()
    return ip.is_global and not ip.is_multicast


def url_target(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, address)`` for a URL deliveries may go to; raises
    ``AddressRefused`` (with a message for the owner) otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused(_("Enter a valid URL.")) from None
    host = parts.hostname or ""
    if parts.scheme not in {"http", "https"} or not host:
        raise AddressRefused(_("Enter an http or https URL."))
    if parts.username or parts.password:
        raise AddressRefused(_("The URL may not contain a user name or password."))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise AddressRefused(_("The host name of this URL cannot be resolved.")) from None
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses or not all(_address_ok(a) for a in addresses):
        raise AddressRefused(
            _("Webhooks can only be sent to public internet addresses, not to %(host)s.")
            % {"host": host}
        )
    loopback_only = all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses)
    if parts.scheme != "https" and not loopback_only:
        raise AddressRefused(_("Use an https URL."))
    return parts.scheme, host, port, addresses[0]

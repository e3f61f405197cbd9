"""Email addresses as the consent rules key them: one normalized address per person.

Normalized means trimmed, lower-cased, with the domain IDNA-encoded (UTS #46 mapping, IDNA 2008),
so `Ada@MÜNCHEN.example ` and `ada@xn--mnchen-3ya.example` are the same person.

Validity is the practical subset both APIs accept: a dot-atom local part of ASCII characters and a
DNS host name of at least two labels. Quoted local parts, address literals (`a@[1.2.3.4]`) and
non-ASCII local parts are refused: Salesforce rejects them on write (`INVALID_EMAIL_ADDRESS`), so
they could never be matched across the two systems.
"""

from __future__ import annotations

import functools
import re

import idna

MAX_ADDRESS = 254  # RFC 5321 path limit minus the angle brackets
MAX_LOCAL = 64
MAX_DOMAIN = 253
MAX_LABEL = 63

_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


class InvalidEmail(ValueError):
    """An address that cannot key a person; `reason` says what is wrong with it."""

    def __init__(self, raw: object, reason: str) -> None:
        super().__init__(f"{raw!r}: {reason}")
        self.raw = raw
        self.reason = reason


def normalize_email(raw: object) -> str:
    """The normalized form of ``raw``, or :class:`InvalidEmail` saying why there is none."""
    if raw is None:
        raise InvalidEmail(raw, "no email address")
    if not isinstance(raw, str):
        raise InvalidEmail(raw, f"not a string but {type(raw).__name__}")
    text = raw.strip()
    if not text:
        raise InvalidEmail(raw, "no email address")
    if any(ch.isspace() for ch in text):
        raise InvalidEmail(raw, "contains whitespace")
    if text.count("@") != 1:
        reason = "no '@'" if "@" not in text else "more than one '@'"
        raise InvalidEmail(raw, reason)
    local, domain = text.split("@")
    address = f"{_normalize_local(raw, local)}@{_normalize_domain(raw, domain)}"
    if len(address) > MAX_ADDRESS:
        raise InvalidEmail(raw, f"longer than {MAX_ADDRESS} characters")
    return address


def _normalize_local(raw: object, local: str) -> str:
    if not local:
        raise InvalidEmail(raw, "empty local part")
    if len(local) > MAX_LOCAL:
        raise InvalidEmail(raw, f"local part longer than {MAX_LOCAL} characters")
    if not local.isascii():
        raise InvalidEmail(raw, "non-ASCII characters before the '@'")
    if not all(_ATEXT.fullmatch(atom) for atom in local.split(".")):
        raise InvalidEmail(raw, "invalid characters or dots before the '@'")
    return local.lower()


def _normalize_domain(raw: object, domain: str) -> str:
    ascii_domain, reason = _domain(domain)
    if ascii_domain is None:
        raise InvalidEmail(raw, reason or "invalid domain")
    return ascii_domain


# A real org's addresses share few domains, and IDNA encoding was most of the cost of an address
@functools.lru_cache(maxsize=4096)
def _domain(domain: str) -> tuple[str | None, str | None]:
    """The domain's normalized form, or None and why there is none."""
    if not domain:
        return None, "empty domain"
    if domain.startswith("["):
        return None, "address literals are not accepted"
    try:
        # uts46 maps case and compatibility forms first, as browsers and mail clients do
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        return None, f"invalid domain ({exc})"
    ascii_domain = ascii_domain.lower()
    labels = ascii_domain.split(".")
    if len(labels) < 2:
        return None, "domain has no dot"
    if len(ascii_domain) > MAX_DOMAIN:
        return None, f"domain longer than {MAX_DOMAIN} characters"
    for label in labels:
        if not label or len(label) > MAX_LABEL or not _LABEL.fullmatch(label):
            return None, f"invalid domain label {label!r}"
    if labels[-1].isdigit():
        return None, "top-level domain is numeric"
    return ascii_domain, None

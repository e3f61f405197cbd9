"""Before reading: every field the sync needs must be visible to the connected user (describe)."""

from __future__ import annotations

import logging

from .fields import FIELDS, optional, required

FLS_HINT = ("make it visible to the integration user: Setup, Security Controls, Field "
            "Accessibility (or the field's Set Field-Level Security), for the connected user's "
            "profile, then run again")


class HiddenField(Exception):
    pass


def fields_to_read(sobject: str, visible: dict[str, str], named: list[str],
                   logger: logging.Logger) -> dict[str, str]:
    """The fields to select, name -> describe type.

    `visible` is describe's answer (a field hidden by Field-Level Security is absent from it);
    `named` are the fields the user named in extra_fields and selection.
    """
    hidden = [f for f in required(sobject, visible) if f not in visible]
    if hidden:
        raise HiddenField(
            f"{sobject}.{hidden[0]} is not visible to the Salesforce user of this connection "
            f"(hidden by Field-Level Security, or it does not exist): {FLS_HINT}.")
    unknown = [f for f in named if f not in visible]
    if unknown:
        raise HiddenField(
            f"{sobject} has no field {unknown[0]!r} visible to this user (named in extra_fields "
            f"or selection): check the API name, or {FLS_HINT}.")
    skipped = [f for f in FIELDS[sobject] if f not in visible and f not in optional(sobject)]
    if skipped:
        logger.warning("%s: fields %s are not visible to this user and are not read", sobject,
                       skipped)
    return {f: visible[f] for f in dict.fromkeys([*FIELDS[sobject], *named]) if f in visible}

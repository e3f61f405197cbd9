"""The mapper's settings: their JSON schema for the SDK and a typed, checked view of them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from singer_sdk import typing as th

from consent_mapper.activity_settings import (
    ACTIVITY_PROPERTIES,
    DEFAULT_ACTIVITY_TYPES,
    DEFAULT_KEY_FIELD,
    check_activity_settings,
)

SALESFORCE_TO_AUTOPILOT = "salesforce_to_autopilot"
AUTOPILOT_TO_SALESFORCE = "autopilot_to_salesforce"
PLATFORMS = ("autopilot", "activecampaign")
# "salesforce_to_<platform>" reads the CRM; "<platform>_to_salesforce" reads the platform
DIRECTIONS = tuple(d for p in PLATFORMS for d in (f"salesforce_to_{p}", f"{p}_to_salesforce"))
ON_EXIT_REMOVE, ON_EXIT_KEEP = "remove", "keep"

# platform fields the mapper fills itself: a field_map entry must not overwrite them
RESERVED_TARGET_NAMES = frozenset(
    {"Email", "unsubscribed", "lists", "lists_remove", "custom_fields", "_sdc_deleted_at",
     "email", "resubscribe_lists", "tags", "fields", "id", "_delete", "contact_id"}
)

# a Person Account's address: never a company value (R9)
ACCOUNT_ADDRESS_FIELDS = frozenset({"PersonEmail"})

CONFIG_SCHEMA: dict = th.PropertiesList(
    th.Property("direction", th.StringType, required=True, allowed_values=list(DIRECTIONS),
                description="Which way this mapping runs and with which marketing platform: "
                            "Salesforce streams to platform contacts "
                            "(salesforce_to_autopilot, salesforce_to_activecampaign), or platform "
                            "contacts to Salesforce opt-outs (autopilot_to_salesforce, "
                            "activecampaign_to_salesforce)."),
    th.Property("on_exit", th.StringType, default=ON_EXIT_KEEP,
                allowed_values=[ON_EXIT_REMOVE, ON_EXIT_KEEP],
                description="What happens on the platform to a person whose Salesforce records "
                            "were deleted or left the selection: 'remove' deletes the contact, "
                            "'keep' leaves it."),
    th.Property("bounce_is_opt_out", th.BooleanType, default=True,
                description="A hard bounce on the platform counts as an opt-out."),
    th.Property("lead_list", th.StringType, default="Salesforce Leads",
                description="Platform list every person with a Salesforce Lead is put in."),
    th.Property("contact_list", th.StringType, default="Salesforce Contacts",
                description="Platform list every person with a Salesforce Contact or Person "
                            "Account is put in."),
    th.Property("field_map", th.ObjectType(additional_properties=th.StringType),
                description="Extra Salesforce field -> platform field name. Names that are not "
                            "the platform's standard fields are written as custom fields."),
    th.Property("account_field_map", th.ObjectType(additional_properties=th.StringType),
                description="Salesforce Account field -> platform field name, for the company "
                            "fields of every contact of that Account (the Account's Name is "
                            "the contact's Company); names that are not the platform's "
                            "standard fields are written as custom fields. Name the Account "
                            "fields in the tap's extra_fields too."),
    th.Property("dry_run", th.BooleanType, default=False,
                description="Run the whole pipeline and log every decision it would make, but "
                            "emit no records and no state and leave the ledger untouched."),
    th.Property("ledger_url", th.StringType, secret=True,
                description="SQLAlchemy URL of the consent ledger. Default: the SQLite file "
                            "`.meltano/consent-ledger.db` of the Meltano project "
                            "(`postgresql+psycopg://...` for teams running Meltano on several "
                            "machines; install the driver in the mapper's venv)."),
    th.Property("retry_after_runs", th.IntegerType, default=1,
                description="A write to one system that this many later reads of that system "
                            "did not see back is sent again (R7)."),
    th.Property("create_records", th.BooleanType, default=True,
                description="Platform to Salesforce: a contact in lead_list (contact_list) "
                            "whose address has no Salesforce record becomes a Lead (a "
                            "Contact; in both lists: a Lead), born with the agreed consent."),
    th.Property("create_owner_id", th.StringType,
                description="Salesforce user Id that owns the records created from the lists; "
                            "unset: the connected user."),
    th.Property("create_company_placeholder", th.StringType, default="[not provided]",
                description="Company of a Lead created for a contact without one (Salesforce "
                            "requires it); never copied back to the platform."),
    *ACTIVITY_PROPERTIES,
).to_dict()


def default_ledger_url() -> str:
    """The SQLite ledger inside the Meltano project's `.meltano/` folder (or the working one)."""
    root = Path(os.environ.get("MELTANO_PROJECT_ROOT") or ".")
    return f"sqlite:///{(root / '.meltano' / 'consent-ledger.db').resolve()}"


class SettingsError(ValueError):
    """A setting that passed the JSON schema but still cannot work."""


@dataclass(frozen=True)
class Settings:
    direction: str
    on_exit: str = ON_EXIT_KEEP
    bounce_is_opt_out: bool = True
    lead_list: str = "Salesforce Leads"
    contact_list: str = "Salesforce Contacts"
    field_map: Mapping[str, str] = field(default_factory=dict)
    account_field_map: Mapping[str, str] = field(default_factory=dict)
    dry_run: bool = False
    ledger_url: str | None = None
    retry_after_runs: int = 1
    create_records: bool = True
    create_owner_id: str | None = None
    create_company_placeholder: str = "[not provided]"
    activities: bool = False
    activity_types: tuple[str, ...] = DEFAULT_ACTIVITY_TYPES
    activity_key_field: str = DEFAULT_KEY_FIELD

    @property
    def platform(self) -> str:
        return self.direction.replace("salesforce_to_", "").replace("_to_salesforce", "")

    @property
    def reads_crm(self) -> bool:
        return self.direction.startswith("salesforce_to_")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Typed settings with the documented defaults (the SDK does not apply schema defaults)."""
        def pick(name: str, default: Any) -> Any:  # noqa: ANN401
            value = config.get(name)
            return default if value is None else value

        settings = cls(
            direction=config.get("direction", ""),
            on_exit=pick("on_exit", ON_EXIT_KEEP),
            bounce_is_opt_out=bool(pick("bounce_is_opt_out", True)),
            lead_list=pick("lead_list", "Salesforce Leads"),
            contact_list=pick("contact_list", "Salesforce Contacts"),
            field_map=dict(pick("field_map", {})),
            account_field_map=dict(pick("account_field_map", {})),
            dry_run=bool(pick("dry_run", False)),
            ledger_url=config.get("ledger_url") or None,
            retry_after_runs=int(pick("retry_after_runs", 1)),
            create_records=bool(pick("create_records", True)),
            create_owner_id=config.get("create_owner_id") or None,
            create_company_placeholder=pick("create_company_placeholder", "[not provided]"),
            activities=bool(pick("activities", False)),
            activity_types=tuple(pick("activity_types", DEFAULT_ACTIVITY_TYPES)),
            activity_key_field=str(pick("activity_key_field", DEFAULT_KEY_FIELD)),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.direction not in DIRECTIONS:
            raise SettingsError(
                f"setting 'direction' is {self.direction!r}: set it to one of {DIRECTIONS}")
        if self.on_exit not in (ON_EXIT_REMOVE, ON_EXIT_KEEP):
            raise SettingsError(
                f"setting 'on_exit' is {self.on_exit!r}: set it to 'remove' or 'keep'")
        if self.retry_after_runs < 1:
            raise SettingsError(
                f"setting 'retry_after_runs' is {self.retry_after_runs}: set it to 1 or more")
        if not str(self.create_company_placeholder).strip():
            raise SettingsError("setting 'create_company_placeholder' is empty: Salesforce "
                                "requires a Company on a Lead; give a stand-in such as "
                                "'[not provided]'")
        for name in ("lead_list", "contact_list"):
            if not str(getattr(self, name)).strip():
                raise SettingsError(f"setting {name!r} is empty: name a list of the platform")
        check_activity_settings(self.activity_types, self.activity_key_field, SettingsError)
        for name in ("field_map", "account_field_map"):
            for source, target in getattr(self, name).items():
                if not isinstance(target, str) or not target.strip():
                    raise SettingsError(
                        f"{name}[{source!r}] is {target!r}: give a platform field name")
                if target in RESERVED_TARGET_NAMES:
                    raise SettingsError(
                        f"{name}[{source!r}] targets {target!r}, which the consent mapper sets "
                        f"itself: remove that entry or map it to another field")
        for source in self.account_field_map:
            if source in ACCOUNT_ADDRESS_FIELDS:
                raise SettingsError(
                    f"account_field_map[{source!r}] maps an email address into company fields "
                    f"(R9: the address travels on the person's contact only): remove it")

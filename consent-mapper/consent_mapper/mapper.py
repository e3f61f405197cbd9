"""The Singer plumbing: read one side's streams, decide at the end of the input, emit the other's.

Records are folded per normalized address for the whole run. When the input ends, the consent
decisions are made against the ledger (see ``reconcile``) in one database transaction, which
commits before the records and the held-back STATE are emitted: a crash before the commit replays
the whole run; a crash after it leaves pending writes that the next run sends again (R7).
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import PluginCapabilities
from singer_sdk.mapper_base import InlineMapper
from singer_sdk.singerlib import Message, RecordMessage, SchemaMessage, StateMessage

from consent_mapper.addresses import InvalidEmail, normalize_email
from consent_mapper.decide import (
    AUTOPILOT_CONTACTS,
    LEAD,
    SALESFORCE_STREAMS,
    Observation,
    Person,
    Skip,
    SkipReason,
    observe_autopilot,
    observe_salesforce,
)
from consent_mapper.ledger import engine
from consent_mapper.ledger.store import Ledger
from consent_mapper.reconcile import Conversion, Reconciler, RunInput
from consent_mapper.report import RunReport
from consent_mapper.settings import (
    CONFIG_SCHEMA,
    ON_EXIT_REMOVE,
    SALESFORCE_TO_AUTOPILOT,
    Settings,
    SettingsError,
    default_ledger_url,
)
from consent_mapper.shapes import (
    StreamShape,
    autopilot_fields,
    contacts_shape,
    salesforce_shapes,
)


class ConsentMapper(InlineMapper):
    """Applies the consent rules between Salesforce and Autopilot streams."""

    name = "consent-mapper"
    package_name = "consentsync-consent-mapper"
    capabilities: t.ClassVar[list] = [PluginCapabilities.ABOUT,
                                      PluginCapabilities.STRUCTURED_LOGGING]
    config_jsonschema: t.ClassVar[dict] = CONFIG_SCHEMA

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        try:
            self.settings = Settings.from_config(self.config)
        except SettingsError as exc:
            raise ConfigValidationError("Config validation failed", errors=[str(exc)]) from exc
        self.to_autopilot = self.settings.direction == SALESFORCE_TO_AUTOPILOT
        self.input_streams = SALESFORCE_STREAMS if self.to_autopilot else (AUTOPILOT_CONTACTS,)
        self.output_shapes = [contacts_shape()] if self.to_autopilot else salesforce_shapes()
        self.seen = RunInput()
        self.held_state: dict | None = None
        self.schemas_sent = False
        self.report = RunReport()
        self.started_at = datetime.now(UTC).isoformat()

    # Singer messages in

    def map_schema_message(self, message_dict: dict) -> Iterable[Message]:
        return ()  # input schemas are swallowed: the output streams have shapes of their own

    def map_record_message(self, message_dict: dict) -> Iterable[Message]:
        stream, record = message_dict["stream"], message_dict["record"]
        if stream not in self.input_streams:
            return ()
        self.report.count(f"read_{stream}")
        if stream == LEAD and record.get("IsConverted") and record.get("ConvertedContactId"):
            self._converted_lead(record)
        seen = self._observe(stream, record)
        if isinstance(seen, Skip):
            self._skipped(seen)
            return ()
        self.seen.profiles.setdefault(seen.email, Person(seen.email)).add(seen)
        system = engine.SALESFORCE if self.to_autopilot else engine.AUTOPILOT
        # an Autopilot contact is known by its address as Autopilot spells it: one person may
        # have two (an IDN domain in Unicode and in punycode are two contacts there)
        record_id = (seen.source.record_id if self.to_autopilot
                     else str(record.get("Email")).strip().lower())
        key = engine.RecordKey(system, seen.source.object, record_id)
        if self.to_autopilot and seen.live:
            raw = str(record.get("PersonEmail" if stream == "Account" else "Email"))
            self.seen.spellings.setdefault(seen.email, raw.strip().lower())
        self.seen.observe(seen.email, engine.Observation(
            key, seen.opted_out, _utc(seen.changed_at), seen.live))
        return ()

    def map_state_message(self, message_dict: dict) -> Iterable[Message]:
        # held back: STATE passes only after the ledger committed and the records were emitted
        self.held_state = message_dict["value"]  # states are cumulative: the latest suffices
        return ()

    def map_activate_version_message(self, message_dict: dict) -> Iterable[Message]:
        return ()  # versions belong to the input streams, which are not passed on

    def map_batch_message(self, message_dict: dict) -> Iterable[Message]:
        raise NotImplementedError("BATCH messages are not supported: run the tap without batch")

    def process_endofpipe(self) -> None:
        dry_run = self.settings.dry_run
        ledger = Ledger(self.settings.ledger_url or default_ledger_url())
        messages: list[Message] = []
        try:
            with ledger.transaction(commit=not dry_run) as tx:
                source = engine.SALESFORCE if self.to_autopilot else engine.AUTOPILOT
                run_id = tx.start_run(self.settings.direction, source)
                reconciler = Reconciler(
                    tx, run_id, self.to_autopilot,
                    on_exit_remove=self.settings.on_exit == ON_EXIT_REMOVE,
                    retry_after_runs=self.settings.retry_after_runs,
                    started_at=self.started_at)
                for outcome in reconciler.run(self.seen):
                    for event in outcome.events:
                        self._log_event(outcome.email, event, dry_run)
                    for stream, record in outcome.records:
                        if dry_run:
                            self.logger.info("dry run: would send %s %s", stream, record)
                        else:
                            messages.append(RecordMessage(stream=stream, record=record))
                counts = reconciler.counts.as_dict()
                tx.finish_run(run_id, {**counts, "skipped": sum(self.report.skips.values())})
        finally:
            ledger.close()
        self.seen = RunInput()
        if messages:
            for shape in self.output_shapes:
                self.write_message(_schema_message(shape))
            for message in messages:
                self.write_message(message)
        if self.held_state is not None and not dry_run:
            self.write_message(StateMessage(value=self.held_state))
        self.held_state = None
        self._summary(counts, dry_run)

    # Decisions

    def _observe(self, stream: str, record: dict) -> Observation | Skip:
        if not self.to_autopilot:
            return observe_autopilot(record, self.settings.bounce_is_opt_out)
        seen = observe_salesforce(stream, record, self.settings.lead_list,
                                  self.settings.contact_list)
        if isinstance(seen, Observation) and seen.live:
            fields, custom = autopilot_fields(stream, record, self.settings.field_map)
            seen = replace(seen, fields=fields, custom_fields=custom)
        return seen

    def _converted_lead(self, record: dict) -> None:
        try:
            email: str | None = normalize_email(record.get("Email"))
        except InvalidEmail:
            email = None
        key = engine.RecordKey(engine.SALESFORCE, LEAD, str(record.get("Id")))
        lead = engine.Observation(key, bool(record.get("HasOptedOutOfEmail")),
                                  _utc(str(record.get("SystemModstamp") or "")),
                                  live=not record.get("IsDeleted"), writable=False)
        self.seen.conversions.append(
            Conversion(lead, str(record["ConvertedContactId"]), email))

    def _skipped(self, skip: Skip) -> None:
        self.report.skip(skip)
        if skip.reason in (SkipReason.NO_EMAIL, SkipReason.INVALID_EMAIL):
            system = "Salesforce" if self.to_autopilot else "Autopilot"
            self.logger.warning(
                "R10: %s %s skipped, no valid email (%s): correct the address in %s to sync "
                "its consent", skip.source.object, skip.source.record_id, skip.detail, system)
        else:
            self.logger.debug("%s skipped: %s", skip.source, skip.reason.value)

    def _log_event(self, email: str, event: engine.AuditEvent, dry_run: bool) -> None:
        source = " ".join((event.source.system, event.source.object,
                           event.source.record_id)) if event.source else "-"
        targets = ", ".join(f"{k.object} {k.record_id}" for k in event.targets)
        self.logger.info("%sdecision %s: person=%s source=%s old=%s new=%s%s: %s",
                         "dry run: " if dry_run else "", event.rule, email, source, event.old,
                         event.new, f" writes=[{targets}]" if targets else "", event.detail)

    def _summary(self, counts: dict[str, int], dry_run: bool) -> None:
        skipped = sum(self.report.skips.values())
        reasons = ", ".join(f"{r.value}={n}" for r, n in sorted(self.report.skips.items()))
        self.logger.info(
            "%ssummary %s: people seen=%d, opt-outs propagated=%d, re-subscribes propagated=%d, "
            "echoes confirmed=%d, pending retried=%d, records sent=%d, profiles updated=%d, "
            "contacts deleted=%d, kept on exit=%d, skipped=%d%s",
            "dry run " if dry_run else "", self.settings.direction, counts["people"],
            counts["opt_outs"], counts["re_subscribes"], counts["echoes"], counts["retried"],
            counts["records_written"], counts["profiles_updated"], counts["deleted"],
            counts["kept_on_exit"], skipped, f" ({reasons})" if reasons else "")
        for line in self.report.summary()[1:]:
            self.logger.info("%s (%s)", line, self.settings.direction)


def _schema_message(shape: StreamShape) -> SchemaMessage:
    return SchemaMessage(stream=shape.stream, schema=shape.schema,
                         key_properties=list(shape.key_properties))


def _utc(stamp: str) -> str:
    """Salesforce's ``...+0000`` and Autopilot's ``...Z`` in one sortable form."""
    if not stamp:
        return ""
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds")


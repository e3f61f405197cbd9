"""The Singer plumbing: read one side's streams, buffer people for the run, emit the other side's.

Records are folded per normalized address for the whole run and emitted when the input ends, so
one person's Leads, Contacts and Person Account (or duplicate Autopilot contacts) leave as one
consistent record. STATE messages that arrive while records are buffered are held back and the
latest is emitted after those records: a bookmark never moves past what was not yet handed on.
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime

from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import PluginCapabilities
from singer_sdk.mapper_base import InlineMapper
from singer_sdk.singerlib import Message, RecordMessage, SchemaMessage, StateMessage

from consent_mapper.decide import (
    AUTOPILOT_CONTACTS,
    SALESFORCE_STREAMS,
    Action,
    Event,
    Observation,
    Person,
    PersonDecision,
    Skip,
    SkipReason,
    decide_person,
    observe_autopilot,
    observe_salesforce,
)
from consent_mapper.report import RunReport
from consent_mapper.settings import (
    CONFIG_SCHEMA,
    ON_EXIT_REMOVE,
    SALESFORCE_TO_AUTOPILOT,
    Settings,
    SettingsError,
)
from consent_mapper.shapes import (
    CONTACTS,
    StreamShape,
    autopilot_contact,
    autopilot_deletion,
    autopilot_fields,
    contacts_shape,
    salesforce_records,
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
        self.people: dict[str, Person] = {}
        self.held_state: dict | None = None
        self.schemas_sent = False
        self.report = RunReport()
        self.started_at = datetime.now(UTC).isoformat()

    # Singer messages in

    def map_schema_message(self, message_dict: dict) -> Iterable[Message]:
        # input schemas are swallowed: the output streams have shapes of their own
        if message_dict["stream"] in self.input_streams:
            return list(self._schemas())
        return ()

    def map_record_message(self, message_dict: dict) -> Iterable[Message]:
        stream, record = message_dict["stream"], message_dict["record"]
        if stream not in self.input_streams:
            return ()
        self.report.count(f"read_{stream}")
        seen = self._observe(stream, record)
        if isinstance(seen, Skip):
            self._skipped(seen)
        else:
            self.people.setdefault(seen.email, Person(seen.email)).add(seen)
        return ()

    def map_state_message(self, message_dict: dict) -> Iterable[Message]:
        if self.settings.dry_run:
            return ()  # a dry run must not move the tap's bookmarks
        if self.people:
            self.held_state = message_dict["value"]  # states are cumulative: the latest suffices
            return ()
        return (StateMessage(value=message_dict["value"]),)

    def map_activate_version_message(self, message_dict: dict) -> Iterable[Message]:
        return ()  # versions belong to the input streams, which are not passed on

    def process_endofpipe(self) -> None:
        for message in self._flush():
            self.write_message(message)
        if self.held_state is not None:
            self.write_message(StateMessage(value=self.held_state))
            self.held_state = None
        for line in self.report.summary():
            self.logger.info("%s (%s)", line, self.settings.direction)

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

    def _skipped(self, skip: Skip) -> None:
        self.report.skip(skip)
        if skip.reason in (SkipReason.NO_EMAIL, SkipReason.INVALID_EMAIL):
            system = "Salesforce" if self.to_autopilot else "Autopilot"
            self.logger.warning(
                "R10: %s %s skipped, no valid email (%s): correct the address in %s to sync "
                "its consent", skip.source.object, skip.source.record_id, skip.detail, system)
        else:
            self.logger.debug("%s skipped: %s", skip.source, skip.reason.value)

    def _flush(self) -> Iterator[Message]:
        people, self.people = self.people, {}
        remove = self.settings.on_exit == ON_EXIT_REMOVE
        origin = "Salesforce" if self.to_autopilot else "Autopilot"
        for email in list(people):
            person = people.pop(email)  # frees each person as it leaves
            decision = decide_person(person, remove, origin)
            for event in decision.events:
                self._log_event(event)
            records = self._records(decision)
            if self.settings.dry_run:
                for stream, record in records:
                    self.logger.info("dry run: would send %s %s", stream, record)
                continue
            if records:
                yield from self._schemas()
            for stream, record in records:
                yield RecordMessage(stream=stream, record=record)

    def _records(self, decision: PersonDecision) -> list[tuple[str, dict]]:
        self.report.count("people")
        if decision.action is Action.NONE:
            self.report.count("kept_on_exit")
            return []
        if decision.action is Action.DELETE:
            self.report.count("deleted")
            return [(CONTACTS, autopilot_deletion(decision.email, self.started_at))]
        self.report.count("opted_out" if decision.opted_out else "opted_in")
        if self.to_autopilot:
            return [(CONTACTS, autopilot_contact(decision))]
        return salesforce_records(decision)

    def _log_event(self, event: Event) -> None:
        self.logger.info("decision %s: person=%s source=%s%s: %s",
                         event.rule, event.email, event.source or "-",
                         "" if event.new is None else f" opted_out={event.new}", event.detail)

    def _schemas(self) -> Iterator[Message]:
        if self.schemas_sent:
            return
        self.schemas_sent = True
        for shape in self.output_shapes:
            yield _schema_message(shape)


def _schema_message(shape: StreamShape) -> SchemaMessage:
    return SchemaMessage(stream=shape.stream, schema=shape.schema,
                         key_properties=list(shape.key_properties))

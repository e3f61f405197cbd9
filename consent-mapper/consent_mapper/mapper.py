"""The Singer plumbing: read one side's streams, decide at the end of the input, emit the other's.

Records are folded per normalized address for the whole run. When the input ends, the consent
decisions are made against the ledger (see ``reconcile``) in one database transaction, which
commits before the records and the held-back STATE are emitted: a crash before the commit replays
the whole run; a crash after it leaves pending writes that the next run sends again (R7).
"""

from __future__ import annotations

import logging
import threading
import typing as t
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import PluginCapabilities
from singer_sdk.mapper_base import InlineMapper
from singer_sdk.singerlib import Message, RecordMessage, SchemaMessage, StateMessage
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from consent_mapper import clock, ledger_url, list_creates, rules, run_marks
from consent_mapper.activities import ActivityFeed
from consent_mapper.adapters import activecampaign, autopilot, salesforce
from consent_mapper.companies import Companies
from consent_mapper.field_sync import FieldSync
from consent_mapper.ledger.store import LeaseHeld, LeaseLost, Ledger
from consent_mapper.outbox import Outbox
from consent_mapper.reconcile import Reconciler
from consent_mapper.report import RunReport
from consent_mapper.rules import CRM, PLATFORM, Skip, SkipReason
from consent_mapper.run_input import ProfilePart, RunInput
from consent_mapper.settings import (
    CONFIG_SCHEMA,
    ON_EXIT_REMOVE,
    Settings,
    SettingsError,
    default_ledger_url,
)

PLATFORM_ADAPTERS = {autopilot.SYSTEM: autopilot, activecampaign.SYSTEM: activecampaign}
# a run's lease on the ledger: renewed while the run lives, so a killed run frees it soon
LEASE_TTL = timedelta(seconds=120)
LEASE_WAIT = timedelta(minutes=15)
LEASE_POLL = 3.0  # seconds between two asks of a waiting run


class ConsentMapper(InlineMapper):
    ("Applies the consentsync consent rules between Salesforce's and a marketing platform's "
     "(Autopilot, ActiveCampaign) streams, keeping email opt-out in sync both ways with a "
     "ledger of every decision.")

    name = "consent-mapper"
    package_name = "consentsync-consent-mapper"
    capabilities: t.ClassVar[list] = [PluginCapabilities.ABOUT,
                                      PluginCapabilities.STRUCTURED_LOGGING]
    config_jsonschema: t.ClassVar[dict] = CONFIG_SCHEMA

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        """A run that may not decide (the ledger held by another run, or taken over) ends in
        its one-line reason, not a traceback."""
        try:
            super().invoke(*args, **kwargs)
        except (LeaseHeld, LeaseLost) as exc:
            cls.logger.error("%s", " ".join(str(exc).split()))  # noqa: TRY400 - the whole story
            raise SystemExit(1) from None

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        try:
            self.settings = Settings.from_config(self.config)
        except SettingsError as exc:
            raise ConfigValidationError("Config validation failed", errors=[str(exc)]) from exc
        # the ledger is checked before any message is read: a wrong URL stops the run here
        try:
            self.ledger_check = ledger_url.open_checked(
                self.settings.ledger_url or default_ledger_url())
        except ledger_url.LedgerUrlError as exc:
            raise ConfigValidationError("Config validation failed", errors=[str(exc)]) from exc
        self._input_started = False
        self.source = CRM if self.settings.reads_crm else PLATFORM
        self.platform = self.settings.platform
        self.adapter = PLATFORM_ADAPTERS[self.platform]
        self.input_streams = (salesforce.STREAMS if self.source == CRM
                              else self.adapter.INPUT_STREAMS)
        self.fields = FieldSync.for_run(self.settings.field_map, self.source, self.platform,
                                        self.logger)
        self.output_shapes = ([self.adapter.shape()] if self.source == CRM
                              else list_creates.with_create_fields(
                                  salesforce.shapes(list(self.settings.field_map))))
        self.creates = list_creates.CreatePolicy(
            self.settings.lead_list, self.settings.contact_list, self.settings.create_records,
            self.settings.create_owner_id, self.settings.create_company_placeholder)
        # the activity feed: Autopilot's mail history as Salesforce Tasks (activities.py)
        self.activities = (ActivityFeed(self.settings.activity_types,
                                        self.settings.activity_key_field)
                           if self.settings.activities and self.source == PLATFORM
                           and self.platform == autopilot.SYSTEM else None)
        if self.activities is not None:
            self.output_shapes.append(self.activities.shape())
        elif self.settings.activities and self.source == PLATFORM:
            self.logger.warning("setting 'activities' is for Autopilot's mail history: "
                                "ignored for %s", self.settings.direction)
        self.seen = RunInput()
        self.companies = Companies(self.adapter, self.platform, self.settings.account_field_map)
        self.held_state: dict | None = None
        self.run_id: int | None = None  # this run's id in the ledger, once it started deciding
        self.report = RunReport()
        self.started_at = datetime.now(UTC).isoformat()

    # Singer messages in

    def map_schema_message(self, message_dict: dict) -> Iterable[Message]:
        # a singer-sdk tap sends the state it was given before any SCHEMA, and only when it was
        # given one: a STATE after a SCHEMA is this run's own
        self._input_starts()
        if self.fields is not None:  # the CRM's field types and read-only fields
            self.fields.schema(message_dict)
        return ()  # input schemas are swallowed: the output streams have shapes of their own

    def map_record_message(self, message_dict: dict) -> Iterable[Message]:
        self._input_starts()
        stream, record = message_dict["stream"], message_dict["record"]
        if stream not in self.input_streams:
            return ()
        self.report.count(f"read_{stream}")
        if self.source == CRM:
            self._crm_record(stream, record)
            return ()
        seen = self.adapter.observe(stream, record)
        if isinstance(seen, Skip):
            self._skipped(seen)
        elif seen is not None:
            self.seen.observe(seen, list_creates.request(record, seen, self.creates))
            if self.activities is not None:
                self.activities.read(seen, record)
            if self.fields is not None:
                self.fields.read_platform(record, seen)
        return ()

    def _crm_record(self, stream: str, record: dict) -> None:
        if self.companies.read(stream, record):
            return  # a business Account: company fields of its Contacts, no person
        conversion = salesforce.conversion(record) if stream == salesforce.LEAD else None
        if conversion is not None:
            self.seen.convert(conversion)
        seen = salesforce.observe(stream, record)
        if isinstance(seen, Skip):
            self._skipped(seen)
            return
        list_name = (self.settings.lead_list if stream == salesforce.LEAD
                     else self.settings.contact_list)
        field_map = self.settings.field_map if self.fields is None else self.fields.profile_map()
        if self.fields is not None:
            self.fields.read_crm(stream, record, seen)
        fields, custom = ({}, {}) if not (seen.live and seen.selected) else \
            self.adapter.profile_fields(stream, record, field_map)
        if stream == salesforce.ACCOUNT and seen.live and seen.selected:
            fields, custom = self.companies.person_half(record, seen.email, fields, custom)
        fields = list_creates.without_placeholders(stream, record, fields, self.creates)
        self.seen.observe(seen, ProfilePart(list_name, fields, custom,
                                            salesforce.spelling(stream, record)))

    def map_state_message(self, message_dict: dict) -> Iterable[Message]:
        self._input_starts(message_dict["value"])
        # held back: STATE passes only after the ledger committed and the records were emitted
        self.held_state = message_dict["value"]  # states are cumulative: the latest suffices
        return ()

    def _input_starts(self, state: object = None) -> None:
        """At the first message: a new ledger under a tap that ran before stops here."""
        if self._input_started:
            return
        self._input_started = True
        if not self.ledger_check.fresh:
            return
        if ledger_url.has_bookmarks(state):  # the tap's own state, sent before any record
            raise ConfigValidationError("Config validation failed", errors=[
                ledger_url.fresh_ledger_message(self.ledger_check)])
        self.logger.warning("the consent ledger %s is new: this first run creates it (every "
                            "person is seen for the first time)", self.ledger_check.shown)

    def map_activate_version_message(self, message_dict: dict) -> Iterable[Message]:
        return ()  # versions belong to the input streams, which are not passed on

    def map_batch_message(self, message_dict: dict) -> Iterable[Message]:
        raise NotImplementedError("BATCH messages are not supported: run the tap without batch")

    def process_endofpipe(self) -> None:
        self._input_starts()
        dry_run = self.settings.dry_run
        # the ledger the start-up check opened; a new SQLite file is created only now
        ledger = self.ledger_check.ledger or Ledger(self.settings.ledger_url or
                                                    default_ledger_url())
        lease = f"{self.settings.direction}:{self.platform}"
        outbox = Outbox()
        try:
            renewer = None if dry_run else self._take_lease(ledger, lease)
            try:
                counts = self._decide(ledger, outbox, dry_run, None if dry_run else lease)
            finally:
                if renewer is not None:
                    renewer.set()
                    ledger.release(lease)
        finally:
            ledger.close()
            self.seen.close()
            self.companies.close()
            if self.activities is not None:
                self.activities.close()
            if self.fields is not None:
                self.fields.close()
        # the ledger has committed: the records, then the tap's STATE (R7)
        if outbox.count:
            for stream, schema, keys in self.output_shapes:
                self.write_message(SchemaMessage(stream=stream, schema=schema,
                                                 key_properties=list(keys)))
            for stream, record in outbox.drain():
                self.write_message(RecordMessage(stream=stream, record=record))
        outbox.close()
        if self.held_state is not None and not dry_run and self.run_id is not None:
            self.write_message(StateMessage(value=run_marks.mark(self.held_state, self.run_id)))
        self.held_state = None
        self._summary(counts, dry_run)

    def _decide(self, ledger: Ledger, outbox: Outbox, dry_run: bool,
                lease: str | None) -> dict[str, int]:
        with ledger.transaction(commit=not dry_run, lease=lease) as tx:
            if tx.exclusive():
                self.logger.info("the consent ledger was busy with another run's decisions: "
                                 "this run waited and decided after that run committed")
            source_system = salesforce.SYSTEM if self.source == CRM else self.platform
            target_system = self.platform if self.source == CRM else salesforce.SYSTEM
            run_id = self.run_id = tx.start_run(self.settings.direction, source_system,
                                                self.platform)
            written_run = run_marks.written_run(self.held_state)
            ctx = rules.Context(
                source=self.source, platform=self.platform, now=clock.now_iso(),
                reads=tx.reads_of(target_system),
                crm_read=tx.reads_of(salesforce.SYSTEM) > 0,
                retry_after_runs=self.settings.retry_after_runs,
                bounce_is_opt_out=self.settings.bounce_is_opt_out,
                on_exit_remove=self.settings.on_exit == ON_EXIT_REMOVE,
                resubscribes_case_twins=getattr(self.adapter, "RESUBSCRIBES_CASE_TWINS", True),
                run=run_id, written_run=written_run)
            reconciler = Reconciler(tx, run_id, ctx, self.adapter, started_at=self.started_at,
                                    companies=self.companies if self.source == CRM else None,
                                    creates=self.creates)
            if self.fields is not None:
                reconciler.fields = self.fields.session(tx, run_id, ctx.reads,
                                                        ctx.retry_after_runs, dry_run)
            for outcome in reconciler.run(self.seen):
                for event in outcome.events:
                    self._log_event(outcome.email, event, dry_run)
                for stream, record in outcome.records:
                    if dry_run:
                        self.logger.info("dry run: would send %s %s", stream, record)
                    else:
                        outbox.put(stream, record)
            activity_counts: dict[str, int] = {}
            if self.activities is not None:
                for stream, record in self.activities.plan(tx, run_id, written_run):
                    if dry_run:
                        self.logger.info("dry run: would send %s %s", stream, record)
                    else:
                        outbox.put(stream, record)
                activity_counts = dict(self.activities.counts)
                self.logger.info("activities: %s", ", ".join(
                    f"{k.removeprefix('activities_')}={v}" for k, v in
                    sorted(activity_counts.items())) or "no mail events read")
            counts = reconciler.counts.as_dict()
            if reconciler.fields is not None:
                self.logger.info("%s (%s)", reconciler.fields.summary(), self.settings.direction)
            tx.finish_run(run_id, {**counts, **activity_counts,
                                   "skipped": sum(self.report.skips.values())})
        return counts

    def _take_lease(self, ledger: Ledger, name: str) -> threading.Event:
        """One run of a direction decides at a time; a killed run's lease simply expires."""
        deadline = datetime.now(UTC) + LEASE_WAIT
        asked = 0
        while (holder := ledger.acquire(name, LEASE_TTL)) is not None:
            if datetime.now(UTC) > deadline:
                raise LeaseHeld(
                    f"the consent ledger is held by another {name} run ({holder}); this run "
                    f"waited {LEASE_WAIT} and stops without deciding anything: run it again "
                    f"when that run has finished")
            if asked % 20 == 0:  # said once a minute, asked every few seconds
                self.logger.warning("waiting for the consent ledger: another %s run holds it "
                                    "(%s)", name, holder)
            asked += 1
            threading.Event().wait(LEASE_POLL)
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(LEASE_TTL.total_seconds() / 4):
                try:
                    if not ledger.renew(name, LEASE_TTL):
                        self.logger.warning("the lease %s on the consent ledger was lost: this "
                                            "run will not commit its decisions", name)
                        return
                except SQLAlchemyError as exc:  # the next renewal may get through
                    # on SQLite, this run's own deciding transaction holds the one write lock:
                    # no other run can take the lease meanwhile either
                    own_lock = isinstance(exc, OperationalError) \
                        and ledger.engine.dialect.name == "sqlite"
                    self.logger.log(logging.DEBUG if own_lock else logging.WARNING,
                                    "renewing the lease %s on the consent ledger failed (%s); "
                                    "trying again", name, type(exc).__name__)

        threading.Thread(target=renew, name="ledger-lease", daemon=True).start()
        return stop

    def _skipped(self, skip: Skip) -> None:
        self.report.skip(skip)
        if skip.reason in (SkipReason.NO_EMAIL, SkipReason.INVALID_EMAIL):
            system = "Salesforce" if self.source == CRM else self.platform
            self.logger.warning(
                "R10: %s %s skipped, no valid email (%s): correct the address in %s to sync "
                "its consent", skip.source.object, skip.source.record_id, skip.detail, system)
        else:
            self.logger.debug("%s skipped: %s", skip.source, skip.reason.value)

    def _log_event(self, email: str, event: rules.AuditEvent, dry_run: bool) -> None:
        # every decision is in the audit trail; the log has them at DEBUG (INFO in a dry run)
        level = 20 if dry_run else 10
        if not self.logger.isEnabledFor(level):
            return
        targets = ", ".join(f"{k.object} {k.record_id}" for k in event.targets)
        self.logger.log(level, "%sdecision %s: person=%s source=%s old=%s new=%s%s: %s",
                        "dry run: " if dry_run else "", event.rule, email, event.source or "-",
                        event.old, event.new, f" writes=[{targets}]" if targets else "",
                        event.detail)

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
        if self.companies.counts:
            self.logger.info("%s (%s)", self.companies.summary(), self.settings.direction)

"""The rule book, one decision at a time: `rules.classify` and `rules.decide`."""

from __future__ import annotations

import functools
from dataclasses import replace

from consent_mapper import rules
from consent_mapper.adapters import autopilot, salesforce
from consent_mapper.rules import (
    BY_EMAIL,
    CRM,
    PLATFORM,
    Context,
    Observation,
    PersonMemory,
    RecordKey,
    RecordMemory,
    Write,
)

EMAIL = "a@x.io"
LEAD = salesforce.key("Lead", "00Q1")
LEAD2 = salesforce.key("Lead", "00Q2")
CONTACT = autopilot.key(EMAIL)


def at(seconds: int) -> str:
    return f"2026-03-01T00:{seconds // 60:02d}:{seconds % 60:02d}.000Z"


def ctx(source: str, now: int = 100, reads: int = 1, **kwargs) -> Context:
    return Context(source=source, platform="autopilot", now=at(now), reads=reads,
                   crm_read=kwargs.pop("crm_read", True), **kwargs)


def seen(key: RecordKey, opted_out: bool, when: int, **kwargs) -> Observation:
    return Observation(key, EMAIL, opted_out, changed_at=at(when), **kwargs)


def person(agreed: bool | None, *records: RecordMemory) -> PersonMemory:
    return PersonMemory(EMAIL, agreed=agreed, records={r.key: r for r in records})


def writes(decision: rules.Decision) -> list[tuple[RecordKey, bool, str]]:
    return [(w.key, w.opted_out, w.rule) for w in decision.writes]


# R1: first sight


def test_first_sight_any_opt_out_wins_and_reaches_the_platform():
    decision = rules.decide(person(None), [seen(LEAD, False, 10), seen(LEAD2, True, 5)],
                            ctx(CRM), profile_digest="p1", spelling=EMAIL)
    assert decision.memory.agreed is True
    assert [(e.rule, e.source) for e in decision.events if e.new] == [("R1", LEAD2),
                                                                      ("R5", LEAD)]
    assert writes(decision) == [(CONTACT, True, "R5")]
    assert (decision.contact, decision.contact_action, decision.send_profile) == (
        CONTACT, rules.UPSERT, True)


def test_first_sight_without_an_opt_out_sends_no_re_subscribe_blind():
    decision = rules.decide(person(None), [seen(LEAD, False, 10)], ctx(CRM), "p1", EMAIL)
    assert decision.memory.agreed is False
    assert decision.writes == []  # the contact may exist, opted out, unread: R1 and R4
    assert decision.send_profile is True


def test_first_sight_of_the_platform_wins_over_the_crm_read_before():
    memory = person(False, RecordMemory(LEAD, observed=False, observed_at=at(10)))
    memory.agreed = None  # first read of a person the CRM side never decided
    decision = rules.decide(memory, [seen(CONTACT, True, 20)], ctx(PLATFORM))
    assert decision.memory.agreed is True
    assert writes(decision) == [(LEAD, True, "R5")]


# R6: echoes


def test_our_write_read_back_is_a_confirmation_not_a_change():
    memory = person(True, RecordMemory(LEAD, observed=False, observed_at=at(10), pending=True,
                                       pending_at=at(50), pending_run=1),
                    RecordMemory(CONTACT, observed=True, observed_at=at(9)))
    assert rules.classify(memory.records[LEAD], True, at(51)) == "echo"
    decision = rules.decide(memory, [seen(LEAD, True, 51)], ctx(CRM, now=100))
    assert decision.echoes == 1 and decision.opt_outs == 0
    assert decision.memory.records[LEAD] == RecordMemory(LEAD, observed=True,
                                                         observed_at=at(51))
    assert [e.rule for e in decision.events] == ["R6"]
    assert not [w for w in decision.writes if w.key == LEAD]


def test_an_older_write_of_ours_read_back_while_the_newer_one_failed_is_no_change():
    # we wrote the Lead opted out (t=20), then opted in (t=60, the person re-subscribed
    # elsewhere); that second write failed, so the Lead still shows our opt-out of t=21
    lead = RecordMemory(LEAD, observed=False, observed_at=at(5), pending=False,
                        pending_at=at(60), prior_at=at(20), pending_run=1)
    assert rules.classify(lead, True, at(21)) == "echo-prior"
    decision = rules.decide(person(False, lead), [seen(LEAD, True, 21)], ctx(CRM, now=100))
    assert decision.memory.agreed is False  # not read as a new opt-out (bug 1, scenario 12)
    assert decision.memory.records[LEAD].pending is False  # the re-subscribe is still owed
    assert decision.memory.records[LEAD].prior_at is None
    assert [e.rule for e in decision.events] == ["R6"]


def test_a_record_untouched_since_before_our_write_is_stale_not_a_change():
    lead = RecordMemory(LEAD, observed=False, observed_at=at(5), pending=True,
                        pending_at=at(60), pending_run=1)
    assert rules.classify(lead, False, at(5)) == "stale"
    assert rules.classify(lead, False, at(30)) == "stale"  # touched, consent the same
    decision = rules.decide(person(True, lead), [seen(LEAD, False, 30)], ctx(CRM, now=100))
    assert decision.memory.agreed is True
    kept = decision.memory.records[LEAD]
    assert (kept.observed, kept.observed_at, kept.pending) == (False, at(5), True)


def test_a_change_made_after_our_write_is_a_change():
    lead = RecordMemory(LEAD, observed=False, observed_at=at(5), pending=False,
                        pending_at=at(60), pending_run=1)
    assert rules.classify(lead, True, at(80)) == "change"
    decision = rules.decide(person(False, lead), [seen(LEAD, True, 80)], ctx(CRM, now=100))
    assert decision.memory.agreed is True
    assert decision.memory.records[LEAD].pending is None  # the person's own change wins


def test_a_reading_older_than_the_last_one_is_the_same():
    lead = RecordMemory(LEAD, observed=True, observed_at=at(50))
    assert rules.classify(lead, False, at(40)) == "same"
    assert rules.classify(None, True, at(40)) == "new-out"
    assert rules.classify(None, False, at(40)) == "new-in"


# R7: the retry window


def test_an_unconfirmed_write_is_sent_again_after_the_retry_window():
    lead = RecordMemory(LEAD, observed=False, observed_at=at(5), pending=True,
                        pending_at=at(60), pending_run=1)
    assert rules.decide(person(True, lead), [], ctx(PLATFORM, reads=1)).writes == []
    again = rules.decide(person(True, lead), [], ctx(PLATFORM, now=200, reads=2))
    assert writes(again) == [(LEAD, True, "R7")] and again.retried == 1
    assert again.memory.records[LEAD].pending_run == 2
    assert again.memory.records[LEAD].pending_at == at(200)
    wider = rules.decide(person(True, lead), [], ctx(PLATFORM, reads=2, retry_after_runs=2))
    assert wider.writes == []


# R8: deleted records


def test_a_deleted_records_opt_out_counts_at_first_sight():
    decision = rules.decide(person(None), [seen(LEAD, True, 10, live=False)], ctx(CRM), None,
                            EMAIL)
    assert decision.memory.agreed is True
    (event,) = [e for e in decision.events if e.rule == "R1"]
    assert event.new is True and "already deleted" in event.detail
    assert decision.writes == []  # no contact the sync owns yet


def test_the_platform_contact_beside_a_deleted_opt_out_is_written_opted_out():
    # the ledger knows the person is opted out (a deleted Lead) and has read the contact in:
    # the next CRM run brings nothing, yet the contact must be written (bug 3)
    memory = person(True, RecordMemory(LEAD, observed=True, observed_at=at(10), live=False),
                    RecordMemory(CONTACT, observed=False, observed_at=at(20)))
    decision = rules.decide(memory, [], ctx(CRM))
    assert writes(decision) == [(CONTACT, True, "R5")]


def test_deletion_forgets_the_record_never_the_opt_out():
    memory = person(True, RecordMemory(LEAD, observed=True, observed_at=at(10)),
                    RecordMemory(CONTACT, observed=True, observed_at=at(20)))
    kept = rules.decide(memory, [seen(LEAD, True, 30, live=False)], ctx(CRM))
    assert kept.memory.agreed is True and kept.contact_action == rules.NONE
    assert any("on_exit=keep" in e.detail for e in kept.events)
    removed = rules.decide(memory, [seen(LEAD, True, 30, live=False)],
                           ctx(CRM, on_exit_remove=True))
    assert removed.contact_action == rules.DELETE and not removed.memory.records[CONTACT].live
    assert removed.memory.agreed is True
    reborn = rules.decide(removed.memory, [seen(LEAD2, False, 40)], ctx(CRM), "p", EMAIL)
    assert writes(reborn) == [(CONTACT, True, "R5")]  # re-created opted out (R4)
    assert reborn.contact_action == rules.UPSERT and reborn.memory.records[CONTACT].live


def test_a_deletion_is_sent_again_until_a_later_runs_input_shows_it_written():
    # the run that deleted the contact died before the target wrote (or failed there): a
    # replayed exit sends it again (chaos suite), and so does a run whose input STATE does not
    # show the deleting run written, as when the deletion waited and no exit was in its input
    memory = person(True, RecordMemory(LEAD, observed=True, observed_at=at(10)),
                    RecordMemory(CONTACT, observed=True, observed_at=at(20)))
    exit_ = [seen(LEAD, True, 30, live=False)]
    remove = functools.partial(ctx, CRM, on_exit_remove=True)
    removed = rules.decide(memory, exit_, remove(run=5, written_run=4))
    assert removed.contact_action == rules.DELETE
    assert removed.memory.records[CONTACT].deleted_run == 5
    replay = rules.decide(removed.memory, exit_, remove(run=6, written_run=4))
    assert replay.contact_action == rules.DELETE
    assert any(e.rule == "R7" and "deletion sent again" in e.detail for e in replay.events)
    unwritten = rules.decide(replay.memory, [], remove(run=7, written_run=5))
    assert unwritten.contact_action == rules.DELETE and unwritten.writes == []
    assert any("(run 6) is not known written" in e.detail for e in unwritten.events)
    known = rules.decide(unwritten.memory, [], remove(run=8, written_run=7))
    assert known.contact_action == rules.NONE and known.writes == []
    assert known.memory.records[CONTACT].deleted_run is None
    assert rules.decide(known.memory, [], remove(run=9)).contact_action == rules.NONE


def test_a_replayed_exit_deletes_the_contact_again_beside_a_live_case_twin():
    # chaos trial stop20h 1: the twin, still live in the ledger, became the main contact of the
    # replay, and the deletion was never sent again
    twin = autopilot.key(EMAIL.upper())
    memory = person(True, RecordMemory(LEAD, observed=False, observed_at=at(10)),
                    RecordMemory(CONTACT, observed=False, observed_at=at(20)),
                    RecordMemory(twin, observed=True, observed_at=at(20)))
    exit_ = [seen(LEAD, True, 30, live=False)]
    removed = rules.decide(memory, exit_, ctx(CRM, on_exit_remove=True, run=1))
    assert (removed.contact, removed.contact_action) == (CONTACT, rules.DELETE)
    replay = rules.decide(removed.memory, exit_, ctx(CRM, on_exit_remove=True, run=2))
    assert (replay.contact, replay.contact_action) == (CONTACT, rules.DELETE)
    assert [e.targets for e in replay.events if "deletion sent again" in e.detail] == [
        (CONTACT,)]
    # without the exit read again (the bookmark moved), and the replay known written, nothing
    quiet = rules.decide(replay.memory, [], ctx(CRM, on_exit_remove=True, run=3,
                                                written_run=2))
    assert quiet.contact_action == rules.NONE


def test_the_removal_of_a_contact_never_read_waits_until_its_consent_is_read():
    # property test and chaos trial stop21j 4: the CRM was read first, the contact never; it
    # held the only opt-out, and deleting it unread lost that opt-out everywhere
    first = rules.decide(person(None), [seen(LEAD, False, 10)], ctx(CRM), "p", EMAIL)
    assert first.memory.records[CONTACT].observed is None
    exit_ = [seen(LEAD, False, 30, live=False)]
    waits = rules.decide(first.memory, exit_, ctx(CRM, on_exit_remove=True))
    assert waits.contact_action == rules.NONE and waits.memory.records[CONTACT].live
    assert any("removal waits" in e.detail for e in waits.events)
    replay = rules.decide(waits.memory, exit_, ctx(CRM, on_exit_remove=True))
    assert replay.contact_action == rules.NONE
    # the platform read shows the opt-out: it counts (R1/R8), then the removal is done
    read = rules.decide(replay.memory, [seen(CONTACT, True, 40)], ctx(PLATFORM))
    assert read.memory.agreed is True
    done = rules.decide(read.memory, [], ctx(CRM, on_exit_remove=True))
    assert (done.contact, done.contact_action) == (CONTACT, rules.DELETE)
    assert done.memory.agreed is True and not done.memory.records[CONTACT].live
    quiet = rules.decide(done.memory, [], ctx(CRM, on_exit_remove=True, written_run=0))
    assert quiet.contact_action == rules.NONE


def test_a_waiting_removal_is_dropped_when_a_crm_record_is_selected_again():
    first = rules.decide(person(None), [seen(LEAD, False, 10)], ctx(CRM), "p", EMAIL)
    waits = rules.decide(first.memory, [seen(LEAD, False, 30, selected=False)],
                         ctx(CRM, on_exit_remove=True))
    back = rules.decide(waits.memory, [seen(LEAD, False, 40)], ctx(CRM, on_exit_remove=True))
    assert back.contact_action == rules.UPSERT and back.memory.records[CONTACT].selected
    assert any("removal, waiting" in e.detail for e in back.events)
    # read later, the contact stays the person's, unmarked
    read = rules.decide(back.memory, [seen(CONTACT, False, 50)], ctx(PLATFORM))
    assert read.memory.records[CONTACT].selected and read.memory.records[CONTACT].live


def test_a_removal_waits_for_the_next_platform_read_unless_the_person_is_opted_out():
    # chaos seed stop26o 1: an unsubscribe made in Autopilot in the interval in which the
    # person's last Lead left went with the contact (consent-sync syncs toward it first)
    memory = person(False, RecordMemory(LEAD, observed=False, observed_at=at(10)),
                    RecordMemory(CONTACT, observed=False, observed_at=at(20)))
    exit_ = [seen(LEAD, False, 30, selected=False)]
    waits = rules.decide(memory, exit_, ctx(CRM, reads=3, on_exit_remove=True))
    assert waits.contact_action == rules.NONE
    assert waits.memory.records[CONTACT].exit_read == 3
    assert not waits.memory.records[CONTACT].selected
    assert rules.decide(waits.memory, exit_, ctx(CRM, reads=3, on_exit_remove=True)
                        ).contact_action == rules.NONE  # the exit replayed: still no read
    # the read finds the unsubscribe: it counts (R2), and the removal keeps it in the ledger
    read = rules.decide(waits.memory, [seen(CONTACT, True, 35)], ctx(PLATFORM, reads=5))
    assert read.memory.agreed is True and read.memory.records[CONTACT].exit_read == 3
    assert [w.key for w in read.writes] == [LEAD]  # the Lead, though out of the selection
    gone = rules.decide(read.memory, [], ctx(CRM, reads=4, on_exit_remove=True))
    assert gone.contact_action == rules.DELETE and gone.memory.agreed is True
    # a read that saw no change is enough; an opted-out person goes at once
    assert rules.decide(waits.memory, [], ctx(CRM, reads=4, on_exit_remove=True)
                        ).contact_action == rules.DELETE
    opted_out = replace(memory, agreed=True)
    assert rules.decide(opted_out, exit_, ctx(CRM, reads=3, on_exit_remove=True)
                        ).contact_action == rules.DELETE


def test_a_contact_created_again_after_the_sync_deleted_it_is_a_new_record():
    memory = person(True, RecordMemory(LEAD, observed=True, observed_at=at(10)),
                    RecordMemory(CONTACT, observed=True, observed_at=at(20)))
    removed = rules.decide(memory, [seen(LEAD, True, 30, live=False)],
                           ctx(CRM, on_exit_remove=True))
    # someone creates the contact again in the platform, subscribed: a new record never
    # re-subscribes (R4), so the person stays opted out
    again = rules.decide(removed.memory, [seen(CONTACT, False, 40)], ctx(PLATFORM))
    assert again.memory.agreed is True and again.memory.records[CONTACT].live


# R5: every record of the person


def test_records_outside_the_selection_are_still_written():
    memory = person(False, RecordMemory(LEAD, observed=False, observed_at=at(5)),
                    RecordMemory(LEAD2, observed=False, observed_at=at(5), selected=False),
                    RecordMemory(CONTACT, observed=False, observed_at=at(6)))
    decision = rules.decide(memory, [seen(CONTACT, True, 30)], ctx(PLATFORM))
    assert decision.memory.agreed is True
    assert writes(decision) == [(LEAD, True, "R5"), (LEAD2, True, "R5")]


def test_a_new_record_unticked_is_born_opted_out():
    memory = person(True, RecordMemory(CONTACT, observed=True, observed_at=at(5)))
    decision = rules.decide(memory, [seen(LEAD, False, 30)], ctx(CRM), "p", EMAIL)
    assert decision.memory.agreed is True  # R4: no re-subscribe
    assert writes(decision) == []  # the contact is opted out already
    platform = rules.decide(decision.memory, [], ctx(PLATFORM))
    assert writes(platform) == [(LEAD, True, "R5")]


def test_a_re_subscribe_travels_but_not_one_older_than_the_opt_out():
    memory = person(True, RecordMemory(LEAD, observed=True, observed_at=at(5)),
                    RecordMemory(CONTACT, observed=True, observed_at=at(6)))
    memory.opted_out_at = at(5)
    decision = rules.decide(memory, [seen(CONTACT, False, 30)], ctx(PLATFORM))
    assert decision.memory.agreed is False and decision.re_subscribes == 1
    assert writes(decision) == [(LEAD, False, "R5")]
    memory.opted_out_at = at(40)
    older = rules.decide(memory, [seen(CONTACT, False, 30)], ctx(PLATFORM))
    assert older.memory.agreed is True
    assert [e.rule for e in older.events] == ["R3"]


def test_a_re_subscribe_is_not_sent_to_a_contact_whose_consent_no_read_has_shown():
    # our opt-out to the contact was never read back (chaos trial stop24e 9: its run died, and
    # no platform read had committed); the Lead then re-subscribes in Salesforce
    memory = person(True, RecordMemory(LEAD, observed=True, observed_at=at(5)),
                    RecordMemory(CONTACT, pending=True, pending_at=at(6), pending_run=0))
    memory.opted_out_at = at(5)
    decision = rules.decide(memory, [seen(LEAD, False, 30)], ctx(CRM, reads=0))
    assert decision.memory.agreed is False
    assert writes(decision) == []  # not blind: the person may have opted out there since
    assert decision.memory.records[CONTACT].pending is None
    assert any(e.rule == "R4" and "re-subscribe not sent" in e.detail for e in decision.events)
    # the contact's first read decides: the person's opt-out there wins, and the Lead gets it
    read = rules.decide(decision.memory, [seen(CONTACT, True, 40)], ctx(PLATFORM))
    assert read.memory.agreed is True
    assert writes(read) == [(LEAD, True, "R5")]
    # read subscribed, it agrees with the re-subscribe and nothing is written
    quiet = rules.decide(decision.memory, [seen(CONTACT, False, 40)], ctx(PLATFORM))
    assert quiet.memory.agreed is False and writes(quiet) == []



def test_a_held_re_subscribe_wins_over_an_opt_out_there_older_than_it():
    # chaos trial stop25d 5: our opt-out to the contact landed, no platform read committed, the
    # Lead re-subscribed; the contact's first read showed our opt-out, taken for a new one, and
    # the person's re-subscribe was reverted everywhere
    memory = person(True, RecordMemory(LEAD, observed=True, observed_at=at(5)),
                    RecordMemory(CONTACT, pending=True, pending_at=at(6), pending_run=0))
    memory.opted_out_at = at(5)
    held = rules.decide(memory, [seen(LEAD, False, 30)], ctx(CRM, reads=0))
    assert held.memory.agreed is False and writes(held) == []
    read = rules.decide(held.memory, [seen(CONTACT, True, 10)], ctx(PLATFORM, now=200))
    assert read.memory.agreed is False
    assert writes(read) == []  # the Lead keeps its re-subscribe
    (event,) = [e for e in read.events if e.source == CONTACT]
    assert event.rule == "R3" and "older than the re-subscribe" in event.detail
    # the next run toward the platform sends the re-subscribe: a read has shown the contact
    sent = rules.decide(read.memory, [], ctx(CRM, now=300))
    assert writes(sent) == [(CONTACT, False, "R5")]
    assert sent.memory.records[CONTACT].observed_at == at(10)
    # one second before the re-subscribe is still before it (both are the systems' own times,
    # compared as R3 compares them); at the same time, or after, the opt-out wins
    just_before = rules.decide(held.memory, [seen(CONTACT, True, 29)], ctx(PLATFORM, now=200))
    assert just_before.memory.agreed is False and writes(just_before) == []
    for when in (30, 31):
        newer = rules.decide(held.memory, [seen(CONTACT, True, when)], ctx(PLATFORM, now=200))
        assert newer.memory.agreed is True and writes(newer) == [(LEAD, True, "R5")]


def test_a_held_contact_gets_no_profile_until_a_read_shows_it_then_both_go_together():
    # chaos trial stop25e 3: a profile upsert to the held contact moved its modstamp past the
    # re-subscribe, so our landed opt-out read as a newer one and reverted the re-subscribe
    memory = person(True, RecordMemory(LEAD, observed=True, observed_at=at(5)),
                    RecordMemory(CONTACT, pending=True, pending_at=at(6), pending_run=0))
    memory.opted_out_at, memory.profile_hash = at(5), "old"
    held = rules.decide(memory, [seen(LEAD, False, 30)], ctx(CRM, reads=0), "new")
    assert writes(held) == [] and held.contact_action == rules.UPSERT
    assert held.send_profile is False and held.hold_profile is True
    assert held.memory.profile_hash == "old"  # not sent: the next run sees it as new again
    assert [e.rule for e in held.events if e.source == CONTACT].count("R4") == 2
    # while the hold lasts, the profile stays back, and the audit trail says it once
    held.memory.withheld_profile = "{}"  # the plumbing keeps the document
    again = rules.decide(held.memory, [seen(LEAD, False, 40)], ctx(CRM, reads=0), "newer")
    assert again.hold_profile is True and again.send_profile is False
    assert not any("profile held back" in e.detail for e in again.events)
    read = rules.decide(again.memory, [seen(CONTACT, True, 10)], ctx(PLATFORM, now=200))
    assert read.memory.agreed is False and writes(read) == []
    sent = rules.decide(read.memory, [], ctx(CRM, now=300), "newer")
    assert writes(sent) == [(CONTACT, False, "R5")]
    assert sent.send_profile is True and sent.hold_profile is False
    assert sent.memory.profile_hash == "newer"


def test_a_held_contact_no_read_shows_was_never_created_and_its_profile_creates_it():
    # our opt-out was the contact's first write and its run died before the target wrote it:
    # a read finished since does not show the contact, so nothing there can hold an opt-out
    memory = person(True, RecordMemory(LEAD, observed=True, observed_at=at(5)),
                    RecordMemory(CONTACT, pending=True, pending_at=at(6), pending_run=0))
    memory.opted_out_at, memory.profile_hash = at(5), "sent"
    held = rules.decide(memory, [seen(LEAD, False, 30)], ctx(CRM, reads=0), "new")
    assert held.hold_profile is True
    held.memory.withheld_profile = "{}"
    still = rules.decide(held.memory, [], ctx(CRM, reads=0), "new")  # no read finished yet
    assert still.hold_profile is True and still.send_profile is False
    created = rules.decide(held.memory, [], ctx(CRM, reads=1), "new")  # one finished since
    assert writes(created) == [] and created.send_profile is True
    assert created.hold_profile is False and created.memory.profile_hash == "new"
    assert created.memory.records[CONTACT].observed_at is None  # no hold left
    assert any("never created it" in e.detail for e in created.events)
    # an opt-out read there afterwards is the person's, and counts (R4)
    later = rules.decide(created.memory, [seen(CONTACT, True, 50)], ctx(PLATFORM, now=400))
    assert later.memory.agreed is True and writes(later) == [(LEAD, True, "R5")]
    # a read that had finished already when the Lead re-subscribed: no hold at all
    at_once = rules.decide(memory, [seen(LEAD, False, 30)], ctx(CRM, reads=1), "new")
    assert at_once.send_profile is True and at_once.hold_profile is False
    assert writes(at_once) == [] and at_once.memory.records[CONTACT].observed_at is None


def test_among_changes_an_opt_out_wins():
    memory = person(False, RecordMemory(LEAD, observed=False, observed_at=at(5)),
                    RecordMemory(LEAD2, observed=True, observed_at=at(5)))
    decision = rules.decide(memory, [seen(LEAD, True, 30), seen(LEAD2, False, 31)], ctx(CRM))
    assert decision.memory.agreed is True
    assert [e.rule for e in decision.events if e.source == LEAD][0] == "R3"


# bounces


def test_a_hard_bounce_is_an_opt_out_named_as_a_bounce_and_its_setting():
    memory = person(False, RecordMemory(LEAD, observed=False, observed_at=at(5)),
                    RecordMemory(CONTACT, observed=False, observed_at=at(6)))
    bounce = seen(CONTACT, False, 30, bounced=True, why="unsubscribed")
    decision = rules.decide(memory, [bounce], ctx(PLATFORM))
    assert decision.memory.agreed is True
    (event,) = [e for e in decision.events if e.new and e.rule == "R2"]
    assert "hard bounce" in event.detail and "bounce_is_opt_out" in event.detail
    ignored = rules.decide(memory, [bounce], ctx(PLATFORM, bounce_is_opt_out=False))
    assert ignored.memory.agreed is False and ignored.writes == []


# writes by address, before the CRM was ever read


def test_a_write_by_address_is_sent_while_the_crm_was_never_read():
    decision = rules.decide(person(None), [seen(CONTACT, True, 10)],
                            ctx(PLATFORM, crm_read=False))
    by_email = RecordKey(CRM, "salesforce", BY_EMAIL, EMAIL)
    assert writes(decision) == [(by_email, True, "R5")]
    assert rules.decide(person(None), [seen(CONTACT, True, 10)], ctx(PLATFORM)).writes == []


def test_a_write_by_address_ends_when_the_crm_is_read():
    by_email = RecordKey(CRM, "salesforce", BY_EMAIL, EMAIL)
    written = RecordMemory(by_email, pending=True, pending_at=at(20), pending_run=0)
    memory = person(True, written, RecordMemory(CONTACT, observed=True, observed_at=at(10)))
    heir = rules.decide(memory, [seen(LEAD, True, 21)], ctx(CRM), "p", EMAIL)
    assert by_email not in heir.memory.records
    assert heir.memory.records[LEAD].observed is True  # our write by address, read back
    assert heir.echoes == 1
    nobody = rules.decide(memory, [], replace(ctx(CRM)))
    assert by_email not in nobody.memory.records
    assert any(e.rule == "R7" and "write by address ended" in e.detail for e in nobody.events)


def test_writes_name_the_rule_that_asked_for_them():
    assert Write(LEAD, True, "R5").rule == "R5"


def test_a_re_subscribe_a_case_twin_never_confirms_is_given_up_once():
    # chaos suite finding: `Z@x` re-subscribed by address reached its older twin `z@x`, so
    # the write to `Z@x` was sent on every run, never quiet
    twin = autopilot.key("A@x.io")
    memory = person(False, RecordMemory(LEAD, observed=False, observed_at=at(10)),
                    RecordMemory(CONTACT, observed=False, observed_at=at(20)),
                    RecordMemory(twin, observed=True, observed_at=at(20), pending=False,
                                 pending_at=at(30), pending_run=0))
    retried = rules.decide(memory, [], ctx(CRM, reads=1))
    assert writes(retried) == [(twin, False, "R7")]  # a platform that re-subscribes by id
    given_up = rules.decide(memory, [], ctx(CRM, reads=1, resubscribes_case_twins=False))
    assert writes(given_up) == []
    assert [e.rule for e in given_up.events] == ["R7"]
    assert "only in case" in given_up.events[0].detail
    assert given_up.memory.records[twin].pending is None
    later = rules.decide(given_up.memory, [], ctx(CRM, reads=2, resubscribes_case_twins=False))
    assert writes(later) == [] and later.events == []
    # the first write is sent: if this is the older twin, Autopilot applies it
    fresh = person(False, RecordMemory(LEAD, observed=False, observed_at=at(10)),
                   RecordMemory(CONTACT, observed=False, observed_at=at(20)),
                   RecordMemory(twin, observed=True, observed_at=at(20)))
    first = rules.decide(fresh, [], ctx(CRM, resubscribes_case_twins=False))
    assert writes(first) == [(twin, False, "R5")]


def test_a_write_of_the_value_a_record_holds_ends_when_no_read_shows_a_change():
    # chaos suite finding: our opt-out to the contact failed, the person re-subscribed, and the
    # re-subscribe reached a contact that was subscribed all along: no change, so it is never
    # read back; it was sent on every run
    memory = person(False, RecordMemory(LEAD, observed=False, observed_at=at(30)),
                    RecordMemory(CONTACT, observed=False, observed_at=at(10), pending=False,
                                 pending_at=at(40), prior_at=at(20), pending_run=0))
    decision = rules.decide(memory, [], ctx(CRM, reads=1))
    assert writes(decision) == []
    assert [e.rule for e in decision.events] == ["R7"]
    assert decision.memory.records[CONTACT].pending is None
    # the other value pending is still sent again: the record may hold our older write
    other = person(True, RecordMemory(LEAD, observed=True, observed_at=at(30)),
                   RecordMemory(CONTACT, observed=False, observed_at=at(10), pending=True,
                                pending_at=at(40), pending_run=0))
    assert writes(rules.decide(other, [], ctx(CRM, reads=1))) == [(CONTACT, True, "R7")]

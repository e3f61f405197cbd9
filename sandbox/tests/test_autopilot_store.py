"""The Autopilot store and demo loader, without a server."""

from __future__ import annotations

import sqlite3

from consent_sandbox.autopilot import load_demo
from consent_sandbox.autopilot.store import Store
from consent_sandbox.demo import demo_people
from consent_sandbox.settings import SandboxSettings


def test_the_demo_loads_once_with_each_persons_autopilot_side(tmp_path):
    settings = SandboxSettings(state_dir=tmp_path)
    people = demo_people(300)
    load_demo(settings, people)
    load_demo(settings, people)  # a restart: nothing is added twice
    store = Store(settings.autopilot_db)
    contacts = {c["Email"]: c for c in store.every()}
    expected = [p for p in people if p.in_autopilot and p.email is not None]
    assert store.count() == len(expected) == len(contacts) > 0
    for person in expected:
        contact = contacts[person.email]
        assert (contact["FirstName"], contact["LastName"], contact["Company"]) == (
            person.first_name, person.last_name, person.company)
        assert contact["unsubscribed"] is person.ap_unsubscribed
        assert ("mail_hardbounced" in contact) is person.ap_hard_bounced
    assert any(not p.email_ok for p in expected)  # malformed addresses are loaded as given


def test_a_first_version_store_keeps_its_list_members(tmp_path):
    path = tmp_path / "autopilot.db"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE contacts (seq INTEGER PRIMARY KEY AUTOINCREMENT,
            contact_id TEXT NOT NULL UNIQUE, email_lower TEXT NOT NULL, doc TEXT NOT NULL);
        CREATE TABLE lists (list_id TEXT PRIMARY KEY, title TEXT NOT NULL UNIQUE);
        CREATE TABLE members (list_id TEXT NOT NULL, contact_id TEXT NOT NULL,
            PRIMARY KEY (list_id, contact_id));
        INSERT INTO contacts (contact_id, email_lower, doc) VALUES
            ('person_A', 'a@x.io', '{"contact_id": "person_A", "Email": "a@x.io"}'),
            ('person_B', 'b@x.io', '{"contact_id": "person_B", "Email": "b@x.io"}');
        INSERT INTO lists VALUES ('contactlist_1', 'L');
        INSERT INTO members VALUES ('contactlist_1', 'person_B');
    """)
    db.commit()
    db.close()
    store = Store(path)
    assert store.lists_of(["person_A", "person_B"]) == {"person_A": [],
                                                         "person_B": ["contactlist_1"]}
    assert store.page(None, "contactlist_1") == (
        [{"contact_id": "person_B", "Email": "b@x.io"}], False)

"""Objects as the API renders them: ids and counters as strings, `links` to related paths."""

from __future__ import annotations

CONTACT_DEFAULTS = {
    "email": "", "phone": "", "firstName": "", "lastName": "", "orgid": "0", "orgname": "",
    "segmentio_id": "", "bounced_hard": "0", "bounced_soft": "0", "bounced_date": None,
    "ip": "0", "ua": None, "hash": "", "socialdata_lastcheck": None, "email_local": "",
    "email_domain": "", "sentcnt": "0", "rating_tstamp": None, "gravatar": "0", "deleted": "0",
    "anonymized": "0", "adate": None, "edate": None, "deleted_at": None,
}
CONTACT_LINKS = ("bounceLogs", "contactAutomations", "contactData", "contactGoals",
                 "contactLists", "contactLogs", "contactTags", "contactDeals", "deals",
                 "fieldValues", "geoIps", "notes", "organization", "plusAppend", "trackingLogs",
                 "scoreValues", "accountContacts", "automationEntryCounts")


def contact(doc: dict, base: str) -> dict:
    out = {**CONTACT_DEFAULTS, **{k: v for k, v in doc.items() if k != "id"}}
    for key in ("bounced_hard", "bounced_soft", "sentcnt"):
        out[key] = str(out[key])
    ident = str(doc["id"])
    out["scoreValues"] = []
    out["links"] = {name: f"{base}/contacts/{ident}/{name}" for name in CONTACT_LINKS}
    out["id"] = ident
    out["organization"] = None
    return out


def contact_list(row: dict, base: str) -> dict:
    ident = str(row["id"])
    return {
        "contact": str(row["contact"]), "list": str(row["list"]), "form": None, "seriesid": "0",
        "sdate": row["sdate"], "udate": row["udate"], "status": str(row["status"]),
        "responder": "1", "sync": "0", "unsubreason": row["unsubreason"], "campaign": None,
        "message": None, "first_name": "", "last_name": "", "ip4Sub": "0", "sourceid": "4",
        "autosyncLog": None, "ip4_last": "0", "ip4Unsub": "0",
        "created_timestamp": row["created_timestamp"],
        "updated_timestamp": row["updated_timestamp"], "created_by": None, "updated_by": None,
        "unsubscribeAutomation": None,
        "links": {name: f"{base}/contactLists/{ident}/{name}" for name in
                  ("automation", "list", "contact", "form", "autosyncLog", "campaign",
                   "unsubscribeAutomation", "message")},
        "id": ident, "automation": None,
    }


def list_(doc: dict, base: str) -> dict:
    ident = str(doc["id"])
    return {
        "stringid": doc.get("stringid") or "", "userid": "1", "name": doc["name"],
        "cdate": doc.get("cdate"), "udate": doc.get("udate"), "p_use_tracking": "1",
        "private": "0", "sender_url": doc.get("sender_url") or "",
        "sender_reminder": doc.get("sender_reminder") or "", "optinoptout": "1",
        "subscriber_count": doc.get("subscriber_count"),
        "links": {name: f"{base}/lists/{ident}/{name}" for name in
                  ("contactGoalLists", "user", "addressLists")},
        "id": ident,
    }


def tag(row: dict, base: str) -> dict:
    ident = str(row["id"])
    return {"tagType": row["tagType"], "tag": row["tag"], "description": row["description"],
            "cdate": row["cdate"],
            "links": {"contactGoalTags": f"{base}/tags/{ident}/contactGoalTags"}, "id": ident}


def contact_tag(row: dict, base: str) -> dict:
    ident = str(row["id"])
    return {"cdate": row["cdate"], "contact": str(row["contact"]), "tag": str(row["tag"]),
            "links": {"contact": f"{base}/contactTags/{ident}/contact",
                      "tag": f"{base}/contactTags/{ident}/tag"}, "id": ident}


def field(row: dict, base: str) -> dict:
    ident = str(row["id"])
    return {"title": row["title"], "descript": None, "type": row["type"], "isrequired": "0",
            "perstag": row["perstag"], "defval": None, "show_in_list": "0", "rows": "0",
            "cols": "0", "visible": "1", "service": "", "ordernum": ident, "cdate": row["cdate"],
            "udate": row["cdate"], "options": [], "relations": [],
            "links": {"options": f"{base}/fields/{ident}/options",
                      "relations": f"{base}/fields/{ident}/relations"}, "id": ident}


def field_value(row: dict, base: str) -> dict:
    ident = str(row["id"])
    return {"contact": str(row["contact"]), "field": str(row["field"]), "value": row["value"],
            "cdate": row["cdate"], "udate": row["udate"], "created_by": None,
            "updated_by": None,
            "links": {"owner": f"{base}/fieldValues/{ident}/owner",
                      "field": f"{base}/fieldValues/{ident}/field"},
            "id": ident, "owner": str(row["contact"])}


def bounce_log(row: dict, base: str) -> dict:
    ident = str(row["id"])
    return {"tstamp": row["tstamp"], "bounceid": "1", "subscriberid": str(row["contact"]),
            "campaignid": "0", "messageid": "0", "codeid": row["codeid"], "email": row["email"],
            "error": row["error"], "source": "", "created_by": None, "updated_by": None,
            "links": {name: f"{base}/bounceLogs/{ident}/{name}" for name in
                      ("bounce", "contact", "campaign", "message", "code")},
            "id": ident, "bounce": "1", "contact": str(row["contact"]), "campaign": "0",
            "message": "0", "code": row["codeid"]}


def webhook(doc: dict) -> dict:
    return {"cdate": doc.get("cdate"), "listid": str(doc.get("listid") or "0"),
            "name": doc["name"], "url": doc["url"], "events": doc["events"],
            "sources": doc["sources"], "links": [], "id": str(doc["id"])}


def meta(total: int) -> dict:
    return {"total": str(total)}

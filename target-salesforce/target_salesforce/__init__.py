"""Singer target that updates or upserts Salesforce records in batches of sObject Collections."""

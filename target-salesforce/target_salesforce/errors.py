"""Errors that stop a run, each worded so the reader knows what to fix."""

from __future__ import annotations


class TargetSalesforceError(Exception):
    """A failure that ends the run with a non-zero exit and a message for the user."""


class FieldAccessError(TargetSalesforceError):
    """A field the stream writes is hidden from, or read-only for, the integration user."""


class UnknownObjectError(TargetSalesforceError):
    """The stream is named after no sObject this org exposes."""


class SalesforceCallError(TargetSalesforceError):
    """A call failed as a whole and retrying did not help."""


class RecordsRejectedError(TargetSalesforceError):
    """Salesforce refused some records for good; all the others were written."""

"""How each system's records become observations for the rule book, and its writes records.

`salesforce` is the CRM; each marketing platform is one module (`autopilot`, ...). Adapters know
field names and shapes, never a consent rule: those are in :mod:`consent_mapper.rules`.
"""

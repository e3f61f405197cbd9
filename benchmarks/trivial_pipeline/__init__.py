"""The yardstick of the scale suite: the least a singer-sdk tap -> mapper -> target pipeline costs.

A tap emitting `record_count` generated records, a pass-through inline mapper and a target that
drops every record, run through `meltano run` like the consent pipelines (`project.py`).
"""

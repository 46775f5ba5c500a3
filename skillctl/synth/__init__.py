"""The closed loop: skills drafted from agent sessions, proposals instead of silent edits, outcomes.

The pipeline reads straight through: ``sessions`` (one reader per agent's format, all yielding
one normalized ``Session``) -> ``redact`` (secrets out before anything else sees the text) ->
``draft`` (deterministic offline draft, or an LLM draft through the openai SDK) -> validate
--strict and scan -> written as a draft skill, or as a ``proposals`` entry when a skill with the
same purpose exists. ``outcomes`` records how skills fared when agents used them and turns a
poor record into a ``failing`` verdict that ``schedule`` applies.
"""

#!/usr/bin/env python3
"""Validate JSON documents against the everyday subset of JSON Schema, with no dependencies.

Supported keywords: type, enum, const, required, properties, additionalProperties (boolean or
schema), items (single schema), minItems, maxItems, uniqueItems, minLength, maxLength,
pattern, minimum, maximum, exclusiveMinimum, exclusiveMaximum. Anything else is reported as
unsupported instead of being silently ignored, so a "valid" verdict is never a false comfort.
Exit status: 0 all documents valid, 1 some invalid, 2 unreadable input or unsupported schema.
"""

from __future__ import annotations

import json
import re
import sys

SUPPORTED = {
    "$schema", "$id", "title", "description", "default", "examples", "$comment",
    "type", "enum", "const", "required", "properties", "additionalProperties", "items",
    "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "pattern",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
}

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    # bool is a subclass of int in Python; JSON Schema says true is not a number.
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def unsupported(schema: object, where: str = "#") -> list[str]:
    """List keywords this validator would otherwise ignore."""
    if not isinstance(schema, dict):
        return []
    found = [f"{where}/{key}" for key in schema if key not in SUPPORTED]
    for name, sub in (schema.get("properties") or {}).items():
        found += unsupported(sub, f"{where}/properties/{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += unsupported(schema[key], f"{where}/{key}")
    return found


def validate(value: object, schema: dict, path: str = "") -> list[str]:
    """Return error messages, each prefixed with the JSON Pointer of the offending value."""
    where = path or "/"
    errors: list[str] = []
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        if not any(TYPES[name](value) for name in names):
            return [f"{where}: expected {' or '.join(names)}, got {type_name(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {json.dumps(value)} is not one of {json.dumps(schema['enum'])}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: must equal {json.dumps(schema['const'])}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{where}: shorter than {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{where}: longer than {schema['maxLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{where}: {json.dumps(value)} does not match pattern {schema['pattern']}")
    if TYPES["number"](value):
        for key, fails, word in (
            ("minimum", lambda v, b: v < b, "less than minimum"),
            ("maximum", lambda v, b: v > b, "greater than maximum"),
            ("exclusiveMinimum", lambda v, b: v <= b, "not greater than"),
            ("exclusiveMaximum", lambda v, b: v >= b, "not less than"),
        ):
            if key in schema and fails(value, schema[key]):
                errors.append(f"{where}: {json.dumps(value)} is {word} {schema[key]}")
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{where}: missing required property {name!r}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for name, sub in value.items():
            child = f"{path}/{escape(name)}"
            if name in props:
                errors += validate(sub, props[name], child)
            elif extra is False:
                errors.append(f"{child}: additional property not allowed")
            elif isinstance(extra, dict):
                errors += validate(sub, extra, child)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{where}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{where}: more than {schema['maxItems']} items")
        if schema.get("uniqueItems"):
            canon = [json.dumps(item, sort_keys=True) for item in value]
            if len(set(canon)) != len(canon):
                errors.append(f"{where}: items are not unique")
        if isinstance(schema.get("items"), dict):
            for i, item in enumerate(value):
                errors += validate(item, schema["items"], f"{path}/{i}")
    return errors


def escape(name: str) -> str:
    """RFC 6901: '~' and '/' inside a key must be escaped in a JSON Pointer."""
    return name.replace("~", "~0").replace("/", "~1")


def type_name(value: object) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if TYPES[name](value):
            return name
    return type(value).__name__


def load(path: str) -> object:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, json.JSONDecodeError) as err:
        raise SystemExit(f"{path}: cannot read JSON: {err}") from None


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: validate_json.py SCHEMA DOCUMENT...", file=sys.stderr)
        return 2
    schema = load(argv[0])
    if not isinstance(schema, dict):
        print(f"{argv[0]}: a schema must be a JSON object", file=sys.stderr)
        return 2
    missing = unsupported(schema)
    if missing:
        print(f"{argv[0]}: unsupported keywords: {', '.join(missing)}", file=sys.stderr)
        return 2
    status = 0
    for doc in argv[1:]:
        errors = validate(load(doc), schema)
        if errors:
            status = 1
            print(f"{doc}: {len(errors)} error(s)")
            for err in errors:
                print(f"  {err}")
        else:
            print(f"{doc}: valid")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

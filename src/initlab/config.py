"""Config validation with messages that name the key.

`validate` checks the merged config (``config.yaml`` plus any ``--configfile`` overrides) against
``workflow/schemas/config.schema.yaml`` and raises one `ConfigError` listing every problem as
``studies.scaled_gd.experiments.psd.settings.eps: '1e-10' is not of type 'number'``, instead of
a dump of the schema. Light imports only: the Snakefile calls it on every parse.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

__all__ = ["ConfigError", "sweepable_settings", "validate"]


class ConfigError(ValueError):
    """An invalid config; the message names each offending key and what was expected."""


def _key(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def _message(error) -> str:
    key = _key(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unexpected = sorted(set(error.instance) - set(allowed))
        return f"{key}: unknown key(s) {unexpected}; allowed here: {allowed}"
    if (
        error.validator == "type"
        and isinstance(error.instance, str)
        and error.validator_value in ("number", "integer")
    ):
        return (
            f"{key}: {error.instance!r} is a string, expected a {error.validator_value} "
            "(YAML reads 1e-3 as a string: write 1.0e-3)"
        )
    if error.validator == "enum":
        return f"{key}: {error.instance!r} is not one of {error.validator_value}"
    if error.validator == "required":
        return f"{key}: {error.message}"
    description = error.schema.get("description")
    hint = f" ({description})" if description else ""
    return f"{key}: {error.message}{hint}"


def _resolve(schema: dict, node):
    """``node`` with local ``$ref``s (``#/$defs/<name>``) followed."""
    while isinstance(node, dict) and "$ref" in node:
        node = schema["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return node


def sweepable_settings(schema: dict) -> dict:
    """The schema with every scalar setting of an experiment sweepable in its sweep blocks.

    In each ``{settings, sweep}`` object, a block key that names a setting (added if the block
    does not list it) takes the setting's scalar as an override or a list of them as an axis
    (`initlab.sweep`), checked with the block's own schema for the key where it has one, else the
    setting's. List-valued settings are left as they are. So the schema file states each value's
    type once, under settings, and an override file can sweep any scalar setting.
    """
    import json

    schema = json.loads(json.dumps(schema))  # a tree: YAML anchors would share nodes

    def is_array(node) -> bool:
        return _resolve(schema, node).get("type") == "array"

    def visit(node):
        if isinstance(node, list):
            for item in node:
                visit(item)
            return
        if not isinstance(node, dict):
            return
        props = node.get("properties")
        if isinstance(props, dict) and {"settings", "sweep"} <= set(props):
            settings = _resolve(schema, props["settings"]).get("properties", {})
            block = _resolve(schema, _resolve(schema, props["sweep"]).get("items", {}))
            block_props = block.setdefault("properties", {})
            for key, setting in settings.items():
                own = block_props.get(key, setting)
                if is_array(setting) or is_array(own):
                    continue
                axis = {"type": "array", "minItems": 1, "uniqueItems": True, "items": own}
                block_props[key] = {"if": {"type": "array"}, "then": axis, "else": own}
        for value in node.values():
            visit(value)

    visit(schema)
    return schema


def validate(config: Mapping, schema_path: str | Path) -> None:
    """Raise `ConfigError` naming every key of ``config`` that breaks the schema (as extended by
    `sweepable_settings`)."""
    import jsonschema
    import yaml

    schema = sweepable_settings(yaml.safe_load(Path(schema_path).read_text()))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = "\n  ".join(_message(e) for e in errors)
        raise ConfigError(f"invalid config ({len(errors)} problem(s)):\n  {lines}")

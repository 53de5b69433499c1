"""Config validation with messages that name the key.

`validate` checks the merged config (``config.yaml`` plus any ``--configfile`` overrides) against
``workflow/schemas/config.schema.yaml`` and raises one `ConfigError` listing every problem as
``studies.scaled_gd.experiments.psd.settings.eps: '1e-10' is not of type 'number'``, instead of
a dump of the schema. Light imports only: the Snakefile calls it on every parse.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

__all__ = ["ConfigError", "validate"]


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
    if error.validator == "type" and isinstance(error.instance, str) and error.validator_value in (
        "number",
        "integer",
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


def validate(config: Mapping, schema_path: str | Path) -> None:
    """Raise `ConfigError` naming every key of ``config`` that breaks the schema."""
    import jsonschema
    import yaml

    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = "\n  ".join(_message(e) for e in errors)
        raise ConfigError(f"invalid config ({len(errors)} problem(s)):\n  {lines}")

"""The event catalogue as an AsyncAPI 3.0 document and a readable Markdown page, both generated from
the contracts so they cannot drift: `python -m mes_shared.catalogue write docs` (a test checks them).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import mes_shared.events  # noqa: F401 - importing registers every contract
from mes_shared.envelope import Envelope, EventData
from mes_shared.topics import CATALOGUE


def _contracts() -> list[type[EventData]]:
    return [model for name, model in sorted(EventData.registered().items()) if not name.startswith("mes.test.")]


def _message_id(event_type: str) -> str:
    return event_type.replace(".", "_").replace("-", "_")


def asyncapi_document() -> dict[str, Any]:
    envelope = Envelope.model_json_schema()
    envelope["properties"].pop("data")
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in CATALOGUE:
        channels[spec.name] = {
            "address": spec.name,
            "description": f"{spec.description} Key: {spec.key}. Partitions: {spec.partitions}. Retention: unlimited.",
            "messages": {},
        }
    for model in _contracts():
        message_id = _message_id(model.event_type)
        payload = json.loads(json.dumps(envelope))
        payload["properties"]["type"] = {"const": model.event_type}
        payload["properties"]["data"] = model.model_json_schema()
        payload["required"] = sorted({*payload.get("required", []), "data"})
        messages[message_id] = {
            "name": model.event_type,
            "title": model.__name__,
            "summary": (model.__doc__ or model.__name__).strip().splitlines()[0],
            "contentType": "application/cloudevents+json",
            "headers": {"type": "object", "properties": {"ce_type": {"const": model.event_type}}},
            "bindings": {"kafka": {"key": {"type": "string", "description": model.key}}},
            "payload": payload,
        }
        channels[model.topic]["messages"][message_id] = {"$ref": f"#/components/messages/{message_id}"}
        operation_id = f"{model.producer}_publishes_{message_id}"
        operations[operation_id] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{model.topic}"},
            "messages": [{"$ref": f"#/channels/{model.topic}/messages/{message_id}"}],
            "description": f"Published by {model.producer} through its transactional outbox.",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "MES event catalogue",
            "version": "1.0.0",
            "description": "Events the MES services exchange over Kafka: CloudEvents 1.0 envelopes in structured "
            "JSON mode, one contract per event type and version, keyed by the aggregate id.",
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def events_markdown() -> str:
    lines = [
        "# Event catalogue",
        "",
        "Generated from `shared/src/mes_shared/events/` by `python -m mes_shared.catalogue write docs`;",
        "the AsyncAPI 3.0 document beside it (`asyncapi.json`) carries the full JSON schemas.",
        "",
        "Every event is a CloudEvents 1.0 envelope: `id`, `source` (`/mes/<service>`), `type`",
        "(`mes.<aggregate>.<fact>.v<N>`), `subject` (the aggregate id, also the Kafka key), `time` (when the fact",
        "happened), `dataschema`, `correlationid` (from the HTTP request's `X-Correlation-ID`) and `data`.",
        "",
        "## Topics",
        "",
        "| topic | key | partitions | retention | what |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| `{t.name}` | {t.key} | {t.partitions} | unlimited | {t.description} |" for t in CATALOGUE]
    lines += ["", "## Events", ""]
    for model in _contracts():
        doc = " ".join((model.__doc__ or "").split())
        lines += [
            f"### `{model.event_type}`",
            "",
            f"Topic `{model.topic}`, key: {model.key}, published by {model.producer}." + (f" {doc}" if doc else ""),
            "",
            "| field | type |",
            "| --- | --- |",
        ]
        schema = model.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            lines.append(f"| `{name}`{'' if name in required else ' (optional)'} | {_type_of(prop)} |")
        lines.append("")
    return "\n".join(lines)


def _type_of(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "anyOf" in prop:
        return " or ".join(_type_of(p) for p in prop["anyOf"])
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if prop.get("type") == "array":
        return f"list of {_type_of(prop.get('items', {}))}"
    if prop.get("format"):
        return f"{prop['type']} ({prop['format']})"
    return str(prop.get("type", "object"))


def rendered() -> dict[str, str]:
    return {
        "asyncapi.json": json.dumps(asyncapi_document(), indent=2, sort_keys=False) + "\n",
        "events.md": events_markdown(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mes_shared.catalogue")
    parser.add_argument("command", choices=["write"])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    args.directory.mkdir(parents=True, exist_ok=True)
    for name, text in rendered().items():
        (args.directory / name).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

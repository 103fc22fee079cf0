"""The committed event catalogue and OpenAPI documents are what the code generates.

Regenerate after changing a contract or a route: `./mes docs` (MES_UPDATE_DOCS=1 runs this file).
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import pytest

from mes_shared.catalogue import rendered

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
UPDATE = os.environ.get("MES_UPDATE_DOCS") == "1"
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))


def check(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run ./mes docs"
    assert path.read_text() == text, f"{path.relative_to(ROOT)} is stale: run ./mes docs"


@pytest.mark.parametrize("name", sorted(rendered()))
def test_event_catalogue_is_current(name: str) -> None:
    check(DOCS / name, rendered()[name])


@pytest.mark.parametrize("service", SERVICES)
def test_openapi_is_current(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    package = service.replace("-", "_")
    prefix = package.upper() + "_"
    monkeypatch.setenv(prefix + "DATABASE_URL", "postgresql+asyncpg://docs:docs@127.0.0.1:1/docs")
    monkeypatch.setenv(prefix + "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv(prefix + "AUTH_SECRET", "docs-AZvpUhpBUAahfpbPPr-njqUvrFSAVXna_t9Q31dloByo")
    app = importlib.import_module(f"{package}.main").create_app()
    check(DOCS / "openapi" / f"{service}.json", json.dumps(app.openapi(), indent=2) + "\n")


def test_reporting_definitions_are_current() -> None:
    """reporting's README defines its figures in the words of `reporting.api.definitions`, which the OpenAPI
    descriptions use too: the README section is generated from that module."""
    from reporting.api.definitions import readme_with_definitions

    readme = ROOT / "services" / "reporting" / "README.md"
    check(readme, readme_with_definitions(readme.read_text()))

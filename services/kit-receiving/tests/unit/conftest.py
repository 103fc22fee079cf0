"""Shared fixtures for the kit-receiving domain tests: one BOM and fixed instants, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kit_receiving.domain import BomLine, KitBom

T0 = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)


@pytest.fixture
def bom() -> KitBom:
    return KitBom(
        kit_type="TRK-6X4-A",
        version=3,
        lines=(
            BomLine("P-100", "front axle", 1, "ST-05"),
            BomLine("P-200", "wheel nut", 20, "ST-12"),
            BomLine("P-300", "mirror", 2, "ST-20"),
            BomLine("P-400", "wiring harness", 1, "ST-05"),
        ),
    )


@pytest.fixture
def t0() -> datetime:
    return T0


@pytest.fixture
def later() -> datetime:
    return T0 + timedelta(hours=2)

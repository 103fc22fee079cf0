"""The topic catalogue."""

from __future__ import annotations

import pytest

from mes_shared import topics
from mes_shared.topics import CATALOGUE, DEAD_LETTER, KITS, by_name


def test_catalogue_names_are_unique() -> None:
    names = [spec.name for spec in CATALOGUE]
    assert len(names) == len(set(names))
    assert {"mes.kits", "mes.dead-letter"} <= set(names)


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda s: s.name)
def test_partitions_are_positive(spec: topics.TopicSpec) -> None:
    assert isinstance(spec.partitions, int)
    assert spec.partitions > 0


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda s: s.name)
def test_retention_is_unlimited(spec: topics.TopicSpec) -> None:
    assert spec.config["retention.ms"] == "-1"
    assert spec.config["retention.bytes"] == "-1"
    assert spec.config["cleanup.policy"] == "delete"


def test_specs_do_not_share_their_config_dict() -> None:
    assert KITS.config is not DEAD_LETTER.config
    assert KITS.config is not topics.UNLIMITED_RETENTION


def test_by_name_finds_each_topic() -> None:
    for spec in CATALOGUE:
        assert by_name(spec.name) is spec
    assert by_name("mes.kits") is KITS


def test_by_name_raises_for_unknown_topic() -> None:
    with pytest.raises(KeyError, match=r"mes\.nope"):
        by_name("mes.nope")


def test_main_list_prints_every_topic(capsys: pytest.CaptureFixture[str]) -> None:
    assert topics.main(["list"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(CATALOGUE)
    for spec, line in zip(CATALOGUE, lines, strict=True):
        name, partitions, key = line.split("\t")
        assert name == spec.name
        assert partitions == f"partitions={spec.partitions}"
        assert key == f"key={spec.key}"


def test_main_rejects_an_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        topics.main(["drop"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err

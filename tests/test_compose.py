"""docker-compose.yml cannot run here (no Docker engine), so this keeps it true to what ./mes runs."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
MES_SCRIPT = (ROOT / "mes").read_text()
# Broker settings that differ on purpose: addresses and ports are per host.
PER_HOST = {"listeners", "advertised.listeners", "controller.quorum.voters", "log.dirs", "node.id"}


def service_dirs() -> list[Path]:
    return sorted(p.parent for p in (ROOT / "services").glob("*/pyproject.toml"))


def script_ports() -> dict[str, int]:
    block = re.search(r"MES_SERVICES=\((.*?)\)", MES_SCRIPT, re.S)
    assert block, "./mes lists its services in MES_SERVICES=( ... )"
    entries = re.findall(r'"([a-z-]+):([a-z_]+):(\d+)"', block.group(1))
    return {name: int(port) for name, _, port in entries}


def broker_properties() -> dict[str, str]:
    lines = (ROOT / "deploy/kafka/server.properties.tmpl").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def kafka_env() -> dict[str, str]:
    env: dict[str, Any] = COMPOSE["services"]["kafka"]["environment"]
    return {
        k.removeprefix("KAFKA_").lower().replace("_", "."): str(v) for k, v in env.items() if k.startswith("KAFKA_")
    }


def test_compose_runs_the_kafka_release_the_script_pins() -> None:
    pinned = re.search(r'MES_KAFKA_VERSION="\$\{MES_KAFKA_VERSION:-([0-9.]+)\}"', MES_SCRIPT)
    assert pinned
    assert COMPOSE["services"]["kafka"]["image"] == f"apache/kafka:{pinned.group(1)}"


def test_compose_broker_matches_the_script_broker() -> None:
    script, compose = broker_properties(), kafka_env()
    assert compose["process.roles"] == script["process.roles"] == "broker,controller"
    shared_keys = (set(script) & set(compose)) - PER_HOST
    assert len(shared_keys) >= 10, shared_keys
    assert {k: compose[k] for k in shared_keys} == {k: script[k] for k in shared_keys}
    # What keeps events safe must be set the same way in both.
    for key in (
        "auto.create.topics.enable",
        "min.insync.replicas",
        "offsets.topic.replication.factor",
        "transaction.state.log.min.isr",
        "group.initial.rebalance.delay.ms",
        "num.partitions",
    ):
        assert key in shared_keys


@pytest.mark.parametrize("service_dir", service_dirs(), ids=lambda p: p.name)
def test_each_service_is_in_compose_with_its_port_database_and_settings(service_dir: Path) -> None:
    name = service_dir.name
    prefix = name.upper().replace("-", "_") + "_"
    database = name.replace("-", "_")
    spec = COMPOSE["services"][name]
    port = script_ports()[name]
    assert spec["ports"] == [f"{port}:{port}"]
    assert f"EXPOSE {port}" in (service_dir / "Dockerfile").read_text()
    assert f"--port {port}" in (service_dir / "Dockerfile").read_text()
    env = spec["environment"]
    assert env[f"{prefix}DATABASE_URL"].endswith(f"@postgres:5432/{database}")
    assert env[f"{prefix}KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    settings = importlib.import_module(f"{database}.settings").Settings
    assert settings.model_config["env_prefix"] == prefix
    required = {f"{prefix}{field.upper()}" for field, info in settings.model_fields.items() if info.is_required()}
    assert required <= set(env), f"compose lacks {sorted(required - set(env))}"
    assert f"CREATE DATABASE {database} OWNER mes;" in (ROOT / "deploy/postgres/create-databases.sql").read_text()
    assert f"localhost:{port}/health/ready" in str(spec["healthcheck"]["test"])


def test_compose_database_credentials_match_the_script() -> None:
    env = COMPOSE["services"]["postgres"]["environment"]
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("mes", "mes")
    assert (
        "mes:mes@127.0.0.1"
        in (ROOT / "deploy/scripts/common.sh").read_text() + (ROOT / "deploy/scripts/postgres.sh").read_text()
    )


def test_the_demo_profile_runs_the_simulator_as_mes_up_does() -> None:
    script = (ROOT / "deploy/scripts/simulator.sh").read_text()
    defaults = dict(re.findall(r'MES_DEMO_([A-Z]+)="\$\{MES_DEMO_[A-Z]+:-([^}]+)\}"', script))
    expected = ["run", "--demo", "--days", defaults["DAYS"], "--speed", defaults["SPEED"]]
    expected += ["--scenario", defaults["SCENARIO"], "--progress-every", "10"]
    assert re.search(r"-m plant_sim run --demo \\\s+--days \"\$MES_DEMO_DAYS\"", script), "simulator.sh changed shape"
    demo = COMPOSE["services"]["plant-simulator"]
    assert demo["profiles"] == ["demo"]
    assert [str(arg) for arg in demo["command"]] == expected
    dockerfile = (ROOT / "simulator/Dockerfile").read_text()
    assert f"CMD {json.dumps(expected)}" in dockerfile
    urls = {k: v for k, v in demo["environment"].items() if k.endswith("_URL")}
    assert urls == {
        f"MES_{d.name.upper().replace('-', '_')}_URL": f"http://{d.name}:{script_ports()[d.name]}"
        for d in service_dirs()
    }
    assert set(demo["depends_on"]) == {d.name for d in service_dirs()}


def test_the_service_images_run_uvicorn_as_the_script_does() -> None:
    script = (ROOT / "deploy/scripts/services.sh").read_text()
    protocol = re.search(r'^MES_HTTP_PROTOCOL="([^"]+)"', script, re.MULTILINE)
    assert protocol and '--http "$MES_HTTP_PROTOCOL" --ws none' in script, "services.sh changed shape"
    for service in service_dirs():
        dockerfile = (service / "Dockerfile").read_text()
        assert f"--http {protocol.group(1)} --ws none" in dockerfile, service.name

"""`./mes token`: issuing and revoking tokens from the command line."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from mes_shared.auth import ALGORITHM, SERVICES, Principal, Role, TokenVerifier, issue_token
from mes_shared.keys import KeySet, fixed, key_id, parse_revoked_file
from mes_shared.token_command import main

SECRET = "command-test-secret-Fv8Nq3Xk1Wz6Pb0Tr5Lm9Yc2Hd4Js7"
NEXT = "command-test-next-Gt2Rw9Kq5Vn1Xb8Mz3Lp7Hc0Df6Js4Ya"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.setenv("MES_AUTH_SECRET", SECRET)
    monkeypatch.delenv("MES_AUTH_KEYS_FILE", raising=False)
    monkeypatch.setenv("MES_AUTH_REVOKED_FILE", str(tmp_path / "revoked"))
    return monkeypatch


def issued(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["issue", *args]) == 0
    return capsys.readouterr().out.strip()


def claims(token: str, secret: str = SECRET) -> dict[str, object]:
    return jwt.decode(token, secret, algorithms=[ALGORITHM], options={"verify_aud": False})


def test_issue_prints_a_token_every_service_accepts(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = issued(capsys, "--role", "terminal", "--station", "S1", "--station", "S2", "--sub", "t-9")
    for service in SERVICES:
        verifier = TokenVerifier(service, fixed(KeySet.of([SECRET])))
        assert verifier.verify(token) == Principal("t-9", Role.TERMINAL, frozenset({"S1", "S2"}))


def test_issue_defaults_subject_to_role_and_lifetime_to_the_roles(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    manager = claims(issued(capsys, "--role", "manager", "--ttl-hours", "0.5"))
    admin = claims(issued(capsys, "--role", "admin"))
    assert (manager["sub"], manager["role"]) == ("manager", "manager")
    assert manager["exp"] - manager["iat"] == 1800  # type: ignore[operator]
    assert admin["exp"] - admin["iat"] == 3600  # type: ignore[operator]


def test_issue_names_the_services_given(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    token = issued(capsys, "--role", "logistics", "--aud", "kit-receiving", "--aud", "reporting")
    assert claims(token)["aud"] == ["kit-receiving", "reporting"]


def test_issue_refuses_a_lifetime_beyond_the_roles(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["issue", "--role", "admin", "--ttl-hours", "2"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "at most 1:00:00" in captured.err


def test_issue_signs_with_the_first_key_of_the_key_file(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(f"{NEXT}\n{SECRET}\n")
    env.setenv("MES_AUTH_KEYS_FILE", str(key_file))
    token = issued(capsys, "--role", "planner")
    assert jwt.get_unverified_header(token)["kid"] == key_id(NEXT)
    assert claims(token, NEXT)["role"] == "planner"


def test_issue_without_a_key_returns_2(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    env.delenv("MES_AUTH_SECRET")
    assert main(["issue", "--role", "admin"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "MES_AUTH_SECRET" in captured.err


def test_issue_terminal_without_station_returns_2(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["issue", "--role", "terminal"]) == 2
    assert "station" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--role", "janitor"], ["--role", "admin", "--aud", "warehouse"]])
def test_issue_rejects_unknown_choices(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["issue", *args])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_revoke_by_token_or_by_id_appends_to_the_revocation_file(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = issue_token(SECRET, subject="t-1", role=Role.TERMINAL, stations=["S1"])
    second_id = str(claims(issue_token(SECRET, subject="t-2", role=Role.LOGISTICS))["jti"])

    assert main(["revoke", first, "--reason", "terminal stolen"]) == 0
    assert main(["revoke", second_id]) == 0

    text = (tmp_path / "revoked").read_text()
    assert parse_revoked_file(text) == {claims(first)["jti"], second_id}
    assert "terminal stolen" in text
    assert f"revoked {second_id}" in capsys.readouterr().err


def test_revoke_without_a_revocation_file_returns_2(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.delenv("MES_AUTH_REVOKED_FILE")
    assert main(["revoke", "0123456789abcdef"]) == 2
    assert "MES_AUTH_REVOKED_FILE" in capsys.readouterr().err


def test_revoke_refuses_something_that_is_not_a_token(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["revoke", "a.b.c"]) == 2
    assert "not a token" in capsys.readouterr().err

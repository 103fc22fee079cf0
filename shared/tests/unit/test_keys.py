"""Secret strength, key sets and the files keys and revoked token ids are read from."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from mes_shared.keys import (
    KeySet,
    WatchedFile,
    estimated_entropy_bits,
    key_id,
    parse_key_file,
    parse_revoked_file,
    revocation_line,
    weak_secret_reason,
)

STRONG = "k3V9sQ2mX7pL0aZ4rT8wY1uE6iO5nB2c-Hq"
NEXT = "Zt5Wc1Mv7Rb3Ny9Kd0Lp4Fs8Gx2Jh6Qe-Ua"


@pytest.mark.parametrize(
    "secret",
    [
        "a" * 32,
        "a" * 200,
        "integration-tests-" + "x" * 40,
        "abc" * 20,
        "Password1" * 5,
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF",
        "9876543210" * 4,
        "unit-test-secret-0123456789abcdef-0123456789",
        "0" * 16 + "1" * 16,
    ],
    ids=repr,
)
def test_repetitive_or_sequential_secrets_are_weak(secret: str) -> None:
    assert estimated_entropy_bits(secret) < 128
    assert "predictable" in (weak_secret_reason(secret) or "")


@pytest.mark.parametrize("secret", ["", "short", "changeme", "k3V9sQ2mX7pL0aZ4rT8wY1uE6iO5nB2"], ids=repr)
def test_short_secrets_are_weak(secret: str) -> None:
    assert "at least 32" in (weak_secret_reason(secret) or "")


@pytest.mark.parametrize(
    "make", [lambda: secrets.token_urlsafe(32), lambda: secrets.token_urlsafe(48), lambda: secrets.token_hex(32)]
)
def test_generated_secrets_are_strong(make: object) -> None:
    for _ in range(300):
        secret = make()  # type: ignore[operator]
        assert weak_secret_reason(secret) is None, secret


def test_the_key_id_is_a_fingerprint_of_the_secret() -> None:
    assert key_id(STRONG) == key_id(STRONG)
    assert key_id(STRONG) != key_id(NEXT)
    assert len(key_id(STRONG)) == 16
    assert STRONG not in key_id(STRONG)


def test_a_key_file_lists_the_signing_key_first() -> None:
    keys = parse_key_file(f"# rotated 2026-12\n{NEXT}\n\n  {STRONG}  \n")
    assert keys.signing_secret == NEXT
    assert keys.signing_kid == key_id(NEXT)
    assert keys.by_kid == {key_id(NEXT): NEXT, key_id(STRONG): STRONG}
    assert keys == KeySet.of([NEXT, STRONG])


@pytest.mark.parametrize(("text", "why"), [("", "no key"), ("# only a note\n", "no key"), ("a" * 40, "key 1")])
def test_a_bad_key_file_is_refused(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_key_file(text)


def test_a_weak_key_anywhere_in_the_file_is_refused() -> None:
    with pytest.raises(ValueError, match="key 2 of the key file is weak"):
        parse_key_file(f"{STRONG}\n{'b' * 40}\n")


def test_the_revocation_file_holds_ids_with_notes() -> None:
    text = "# revoked tokens\nabc123def456  # revoked 2026-12-07 terminal stolen\n\n  fff000111222\n"
    assert parse_revoked_file(text) == frozenset({"abc123def456", "fff000111222"})
    assert parse_revoked_file(revocation_line("abc123def456", "revoked now")) == frozenset({"abc123def456"})


@pytest.mark.parametrize("token_id", ["", " a", "a#b", "a\nb"], ids=repr)
def test_a_revocation_line_needs_a_plain_id(token_id: str) -> None:
    with pytest.raises(ValueError, match="not a token id"):
        revocation_line(token_id, "note")


def test_a_watched_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "revoked"
    watched = WatchedFile(path, parse_revoked_file, when_missing=frozenset())
    assert watched.current() == frozenset()
    path.write_text("a1b2c3d4\n")
    assert watched.current() == frozenset({"a1b2c3d4"})
    with path.open("a") as out:
        out.write("e5f6a7b8\n")
    assert watched.current() == frozenset({"a1b2c3d4", "e5f6a7b8"})


def test_a_watched_file_without_a_default_must_be_there(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        WatchedFile(tmp_path / "keys", parse_key_file)

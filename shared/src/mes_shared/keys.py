"""Signing keys and revoked token ids: how strong a secret is, the key set tokens are checked against, and
the files both are read from, re-read when they change so that a key rotation or a revocation needs no
restart."""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

MIN_SECRET_LENGTH = 32
MIN_SECRET_BITS = 128.0
# Coarser than any file system's modification-time resolution.
_TIMESTAMP_TICK_NS = 2_000_000_000


def estimated_entropy_bits(secret: str) -> float:
    """A conservative estimate of a secret's entropy: Shannon entropy per character times length, taken over
    the shortest unit the secret repeats ("abcabc..." counts as "abc") and over the steps between neighbouring
    characters as well, so that runs ("aaaa") and sequences ("abcd", "9876") count for little. The lower of
    the two is the estimate."""
    unit = _repeated_unit(secret)
    steps = [ord(b) - ord(a) for a, b in itertools.pairwise(unit)]
    return min(_shannon_bits(unit), _shannon_bits(steps))


def weak_secret_reason(secret: str) -> str | None:
    """Why `secret` must not sign tokens, or None when it is strong enough."""
    if len(secret) < MIN_SECRET_LENGTH:
        return f"it has {len(secret)} characters, at least {MIN_SECRET_LENGTH} are needed"
    bits = estimated_entropy_bits(secret)
    if bits < MIN_SECRET_BITS:
        return f"it is too predictable (about {bits:.0f} bits of entropy, at least {MIN_SECRET_BITS:.0f} needed)"
    return None


def _repeated_unit(text: str) -> str:
    for period in range(1, len(text) // 2 + 1):
        if text[period:] == text[:-period]:
            return text[:period]
    return text


def _shannon_bits(symbols: Sequence[object]) -> float:
    """Shannon entropy of the symbols' frequencies, times their number."""
    total = len(symbols)
    counts = Counter(symbols).values()
    return -sum(n * math.log2(n / total) for n in counts)


def key_id(secret: str) -> str:
    """A key's `kid`: a fingerprint of the secret, so a key is named the same wherever it is configured and a
    changed secret can never pass for the old one. 64 bits of a hash say nothing usable about the secret."""
    return hashlib.sha256(b"mes-signing-key:" + secret.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class KeySet:
    """The secrets tokens may be signed with, by kid; the first signs new tokens, the others are previous
    (or next) keys still accepted during a rotation."""

    signing_secret: str
    by_kid: dict[str, str]

    @classmethod
    def of(cls, secrets: Sequence[str]) -> KeySet:
        if not secrets:
            raise ValueError("a key set needs at least one secret")
        return cls(signing_secret=secrets[0], by_kid={key_id(s): s for s in secrets})

    @property
    def signing_kid(self) -> str:
        return key_id(self.signing_secret)


def parse_key_file(text: str) -> KeySet:
    """One secret per line, the signing key first; blank lines and lines starting with # are ignored.
    Every secret must be strong: a weak one is refused, never silently skipped."""
    secrets = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not secrets:
        raise ValueError("the key file lists no key")
    for number, secret in enumerate(secrets, 1):
        if (reason := weak_secret_reason(secret)) is not None:
            raise ValueError(f"key {number} of the key file is weak: {reason}")
    return KeySet.of(secrets)


def parse_revoked_file(text: str) -> frozenset[str]:
    """One token id (jti) per line; anything after # is a note (who revoked it, when, why)."""
    return frozenset(token_id for line in text.splitlines() if (token_id := line.split("#", 1)[0].strip()))


def revocation_line(token_id: str, note: str) -> str:
    if not token_id or any(c in token_id for c in "#\r\n") or token_id != token_id.strip():
        raise ValueError(f"{token_id!r} is not a token id")
    return f"{token_id}  # {note}".rstrip() + "\n"


class WatchedFile(Generic[T]):
    """A file's parsed content, parsed again whenever the file changes (checked with a stat on each read: about
    a microsecond, so a change counts from the next request on). A file that cannot be read or parsed keeps
    the last good content and is logged, so a half-written edit never locks everyone out; replace the file
    atomically (write a copy, then rename it over) all the same. A file that is not there holds
    `when_missing`, or stops the process at start when there is no such default."""

    def __init__(self, path: Path, parse: Callable[[str], T], *, when_missing: T | None = None) -> None:
        self.path = path
        self._parse = parse
        self._when_missing = when_missing
        self._seen: tuple[int, int, int] | None = None
        self._racy = False
        if when_missing is not None and not path.exists():
            self._value = when_missing
        else:
            self._value = parse(path.read_text())
            self.current()

    def current(self) -> T:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            if self._when_missing is not None and self._seen is not None:
                log.warning("%s is gone: treating it as empty", self.path)
                self._seen, self._value = None, self._when_missing
            return self._value
        seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if seen != self._seen or self._racy:
            self._reload(seen, stat.st_mtime_ns)
        return self._value

    def _reload(self, seen: tuple[int, int, int], mtime_ns: int) -> None:
        try:
            value = self._parse(self.path.read_text())
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            if seen != self._seen:
                log.error("%s could not be used, keeping what it held before: %s", self.path, exc)
        else:
            if value != self._value:
                log.info("%s changed: now in use", self.path)
                self._value = value
        self._seen = seen
        # A second change within the file system's timestamp tick can leave size and time as they were: until
        # the file is older than that, read it on every use (as git does with its "racily clean" files).
        self._racy = time.time_ns() - mtime_ns < _TIMESTAMP_TICK_NS


def fixed(value: T) -> Callable[[], T]:
    return lambda: value


def watched_keys(path: Path) -> Callable[[], KeySet]:
    return WatchedFile(path, parse_key_file).current


def watched_revocations(path: Path | None) -> Callable[[], frozenset[str]]:
    if path is None:
        return fixed(frozenset())
    return WatchedFile(path, parse_revoked_file, when_missing=frozenset()).current

"""Identifiers of one run: everything the simulator creates carries the run's tag, so runs never collide
with each other or with other data in the same databases, and a run's data can be found again."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# VIN characters: digits and capitals without I, O and Q.
VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
PREFIX_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{0,11}$")
WMI = "XLT"  # world manufacturer identifier used for simulated trucks


def run_tag(seed: int, run_id: str, length: int = 6) -> str:
    """A short tag from the seed and the run id, in VIN characters (so it can go into VINs)."""
    number = int.from_bytes(hashlib.sha256(f"{seed}:{run_id}".encode()).digest()[:8], "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, len(VIN_ALPHABET))
        chars.append(VIN_ALPHABET[digit])
    return "".join(chars)


@dataclass(frozen=True, slots=True)
class RunIds:
    prefix: str
    tag: str

    def __post_init__(self) -> None:
        if not PREFIX_PATTERN.match(self.prefix):
            raise ValueError(f"prefix {self.prefix!r}: 1-12 capitals and digits, starting with a capital")
        if len(self.tag) != 6 or any(c not in VIN_ALPHABET for c in self.tag):
            raise ValueError(f"tag {self.tag!r}: 6 VIN characters")

    @property
    def base(self) -> str:
        return f"{self.prefix}-{self.tag}"

    def line(self, code: str) -> str:
        return f"{self.base}-{code}"

    def station(self, code: str) -> str:
        return f"{self.base}-{code}"

    def model(self, code: str) -> str:
        return f"{self.base}-{code}"

    def kit_type(self, model: str, variant: str) -> str:
        return f"{self.base}-{model}-{variant}"

    def employee(self, n: int) -> str:
        return f"{self.base}-E{n:05d}"

    def badge(self, n: int) -> str:
        return f"{self.base}-B{n:05d}"

    def kit(self, n: int) -> str:
        return f"{self.base}-K{n:06d}"

    def shipment(self, n: int) -> str:
        return f"{self.base}-ASN{n:05d}"

    def vin(self, n: int) -> str:
        if not 0 < n < 10**8:
            raise ValueError(f"truck number {n} does not fit a VIN")
        return f"{WMI}{self.tag}{n:08d}"

    def serial(self, part: str, n: int) -> str:
        return f"{self.base}-{part}-{n:07d}"

    def request_id(self, seq: int) -> str:
        """Idempotency-Key and terminal_event_id of the run's action `seq`: a resend is recognised."""
        return f"{self.base}-{seq}"

    def recall_goal(self) -> str:
        return f"{self.base}-RECALL"

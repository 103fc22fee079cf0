"""CKD claim codes, as the sister plant's suppliers use them."""

from __future__ import annotations

from enum import StrEnum


class ClaimCode(StrEnum):
    M = "M"  # total missing
    S = "S"  # partially missing
    D = "D"  # damaged
    W = "W"  # wrong part
    F = "F"  # not working
    DP = "DP"  # damaged by packaging
    DT = "DT"  # damaged in transport
    A = "A"  # rusted
    SURPLUS = "surplus"

    @property
    def part_unusable(self) -> bool:
        """True when the claimed quantity is absent or unusable for the build.

        Everything but surplus: a surplus part is extra, the kit still has what the BOM needs.
        """
        return self is not ClaimCode.SURPLUS


# Conditions the dock observes on parts it has in hand. M, S and surplus are not here because they
# follow from counted-versus-expected; letting people type them too would double count.
FINDING_CODES: frozenset[ClaimCode] = frozenset(
    {ClaimCode.D, ClaimCode.DP, ClaimCode.DT, ClaimCode.A, ClaimCode.F, ClaimCode.W}
)

# Claims that mean the BOM quantity is not usable as delivered.
UNUSABLE_CODES: frozenset[ClaimCode] = frozenset(code for code in ClaimCode if code.part_unusable)


def is_unusable(code: ClaimCode) -> bool:
    return code.part_unusable

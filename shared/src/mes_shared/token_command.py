"""Issue and revoke bearer tokens (`./mes token` wraps this).

    python -m mes_shared.token_command issue --role R [--station S ...] [--sub NAME] [--ttl-hours H] [--aud SVC ...]
    python -m mes_shared.token_command revoke TOKEN-OR-JTI [--reason TEXT]

Tokens are signed with the first key of the key file named by MES_AUTH_KEYS_FILE, or else with
MES_AUTH_SECRET. Revoking appends the token's id to the file named by MES_AUTH_REVOKED_FILE, which every
service re-reads when it changes.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mes_shared.auth import MAX_LIFETIME, SERVICES, Role, issue_token, unverified_token_id
from mes_shared.keys import KeySet, parse_key_file, revocation_line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mes_shared.token_command")
    sub = parser.add_subparsers(dest="command", required=True)
    issue = sub.add_parser("issue", help="print a signed bearer token")
    issue.add_argument("--role", required=True, choices=[r.value for r in Role])
    issue.add_argument("--station", action="append", default=[], help="repeat for each station (terminal)")
    issue.add_argument("--sub", default=None, help="who the token is for (default: role name)")
    lifetimes = ", ".join(f"{r.value} {MAX_LIFETIME[r].total_seconds() / 3600:g}" for r in Role)
    issue.add_argument(
        "--ttl-hours", type=float, default=None, help=f"lifetime (default 12 or the role's maximum: {lifetimes})"
    )
    issue.add_argument(
        "--aud", action="append", choices=SERVICES, default=None, help="a service the token is for (default: all)"
    )
    revoke = sub.add_parser("revoke", help="revoke a token (given whole, or by its jti) in every service")
    revoke.add_argument("token", help="the token, or its jti")
    revoke.add_argument("--reason", default="", help="a note kept beside the revoked id")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "issue":
            print(_issue(args))
        else:
            print(f"revoked {_revoke(args)}", file=sys.stderr)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


def _signing_keys() -> KeySet:
    if key_file := os.environ.get("MES_AUTH_KEYS_FILE"):
        return parse_key_file(Path(key_file).read_text())
    if secret := os.environ.get("MES_AUTH_SECRET"):
        return KeySet.of([secret])
    raise ValueError("neither MES_AUTH_KEYS_FILE nor MES_AUTH_SECRET is set: run `./mes up` once, or export one")


def _issue(args: argparse.Namespace) -> str:
    role = Role(args.role)
    return issue_token(
        _signing_keys(),
        subject=args.sub or role.value,
        role=role,
        stations=args.station,
        ttl=None if args.ttl_hours is None else timedelta(hours=args.ttl_hours),
        audience=args.aud or SERVICES,
    )


def _revoke(args: argparse.Namespace) -> str:
    revoked_file = os.environ.get("MES_AUTH_REVOKED_FILE")
    if not revoked_file:
        raise ValueError("MES_AUTH_REVOKED_FILE is not set: run `./mes up` once, or export it")
    token_id = unverified_token_id(args.token) if args.token.count(".") == 2 else args.token
    note = f"revoked {datetime.now(UTC):%Y-%m-%dT%H:%MZ} {args.reason}"
    line = revocation_line(token_id, note)
    # One short append: the services see the new line from their next request (the file's stat changes).
    with open(revoked_file, "a", encoding="utf-8") as out:
        out.write(line)
    return token_id


if __name__ == "__main__":
    sys.exit(main())

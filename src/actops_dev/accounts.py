"""Demo and test sign-ins: choose a password for every pending invitation, keep it on this machine.

Production never does this: people follow NocoDB's own invitation e-mail and choose their
password themselves. On the local stack nobody receives NocoDB's e-mail, so the sample
company's people get a generated password here, written to ``.actops/accounts.csv``
(git-ignored, mode 600) — never into the repo or a NocoDB table.

Verified on 0.301.3: ``POST /api/v1/auth/user/signup {email, password, token: invite_token}``
sets the password of an invited user and clears the invite token; the person can then sign
in (``POST /api/v1/auth/user/signin``) and sees the bases they were invited to.
"""

from __future__ import annotations

import csv
import secrets
from collections.abc import Iterable
from pathlib import Path

import httpx

from actops import config
from actops.errors import ActopsError
from actops.nocodb import Api

FIELDS = ("email", "password")


def accounts_file() -> Path:
    return Path(config.get("ACTOPS_DATA") or config.repo_root() / ".actops") / "accounts.csv"


def read_accounts(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["email"]: r["password"] for r in csv.DictReader(fh) if r.get("email")}


def _write(path: Path, accounts: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(FIELDS)
        w.writerows(sorted(accounts.items()))
    tmp.chmod(0o600)
    tmp.replace(path)


def new_password() -> str:
    return "Aa1!" + secrets.token_urlsafe(9)


def sign_up_pending(api: Api, base_ids: Iterable[str], path: Path | None = None) -> dict[str, str]:
    """Give every member of these bases whose invitation is pending a password; return all
    known sign-ins (e-mail → password), the new ones added to ``path``."""
    path = path or accounts_file()
    known = read_accounts(path)
    pending: dict[str, str] = {}
    for base_id in base_ids:
        body = api.request("GET", f"/api/v2/meta/bases/{base_id}/users")
        for u in body["users"]["list"]:
            if u.get("roles") and u.get("invite_token"):
                pending[str(u["email"]).lower()] = u["invite_token"]
    for email, token in sorted(pending.items()):
        password = new_password()
        resp = httpx.post(f"{api.url}/api/v1/auth/user/signup",
                          json={"email": email, "password": password, "token": token}, timeout=30)
        if resp.status_code != 200:
            raise ActopsError(f"could not set a password for {email} ({resp.status_code}): {resp.text[:200]}")
        known[email] = password
        _write(path, known)  # after each one: a failure later keeps what was set
    return known


def signin(url: str, email: str, password: str) -> str:
    """A session token (``xc-auth``) for this person."""
    resp = httpx.post(f"{url.rstrip('/')}/api/v1/auth/user/signin", json={"email": email, "password": password},
                      timeout=30)
    resp.raise_for_status()
    return resp.json()["token"]

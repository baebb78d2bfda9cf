"""How the WeChat-facing commands reach their edges: the client from the credentials, the ledger on
the branch that belongs to the account (the sandbox keeps its own, so rehearsals never mix with the
real account's records), and where the local sandbox lives.
"""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

from pipeline import ledger as ledger_module
from pipeline.ledger import Ledger
from pipeline.wechat import DEFAULT_API_BASE, Credentials, WeChat

SANDBOX_DIR = ".gzh/sandbox"    # the local sandbox's state, under the repository root
SANDBOX_PORT = 8765



def loopback(url: str) -> bool:
    """An address on this machine: the sandbox, never the real account (or its relay)."""
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ledger_branch(credentials: Credentials) -> str:
    """GZH_LEDGER_BRANCH if set; else the sandbox's branch for an API on loopback, the real one otherwise."""
    override = os.environ.get("GZH_LEDGER_BRANCH")
    if override:
        return override
    return ledger_module.SANDBOX_BRANCH if loopback(credentials.api_base) else ledger_module.BRANCH


def connect(root: Path, credentials: Credentials, **wechat_options: float) -> tuple[WeChat, Ledger]:
    """The WeChat client and the ledger of the account the credentials reach."""
    return WeChat(credentials, **wechat_options), Ledger(root, branch=ledger_branch(credentials))


def open_ledger(root: Path, *, sandbox: bool = False) -> Ledger:
    """The ledger without credentials: the sandbox's, or that of the API WECHAT_API_BASE names."""
    if sandbox:
        return Ledger(root, branch=ledger_module.SANDBOX_BRANCH)
    base = os.environ.get("WECHAT_API_BASE") or DEFAULT_API_BASE
    return Ledger(root, branch=ledger_branch(Credentials("", "", base)))

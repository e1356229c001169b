"""Shared by the compatibility checks: where the server is, and how a check reports.

The server's address comes from GANZHI_HOST and GANZHI_PORT (run.sh starts the server);
credentials, when the server runs with --auth, from GANZHI_USER / GANZHI_PASSWORD (an admin)
and GANZHI_TOKEN (a token that may write everywhere)."""

import os
import sys

HOST = os.environ.get("GANZHI_HOST", "127.0.0.1")
PORT = int(os.environ.get("GANZHI_PORT", "8086"))
USER = os.environ.get("GANZHI_USER", "")
PASSWORD = os.environ.get("GANZHI_PASSWORD", "")
TOKEN = os.environ.get("GANZHI_TOKEN", "")
URL = f"http://{HOST}:{PORT}"

_failures = []


def check(name, ok, detail=""):
    """Records one assertion; prints it either way."""
    if ok:
        print(f"  ok   {name}")
    else:
        print(f"  FAIL {name}: {detail}")
        _failures.append(name)


def finish():
    """Exit status 1 if any check failed."""
    sys.exit(1 if _failures else 0)

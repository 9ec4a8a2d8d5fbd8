"""Where the embedded database and the master key file live by default (no third-party helper).

``STRANDS_PORTKEY_HOME`` overrides the folder; otherwise the platform's per-user data directory:
``$XDG_DATA_HOME`` (or ``~/.local/share``) on Linux, ``~/Library/Application Support`` on macOS,
``%LOCALAPPDATA%`` on Windows, each with a ``strands-portkey`` sub-folder.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["DB_FILE_NAME", "HOME_ENV", "data_dir"]

HOME_ENV = "STRANDS_PORTKEY_HOME"
DB_FILE_NAME = "strands-portkey.db"
_APP = "strands-portkey"


def data_dir(env: Mapping[str, str]) -> Path:
    """The per-user data folder (not created here)."""
    if env.get(HOME_ENV):
        return Path(env[HOME_ENV]).expanduser()
    if sys.platform == "win32":
        base = env.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / _APP
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / _APP
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / _APP

"""``strands-portkey master-key status|rotate``: rotate the vault's master key without downtime, guided.

A rotation has two runs of ``rotate``, because servers must learn the new key in between:

1. With no previous key configured, ``rotate`` makes a new key, prints it once (stdout) and says
   what to set: ``STRANDS_PORTKEY_MASTER_KEY`` = the new key and
   ``STRANDS_PORTKEY_PREVIOUS_MASTER_KEYS`` = the current one, on every server (then restart them).
2. With both set, ``rotate`` re-wraps every stored provider key under the new key (one
   transaction, with progress) and says when the previous key can be dropped: gateway API keys
   made under it (their digests cannot be re-made without the key itself) keep working only while
   it is configured, so it names how many to rotate first (``keys rotate``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from ._common import AsJson, console, emit, guarded, require_local
from ._progress import progress

__all__ = ["master_key_app"]


def _plane() -> Any:
    from ..controlplane import open_control_plane

    return open_control_plane(dict(os.environ), transport=None, create=True)


def status(as_json: AsJson = False) -> None:
    """The master key in use, the previous ones configured, and what each protects."""
    require_local("master-key status")
    with guarded():
        plane = _plane()
        try:
            found = {
                "current": plane.keyring.primary.key_id,
                "previous": [
                    key_id for key_id in plane.keyring.key_ids if key_id != plane.keyring.primary.key_id
                ],
                "protects": plane.master_key_ids(),
            }
        finally:
            plane.close()

    def render(f: dict[str, Any]) -> None:
        out = console()
        out.print(f"current master key: {f['current']}; previous: {', '.join(f['previous']) or 'none'}")
        for kind, counts in f["protects"].items():
            for key_id, count in sorted(counts.items()):
                out.print(f"  {kind.replace('_', ' ')} under {key_id}: {count}")

    emit(found, as_json, render)


def _first_step(current: str, as_json: AsJson) -> None:
    from ..vault.crypto import MASTER_KEY_ENV, PREVIOUS_KEYS_ENV, MasterKey

    new = MasterKey.generate()
    steps = [
        f"set {MASTER_KEY_ENV} to the new key and {PREVIOUS_KEYS_ENV} to the current one "
        f"({current}; from {MASTER_KEY_ENV} or the master key file) on every server, then restart them",
        "run `strands-portkey master-key rotate` again to re-wrap the stored provider keys",
    ]
    found = {"step": 1, "current": current, "new_key_id": new.key_id, "new_key": new.encoded(), "next": steps}
    if as_json:
        emit(found, True, lambda _: None)
        return
    note = console(stderr=True)
    note.print(f"a new master key ({new.key_id}); it is shown this once, store it in your secret manager:")
    print(new.encoded(), flush=True)
    for number, step in enumerate(steps, start=1):
        note.print(f"{number}. {step}", markup=False)


def rotate(as_json: AsJson = False) -> None:
    """Rotate the master key (run twice: a new key first, then the re-wrap; see the steps it prints)."""
    require_local("master-key rotate")
    with guarded():
        plane = _plane()
        try:
            keyring = plane.keyring
            current = keyring.primary.key_id
            if len(keyring.key_ids) == 1:
                _first_step(current, as_json)
                return
            before = plane.master_key_ids()
            total = sum(before["provider_keys"].values())
            with progress("re-wrapping provider keys", total) as bar:
                count = plane.rewrap(on_progress=lambda done, all_: bar.update(done, total=all_))
            stale = sum(
                n for key_id, n in plane.master_key_ids()["gateway_keys"].items() if key_id != current
            )
        finally:
            plane.close()
    found = {"step": 2, "current": current, "rewrapped": count, "gateway_keys_under_previous": stale}
    out = console(stderr=True)

    def render(_: Any) -> None:
        out.print(f"re-wrapped {count} provider key(s) under {current}")
        if stale:
            out.print(
                f"{stale} gateway API key(s) were made under a previous master key: they work only while "
                "it is in STRANDS_PORTKEY_PREVIOUS_MASTER_KEYS; rotate them (strands-portkey keys rotate ID) "
                "before dropping it"
            )
        else:
            out.print("done: remove STRANDS_PORTKEY_PREVIOUS_MASTER_KEYS from every server")

    emit(found, as_json, render)
    sys.stdout.flush()


def master_key_app() -> typer.Typer:
    """The ``master-key`` command group."""
    app = typer.Typer(help="The vault's master key: status, rotate (guided).", no_args_is_help=True)
    app.command("status")(status)
    app.command("rotate")(rotate)
    return app

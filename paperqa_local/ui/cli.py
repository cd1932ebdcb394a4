"""``paperqa-local ui``: serve the web UI over the same ``PaperQA`` the CLI uses."""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Sequence
from typing import Any

from paperqa_local.settings import Settings
from paperqa_local.ui.security import check_bind

log = logging.getLogger(__name__)


def add_ui_parser(subparsers: Any, parents: Sequence[argparse.ArgumentParser] = ()) -> argparse.ArgumentParser:
    """Register ``ui [--host H] [--port P] [--auth USER:PASSWORD] [--no-auth]``."""
    p = subparsers.add_parser("ui", help="Serve the web UI (chat, library, settings)",
                              description="Serve the web UI. Binds 127.0.0.1 unless --host is given; any other "
                                          "address needs --auth USER:PASSWORD (or an explicit --no-auth).",
                              parents=list(parents))
    # The settings parent already has --host/--port (Settings.host/.port); add them when used alone.
    if "--host" not in p._option_string_actions:
        p.add_argument("--host", dest="ui_host", default=None, help="address to bind (default 127.0.0.1)")
    if "--port" not in p._option_string_actions:
        p.add_argument("--port", dest="ui_port", type=int, default=None, help="port (default 7860)")
    p.add_argument("--auth", metavar="USER:PASSWORD", default=None, help="require this login")
    p.add_argument("--no-auth", action="store_true", help="allow a non-local --host without a login")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Check the bind rule, load the library, print the URL and serve until Ctrl-C."""
    host = getattr(args, "ui_host", None) or settings.host
    port = getattr(args, "ui_port", None)
    port = settings.port if port is None else port
    creds = check_bind(host, getattr(args, "auth", None), bool(getattr(args, "no_auth", False)))

    from paperqa_local.pipeline import PaperQA
    from paperqa_local.ui.app import launch

    qa = PaperQA(settings=settings)
    threading.Thread(target=_warm_up, args=(qa,), name="warm-up", daemon=True).start()
    demo = launch(qa, host=host, port=port, auth=creds, prevent_thread_lock=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"paperqa-local UI: http://{shown}:{demo.server_port}  (library {settings.home}; Ctrl-C to stop)",
          flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
        qa.close()
    return 0


def _warm_up(qa: Any) -> None:
    """Models load while the page opens; a failure here is logged and shown again when a question is asked."""
    try:
        qa.warm_up()
    except Exception as err:  # noqa: BLE001  (the UI must come up whatever the model does)
        log.warning("warm-up: %s", err)

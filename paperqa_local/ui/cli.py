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


def add_ui_parser(subparsers: Any, parents: Sequence[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register ``ui [--host H] [--port P] [--auth USER:PASSWORD] [--no-auth]``.

    ``parents`` is the settings parser (one flag per settings field): ``--host``/``--port`` are
    ``Settings.host``/``Settings.port`` like every other setting, so ``run`` reads them from settings.
    """
    p = subparsers.add_parser("ui", help="Serve the web UI (chat, library, settings)",
                              description="Serve the web UI. Binds 127.0.0.1 unless --host is given; any other "
                                          "address needs --auth USER:PASSWORD (or an explicit --no-auth).",
                              parents=list(parents), allow_abbrev=False)
    p.add_argument("--auth", metavar="USER:PASSWORD", default=None, help="require this login")
    p.add_argument("--no-auth", action="store_true", help="allow a non-local --host without a login")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Check the bind rule, load the library, print the URL and serve until Ctrl-C."""
    host, port = settings.host, settings.port
    creds = check_bind(host, args.auth, args.no_auth)

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

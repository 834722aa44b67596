"""Hosted mode: the one setting for a public server, VIZGRAD_HOSTED=1 (README "Hosted mode").

    VIZGRAD_HOSTED=1 make run          # or: deploy/serve.py --hosted
    from vizgrad.app import hosted
    hosted.on()                        # True under VIZGRAD_HOSTED=1
    hosted.server_problems(st.get_option)  # [] when this Streamlit server is configured as a public one must be

What a public server needs, and where each is done:
- the Code page runs code only inside bubblewrap (vizgrad/app/sandbox.py: `status()` refuses
  without it when `on()`);
- no error details to visitors, XSRF protection, a small upload limit: Streamlit's own options
  (client.showErrorDetails, server.enableXsrfProtection, server.maxUploadSize), set in
  .streamlit/config.toml for every server. `server_problems()` compares the running server's options
  with what hosted mode requires (REQUIRED, and the UPLOAD_MB budget), so that a hosted server
  started with a weaker option on its command line or in its environment
  (STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION=false, ...) can say so rather than serve;
- no request from the page to a third-party host: icons and fonts are the app's own files
  (tests/browser/test_no_third_party_browser.py visits every page and watches every request).
"""
from __future__ import annotations

import os
from typing import Callable, Mapping

from vizgrad.app import budgets

__all__ = ["VARIABLE", "on", "REQUIRED", "server_problems"]

VARIABLE = "VIZGRAD_HOSTED"
# Streamlit option -> the value a public server must have
REQUIRED = {
    "client.showErrorDetails": "none",        # a visitor never sees a traceback or an exception's text
    "server.enableXsrfProtection": True,      # uploads and the websocket need the session's XSRF token
    "server.enableCORS": True,                # off, any origin may read responses and open a websocket
}


def on(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this server is a hosted (public) one: VIZGRAD_HOSTED=1."""
    return (os.environ if environ is None else environ).get(VARIABLE, "").strip() == "1"


def server_problems(get_option: Callable[[str], object],  # st.get_option (app.py): no streamlit here
                    environ: Mapping[str, str] | None = None) -> list[str]:
    """One sentence per Streamlit option of this server that a hosted server must not have (an
    empty list when all is well, or when hosted mode is off and only the upload limit counts)."""
    problems = []
    limit = budgets.value("UPLOAD_MB", environ)
    upload = get_option("server.maxUploadSize")
    if upload is None or upload > limit:
        problems.append(f"server.maxUploadSize is {upload} MB; the upload budget is {limit} MB "
                        f"(VIZGRAD_UPLOAD_MB): set server.maxUploadSize = {limit} in .streamlit/config.toml")
    if on(environ):
        for name, want in REQUIRED.items():
            have = get_option(name)
            if have != want:
                problems.append(f"{name} is {have!r}; a hosted server ({VARIABLE}=1) needs {want!r}")
    return problems


_reported = False


def report_once(problems: list[str]) -> None:
    """Tell the server's operator (stderr, once per process) why hosted mode serves nothing."""
    global _reported
    if not _reported:
        _reported = True
        import sys
        print("vizgrad hosted mode: this server is not configured for public use:", *problems, sep="\n  ",
              file=sys.stderr, flush=True)

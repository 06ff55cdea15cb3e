"""Localhost HTTP API (FastAPI): routes, origin pairing and consent, errors to HTTP.

:mod:`.app` builds the application (``create_app``), :mod:`.server` binds 127.0.0.1 and runs uvicorn,
:mod:`.security` is the DESIGN.md section 5 middleware (Host, Origin, local secret, CORS, framing),
:mod:`.callers` names who is calling, :mod:`.errors` turns the error tree into HTTP answers, :mod:`.request_log`
writes one line per request; routes: :mod:`.routes_info`, :mod:`.routes_pairing`; the agent's own pages:
:mod:`.pages` with ``templates/`` and ``static/``.
"""

"""The reference portal: a relying party that registers organisations with qualified certificates through the
signagent agent and verifies the signed requests with :mod:`signagent.registration` (issue 14).

It uses signagent as any portal would -- the registration library (verifier, nonces, ЕГРЮЛ/ЕГРИП, schema) on the
server, the agent's JS client (``http://127.0.0.1:AGENT_PORT/signagent.js``) in its pages -- and nothing below
(an import-linter contract). Run it with ``portal serve`` / ``python -m portal`` (:mod:`portal.cli`).

* :mod:`portal.app` -- the FastAPI application: Jinja2 pages (Russian, English second; scripts are files of
  ``static/``, the CSP allows scripts and connections to the agent's origin only) and the JSON actions they call;
* :mod:`portal.access` -- who may do what (every page and action checks on the server);
* :mod:`portal.verification` -- everything the portal asks of :mod:`signagent.registration`;
* :mod:`portal.registration` -- the request document built from the wizard's draft, the directory of registered
  organisations, and what a verified request changes;
* :mod:`portal.models`, :mod:`portal.db`, ``migrations/`` -- SQLAlchemy 2 models, engines (SQLite by default,
  PostgreSQL through ``DATABASE_URL``), the Alembic migrations run at start;
* :mod:`portal.sessions` -- the signed session cookie; :mod:`portal.settings` -- one instance's configuration.
"""

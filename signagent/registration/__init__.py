"""Registration in a portal with a qualified certificate (DESIGN.md section 9): the signed registration request
(schema, canonical JSON, rendering for a person), ЕГРЮЛ/ЕГРИП extracts, and the verifier a portal's backend runs.

This layer sits above :mod:`signagent.service` (it uses its verification use cases) and below the API and the
command line.
"""

"""The errors of access to the localhost API (DESIGN.md section 5): who may call the agent, and the life of the
requests the user is asked to allow.

They live in the service layer because the pairing and consent services raise them; the API turns each code into
an HTTP status (:mod:`signagent.api.errors`). Messages come from :mod:`signagent.errors.registry`.

Exports: HostNotAllowedError, OriginNotPairedError, OriginInvalidError, LocalSecretRequiredError,
AgentOriginRequiredError, ConsentTokenInvalidError, RequestNotFoundError, RequestExpiredError,
RequestFinishedError, RateLimitedError, EndpointNotFoundError, RequestInvalidError, CertificateNotFoundError,
ContentTooLargeError, AnotherUserError, ExtensionNotPairedError.
"""

from __future__ import annotations

from signagent.errors import InvalidInputError, SignAgentError

__all__ = [
    "AgentOriginRequiredError",
    "AnotherUserError",
    "CertificateNotFoundError",
    "ConsentTokenInvalidError",
    "ContentTooLargeError",
    "EndpointNotFoundError",
    "ExtensionNotPairedError",
    "HostNotAllowedError",
    "LocalSecretRequiredError",
    "OriginInvalidError",
    "OriginNotPairedError",
    "RateLimitedError",
    "RequestExpiredError",
    "RequestFinishedError",
    "RequestInvalidError",
    "RequestNotFoundError",
]


class HostNotAllowedError(SignAgentError):
    """The ``Host`` header names someone else than the agent: a DNS-rebinding page, refused."""

    code = "host_not_allowed"


class OriginNotPairedError(SignAgentError):
    """A web origin the user has not paired with the agent called an endpoint that needs pairing."""

    code = "origin_not_paired"


class ExtensionNotPairedError(SignAgentError):
    """A browser extension that the user has not paired named a page it speaks for: only a paired extension may."""

    code = "extension_not_paired"


class OriginInvalidError(InvalidInputError):
    """An ``Origin`` that cannot be paired: malformed, opaque (``null``), or missing where one is needed."""

    code = "origin_invalid"


class LocalSecretRequiredError(SignAgentError):
    """A request without ``Origin`` (a local program, not a browser) without the local secret, or a wrong one."""

    code = "local_secret_required"


class AgentOriginRequiredError(SignAgentError):
    """A decision (approve, deny) not posted by the agent's own page."""

    code = "agent_origin_required"


class ConsentTokenInvalidError(SignAgentError):
    """The one-time token of a decision does not match the one the agent's page carried."""

    code = "consent_token_invalid"


class RequestNotFoundError(SignAgentError):
    """No request with this id (never made, or forgotten long after it ended)."""

    code = "request_not_found"


class RequestExpiredError(SignAgentError):
    """The request waited longer than it may; the site has to ask again."""

    code = "request_expired"


class RequestFinishedError(SignAgentError):
    """The request was already approved or denied: a request id is used once."""

    code = "request_finished"


class RateLimitedError(SignAgentError):
    """Too many requests of one kind from one origin in a short time."""

    code = "rate_limited"


class EndpointNotFoundError(SignAgentError):
    """No such endpoint (or not with this method)."""

    code = "endpoint_not_found"


class RequestInvalidError(InvalidInputError):
    """The request's parameters or body do not fit the endpoint."""

    code = "request_invalid"


class CertificateNotFoundError(InvalidInputError):
    """A page named a certificate the connected tokens do not hold (or hold without its private key)."""

    code = "certificate_not_found"


class ContentTooLargeError(InvalidInputError):
    """A request body or batch larger than the agent accepts."""

    code = "content_too_large"


class AnotherUserError(SignAgentError):
    """The connection comes from another account of this computer: the agent serves only its own user."""

    code = "another_user"

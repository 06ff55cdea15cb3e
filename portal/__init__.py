"""The reference portal: a relying party that registers organisations with qualified certificates through the
signagent agent and verifies the signed requests with :mod:`signagent.registration` (issue 14)."""

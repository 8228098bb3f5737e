"""Errors a user can act on. Each message names the problem and the fix.

The CLI prints ``error: <message>`` and exits 2 for any ``RagError``; the app
shows the message. Nothing here formats tracebacks or logs.
"""


class RagError(Exception):
    """Base class: the message is shown to the user as it is."""


class ConfigError(RagError):
    """A setting is missing or invalid (unknown provider, missing key, bad path)."""


class InputError(RagError):
    """A question or a file that cannot be used."""


class ModelError(RagError):
    """The chat or embedding model failed (server down, timeout, HTTP error)."""


class IndexBusyError(RagError):
    """Another ingest holds the index lock."""

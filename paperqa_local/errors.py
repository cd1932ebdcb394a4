"""One exception hierarchy; every message is one line a user can act on."""

from __future__ import annotations


class PaperQAError(Exception):
    """Base class: the CLI prints ``str(err)`` on one line and exits non-zero."""


class SettingsError(PaperQAError):
    """A setting (TOML key, env var or flag) has a bad value."""


class ReaderError(PaperQAError):
    """A file could not be read as a paper; the message names the file and the reason."""


class LibraryError(PaperQAError):
    """The paper library (Chroma, keyword index, manifest) cannot do what was asked."""


class ModelError(PaperQAError):
    """A model (embedding or LLM) is missing, corrupt or unavailable."""


class BackendUnavailable(ModelError):
    """The LLM backend that was asked for cannot run; we never switch silently."""


class PromptError(PaperQAError):
    """A prompt file is missing or does not use the variables it must."""

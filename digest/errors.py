"""One exception tree for sipo-digest; the CLI turns these into one-line messages and exit codes.

DigestError
 +-- ConfigError          the configuration or a feed list is malformed (names file and line)
 +-- FetchError           a feed or page could not be fetched (status, timeout, size cap)
 |    +-- FetchFailed     ... with a short status for feed health ("404", "timeout", "refused")
 +-- FeedError            a feed's bytes could not be parsed into entries
 +-- ExtractError         a page gave no usable main text
 +-- SummarizeError       a text gave no key points (empty, or no sentences)
 +-- RenderError          a template failed
 +-- StateError           the state database is unusable
 +-- LockedError          another run holds the lock
 +-- MailError            a message could not be delivered
 +-- EditionSentError     a rebuild would change an edition some recipient already has
"""


class DigestError(Exception):
    """Base of every error sipo-digest raises on purpose."""


class ConfigError(DigestError):
    pass


class FetchError(DigestError):
    pass


class FetchFailed(FetchError):
    """A fetch that failed for a reason worth a short status ("404", "timeout", "too-large")."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


class FeedError(DigestError):
    pass


class ExtractError(DigestError):
    pass


class SummarizeError(DigestError):
    pass


class RenderError(DigestError):
    pass


class StateError(DigestError):
    pass


class LockedError(DigestError):
    pass


class MailError(DigestError):
    pass


class EditionSentError(DigestError):
    pass

"""One exception tree for everything the tool can fail at.

Each error knows the target it concerns (a file, a repo@revision, a policy file), what went wrong, and what
the user can do next. `cli.py` maps the class to an exit code and prints one line; nothing else prints.
"""

from __future__ import annotations


class ProvenanceError(Exception):
    """Root of every error the tool raises on purpose."""

    exit_code = 3

    def __init__(self, target: str, problem: str, hint: str = "") -> None:
        super().__init__(f"{target}: {problem}" if target else problem)
        self.target = target
        self.problem = problem
        self.hint = hint

    def diagnostics(self) -> str:
        """What to tell the user: the one-line error and, when known, the next step."""
        return f"{self}\n{self.hint}" if self.hint else str(self)


class UsageError(ProvenanceError):
    """The command line asked for something impossible (exit 2)."""

    exit_code = 2


class InputError(ProvenanceError):
    """A target or a file in it is unreadable or malformed (exit 3)."""

    exit_code = 3


class TargetNotFoundError(InputError, FileNotFoundError):
    """A local target does not exist."""


class MalformedFileError(InputError, ValueError):
    """A file's bytes do not follow its format. `offset` is where the reader stopped, when known."""

    def __init__(self, target: str, problem: str, hint: str = "", offset: int | None = None) -> None:
        where = f" (at byte {offset})" if offset is not None else ""
        super().__init__(target, problem + where, hint)
        self.offset = offset


class LimitExceededError(MalformedFileError):
    """A file asks for more than our bounds allow (size, depth, count); refused before allocating."""


class PolicyError(InputError):
    """A policy or license-catalog file is invalid; carries every problem found, not only the first."""

    def __init__(self, target: str, problems: list[str], hint: str = "") -> None:
        text = problems[0] if len(problems) == 1 else f"{len(problems)} problems:\n  " + "\n  ".join(problems)
        super().__init__(target, text, hint)
        self.problems = problems


class HubError(ProvenanceError):
    """The Hub could not answer what we asked (exit 4)."""

    exit_code = 4


class RepoNotFoundError(HubError, LookupError):
    """Repo does not exist, or is private and we have no access."""


class RevisionNotFoundError(HubError, LookupError):
    """The repo exists but the branch, tag or commit does not."""


class EntryNotFoundError(HubError, FileNotFoundError):
    """A file listed for the repo (or asked for by name) is not there at this revision."""


class GatedRepoError(HubError, PermissionError):
    """Files of a gated repo need an accepted licence and a token."""


class RateLimitedError(HubError):
    """The Hub kept answering 429 past our retry budget."""


class HubUnavailableError(HubError, ConnectionError):
    """Network failure, timeout or persistent 5xx; also offline mode with nothing cached."""


class OutputError(ProvenanceError):
    """A report could not be written (exit 5)."""

    exit_code = 5


class Interrupted(ProvenanceError):
    """SIGINT (130) or SIGTERM (143) arrived; work stopped and nothing half-written was left."""

    def __init__(self, signal_number: int) -> None:
        super().__init__("", "interrupted")
        self.exit_code = 128 + signal_number

"""The project's error hierarchy: every expected failure is one of these, with a message for people."""

from __future__ import annotations


class EgisError(Exception):
    """Base class of every error the project raises on purpose.

    Command-line entry points print ``str(error)`` and exit non-zero instead of a traceback.
    """


class ConfigError(EgisError):
    """A setting or the region config is missing or wrong."""


class SetupError(EgisError):
    """The machine lacks something the project needs (a package, a free port, write access)."""


class DatabaseError(EgisError):
    """The database cannot be reached or is not in the expected state."""


class InputError(EgisError):
    """An input file cannot be read at all (a bad row is a reject, not an InputError)."""


class RequestError(EgisError, ValueError):
    """A value a user sent (a search text, a filter) is out of bounds; ``str(error)`` is Chinese, for the page."""


class ValidationError(EgisError):
    """Input was read but breaks a rule that stops the whole job (e.g. wrong number of squads).

    Parameters
    ----------
    problems
        Every problem found, so that one run reports all of them at once.
    """

    def __init__(self, summary: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        message = summary if not self.problems else summary + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


class UnknownNameError(EgisError, KeyError):
    """A registry was asked for a name it does not know; the message lists the known names."""

    def __init__(self, what: str, name: str, known: list[str]) -> None:
        self.name = name
        self.known = sorted(known)
        super().__init__(f"unknown {what} {name!r}; known: {', '.join(self.known) or '(none)'}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])

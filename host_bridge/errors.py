"""Errors a user can fix: the CLI prints them as one line, never as a traceback."""


class UserError(Exception):
    """A mistake in the user's input (path, option, config); the message says what to do."""

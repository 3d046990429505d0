"""User-facing errors.

Every error a user can cause (bad flag, missing file, corrupt data) is a `SparsenetError`.
The CLI prints its message on one line and exits with status 2, without a traceback.
Messages name the bad value and say how to fix it.
"""


class SparsenetError(ValueError):
    """A user error: the message is one line that names the bad value and the fix."""


class DataError(SparsenetError):
    """A dataset is missing, truncated or corrupt."""


class ConfigError(SparsenetError):
    """A configuration value is invalid."""


class DivergenceError(SparsenetError):
    """Training produced a non-finite loss; the last good checkpoint is kept."""

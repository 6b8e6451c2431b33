class UserError(Exception):
    """A failure the user can fix (bad config, missing file): reported as one line, no traceback."""

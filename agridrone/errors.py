"""The one exception type the CLI turns into a one-line message and a non-zero exit."""


class AgridroneError(Exception):
    """A problem with the user's input or environment, stated in one line.

    The CLI prints ``error: <message>`` and exits with status 2; it never prints a
    traceback for this type. Raise it with a message that names the problem and, where
    possible, the file, option or value involved.
    """

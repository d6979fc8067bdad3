"""The one exception the decoder raises."""


class DecodeError(Exception):
    """A heap (or a read) that cannot be decoded at all.

    str() is one line, lowercase, without a trailing period, so front ends
    can print it after their own prefix ("umm-walk: heap at 0x...: ").
    """


def one_line(text):
    """First line of `text` without a trailing period, for error messages."""
    line = str(text).strip().splitlines()[0] if str(text).strip() else 'unknown error'
    return line.rstrip('.')

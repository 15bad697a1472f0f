"""Errors a user can cause. Each carries a one-line message; the CLI prints it and exits 2."""


class AdcompareError(Exception):
    """Base class: a problem with the user's input, reported without a traceback."""


class ParseError(AdcompareError):
    """A syntax error or a limit exceeded while reading an expression.

    ``column`` is 1-based (or None when the problem is not at one place);
    ``source`` is the text that was being read, for drawing a caret under the column.
    """

    def __init__(self, message, column=None, source=None):
        super().__init__(message)
        self.column = column
        self.source = source

    def caret_lines(self):
        """The expression and a caret under the offending column, or () when not applicable."""
        if self.column is None or self.source is None or len(self.source) > 200 or not self.source.isprintable():
            return ()
        return (f"  {self.source}", "  " + " " * (self.column - 1) + "^")


class InputError(AdcompareError):
    """Bad values or variable names given with an expression (``--at``, ``--vars``)."""


class DomainError(AdcompareError):
    """An operation evaluated outside its domain, or a derivative that does not exist there.

    ``node`` is the slot of the offending node in ``graph``, or None. ``kind`` is 'domain'
    (an argument outside the domain) or 'overflow' (a result too large for a float).

    ``position`` is the index of the offending point when the values were arrays (None
    for one point), and ``at_point`` then names it: ``at point [17] (x1 = -1, x2 = 3)``;
    ``str(error)`` starts with it, ``message`` is the rest.
    """

    def __init__(self, message, node=None, graph=None, kind="domain", position=None):
        super().__init__(message)
        self.message = message
        self.node = node
        self.graph = graph
        self.kind = kind
        self.position = position
        self.at_point = None

    def __str__(self):
        return f"{self.at_point}: {self.message}" if self.at_point else self.message

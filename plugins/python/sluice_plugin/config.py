"""``Config``: the route's (or policy's) key/values, and ``Fail``, the error a plugin raises to
refuse a configuration or fail one event."""


class Fail(Exception):
    """Raised by ``init`` to refuse the configuration, by ``route`` to fail the current event
    (the broker dead-letters it with this reason, or skips it, per the route's ``on_error``),
    by ``evaluate`` to fail the round. The message is the reason operators see."""


class Config:
    """The key/values written in the broker's config (``config = { field = "region" }``), in
    the order they were written."""

    __slots__ = ("_entries",)

    def __init__(self, entries=()):
        self._entries = [(str(k), str(v)) for k, v in entries]

    def get(self, key, default=None):
        """The value of ``key``, or ``default`` when it is not set."""
        for k, v in self._entries:
            if k == key:
                return v
        return default

    def require(self, key):
        """The value of ``key``; raises :class:`Fail` ("missing config key `key`") when unset."""
        value = self.get(key)
        if value is None:
            raise Fail(f"missing config key `{key}`")
        return value

    def parse(self, key, kind, default=None):
        """The value of ``key`` converted by ``kind`` (``int``, ``float``, ...), or ``default``
        when unset; raises :class:`Fail` naming the key when it does not convert."""
        value = self.get(key)
        if value is None:
            return default
        try:
            return kind(value)
        except (TypeError, ValueError) as e:
            raise Fail(f"config key `{key}` = {value!r}: {e}") from None

    def items(self):
        """The (key, value) pairs, in order."""
        return list(self._entries)

    def unknown_keys(self, known):
        """The keys not in ``known``, in order: to refuse typos."""
        return [k for k, _ in self._entries if k not in known]

    def check_keys(self, known):
        """Raises :class:`Fail` ("unknown config key `k`") for the first key not in ``known``."""
        for key in self.unknown_keys(known):
            raise Fail(f"unknown config key `{key}`")

    def __repr__(self):
        return f"Config({self._entries!r})"

"""The two kinds of plugin, as base classes to subclass."""


class Router:
    """A routing rule (filter, transform, route). Subclass it, then export it with
    :func:`sluice_plugin.export.router`::

        class MyRouter(Router):
            def __init__(self, config): ...          # raise Fail to refuse the config
            def route(self, event, out): ...         # raise Fail to fail this event

    The instance lives between calls, but the broker may re-create it at any time (after a
    trap, on a hot reload): do not count on its state.
    """

    def __init__(self, config):
        """Called once with the route's ``config``; raise :class:`~sluice_plugin.Fail` to
        refuse it."""

    def route(self, event, out):
        """Called once per event, in stream order: record outputs in ``out``
        (:class:`~sluice_plugin.Outputs`). Recording none drops the event. Raising fails this
        event only (the reason is the exception's message); its outputs are dropped."""
        raise NotImplementedError


class ClaimPolicy:
    """A consumer group's redelivery policy. Subclass it, then export it with
    :func:`sluice_plugin.export.claim_policy`::

        class MyPolicy(ClaimPolicy):
            def __init__(self, config): ...
            def evaluate(self, eval, out): ...   # out.reassign / dead_letter / ack
    """

    def __init__(self, config):
        """Called once with the policy's ``config``; raise :class:`~sluice_plugin.Fail` to
        refuse it."""

    def evaluate(self, eval, out):
        """One round: record in ``out`` (:class:`~sluice_plugin.Decisions`) a decision for
        each entry of ``eval`` (:class:`~sluice_plugin.Evaluation`) to act on. Raising fails
        the round: nothing is applied."""
        raise NotImplementedError

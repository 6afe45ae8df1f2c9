"""The glue between a :class:`~sluice_plugin.Router` or :class:`~sluice_plugin.ClaimPolicy`
subclass and the component's exports. In the plugin's app module::

    Lifecycle, Routing = sluice_plugin.export.router(MyRouter, "my-router", "0.1.0")
    Lifecycle, Claiming = sluice_plugin.export.claim_policy(MyPolicy, "my-policy", "0.1.0")

``componentize-py`` looks the exported interfaces up by those class names. The export classes
need the bindings it generates (``wit_world``); on a plain CPython (a plugin's unit tests
importing its app module) both functions return ``(None, None)`` instead.
"""

try:  # Only inside a component built by componentize-py.
    from componentize_py_types import Err
except ImportError:  # plain CPython
    Err = None

from .config import Config, Fail
from .event import EntryId, Event, read_batch
from .outputs import Outputs
from .policy import Ack, DeadLetter, Decisions, Evaluation, Nack, Reassign


def _reason(e):
    """An exception as the reason operators read: a :class:`Fail`'s message as given, any
    other exception prefixed with its type (``KeyError: 'region'``)."""
    if isinstance(e, Fail):
        return str(e)
    return f"{type(e).__name__}: {e}"


def _lifecycle(cls, name, version, state):
    from wit_world.imports.types import PluginInfo

    class Lifecycle:
        def describe(self):
            return PluginInfo(name=name, version=version)

        def init(self, config):
            try:
                state["plugin"] = cls(Config(config))
            except Exception as e:
                raise Err(_reason(e))

    return Lifecycle


def _plugin(state, export):
    plugin = state.get("plugin")
    if plugin is None:
        raise Err(f"{export} called before init")
    return plugin


def router(cls, name, version):
    """The ``(Lifecycle, Routing)`` export classes for the router class ``cls``, which
    describes itself as ``name`` ``version``."""
    if Err is None:
        return None, None
    from wit_world.exports.routing import Failure, Output, Routed
    from wit_world.imports.types import Span

    # One plugin instance per component instance: components are single-threaded.
    state = {}

    class Routing:
        def route(self, key, count, events):
            plugin = _plugin(state, "route")
            out = Outputs()
            try:
                batch = list(read_batch(count, events))
            except ValueError as e:
                raise Err(str(e))
            for index, (id, fields) in enumerate(batch):
                event = Event(key, id, fields, index)
                out.begin(index)
                try:
                    plugin.route(event, out)
                except Exception as e:
                    out.fail(_reason(e))
            destinations, outputs, new_fields, failures = out.parts()
            return Routed(
                destinations=destinations,
                outputs=[
                    Output(event=e, destination=d,
                           fields=None if off < 0 else Span(offset=off, len=n))
                    for e, d, off, n in outputs
                ],
                new_fields=new_fields,
                failures=[Failure(event=e, reason=r) for e, r in failures],
            )

    return _lifecycle(cls, name, version, state), Routing


def claim_policy(cls, name, version):
    """The ``(Lifecycle, Claiming)`` export classes for the claim policy class ``cls``, which
    describes itself as ``name`` ``version``."""
    if Err is None:
        return None, None
    from wit_world.exports import claiming
    from wit_world.imports import pending_state

    state = {}
    nack_of = {pending_state.Nack.RETRY: Nack.RETRY, pending_state.Nack.FATAL: Nack.FATAL}

    def raw(action):
        if isinstance(action, Reassign):
            return claiming.Action_Reassign(action.consumer)
        if isinstance(action, DeadLetter):
            return claiming.Action_DeadLetter(
                claiming.DeadLetter(key=action.key, reason=action.reason))
        if isinstance(action, Ack):
            return claiming.Action_Ack()
        raise Fail(f"not an action: {action!r}")

    class Claiming:
        def evaluate(self, key, group, pending, consumers):
            plugin = _plugin(state, "evaluate")
            nacks = pending_state.nacks()
            eval = Evaluation(key, group)
            for i, p in enumerate(pending):
                # One NACK state per entry; a shorter list means "not NACKed".
                nack = nacks[i] if i < len(nacks) else None
                eval.with_pending(EntryId(p.id.ms, p.id.seq), p.owner, p.idle_ms, p.deliveries,
                                  None if nack is None else nack_of[nack])
            for c in consumers:
                eval.with_consumer(c.name, c.seen_idle_ms, c.active_idle_ms, c.pending)
            out = Decisions(eval)
            try:
                plugin.evaluate(eval, out)
                return [claiming.Decision(entry=i, action=raw(a)) for i, a in out.items()]
            except Exception as e:
                raise Err(_reason(e))

    return _lifecycle(cls, name, version, state), Claiming

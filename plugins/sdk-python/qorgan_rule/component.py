"""The glue between a :class:`~qorgan_rule.rule.Rule` and the WIT contract,
for componentize-py.

A rule's ``app.py`` ends with ``Rule = export(MyRule)``: componentize-py
finds the exported ``Rule`` class there. Everything the glue needs from the
generated bindings (``wit_world``) is imported when ``export`` runs, which is
at build time: inside the sandbox an ``import`` during ``evaluate`` traps.

Errors surface with their reason instead of as a bare ``unreachable``:
``configure`` turns a :class:`~qorgan_rule.params.ConfigError` (or any
exception) into the contract's refusal, naming it; an exception in
``evaluate`` is written to the host's log (type, message and the frames,
file and line, without reading source files, which the sandbox forbids)
before the call fails, so the host's ``PLUGIN_FAILED`` comes with the cause.
"""

from __future__ import annotations

from typing import Any, Dict, List

from .finding import Finding
from .host import Host, Query, Totals, check_window
from .money import Money
from .network import MAX_FLOWS, Flow, Flows, Hop, Path, Trail, check_money, flow_limit
from .params import ConfigError, resolve
from .rule import check_findings, check_metadata
from .tx import CHANNELS, CHECKS, KINDS, PARTY_KINDS, Cursor, Party, Tx


def describe(error: BaseException) -> str:
    """``Type: message`` and the frames, innermost last, without source."""
    lines = [f"{type(error).__name__}: {error}"]
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        lines.append(f"  at {code.co_filename}:{tb.tb_lineno} in {code.co_name}")
        tb = tb.tb_next
    return "\n".join(lines)


def _name(member: Any) -> str:
    return member.name.lower().replace("_", "-")


def export(rule_cls: type, bindings: Any = None) -> type:
    """The class componentize-py exports for ``rule_cls``. ``bindings`` is
    the generated ``wit_world`` package (imported when not given)."""
    if bindings is None:
        import wit_world as bindings  # noqa: F811 (generated at build time)
        import wit_world.exports  # noqa: F401
        import wit_world.imports.history  # noqa: F401
        import wit_world.imports.lists  # noqa: F401
        import wit_world.imports.log  # noqa: F401
        import wit_world.imports.types  # noqa: F401
        from componentize_py_types import Err
    else:
        Err = bindings.Err
    types = bindings.imports.types
    history = bindings.imports.history
    lists = bindings.imports.lists
    log = bindings.imports.log
    check_metadata(rule_cls)

    kinds = list(types.TxKind)
    channels = list(types.Channel)
    party_kinds = list(types.PartyKind)
    checks = [(name, getattr(types.Checks, name.upper().replace("-", "_"))) for name in CHECKS]
    kind_flags = {name: getattr(types.TxKinds, name.upper().replace("-", "_")) for name in KINDS}
    directions = {d: getattr(history.Direction, d.upper()) for d in ("inbound", "outbound", "both")}
    levels = {lv: getattr(log.Level, lv.upper()) for lv in ("trace", "debug", "info", "warn", "error")}
    actions = {a: getattr(types.Action, a.upper()) for a in ("allow", "verify", "review", "hold", "block")}
    param_types = {t: getattr(types.ParamType, t.upper()) for t in ("money", "integer", "decimal", "boolean", "text")}
    state: Dict[str, Any] = {"rule": None}

    def cursor(at: Cursor) -> Any:
        return types.Cursor(seq=at.seq, time=at.time)

    def tx_kinds(names: Any) -> Any:
        flags = types.TxKinds(0)
        for k in names:
            flags |= kind_flags[k]
        return flags

    def query(q: Query) -> Any:
        return history.Query(
            account=q.account,
            window=q.window_secs,
            direction=directions[q.direction],
            kinds=tx_kinds(q.kinds),
            min_amount=q.min_amount.tiyn,
            max_amount=q.max_amount.tiyn,
        )

    def trail(t: Trail) -> Any:
        return history.Trail(
            max_dwell=t.max_dwell_secs,
            min_share=t.min_share_permille,
            max_hops=t.max_hops,
            kinds=tx_kinds(t.kinds),
            min_amount=t.min_amount.tiyn,
        )

    def path(raw: Any) -> Path:
        return Path(
            tuple(Hop(h.from_, h.to, Money(h.amount), h.time) for h in raw.hops),
            raw.complete,
        )

    class WitHost(Host):
        def aggregate(self, at: Cursor, query_: Query) -> Totals:
            t = history.aggregate(cursor(at), query(query_))
            return Totals(t.count, Money(t.sum), Money(t.max), t.counterparties, t.first, t.last)

        def first_seen(self, at, account):
            return history.first_seen(cursor(at), account)

        def accounts_on_device(self, at, device, window_secs):
            return history.accounts_on_device(cursor(at), device, check_window(window_secs))

        def accounts_of_holder(self, at, holder, window_secs):
            return history.accounts_of_holder(cursor(at), holder, check_window(window_secs))

        def reference(self, account):
            return history.reference(account)

        def counterparties(self, at, query_, limit=MAX_FLOWS):
            raw = history.counterparties(cursor(at), query(query_), flow_limit(limit))
            return Flows(
                tuple(
                    Flow(f.counterparty, f.count, Money(f.sum), f.first, f.last)
                    for f in raw.flows
                ),
                raw.total,
                raw.complete,
            )

        def trace_back(self, at, account, amount, trail_):
            amount = check_money(amount, "the amount traced")
            return path(history.trace_back(cursor(at), account, amount.tiyn, trail(trail_)))

        def find_path(self, at, source, target, window_secs, trail_):
            return path(history.find_path(
                cursor(at), source, target, check_window(window_secs), trail(trail_)
            ))

        def contains(self, list_name, key):
            return lists.contains(list_name, key)

        def contains_account(self, list_name, account):
            return lists.contains_account(list_name, account)

        def log(self, level, message):
            log.log(levels[level], message)

    host = WitHost()

    def party(raw: Any, text: bytes) -> Party:
        def span(s: Any) -> str:
            return text[s.start : s.start + s.len].decode("utf-8") if s.len else ""

        return Party(
            account=raw.account,
            iin=span(raw.iin),
            kind=PARTY_KINDS[party_kinds.index(raw.kind)],
            vasp=span(raw.vasp),
            country=span(raw.country),
            opened=raw.opened,
            holder=raw.holder,
            income=None if raw.income is None else Money(raw.income),
        )

    def view(raw: Any, text: bytes) -> Tx:
        def span(s: Any) -> str:
            return text[s.start : s.start + s.len].decode("utf-8") if s.len else ""

        return Tx(
            cursor=Cursor(raw.at.seq, raw.at.time),
            kind=KINDS[kinds.index(raw.kind)],
            channel=CHANNELS[channels.index(raw.channel)],
            amount=Money(raw.amount),
            currency=span(raw.currency),
            sender=party(raw.sender, text),
            recipient=party(raw.recipient, text),
            remittance=span(raw.remittance),
            verified=frozenset(name for name, flag in checks if flag in raw.verified),
            device=raw.device,
        )

    def lower(f: Finding) -> Any:
        required = types.Checks(0)
        for name, flag in checks:
            if name in f.requirements:
                required |= flag
        return types.Finding(
            code=f.code,
            action=actions[f.action],
            score=f.score,
            requirements=required,
            message=f.message,
            evidence=[types.Evidence(name=n, value=v) for n, v in f.evidence_items],
        )

    class Exported(bindings.exports.Rule):
        def metadata(self) -> Any:
            return types.RuleMetadata(
                id=rule_cls.id,
                version=rule_cls.version,
                description=rule_cls.description,
                parameters=[
                    types.ParamSpec(
                        name=p.name, type=param_types[p.type], default=p.default,
                        description=p.description, minimum=p.minimum, maximum=p.maximum,
                    )
                    for p in rule_cls.params
                ],
                codes=[
                    types.CodeSpec(code=c.code, action=actions[c.action], description=c.description)
                    for c in rule_cls.codes
                ],
                lists=list(rule_cls.lists),
            )

        def configure(self, params: List[Any]) -> None:
            try:
                resolved = resolve(rule_cls.params, {p.name: p.value for p in params})
                rule = rule_cls()
                rule.configure(resolved)
            except ConfigError as e:
                raise Err(str(e))
            except Exception as e:  # any failure refuses the pack, naming it
                raise Err(describe(e))
            state["rule"] = rule

        def evaluate(self, batch: Any) -> List[Any]:
            rule = state["rule"]
            text = bytes(batch.text)
            verdicts = []
            try:
                if rule is None:
                    raise RuntimeError("evaluate was called before configure")
                for raw in batch.transactions:
                    findings = check_findings(rule_cls, rule.evaluate(view(raw, text), host))
                    verdicts.append(types.Verdict(findings=[lower(f) for f in findings]))
            except Exception as e:
                log.log(levels["error"], describe(e))
                raise
            return verdicts

    return Exported

"""qorgan-rule: write qorgan rule plugins in Python.

What the Rust SDK (``plugins/sdk``) gives, for Python: typed transaction
views (:class:`Tx`: text spans as ``str``, amounts as exact
:class:`Money`, times), money parsing and formatting, the IIN/BIN checksum
(:mod:`qorgan_rule.iin`), :class:`Finding` builders, parameters with
defaults and bounds (:class:`Param`), history and list helpers with the
bounds filled in (:class:`Host`), the network questions (who an account
dealt with, paths of money: :class:`Trail`, :class:`Flows`, :class:`Path`),
and a native test mode
(:mod:`qorgan_rule.testing`). A component is built from a rule with
``qorgan build`` (componentize-py with ``--stub-wasi``); see
docs/writing-rules.md for what the sandbox forbids.
"""

from . import iin
from .finding import ACTIONS, Finding
from .host import Host, Query, Totals
from .money import Money, MoneyError
from .network import Flow, Flows, Hop, Path, Trail
from .params import ConfigError, Param, Params
from .rule import Code, Rule
from .tx import CHANNELS, CHECKS, KINDS, PARTY_KINDS, Cursor, Party, Tx

__all__ = [
    "ACTIONS", "CHANNELS", "CHECKS", "KINDS", "PARTY_KINDS", "Code", "ConfigError",
    "Cursor", "Finding", "Flow", "Flows", "Hop", "Host", "Money", "MoneyError", "Param",
    "Params", "Party", "Path", "Query", "Rule", "Totals", "Trail", "Tx", "iin",
]

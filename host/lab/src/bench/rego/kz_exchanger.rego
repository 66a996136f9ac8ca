# kz-exchanger in Rego: crypto platforms blocked or missing from the AFSA
# register, crypto wording in the remittance text, and the two-sided P2P
# exchanger flow. The same logic as plugins/kz-exchanger, for the regorus
# comparison of `qorgan bench --compare`.
#
# input.exchanger holds the history aggregates the host computed for both
# parties; data.params the pack's parameters, data.lists the pack's lists.
package kz.exchanger

import rego.v1

p := data.params["kz-exchanger"]

tx := input.tx

vasp_id(party) := trim_space(party.vasp)

platform(party) if vasp_id(party) != ""

platform(party) if party.kind == "vasp"

listed(name, id) if data.lists[name][lower(id)]

codes contains "VASP_UNLICENSED" if {
	some party in [tx.sender, tx.recipient]
	platform(party)
	vasp_id(party) == ""
}

codes contains "VASP_BLOCKED" if {
	some party in [tx.sender, tx.recipient]
	platform(party)
	id := vasp_id(party)
	id != ""
	listed("blocked-vasps", id)
}

codes contains "VASP_UNLICENSED" if {
	some party in [tx.sender, tx.recipient]
	platform(party)
	id := vasp_id(party)
	id != ""
	not listed("blocked-vasps", id)
	not listed("afsa-register", id)
}

# A keyword counts where it starts a word: at the start of the text or
# after a character that is not a letter (a letter is what has a case).
licensed_platform(party) if {
	platform(party)
	id := vasp_id(party)
	id != ""
	listed("afsa-register", id)
	not listed("blocked-vasps", id)
}

# Crypto words are expected at a licensed platform: a transaction whose
# platform parties are all licensed is not judged by its words.
platform_parties := [party | some party in [tx.sender, tx.recipient]; platform(party)]

words_expected if {
	count(platform_parties) > 0
	every party in platform_parties {
		licensed_platform(party)
	}
}

codes contains "CRYPTO_REMITTANCE_KEYWORDS" if {
	not words_expected
	text := lower(tx.remittance)
	text != ""
	some keyword in p.keywords
	some at in indexof_n(text, keyword)
	word_start(text, at)
}

word_start(_, at) if at == 0

word_start(text, at) if {
	at > 0
	before := substring(text, at - 1, 1)
	upper(before) == before
}

# This transfer is part of the flow it judges: money out (and a payee, when
# new in the window) for its sender, money in (and a payer) for its
# recipient.
new_other(flow) := 0 if flow.knows_other

new_other(flow) := 1 if not flow.knows_other

money_in(flow, "recipient") := flow.in.sum + tx.amount

money_in(flow, "sender") := flow.in.sum

money_out(flow, "sender") := flow.out.sum + tx.amount

money_out(flow, "recipient") := flow.out.sum

payers(flow, "recipient") := flow.in.counterparties + new_other(flow)

payers(flow, "sender") := flow.in.counterparties

payees(flow, "sender") := flow.out.counterparties + new_other(flow)

payees(flow, "recipient") := flow.out.counterparties

codes contains "P2P_EXCHANGER_PATTERN" if {
	tx.kind == "transfer"
	some side in ["sender", "recipient"]
	party := tx[side]
	not platform(party)
	not same_account(side)
	flow := input.exchanger[side]
	came_in := money_in(flow, side)
	payers(flow, side) >= p["min-payers"]
	came_in >= p["min-turnover"]
	came_in > 0
	payees(flow, side) >= p["min-payees"]
	residual := abs(came_in - money_out(flow, side))
	residual * p["max-residual"].den <= p["max-residual"].num * came_in
}

same_account("recipient") if tx.recipient.account == tx.sender.account

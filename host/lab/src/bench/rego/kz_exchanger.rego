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
codes contains "CRYPTO_REMITTANCE_KEYWORDS" if {
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

codes contains "P2P_EXCHANGER_PATTERN" if {
	tx.kind == "transfer"
	some side in ["sender", "recipient"]
	party := tx[side]
	not platform(party)
	not same_account(side)
	flow := input.exchanger[side]
	flow.in.counterparties >= p["min-payers"]
	flow.in.sum >= p["min-turnover"]
	flow.in.sum > 0
	flow.out.counterparties >= p["min-payees"]
	residual := abs(flow.in.sum - flow.out.sum)
	residual * p["max-residual"].den <= p["max-residual"].num * flow.in.sum
}

same_account("recipient") if tx.recipient.account == tx.sender.account

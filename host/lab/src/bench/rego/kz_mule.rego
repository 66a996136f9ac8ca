# kz-mule in Rego: weighted money-mule indicators of the sending account,
# flagged when at least `min-indicators` hold. The same logic as
# plugins/kz-mule, for the regorus comparison of `qorgan bench --compare`.
#
# input.mule holds the history aggregates the host computed for the sender
# (present only when the transaction is one the rule scores); data.params
# the pack's parameters (money in tiyn, ratios as {num, den}).
package kz.mule

import rego.v1

p := data.params["kz-mule"]

tx := input.tx

f := input.mule

day := 86400

scored if {
	tx.kind in {"transfer", "cash-withdrawal", "crypto-purchase", "card-topup", "other"}
	tx.sender.kind == "individual"
}

# part / whole >= ratio, exactly; whole must be positive.
reaches(part, whole, ratio) if {
	whole > 0
	part * ratio.den >= ratio.num * whole
}

# part / whole <= ratio, exactly; whole must be positive.
admits(part, whole, ratio) if {
	whole > 0
	part * ratio.den <= ratio.num * whole
}

two_sided if f.payees_long >= p["two-sided-payees"]

held contains ["new-account", p["new-account-weight"]] if {
	p["new-account-weight"] > 0
	tx.sender.opened != null
	f.long_in.first != null
	floor((f.long_in.first - tx.sender.opened) / day) < p["new-account-days"]
}

# The volume is the account's usual one: at least `usual-payers` paid it in
# the `usual-days` before the window (counted as the payers of both less
# those of the window), the first at least `usual-since-days` before it.
usual_volume if {
	p["usual-payers"] > 0
	f.usual.first != null
	f.usual.counterparties - f.in.counterparties >= p["usual-payers"]
	window_start := tx.time - p["window-hours"] * 3600
	window_start - f.usual.first >= p["usual-since-days"] * day
}

held contains ["many-senders", p["many-senders-weight"]] if {
	p["many-senders-weight"] > 0
	f.in.counterparties >= p["many-senders"]
	not usual_volume
}

held contains ["many-transactions", p["many-transactions-weight"]] if {
	p["many-transactions-weight"] > 0
	(f.in.count + f.out.count) + 1 >= p["many-transactions"]
	not usual_volume
}

held contains ["pass-through", p["pass-through-weight"]] if {
	p["pass-through-weight"] > 0
	f.in.sum >= p["pass-through-min-inflow"]
	money_out := f.out.sum + tx.amount
	reaches(money_out, f.in.sum, p["pass-through-min"])
	admits(money_out, f.in.sum, p["pass-through-max"])
}

held contains ["quick-dwell", p["quick-dwell-weight"]] if {
	p["quick-dwell-weight"] > 0
	f.recent != null
	f.recent.last != null
	f.recent.sum >= p["dwell-min-inflow"]
	reaches(tx.amount, f.recent.sum, p["dwell-share"])
	admits(tx.amount, max([f.in.sum, f.recent.sum]), p["pass-through-max"])
}

held contains ["fan-in-cash-out", p["fan-in-cash-out-weight"]] if {
	p["fan-in-cash-out-weight"] > 0
	tx.kind in {"cash-withdrawal", "crypto-purchase"}
	f.small.count >= p["fan-in-payments"]
	reaches(tx.amount, f.small.sum, p["cash-out-share"])
}

held contains ["dormant", p["dormant-weight"]] if {
	p["dormant-weight"] > 0
	f.first_seen != null
	tx.time - f.first_seen >= p["dormant-days"] * day
	quiet_until > tx.time - p["window-hours"] * 3600
}

quiet_until := f.quiet_first if f.quiet_first != null

else := tx.time

held contains ["income-multiple", p["income-multiple-weight"]] if {
	p["income-multiple-weight"] > 0
	tx.sender.income != null
	f.long_in.sum >= p["income-min-inflow"]
	income_exceeded
}

income_exceeded if tx.sender.income == 0

income_exceeded if reaches(f.long_in.sum, tx.sender.income, p["income-multiple"])

held contains ["shared-device", p["shared-device-weight"]] if {
	p["shared-device-weight"] > 0
	f.device_accounts != null
	f.device_accounts >= p["shared-device-accounts"]
}

held contains ["many-cards", p["many-cards-weight"]] if {
	p["many-cards-weight"] > 0
	f.holder_accounts != null
	f.holder_accounts >= p["cards-per-holder"]
}

score := min([sum([w | some pair in held; w := pair[1]]), 100]) if {
	scored
	not two_sided
	count(held) >= p["min-indicators"]
}

codes contains "MULE_SCORE_HIGH" if score >= p["high-score"]

codes contains "MULE_SCORE_ELEVATED" if {
	score >= p["elevated-score"]
	score < p["high-score"]
}

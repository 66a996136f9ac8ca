# kz-threshold in Rego: sender IIN on large card top-ups, IIN/BIN checksums,
# biometrics for cash, structuring just under the top-up threshold, and the
# daily cash-out cap. The same logic as plugins/kz-threshold, for the
# regorus comparison of `qorgan bench --compare`.
#
# input.tx is the transaction (amount in tiyn), input.threshold the history
# aggregates the host computed for it; data.params holds the pack's
# parameters (money in tiyn, ratios as {num, den}), data.lists the pack's
# reference lists as sets of normalised entries.
package kz.threshold

import rego.v1

p := data.params["kz-threshold"]

tx := input.tx

verified(check) if check in tx.verified

codes contains "TOPUP_SENDER_IIN_REQUIRED" if {
	tx.kind == "card-topup"
	tx.amount > p["topup-threshold"]
	not verified("sender-iin")
}

codes contains "IIN_INVALID" if {
	some party in [tx.sender, tx.recipient]
	party.iin != ""
	not iin_valid(party.iin)
}

codes contains "CASH_BIOMETRIC_REQUIRED" if {
	tx.kind in {"cash-withdrawal", "cash-deposit"}
	tx.amount >= p["cash-biometric-min"]
	not verified("biometric")
}

structuring_kinds := {"card-topup", "transfer", "cash-withdrawal", "cash-deposit"}

in_band := 1 if {
	input.threshold.band_from <= tx.amount
	tx.amount <= p["topup-threshold"]
} else := 0

band_count := input.threshold.structuring_before + in_band

# The band's amounts make up at least `structuring-min-share` of the
# sender's outflows of these kinds in the window (this one included); a
# share of 0 switches the condition off.
band_share_reached if p["structuring-min-share"].num == 0

band_share_reached if {
	share := p["structuring-min-share"]
	all := input.threshold.structuring_all + 1
	band_count * share.den >= share.num * all
}

codes contains "STRUCTURING_NEAR_THRESHOLD" if {
	tx.kind in structuring_kinds
	tx.sender.kind != "business"
	band_count >= p["structuring-min-count"]
	band_share_reached
}

cash_cap_exceeded if {
	tx.kind == "cash-withdrawal"
	input.threshold.cash_out_before + tx.amount > p["cash-cap"]
}

codes contains "CASH_DAILY_CAP_EXCEEDED" if {
	cash_cap_exceeded
	data.lists["cash-cap-accounts"][lower(trim_space(tx.sender.account))]
}

codes contains "CASH_DAILY_CAP_EXCEEDED" if {
	cash_cap_exceeded
	p["cash-cap-mule-score"] > 0
	data.kz.mule.score >= p["cash-cap-mule-score"]
}

# IIN/BIN: twelve digits, the last a check digit of the first eleven
# (weights 1..11 mod 11; when that is 10, weights 3..11,1,2; 10 again is
# invalid).
digit := {"0": 0, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7, "8": 8, "9": 9}

first_weights := [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]

second_weights := [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]

iin_valid(text) if {
	chars := split(text, "")
	count(chars) == 12
	every c in chars {
		digit[c]
	}
	d := [digit[c] | some c in chars]
	check_digit(d) == d[11]
}

weighted(d, weights) := sum([p | some i, w in weights; p := d[i] * w]) % 11

check_digit(d) := s if {
	s := weighted(d, first_weights)
	s != 10
} else := s if {
	s := weighted(d, second_weights)
	s != 10
}

"""Decides a JSON Lines file of transactions with the Python client that
openapi-python-client generates from qorgan serve's /openapi.json.

Usage: PYTHONPATH=GENERATED python3 decide_sample.py BASE_URL TOKEN FILE

Prints one line per transaction, {"tx": ..., "action": ...}; exits non-zero
naming the first transaction that was not decided.
"""

import json
import sys

from qorgan_client import AuthenticatedClient
from qorgan_client.api.default import evaluate
from qorgan_client.models import Decision, Transaction


def main() -> int:
    base_url, token, path = sys.argv[1:4]
    client = AuthenticatedClient(base_url=base_url, token=token)
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            transaction = Transaction.from_dict(json.loads(line))
            response = evaluate.sync_detailed(client=client, body=transaction)
            decision = response.parsed
            if response.status_code != 200 or not isinstance(decision, Decision):
                print(
                    f"{transaction.id}: {response.status_code} {response.content!r}",
                    file=sys.stderr,
                )
                return 1
            print(json.dumps({"tx": decision.tx, "action": decision.action.value}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

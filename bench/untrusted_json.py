"""The cost of reading provider JSON through core.untrusted.loads_json (NUL and lone surrogates
cleaned, depth bounded, NaN refused) next to its ceiling, plain json.loads, in the same run.

    .venv/bin/python bench/untrusted_json.py [--rounds 20000]

Every webhook body is read twice (the webhook's JSON check, the drain's parse), so twice the
difference is what the guard adds to each event.
"""

import argparse
import json
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.untrusted import loads_json  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20_000)
    rounds = parser.parse_args().rounds
    print(f"{'fixture':40} {'bytes':>6} {'json.loads µs':>14} {'loads_json µs':>14} {'added µs':>9}")
    for name in ("wa_in_text.json", "wa_in_image.json", "wa_status_read.json", "wa_in_order.json", "rcs_in_file.json"):
        body = (FIXTURES / name).read_bytes()
        ceiling = min(timeit.repeat(lambda: json.loads(body), number=rounds, repeat=3)) / rounds * 1e6
        guarded = min(timeit.repeat(lambda: loads_json(body), number=rounds, repeat=3)) / rounds * 1e6
        print(f"{name:40} {len(body):6} {ceiling:14.1f} {guarded:14.1f} {guarded - ceiling:9.1f}")


if __name__ == "__main__":
    main()

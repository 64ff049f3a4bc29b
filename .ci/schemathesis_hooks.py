"""Generators for the two rules of hutong's API that JSON Schema cannot state.

The OpenAPI document gives resident ID numbers (and `mem` certificate numbers, `T` and an ID
number) as `format: resident-id` / `format: mem-t-id`: 18 characters whose last is a check
character over the first 17 (GB 11643, ISO 7064 MOD 11-2). A pattern alone would generate
numbers with a wrong check character, which the service rightly refuses. And a holding's dates
must be in order (first_issued_on <= issued_on <= valid_until), which no schema keyword says;
the document says it in the description, and generated holdings are put in that order.
"""

from datetime import date, timedelta

import schemathesis
from hypothesis import strategies as st

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def check_char(first17: str) -> str:
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


@st.composite
def resident_ids(draw):
    province = draw(st.integers(1, 8))
    rest = draw(st.integers(0, 99999))
    # Not in the future in China, whatever the time of day here.
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=date.today() - timedelta(days=2)))
    sequence = draw(st.integers(0, 999))
    first17 = f"{province}{rest:05d}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


schemathesis.openapi.format("resident-id", resident_ids())
schemathesis.openapi.format("mem-t-id", resident_ids().map(lambda i: "T" + i))


def _is_day(v) -> bool:
    if not isinstance(v, str) or len(v) != 10:
        return False
    try:
        date.fromisoformat(v)
    except ValueError:
        return False
    return True


@schemathesis.hook
def map_body(context, body):
    holdings = body.get("holdings") if isinstance(body, dict) else None
    if isinstance(holdings, list):
        for h in holdings:
            if not isinstance(h, dict):
                continue
            keys = [k for k in ("first_issued_on", "issued_on", "valid_until") if _is_day(h.get(k))]
            days = sorted(h[k] for k in keys)
            for k, d in zip(keys, days):
                h[k] = d
    return body

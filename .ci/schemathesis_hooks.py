"""Generators for the rules of hutong's API that JSON Schema cannot state.

The OpenAPI document gives resident ID numbers (and the certificate numbers that are, or embed,
one) by a pattern. Two of their rules are beyond a pattern, and the document states them in
words: the birth date is a real day from 1900 to today, and the last character is the check
character ISO 7064 MOD 11-2 gives for the first 17 (GB 11643). Values generated from the
pattern alone would mostly break them, and the service rightly refuses such numbers; so every
generated value that has the shape of an ID number gets a real birth date and the right check
character. Values without that shape (the invalid ones) are left as they are. The patterns take
numbers as people type them (full-width forms, either case, whitespace around and inside, as
hutong_core::number::normalize reads them): the shape is looked for in the value so read, and
the value keeps how it was typed, only its digits changed.

A holding's dates must be in order (first_issued_on <= issued_on <= valid_until), which no
schema keyword says either: generated holdings are put in that order.
"""

import re
from datetime import date, timedelta

import schemathesis

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
ID_SHAPE = re.compile(
    r"([Tt]?)([1-8][0-9]{5})((?:19|20)[0-9]{2})((?:0[1-9]|1[0-2]))"
    r"((?:0[1-9]|[12][0-9]|3[01]))([0-9]{3})[0-9Xx]"
)


def check_char(first17: str) -> str:
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


# Rust's char::is_whitespace (Unicode White_Space), which the service drops from numbers.
WHITESPACE = set("\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)
}


def _half_width(c: str) -> str:
    return chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c


def _repair_id(value: str) -> str:
    # The value as the service reads it, and where each of its characters was typed.
    typed = [(i, _half_width(c)) for i, c in enumerate(value) if c not in WHITESPACE]
    normal = "".join(c.upper() if c.isascii() else c for _, c in typed)
    m = ID_SHAPE.fullmatch(normal)
    if not m:
        return value
    prefix, address, year, month, day, sequence = m.groups()
    try:
        birth = date(int(year), int(month), int(day))
    except ValueError:
        birth = date(int(year), int(month), 1)
    # Not in the future in China, whatever the time of day here.
    if birth > date.today() - timedelta(days=2):
        birth = birth.replace(year=int(year) - 100)
    first17 = f"{address}{birth:%Y%m%d}{sequence}"
    repaired = prefix.upper() + first17 + check_char(first17)
    out = list(value)
    for (i, c), new in zip(typed, repaired):
        # In the width and case it was typed in.
        if c.isalpha() and c.islower():
            new = new.lower()
        out[i] = chr(ord(new) + 0xFEE0) if 0xFF01 <= ord(value[i]) <= 0xFF5E else new
    return "".join(out)


def _is_day(v) -> bool:
    if not isinstance(v, str) or len(v) != 10:
        return False
    try:
        date.fromisoformat(v)
    except ValueError:
        return False
    return True


def _order_dates(h: dict) -> None:
    keys = [k for k in ("first_issued_on", "issued_on", "valid_until") if _is_day(h.get(k))]
    days = sorted(h[k] for k in keys)
    for k, d in zip(keys, days):
        h[k] = d


def _repair(value, in_holdings=False):
    if isinstance(value, str):
        return _repair_id(value)
    if isinstance(value, list):
        return [_repair(v, in_holdings) for v in value]
    if isinstance(value, dict):
        out = {k: _repair(v, k == "holdings") for k, v in value.items()}
        if in_holdings:
            _order_dates(out)
        return out
    return value


def _sendable(value):
    # A query string carries text only. A generated null, empty list or object would vanish
    # from the request, and a number or boolean would arrive as text that may well be valid
    # (a name "2.5e+16"): either way an invalid case would reach the service as a valid one.
    # A control character is as invalid for every field of the verification query (number,
    # name, id, kind), and it can be sent. Unknown parameters are ignored by the service
    # whatever they hold.
    if value is None or isinstance(value, (dict, bool, int, float)):
        return "\x01"
    if isinstance(value, (list, tuple)):
        if all(v is None for v in value):
            return "\x01"
        return [_sendable(v) for v in value]
    return value


@schemathesis.hook
def map_case(context, case):
    if isinstance(case.query, dict):
        query = {}
        for key, value in case.query.items():
            # The exploded object parameter `query`, if given whole, holds the fields; any
            # other object is a field's value, which a query string cannot carry (it would be
            # sent as `id[…]=…` parameters, which the service ignores).
            if isinstance(value, dict) and key == "query":
                value = {k: _sendable(v) for k, v in value.items()}
            else:
                value = _sendable(value)
            query[key] = _repair(value)
        case.query = query
    if isinstance(case.body, (dict, list)):
        case.body = _repair(case.body)
    # A watch list's changes wait up to `wait` seconds for one, as a long poll does (its own
    # tests cover the wait); as for the feed's query (schemathesis.toml), a request that asks
    # for a wait the service accepts asks for none here, so that generated requests do not each
    # spend half a minute. A wait out of range stays, to be refused.
    if case.operation.path == "/api/v1/watch/changes" and isinstance(case.body, dict):
        wait = case.body.get("wait")
        if isinstance(wait, (int, float)) and not isinstance(wait, bool) and 0 <= wait <= 30:
            case.body["wait"] = 0
    return case

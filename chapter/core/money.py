"""Money is integer cents plus an ISO currency code; never floats."""
import re
from decimal import Decimal, InvalidOperation

# The one money format for people lives in chapter.core.formatting; it is re-exported here for old imports.
from chapter.core.formatting import format_money  # noqa: E402,F401


# Plain decimals only: ASCII digits, an optional "$", thousands separated by commas in groups of
# three, at most two decimals. Not "1_000", full-width digits, "Infinity", "NaN" or "1e3", which
# Decimal() would accept.
_AMOUNT = re.compile(r"\$?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{1,2})?|\$?\.[0-9]{1,2}", re.ASCII)
MAX_AMOUNT_CENTS = 100_000_000_00  # a hundred million: far above any fee, far below the database's integer


def parse_money(text: str) -> int:
    """Parse '210', '210.00', '$1,210.5' into cents; ValueError (with a reason a person reads) on anything else."""
    cleaned = (text or "").strip()
    if not _AMOUNT.fullmatch(cleaned):
        raise ValueError("use digits and a decimal point only, with at most two decimals")
    try:
        amount = Decimal(cleaned.lstrip("$").replace(",", ""))
    except InvalidOperation as exc:  # cannot happen after the pattern; kept for safety
        raise ValueError("use digits and a decimal point only") from exc
    cents = int(amount * 100)
    if cents > MAX_AMOUNT_CENTS:
        raise ValueError("that amount is too large")
    return cents

"""Money is integer cents plus an ISO currency code; never floats."""
from decimal import Decimal, InvalidOperation

# The one money format for people lives in chapter.core.formatting; it is re-exported here for old imports.
from chapter.core.formatting import format_money  # noqa: E402,F401


def parse_money(text: str) -> int:
    """Parse '210', '210.00' or '1,210.5' into cents; raises ValueError on anything else."""
    cleaned = (text or "").strip().replace(",", "").lstrip("$")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not an amount") from exc
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("amounts have at most two decimals")
    return int(amount * 100)

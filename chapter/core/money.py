"""Money is integer cents plus an ISO currency code; never floats."""
from decimal import Decimal, InvalidOperation

CURRENCY_SYMBOLS = {"USD": "$", "CAD": "CA$", "EUR": "€", "GBP": "£"}


def format_money(cents: int | None, currency: str = "USD") -> str:
    """Render cents for people: 21000, 'USD' -> '$210.00'."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    symbol = CURRENCY_SYMBOLS.get(currency.upper(), currency.upper() + " ")
    return f"{sign}{symbol}{whole:,}.{part:02d}"


def parse_money(text: str) -> int:
    """Parse '210', '210.00' or '1,210.5' into cents; raises ValueError on anything else."""
    cleaned = (text or "").strip().replace(",", "").lstrip("$")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not an amount") from exc
    if not amount.is_finite() or abs(amount) >= Decimal(10) ** 10:  # Infinity, NaN, 1e999: not an amount
        raise ValueError(f"{text!r} is not an amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("amounts have at most two decimals")
    return int(amount * 100)

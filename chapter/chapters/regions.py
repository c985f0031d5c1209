"""States and provinces by code and name, so a chapter search for "PA" or "Pennsylvania" finds the same chapters."""
from __future__ import annotations

from chapter.core.text import fold

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts",
    "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
    "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming", "PR": "Puerto Rico",
}
CANADIAN_PROVINCES = {
    "AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador", "NS": "Nova Scotia", "NT": "Northwest Territories", "NU": "Nunavut",
    "ON": "Ontario", "PE": "Prince Edward Island", "QC": "Québec", "SK": "Saskatchewan", "YT": "Yukon",
}
REGIONS = {**US_STATES, **CANADIAN_PROVINCES}
_CODE_BY_FOLDED_NAME = {fold(name): code for code, name in REGIONS.items()}


def region_code(region: str | None) -> str | None:
    """The two-letter code of a state or province given by code or by name ("Pennsylvania" -> "PA")."""
    if not region:
        return None
    text = region.strip()
    if text.upper() in REGIONS:
        return text.upper()
    return _CODE_BY_FOLDED_NAME.get(fold(text))


def region_name(region: str | None) -> str | None:
    """The full name of a state or province given by code or by name."""
    code = region_code(region)
    return REGIONS[code] if code else None

"""The health figures as tables: what a page shows, a chart draws and a CSV holds (one value, three uses)."""
from __future__ import annotations

import io
from dataclasses import dataclass

from chapter.core.spreadsheet import csv_writer
from chapter.health.figures import Figures


@dataclass(frozen=True)
class Table:
    """A titled table; `chart_columns` are the columns the chart draws, one dataset each."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple]
    chart_columns: tuple[int, ...] = ()
    chart_type: str = "bar"
    stacked: bool = False
    label_column: int = 0

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv_writer(out)
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return out.getvalue()

    def chart(self) -> dict:
        """Labels and datasets for Chart.js (read by static/js/health-charts.js)."""
        return {"type": self.chart_type, "stacked": self.stacked,
                "labels": [str(row[self.label_column]) for row in self.rows],
                "datasets": [{"label": self.columns[c], "data": [row[c] if row[c] != "" else None for row in self.rows]}
                             for c in self.chart_columns]}


def percent(part: int, whole: int) -> float | str:
    """A rate in percent with one decimal, or "" when there is nothing to divide by."""
    return round(100 * part / whole, 1) if whole else ""


def monthly_tables(figures: Figures) -> list[Table]:
    """The four monthly tables of a chapter (or of a sum of chapters)."""
    s, months = figures.series, figures.months
    status = [(m, s["active"][i], s["grace"][i], s["lapsed"][i]) for i, m in enumerate(months)]
    renewals = [(m, s["due"][i], s["renewed"][i], percent(s["renewed"][i], s["due"][i])) for i, m in enumerate(months)]
    flow = [(m, s["new"][i], s["lapsed_in"][i], s["won_back"][i]) for i, m in enumerate(months)]
    work = [(m, s["events"][i], s["attendance"][i], s["messages"][i], s["recipients"][i]) for i, m in enumerate(months)]
    return [
        Table("status", "Members by status at the end of each month", ("Month", "Active", "In grace", "Lapsed"),
              status, (1, 2, 3), "bar", True),
        Table("renewals", "Renewals: members due and renewed", ("Month", "Due", "Renewed", "Renewal rate (%)"),
              renewals, (1, 2)),
        Table("flow", "New, lapsed and won-back members", ("Month", "New", "Lapsed", "Won back"), flow, (1, 2, 3)),
        Table("activity", "Events held and messages sent",
              ("Month", "Events held", "Attendance", "Messages sent", "Recipients"), work, (1, 3)),
    ]


# Measures a district ranks its chapters by: key -> (label, higher is better).
MEASURES = {
    "active": ("Active members", True),
    "growth": ("Change in active members (12 months)", True),
    "renewal_rate": ("Renewal rate (12 months, %)", True),
    "new": ("New members (12 months)", True),
    "lapsed": ("Lapsed (12 months)", False),
    "won_back": ("Won back (12 months)", True),
    "events": ("Events held (12 months)", True),
    "attendance": ("Attendance (12 months)", True),
    "messages": ("Messages sent (12 months)", True),
}


def measures(figures: Figures) -> dict[str, int | float | str]:
    """A chapter's measures over the last 12 months (and active members today)."""
    active = figures["active"]
    rate = figures.renewal_rate()
    return {"active": active[-1], "growth": active[-1] - active[-13] if len(active) >= 13 else "",
            "renewal_rate": round(100 * rate, 1) if rate is not None else "", "new": figures.last("new"),
            "lapsed": figures.last("lapsed_in"), "won_back": figures.last("won_back"),
            "events": figures.last("events"), "attendance": figures.last("attendance"),
            "messages": figures.last("messages")}


def ranked_table(key: str, title: str, named: list[tuple[str, Figures]], rank_by: str) -> Table:
    """One row per chapter (or district), ranked by a measure: best first, blanks last."""
    higher_is_better = MEASURES[rank_by][1]
    rows = []
    for name, one in named:
        values = measures(one)
        rows.append([name, *(values[m] for m in MEASURES)])
    column = 1 + list(MEASURES).index(rank_by)

    def order(row):
        value = row[column]
        if value == "":
            return (1, 0, row[0])
        return (0, -value if higher_is_better else value, row[0])

    rows.sort(key=order)
    ranked = [(position + 1, *row) for position, row in enumerate(rows)]
    return Table(key, title, ("Rank", "Name", *(label for label, _ in MEASURES.values())), ranked, (column + 1,),
                 label_column=1)

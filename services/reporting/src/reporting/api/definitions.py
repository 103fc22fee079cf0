"""What every figure of reporting counts, in one place: the text of the README's `## Definitions` section and
of the OpenAPI descriptions (the `at` parameter, each view's description, the response fields).

One source of truth: this module. The README section between the `BEGIN definitions` and `END definitions`
markers is generated from it (`readme_with_definitions`); tests/test_docs.py fails when the README drifts and
`./mes docs` rewrites it, with the OpenAPI documents. Edit the words here, never in the README.

`PLANNED_NOW` names, per view taking `at=`, the figures read from a plan as it is set now rather than as it
was known at `at`; a view answers them in `as_planned_now` when `at` is given, and its description lists them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INTRO = "What each figure counts, as the code computes it (`service/*.py`, `domain/*.py`)."

AS_PLANNED_NOW = (
    "The figures of this answer read from a plan (targets, the WIP ramp, calendars' working time, rosters, "
    "recall goals, the line's station list) as it is set now for the period asked, not as it was known at "
    "`at`; `name[]` is a field of each item of the list `name`, `name` alone which items are listed and their "
    "order. Empty when `at` (or `as_of`) is not given."
)


@dataclass(frozen=True)
class Term:
    key: str
    text: str


@dataclass(frozen=True)
class Section:
    title: str
    paths: tuple[str, ...]
    terms: tuple[Term, ...]


COMMON = Section(
    "Common rules",
    (),
    (
        Term(
            "zones",
            "**Instants and zones.** Every fact is placed at its event's own time (the envelope's `time`; a "
            "clock-in or -out at its `at`), stored in UTC. Buckets are the line's calendar: the version in force "
            "on a local date is the highest version number whose `valid_from` is on or before that date, in its "
            "own time zone (DST-aware). Before a line's first version, dates use the earliest version's zone and "
            "there is no working time. A view without `line` uses the plant calendar: the only line's when "
            "exactly one line has a calendar, else `REPORTING_TIME_ZONE` with no working time. `/andons` splits "
            "each andon by the shifts of its own line.",
        ),
        Term(
            "buckets",
            "**Buckets.** Day = local midnight to local midnight; week = ISO week from Monday (`2026-W49`); "
            "month, year = from the first local midnight; shift = its start to its end, breaks included, "
            "labelled `YYYY-MM-DD CODE` with the date it starts on. All are half-open `[start, end)`.",
        ),
        Term(
            "night_shift",
            "**Night shift across midnight.** As a shift (shift buckets, `period=shift`, andons by shift, "
            "staffing, a completion's `shift`) it counts whole, under the date it started. In day, week, month "
            "and year buckets it is split at local midnight: output, target and planned time after midnight go "
            "to the next day (and month, year), alike for actual and target. For working-day counts (remaining "
            "working days, forecast) a shift belongs to the day it starts on.",
        ),
        Term(
            "at",
            "**`at=`** (ISO 8601 with offset, `Z` accepted; years 2000-2100; default: the request's time) is the "
            "reference instant: a fact counts when its time is at or before `at` (a fact at exactly `at` counts; "
            "something cleared, repaired, completed or ended at exactly `at` is no longer open), and ages, open "
            "minutes and days left are measured to `at`. Facts recorded later but dated before `at` count (the "
            "view as it was then, given the facts known now). Plans are read as they are set now for the period "
            "asked, not as they were known at `at`: targets, the WIP ramp, calendars, rosters, recall goals and "
            "the line's station list describe a period, so a corrected plan corrects the past view of that "
            "period too (what happened is never re-dated: completions, holds, kit and discrepancy states, "
            "qualifications, presence and employee status are each their last change at or before `at`). "
            "Buckets and shifts follow the calendars as published now. When `at` is given, the answer lists in "
            "`as_planned_now` the figures read from a plan as set now (each view's list is in its description "
            "and under **Read as planned now** below). Views without `at=`: `/kits/discrepancies`, "
            "`/people/headcount` and `/people/recall` (these take `as_of=`), `/targets/...` (now).",
        ),
        Term(
            "ranges",
            "**Ranges.** `from`/`to` as local dates: `from` at local midnight, `to` includes that whole day; as "
            "instants: `to` exclusive; `from` alone runs to `at`; at most 400 days. `period=` is the period "
            "containing `at` (`shift`: the one running at `at`, else the last one ended, looking back 31 days; "
            "needs a calendar). Default: the day of `at` (`/output/series` and `/lines/{line}/calendar`: the "
            "month). A range counts only facts up to `at` (its effective end is the earlier of `to` and `at`).",
        ),
        Term(
            "statistics",
            "**Statistics** (`domain/kpi.py`): count, mean, median, p90, min, max. Percentiles interpolate "
            "linearly between closest ranks: with the n values sorted `x[0] <= ... <= x[n-1]`, position "
            "`h = (n-1)·q`, `p(q) = x[floor(h)] + (x[ceil(h)] - x[floor(h)])·(h - floor(h))`; median q = 0.5, "
            "p90 q = 0.9. This is numpy's default `method='linear'` (Hyndman-Fan type 7). Empty: null. Rounded "
            "to 2 decimals.",
        ),
    ),
)

SECTIONS = (
    Section(
        "Output",
        ("/output", "/output/series", "/output/curve", "/output/completions"),
        (
            Term(
                "actual",
                "**Actual**: trucks of the line whose `mes.vehicle.completed` (work completed at the last station "
                "of the route) falls in the bucket and at or before `at`. A cancelled build order never counts.",
            ),
            Term("target", "**Target** of a bucket: the plan over the bucket's instants (see Targets)."),
            Term("target_to_now", "**Target to now**: the plan over `[start, at)`."),
            Term("gap", "**Gap** (`/output`) = actual - target to now."),
            Term("attainment", "**Attainment** = actual / target to now (null when 0)."),
            Term(
                "periods",
                "**Periods** of `/output`: the shift running at `at` or last ended (none without a calendar), the "
                "day, ISO week, month and year containing `at`; `running` = `at` inside it.",
            ),
            Term(
                "series",
                "**Series** (`/output/series`): every bucket overlapping the range, clipped to it; `target` is the "
                "whole clipped bucket (also its part after `at`), gap = actual - target, running totals of both.",
            ),
            Term("year_actual", "**Year actual**: completions from the year's start to `at`."),
            Term(
                "plan_to_date",
                "**Plan to date**: the plan over `[year start, at)`; the year's gap = actual - plan to date.",
            ),
            Term(
                "remaining_working_days",
                "**Remaining working days**: each later working day counts 1, the day in progress the share of "
                "its planned time still ahead.",
            ),
            Term(
                "required_daily_rate",
                "**Required daily rate** = max(0, annual - actual) / remaining working days (0 when nothing is "
                "missing, null when no working day is left).",
            ),
            Term(
                "planned_daily_rate",
                "**Planned daily rate** = target / working days of the month of `at`.",
            ),
            Term(
                "run_rate",
                "**Run rate** = mean of the completions per working day over the last "
                "`REPORTING_FORECAST_LOOKBACK_DAYS` (10) working days before the local date of `at` (output on the "
                "days off after a working day counts with that working day); s = sample standard deviation "
                "(n - 1) of those daily counts.",
            ),
            Term(
                "forecast",
                "**Forecast**: year end F = actual + run rate x R (R remaining working days, N observed days); "
                "95 % band `F +/- 1.96·s·sqrt(R + R²/N)`, low end never below actual, no band with fewer than 2 "
                "observed days.",
            ),
            Term("on_track", "**On track** = F >= annual; **forecast gap** = F - annual."),
            Term(
                "curve",
                "**Curve** (`/output/curve`): per local day the plan, the actual (days starting at or before `at`, "
                "counted to `at`), and for the days from the local date of `at` on the same projection with R = "
                "working days from `at` to that day's end (only when `at` is in the year).",
            ),
            Term(
                "completions",
                "**Completions**: completed in the range and at or before `at`, ordered by time then VIN; local "
                "date and shift (the shift whose span, breaks included, contains it; null off shift) of the "
                "completion; lead time, first pass and defect count as carried by the completion event.",
            ),
        ),
    ),
    Section(
        "WIP and flow",
        ("/wip", "/wip/trucks", "/flow/lead-time", "/flow/cycle-times"),
        (
            Term(
                "in_production",
                "**In production** at `at`: trucks started (`mes.vehicle.build-started`) at or before `at` and not "
                "completed by then, with at least one movement by then.",
            ),
            Term(
                "station",
                "**Station and status**: the latest movement at or before `at` (started, arrived, work started, "
                "work completed, held, hold released, sent back; ties by log position) gives the station and "
                "status (arrived, working, done, held, sent_back); `since` = the start of the current stay (going "
                "back over the events at that station to the latest arrival, send-back or start).",
            ),
            Term(
                "held",
                "**Held**: the truck's last hold change at its station at or before `at` is a hold "
                "(`service/holds.py`).",
            ),
            Term("age", "**Age** = `at` - since."),
            Term(
                "standard",
                "**Standard** = the step time of the truck's route version (the route's highest version known now "
                "when the truck's is unknown); over standard = age / standard > 1.",
            ),
            Term(
                "per_station",
                "**Per station** (line definition order, then others by id): trucks, held, over standard, oldest "
                "and mean age, mean standard of the trucks there. `build_short` of a truck is its build order's "
                "flag.",
            ),
            Term(
                "ramp",
                "**WIP ramp** (with a line): goal on the local date of `at`, linear by days between the planner's "
                "points, the last goal after the last point, none before the first; gap = trucks in production - "
                "goal.",
            ),
            Term(
                "takt",
                "**Takt** = planned working seconds of the month of `at` (local) / that month's target (null "
                "without a target for the year, or when the month has no target or no planned time).",
            ),
            Term(
                "lead_time",
                "**Lead time**: from the truck's build start (entering the line at its first station) to its "
                "completion, in hours (`lead_time_seconds` of `mes.vehicle.completed`, computed by assembly-line), "
                "for the trucks completed in the range; statistics overall and per model.",
            ),
            Term(
                "cycle_time",
                "**Cycle time**: `cycle_seconds` of each `mes.vehicle.work-completed` in the range (work started "
                "to work completed at the station, computed by assembly-line).",
            ),
            Term(
                "rework",
                "**Rework cycle**: a work completion at a station the truck reached again after a send-back "
                "(`rework` true: more than one arrival there); rework cycles are only counted (`rework_cycles`) "
                "and left out of the statistics, the standard and the bottleneck.",
            ),
            Term(
                "cycle_standard",
                "**Cycle standard** = mean of the cycles' standard seconds; ratios = mean cycle / standard and / takt.",
            ),
            Term(
                "bottleneck",
                "**Bottleneck**: the station with the highest mean cycle time (a tie goes to the greater station id).",
            ),
        ),
    ),
    Section(
        "Quality",
        ("/quality", "/quality/pareto"),
        (
            Term("completed", "**Completed**: trucks completed in the range."),
            Term("first_pass", "**First pass**: the completion says no defect was ever recorded on the truck."),
            Term("fpy", "**FPY** = first pass / completed; null when nothing was completed."),
            Term(
                "dpu",
                "**DPU** = defects on the completed trucks (the completion's `defect_count`: every defect recorded "
                "on the truck, repaired ones included) / completed; null when nothing was completed.",
            ),
            Term("defects_found", "**Defects found**: `mes.vehicle.defect-found` in the range, on any truck."),
            Term(
                "open_defects",
                "**Open defects**: found at or before `at` and not repaired by then, whatever the range.",
            ),
            Term(
                "pareto",
                "**Pareto**: defects found in the range grouped by code, by the station that found them or by the "
                "station named as cause (`unknown` when missing); largest first, ties by key; share = count / "
                "total, cumulative share = running count / total (4 decimals).",
            ),
        ),
    ),
    Section(
        "Lost time",
        ("/andons", "/andons/open", "/oee"),
        (
            Term(
                "andon_time",
                "**Andon time**: from its raise to its clear, or to `at` while it was still open then (a clear "
                "without its raise starts at clear - duration).",
            ),
            Term(
                "andon_count",
                "**Count**: andons raised in the range, in the shift whose span (breaks included) contains the "
                "raise, else off shift (`shift` null).",
            ),
            Term(
                "lost_minutes",
                "**Lost minutes**: each andon's time inside the range, split at shift boundaries (breaks count "
                "with the shift; time outside every shift is off shift). Per station and per shift they are summed "
                "per andon, so overlapping andons each count.",
            ),
            Term(
                "line_stop_minutes",
                "**Line-stop minutes**: the same for andons that stop the line; per shift (`by_shift`) the stops' "
                "time is united, so overlapping stops count once; per bucket and per station they are summed per "
                "andon.",
            ),
            Term(
                "open_andons",
                "**Open andons**: raised at or before `at` and not cleared by then; open minutes = `at` - raise.",
            ),
            Term(
                "oee_time",
                "**Planned, downtime and run** (OEE per station over the range up to `at`): planned = the line's "
                "planned working time (shifts minus breaks); downtime = planned time covered by the station's "
                "andons or by any line stop, overlaps once; run = planned - downtime.",
            ),
            Term("availability", "**Availability** = run / planned."),
            Term(
                "performance",
                "**Performance** = sum of the standard seconds of the non-rework work completions at the station / "
                "run.",
            ),
            Term(
                "quality",
                "**Quality** = good / units, units = trucks with a non-rework work completion there in the range, "
                "good = those with no defect found by `at` caused at the station.",
            ),
            Term("oee", "**OEE** = availability x performance x quality; rating good >= 0.85, low <= 0.50, else fair."),
        ),
    ),
    Section(
        "Kits",
        ("/kits", "/kits/discrepancies", "/kits/held-trucks"),
        (
            Term(
                "scope",
                "**Scope**: the kit type asked; for a line, the kit types whose BOM model is one of the line's "
                "route models, as known now (all kits while none is known); else the plant. A kit's type is the "
                "latest one stated for it (an amendment changes it).",
            ),
            Term(
                "status",
                "**Status at `at`**: each kit's last status change at or before `at` (announced, cancelled, "
                "received, quarantined, released, consumed).",
            ),
            Term(
                "on_hand",
                "**On hand** = quarantined + received + released; **usable** = received + released; **in transit** "
                "= announced.",
            ),
            Term(
                "next_arrival",
                "**Next arrival**: the earliest expected arrival at or after `at` of the kits announced then, as "
                "their ASN last announced or corrected it by `at` (the kit's own announcement when no ASN event is "
                "known).",
            ),
            Term(
                "days_of_supply",
                "**Days of supply** = usable / planned daily rate (with the quarantined ones: (usable + "
                "quarantined) / rate); null without a target, or when the rate is 0.",
            ),
            Term(
                "kits_planned_rate",
                "**Planned daily rate** (kits) = the target of the month of `at` / its working days, of the line, "
                "or the sum over every known line with a target when no line is given.",
            ),
            Term(
                "open_discrepancies",
                "**Open discrepancies by claim code** and **accepted shortages**: each discrepancy's last state at "
                "or before `at` is `open` / `shortage_accepted`. `/kits/discrepancies` lists today's states "
                "(default open) with the kit's status today.",
            ),
            Term(
                "held_by_shortage",
                "**Trucks held by a shortage**: holds open at `at` (as in WIP) of trucks not completed by then; "
                "held minutes = `at` - the hold.",
            ),
            Term(
                "build_short",
                "**Build short in production**: trucks whose build order was build-short, started at or before "
                "`at`, and not completed by then.",
            ),
        ),
    ),
    Section(
        "People",
        ("/people/headcount", "/people/recall", "/people/staffing", "/people/qualifications/expiring"),
        (
            Term(
                "headcount",
                "**Headcount on `as_of`** (a local date; default today in the plant calendar): each employee's "
                "status fact (registration, status change, recall) with the latest effective date on or before "
                "`as_of` (equal dates: the later event time, then log position) gives both status and origin; "
                "employees with no fact effective by then are not counted.",
            ),
            Term(
                "recall",
                "**Recall on `as_of`**: recalled = different employees recalled on or before `as_of` toward the "
                "goal (a recall naming no known goal counts toward the latest goal first set at or before its "
                "time); remaining = max(0, target - recalled); progress = recalled / target; days left = by date - "
                "`as_of`. Every goal known now is listed, with its target and by date as set now.",
            ),
            Term(
                "pace",
                "**Pace**: expected = target x min(1, max(0, days since the goal was first set / days from then to "
                'its by date)), the "set" day being the date part of the instant it was first set (UTC in the '
                "shipped database configuration); on track = recalled >= floor(expected), or recalled >= target "
                "when the by date is not after the set day.",
            ),
            Term(
                "idle",
                "**Idle** = employees idle on `as_of`; **recalled total** = different employees recalled on or "
                "before it.",
            ),
            Term(
                "staffing",
                "**Staffing** for a date and shift (default: the shift running at `at` or the last ended; the date "
                "is the shift's start date); the roster is the latest published for the date and shift.",
            ),
            Term("required", "**Required** = the roster's headcount per station."),
            Term("rostered", "**Rostered** = different people the roster assigns there."),
            Term("unqualified_rostered", "**Unqualified rostered** = those the roster flags unqualified."),
            Term(
                "clocked_in",
                "**Clocked in** = different people who clocked in there at or before `at` for that shift date (and "
                "shift).",
            ),
            Term(
                "present",
                "**Present** = people whose last clocking by `at` for that line and shift date (and shift, when "
                "one is chosen) is a clock-in there.",
            ),
            Term(
                "coverage",
                "**Coverage** = clocked in / required; **rostered coverage** = rostered / required; **total "
                "coverage** = sum of min(clocked in, required) / sum of required.",
            ),
            Term(
                "expiring",
                "**Expiring qualifications**: per employee and station, its last change at or before `at` (a grant "
                "or renewal at the time it was recorded, a revocation at its `revoked_at`, an expiry at its "
                "`expired_at`) is a grant or renewal valid until after `at` and at most `within_days` days after "
                "it; a renewal or revocation made after `at` does not change the answer. Days left = (valid until "
                "- `at`) in days.",
            ),
        ),
    ),
    Section(
        "Localisation",
        ("/localisation",),
        (
            Term(
                "parts",
                "**Parts** of a truck (trucks completed in the range) = the quantities of its kit's BOM version "
                "(or, when that BOM is unknown, its serialised kit parts) + its local parts (`component-fitted` "
                "with source local).",
            ),
            Term("by_count", "**By count** = local parts / parts, overall and per model."),
            Term(
                "by_value",
                "**By value** = value of the local serialised parts / value of all its serialised parts with a "
                "known unit value, overall and per model.",
            ),
        ),
    ),
    Section(
        "Lines, calendar and targets",
        ("/lines", "/lines/{line_id}/calendar", "/targets"),
        (
            Term(
                "calendar_day",
                "**Calendar day**: working day (a working weekday of the version in force, not one of its "
                "holidays), the shifts starting that day, planned minutes = shifts minus breaks inside the local "
                "day (a night shift split at midnight), target = the plan over the day.",
            ),
            Term(
                "targets",
                "**Targets**: fixed months keep their figure; the others share the rest of the annual plan in "
                "proportion to their planned working time (inside the month's local bounds); inside a month the "
                "target accrues per planned second, so the target of any range = month target / month planned "
                "seconds x planned seconds in it. Working days = working dates of the month.",
            ),
            Term("month_takt", "**Takt of a month** = planned minutes / target."),
            Term("placeable", "**Placeable** = the part of the annual plan on months with planned time."),
        ),
    ),
    Section(
        "Dashboard",
        ("/dashboard/data",),
        (
            Term(
                "dashboard",
                "**Dashboard**: one snapshot at `at`: the output summary and curve, WIP, open andons, quality and "
                "the cycle-time bottleneck over the day of `at`, kits for the line, and the staffing totals of the "
                "shift running at `at` or last ended, each as defined above.",
            ),
        ),
    ),
)

# Per view taking `at=` (or `as_of=`): the figures read from a plan as set now (see AS_PLANNED_NOW).
PLANNED_NOW: dict[str, tuple[str, ...]] = {
    "/output": (
        "periods[].target",
        "periods[].target_to_now",
        "periods[].gap",
        "periods[].attainment",
        "year.annual_target",
        "year.plan_to_date",
        "year.gap",
        "year.remaining_working_days",
        "year.required_daily_rate",
        "year.planned_daily_rate",
        "year.forecast",
        "year.forecast_gap",
        "year.on_track",
    ),
    "/output/series": ("points[].target", "points[].gap", "points[].cumulative_target"),
    "/output/curve": (
        "annual_target",
        "forecast",
        "points[].working_day",
        "points[].plan_day",
        "points[].plan_cumulative",
        "points[].forecast_cumulative",
        "points[].forecast_low",
        "points[].forecast_high",
    ),
    "/output/completions": (),
    "/wip": ("takt_seconds", "ramp", "stations", "stations[].name", "stations[].position"),
    "/wip/trucks": (),
    "/flow/lead-time": (),
    "/flow/cycle-times": (
        "takt_seconds",
        "stations",
        "stations[].name",
        "stations[].position",
        "stations[].ratio_to_takt",
        "bottleneck.takt_seconds",
        "bottleneck.reason",
    ),
    "/quality": (),
    "/quality/pareto": (),
    "/andons": ("by_station",),
    "/andons/open": (),
    "/oee": (
        "stations",
        "stations[].name",
        "stations[].position",
        "stations[].planned_minutes",
        "stations[].downtime_minutes",
        "stations[].run_minutes",
        "stations[].availability",
        "stations[].performance",
        "stations[].oee",
        "stations[].rating",
    ),
    "/kits": ("scope", "planned_daily_rate", "days_of_supply", "days_of_supply_with_quarantined"),
    "/kits/held-trucks": (),
    "/people/recall": ("goals", "goals[].target_count", "goals[].by_date", "goals[].note"),
    "/people/staffing": (
        "required",
        "coverage",
        "stations",
        "stations[].required",
        "stations[].rostered",
        "stations[].unqualified_rostered",
        "stations[].coverage",
        "stations[].rostered_coverage",
    ),
    "/people/qualifications/expiring": (),
    "/localisation": (),
    "/lines": (
        "lines",
        "lines[].name",
        "lines[].stations",
        "lines[].calendar_version",
        "lines[].target_years",
        "lines[].has_wip_ramp",
    ),
    "/lines/{line_id}/calendar": (
        "days[].working_day",
        "days[].calendar_version",
        "days[].shifts",
        "days[].planned_minutes",
        "days[].target",
    ),
    "/dashboard/data": ("staffing.required", "staffing.coverage", "bottleneck.takt_seconds", "bottleneck.reason"),
}

# Views asked as of a date with `as_of=` rather than an instant with `at=`.
AS_OF_VIEWS = frozenset({"/people/recall"})

_TERMS = {t.key: t.text for s in (COMMON, *SECTIONS) for t in s.terms}
assert len(_TERMS) == sum(len(s.terms) for s in (COMMON, *SECTIONS)), "a definition key is used twice"


def define(*keys: str) -> str:
    """The definitions of these figures, for a response field's description."""
    return " ".join(_TERMS[k] for k in keys)


def planned_sentence(path: str) -> str:
    figures = PLANNED_NOW[path]
    asked = "as_of" if path in AS_OF_VIEWS else "at"
    if not figures:
        return f"Every figure of this view is as of `{asked}`: none is read from a plan (`as_planned_now` is empty)."
    return (
        f"Read as planned now, not as of `{asked}` (listed in `as_planned_now` when `{asked}` is given): "
        + ", ".join(f"`{f}`" for f in figures)
        + "."
    )


def view_description(path: str) -> str:
    """A view's OpenAPI description: the definitions of its section, then which figures are read as planned now."""
    section = next(s for s in SECTIONS if path in s.paths or any(path.startswith(p + "/") for p in s.paths))
    lines = [f"- {t.text}" for t in section.terms]
    if path in PLANNED_NOW:
        lines += ["", planned_sentence(path)]
    return "\n".join(lines)


def common_description() -> str:
    """The common rules, for the OpenAPI document's description."""
    return "\n".join(f"- {t.text}" for t in COMMON.terms)


# ---- the README section -----------------------------------------------------------------------------

BEGIN = "<!-- BEGIN definitions: generated from src/reporting/api/definitions.py by ./mes docs; edit there -->"
END = "<!-- END definitions -->"
WIDTH = 110
# A wrapped line must not start with what Markdown reads as a list item, a quote, a heading or a table row.
_RISKY = re.compile(r"^([-+*>#|]|\d+[.)])$")


def _wrap(text: str, first: str, rest: str) -> list[str]:
    lines: list[str] = []
    prefix, words = first, []
    for word in text.split(" "):
        if words and len(prefix + " ".join([*words, word])) > WIDTH:
            carried = [word]
            while _RISKY.match(carried[0]) and len(words) > 1:
                carried.insert(0, words.pop())
            lines.append(prefix + " ".join(words))
            prefix, words = rest, carried
        else:
            words.append(word)
    return [*lines, prefix + " ".join(words)]


def _planned_bullet(section: Section) -> list[str]:
    views = [p for p in PLANNED_NOW if any(p == q or p.startswith(q + "/") for q in section.paths)]
    listed = [f"`{p}`: " + (", ".join(f"`{f}`" for f in PLANNED_NOW[p]) or "none") for p in views]
    if not listed:
        return []
    head = "**Read as planned now** (named in `as_planned_now` when `at=`, or `/people/recall`'s `as_of=`, is given): "
    return _wrap(head + "; ".join(listed) + ".", "- ", "  ")


def render_markdown() -> str:
    out = [INTRO, ""]
    for section in (COMMON, *SECTIONS):
        paths = ", ".join(f"`{p}`" for p in section.paths)
        out += [f"### {section.title}" + (f" ({paths})" if paths else ""), ""]
        for term in section.terms:
            out += _wrap(term.text, "- ", "  ")
        out += _planned_bullet(section)
        out.append("")
    return "\n".join(out)


def readme_with_definitions(readme: str) -> str:
    """The README with its generated definitions section replaced by the current text of this module."""
    head, found, tail = readme.partition(BEGIN)
    _, ended, rest = tail.partition(END)
    if not found or not ended:
        raise ValueError(f"the README lacks the markers {BEGIN!r} and {END!r}")
    return f"{head}{BEGIN}\n{render_markdown()}{END}{rest}"

"""Workforce: the plant's people, their origin and recall, qualifications, calendars, rosters and clock-in."""

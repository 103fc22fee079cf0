"""Pure reporting domain: calendars, periods, targets, forecasts and KPIs. No I/O."""

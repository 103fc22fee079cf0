"""Thin routes: parse, authorize, hand the command to its handler, map the result."""

from workforce.api.routes import clock, lines, people, qualifications

routers = [people.router, qualifications.router, lines.router, clock.router]

__all__ = ["routers"]

"""The definitions module is the one text of every figure: each view taking `at=` names its plan-read figures,
those names are fields of its answer, and the README rendered from it stays valid Markdown."""

from __future__ import annotations

import re
from typing import Any, get_args

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from reporting.api import definitions, live, routes
from reporting.api.schemas import PlannedNow
from reporting.service.context import planned_now

VIEWS = {
    r.path: r
    for r in (*routes.router.routes, *live.router.routes)
    if isinstance(r, APIRoute) and "GET" in r.methods and r.response_model is not None
}


def takes(route: APIRoute, name: str) -> bool:
    def names(dependant: Any) -> set[str]:
        found = {p.alias for p in dependant.query_params}
        for sub in dependant.dependencies:
            found |= names(sub)
        return found

    return name in names(route.dependant)


def model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if (found := model_of(arg)) is not None:
            return found
    return None


def resolves(model: type[BaseModel], path: str) -> bool:
    """`a.b`, `a[].b` (a field of each item of the list `a`) or `a` name a field of `model`."""
    current: type[BaseModel] | None = model
    for part in path.replace("[]", "").split("."):
        if current is None or part not in current.model_fields:
            return False
        current = model_of(current.model_fields[part].annotation)
    return True


def test_every_view_taking_at_or_as_of_says_which_figures_are_read_as_planned_now() -> None:
    asked = {path for path, r in VIEWS.items() if takes(r, "at") or path in definitions.AS_OF_VIEWS}
    assert asked == set(definitions.PLANNED_NOW)
    for path in asked:
        model = VIEWS[path].response_model
        assert issubclass(model, PlannedNow), path
        for figure in definitions.PLANNED_NOW[path]:
            assert resolves(model, figure), f"{path}: {figure} is not a field of {model.__name__}"


@pytest.mark.parametrize("path", sorted(definitions.PLANNED_NOW))
def test_a_view_lists_its_plan_figures_only_when_asked_as_of_an_instant(path: str) -> None:
    assert planned_now(path, asked=False) == []
    assert planned_now(path, asked=True) == list(definitions.PLANNED_NOW[path])


def test_each_view_description_carries_its_section_and_its_plan_figures() -> None:
    text = definitions.view_description("/wip")
    assert definitions.define("takt") in text
    assert "`takt_seconds`, `ramp`" in text
    assert "none is read from a plan" in definitions.view_description("/quality")


def test_the_readme_section_is_markdown_that_keeps_each_definition_one_bullet() -> None:
    rendered = definitions.render_markdown()
    for line in rendered.splitlines():
        assert len(line) <= definitions.WIDTH or " " not in line.strip(), line
        if line.startswith("  "):
            # A continuation line starting with a list marker, a quote or a heading would break the bullet.
            assert not re.match(r"^\s+([-+*>#|]|\d+[.)])(\s|$)", line), line
    flat = " ".join(rendered.split())
    for section in (definitions.COMMON, *definitions.SECTIONS):
        for term in section.terms:
            assert term.text in flat, term.key


def test_a_readme_without_the_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="markers"):
        definitions.readme_with_definitions("# reporting\n")
    readme = f"# r\n\n{definitions.BEGIN}\nstale words\n{definitions.END}\n\n## Running\n"
    again = definitions.readme_with_definitions(readme)
    assert "stale words" not in again and again.endswith(f"{definitions.END}\n\n## Running\n")
    assert definitions.readme_with_definitions(again) == again

"""The OpenAPI document tells the truth: bearer security with the allowed roles, problems under problem+json."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel

from mes_shared.auth import Principal, Role, require
from mes_shared.openapi import document_contract
from mes_shared.problems import PROBLEM_MEDIA_TYPE, PROBLEM_RESPONSES

PROBLEM = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}


class Note(BaseModel):
    text: str


def documented() -> dict[str, Any]:
    router = APIRouter(prefix="/notes", dependencies=[Depends(require(Role.SUPERVISOR, Role.PLANNER))])

    @router.post("", status_code=201, responses=PROBLEM_RESPONSES)
    async def write(note: Note, _: Annotated[Principal, Depends(require(Role.SUPERVISOR))]) -> Note:
        return note

    @router.get("/{number}")
    async def read(number: int) -> Note:
        return Note(text=str(number))

    app = FastAPI()

    @app.get("/public")
    async def public(page: int = 1) -> dict[str, int]:
        return {"page": page}

    app.include_router(router)
    document_contract(app)
    return app.openapi()


def test_guarded_operations_carry_the_bearer_scheme_with_the_roles_every_gate_allows() -> None:
    schema = documented()

    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schema["components"]["securitySchemes"]["bearer"]["description"],
    }
    # Router gate (supervisor, planner) and route gate (supervisor): only what passes both; admin always.
    assert schema["paths"]["/notes"]["post"]["security"] == [{"bearer": ["admin", "supervisor"]}]
    assert schema["paths"]["/notes/{number}"]["get"]["security"] == [{"bearer": ["admin", "planner", "supervisor"]}]
    assert "security" not in schema["paths"]["/public"]["get"]


def test_every_error_is_a_problem_under_problem_json_and_the_possible_ones_are_documented() -> None:
    schema = documented()
    write = schema["paths"]["/notes"]["post"]["responses"]
    read = schema["paths"]["/notes/{number}"]["get"]["responses"]
    public = schema["paths"]["/public"]["get"]["responses"]

    for responses in (write, read, public):
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert response["content"] == PROBLEM, status
    assert {"401", "403", "413", "422", "503"} <= write.keys()
    assert write["503"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert {"401", "403", "422", "503"} <= read.keys() and "413" not in read  # no body, no size limit
    assert public.keys() == {"200", "422"}  # no token: no 401 or 403
    assert public["422"]["description"] == "Invalid input"
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "ProblemDetails" in schema["components"]["schemas"]

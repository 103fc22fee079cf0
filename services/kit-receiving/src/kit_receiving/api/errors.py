"""Maps domain errors to problem+json: the rule code travels with the message."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kit_receiving.domain import Conflict, DomainError, InvalidInput, NotFound, ReleaseBlocked
from mes_shared.problems import problem_response


def _status(exc: DomainError) -> tuple[int, str]:
    if isinstance(exc, NotFound):
        return 404, "Not found"
    if isinstance(exc, Conflict):
        return 409, "Refused by a rule"
    assert isinstance(exc, InvalidInput | DomainError)
    return 422, "Invalid input"


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status, title = _status(exc)
    extra = {"open_discrepancies": list(exc.open_discrepancy_ids)} if isinstance(exc, ReleaseBlocked) else {}
    return problem_response(
        status, title, exc.message, type_=f"/problems/{exc.rule}", instance=request.url.path, rule=exc.rule, **extra
    )


def install_domain_errors(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)

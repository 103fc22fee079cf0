"""Maps domain errors (and a refused CSV file) to problem+json: the rule code travels with the message."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from mes_shared.problems import problem_response
from workforce.domain import Conflict, DomainError, NotFound
from workforce.service.importing import CsvFileError

_TITLES = {400: "Malformed file", 413: "Content too large", 422: "Invalid input"}


def _status(exc: DomainError) -> tuple[int, str]:
    if isinstance(exc, NotFound):
        return 404, "Not found"
    if isinstance(exc, Conflict):
        return 409, "Refused by a rule"
    return 422, "Invalid input"


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status, title = _status(exc)
    return problem_response(
        status,
        title,
        exc.message,
        type_=f"/problems/{exc.rule}",
        instance=request.url.path,
        rule=exc.rule,
        **exc.details,
    )


async def _on_csv_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CsvFileError)
    return problem_response(
        exc.status,
        _TITLES.get(exc.status, "Invalid input"),
        exc.message,
        type_=f"/problems/{exc.rule}",
        instance=request.url.path,
        rule=exc.rule,
    )


def install_domain_errors(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(CsvFileError, _on_csv_error)

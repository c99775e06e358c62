"""RFC 9457 problem bodies: every error leaves the API as ``{type, title, status, detail}``.

Typed errors from ``core`` are mapped here once; request validation errors become
422 problems; nothing a client sends can produce a bare 500.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from croupier.core import errors

PROBLEM_MEDIA_TYPE = "application/problem+json"

STATUS_BY_ERROR: list[tuple[type[errors.CroupierError], int]] = [
    (errors.IdempotencyConflict, 409),
    (errors.InsufficientFunds, 409),
    (errors.Conflict, 409),
    (errors.NotFound, 404),
    (errors.InvalidInput, 422),
    (errors.Unauthenticated, 401),
    (errors.PermissionDenied, 403),
    (errors.RateLimited, 429),
    (errors.ServiceUnavailable, 503),
    (errors.ConfigurationError, 500),
]


# Problem types for errors Starlette raises itself (routing, methods).
HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "content_too_large",
    415: "unsupported_media_type",
}


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str


def problem_response(status: int, code: str, title: str, detail: str) -> JSONResponse:
    body = Problem(type=f"/problems/{code}", title=title, status=status, detail=detail)
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def status_for(error: errors.CroupierError) -> int:
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return 400


def _title(code: str) -> str:
    return code.replace("_", " ").capitalize()


def problem_for(error: errors.CroupierError) -> Problem:
    """The problem body of a typed error; idempotent replays store and return exactly this."""
    status = status_for(error)
    return Problem(
        type=f"/problems/{error.code}", title=_title(error.code), status=status, detail=str(error)
    )


def _problem_headers(error: errors.CroupierError) -> dict[str, str]:
    """Headers RFC 9110 asks for: how to authenticate (401) and when to retry (429)."""
    if isinstance(error, errors.Unauthenticated):
        return {"WWW-Authenticate": 'Bearer realm="croupier"'}
    if isinstance(error, errors.RateLimited):
        return {"Retry-After": str(error.retry_after_s)}
    return {}


async def _croupier_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, errors.CroupierError)
    problem = problem_for(error)
    return JSONResponse(
        problem.model_dump(),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=_problem_headers(error),
    )


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem.get("loc", ()))
        details.append(f"{where}: {problem.get('msg', 'invalid')}")
    return problem_response(422, "validation_error", "Validation error", "; ".join(details))


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = HTTP_CODES.get(error.status_code, f"http_{error.status_code}")
    response = problem_response(error.status_code, code, str(error.detail), str(error.detail))
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.CroupierError, _croupier_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)

"""Parsing a submission: JSON, or multipart with a ``data`` JSON part and document files (the parsed
form, ``Parsed``, is what the services take: services.dossier.filing)."""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from services.core.errors import Unprocessable
from services.dossier.documents import Upload
from services.dossier.files import MAX_FILE_BYTES, MAX_FILES
from services.dossier.filing import Parsed

Model = TypeVar("Model", bound=BaseModel)


def _validate(model: type[Model], raw: Any, prefix: str) -> Model:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": (prefix, *error["loc"])} for error in exc.errors(include_input=False)]
        ) from exc


async def parse(request: Request, model: type[Model], *, allow_files: bool = True) -> Parsed[Model]:
    content_type = request.headers.get("content-type", "")
    uploads: list[Upload] = []
    if content_type.startswith("multipart/form-data"):
        if not allow_files:
            raise Unprocessable("Send this request as JSON.", code="json_required")
        form = await request.form(max_files=MAX_FILES + 1, max_part_size=MAX_FILE_BYTES + 1)
        raw_data = form.get("data")
        if not isinstance(raw_data, str):
            raise Unprocessable(
                "A multipart submission needs a 'data' part with the JSON body.", code="data_part_missing"
            )
        try:
            raw = json.loads(raw_data)
        except (ValueError, RecursionError) as exc:  # not JSON, or nested deeper than the parser goes
            raise RequestValidationError(
                [{"loc": ("body", "data"), "msg": "the data part is not valid JSON", "type": "json_invalid"}]
            ) from exc
        for field, value in form.multi_items():
            if isinstance(value, UploadFile):
                uploads.append(Upload(field=field, filename=value.filename or field, content=await value.read()))
        if len(uploads) > MAX_FILES:
            raise Unprocessable(f"At most {MAX_FILES} documents per request.", code="too_many_files")
        data = _validate(model, raw, "body")
    else:
        try:
            raw = await request.json()
        except (ValueError, RecursionError) as exc:  # not UTF-8 JSON, or nested deeper than the parser goes
            raise RequestValidationError(
                [{"loc": ("body",), "msg": "the body is not valid JSON", "type": "json_invalid"}]
            ) from exc
        data = _validate(model, raw, "body")
    source = {
        "data": data.model_dump(mode="json"),
        "files": [[u.field, u.filename, hashlib.sha256(u.content).hexdigest()] for u in uploads],
    }
    return Parsed(data=data, uploads=uploads, fingerprint_source=source)

"""Validators shared by the services' schemas: Vietnamese identifiers, and the strict base of input models."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

_PHONE = re.compile(r"^(?:\+?84|0)(3|5|7|8|9)\d{8}$")
_CCCD = re.compile(r"^\d{12}$")
_TAX_CODE = re.compile(r"^\d{10}(?:-\d{3})?$")


def normalise_vn_phone(value: str) -> str:
    """A Vietnamese mobile number in the national form 0xxxxxxxxx; raises ValueError otherwise."""
    compact = re.sub(r"[\s.-]", "", value)
    match = _PHONE.match(compact)
    if not match:
        raise ValueError("not a Vietnamese mobile number (10 digits starting 03, 05, 07, 08 or 09)")
    return "0" + compact[-9:]


def check_id_number(value: str) -> str:
    """A 12-digit CCCD (citizen) or a 10/13-digit tax code (business); raises ValueError otherwise."""
    compact = value.strip()
    if _CCCD.match(compact) or _TAX_CODE.match(compact):
        return compact
    raise ValueError("not a 12-digit CCCD number or a tax code")


class StrictModel(BaseModel):
    """The base of every request body: unknown fields are refused (422), never silently dropped.

    Fields whose meaning a lax coercion would change are declared strict on top of this: numbers and
    booleans with ``Field(strict=True)`` (no "1" for 1, no 1 for true), dates and times with
    :data:`IsoDate`, :data:`IsoDateTime`, :data:`AwareIsoDateTime`, :data:`WallTime` (an ISO 8601
    string, never a number of seconds since 1970). FastAPI validates parsed JSON in Python mode,
    where pydantic's model-wide ``strict=True`` would also refuse strings for UUIDs and enums.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: object) -> object:
        # PostgreSQL text cannot hold U+0000: refuse it here (422) rather than fail in the database
        if _has_nul(data):
            raise PydanticCustomError("nul_character", "text must not contain the NUL character (U+0000)")
        return data


def _has_nul(value: object) -> bool:
    pending = [value]  # a walk without recursion: parsed JSON may nest as deep as the parser allows
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def _from_iso(kind: type[date] | type[datetime]) -> Callable[[object], object]:
    name = {date: "date (YYYY-MM-DD)", datetime: "date-time"}[kind]

    def parse(value: object) -> object:
        if isinstance(value, str):
            try:
                return kind.fromisoformat(value)
            except ValueError:
                raise PydanticCustomError("iso_format", "not an ISO 8601 {name}", {"name": name}) from None
        if type(value) is kind:  # already parsed (a datetime is a date too: refused where a date is meant)
            return value
        raise PydanticCustomError("iso_string", "an ISO 8601 {name} string is required", {"name": name})

    return parse


IsoDate = Annotated[date, BeforeValidator(_from_iso(date))]
IsoDateTime = Annotated[datetime, BeforeValidator(_from_iso(datetime))]
AwareIsoDateTime = Annotated[AwareDatetime, BeforeValidator(_from_iso(datetime))]


_WALL_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")


def _wall_time(value: object) -> object:
    if isinstance(value, str) and _WALL_TIME.match(value):
        return time.fromisoformat(value)
    if type(value) is time and value.tzinfo is None:
        return value
    raise PydanticCustomError("wall_time", "a local time HH:MM or HH:MM:SS is required")


# A wall-clock time of day in Vietnam (an agency's counter cut-off), in and out as "HH:MM:SS": not
# OpenAPI's ``format: time``, which is RFC 3339's and needs an offset.
WallTime = Annotated[
    time,
    BeforeValidator(_wall_time),
    PlainSerializer(lambda value: value.strftime("%H:%M:%S"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "examples": ["15:00:00"]}),
]

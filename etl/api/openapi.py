"""The OpenAPI 3 description of the ingest API, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from etl.live.cases import EVENT_FIELDS
from geo.models import CASE_EVENT_STAGES


def _answer() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["accepted", "duplicates", "rejected"],
        "properties": {
            "accepted": {"type": "integer", "description": "items stored (fixes folded into a stop included)"},
            "duplicates": {"type": "integer", "description": "items already stored (a re-sent batch)"},
            "rejected": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"index": {"type": "integer"}, "reason": {"type": "string"}},
                },
            },
        },
    }


def _errors() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object"}},
        },
    }


FIX = {
    "type": "object",
    "required": ["device", "time", "lon", "lat"],
    "properties": {
        "device": {
            "type": "string",
            "maxLength": 64,
            "description": (
                "device id: a registered vendor id (IMEI, body-camera serial; case-insensitive, mapped to the officer "
                "or vehicle holding it at 'time'), else an officer code or a vehicle plate; an unknown device is "
                "rejected (未登记的设备)"
            ),
        },
        "time": {"type": "string", "format": "date-time", "description": "ISO 8601 with UTC offset"},
        "lon": {"type": "number"},
        "lat": {"type": "number"},
        "crs": {"type": "string", "enum": ["wgs84", "gcj02", "cgcs2000"], "default": "wgs84"},
        "speed": {"type": "number", "description": "m/s"},
        "heading": {"type": "number", "description": "degrees clockwise from north"},
        "kind": {
            "type": "string",
            "enum": ["patrol", "sanitation"],
            "default": "patrol",
            "description": "ignored for a registered device (the registry names its kind)",
        },
    },
}
EVENT = {
    "type": "object",
    "required": ["case_number", "stage", "time"],
    "properties": {
        "case_number": {"type": "string"},
        "stage": {"type": "string", "enum": list(CASE_EVENT_STAGES)},
        "time": {"type": "string", "format": "date-time"},
        **{name: {"type": "string"} for name in sorted(EVENT_FIELDS - {"case_number"})},
    },
}


def _post(summary: str, key: str, item: dict[str, Any], csv: bool) -> dict[str, Any]:
    content: dict[str, Any] = {
        "application/json": {
            "schema": {"type": "object", "required": [key], "properties": {key: {"type": "array", "items": item}}}
        }
    }
    if csv:
        content["text/csv"] = {"schema": {"type": "string", "description": "header line with the item fields"}}
    error = {"content": {"application/json": {"schema": _errors()}}}
    return {
        "summary": summary,
        "security": [{"bearer": []}],
        "requestBody": {"required": True, "content": content},
        "responses": {
            "200": {"description": "batch processed", "content": {"application/json": {"schema": _answer()}}},
            "400": {"description": "malformed body (errors per item where known)", **error},
            "401": {"description": "missing, unknown, expired or revoked token", **error},
            "403": {"description": "the token may not send this kind", **error},
            "413": {"description": "body or batch too large", **error},
            "429": {"description": "too many requests: wait Retry-After seconds", **error},
            "500": {"description": "the database refused the batch: nothing stored, a retry will not help", **error},
            "503": {"description": "database unreachable: retry later (the batch is idempotent)", **error},
        },
    }


def openapi() -> dict[str, Any]:
    """The description as a JSON-able dict."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "执法地图 ingest API", "version": "1"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/api/v1/gps": {"post": _post("GPS fixes of devices", "fixes", FIX, csv=True)},
            "/api/v1/cases": {
                "post": _post("case events (received, dispatched, arrived, closed)", "events", EVENT, csv=True)
            },
        },
    }

"""The OpenAPI 3.1 description of the read-only API, served at /api/openapi.json."""

from __future__ import annotations

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
NULLABLE_NUMBER = {"type": ["number", "null"]}
OUTCOMES = ("invited", "sent", "opened", "started", "completed", "failed", "bounced", "opted_out", "not_sent")
#: AAPOR Standard Definitions (sampling/outcomes.py): RR1, RR2 and COOP1 as shares; null when undefined
RATES = ("rr1", "rr2", "coop1")
SHARE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
COUNT = {"type": "integer", "minimum": 0}
OUTCOME_COUNTS = {"type": "object", "required": [*OUTCOMES, *RATES],
                  "properties": {**dict.fromkeys(OUTCOMES, COUNT), **dict.fromkeys(RATES, SHARE)}}  # fmt: skip
KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}, "description": "Mã đợt khảo sát"}


def _errors(*codes: int) -> dict:
    names = {401: "Thiếu hoặc sai mã truy cập", 404: "Không có đợt khảo sát này", 409: "Đợt chưa có quy tắc tính điểm"}
    return {str(c): {"description": names[c], "content": {"application/json": {"schema": ERROR}}} for c in codes}


SPEC = {
    "openapi": "3.1.0",
    "info": {
        "title": "Khảo sát CCHC: API chỉ đọc",
        "version": "1.0.0",
        "description": "Đợt khảo sát, tiến độ theo đơn vị × nhóm và điểm theo đơn vị × tiêu chí. "
        "Gửi mã truy cập trong tiêu đề Authorization: Bearer <mã> (tạo bằng lệnh surveyapp api-token).",
    },
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/api/campaigns": {
            "get": {
                "summary": "Các đợt khảo sát",
                "operationId": "listCampaigns",
                "responses": {
                    "200": {
                        "description": "Danh sách đợt",
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["campaigns"],
                            "properties": {"campaigns": {"type": "array", "items": {
                                "type": "object",
                                "required": ["key", "year", "name", "status", "scope_unit", "starts_on", "ends_on"],
                                "properties": {
                                    "key": {"type": "string"}, "year": {"type": "integer"}, "name": {"type": "string"},
                                    "status": {"type": "string", "enum": ["draft", "open", "closed"]},
                                    "scope_unit": {"type": "object", "required": ["code", "name"], "properties": {
                                        "code": {"type": "string"}, "name": {"type": "string"}}},
                                    "starts_on": {"type": ["string", "null"], "format": "date"},
                                    "ends_on": {"type": ["string", "null"], "format": "date"},
                                },
                            }}},
                        }}},
                    },
                    **_errors(401),
                },
            }
        },
        "/api/campaigns/{key}/progress": {
            "get": {
                "summary": "Tiến độ theo đơn vị × nhóm",
                "operationId": "getProgress",
                "parameters": [KEY],
                "responses": {
                    "200": {
                        "description": "Chỉ tiêu, số phiếu đã nhận và hợp lệ",
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["campaign", "cells"],
                            "properties": {"campaign": {"type": "string"}, "cells": {"type": "array", "items": {
                                "type": "object",
                                "required": ["unit_code", "unit_name", "group_code", "target", "received", "valid"],
                                "properties": {
                                    "unit_code": {"type": "string"}, "unit_name": {"type": "string"},
                                    "group_code": {"type": "string"}, "target": {"type": "integer", "minimum": 0},
                                    "received": {"type": "integer", "minimum": 0},
                                    "valid": {"type": "integer", "minimum": 0},
                                },
                            }}},
                        }}},
                    },
                    **_errors(401, 404),
                },
            }
        },
        "/api/campaigns/{key}/scores": {
            "get": {
                "summary": "Điểm theo đơn vị × tiêu chí",
                "operationId": "getScores",
                "parameters": [KEY],
                "responses": {
                    "200": {
                        "description": "Điểm, khoảng tin cậy 95% và hạng",
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["campaign", "rules", "component_total", "units"],
                            "properties": {
                                "campaign": {"type": "string"}, "rules": {"type": "string"},
                                "component_total": {"type": "number"},
                                "units": {"type": "array", "items": {
                                    "type": "object",
                                    "required": ["unit_code", "unit_name", "total", "rank", "insufficient_sample", "criteria"],  # noqa: E501
                                    "properties": {
                                        "unit_code": {"type": "string"}, "unit_name": {"type": "string"},
                                        "total": NULLABLE_NUMBER, "rank": {"type": ["integer", "null"]},
                                        "rank_range": {"type": ["array", "null"], "items": {"type": "integer"},
                                                       "minItems": 2, "maxItems": 2},
                                        "insufficient_sample": {"type": "boolean"},
                                        # present when the rules weight (issue 20, part 2)
                                        "weighted": {"type": ["object", "null"], "properties": {
                                            "total": NULLABLE_NUMBER, "rank": {"type": ["integer", "null"]},
                                            "respondents": {"type": "integer", "minimum": 0},
                                            "effective_n": {"type": "number", "minimum": 0},
                                            "notes": {"type": "array", "items": {"type": "string"}},
                                            "criteria": {"type": "array", "items": {
                                                "type": "object", "required": ["code", "points", "value"],
                                                "properties": {"code": {"type": "string"}, "points": NULLABLE_NUMBER,
                                                               "value": NULLABLE_NUMBER},
                                            }},
                                        }},
                                        "criteria": {"type": "array", "items": {
                                            "type": "object",
                                            "required": ["code", "points", "n", "value", "low", "high", "flags",
                                                         "respondents", "design_effect"],
                                            "properties": {
                                                "code": {"type": "string"}, "points": NULLABLE_NUMBER,
                                                "n": {"type": "integer", "minimum": 0}, "value": NULLABLE_NUMBER,
                                                "low": NULLABLE_NUMBER, "high": NULLABLE_NUMBER,
                                                "flags": {"type": "array", "items": {"type": "string"}},
                                                "respondents": {"type": "integer", "minimum": 0},
                                                "design_effect": NULLABLE_NUMBER,
                                            },
                                        }},
                                    },
                                }},
                            },
                        }}},
                    },
                    **_errors(401, 404, 409),
                },
            }
        },
        "/api/campaigns/{key}/invitations": {
            "get": {
                "summary": "Kết quả mời theo nhóm mời cá nhân × đơn vị",
                "operationId": "getInvitationOutcomes",
                "parameters": [KEY],
                "responses": {
                    "200": {
                        "description": "Số người được mời, đã nhận thư, đã mở, đang trả lời, đã trả lời … (chỉ số đếm)",
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["campaign", "groups"],
                            "properties": {"campaign": {"type": "string"}, "groups": {"type": "array", "items": {
                                "type": "object", "required": ["group_code", "group_name", "outcomes", "units"],
                                "properties": {
                                    "group_code": {"type": "string"}, "group_name": {"type": "string"},
                                    "outcomes": OUTCOME_COUNTS,
                                    "units": {"type": "array", "items": {
                                        "allOf": [OUTCOME_COUNTS, {"type": "object",
                                                  "required": ["unit_code", "unit_name"],
                                                  "properties": {"unit_code": {"type": "string"},
                                                                 "unit_name": {"type": "string"}}}],
                                    }},
                                },
                            }}},
                        }}},
                    },
                    **_errors(401, 404),
                },
            }
        },
    },
}  # fmt: skip

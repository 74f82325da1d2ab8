"""Every documented API route answers as its OpenAPI document says (schemathesis)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from surveyapp.campaigns.services import campaign_by_key
from surveyapp.demo.fake import fill


def test_every_route_answers_as_documented(app, demo, dbs, runner):
    fill(dbs, campaign_by_key(dbs, demo.campaign_key), share=0.3, seed=3)
    dbs.commit()
    token = runner.invoke(args=["api-token", "schemathesis"]).output.strip().split("\t")[2]
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def generated(case):
            case.call_and_validate(headers=headers)

        generated()
        # and the demo campaign itself, which random keys will not hit
        case = operation.Case(path_parameters={"key": demo.campaign_key} if "{key}" in operation.path else None)
        response = case.call_and_validate(headers=headers)
        assert response.status_code == 200
        checked.append(operation.path)
        unauthorised = operation.Case(path_parameters=case.path_parameters).call()
        assert unauthorised.status_code == 401
    assert sorted(checked) == [
        "/api/campaigns",
        "/api/campaigns/{key}/invitations",
        "/api/campaigns/{key}/progress",
        "/api/campaigns/{key}/scores",
    ]

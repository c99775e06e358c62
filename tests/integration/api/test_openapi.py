"""/docs documents auth: request examples, and which operations need which bearer roles."""

from __future__ import annotations

from tests.integration.api.conftest import Api


async def test_request_models_carry_examples_and_protected_routes_their_roles(api: Api) -> None:
    docs = await api.client.get("/docs")
    schema = (await api.client.get("/openapi.json")).json()

    assert docs.status_code == 200
    models = schema["components"]["schemas"]
    for model in ("RegisterRequest", "LoginRequest", "RefreshRequest", "TotpConfirmRequest"):
        assert models[model]["examples"], model
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    paths = schema["paths"]
    admin_route = paths["/admin/users/{user_id}/role"]["put"]
    assert admin_route["security"] == [{"bearer": []}]
    assert admin_route["x-access"] == "roles: admin; staff need a TOTP session"
    assert "security" in paths["/me"]["get"]
    assert "security" not in paths["/auth/login"]["post"]
    assert set(paths["/auth/login"]["post"]["responses"]) >= {"200", "401", "422", "429"}

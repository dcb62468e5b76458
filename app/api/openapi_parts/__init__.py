"""The OpenAPI description of each area of the API besides the core (app/api/openapi.py)."""

from tests.app.conftest import pg_world, world  # noqa: F401  (the World with its coefficients)

from bankkit import app, bank, bank_factory  # noqa: F401  (fixtures)

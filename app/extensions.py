"""Flask extensions, created once and bound in the application factory."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names, so migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _session_scope():
    """Key the scoped session by the application context itself, not by its id(): a
    context's id can be reused by a later one, which must never find an old session."""
    from flask.globals import app_ctx

    return app_ctx._get_current_object()


db = SQLAlchemy(model_class=Base, session_options={"scopefunc": _session_scope})

#: How long a SQLite transaction waits for another one's write lock, in seconds.
SQLITE_BUSY_TIMEOUT = 15


def sqlite_write_lock_at_begin(engine) -> None:
    """On SQLite, make every write transaction take the write lock when it begins.

    SQLite's default (deferred) transaction takes the write lock only at its first write, so
    two requests could both read a payment as unpaid, then both act on what they read: one of
    them fails or pays twice. Here the driver's own transaction handling is turned off
    (SQLAlchemy's documented pysqlite recipe) and ``BEGIN IMMEDIATE`` is emitted instead, right
    before the first statement that writes or reads to lock (``SELECT ... FOR UPDATE``, which
    SQLite does not know): from there on the transaction holds the database's write lock, so
    writers are serialised as the row locks serialise them on PostgreSQL, and a locking read
    sees the last committed state. Reads before that run each on their own, as they did with
    the driver's default, so a reader never holds a lock another connection waits for.
    Other databases are left alone."""
    from sqlalchemy import event

    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # no implicit BEGIN from the driver
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT * 1000}")
        cursor.close()

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_immediate(conn, cursor, statement, parameters, context, executemany):
        if conn.connection.dbapi_connection.in_transaction or not _takes_write_lock(statement, context):
            return
        if conn.in_transaction():  # only inside a transaction SQLAlchemy will commit
            cursor.execute("BEGIN IMMEDIATE")


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _takes_write_lock(statement: str, context) -> bool:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        return True
    compiled = getattr(context, "compiled", None)
    if getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is not None:
        return True
    return statement.lstrip().upper().startswith(_WRITES)


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()

"""All models, imported here so Alembic and the app see one metadata."""

from app.models.annual import AnnualTaxNotice, AnnualTaxRun
from app.models.archive import *  # noqa: F403
from app.models.clocks import *  # noqa: F403
from app.models.decisions import *  # noqa: F403
from app.models.history import *  # noqa: F403
from app.models.idempotency import IdempotencyKey
from app.models.keys import *  # noqa: F403
from app.models.money import *  # noqa: F403
from app.models.notify import *  # noqa: F403
from app.models.payment import BankNotification, PaymentOrder, Receipt
from app.models.people import (
    ApiToken,
    LoginThrottle,
    Office,
    OfficeKind,
    Party,
    Role,
    User,
    UserSession,
)
from app.models.public_pay import *  # noqa: F403
from app.models.refunds import *  # noqa: F403
from app.models.registry import (
    CLOSED_STATUSES,
    TAX_PAYER_CLAUSES,
    Dossier,
    DossierParty,
    DossierStatus,
    Event,
    Holding,
    OutboxMessage,
    Parcel,
    PartyRole,
)
from app.models.tax import (
    Assessment,
    AssessmentLine,
    AssessmentStatus,
    DataTable,
    Notice,
    NoticeLine,
    NoticeStatus,
    PriceEntry,
    PriceTableVersion,
)

__all__ = [
    "ApiToken", "Assessment", "AssessmentLine", "AssessmentStatus", "BankNotification", "DataTable", "LoginThrottle",
    "Dossier", "DossierStatus", "Event", "Notice", "NoticeLine", "NoticeStatus", "Office",
    "OfficeKind", "OutboxMessage", "Parcel", "Party", "PaymentOrder", "PriceEntry",
    "PriceTableVersion", "Receipt", "Role", "User",
    "AnnualTaxNotice", "AnnualTaxRun", "CLOSED_STATUSES", "Holding",
    "IdempotencyKey", "UserSession",
    "DossierParty", "PartyRole", "TAX_PAYER_CLAUSES",
]

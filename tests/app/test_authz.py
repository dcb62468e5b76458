"""Every route refuses a user of the wrong role, or the wrong owner or office.

The table lists each route with the roles that may use it. A test checks the table
covers every route the app has, so a new route cannot be added without a rule here.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.app.bank import notification
from tests.conftest import PASSWORD, csrf_token, login

PUBLIC = "public"
ANY = "any-logged-in"

# rule -> (method, allowed usernames or PUBLIC/ANY)
PAGES = {
    "/": ("GET", PUBLIC),
    "/healthz": ("GET", PUBLIC),
    "/.well-known/jwks.json": ("GET", PUBLIC),
    "/verify": ("GET", PUBLIC),
    "/login": ("GET", PUBLIC),
    "/logout": ("POST", ANY),
    "/language/<lang>": ("POST", PUBLIC),
    "/static/<path:filename>": ("GET", PUBLIC),
    "/registry/": ("GET", {"registry", "registry2", "admin"}),
    "/registry/dossiers/new": ("GET", {"registry", "registry2"}),
    "/registry/dossiers/<code>": ("GET", {"registry", "admin"}),
    "/registry/dossiers/<code>/complete": ("POST", {"registry"}),
    "/tax/": ("GET", {"tax", "tax2", "admin"}),
    "/tax/assessments/<int:assessment_id>": ("GET", {"tax", "admin"}),
    "/tax/assessments/<int:assessment_id>/confirm": ("POST", {"tax"}),
    "/tax/calculator": ("GET", {"tax", "tax2", "registry", "registry2", "admin"}),
    "/me/": ("GET", {"an", "binh", "cuong"}),
    "/me/notices/<code>": ("GET", {"binh"}),
    "/me/notices/<code>/pay": ("POST", {"binh"}),
    "/me/notices/<code>/vietqr.png": ("GET", {"binh"}),
    "/me/notices/<code>/vietqr.svg": ("GET", {"binh"}),
    "/me/notices/<code>.pdf": ("GET", {"binh"}),
    "/me/bank-return": ("GET", {"an", "binh", "cuong"}),
    "/me/payments/<ref>": ("GET", {"binh"}),
    "/me/receipts/<number>": ("GET", {"binh"}),
    "/me/receipts/<number>/qr.png": ("GET", {"binh"}),
    "/me/receipts/<number>.jws": ("GET", {"binh"}),
    "/me/receipts/<number>.pdf": ("GET", {"binh"}),
    "/bank/notify": ("POST", PUBLIC),  # signed by the bank instead
    "/pay/": ("GET", PUBLIC),
    "/pay/start": ("POST", PUBLIC),
    "/pay/payments/<token>": ("GET", PUBLIC),  # by the payment's signed reference
    "/pay/payments/<token>/receipt": ("GET", PUBLIC),
    "/me/contact": ("GET", {"an", "binh", "cuong"}),
    "/.well-known/landpay-history.json": ("GET", PUBLIC),
    "/help/": ("GET", PUBLIC),
    "/help/<topic>": ("GET", PUBLIC),
    "/accounting/": ("GET", {"accountant", "admin"}),
    "/accounting/items/<int:item_id>": ("GET", {"accountant", "admin"}),
    "/accounting/items/<int:item_id>/resolve": ("POST", {"accountant", "admin"}),
    "/bank/credits": ("POST", PUBLIC),  # signed by the bank instead
    "/supervision/": ("GET", {"supervisor", "admin"}),
    "/decisions/dossiers/<code>": ("GET", {"an", "binh"}),
    "/decisions/dossiers/<code>/reject": ("POST", {"registry"}),
    "/decisions/dossiers/<code>/return": ("POST", {"registry"}),
    "/decisions/dossiers/<code>/papers": ("POST", {"registry", "an", "binh"}),
    "/decisions/dossiers/<code>/withdraw": ("POST", {"an", "binh"}),
    "/decisions/assessments/<int:assessment_id>/adjust": ("POST", {"tax"}),
    "/decisions/adjustments/<int:adjustment_id>/approve": ("POST", {"tax"}),
    "/supervision/late": ("GET", {"supervisor", "admin"}),
    "/supervision/steps.csv": ("GET", {"supervisor", "admin"}),
    "/clocks/<code>": ("GET", {"registry", "tax", "admin", "supervisor"}),
    "/clocks/<code>/late": ("POST", {"registry", "tax"}),
    "/clocks/<code>/apologies": ("GET", {"registry", "tax", "admin", "supervisor", "an", "binh"}),
    "/admin/": ("GET", {"admin"}),
    "/admin/dead-letter/replay": ("POST", {"admin"}),
    "/admin/dead-letter/<event_id>/replay": ("POST", {"admin"}),
}
API = {
    "/api/v1/tokens": ("POST", PUBLIC),
    "/api/v1/tokens/current": ("DELETE", ANY),
    "/api/v1/me": ("GET", ANY),
    "/api/v1/openapi.json": ("GET", PUBLIC),
    "/api/v1/docs": ("GET", PUBLIC),
    "/api/v1/receipts/verify": ("POST", PUBLIC),
    "/api/v1/public/notices/lookup": ("POST", PUBLIC),
    "/api/v1/public/notices/<code>/payments": ("POST", PUBLIC),
    "/api/v1/public/payments/<token>": ("GET", PUBLIC),
    "/api/v1/parcels": ("GET", {"registry", "registry2"}),
    "/api/v1/dossiers": ("GET", ANY),
    "/api/v1/dossiers/<code>": ("GET", {"registry", "tax", "admin", "an", "binh"}),
    "/api/v1/dossiers/<code>/complete": ("POST", {"registry"}),
    "/api/v1/assessments": ("GET", {"tax", "tax2"}),
    "/api/v1/assessments/<int:assessment_id>": ("GET", {"tax"}),
    "/api/v1/assessments/<int:assessment_id>/confirm": ("POST", {"tax"}),
    "/api/v1/tax/assess": ("POST", ANY),
    "/api/v1/notices": ("GET", ANY),
    "/api/v1/notices/<code>": ("GET", {"registry", "tax", "admin", "binh"}),
    "/api/v1/notices/<code>/payments": ("POST", {"binh"}),
    "/api/v1/notices/<code>/vietqr.png": ("GET", {"registry", "tax", "admin", "binh"}),
    "/api/v1/notices/<code>/vietqr.svg": ("GET", {"registry", "tax", "admin", "binh"}),
    "/api/v1/payments/<ref>": ("GET", {"registry", "tax", "admin", "binh"}),
    "/api/v1/receipts/<number>": ("GET", {"registry", "tax", "admin", "binh"}),
    "/api/v1/receipts/<number>.pdf": ("GET", {"registry", "tax", "admin", "binh"}),
    "/api/v1/sync/status": ("GET", {"admin", "supervisor"}),
    "/api/v1/supervision/figures": ("GET", {"admin", "supervisor"}),
    "/api/v1/sync/dead-letter": ("GET", {"admin"}),
    "/api/v1/sync/dead-letter/<event_id>/replay": ("POST", {"admin"}),
    "/api/v1/reconciliation/items": ("GET", {"accountant", "admin"}),
    "/api/v1/reconciliation/items/<int:item_id>/resolve": ("POST", {"accountant", "admin"}),
    "/api/v1/dossiers/<code>/reject": ("POST", {"registry"}),
    "/api/v1/dossiers/<code>/withdraw": ("POST", {"an", "binh"}),
    "/api/v1/dossiers/<code>/return": ("POST", {"registry"}),
    "/api/v1/dossiers/<code>/papers": ("POST", {"registry", "an", "binh"}),
    "/api/v1/assessments/<int:assessment_id>/adjust": ("POST", {"tax"}),
    "/api/v1/adjustments/<int:adjustment_id>/approve": ("POST", {"tax"}),
}
USERS = ["registry", "registry2", "tax", "tax2", "admin", "accountant", "supervisor", "an", "binh", "cuong"]
# Routes whose effect needs a state the shared fixture does not have; for them a permitted user
# may get a 409 (already done) or 422, but never a 401/403/404.
#: Open to anyone holding a payment's signed reference (tests/pay checks them).
SIGNED_REFERENCE = {"/pay/payments/<token>", "/pay/payments/<token>/receipt", "/api/v1/public/payments/<token>"}
ROUTE_PARAM_NAMES = ("code", "assessment_id", "ref", "number", "lang", "filename", "event_id", "topic",
                     "adjustment_id", "item_id")


def norm(rule: str) -> str:
    """A rule with its converter arguments left out: <int(max=...):x> -> <int:x>."""
    return re.sub(r"<(\w+)\([^)]*\):", r"<\1:", rule)


def test_table_covers_every_route(app):
    rules = {norm(r.rule) for r in app.url_map.iter_rules()}
    assert rules == set(PAGES) | set(API)


#: A complete, valid form per HTML POST route, so a refusal is the ownership check's and not a
#: missing field's (the CSRF token is added to each).
FORMS = {
    "/registry/dossiers/<code>/complete": {},
    "/tax/assessments/<int:assessment_id>/confirm": {},
    "/me/notices/<code>/pay": {},
    "/accounting/items/<int:item_id>/resolve": {"action": "accept", "reason": "Explained by the bank."},
    "/decisions/dossiers/<code>/reject": {"legal_ground": "Article 1", "reason": "Not eligible."},
    "/decisions/dossiers/<code>/return": {"missing": "The contract", "reason": "Incomplete."},
    "/decisions/dossiers/<code>/papers": {"note": "Brought at the counter."},
    "/decisions/dossiers/<code>/withdraw": {"reason": "We changed our minds."},
    "/decisions/assessments/<int:assessment_id>/adjust": {"declared_price": "40000000000",
                                                          "reason": "Comparable sales."},
    "/decisions/adjustments/<int:adjustment_id>/approve": {"reason": "Checked."},
    "/clocks/<code>/late": {"reason": "Waiting for a survey.", "new_due_on": "2099-12-31"},
    "/admin/dead-letter/replay": {},
    "/admin/dead-letter/<event_id>/replay": {},
}
#: A valid body per API POST route, for the same reason.
BODIES = {
    "/api/v1/dossiers/<code>/reject": {"legal_ground": "Article 1", "reason": "Not eligible."},
    "/api/v1/dossiers/<code>/withdraw": {"reason": "We changed our minds."},
    "/api/v1/dossiers/<code>/return": {"missing": "The contract", "reason": "Incomplete."},
    "/api/v1/dossiers/<code>/papers": {"note": "Brought at the counter."},
    "/api/v1/assessments/<int:assessment_id>/adjust": {"changes": {"declared_price": 40_000_000_000},
                                                       "reason": "Comparable sales."},
    "/api/v1/adjustments/<int:adjustment_id>/approve": {"reason": "Checked."},
    "/api/v1/reconciliation/items/<int:item_id>/resolve": {"action": "accept", "reason": "Explained."},
}


def _paid_dossier(app, world, **kwargs) -> dict:
    """A dossier paid by 'binh' (the buyer owes its one notice), with its assessment, payment,
    receipt and an adjustment waiting for a second tax officer."""
    from app.extensions import db
    from app.models import Assessment, Dossier, Notice, PaymentOrder, Receipt
    from app.services import decisions

    code, notice_code = world.file_and_confirm(**kwargs)
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        order, _url = _start(app, world.user("binh"), notice)
    assert app.test_client().post("/bank/notify", data=notification(order[0], order[1])).get_json()["RspCode"] == "00"
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        assessment = db.session.scalar(select(Assessment).where(Assessment.dossier_id == dossier.id))
        receipt = db.session.scalar(select(Receipt).where(Receipt.notice_id == notice.id))
        ref = db.session.scalar(select(PaymentOrder.ref).where(PaymentOrder.notice_id == notice.id))
        officer = world.user("tax" if dossier.tax_office_id == world.tax_id else "tax2")
        adjustment_id = decisions.adjust(officer, assessment, changes={"declared_price": 40_000_000_000},
                                         reason="Price below comparable sales").id
        return {"code": code, "notice": notice_code, "assessment_id": assessment.id,
                "number": receipt.number, "ref": ref, "adjustment_id": adjustment_id}


@pytest.fixture
def paid(app, world):
    """A paid dossier of office 1: seller 'an', buyer 'binh' who owes its one notice (the
    contract puts every line on the buyer: the seller sees the dossier, not the buyer's
    notice); 'cuong' is a stranger. ``paid["office2"]``: the same objects in office 2 (its
    registry files on its own parcel, its tax office confirms by itself)."""
    from app.extensions import db
    from app.models import OutboxMessage, ReconciliationItem
    from tests.money.kit import credit, post_credit

    values = _paid_dossier(app, world)
    office2 = _paid_dossier(app, world, parcel=world.parcel2_id)
    with app.app_context():
        event_id = db.session.scalar(select(OutboxMessage.event_uid).limit(1))
    # A transfer naming no notice: an open reconciliation item.
    post_credit(app.test_client(), credit("no notice code", 1_000))
    with app.app_context():
        item_id = db.session.scalar(select(ReconciliationItem.id))
    shared = {"lang": "en", "filename": "style.css", "event_id": event_id, "topic": "paying",
              "item_id": item_id}
    return {**values, **shared, "office2": {**office2, **shared}}


def _start(app, user, notice):
    from app.services import paying

    with app.test_request_context():
        order, url = paying.start_payment(user, notice)
        return (order.ref, order.amount), url


def _url(rule: str, values: dict) -> str:
    if "/notices/" in rule:
        values = {**values, "code": values["notice"]}
    url = rule
    for name in ROUTE_PARAM_NAMES:
        for conv in (f"<int:{name}>", f"<path:{name}>", f"<{name}>"):
            url = url.replace(conv, str(values[name]))
    return url


def _allowed(spec, username):
    if spec == PUBLIC:
        return True
    if spec == ANY:
        return username is not None
    return username in spec


def _form(client, rule: str) -> dict:
    """The route's complete form with a valid CSRF token of the client's session (from a page
    every visitor sees)."""
    return {**FORMS.get(rule, {}), "csrf_token": csrf_token(client, "/help/")}


@pytest.mark.parametrize("username", [None, *USERS])
def test_pages_refuse_wrong_role_or_owner(app, paid, username):
    client = app.test_client()
    if username:
        login(client, username)
    for rule, (method, spec) in PAGES.items():
        if rule in ("/logout", "/bank/notify", "/language/<lang>"):
            continue
        url = _url(rule, paid)
        if rule == "/me/bank-return" or rule in SIGNED_REFERENCE:
            continue  # needs the bank's signed parameters; covered in test_payments
        if method == "POST" and rule not in ("/pay/start", "/bank/credits"):
            # Without its CSRF token a POST is refused with 400 whoever sends it.
            assert client.post(url, data={}).status_code == 400, (rule, username)
        allowed = _allowed(spec, username)
        # A refused user sends the complete form with a valid token: what refuses them is
        # their role or the object's owner, not the CSRF check or a missing field.
        data = _form(client, rule) if method == "POST" and not allowed else {}
        response = client.open(url, method=method, data=data)
        status = response.status_code
        if allowed:
            # A POST without its CSRF token is refused with 400 even for the right user.
            assert status in (200, 302, 303, 400, 409), (rule, username, status)
            if "/vietqr." in rule:
                # The fixture's notice is paid: its owner is told so, not refused.
                assert status == 409, (rule, username, status)
            elif method == "GET" and rule != "/":  # the start page sends users to their portal
                assert status == 200, (rule, username, status)
        elif username is None:
            assert status == 302 and "/login" in response.headers["Location"], (rule, status)
        else:
            assert status in (403, 404), (rule, username, status)


def _token(client, username: str) -> dict:
    token = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("username", [None, *USERS])
def test_api_refuses_wrong_role_or_owner(app, paid, username):
    client = app.test_client()
    headers = _token(client, username) if username else {}
    for rule, (method, spec) in API.items():
        if rule in ("/api/v1/tokens", "/api/v1/tokens/current", "/api/v1/receipts/verify") \
                or rule in SIGNED_REFERENCE:
            continue
        url = _url(rule, paid)
        allowed = _allowed(spec, username)
        # A refused user sends a valid body: the refusal is the role's or the owner's.
        response = client.open(url, method=method, headers=headers,
                               json={} if allowed else BODIES.get(rule, {}))
        status = response.status_code
        body = response.get_json()
        if allowed:
            assert status in (200, 201, 409, 422), (rule, username, status, body)
            if "/vietqr." in rule:
                # The fixture's notice is paid: whoever may see it is told so, not refused.
                assert status == 409, (rule, username, status, body)
        else:
            assert status in (401, 403, 404), (rule, username, status, body)
            assert set(body) == {"error"} and body["error"]["code"], (rule, body)
            if username is None:
                assert status == 401


#: Each officer and the officer of the same kind in the other office.
COUNTERPART = {"registry": "registry2", "registry2": "registry", "tax": "tax2", "tax2": "tax"}
#: The routes' parameters that name an object of one office.
OFFICE_PARAMS = ("<code>", "<int:assessment_id>", "<ref>", "<number>", "<int:adjustment_id>")


def _office_routes(table: dict, username: str):
    """The routes of ``table`` that name an office's object and that officers of this kind
    use (the table names office 1's officers)."""
    for rule, (method, spec) in table.items():
        if any(p in rule for p in OFFICE_PARAMS) and isinstance(spec, set) \
                and (username in spec or COUNTERPART[username] in spec):
            yield rule, method


@pytest.mark.parametrize("username", ["registry", "registry2", "tax", "tax2"])
def test_officers_cannot_reach_the_other_offices_objects(app, paid, username):
    """Every page and API operation on an office's dossier, assessment, notice, payment,
    receipt or adjustment, by an officer of the other office: 403 or 404, with a valid CSRF
    token and a complete form (or a valid body), so what refuses is the office check. The same
    reads of their own office's objects succeed."""
    own, other = (paid, paid["office2"]) if username in ("registry", "tax") else (paid["office2"], paid)
    client = app.test_client()
    login(client, username)
    pages = list(_office_routes(PAGES, username))
    assert len(pages) >= 6, pages
    for rule, method in pages:
        data = _form(client, rule) if method == "POST" else {}
        status = client.open(_url(rule, other), method=method, data=data).status_code
        assert status in (403, 404), (rule, username, status)
        if method == "GET":
            assert client.get(_url(rule, own)).status_code in (200, 409), (rule, username)
    headers = _token(client, username)
    api = list(_office_routes(API, username))
    assert len(api) >= 10, api
    for rule, method in api:
        response = client.open(_url(rule, other), method=method, headers=headers, json=BODIES.get(rule, {}))
        assert response.status_code in (403, 404), (rule, username, response.status_code, response.get_json())
        if method == "GET":
            assert client.get(_url(rule, own), headers=headers).status_code in (200, 409), (rule, username)
    # The lists: none of the other office's objects in any list of theirs.
    for path in ("/api/v1/dossiers", "/api/v1/notices", "/api/v1/assessments"):
        answer = client.get(path, headers=headers)
        if answer.status_code == 403:
            continue
        seen = {i.get("code") or i.get("dossier_code") for i in answer.get_json()["items"]}
        assert other["code"] not in seen and other["notice"] not in seen, (path, username)
        assert own["code"] in seen or own["notice"] in seen, (path, username, seen)


@pytest.mark.parametrize("username, sees", [
    ("registry", True), ("registry2", False), ("tax", True), ("tax2", False),
    ("an", True), ("binh", True), ("cuong", False), ("admin", True),
])
def test_lists_show_only_what_is_theirs(app, paid, username, sees):
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD}).get_json()["token"]
    dossiers = client.get("/api/v1/dossiers", headers={"Authorization": f"Bearer {token}"}).get_json()
    codes = {d["code"] for d in dossiers["items"]}
    assert (paid["code"] in codes) is sees
    login(client, username)
    home = {"registry": "/registry/", "registry2": "/registry/", "tax": "/tax/", "tax2": "/tax/",
            "admin": "/registry/"}.get(username, "/me/")
    page = client.get(home).get_data(as_text=True)
    if username.startswith("tax"):
        # The tax queue lists confirmed assessments by dossier code.
        assert (paid["code"] in page) is sees
    else:
        assert (paid["code"] in page) is sees


def test_session_cookie_does_not_authenticate_the_api(app, world):
    client = app.test_client()
    login(client, "registry")
    response = client.get("/api/v1/dossiers")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_landholder_cannot_pay_someone_elses_notice(app, world):
    _code, notice = world.file_and_confirm()
    client = app.test_client()
    login(client, "cuong")
    assert client.get(f"/me/notices/{notice}").status_code == 404
    token = client.post("/api/v1/tokens", json={"username": "cuong", "password": PASSWORD}).get_json()["token"]
    response = client.post(f"/api/v1/notices/{notice}/payments", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404


def test_officer_of_another_office_cannot_see_or_confirm(app, world):
    from app.extensions import db
    from app.models import Assessment

    world.file()
    with app.app_context():
        assessment_id = db.session.scalar(select(Assessment.id))
    client = app.test_client()
    login(client, "tax2")
    assert client.get(f"/tax/assessments/{assessment_id}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Assessment.status)).value == "pending"

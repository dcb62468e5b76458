"""A refused form says what is wrong at the top, linking to each field, in the user's language,
library messages (WTForms, the CSRF check) included."""

from __future__ import annotations

from tests.conftest import PASSWORD, csrf_token, login


def test_login_errors_are_summarised_in_vietnamese(app, world):
    client = app.test_client()
    page = client.post("/login", data={"username": "", "password": "", "csrf_token": csrf_token(client, "/login")})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    summary = html[html.index('class="error-summary"'):html.index("</div>", html.index('class="error-summary"'))]
    assert 'href="#username"' in summary and 'href="#password"' in summary
    assert "This field is required." not in html
    assert "Trường này là bắt buộc." in summary


def test_a_missing_csrf_token_is_explained_in_the_users_language(app, world):
    client = app.test_client()
    page = client.post("/login", data={"username": "binh", "password": PASSWORD})
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "The CSRF token is missing." not in html and "was not sent from this site" not in html
    assert "Biểu mẫu đã hết hạn" in html


def test_english_keeps_the_library_message(app, world):
    client = app.test_client()
    client.post("/language/en", data={"csrf_token": csrf_token(client, "/")})
    page = client.post("/login", data={"username": "", "password": "", "csrf_token": csrf_token(client, "/login")})
    assert "This field is required." in page.get_data(as_text=True)


def test_the_contact_form_error_summary_links_to_the_field(app, world):
    client = app.test_client()
    login(client, "binh")
    token = csrf_token(client, "/me/contact")
    page = client.post("/me/contact", data={"phone": "123", "language": "vi", "csrf_token": token})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and 'href="#phone"' in html

"""The reference portal's backend flows over HTTP (Starlette's test client on httpx), with the test PKI's real
certificates and keys: login by an origin-bound proof, «Мой профиль», the head's and the entrepreneur's
registration verified against the demo ЕГРЮЛ/ЕГРИП, refusals with the verifier's reasons (employee as head,
replay, another site), editing through a re-signed request, documents, exchange profiles, employees joining and
the roles that make them «Активный» / «Удален»."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from tests.portal.conftest import ORIGIN, OTHER_ORIGIN, Portal, dumps, entrepreneur_draft, head_draft

COMPANY = {"ogrn": "1127700000031", "inn": "7701000033"}
BRANCH = "Филиал «Север»"


def reason_codes(answer: Any) -> list[str]:
    return [r["code"] for r in answer.json().get("reasons", [])]


@pytest.fixture
def registered(portal: Portal) -> Portal:
    """The portal with ООО «Ромашка-Тест» registered by its head (logged in as ``portal.head``)."""
    head = portal.person("head")
    head.login()
    answer = head.register("head-registration", head_draft())
    assert answer.status_code == 200, answer.text
    portal.head = head  # type: ignore[attr-defined]
    return portal


def employee_with_roles(portal: Portal, roles: list[str], name: str = "employee") -> Any:
    """The employee joined to the company and given ``roles`` by the head."""
    employee = portal.person(name)
    employee.login()
    assert employee.join(COMPANY, BRANCH).status_code == 200
    member_id = member_of(portal, employee)
    answer = portal.head.client.post(f"/api/employees/{member_id}/roles", json={"roles": roles})  # type: ignore[attr-defined]
    assert answer.status_code == 200, answer.text
    return employee


def member_of(portal: Portal, person: Any) -> int:
    page = portal.head.client.get("/organisation/employees").text  # type: ignore[attr-defined]
    name = re.escape(person.certificate.identity.full_name)
    found = re.search(r'data-member-id="(\d+)" data-name="' + name + '"', page)
    assert found, page
    return int(found.group(1))


# --- login ---------------------------------------------------------------------------------------------------------

def test_login_by_certificate_opens_a_session(portal: Portal) -> None:
    head = portal.person("head")
    anonymous = head.client.get("/")
    assert 'data-testid="login"' in anonymous.text
    done = head.login()
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert done.json()["user"]["full_name"].startswith("Иванов")
    home = head.client.get("/")
    assert 'data-testid="user-name"' in home.text and "Иванов" in home.text


def test_login_proof_for_another_site_is_refused(portal: Portal) -> None:
    head = portal.person("head")
    challenge = base64.b64decode(head.client.post("/api/login/challenge").json()["challenge"])
    answer = head.client.post("/api/login", json={"proof": head.proof(challenge, origin=OTHER_ORIGIN)})
    assert answer.status_code == 422
    assert reason_codes(answer) == ["origin_mismatch"], dumps(answer.json())
    assert "set-cookie" not in answer.headers


def test_login_proof_is_used_once(portal: Portal) -> None:
    head = portal.person("head")
    challenge = base64.b64decode(head.client.post("/api/login/challenge").json()["challenge"])
    proof = head.proof(challenge)
    assert head.client.post("/api/login", json={"proof": proof}).status_code == 200
    again = portal.client().post("/api/login", json={"proof": proof})
    assert again.status_code == 422 and reason_codes(again) == ["nonce_used"], dumps(again.json())


def test_login_with_a_challenge_never_issued_is_refused(portal: Portal) -> None:
    head = portal.person("head")
    answer = head.client.post("/api/login", json={"proof": head.proof(bytes(32))})
    assert answer.status_code == 422 and "nonce_unknown" in reason_codes(answer), dumps(answer.json())


def test_a_forged_session_cookie_is_no_session(portal: Portal) -> None:
    head = portal.person("head")
    head.login()
    value = head.client.cookies["portal_session"]
    _body, mac = value.split(".")
    forged = base64.urlsafe_b64encode(b'{"u":2,"e":99999999999}').rstrip(b"=").decode()
    other = portal.client()
    other.cookies.set("portal_session", f"{forged}.{mac}", domain="portal.test")
    assert other.get("/profile", follow_redirects=False).status_code == 303
    assert other.post("/api/profile", json={}).status_code == 401


def test_logout_ends_the_session(portal: Portal) -> None:
    head = portal.person("head")
    head.login()
    assert head.client.post("/api/logout", json={}).status_code == 200
    assert head.client.get("/profile", follow_redirects=False).status_code == 303


# --- the guards of every request -----------------------------------------------------------------------------------

def test_pages_and_actions_need_a_login(portal: Portal) -> None:
    anonymous = portal.client()
    for path in ("/profile", "/organisation", "/organisation/wizard", "/organisation/join",
                 "/organisation/documents", "/organisation/exchange", "/organisation/employees", "/batches"):
        answer = anonymous.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/", path
    for path, body in (("/api/profile", {}), ("/api/registration/prepare", {"type": "head-registration",
                                                                             "request": {}}),
                       ("/api/registration/submit", {"cms": "AA=="}), ("/api/documents", {}),
                       ("/api/exchange-profiles", {}), ("/api/employees/1/roles", {"roles": []})):
        assert anonymous.post(path, json=body).status_code in (401, 422), path
    assert anonymous.post("/api/registration/submit", json={"cms": "AAAA"}).status_code == 401
    assert anonymous.get("/api/registry?query=1127700000031").status_code == 401


def test_actions_from_another_origin_are_refused(portal: Portal) -> None:
    head = portal.person("head")
    head.login()
    evil = portal.client(origin=OTHER_ORIGIN)
    evil.cookies.update(head.client.cookies)
    answer = evil.post("/api/profile", json={"email": "x@evil.test"})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "origin_refused"
    no_origin = portal.client()
    del no_origin.headers["origin"]
    assert no_origin.post("/api/login/challenge").status_code == 403


def test_only_the_portals_own_host_is_served(portal: Portal) -> None:
    client = portal.client()
    assert client.get("/", headers={"host": "rebind.test:8080"}).status_code == 421


def test_pages_have_a_strict_csp_and_no_inline_script(portal: Portal) -> None:
    head = portal.person("head")
    page = head.client.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self' http://127.0.0.1:36985;" in csp and "connect-src 'self' http://127.0.0.1:36985" in csp
    assert "unsafe-inline" not in csp and page.headers["x-frame-options"] == "DENY"
    head.login()
    for path in ("/", "/profile", "/organisation", "/organisation/wizard", "/organisation/join"):
        text = head.client.get(path).text
        scripts = re.findall(r"<script[^>]*>", text)
        assert scripts and all(" src=" in s for s in scripts), path
        assert "style=" not in text and "onclick" not in text, path


# --- my profile ----------------------------------------------------------------------------------------------------

def test_my_profile_is_saved_and_every_field_is_optional(portal: Portal) -> None:
    head = portal.person("head")
    head.login()
    values = {"email": "ivanov@romashka.test", "phone": "+7 495 111-22-33", "position": "Генеральный директор",
              "department": ""}
    assert head.client.post("/api/profile", json=values).status_code == 200
    page = head.client.get("/profile").text
    assert 'value="ivanov@romashka.test"' in page and 'value="Генеральный директор"' in page
    assert head.client.post("/api/profile", json={}).status_code == 200
    bad = head.client.post("/api/profile", json={"email": "not an address"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "email"


# --- registration --------------------------------------------------------------------------------------------------

def test_the_register_fills_the_wizard(portal: Portal) -> None:
    head = portal.person("head")
    head.login()
    found = head.client.get("/api/registry", params={"query": "1127700000031"}).json()
    assert found["kind"] == "legal" and found["inn"] == COMPANY["inn"] and found["kpp"] == "770101001"
    assert found["heads"][0]["surname"] == "ИВАНОВ"
    by_inn = head.client.get("/api/registry", params={"query": COMPANY["inn"]}).json()
    assert by_inn["ogrn"] == COMPANY["ogrn"]
    ip = head.client.get("/api/registry", params={"query": "317770000000050"}).json()
    assert ip["kind"] == "entrepreneur" and ip["surname"] == "СИДОРОВ"
    assert head.client.get("/api/registry", params={"query": "1027700000000"}).status_code == 404


def test_the_head_registers_the_organisation_and_becomes_its_administrator(registered: Portal) -> None:
    head = registered.head  # type: ignore[attr-defined]
    page = head.client.get("/organisation").text
    assert 'data-testid="organisation-ogrn">1127700000031<' in page
    assert 'data-role="admin"' in page and 'data-testid="edit-organisation"' in page
    assert BRANCH in page
    home = head.client.get("/").text
    assert 'data-status="active"' in home


def test_the_request_the_page_signs_is_the_canonical_one_with_a_fresh_nonce(portal: Portal) -> None:
    head = portal.person("head")
    head.login()
    first = head.prepare("head-registration", head_draft())
    second = head.prepare("head-registration", head_draft())
    assert first["content_type"] == "application/vnd.signagent.registration+json"
    import json

    one, two = json.loads(first["canonical"]), json.loads(second["canonical"])
    assert one["origin"] == ORIGIN and one["type"] == "head-registration" and one["nonce"] != two["nonce"]
    assert first["canonical"] == json.dumps(one, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def test_field_errors_of_the_draft_come_back_in_russian(portal: Portal) -> None:
    head = portal.person("head")
    head.login()
    draft = head_draft()
    draft["organisation"]["okved"]["auxiliary"] = [{"code": "46.48"}, {"code": "46.49"}, {"code": "46.50"}]
    draft["organisation"]["email"] = "nope"
    answer = head.prepare("head-registration", draft, expect=422)
    fields = {e["field"] for e in answer["errors"]}
    assert "organisation.okved.auxiliary" in fields and "organisation.email" in fields, dumps(answer)
    assert all(e["message_ru"] for e in answer["errors"])


def test_the_employees_certificate_is_refused_as_head_with_the_reason(portal: Portal) -> None:
    employee = portal.person("employee")
    employee.login()
    answer = employee.register("head-registration", head_draft())
    assert answer.status_code == 422
    assert "not_authorized_head" in reason_codes(answer), dumps(answer.json())
    assert all(r["message_ru"] for r in answer.json()["reasons"])
    assert 'data-testid="start-registration"' in employee.client.get("/organisation").text  # nothing registered


def test_a_replayed_signed_request_is_refused(portal: Portal) -> None:
    head = portal.person("head")
    head.login()
    signed = head.sign(head.prepare("head-registration", head_draft())["canonical"])
    assert head.submit(signed).status_code == 200
    again = head.submit(signed)
    assert again.status_code == 422 and "nonce_used" in reason_codes(again), dumps(again.json())


def test_a_request_signed_for_another_site_is_refused(portal: Portal) -> None:
    head = portal.person("head")
    head.login()
    prepared = head.prepare("head-registration", head_draft())
    answer = head.submit(head.sign(prepared["canonical"], origin=OTHER_ORIGIN))
    assert answer.status_code == 422 and "origin_mismatch" in reason_codes(answer), dumps(answer.json())
    unbound = head.submit(head.sign(head.prepare("head-registration", head_draft())["canonical"], origin=None))
    assert unbound.status_code == 422 and "origin_missing" in reason_codes(unbound), dumps(unbound.json())


def test_a_request_signed_by_someone_else_than_the_logged_in_user_is_refused(portal: Portal) -> None:
    head, employee = portal.person("head"), portal.person("employee")
    head.login()
    employee.login()
    prepared = head.prepare("head-registration", head_draft())
    answer = employee.submit(head.sign(prepared["canonical"]))
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "signer_not_user"


def test_an_entrepreneur_registers(portal: Portal) -> None:
    ip = portal.person("ip")
    ip.login()
    answer = ip.register("entrepreneur-registration", entrepreneur_draft())
    assert answer.status_code == 200, answer.text
    page = ip.client.get("/organisation").text
    assert "317770000000050" in page and "ОГРНИП" in page and 'data-role="admin"' in page


def test_the_administrator_edits_the_profile_through_a_re_signed_request(registered: Portal) -> None:
    head = registered.head  # type: ignore[attr-defined]
    wizard = head.client.get("/organisation/wizard", params={"edit": 1})
    assert wizard.status_code == 200 and "info@romashka.test" in wizard.text  # the draft is back in the page
    draft = head_draft(email="office@romashka.test")
    draft["subdivisions"].append({"kind": "representative_office", "name": "Представительство «Юг»",
                                  "address": "г. Краснодар", "okved": []})
    answer = head.register("head-registration", draft)
    assert answer.status_code == 200, answer.text
    page = head.client.get("/organisation").text
    assert "office@romashka.test" in page and "Представительство «Юг»" in page and BRANCH in page
    # a new registration of the same organisation by another route is not an edit
    assert head.client.get("/organisation/wizard", follow_redirects=False).status_code == 403


# --- documents and exchange profiles -------------------------------------------------------------------------------

def upload(client: Any, **values: Any) -> Any:
    document = {"doc_type": "Устав", "number": "1", "issued_on": "2024-01-10", "expires_on": "2030-01-01",
                "filename": "устав.pdf", "content": base64.b64encode(b"%PDF-1.4 test").decode(), **values}
    return client.post("/api/documents", json=document)


def test_documents_are_uploaded_and_deleted_unless_attached(registered: Portal) -> None:
    head = registered.head  # type: ignore[attr-defined]
    first = upload(head.client)
    second = upload(head.client, doc_type="Лицензия", number="Л-2", expires_on=None)
    assert first.status_code == 201 and second.status_code == 201
    page = head.client.get("/organisation/documents").text
    assert page.count('data-testid="document"') == 2 and "Лицензия" in page
    file = head.client.get(f"/organisation/documents/{first.json()['id']}/file")
    assert file.content == b"%PDF-1.4 test"
    profile = head.client.post("/api/exchange-profiles", json={
        "system_name": "ГИИС ДМДК", "system_code": "DMDK", "certificate_id": "ab" * 32, "certificate_owner": "Иванов",
        "document_id": first.json()["id"]})
    assert profile.status_code == 201, profile.text
    refused = head.client.delete(f"/api/documents/{first.json()['id']}")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "document_attached"
    assert "прикреплён" in refused.json()["error"]["message_ru"]
    assert 'data-testid="document-attached"' in head.client.get("/organisation/documents").text
    assert head.client.delete(f"/api/documents/{second.json()['id']}").status_code == 200
    assert head.client.delete(f"/api/exchange-profiles/{profile.json()['id']}").status_code == 200
    assert head.client.delete(f"/api/documents/{first.json()['id']}").status_code == 200


def test_document_fields_are_checked(registered: Portal) -> None:
    head = registered.head  # type: ignore[attr-defined]
    assert upload(head.client, issued_on="10.01.2024").json()["error"]["field"] == "issued_on"
    assert upload(head.client, expires_on="2020-01-01").json()["error"]["field"] == "expires_on"
    assert upload(head.client, number="").json()["error"]["field"] == "number"
    assert upload(head.client, content="***").json()["error"]["field"] == "content"


def test_exchange_profiles_for_the_organisation_or_a_subdivision(registered: Portal) -> None:
    head = registered.head  # type: ignore[attr-defined]
    page = head.client.get("/organisation/exchange").text
    branch_id = int(re.search(r'<option value="(\d+)">' + re.escape(BRANCH), page).group(1))  # type: ignore[union-attr]
    cert = base64.b64encode(head.certificate.der).decode()
    made = head.client.post("/api/exchange-profiles", json={
        "system_name": "ГИИС ДМДК", "system_code": "DMDK-1", "subdivision_id": branch_id,
        "certificate_id": head.certificate.streebog_thumbprint, "certificate": cert, "certificate_owner": "Иванов"})
    assert made.status_code == 201, made.text
    listed = head.client.get("/organisation/exchange").text
    assert 'data-testid="exchange-profile"' in listed and "DMDK-1" in listed and BRANCH in listed
    wrong = head.client.post("/api/exchange-profiles", json={
        "system_name": "x", "system_code": "y", "subdivision_id": 9999, "certificate_id": "ab"})
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "subdivision_id"
    missing = head.client.post("/api/exchange-profiles", json={"system_name": "x", "certificate_id": "ab"})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "system_code"


# --- employees and roles -------------------------------------------------------------------------------------------

def test_an_employee_joins_and_waits_for_roles(registered: Portal) -> None:
    employee = registered.person("employee")
    employee.login()
    assert 'data-testid="start-join"' in employee.client.get("/organisation").text
    join_page = employee.client.get("/organisation/join").text
    assert BRANCH in join_page and COMPANY["ogrn"] in join_page
    answer = employee.join(COMPANY, BRANCH)
    assert answer.status_code == 200 and answer.json()["membership_status"] == "pending", answer.text
    assert 'data-testid="membership-pending"' in employee.client.get("/organisation").text
    assert employee.client.get("/organisation/documents").status_code == 403
    staff = registered.head.client.get("/organisation/employees").text  # type: ignore[attr-defined]
    assert 'data-status="pending"' in staff and "Петрова" in staff
    again = employee.prepare("employee-registration", {"organisation": COMPANY}, expect=403)  # already asked
    assert again["error"]["code"] == "already_member"


def test_joining_an_unregistered_organisation_is_refused(portal: Portal) -> None:
    employee = portal.person("employee")
    employee.login()
    answer = employee.join(COMPANY)
    assert answer.status_code == 422 and "organisation_unknown" in reason_codes(answer), dumps(answer.json())


def test_a_certificate_of_another_organisation_cannot_join(registered: Portal) -> None:
    ip = registered.person("ip")
    ip.login()
    answer = ip.join(COMPANY)
    assert answer.status_code == 422 and "ogrn_mismatch" in reason_codes(answer), dumps(answer.json())


def test_roles_make_the_employee_active_and_removing_all_makes_them_removed(registered: Portal) -> None:
    employee = employee_with_roles(registered, ["batches"])
    member_id = member_of(registered, employee)
    home = employee.client.get("/").text
    assert 'data-status="active"' in home and 'data-role="batches"' in home
    assert employee.client.get("/batches").status_code == 200
    assert employee.client.get("/applications").status_code == 403
    head = registered.head  # type: ignore[attr-defined]
    removed = head.client.post(f"/api/employees/{member_id}/roles", json={"roles": []})
    assert removed.json()["member_status"] == "removed"
    assert 'data-status="removed"' in head.client.get("/organisation/employees").text
    assert employee.client.get("/batches").status_code == 403
    assert 'data-testid="membership-removed"' in employee.client.get("/organisation").text
    back = head.client.post(f"/api/employees/{member_id}/roles", json={"roles": ["applications", "dmdk"]})
    assert back.json() == {"status": "ok", "roles": ["dmdk", "applications"], "member_status": "active"}


def test_the_administrator_keeps_their_own_administrator_role(registered: Portal) -> None:
    head = registered.head  # type: ignore[attr-defined]
    answer = head.client.post(f"/api/employees/{member_of(registered, head)}/roles", json={"roles": ["dmdk"]})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "last_admin"
    assert head.client.post(f"/api/employees/{member_of(registered, head)}/roles",
                            json={"roles": ["admin", "nonsense"]}).status_code == 422


#: page -> the roles that open it
PAGES = {
    "/organisation/documents": {"admin", "dmdk"},
    "/organisation/exchange": {"admin"},
    "/organisation/employees": {"admin"},
    "/organisation/wizard?edit=1": {"admin"},
    "/dmdk": {"dmdk"},
    "/batches": {"batches"},
    "/applications": {"applications"},
}


@pytest.mark.parametrize("role", ["admin", "dmdk", "batches", "applications"])
def test_each_role_opens_its_pages_and_actions_and_no_more(registered: Portal, role: str) -> None:
    employee = employee_with_roles(registered, [role])
    for path, allowed in PAGES.items():
        status = employee.client.get(path).status_code
        assert status == (200 if role in allowed else 403), (role, path, status)
    denied = 403
    admin_actions = [
        employee.client.post("/api/exchange-profiles", json={"system_name": "x", "system_code": "y",
                                                             "certificate_id": "ab"}),
        upload(employee.client),
        employee.client.post(f"/api/employees/{member_of(registered, registered.head)}/roles",  # type: ignore[attr-defined]
                             json={"roles": []}),
        employee.client.post("/api/registration/prepare", json={"type": "head-registration",
                                                                "request": head_draft()}),
    ]
    for answer in admin_actions:
        if role == "admin":
            assert answer.status_code != denied, answer.text
        else:
            assert answer.status_code == denied and answer.json()["error"]["code"] == "role_required", answer.text
    nav = employee.client.get("/").text
    assert ('data-testid="nav-employees"' in nav) == (role == "admin")
    assert ('data-testid="nav-batches"' in nav) == (role == "batches")


def test_a_pending_employee_has_no_role_yet(registered: Portal) -> None:
    employee = registered.person("employee")
    employee.login()
    employee.join(COMPANY)
    for path in PAGES:
        assert employee.client.get(path).status_code == 403, path


def test_an_administrator_manages_only_their_own_organisation(registered: Portal) -> None:
    ip = registered.person("ip")
    ip.login()
    assert ip.register("entrepreneur-registration", entrepreneur_draft()).status_code == 200
    head = registered.head  # type: ignore[attr-defined]
    document = upload(head.client).json()["id"]
    assert ip.client.delete(f"/api/documents/{document}").status_code == 404
    assert ip.client.get(f"/organisation/documents/{document}/file").status_code == 404
    assert ip.client.post(f"/api/employees/{member_of(registered, head)}/roles",
                          json={"roles": ["admin"]}).status_code == 404

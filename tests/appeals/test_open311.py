"""Open311 GeoReport v2 against a live server on 127.0.0.1: the real `georeport` client (PyPI) reads the
service list, definitions, requests and one request in JSON and XML; a POST client written here follows
FixMyStreet's call sequence (form-encoded POST with attribute[...], token polling, servicerequestupdates)."""

from __future__ import annotations

import socket
import threading
import time
import xml.etree.ElementTree as ET

import pytest
import requests
from appeals_support import ENTERPRISE_USCC, complaint
from georeport import GeoReport

from qinqing.accounts import AccountService, Role
from qinqing.appeals.service import AppealService
from qinqing.db import make_engine, migrate

PASSWORD = "correct-horse-9"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    import uvicorn

    from qinqing.settings import Settings
    from qinqing.web.app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('open311') / 'o.db'}"
    migrate(url)
    engine = make_engine(url)
    accounts = AccountService(engine)
    ent = accounts.create_user("ent_o311", PASSWORD, Role.ENTERPRISE, "哈尔滨示例制造有限公司", uscc=ENTERPRISE_USCC)
    key = accounts.issue_token(ent, "open311")
    service = AppealService(engine)
    public = service.submit(ent, complaint(public=True)).appeal
    service.submit(ent, complaint(category="YS01", title="停电", description="厂区频繁停电影响生产。",
                                  public=False, contact_phone="13800000000"))
    service.submit(ent, complaint(category="SS01", kind="help", title="留抵退税", description="增值税留抵退税迟迟没有退还。",
                                  public=True, confidential=True))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(database_url=url, secret_key="open311-test"), engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield {"base": f"http://127.0.0.1:{port}", "key": key, "public": public}
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


def client(live, fmt):
    return GeoReport(live["base"] + "/open311/v2", jurisdiction="qinqing.local", output_format=fmt)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_reads_services_and_definitions(live, fmt):
    services = client(live, fmt).get_service_list()
    codes = [s["service_code"] for s in services]
    assert "ZC02" in codes and "QT01" in codes
    definition = client(live, fmt).get_service_definition("ZC02")
    attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    kind = next(a for a in attributes if a["code"] == "kind")
    assert kind["datatype"] == "singlevaluelist"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_reads_only_public_requests(live, fmt):
    found = client(live, fmt).get_service_requests()
    if fmt == "xml":
        assert isinstance(found, dict)  # a one-element XML list comes back as a dict from xmltodict
        found = [found]
    assert [r["service_request_id"] for r in found] == [live["public"].number]
    one = client(live, fmt).get_service_request(live["public"].number)
    assert one["status"] == "open" and one["agency_responsible"] == "黑龙江省工业和信息化厅"
    assert one["requested_datetime"].endswith("+08:00")
    text = requests.get(f"{live['base']}/open311/v2/requests.{fmt}").text
    for secret in (ENTERPRISE_USCC, "13800000000", "哈尔滨示例制造", "留抵退税", "停电"):
        assert secret not in text


def test_xml_has_the_declaration_and_json_is_a_bare_array(live):
    response = requests.get(f"{live['base']}/open311/v2/services.xml")
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    assert response.headers["content-type"].startswith("text/xml")
    assert isinstance(requests.get(f"{live['base']}/open311/v2/services.json").json(), list)
    for fmt in ("xml", "json"):
        assert requests.get(f"{live['base']}/open311/discovery.{fmt}").status_code == 200


@pytest.mark.parametrize(("method", "path", "data", "status"), [
    ("get", "/open311/v2/services/NOPE.json", None, 404),
    ("get", "/open311/v2/services.json?jurisdiction_id=other.gov", None, 404),
    ("get", "/open311/v2/requests/20990101999999.json", None, 404),
    ("get", "/open311/v2/tokens/nope.json", None, 404),
    ("get", "/open311/v2/requests.json?start_date=2026-01-01T00:00:00%2B08:00&end_date=2026-06-01T00:00:00%2B08:00",
     None, 400),
    ("post", "/open311/v2/requests.json", {"service_code": "ZC02", "description": "x", "address_id": "230102"}, 403),
    ("post", "/open311/v2/requests.json", {"api_key": "wrong", "service_code": "ZC02", "description": "x"}, 403),
])
def test_errors_are_arrays_of_code_and_description(live, method, path, data, status):
    response = getattr(requests, method)(live["base"] + path, data=data)
    assert response.status_code == status
    body = response.json()
    assert isinstance(body, list) and set(body[0]) == {"code", "description"}


def test_a_missing_location_and_a_long_description_are_400(live):
    base = {"api_key": live["key"], "service_code": "ZC01", "attribute[kind]": "consultation"}
    response = requests.post(f"{live['base']}/open311/v2/requests.xml", data={**base, "description": "咨询"})
    assert response.status_code == 400
    root = ET.fromstring(response.content)
    assert root.tag == "errors" and root.find("error/code").text == "400"
    response = requests.post(f"{live['base']}/open311/v2/requests.json",
                             data={**base, "description": "长" * 4001, "address_id": "230102"})
    assert response.status_code == 400


def test_fixmystreet_call_sequence_post_token_poll_updates(live):
    """FMS posts form-encoded with jurisdiction_id and api_key, reads request[0].service_request_id or else
    polls tokens, and follows servicerequestupdates.xml."""
    form = {"jurisdiction_id": "qinqing.local", "api_key": live["key"], "service_code": "ZC02",
            "description": "人才补贴兑现被无故拖延，请协调。", "lat": "45.75", "long": "126.63",
            "address_string": "哈尔滨市道里区", "address_id": "230102", "email": "a@example.com",
            "first_name": "三", "last_name": "张", "phone": "13900000000",
            "attribute[kind]": "complaint", "attribute[public]": "true", "attribute[disclose_identity]": "true"}
    response = requests.post(f"{live['base']}/open311/v2/requests.xml", data=form)
    assert response.status_code == 200, response.text
    request = ET.fromstring(response.content).find("request")
    assert request.find("service_request_id") is None  # ZC02 is a batch service: a token first
    token = request.find("token").text
    polled = ET.fromstring(requests.get(f"{live['base']}/open311/v2/tokens/{token}.xml",
                                        params={"jurisdiction_id": "qinqing.local"}).content)
    number = polled.find("request/service_request_id").text
    one = requests.get(f"{live['base']}/open311/v2/requests/{number}.json").json()
    assert one[0]["lat"] is None and "张" not in str(one) and "13900000000" not in str(one)
    updates = ET.fromstring(requests.get(f"{live['base']}/open311/v2/servicerequestupdates.xml",
                                         params={"jurisdiction_id": "qinqing.local"}).content)
    mine = [u for u in updates.findall("request_update") if u.find("service_request_id").text == number]
    assert [u.find("external_status_code").text for u in mine] == ["received", "dispatched"]
    assert all(u.find("updated_datetime").text.endswith("+08:00") for u in mine)

    realtime = requests.post(f"{live['base']}/open311/v2/requests.json",
                             data={**form, "service_code": "ZC01", "attribute[kind]": "consultation",
                                   "description": "想咨询首台套政策的补贴标准。"}).json()
    assert realtime[0]["service_request_id"] and "token" not in realtime[0]


def test_multivalue_attributes_round_trip(live):
    response = requests.post(f"{live['base']}/open311/v2/requests.json",
                             data=[("api_key", live["key"]), ("service_code", "RZ01"), ("address_id", "230102"),
                                   ("description", "普惠贷款授信额度太低。"), ("attribute[kind]", "help"),
                                   ("attribute[tags][]", "a"), ("attribute[tags][]", "b")])
    assert response.status_code == 200, response.text

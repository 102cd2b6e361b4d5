#!/usr/bin/env python3
"""The gateway's JSON API from a script's point of view, against the real services: tokens
(missing, wrong, from the header or the login cookie), the mapping of gRPC codes to HTTP
statuses with a 400 that names the field, the live dashboard's event stream and its upstream
call closing when the client goes away, and a clean SIGTERM with a stream open.

Usage: gateway_api_test.py BUILD_DIR
"""
import gzip
import http.client
import json
import os
import sys
import unittest
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests/support"))
from hotline_stack import HotlineStack, TicketDriver, wait_for  # noqa: E402

BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build")


class GatewayApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A short heartbeat: it is how the gateway notices a client that went away.
        cls.stack = HotlineStack(BUILD, gateway_flags=["--sse_heartbeat=1s"])
        cls.stack.start()
        cls.driver = TicketDriver(cls.stack)
        from hotline.metrics.v1 import metrics_pb2
        cls.metrics_pb2 = metrics_pb2

    @classmethod
    def tearDownClass(cls):
        cls.stack.kill()

    def request(self, method, path, body=None, token=None, cookie=None, content_type=None,
                raw=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.stack.ports["gateway"],
                                                timeout=15)
        headers = {}
        if token:
            headers["Authorization"] = "Bearer " + token
        if cookie:
            headers["Cookie"] = cookie
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        connection.close()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return response.status, parsed, response

    def assertError(self, result, status, code, field=None):
        got_status, body, _ = result
        self.assertEqual(got_status, status, body)
        self.assertEqual(body["error"]["code"], code, body)
        self.assertTrue(body["error"]["message"], body)
        if field is not None:
            self.assertEqual(body["error"].get("field"), field, body)
        return body["error"]

    def test_1_health(self):
        status, body, _ = self.request("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "SERVING")

    def test_1b_pages_get_the_one_navigation_bar_with_their_own_link_current(self):
        status, page, response = self.request("GET", "/dispatch.html")
        self.assertEqual(status, 200)
        self.assertNotIn("<!-- navigation -->", page)
        self.assertEqual(page.count('<nav aria-label="主导航">'), 1)
        self.assertIn('<a href="/dispatch.html" aria-current="page">派单台</a>', page)
        self.assertIn('<a href="/intake.html">受理台</a>', page)
        self.assertEqual(page.count("aria-current"), 1)
        self.assertEqual(int(response.getheader("Content-Length")), len(page.encode()))
        self.assertTrue(page.rstrip().endswith("</html>"), page[-200:])  # The whole page.
        # Compressed, as browsers ask for it, the page has the bar too.
        connection = http.client.HTTPConnection("127.0.0.1", self.stack.ports["gateway"],
                                                timeout=15)
        connection.request("GET", "/dispatch.html", headers={"Accept-Encoding": "gzip"})
        compressed = connection.getresponse()
        self.assertEqual(compressed.getheader("Content-Encoding"), "gzip")
        unpacked = gzip.decompress(compressed.read()).decode()
        connection.close()
        self.assertEqual(unpacked, page)

    def test_2_requests_without_a_valid_token_are_401(self):
        for path in ("/api/summary", "/api/dashboard/stream", "/api/tickets/T1",
                     "/api/search?q=" + urllib.parse.quote("公积金")):
            self.assertError(self.request("GET", path), 401, "UNAUTHENTICATED")
        # A token the services do not know: the gateway asks them rather than guessing.
        self.assertError(self.request("GET", "/api/summary", token="not-a-real-token"), 401,
                         "UNAUTHENTICATED")
        self.assertError(self.request("POST", "/api/session", body={"token": "not-a-real-token"}),
                         401, "UNAUTHENTICATED")

    def test_3_bad_input_is_a_400_naming_the_field(self):
        supervisor = self.stack.tokens["supervisor"]
        self.assertError(self.request("GET", "/api/summary?period=year", token=supervisor),
                         400, "INVALID_ARGUMENT", "period")
        self.assertError(self.request("GET", "/api/search?q=", token=supervisor),
                         400, "INVALID_ARGUMENT", "q")
        self.assertError(self.request("GET", "/api/trend?count=0", token=supervisor),
                         400, "INVALID_ARGUMENT", "count")
        self.assertError(self.request("POST", "/api/session", body={"token": "two words"}),
                         400, "INVALID_ARGUMENT", "token")
        self.assertError(self.request("POST", "/api/session", raw=b"{not json",
                                      content_type="application/json"),
                         400, "INVALID_ARGUMENT", "body")
        t = self.driver.dispatched("路灯不亮，夜间出行不便")
        urge = "/api/tickets/%s/urge" % t.id
        self.assertError(self.request("POST", urge, body={"request_id": "r1", "message": "请尽快"},
                                      token=supervisor), 400, "INVALID_ARGUMENT",
                         "expected_version")
        self.assertError(self.request("POST", urge, body={"expected_version": 1, "message": "x"},
                                      token=supervisor), 400, "INVALID_ARGUMENT", "request_id")
        self.assertError(self.request(
            "POST", "/api/tickets/%s/extension-decision" % t.id,
            body={"expected_version": 1, "request_id": "r2", "work_order_id": "W1",
                  "decision": "maybe"}, token=supervisor), 400, "INVALID_ARGUMENT", "decision")
        # The ticket service's own validation, passed through with its field.
        version = self.driver.current(t.id).version
        error = self.assertError(self.request(
            "POST", urge, body={"expected_version": version, "request_id": "r3", "message": ""},
            token=supervisor), 400, "INVALID_ARGUMENT", "message")
        self.assertIn("message", error["detail"])

    def test_4_grpc_codes_map_to_http_statuses(self):
        supervisor = self.stack.tokens["supervisor"]
        error = self.assertError(self.request("GET", "/api/tickets/T404404", token=supervisor),
                                 404, "NOT_FOUND")
        self.assertIn("未找到", error["message"])
        self.assertError(self.request("GET", "/api/summary", token=self.stack.tokens["agent"]),
                         403, "PERMISSION_DENIED")
        self.assertError(self.request("GET", "/api/tickets/T1", token=self.stack.tokens["editor"]),
                         403, "PERMISSION_DENIED")
        t = self.driver.dispatched("井盖缺失，存在安全隐患")
        stale = self.driver.current(t.id).version - 1
        error = self.assertError(self.request(
            "POST", "/api/tickets/%s/urge" % t.id,
            body={"expected_version": stale, "request_id": "stale-1", "message": "请加快办理"},
            token=supervisor), 409, "ABORTED")
        self.assertIn("刷新", error["message"])
        # Approving an extension nobody asked for: the wrong state.
        order = t.work_orders[0].id
        self.assertError(self.request(
            "POST", "/api/tickets/%s/extension-decision" % t.id,
            body={"expected_version": self.driver.current(t.id).version, "request_id": "ext-1",
                  "work_order_id": order, "decision": "approve"}, token=supervisor),
            400, "FAILED_PRECONDITION")

    def test_5_login_sets_an_http_only_strict_cookie_that_authenticates(self):
        status, body, response = self.request("POST", "/api/session",
                                              body={"token": self.stack.tokens["supervisor"]})
        self.assertEqual(status, 200, body)
        self.assertTrue(body["supervisor"])
        cookie = response.getheader("Set-Cookie")
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        session = cookie.split(";")[0]
        status, summary, _ = self.request("GET", "/api/summary?period=month", cookie=session)
        self.assertEqual(status, 200, summary)
        direct = self.stack.stub("metrics").GetSummary(self.metrics_pb2.GetSummaryRequest(
            period=self.metrics_pb2.PeriodSelector(kind=self.metrics_pb2.PERIOD_KIND_MONTH)),
            metadata=self.stack.auth("supervisor"), timeout=10)
        self.assertEqual(summary["period"]["label"], direct.period.label)
        # A cookie-authenticated change must come as JSON: a cross-site form cannot.
        t = self.driver.dispatched("小区垃圾清运不及时")
        status, body, _ = self.request("POST", "/api/tickets/%s/urge" % t.id, cookie=session,
                                       raw=b"message=x", content_type="application/x-www-form-urlencoded")
        self.assertEqual(status, 415, body)
        # An agent's token is valid too; it just may not supervise.
        status, body, _ = self.request("POST", "/api/session",
                                       body={"token": self.stack.tokens["agent"]})
        self.assertEqual(status, 200, body)
        self.assertFalse(body["supervisor"])
        status, body, response = self.request("POST", "/api/logout", body={})
        self.assertEqual(status, 200)
        self.assertIn("Max-Age=0", response.getheader("Set-Cookie"))

    def open_watch_streams(self):
        status = self.stack.stub("metrics").GetStatus(self.metrics_pb2.GetStatusRequest(),
                                                      metadata=self.stack.auth("supervisor"),
                                                      timeout=10)
        return status.open_watch_streams

    def read_event(self, response):
        """Reads one server-sent event: (name, data)."""
        name, data = None, None
        while True:
            line = response.fp.readline().decode()
            self.assertTrue(line, "the event stream ended")
            line = line.rstrip("\r\n")
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data = line[len("data: "):]
            elif line == "" and name:
                return name, json.loads(data)

    def test_6_event_stream_relays_snapshots_and_closes_upstream_with_the_client(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.stack.ports["gateway"],
                                                timeout=15)
        connection.request("GET", "/api/dashboard/stream?period=month",
                           headers={"Authorization": "Bearer " + self.stack.tokens["supervisor"]})
        response = connection.getresponse()
        self.assertEqual(response.status, 200)
        self.assertTrue(response.getheader("Content-Type").startswith("text/event-stream"))
        name, snapshot = self.read_event(response)
        self.assertEqual(name, "snapshot")
        self.assertEqual(snapshot["reason"], "SNAPSHOT_REASON_INITIAL")
        self.assertIn("on_time_completion_rate", snapshot["totals"])
        self.assertEqual(self.open_watch_streams(), 1)
        # A change reaches the open stream without asking.
        before = int(snapshot["totals"]["backlog"]["open_total"])
        self.driver.dispatched("人行道破损")
        while True:
            name, data = self.read_event(response)
            if name == "snapshot" and int(data["totals"]["backlog"]["open_total"]) == before + 1:
                break
        # Heartbeats keep an idle stream alive.
        while self.read_event(response)[0] != "heartbeat":
            pass
        connection.close()
        wait_for(lambda: self.open_watch_streams() == 0, 20,
                 "the gateway to end the upstream WatchDashboard after the client left")

    def test_7_refused_stream_is_a_plain_http_error(self):
        self.assertError(self.request("GET", "/api/dashboard/stream",
                                      token=self.stack.tokens["agent"]), 403, "PERMISSION_DENIED")

    def test_9_sigterm_with_a_stream_open_exits_cleanly(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.stack.ports["gateway"],
                                                timeout=15)
        connection.request("GET", "/api/dashboard/stream",
                           headers={"Authorization": "Bearer " + self.stack.tokens["supervisor"]})
        response = connection.getresponse()
        self.assertEqual(self.read_event(response)[0], "snapshot")
        codes = self.stack.stop()
        connection.close()
        self.assertEqual(codes, {name: 0 for name in codes}, "logs in " + self.stack.work)


if __name__ == "__main__":
    unittest.main(verbosity=2)

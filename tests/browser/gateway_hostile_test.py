#!/usr/bin/env python3
"""The gateway against what an outside probe threw at it, each case a defect it once had:
tokens with bytes gRPC refuses as metadata (the process aborted, and logged the token), a
stored malformed timestamp that blanked every ticket page, and a few hundred slow or idle
sockets plus a pile of live dashboards from one token that left no thread for anyone else.

Usage: gateway_hostile_test.py BUILD_DIR
"""
import http.client
import json
import os
import resource
import socket
import sys
import threading
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests/support"))
from hotline_stack import HotlineStack, TicketDriver, wait_for  # noqa: E402

BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build")

SLOW_SOCKETS = 250      # send a header line now and then, never finishing the request
IDLE_SOCKETS = 250      # connect and send nothing
STREAMS_ONE_TOKEN = 200  # live dashboards opened with one department's token


def raise_open_file_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class GatewayHostileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise_open_file_limit()
        cls.stack = HotlineStack(BUILD, gateway_flags=["--sse_heartbeat=1s"])
        cls.stack.start()
        cls.driver = TicketDriver(cls.stack)

    @classmethod
    def tearDownClass(cls):
        cls.stack.kill()

    def raw_request(self, head_lines, body=b"", timeout=5):
        """Sends a request byte for byte (no client library cleans it) and returns
        (status, body)."""
        if body:
            head_lines = head_lines + [b"Content-Length: " + str(len(body)).encode()]
        with socket.create_connection(("127.0.0.1", self.stack.ports["gateway"]),
                                      timeout=timeout) as s:
            s.sendall(b"\r\n".join(head_lines) + b"\r\nConnection: close\r\n\r\n" + body)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split(b" ")[1]), body

    def get(self, path, token=None, timeout=5):
        connection = http.client.HTTPConnection("127.0.0.1", self.stack.ports["gateway"],
                                                timeout=timeout)
        headers = {"Authorization": "Bearer " + token} if token else {}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, body

    def assertGatewayAlive(self):
        self.assertIsNone(self.stack.processes["gateway"].poll(), "the gateway exited")
        status, _ = self.get("/healthz")
        self.assertEqual(status, 200)

    def test_1_tokens_with_bytes_metadata_cannot_hold_are_refused_not_fatal(self):
        supervisor = self.stack.tokens["supervisor"].encode()
        cases = [
            b"Authorization: Bearer x\ty",
            b"Authorization: Bearer x\x7fy",
            b"Authorization: Bearer x\xffy",
            "Authorization: Bearer 令牌".encode(),
            b"Authorization: Bearer " + supervisor[:10] + b"\x01" + supervisor[10:],
            b"Cookie: hotline_session=x%01y",
            b"Cookie: hotline_session=" + supervisor[:10] + b"\x01" + supervisor[10:],
        ]
        for header in cases:
            for path in (b"/api/summary", b"/api/session", b"/api/dashboard/stream"):
                status, body = self.raw_request([b"GET " + path + b" HTTP/1.1",
                                                 b"Host: 127.0.0.1", header])
                self.assertEqual(status, 401, (header, path, body))
                error = json.loads(body)["error"]
                self.assertEqual(error["code"], "UNAUTHENTICATED")
                self.assertNotIn(supervisor[10:].decode(), body.decode())
                self.assertGatewayAlive()
        with open(self.stack.log("gateway"), errors="replace") as log:
            self.assertNotIn(supervisor[10:].decode(), log.read())
        # A real token still works.
        status, _ = self.get("/api/summary", self.stack.tokens["supervisor"])
        self.assertEqual(status, 200)

    def test_1b_a_nul_in_a_path_is_refused_not_served_as_another_type(self):
        for path in (b"/common.js%00.html", b"/login.html%00", b"/%01overview.html"):
            status, body = self.raw_request([b"GET " + path + b" HTTP/1.1", b"Host: 127.0.0.1"])
            self.assertEqual(status, 400, path)
            self.assertEqual(json.loads(body)["error"]["field"], "path")
        status, _ = self.raw_request([b"GET /common.js HTTP/1.1", b"Host: 127.0.0.1"])
        self.assertEqual(status, 200)

    def test_1c_bytes_that_are_not_utf8_in_a_path_or_body_are_answered_not_fatal(self):
        # Found by fuzzing: the 404 for an unknown API path wrote the path into JSON, and
        # invalid UTF-8 made the JSON library throw outside any handler: no token needed.
        # Such bytes never go on to a service either (a proto3 string must be UTF-8), with or
        # without a token: the path or the query parameter is named.
        supervisor = self.stack.tokens["supervisor"].encode()
        for token in (b"x", supervisor):
            for target, field in ((b"/api/%FF", "path"), (b"/api/\xff\xfe", "path"),
                                  (b"/api/tickets/%C3%28/events", "path"),
                                  (b"/api/search?q=%B0%EC%C0%ED", "q"),
                                  (b"/api/tickets?%FF=1", "query")):
                status, body = self.raw_request([b"GET " + target + b" HTTP/1.1",
                                                 b"Host: 127.0.0.1",
                                                 b"Authorization: Bearer " + token])
                self.assertEqual(status, 400, (target, body))
                error = json.loads(body)["error"]
                self.assertEqual((error["code"], error["field"]), ("INVALID_ARGUMENT", field))
                self.assertGatewayAlive()
        status, body = self.raw_request([b"GET /api/%E4%B8%AD HTTP/1.1", b"Host: 127.0.0.1",
                                         b"Authorization: Bearer " + supervisor])
        self.assertEqual(status, 404, body)
        self.assertEqual(json.loads(body)["error"]["code"], "NOT_FOUND")
        # A JSON body with a string that is not UTF-8 is the client's error, named as such.
        status, body = self.raw_request(
            [b"POST /api/tickets HTTP/1.1", b"Host: 127.0.0.1",
             b"Authorization: Bearer " + self.stack.tokens["agent"].encode(),
             b"Content-Type: application/json"],
            body=b'{"content": "\xff\xfe", "request_id": "r1"}')
        self.assertEqual(status, 400, body)
        self.assertEqual(json.loads(body)["error"]["code"], "INVALID_ARGUMENT")
        self.assertGatewayAlive()

    def test_2_a_malformed_deadline_is_refused_and_ticket_pages_keep_rendering(self):
        import grpc
        pb = self.driver.pb
        t = self.driver.dispatched("地下车库排水泵故障积水", hours=48)
        order = [w for w in t.work_orders if w.department_id == "water"][-1]
        t = self.driver.update("SignWorkOrder", "water", t.id, lambda v: pb.SignWorkOrderRequest(
            ticket_id=t.id, work_order_id=order.id, expected_version=v,
            request_id=self.driver.request_id()))
        request = pb.RequestExtensionRequest(
            ticket_id=t.id, work_order_id=order.id, expected_version=t.version,
            request_id=self.driver.request_id(), reason="需更换水泵",
            extension=pb.TimeLimit(deadline={"seconds": int(time.time()) + 40 * 86400,
                                             "nanos": -1}))
        with self.assertRaises(grpc.RpcError) as refused:
            self.driver._call("RequestExtension", "water", request)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("extension.deadline", refused.exception.details())
        for path in ("/api/tickets", "/api/tickets/" + t.id, "/api/tickets/%s/events" % t.id):
            status, body = self.get(path, self.stack.tokens["supervisor"])
            self.assertEqual(status, 200, path)
            self.assertTrue(json.loads(body), path)

    def test_3_slow_and_idle_sockets_and_many_streams_leave_room_for_everyone_else(self):
        port = self.stack.ports["gateway"]
        sockets = []
        stop = threading.Event()
        try:
            for _ in range(IDLE_SOCKETS):
                sockets.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            slow = []
            for _ in range(SLOW_SOCKETS):
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                slow.append(s)
            sockets.extend(slow)

            def trickle():
                # One more header line a second on every slow socket, as a slowloris does.
                n = 0
                while not stop.wait(1.0):
                    n += 1
                    for s in slow:
                        try:
                            s.sendall(b"X-Trickle-%d: 1\r\n" % n)
                        except OSError:
                            pass
            trickler = threading.Thread(target=trickle, daemon=True)
            trickler.start()

            # Live dashboards from one department's token, each left open.
            token = self.stack.tokens["water"].encode()
            statuses = []
            for _ in range(STREAMS_ONE_TOKEN):
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(b"GET /api/dashboard/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Authorization: Bearer " + token + b"\r\n\r\n")
                sockets.append(s)
                first = s.recv(64)
                statuses.append(int(first.split(b" ")[1]))
            opened = statuses.count(200)
            self.assertGreater(opened, 0)
            self.assertLessEqual(opened, 8, "one user's live dashboards are capped")
            self.assertEqual(statuses.count(429), STREAMS_ONE_TOKEN - opened)

            # Everyone else: health, a page, and an API call each answer within a second.
            for path, token in (("/healthz", None), ("/overview.html", None),
                                ("/api/summary", self.stack.tokens["supervisor"]),
                                ("/api/tickets", self.stack.tokens["reviewer"])):
                start = time.monotonic()
                status, _ = self.get(path, token, timeout=1.0)
                self.assertEqual(status, 200, path)
                self.assertLess(time.monotonic() - start, 1.0, path)

            # A slow request is closed once its time is up (10 s) rather than held forever.
            def slow_ones_closed():
                closed = 0
                for s in slow:
                    s.setblocking(False)
                    try:
                        if s.recv(1024) is not None:
                            closed += 1
                    except BlockingIOError:
                        pass
                    except OSError:
                        closed += 1
                return closed == len(slow)
            wait_for(slow_ones_closed, 30, "the gateway to close requests that never finish")
        finally:
            stop.set()
            for s in sockets:
                s.close()
        self.assertGatewayAlive()


if __name__ == "__main__":
    unittest.main(verbosity=2)

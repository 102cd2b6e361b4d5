#!/usr/bin/env python3
"""People's accounts and sessions against the real services, through the gateway and over
gRPC: one answer for a wrong password and an unknown user; lockout after repeated failures and
unlock after the period; logout, disabling and a new password end live sessions, an open
live-dashboard stream included; session ids, forged and expired credentials are refused by
every service; a department user reaches no other department's orders through any endpoint;
the audit trail holds an entry for every view of unmasked data, and cannot be written in
someone else's name. System tokens keep working.

Usage: accounts_test.py BUILD_DIR
"""
import base64
import http.client
import json
import os
import sys
import time
import unittest
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests/support"))
from hotline_stack import HotlineStack, TicketDriver, wait_for  # noqa: E402

BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build")
PASSWORD = "a long enough passphrase"


class AccountsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Credentials renewed every second (so an ended session is noticed within one), a
        # short lock so that unlocking can be watched.
        cls.stack = HotlineStack(BUILD, gateway_flags=["--session_refresh=1s", "--sse_heartbeat=1s"],
                                 identity_flags=["--lock_after=5", "--lock_period=3s",
                                                 "--credential_lifetime=20s"])
        cls.stack.start()
        cls.driver = TicketDriver(cls.stack)
        from hotline.identity.v1 import identity_pb2
        cls.pb = identity_pb2
        s = cls.stack
        s.create_account("li.water", "department", PASSWORD, "water", "李水务")
        s.create_account("he.hrss", "department", PASSWORD, "hrss", "何人社")
        s.create_account("zhou.agent", "agent", PASSWORD, display_name="周话务")
        s.create_account("qian.super", "supervisor", PASSWORD, display_name="钱督办")
        s.create_account("wu.callback", "callback", PASSWORD, display_name="吴回访")
        s.create_account("locked.user", "agent", PASSWORD)

    @classmethod
    def tearDownClass(cls):
        cls.stack.kill()

    # ---- helpers -------------------------------------------------------------------------

    def request(self, method, path, body=None, cookie=None, token=None, stream=False):
        connection = http.client.HTTPConnection("127.0.0.1", self.stack.ports["gateway"],
                                                timeout=15)
        headers = {}
        if cookie:
            headers["Cookie"] = "hotline_session=" + cookie
        if token:
            headers["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        if stream:
            return response, connection
        text = response.read().decode("utf-8", "replace")
        connection.close()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return response.status, parsed, response

    def login(self, username, password=PASSWORD):
        status, body, response = self.request("POST", "/api/session",
                                              body={"username": username, "password": password})
        cookie = None
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("hotline_session="):
                cookie = value.split(";")[0].split("=", 1)[1]
        return status, body, cookie

    def session(self, username):
        status, body, cookie = self.login(username)
        self.assertEqual(status, 200, body)
        return cookie

    def audit(self, **filters):
        from hotline.identity.v1 import identity_pb2 as pb
        return list(self.stack.stub("identity").ListAudit(
            pb.ListAuditRequest(page_size=1000, **filters), metadata=self.stack.auth("admin"),
            timeout=10).entries)

    def rest_of_stream(self, response):
        """Everything the event stream sends until the gateway ends it."""
        lines = []
        while True:
            try:
                line = response.fp.readline()
            except OSError:
                break
            if not line:
                break
            lines.append(line.decode())
        return "".join(lines)

    def credential_of(self, cookie):
        from hotline.identity.v1 import identity_pb2 as pb
        return self.stack.stub("identity").RefreshSession(
            pb.RefreshSessionRequest(session_id=cookie), timeout=10).credential

    def grpc_calls(self):
        """One read call per service, each taking the bearer token given."""
        from hotline.kb.v1 import kb_pb2
        from hotline.metrics.v1 import metrics_pb2
        from hotline.ticket.v1 import ticket_pb2
        from hotline.identity.v1 import identity_pb2
        s = self.stack
        return {
            "kb": lambda md: s.stub("kb").Search(kb_pb2.SearchRequest(query="公积金"), metadata=md, timeout=10),
            "ticket": lambda md: s.stub("ticket").GetIntakeSettings(
                ticket_pb2.GetIntakeSettingsRequest(), metadata=md, timeout=10),
            "metrics": lambda md: s.stub("metrics").GetSummary(metrics_pb2.GetSummaryRequest(
                period=metrics_pb2.PeriodSelector(kind=metrics_pb2.PERIOD_KIND_MONTH)), metadata=md, timeout=10),
            "identity": lambda md: s.stub("identity").RecordAudit(identity_pb2.RecordAuditRequest(
                entries=[identity_pb2.AuditEntry(action="probe")]), metadata=md, timeout=10),
        }

    # ---- the tests -------------------------------------------------------------------------

    def test_1_wrong_password_and_unknown_user_get_the_same_answer(self):
        wrong = self.login("zhou.agent", "not the password")
        unknown = self.login("no.such.person", "not the password")
        self.assertEqual(wrong[0], 401)
        self.assertEqual(unknown[0], 401)
        self.assertEqual(wrong[1], unknown[1])
        self.assertIsNone(wrong[2])
        self.assertIsNone(unknown[2])
        # And the right one signs in, with a new session id each time.
        status, body, first = self.login("zhou.agent")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["role"], "agent")
        self.assertEqual(body["display_name"], "周话务")
        self.assertEqual(body["landing"], "/intake.html")
        second = self.session("zhou.agent")
        self.assertNotEqual(first, second)
        self.assertTrue(first.startswith("hls1."))

    def test_2_repeated_failures_lock_and_the_period_unlocks(self):
        checked = 0
        deadline = time.monotonic() + 60
        while True:
            self.assertLess(time.monotonic(), deadline, "never locked")
            status, body, _ = self.login("locked.user", "wrong password!!")
            if status == 429 and "锁定" in body["error"]["message"]:
                break
            self.assertIn(status, (401, 429), body)
            if status == 401:
                checked += 1
            else:
                # Slowed after three failures: the answer says to wait a moment; poll.
                self.assertIn("秒后再试", body["error"]["message"])
                time.sleep(0.2)
        self.assertEqual(checked, 5)  # --lock_after=5 wrong passwords were checked.
        # Locked: even the right password is refused, with the same answer.
        status, body, _ = self.login("locked.user")
        self.assertEqual(status, 429, body)
        self.assertIn("锁定", body["error"]["message"])
        # The lock is per name: someone else signs in meanwhile.
        self.assertEqual(self.login("zhou.agent")[0], 200)
        wait_for(lambda: self.login("locked.user")[0] == 200, 30, "the lock to run out")

    def test_3_logout_ends_the_session_and_its_open_stream(self):
        cookie = self.session("qian.super")
        response, connection = self.request("GET", "/api/dashboard/stream?period=month",
                                            cookie=cookie, stream=True)
        self.assertEqual(response.status, 200)
        first = response.fp.readline()
        self.assertTrue(first)
        status, _, _ = self.request("POST", "/api/logout", body={}, cookie=cookie)
        self.assertEqual(status, 200)
        # The stream ends (its last event says why), and the cookie opens nothing any more.
        rest = self.rest_of_stream(response)
        connection.close()
        self.assertIn("upstream-error", rest)
        status, body, _ = self.request("GET", "/api/summary", cookie=cookie)
        self.assertEqual(status, 401, body)
        # Logout is server-side: the identity service refuses the session id too.
        import grpc
        with self.assertRaises(grpc.RpcError) as refused:
            self.credential_of(cookie)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_4_disabling_and_a_new_password_end_live_sessions_and_streams(self):
        from hotline.identity.v1 import identity_pb2 as pb
        identity = self.stack.stub("identity")
        self.stack.create_account("temp.super", "supervisor", PASSWORD)
        cookie = self.session("temp.super")
        other_browser = self.session("temp.super")
        response, connection = self.request("GET", "/api/dashboard/stream?period=month",
                                            cookie=cookie, stream=True)
        self.assertEqual(response.status, 200)
        identity.SetAccountDisabled(pb.SetAccountDisabledRequest(username="temp.super", disabled=True),
                                    metadata=self.stack.auth("admin"), timeout=10)
        # Noticed at the next renewal (every second here): the stream ends by itself.
        started = time.monotonic()
        rest = self.rest_of_stream(response)
        connection.close()
        self.assertIn("会话已结束", rest)
        self.assertLess(time.monotonic() - started, 15)
        for c in (cookie, other_browser):
            wait_for(lambda: self.request("GET", "/api/summary", cookie=c)[0] == 401, 10,
                     "the disabled account's session to be refused")
        identity.SetAccountDisabled(pb.SetAccountDisabledRequest(username="temp.super", disabled=False),
                                    metadata=self.stack.auth("admin"), timeout=10)
        self.assertEqual(self.request("GET", "/api/summary", cookie=cookie)[0], 401)
        # A new password (the person's own change) ends every session, this one too.
        cookie = self.session("temp.super")
        other_browser = self.session("temp.super")
        status, body, _ = self.request("POST", "/api/password", cookie=cookie,
                                       body={"old_password": PASSWORD, "new_password": "short"})
        self.assertEqual(status, 400, body)
        status, body, _ = self.request("POST", "/api/password", cookie=cookie,
                                       body={"old_password": PASSWORD, "new_password": "another long passphrase"})
        self.assertEqual(status, 200, body)
        for c in (cookie, other_browser):
            wait_for(lambda: self.request("GET", "/api/summary", cookie=c)[0] == 401, 10,
                     "the old sessions to end after the password change")
        self.assertEqual(self.login("temp.super", "another long passphrase")[0], 200)

    def test_5_session_ids_forged_and_expired_credentials_are_refused_by_every_service(self):
        import grpc
        cookie = self.session("zhou.agent")
        credential = self.credential_of(cookie)
        calls = self.grpc_calls()
        # The real credential works everywhere (the kb, tickets, metrics refuse an agent's
        # role for some calls, but not as UNAUTHENTICATED).
        for name, call in calls.items():
            try:
                call((("authorization", "Bearer " + credential),))
            except grpc.RpcError as e:
                self.assertNotEqual(e.code(), grpc.StatusCode.UNAUTHENTICATED, name)
        _, payload, signature = credential.split(".")
        claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode().split("|")
        enc = lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")
        # Signed as the identity service signs, with its own key (read from its key file):
        # only the expiry is wrong.
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        with open(os.path.join(self.stack.work, "credential.key")) as f:
            key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(f.read().strip())[:32])
        stranger = Ed25519PrivateKey.generate()

        def signed(fields, with_key):
            body = "hlc1." + enc("|".join(fields).encode())
            return body + "." + enc(with_key.sign(body.encode()))

        # The genuine key reproduces a valid credential: the forgery below differs only in
        # what it claims.
        self.assertEqual(signed(claims, key), credential)
        other_cookie = self.session("li.water")
        refused = {
            "an agent's credential claiming the supervisor role":
                "hlc1." + enc("|".join([claims[0], "supervisor", "", claims[3], claims[4]]).encode())
                + "." + signature,
            "an expired credential, genuinely signed":
                signed(claims[:4] + [str(int(time.time()) - 5)], key),
            "a credential signed with another key": signed(claims, stranger),
            "the session id itself": cookie,
            "another user's session id": other_cookie,
            "a credential cut short": credential[:-3],
        }
        for what, bearer in refused.items():
            for name, call in calls.items():
                with self.assertRaises(grpc.RpcError, msg="%s at %s" % (what, name)) as e:
                    call((("authorization", "Bearer " + bearer),))
                self.assertEqual(e.exception.code(), grpc.StatusCode.UNAUTHENTICATED,
                                 "%s at %s: %s" % (what, name, e.exception.details()))
        # Through the gateway: a forged or expired credential as a bearer, a made-up session.
        for bearer in (refused["an expired credential, genuinely signed"],
                       refused["a credential signed with another key"]):
            self.assertEqual(self.request("GET", "/api/summary", token=bearer)[0], 401)
        self.assertEqual(self.request("GET", "/api/summary", cookie="hls1." + "A" * 43)[0], 401)

    def test_6_a_department_reaches_no_other_departments_orders(self):
        own = self.driver.dispatched("水表漏水，楼道积水", department="water")
        # A limit far from its deadline: no warning event of the service's own may bump
        # the version while the probes run, so any change below is the probes' doing.
        other = self.driver.dispatched("社保卡补办进度查询无人答复", department="hrss",
                                       hours=240, phone="13900001111")
        other_order = [w for w in other.work_orders if w.department_id == "hrss"][-1]
        cookie = self.session("li.water")
        # Its own order is there.
        status, body, _ = self.request("GET", "/api/department/orders", cookie=cookie)
        self.assertEqual(status, 200, body)
        self.assertIn(own.id, json.dumps(body))
        secret = [other.id, other.content, "13900001111", other_order.id]
        q = urllib.parse.quote
        gets = [
            "/api/tickets/%s" % other.id, "/api/tickets/%s/events" % other.id,
            "/api/tickets/%s/similar" % other.id, "/api/tickets/%s/suggestions" % other.id,
            "/api/tickets", "/api/tickets?page_size=100", "/api/department/orders",
            "/api/department/orders?department_id=hrss", "/api/queues", "/api/callback/queue",
            "/api/callers/13900001111/tickets", "/api/similar?content=" + q(other.content),
            "/api/summary", "/api/summary?period=day", "/api/trend", "/api/overdue",
            "/api/ranking", "/api/ranking.csv", "/api/ranking.xlsx", "/api/admin/accounts",
            "/api/admin/audit", "/api/search?q=" + q("社保卡"), "/api/intake/settings",
            "/api/classify?text=" + q(other.content), "/api/session",
        ]
        for path in gets:
            status, body, _ = self.request("GET", path, cookie=cookie)
            text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
            # A refusal may name the ticket asked for; nothing else of it.
            for s in (secret if status < 400 else secret[1:]):
                self.assertNotIn(s, text, "GET %s (%d) shows another department's order" % (path, status))
        version = self.driver.current(other.id).version
        base = {"expected_version": version, "request_id": "probe-" + os.urandom(6).hex()}
        posts = {
            "sign": {"work_order_id": other_order.id},
            "return": {"work_order_id": other_order.id, "reason": "不是我们的"},
            "note": {"work_order_id": other_order.id, "text": "进展"},
            "extension": {"work_order_id": other_order.id, "extension": {"working_days": 3}, "reason": "需要时间"},
            "reply": {"work_order_id": other_order.id, "reply_text": "已处理"},
            "callback": {"result": "CALLBACK_RESULT_SATISFIED"},
            "urge": {"message": "请尽快"},
            "extension-decision": {"work_order_id": other_order.id, "decision": "approve"},
            "confirm": {}, "reject": {"reason": "x"}, "merge": {"target_ticket_id": own.id},
            "dispatch": {"lead": {"department_id": "water"}},
            "redispatch": {"work_order_id": other_order.id, "lead": {"department_id": "water"}},
            "refuse-return": {"work_order_id": other_order.id, "reason": "x"},
        }
        for action, extra in posts.items():
            body = dict(base, **extra)
            body["request_id"] = "probe-" + os.urandom(6).hex()
            status, reply, _ = self.request("POST", "/api/tickets/%s/%s" % (other.id, action),
                                            body=body, cookie=cookie)
            self.assertIn(status, (400, 403, 404), "POST %s: %s" % (action, reply))
            text = json.dumps(reply, ensure_ascii=False)
            self.assertNotIn(other.content, text, action)
        for path, body in (("/api/tickets", {"request_id": "p1", "ticket": {"content": "x"}}),
                           ("/api/admin/accounts", {"account": {"username": "mallory", "role": "ROLE_ADMIN"},
                                                    "password": PASSWORD})):
            status, reply, _ = self.request("POST", path, body=body, cookie=cookie)
            self.assertIn(status, (400, 403), "POST %s: %s" % (path, reply))
        # Nothing of the other department's ticket changed.
        self.assertEqual(self.driver.current(other.id).version, version)

    def test_7_every_view_of_unmasked_data_is_in_the_audit_trail(self):
        t = self.driver.dispatched("小区门口井盖缺失", department="water", phone="13712345678")
        agent = self.session("zhou.agent")
        water = self.session("li.water")
        before = len(self.audit(ticket_id=t.id))
        status, body, _ = self.request("GET", "/api/tickets/" + t.id, cookie=agent)
        self.assertEqual(status, 200)
        self.assertEqual(body["caller_phone"], "13712345678")
        status, body, _ = self.request("GET", "/api/tickets/%s/events" % t.id, cookie=agent)
        self.assertEqual(status, 200)
        status, body, _ = self.request("GET", "/api/callers/13712345678/tickets", cookie=agent)
        self.assertEqual(status, 200)
        # Lists show the number masked (and so need no entry).
        status, body, _ = self.request("GET", "/api/tickets?page_size=100", cookie=agent)
        listed = [x for x in body["tickets"] if x["id"] == t.id]
        self.assertEqual(listed[0]["caller_phone"], "137****5678")
        # The department sees the number masked, and its view is recorded as such.
        status, body, _ = self.request("GET", "/api/tickets/" + t.id, cookie=water)
        self.assertEqual(body["caller_phone"], "137****5678")
        entries = self.audit(ticket_id=t.id)
        new = entries[:len(entries) - before]
        seen = sorted((e.principal, e.action, e.detail) for e in new)
        self.assertIn(("zhou.agent", "view_ticket", "caller_phone unmasked"), seen)
        self.assertIn(("zhou.agent", "view_ticket_history", ""), seen)
        self.assertIn(("li.water", "view_ticket", "caller_phone masked"), seen)
        callers = [e for e in new if e.action == "view_caller_tickets"]
        self.assertEqual(len(callers), 1)
        self.assertIn(t.id, callers[0].detail)
        for e in new:
            self.assertEqual(e.client_address, "127.0.0.1")
            self.assertTrue(e.session_tag)
        # A change is recorded too, with who and where.
        order = [w for w in t.work_orders if w.department_id == "water"][-1]
        status, body, _ = self.request("POST", "/api/tickets/%s/sign" % t.id, cookie=water, body={
            "work_order_id": order.id, "expected_version": self.driver.current(t.id).version,
            "request_id": "sign-" + os.urandom(6).hex()})
        self.assertEqual(status, 200, body)
        signs = [e for e in self.audit(ticket_id=t.id, action="sign")]
        self.assertEqual([e.principal for e in signs], ["li.water"])
        # The trail is listed for admins only.
        import grpc
        from hotline.identity.v1 import identity_pb2 as pb
        with self.assertRaises(grpc.RpcError) as e:
            self.stack.stub("identity").ListAudit(pb.ListAuditRequest(), metadata=self.stack.auth("supervisor"), timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(self.request("GET", "/api/admin/audit", cookie=agent)[0], 403)

    def test_8_system_tokens_keep_working(self):
        status, body, _ = self.request("GET", "/api/summary", token=self.stack.tokens["supervisor"])
        self.assertEqual(status, 200, body)
        status, body, _ = self.request("POST", "/api/session", body={"token": self.stack.tokens["supervisor"]})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["role"], "supervisor")


if __name__ == "__main__":
    unittest.main(verbosity=2)

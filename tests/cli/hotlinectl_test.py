#!/usr/bin/env python3
"""Drives a real ticket_server through the whole loop with hotlinectl only, as a reviewer, two
departments, an agent and a supervisor would from a terminal: create, confirm, dispatch, return,
re-route, sign, extend, approve, reply, dissatisfied callback (reopen), reply again, satisfied
callback. Checks the JSON each command prints, the history, a department following its
work-order feed with `ticket watch` until Ctrl-C, and a usage error.

Usage: hotlinectl_test.py BUILD_DIR
"""
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests/support"))
from hotline_stack import write_token_file  # noqa: E402
BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build")
CTL = os.path.join(BUILD, "services/hotlinectl/hotlinectl")
SERVER = os.path.join(BUILD, "services/ticket/ticket_server")
ROLES = {
    "agent": "agent-zhang agent",
    "reviewer": "reviewer-liu reviewer",
    "supervisor": "supervisor-chen supervisor",
    "water": "water-system department water",
    "hrss": "hrss-system department hrss",
}


class HotlinectlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="hotlinectl-test-")
        token_file = os.path.join(cls.work, "tokens")
        cls.tokens = write_token_file(token_file, ROLES)
        port_file = os.path.join(cls.work, "port")
        with open(os.path.join(cls.work, "server.log"), "w") as log:
            cls.server = subprocess.Popen(
                [SERVER, "--listen=127.0.0.1:0", "--port_file=" + port_file,
                 "--data_dir=" + os.path.join(cls.work, "data"), "--token_file=" + token_file,
                 "--config=" + os.path.join(ROOT, "deploy/config/ticket.textproto"),
                 "--calendar_dir=" + os.path.join(ROOT, "../shared/data/holiday-cn"),
                 "--redis=127.0.0.1:1"],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file):
            if cls.server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("ticket_server did not start; see " + cls.work)
            time.sleep(0.05)
        with open(port_file) as f:
            cls.address = "127.0.0.1:" + f.read().strip()

    @classmethod
    def tearDownClass(cls):
        cls.server.send_signal(signal.SIGTERM)
        cls.server.wait(timeout=30)

    def ctl(self, role, *args, expect=0):
        env = dict(os.environ, HOTLINE_TOKEN=self.tokens[role])
        run = subprocess.run([CTL, "--ticket=" + self.address, "--json", "ticket"] + list(args),
                             capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual(run.returncode, expect, run.stderr)
        return json.loads(run.stdout.splitlines()[-1]) if expect == 0 and run.stdout else run

    def order(self, ticket, department):
        return [w for w in ticket["workOrders"] if w["departmentId"] == department][-1]

    def test_full_loop_from_the_command_line(self):
        t = self.ctl("agent", "create", "--kind=complaint", "--channel=hotline",
                     "--content=小区供水水压不足", "--caller_phone=13812345678")
        tid = t["id"]
        self.assertEqual(t["state"], "TICKET_STATE_PENDING_REVIEW")
        self.ctl("reviewer", "confirm", tid)
        t = self.ctl("reviewer", "dispatch", tid, "--lead=water")
        self.assertEqual(t["state"], "TICKET_STATE_IN_PROGRESS")
        w = self.order(t, "water")["id"]
        t = self.ctl("water", "return", tid, "--work_order=" + w, "--reason=应由人社部门办理")
        self.assertEqual(t["state"], "TICKET_STATE_PENDING_REDISPATCH")
        self.assertEqual(t["callerPhone"], "138****5678")  # Departments see it masked.
        t = self.ctl("reviewer", "redispatch", tid, "--work_order=" + w, "--to=hrss")
        h = self.order(t, "hrss")["id"]
        self.ctl("hrss", "sign", tid, "--work_order=" + h)
        self.ctl("hrss", "extend", tid, "--work_order=" + h, "--days=5", "--reason=需调取档案")
        t = self.ctl("supervisor", "decide-extension", tid, "--work_order=" + h, "--approve")
        self.assertEqual(self.order(t, "hrss")["extension"]["state"], "EXTENSION_STATE_APPROVED")
        t = self.ctl("hrss", "reply", tid, "--work_order=" + h, "--text=已处理")
        self.assertEqual(t["state"], "TICKET_STATE_PENDING_CALLBACK")
        t = self.ctl("agent", "callback", tid, "--result=dissatisfied")
        self.assertEqual(t["state"], "TICKET_STATE_IN_PROGRESS")
        self.assertEqual(t["cycle"], 2)
        h2 = self.order(t, "hrss")["id"]
        self.assertNotEqual(h, h2)
        self.ctl("hrss", "sign", tid, "--work_order=" + h2)
        self.ctl("hrss", "reply", tid, "--work_order=" + h2, "--text=已再次处理")
        t = self.ctl("agent", "callback", tid, "--result=satisfied")
        self.assertEqual(t["state"], "TICKET_STATE_CLOSED")
        full = self.ctl("supervisor", "get", tid, "--events")
        types = [e["type"] for e in full["events"]]
        for expected in ("EVENT_TYPE_WORK_ORDER_RETURNED", "EVENT_TYPE_EXTENSION_APPROVED",
                         "EVENT_TYPE_TICKET_REOPENED", "EVENT_TYPE_TICKET_CLOSED"):
            self.assertIn(expected, types)
        self.assertEqual(full["callerPhone"], "13812345678")

    def test_an_answer_on_the_spot_from_the_command_line(self):
        t = self.ctl("agent", "answer", "--kind=consultation", "--channel=hotline",
                     "--content=租房提取公积金要什么材料", "--caller_phone=13812345678",
                     "--answer=需提供租赁合同和完税证明，可在线办理",
                     "--cite=kb-fund-rent@3#2,kb-fund-guide", "--request_id=cli-answer-1")
        self.assertEqual(t["state"], "TICKET_STATE_CLOSED")
        citations = t["directAnswer"]["citations"]
        self.assertEqual([(c["entryId"], c.get("entryVersion"), c.get("passageOrdinal", 0))
                          for c in citations],
                         [("kb-fund-rent", "3", 2), ("kb-fund-guide", None, 0)])
        # Retried with the same request id: the same ticket, nothing new.
        again = self.ctl("agent", "answer", "--kind=consultation", "--channel=hotline",
                         "--content=租房提取公积金要什么材料", "--caller_phone=13812345678",
                         "--answer=需提供租赁合同和完税证明，可在线办理",
                         "--cite=kb-fund-rent@3#2,kb-fund-guide", "--request_id=cli-answer-1")
        self.assertEqual(again["id"], t["id"])
        # Readable output names the answer and what it cites.
        env = dict(os.environ, HOTLINE_TOKEN=self.tokens["supervisor"])
        text = subprocess.run([CTL, "--ticket=" + self.address, "ticket", "get", t["id"],
                               "--events"], capture_output=True, text=True, env=env,
                              timeout=30).stdout
        self.assertIn("answered on the spot (当场答复)", text)
        self.assertIn("cites kb-fund-rent#2", text)
        self.assertIn("answered-directly", text)
        # A complaint needs a department; a missing answer is a usage error.
        refused = self.ctl("agent", "answer", "--kind=complaint", "--channel=hotline",
                           "--content=噪音扰民", "--answer=已解释", expect=1)
        self.assertIn("direct_answer", refused.stderr)
        usage = self.ctl("agent", "answer", "--kind=consultation", "--channel=hotline",
                         "--content=问题", expect=2)
        self.assertIn("--answer", usage.stderr)
        bad_cite = self.ctl("agent", "answer", "--kind=consultation", "--channel=hotline",
                            "--content=问题", "--answer=答复", "--cite=kb#x", expect=2)
        self.assertIn("--cite", bad_cite.stderr)

    def test_a_department_watches_its_work_orders_until_ctrl_c(self):
        env = dict(os.environ, HOTLINE_TOKEN=self.tokens["water"])
        with subprocess.Popen([CTL, "--ticket=" + self.address, "--json", "ticket", "watch"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env) as watch:
            try:
                # A work order dispatched to water while the watch runs reaches it (from the
                # feed's start, so it cannot slip past a watch that is still connecting).
                t = self.ctl("agent", "create", "--kind=complaint", "--channel=hotline",
                             "--content=主干道水管爆裂", "--caller_phone=13912345678")
                self.ctl("reviewer", "confirm", t["id"])
                self.ctl("reviewer", "dispatch", t["id"], "--lead=water")
                # Lines are read on a thread, so that waiting for one has a deadline.
                lines = queue.Queue()
                threading.Thread(target=lambda: [lines.put(l) for l in watch.stdout],
                                 daemon=True).start()
                deadline = time.monotonic() + 30
                seen = False
                while not seen:
                    try:
                        line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                    except queue.Empty:
                        self.fail("no work-order event for " + t["id"])
                    seen = t["id"] in line and "event" in json.loads(line)
            finally:
                watch.send_signal(signal.SIGINT)  # Ctrl-C
                _, errors = watch.communicate(timeout=10)
            self.assertEqual(watch.returncode, 0, errors)

    def test_errors_are_clear(self):
        run = self.ctl("agent", "create", "--kind=nonsense", "--channel=hotline",
                       "--content=x", expect=2)
        self.assertIn("complaint", run.stderr)  # Lists the valid kinds.
        t = self.ctl("agent", "create", "--kind=consultation", "--channel=web", "--content=咨询")
        run = self.ctl("water", "confirm", t["id"], expect=1)
        self.assertIn("PERMISSION_DENIED", run.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)

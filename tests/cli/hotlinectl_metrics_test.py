#!/usr/bin/env python3
"""The metrics commands of hotlinectl against real servers: a Redis, a ticket_server publishing its
events to it and a metrics_server reading them. A ticket is taken round the loop with hotlinectl
(create, confirm, dispatch, sign, reply, satisfied callback: closed on time), and then
`hotlinectl metrics summary --json` must show it: one dispatched work order, one satisfied
callback, one cycle completed on time. Also checks the text output, trend, overdue, the first
line of `metrics watch` and its clean exit on Ctrl-C, and the errors (role, bad value, wrong
flag).

Usage: hotlinectl_metrics_test.py BUILD_DIR
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests/support"))
from hotline_stack import free_port, wait_for, write_token_file  # noqa: E402
BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build")
CTL = os.path.join(BUILD, "services/hotlinectl/hotlinectl")
CONFIG = os.path.join(ROOT, "deploy/config/ticket.textproto")
CALENDARS = os.path.join(ROOT, "../shared/data/holiday-cn")
ROLES = {
    "agent": "agent-zhang agent",
    "reviewer": "reviewer-liu reviewer",
    "supervisor": "supervisor-chen supervisor",
    "water": "water-system department water",
    "hrss": "hrss-system department hrss",
}


def shanghai_date(offset_days=0):
    """A date in the hotline's time zone (UTC+8, no daylight saving), whatever the machine's."""
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600 + offset_days * 86400))


def count(rate, field):
    # Protobuf's JSON mapping leaves out zeros and writes int64 as strings.
    return int(rate.get(field, 0))


class HotlinectlMetricsTest(unittest.TestCase):
    processes = []

    @classmethod
    def setUpClass(cls):
        try:
            cls.start_servers()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def start_servers(cls):
        cls.work = tempfile.mkdtemp(prefix="hotlinectl-metrics-test-")
        token_file = os.path.join(cls.work, "tokens")
        cls.tokens = write_token_file(token_file, ROLES)
        redis_port = free_port()
        cls.spawn("redis", ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                            "--dir", cls.work, "--save", "", "--appendonly", "no"])

        def redis_answers():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", redis_port)) == 0
        wait_for(redis_answers, 20, "redis-server")
        common = ["--listen=127.0.0.1:0", "--token_file=" + token_file,
                  "--redis=127.0.0.1:%d" % redis_port, "--calendar_dir=" + CALENDARS]
        ticket = cls.spawn("ticket", [os.path.join(BUILD, "services/ticket/ticket_server")] +
                           common + ["--config=" + CONFIG] + cls.server_files("ticket"))
        metrics = cls.spawn("metrics", [os.path.join(BUILD, "services/metrics/metrics_server")] +
                            common + ["--ticket_config=" + CONFIG] + cls.server_files("metrics"))
        cls.ticket_address = "127.0.0.1:%d" % cls.port(ticket, "ticket")
        cls.metrics_address = "127.0.0.1:%d" % cls.port(metrics, "metrics")

    @classmethod
    def spawn(cls, name, args):
        with open(os.path.join(cls.work, name + ".log"), "w") as log:
            process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        cls.processes.append(process)
        return process

    @classmethod
    def server_files(cls, name):
        return ["--port_file=" + os.path.join(cls.work, name + ".port"),
                "--data_dir=" + os.path.join(cls.work, name + "-data")]

    @classmethod
    def port(cls, process, name):
        port_file = os.path.join(cls.work, name + ".port")
        wait_for(lambda: os.path.exists(port_file) or process.poll() is not None, 30,
                 name + "_server to serve")
        if process.poll() is not None:
            raise RuntimeError(name + "_server exited; see " + cls.work)
        with open(port_file) as f:
            return int(f.read())

    @classmethod
    def tearDownClass(cls):
        for process in cls.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in cls.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def run_ctl(self, role, *args, expect=0):
        env = dict(os.environ, HOTLINE_TOKEN=self.tokens[role])
        run = subprocess.run([CTL, "--ticket=" + self.ticket_address,
                              "--metrics=" + self.metrics_address] + list(args),
                             capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual(run.returncode, expect, run.stdout + run.stderr)
        return run

    def ticket(self, role, *args):
        return json.loads(self.run_ctl(role, "--json", "ticket", *args).stdout.splitlines()[-1])

    def metrics_json(self, *args):
        run = self.run_ctl("supervisor", "--json", "metrics", *args)
        return json.loads(run.stdout.splitlines()[-1])

    def close_a_ticket_through_the_loop(self):
        t = self.ticket("agent", "create", "--kind=consultation", "--channel=hotline",
                        "--content=咨询社保卡补办", "--caller_phone=13812345678")
        self.ticket("reviewer", "confirm", t["id"])
        t = self.ticket("reviewer", "dispatch", t["id"], "--lead=hrss")
        w = t["workOrders"][0]["id"]
        self.ticket("hrss", "sign", t["id"], "--work_order=" + w)
        self.ticket("hrss", "reply", t["id"], "--work_order=" + w, "--text=已告知补办流程")
        t = self.ticket("agent", "callback", t["id"], "--result=satisfied")
        self.assertEqual(t["state"], "TICKET_STATE_CLOSED")
        return t

    def test_1_a_ticket_closed_through_the_loop_shows_in_the_summary(self):
        closed = self.close_a_ticket_through_the_loop()
        deadline = closed["workOrders"][0]["deadline"]

        def today():
            return self.metrics_json("summary", "--period=day")["totals"]
        wait_for(lambda: count(today().get("callbackSatisfactionRate", {}), "numerator") == 1,
                 20, "the metrics service to apply the ticket's events")
        totals = today()
        self.assertEqual(count(totals["callbackSatisfactionRate"], "denominator"), 1)
        self.assertEqual(count(totals["returnRate"], "denominator"), 1)  # One work order sent.
        self.assertEqual(count(totals.get("backlog", {}), "openTotal"), 0)
        # The on-time result counts in the period holding the deadline (a few working days
        # ahead), so ask for a window from today past it.
        start, end = shanghai_date(-1), shanghai_date(40)
        window = self.metrics_json("summary", "--start=" + start, "--end=" + end,
                                   "--by=department")
        rate = window["totals"]["onTimeCompletionRate"]
        self.assertEqual((count(rate, "numerator"), count(rate, "denominator")), (1, 1), deadline)
        self.assertTrue(rate["hasValue"])
        rows = window["rows"]
        # The hotline's own row (department "") holds the intake, for first-contact resolution.
        self.assertEqual([r["key"].get("departmentId", "") for r in rows], ["", "hrss"])
        self.assertEqual(rows[0]["displayName"], "12345热线")
        fcr = rows[0]["figures"]["firstContactResolutionRate"]
        self.assertEqual((count(fcr, "numerator"), count(fcr, "denominator")), (0, 1))
        self.assertEqual(rows[1]["displayName"], "市人力资源和社会保障局")

        text = self.run_ctl("supervisor", "metrics", "summary", "--start=" + start,
                            "--end=" + end).stdout
        self.assertRegex(text, r"按期办结率\s+100\.0%\s+1/1")
        self.assertRegex(text, r"回访满意率\s+100\.0%\s+1/1")
        self.assertIn("未办结 0 件", text)
        # The water bureau had nothing due: no rate, shown as "—", never as 0%.
        empty = self.run_ctl("supervisor", "metrics", "summary", "--period=day",
                             "--department=water").stdout
        self.assertRegex(empty, r"按期办结率\s+—\s+0/0")

    def test_2_trend_overdue_and_status(self):
        trend = self.metrics_json("trend", "--period=day", "--count=3")
        self.assertEqual(len(trend["points"]), 3)
        self.assertEqual(trend["points"][-1]["period"]["label"], shanghai_date())
        text = self.run_ctl("supervisor", "metrics", "trend", "--period=week", "--count=2").stdout
        self.assertEqual(len(text.strip().splitlines()), 4, text)  # Header, 2 weeks, data line.
        overdue = self.metrics_json("overdue", "--warning=red")
        self.assertEqual(overdue.get("items", []), [])  # Nothing is past its deadline.
        self.assertIn("共 0 件预警工单", self.run_ctl("supervisor", "metrics", "overdue").stdout)
        status = self.metrics_json("status")
        self.assertEqual(status["consumerState"], "CONSUMER_STATE_LIVE")

    def test_3_watch_prints_the_dashboard_until_ctrl_c(self):
        env = dict(os.environ, HOTLINE_TOKEN=self.tokens["reviewer"])
        with subprocess.Popen([CTL, "--metrics=" + self.metrics_address, "metrics", "watch",
                               "--period=week"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) as watch:
            try:
                first = watch.stdout.readline()
                self.assertIn("[初始]", first)
                self.assertRegex(first, r"按期办结率 \S+ \(\d+/\d+\)  回访满意率")
            finally:
                watch.send_signal(signal.SIGINT)  # Ctrl-C
                _, errors = watch.communicate(timeout=10)
            self.assertEqual(watch.returncode, 0, errors)

    def test_4_errors_are_clear(self):
        run = self.run_ctl("agent", "metrics", "summary", expect=1)
        self.assertIn("PERMISSION_DENIED", run.stderr)
        run = self.run_ctl("water", "metrics", "summary", "--department=hrss", expect=1)
        self.assertIn("PERMISSION_DENIED", run.stderr)
        run = self.run_ctl("supervisor", "metrics", "summary", "--period=year", expect=2)
        self.assertIn("day 日, week 周, month 月", run.stderr)
        run = self.run_ctl("supervisor", "metrics", "overdue", "--period=day", expect=2)
        self.assertIn("does not take --period", run.stderr)
        run = self.run_ctl("supervisor", "metrics", "summary", "--start=2026-01-01", expect=2)
        self.assertIn("--start and --end go together", run.stderr)
        run = self.run_ctl("supervisor", "metrics", "nonsense", expect=2)
        self.assertIn("metrics help", run.stderr)
        self.assertIn("watch", self.run_ctl("supervisor", "metrics", "help").stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""Runs the demo scenario as scripts/run.sh does on a fresh data directory, in fast motion: a real
Redis, a ticket_server whose demo clock replays the last 8 working days in 20 seconds, a
metrics_server on real time, and hotline_simulator until the ticket service has caught up with
real time. Then checks, through the ticket service's ListTickets and the metrics service's
GetSummary, that the demo shows what it promises a newcomer: tickets closed on time and late,
returns re-routed, reopened tickets, extensions, callbacks of every kind, an overdue (red) work
order, several departments, and that the metrics service's figures agree with the tickets.

Usage: simulator_test.py BUILD_DIR
"""
import hashlib
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
from hotline_stack import free_port, generate_protos, wait_for  # noqa: E402
BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build")
WORK = tempfile.mkdtemp(prefix="hotline-simulator-")
CONFIG = os.path.join(ROOT, "deploy/config/ticket.textproto")
CALENDARS = os.path.join(ROOT, "../shared/data/holiday-cn")
HISTORY_WORKING_DAYS = 8
CATCH_UP_SECONDS = 20
DEPARTMENTS = ["hrss", "medical-insurance", "housing-fund", "public-security", "traffic-police",
               "housing", "water", "urban-management", "market-regulation", "civil-affairs",
               "ecology-environment", "education", "transport"]


generate_protos(WORK)
import grpc  # noqa: E402
from hotline.metrics.v1 import metrics_pb2, metrics_pb2_grpc  # noqa: E402
from hotline.ticket.v1 import ticket_pb2, ticket_pb2_grpc  # noqa: E402


def write_tokens():
    """The token file and the demo-tokens.env the simulator reads, as scripts/run.sh writes them."""
    principals = [("AGENT_TOKEN", "agent-demo agent"), ("REVIEWER_TOKEN", "reviewer-demo reviewer"),
                  ("SUPERVISOR_TOKEN", "supervisor-demo supervisor")]
    for d in DEPARTMENTS:
        principals.append((d.upper().replace("-", "_") + "_TOKEN",
                           "%s-system department %s" % (d, d)))
    tokens = {}
    with open(os.path.join(WORK, "tokens"), "w") as hashes, \
            open(os.path.join(WORK, "demo-tokens.env"), "w") as env:
        for variable, rest in principals:
            token = "t-%s-%s" % (variable.lower(), os.urandom(6).hex())
            tokens[variable] = token
            hashes.write(hashlib.sha256(token.encode()).hexdigest() + " " + rest + "\n")
            env.write("export %s=%s\n" % (variable, token))
    return tokens


class SimulatorTest(unittest.TestCase):
    processes = {}

    @classmethod
    def setUpClass(cls):
        try:
            cls.run_the_demo()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def start(cls, name, args):
        with open(os.path.join(WORK, name + ".log"), "w") as log:
            cls.processes[name] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)

    @classmethod
    def port_of(cls, name):
        port_file = os.path.join(WORK, name + ".port")
        wait_for(lambda: os.path.exists(port_file) or cls.processes[name].poll() is not None,
                 30, name + " to serve")
        if cls.processes[name].poll() is not None:
            raise RuntimeError(name + " exited; see " + WORK)
        with open(port_file) as f:
            return int(f.read())

    @classmethod
    def run_the_demo(cls):
        tokens = write_tokens()
        cls.supervisor = (("authorization", "Bearer " + tokens["SUPERVISOR_TOKEN"]),)
        redis_port = free_port()
        cls.start("redis", ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                            "--dir", WORK, "--save", "", "--appendonly", "no"])

        def redis_answers():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", redis_port)) == 0
        wait_for(redis_answers, 20, "redis-server")
        common = ["--listen=127.0.0.1:0", "--token_file=" + os.path.join(WORK, "tokens"),
                  "--redis=127.0.0.1:%d" % redis_port, "--calendar_dir=" + CALENDARS]
        cls.start("ticket", [os.path.join(BUILD, "services/ticket/ticket_server")] + common + [
            "--port_file=" + os.path.join(WORK, "ticket.port"),
            "--data_dir=" + os.path.join(WORK, "ticket-data"), "--config=" + CONFIG,
            "--demo_history_working_days=%d" % HISTORY_WORKING_DAYS,
            "--demo_catch_up=%ds" % CATCH_UP_SECONDS, "--tick=100ms"])
        cls.start("metrics", [os.path.join(BUILD, "services/metrics/metrics_server")] + common + [
            "--port_file=" + os.path.join(WORK, "metrics.port"),
            "--data_dir=" + os.path.join(WORK, "metrics-data"), "--ticket_config=" + CONFIG])
        ticket_address = "127.0.0.1:%d" % cls.port_of("ticket")
        cls.ticket = ticket_pb2_grpc.TicketServiceStub(grpc.insecure_channel(ticket_address))
        cls.metrics = metrics_pb2_grpc.MetricsServiceStub(
            grpc.insecure_channel("127.0.0.1:%d" % cls.port_of("metrics")))

        simulator = subprocess.run(
            [os.path.join(BUILD, "services/simulator/hotline_simulator"),
             "--ticket=" + ticket_address, "--tokens_env=" + os.path.join(WORK, "demo-tokens.env"),
             "--config=" + CONFIG, "--seed=2026", "--exit_when_caught_up"],
            capture_output=True, text=True, timeout=CATCH_UP_SECONDS + 40)
        cls.simulator_log = simulator.stderr
        if simulator.returncode != 0:
            raise RuntimeError("the simulator failed:\n" + simulator.stderr[-3000:])
        cls.tickets = cls.list_all_tickets()
        cls.now = time.time()

    @classmethod
    def list_all_tickets(cls):
        tickets, token = [], ""
        while True:
            page = cls.ticket.ListTickets(ticket_pb2.ListTicketsRequest(
                page_size=500, page_token=token), metadata=cls.supervisor, timeout=10)
            tickets.extend(page.tickets)
            token = page.next_page_token
            if not token:
                return tickets

    @classmethod
    def tearDownClass(cls):
        for process in cls.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in cls.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def work_orders(self, predicate):
        return [(t, w) for t in self.tickets for w in t.work_orders if predicate(t, w)]

    def test_the_simulator_played_without_failed_steps(self):
        self.assertIn("failed steps 0", self.simulator_log, self.simulator_log[-2000:])
        self.assertGreaterEqual(len(self.tickets), 40)

    def test_the_history_lies_in_the_past_and_spans_the_working_days(self):
        created = [t.create_time.seconds for t in self.tickets]
        # Everything happened before now: the demo clock never runs ahead of real time.
        self.assertLessEqual(max(t.update_time.seconds for t in self.tickets), self.now)
        # The first tickets are about a week and a half old (8 working days, at least 10
        # calendar days, minus the time the simulator took to connect).
        self.assertLess(min(created), self.now - 7 * 86400)

    def test_tickets_closed_on_time_and_late(self):
        S, W = ticket_pb2, ticket_pb2
        closed = [t for t in self.tickets if t.state == S.TICKET_STATE_CLOSED]
        on_time = [t for t in closed if any(
            w.state == W.WORK_ORDER_STATE_REPLIED and w.on_time for w in t.work_orders)]
        late = [t for t in closed if any(
            w.state == W.WORK_ORDER_STATE_REPLIED and not w.on_time for w in t.work_orders)]
        self.assertGreaterEqual(len(on_time), 10)
        self.assertGreaterEqual(len(late), 2)
        for t in late:  # Late means the reply really came after the deadline in force.
            for w in t.work_orders:
                if w.state == W.WORK_ORDER_STATE_REPLIED and not w.on_time:
                    self.assertGreater(w.reply_time.ToNanoseconds(), w.deadline.ToNanoseconds())

    def test_returns_extensions_reopens_and_callbacks(self):
        W = ticket_pb2
        self.assertTrue(self.work_orders(
            lambda t, w: w.state == W.WORK_ORDER_STATE_REDISPATCHED and w.return_reason),
            "no work order was returned and re-routed")
        self.assertTrue(self.work_orders(
            lambda t, w: w.extension.state == W.EXTENSION_STATE_APPROVED and w.on_time
            and w.reply_time.ToNanoseconds() > w.original_deadline.ToNanoseconds()),
            "no reply was on time thanks to an approved extension")
        self.assertTrue(self.work_orders(
            lambda t, w: w.extension.state == W.EXTENSION_STATE_REFUSED))
        self.assertTrue([t for t in self.tickets if t.cycle >= 2], "no ticket was reopened")
        results = {c.result for t in self.tickets for c in t.callbacks}
        for r in (W.CALLBACK_RESULT_SATISFIED, W.CALLBACK_RESULT_BASICALLY_SATISFIED,
                  W.CALLBACK_RESULT_DISSATISFIED, W.CALLBACK_RESULT_UNREACHABLE):
            self.assertIn(r, results, W.CallbackResult.Name(r))
        states = {t.state for t in self.tickets}
        self.assertIn(W.TICKET_STATE_REJECTED, states)
        self.assertTrue(self.work_orders(lambda t, w: w.urge_count > 0), "nobody was urged")

    def test_an_overdue_red_work_order_and_several_departments(self):
        W = ticket_pb2
        red = self.work_orders(lambda t, w: w.warning_level == W.WARNING_LEVEL_RED)
        self.assertTrue(red, "no open work order is overdue")
        for t, w in red:
            self.assertLess(w.deadline.seconds, self.now)
        leads = {w.department_id for t, w in self.work_orders(
            lambda t, w: w.role == W.WORK_ORDER_ROLE_LEAD)}
        self.assertGreaterEqual(len(leads), 6, leads)

    def summary(self):
        M = metrics_pb2
        start = min(t.create_time.seconds for t in self.tickets)
        request = M.GetSummaryRequest(group_by=M.DIMENSION_DEPARTMENT)
        request.range.start.seconds = start
        request.range.end.seconds = int(time.time())
        return self.metrics.GetSummary(request, metadata=self.supervisor, timeout=10)

    def test_the_metrics_service_shows_it_and_agrees_with_the_tickets(self):
        W = ticket_pb2
        open_states = (W.WORK_ORDER_STATE_PENDING_SIGN, W.WORK_ORDER_STATE_SIGNED,
                       W.WORK_ORDER_STATE_RETURNED)
        red_in_tickets = len(self.work_orders(
            lambda t, w: w.state in open_states and w.warning_level == W.WARNING_LEVEL_RED))
        replied = self.work_orders(
            lambda t, w: w.state == W.WORK_ORDER_STATE_REPLIED
            and w.deadline.seconds < self.now)  # Deadlines inside the summary's range.
        on_time_in_tickets = sum(1 for t, w in replied if w.on_time)
        late_in_tickets = len(replied) - on_time_in_tickets

        # The metrics service follows the event stream; wait until it has applied everything.
        def caught_up():
            s = self.summary().totals
            return (s.backlog.red_count == red_in_tickets
                    and s.on_time_completion_rate.numerator == on_time_in_tickets)
        wait_for(caught_up, 20, "the metrics service to apply the simulator's events")
        response = self.summary()
        totals = response.totals
        rate = totals.on_time_completion_rate
        self.assertGreater(rate.numerator, 0)
        # Late replies and open overdue cycles count in the denominator only.
        self.assertGreaterEqual(rate.denominator - rate.numerator, late_in_tickets + 1)
        self.assertGreater(totals.callback_satisfaction_rate.denominator, 0)
        self.assertLess(totals.callback_satisfaction_rate.numerator,
                        totals.callback_satisfaction_rate.denominator)
        self.assertGreater(totals.callbacks_unreachable, 0)
        self.assertGreater(totals.return_rate.numerator, 0)
        self.assertGreater(totals.reopen_rate.numerator, 0)
        self.assertGreater(totals.backlog.red_count, 0)
        self.assertGreater(totals.backlog.open_total, 0)
        self.assertGreaterEqual(len(response.rows), 6)
        overdue = self.metrics.ListOverdue(metrics_pb2.ListOverdueRequest(
            warning_levels=[metrics_pb2.WARNING_LEVEL_RED]), metadata=self.supervisor, timeout=10)
        self.assertEqual(len(overdue.items), red_in_tickets)

    def test_z_the_demo_clock_is_refused_once_events_are_stored(self):
        # Run last: it stops the ticket server. Restarting it with a demo clock on its own data
        # would stamp new events before the stored ones, so the server refuses to start.
        ticket = self.processes["ticket"]
        ticket.send_signal(signal.SIGTERM)
        self.assertEqual(ticket.wait(timeout=30), 0)
        restart = subprocess.run(
            [os.path.join(BUILD, "services/ticket/ticket_server"), "--listen=127.0.0.1:0",
             "--token_file=" + os.path.join(WORK, "tokens"), "--redis=127.0.0.1:1",
             "--calendar_dir=" + CALENDARS, "--config=" + CONFIG,
             "--data_dir=" + os.path.join(WORK, "ticket-data"),
             "--demo_history_working_days=3"], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(restart.returncode, 0)
        self.assertIn("already holds", restart.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)

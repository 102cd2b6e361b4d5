#!/usr/bin/env python3
"""Runs the README's first command, scripts/run.sh, as a newcomer would (on free ports and a
temporary data directory), and checks that Redis and the three services come up SERVING, that
a ticket can be created and reaches the event stream, that each server serves Prometheus
metrics, and that Ctrl-C stops everything cleanly and keeps the data.

Usage: run_sh_test.py BUILD_DIR
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests/support"))
from hotline_stack import free_port, wait_for  # noqa: E402
BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build")
CTL = os.path.join(BUILD, "services/hotlinectl/hotlinectl")


class RunScriptTest(unittest.TestCase):
    def test_run_sh_brings_up_the_system_and_stops_it(self):
        data = tempfile.mkdtemp(prefix="hotline-run-")
        ports = {name: free_port() for name in (
            "HOTLINE_REDIS_PORT", "HOTLINE_KB_GRPC_PORT", "HOTLINE_TICKET_GRPC_PORT",
            "HOTLINE_METRICS_GRPC_PORT", "HOTLINE_KB_PROMETHEUS_PORT",
            "HOTLINE_TICKET_PROMETHEUS_PORT", "HOTLINE_METRICS_PROMETHEUS_PORT",
            "HOTLINE_GATEWAY_PORT", "HOTLINE_IDENTITY_GRPC_PORT",
            "HOTLINE_IDENTITY_PROMETHEUS_PORT", "HOTLINE_PORTAL_PORT")}
        env = dict(os.environ, HOTLINE_DATA_DIR=data, HOTLINE_BUILD=BUILD,
                   **{k: str(v) for k, v in ports.items()})
        log_path = os.path.join(data, "run.out")
        started = time.monotonic()
        with open(log_path, "w") as log:
            run = subprocess.Popen(["bash", os.path.join(ROOT, "scripts/run.sh")], env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            def output():
                with open(log_path) as f:
                    return f.read()
            wait_for(lambda: "Ctrl-C stops everything" in output() or run.poll() is not None,
                     300, "run.sh to report the system running")
            self.assertIsNone(run.poll(), output())
            self.assertIn("SERVING", output())

            with open(os.path.join(data, "demo-tokens.env")) as f:
                tokens = dict(re.findall(r"export (\w+)=(\S+)", f.read()))
            addresses = ["--kb=127.0.0.1:%d" % ports["HOTLINE_KB_GRPC_PORT"],
                         "--ticket=127.0.0.1:%d" % ports["HOTLINE_TICKET_GRPC_PORT"],
                         "--metrics=127.0.0.1:%d" % ports["HOTLINE_METRICS_GRPC_PORT"]]
            health = subprocess.run([CTL] + addresses + ["health"], capture_output=True,
                                    text=True, timeout=30)
            self.assertEqual(health.returncode, 0, health.stdout + health.stderr)
            self.assertEqual(health.stdout.count("SERVING"), 3, health.stdout)

            created = subprocess.run(
                [CTL] + addresses + ["ticket", "create", "--kind=complaint", "--channel=hotline",
                                     "--content=小区停水三天"],
                capture_output=True, text=True, timeout=30,
                env=dict(os.environ, HOTLINE_TOKEN=tokens["AGENT_TOKEN"]))
            self.assertEqual(created.returncode, 0, created.stderr)

            def scrape(port):
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
                    return r.read().decode()
            ticket_metrics = scrape(ports["HOTLINE_TICKET_PROMETHEUS_PORT"])
            self.assertRegex(ticket_metrics, r'grpc_server_handled_total\{[^}]*'
                             r'grpc_method="CreateTicket"')
            # The ticket's event reaches the Redis stream through the outbox relay (the demo
            # simulator is creating tickets too, so wait for everything committed so far).
            def sequence(name):
                found = re.search(r"^hotline_ticket_%s_sequence (\d+)" % name,
                                  scrape(ports["HOTLINE_TICKET_PROMETHEUS_PORT"]), re.M)
                return int(found.group(1)) if found else 0
            committed = sequence("committed")
            self.assertGreaterEqual(committed, 1)
            wait_for(lambda: sequence("published") >= committed, 30, "the event to be published")
            # The demo simulator keeps the loop moving: more tickets follow without anyone typing.
            wait_for(lambda: sequence("committed") > committed, 60, "the simulator to act")
            self.assertIn("hotline_worker_queue_length",
                          scrape(ports["HOTLINE_KB_PROMETHEUS_PORT"]))
            self.assertIn("grpc_server", scrape(ports["HOTLINE_METRICS_PROMETHEUS_PORT"]))
            # The web dashboard answers, and its address comes with the token to log in with.
            gateway = "http://127.0.0.1:%d" % ports["HOTLINE_GATEWAY_PORT"]
            with urllib.request.urlopen(gateway + "/healthz", timeout=5) as r:
                self.assertEqual(r.status, 200)
            self.assertIn(gateway + "/", output())
            # The citizens' portal answers on its own port, without signing in.
            portal = "http://127.0.0.1:%d" % ports["HOTLINE_PORTAL_PORT"]
            self.assertIn(portal + "/", output())
            with urllib.request.urlopen(portal + "/api/public/search?q=" +
                                        urllib.parse.quote("公积金"), timeout=10) as r:
                self.assertTrue(json.loads(r.read())["hits"])
            self.assertIn(tokens["SUPERVISOR_TOKEN"], output())
            # The demo accounts are printed, and a person signs in with one.
            with open(os.path.join(data, "demo-accounts.txt")) as f:
                accounts = {line.split()[0]: line.split()[1] for line in f if line.strip()}
            self.assertEqual(set(accounts), {"zhang.agent", "li.reviewer", "wang.water",
                                             "zhao.housing", "chen.callback", "liu.supervisor",
                                             "sun.editor", "admin"})
            self.assertIn(accounts["liu.supervisor"], output())
            login = urllib.request.Request(
                gateway + "/api/session", method="POST",
                data=json.dumps({"username": "liu.supervisor",
                                 "password": accounts["liu.supervisor"]}).encode(),
                headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(login, timeout=10) as r:
                self.assertEqual(json.loads(r.read().decode())["landing"], "/overview.html")
                cookie = r.headers["Set-Cookie"].split(";")[0]
            with urllib.request.urlopen(urllib.request.Request(
                    gateway + "/api/summary", headers={"Cookie": cookie}), timeout=10) as r:
                self.assertEqual(r.status, 200)

            # Within a minute of starting, the dashboard shows figures of the running services:
            # the replayed history has tickets answered (on time or late) and called back, in
            # several departments. The gateway takes them from the metrics service.
            def summary():
                request = urllib.request.Request(
                    gateway + "/api/summary?period=month",
                    headers={"Authorization": "Bearer " + tokens["SUPERVISOR_TOKEN"]})
                with urllib.request.urlopen(request, timeout=5) as r:
                    return json.loads(r.read().decode())
            def lively():
                figures = summary()
                totals = figures["totals"]
                return (int(totals["on_time_completion_rate"]["denominator"]) > 0 and
                        int(totals["callback_satisfaction_rate"]["denominator"]) > 0 and
                        len(figures["rows"]) >= 3)
            wait_for(lively, max(1, 60 - (time.monotonic() - started)),
                     "the dashboard to show figures within a minute of starting")
            # The same figures as the metrics service reports to a command-line client (the
            # simulator keeps moving, so compare what is only ever added: the month's totals
            # never shrink between the two reads).
            through_gateway = summary()["totals"]
            direct = subprocess.run(
                [CTL] + addresses + ["metrics", "summary", "--period=month", "--json"],
                capture_output=True, text=True, timeout=30,
                env=dict(os.environ, HOTLINE_TOKEN=tokens["SUPERVISOR_TOKEN"]))
            self.assertEqual(direct.returncode, 0, direct.stderr)
            direct_totals = json.loads(direct.stdout)["totals"]
            # hotlinectl prints protobuf's canonical JSON (lowerCamelCase names).
            for rate, camel in (("on_time_completion_rate", "onTimeCompletionRate"),
                                ("callback_satisfaction_rate", "callbackSatisfactionRate")):
                self.assertLessEqual(int(through_gateway[rate]["denominator"]),
                                     int(direct_totals[camel].get("denominator", 0)), rate)
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGINT)  # Ctrl-C
        self.assertEqual(run.wait(timeout=60), 0)
        self.assertIn("stopped; data kept", output())
        # Nothing is left listening, and the data directory holds every store.
        for port in ports.values():
            with socket.socket() as s:
                self.assertNotEqual(s.connect_ex(("127.0.0.1", port)), 0, port)
        for store in ("kb", "ticket", "metrics", "identity", "redis"):
            self.assertTrue(os.listdir(os.path.join(data, store)), store)


if __name__ == "__main__":
    unittest.main(verbosity=2)

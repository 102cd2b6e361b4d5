#!/usr/bin/env python3
"""Checks the three servers from outside C++, with Debian's python3-grpcio and code that
python3-grpc-tools generates from our protos: health, reflection, authentication and the
error contract, then a graceful SIGTERM.

Usage: contract_test.py BUILD_DIR
"""
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build")
WORK = tempfile.mkdtemp(prefix="hotline-contract-")
GEN = os.path.join(WORK, "gen")

# The contracts and their parts (ticket.proto and kb.proto import theirs publicly).
PROTOS = sorted(os.path.join("hotline", service, "v1", f)
                for service in ("kb", "ticket", "metrics")
                for f in os.listdir(os.path.join(ROOT, "proto", "hotline", service, "v1"))
                if f.endswith(".proto"))
# The gRPC protocol protos are staged under another directory name: generated modules named
# grpc.health... would shadow the grpc package itself. Only the file path changes; the proto
# packages, and so the wire names, stay grpc.health.v1 and grpc.reflection.v1alpha.
WIRE_PROTOS = {
    "proto/grpc/health/v1/health.proto": "wire/health.proto",
    "tests/contract/proto/grpc/reflection/v1alpha/reflection.proto": "wire/reflection.proto",
}


def generate():
    staged = os.path.join(WORK, "staged")
    os.makedirs(os.path.join(staged, "wire"))
    os.makedirs(GEN, exist_ok=True)
    for source, target in WIRE_PROTOS.items():
        with open(os.path.join(ROOT, source)) as src, open(os.path.join(staged, target), "w") as dst:
            dst.write(src.read())
    from grpc_tools import protoc
    args = ["protoc", "-I/usr/include", "-I" + os.path.join(ROOT, "proto"), "-I" + staged]
    args += ["--python_out=" + GEN, "--grpc_python_out=" + GEN] + PROTOS + list(WIRE_PROTOS.values())
    if protoc.main(args) != 0:
        raise RuntimeError("grpc_tools.protoc failed")
    # Packages for the generated modules (old protoc does not write __init__.py files).
    for dirpath, _, _ in os.walk(GEN):
        open(os.path.join(dirpath, "__init__.py"), "a").close()
    sys.path.insert(0, GEN)


generate()
import grpc  # noqa: E402
from wire import health_pb2, health_pb2_grpc  # noqa: E402
from wire import reflection_pb2, reflection_pb2_grpc  # noqa: E402
from hotline.kb.v1 import kb_pb2, kb_pb2_grpc  # noqa: E402
from hotline.metrics.v1 import metrics_pb2, metrics_pb2_grpc  # noqa: E402
from hotline.ticket.v1 import ticket_pb2, ticket_pb2_grpc  # noqa: E402

TOKENS = {
    "agent": ("t-agent-" + os.urandom(8).hex(), "zhang agent"),
    "editor": ("t-editor-" + os.urandom(8).hex(), "wang editor"),
    "supervisor": ("t-super-" + os.urandom(8).hex(), "li supervisor"),
    "department": ("t-dept-" + os.urandom(8).hex(), "water-system department water"),
}
SERVERS = {
    "kb": ("kb_server", "services/kb/kb_server", "hotline.kb.v1.KnowledgeBaseService"),
    "ticket": ("ticket_server", "services/ticket/ticket_server",
               "hotline.ticket.v1.TicketService"),
    "metrics": ("metrics_server", "services/metrics/metrics_server",
                "hotline.metrics.v1.MetricsService"),
}


def auth(role):
    return (("authorization", "Bearer " + TOKENS[role][0]),)


class ContractTest(unittest.TestCase):
    processes = {}
    channels = {}

    @classmethod
    def setUpClass(cls):
        try:
            cls.start_servers()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def start_servers(cls):
        token_file = os.path.join(WORK, "tokens")
        with open(token_file, "w") as f:
            for token, rest in TOKENS.values():
                f.write(hashlib.sha256(token.encode()).hexdigest() + " " + rest + "\n")
        for name, (_, path, _) in SERVERS.items():
            port_file = os.path.join(WORK, name + ".port")
            with open(os.path.join(WORK, name + ".log"), "w") as log:
                cls.processes[name] = subprocess.Popen(
                    [os.path.join(BUILD, path), "--listen=127.0.0.1:0",
                     "--port_file=" + port_file, "--data_dir=" + os.path.join(WORK, name + "-data"),
                     "--token_file=" + token_file],
                    stdout=log, stderr=subprocess.STDOUT)
        for name in SERVERS:
            port_file = os.path.join(WORK, name + ".port")
            deadline = time.monotonic() + 30
            while not os.path.exists(port_file):
                if cls.processes[name].poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(name + " did not start; see " + WORK)
                time.sleep(0.05)
            with open(port_file) as f:
                port = int(f.read())
            cls.channels[name] = grpc.insecure_channel("127.0.0.1:%d" % port)

    @classmethod
    def tearDownClass(cls):
        for channel in cls.channels.values():
            channel.close()
        for process in cls.processes.values():
            if process.poll() is None:
                process.kill()

    def assertCode(self, call, code, fragment=None):
        with self.assertRaises(grpc.RpcError) as caught:
            call()
        self.assertEqual(caught.exception.code(), code, caught.exception.details())
        if fragment is not None:
            self.assertIn(fragment, caught.exception.details())

    def test_1_health_is_serving_for_every_service(self):
        for name, (_, _, service) in SERVERS.items():
            stub = health_pb2_grpc.HealthStub(self.channels[name])
            for probe in ("", service):
                reply = stub.Check(health_pb2.HealthCheckRequest(service=probe), timeout=5)
                self.assertEqual(reply.status, health_pb2.HealthCheckResponse.SERVING,
                                 name + " " + probe)

    def test_2_reflection_lists_and_describes_our_services(self):
        for name, (_, _, service) in SERVERS.items():
            stub = reflection_pb2_grpc.ServerReflectionStub(self.channels[name])
            requests = [reflection_pb2.ServerReflectionRequest(list_services=""),
                        reflection_pb2.ServerReflectionRequest(file_containing_symbol=service)]
            replies = list(stub.ServerReflectionInfo(iter(requests), timeout=5))
            listed = [s.name for s in replies[0].list_services_response.service]
            self.assertIn(service, listed)
            self.assertIn("grpc.health.v1.Health", listed)
            self.assertTrue(replies[1].file_descriptor_response.file_descriptor_proto)

    def test_3_calls_without_a_token_are_unauthenticated(self):
        ticket = ticket_pb2_grpc.TicketServiceStub(self.channels["ticket"])
        kb = kb_pb2_grpc.KnowledgeBaseServiceStub(self.channels["kb"])
        metrics = metrics_pb2_grpc.MetricsServiceStub(self.channels["metrics"])
        unauth = grpc.StatusCode.UNAUTHENTICATED
        self.assertCode(lambda: ticket.GetTicket(ticket_pb2.GetTicketRequest(ticket_id="T1"),
                                                 timeout=5), unauth)
        self.assertCode(lambda: kb.GetEntry(kb_pb2.GetEntryRequest(entry_id="E1"), timeout=5),
                        unauth)
        self.assertCode(lambda: metrics.GetStatus(metrics_pb2.GetStatusRequest(), timeout=5),
                        unauth)
        self.assertCode(lambda: ticket.GetTicket(ticket_pb2.GetTicketRequest(ticket_id="T1"),
                                                 metadata=(("authorization", "Bearer nope"),),
                                                 timeout=5), unauth)

    def test_4_roles_and_error_contract(self):
        ticket = ticket_pb2_grpc.TicketServiceStub(self.channels["ticket"])
        kb = kb_pb2_grpc.KnowledgeBaseServiceStub(self.channels["kb"])
        metrics = metrics_pb2_grpc.MetricsServiceStub(self.channels["metrics"])
        self.assertCode(lambda: ticket.GetTicket(ticket_pb2.GetTicketRequest(ticket_id="T1"),
                                                 metadata=auth("editor"), timeout=5),
                        grpc.StatusCode.PERMISSION_DENIED, "editor")
        self.assertCode(lambda: metrics.GetStatus(metrics_pb2.GetStatusRequest(),
                                                  metadata=auth("agent"), timeout=5),
                        grpc.StatusCode.PERMISSION_DENIED, "agent")
        self.assertCode(lambda: ticket.GetTicket(ticket_pb2.GetTicketRequest(),
                                                 metadata=auth("agent"), timeout=5),
                        grpc.StatusCode.INVALID_ARGUMENT, "ticket_id")
        self.assertCode(lambda: ticket.GetTicket(ticket_pb2.GetTicketRequest(ticket_id="T404"),
                                                 metadata=auth("agent"), timeout=5),
                        grpc.StatusCode.NOT_FOUND, "T404")
        # A department cannot probe which ticket ids exist.
        self.assertCode(lambda: ticket.GetTicket(ticket_pb2.GetTicketRequest(ticket_id="T404"),
                                                 metadata=auth("department"), timeout=5),
                        grpc.StatusCode.PERMISSION_DENIED)
        self.assertCode(lambda: kb.GetEntry(kb_pb2.GetEntryRequest(),
                                            metadata=auth("agent"), timeout=5),
                        grpc.StatusCode.INVALID_ARGUMENT, "entry_id")
        self.assertCode(lambda: kb.GetEntry(kb_pb2.GetEntryRequest(entry_id="E404"),
                                            metadata=auth("agent"), timeout=5),
                        grpc.StatusCode.NOT_FOUND, "E404")

    def test_4b_invalid_utf8_names_the_field(self):
        # Bytes a Python client would refuse to build: field 1 (a string in each request)
        # holding a lone continuation byte. Every server answers INVALID_ARGUMENT naming it.
        bad = b"\x0a\x02a\x80"
        for name, method, field in (
                ("kb", "/hotline.kb.v1.KnowledgeBaseService/Search",
                 "query (hotline.kb.v1.SearchRequest)"),
                ("ticket", "/hotline.ticket.v1.TicketService/GetTicket",
                 "ticket_id (hotline.ticket.v1.GetTicketRequest)")):
            call = self.channels[name].unary_unary(method)
            self.assertCode(lambda: call(bad, metadata=auth("agent"), timeout=5),
                            grpc.StatusCode.INVALID_ARGUMENT, field + ": not valid UTF-8")
            # The same call with valid text gets past parsing: served, or refused for reasons
            # of its own.
            try:
                call(b"\x0a\x03\xe4\xb8\xad", metadata=auth("agent"), timeout=5)
            except grpc.RpcError as error:
                self.assertNotEqual(error.code(), grpc.StatusCode.INVALID_ARGUMENT,
                                    error.details())

    def test_5_sigterm_shuts_down_cleanly(self):
        for channel in self.channels.values():
            channel.close()
        for name, process in self.processes.items():
            process.send_signal(signal.SIGTERM)
        for name, process in self.processes.items():
            self.assertEqual(process.wait(timeout=30), 0, name)


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""The whole hotline on free ports, for tests that drive it from outside: a real redis-server,
kb_server with the demo knowledge base, ticket_server, metrics_server and gateway_server, each
with its own data directory, and a token file with one principal per role. Also generates the
Python gRPC modules from our protos (Debian's python3-grpc-tools), so tests can check what the
services say independently of the gateway.

    stack = HotlineStack(build_dir)
    stack.start()          # raises with the log directory if anything fails to come up
    stack.gateway_url      # http://127.0.0.1:PORT
    stack.portal_url       # the citizens' portal, on a port of its own
    stack.stub("ticket")   # a TicketService stub; pass metadata=stack.auth("supervisor")
    stack.stop()           # SIGTERM, and the exit codes of every server must be 0
"""
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CALENDARS = os.path.join(ROOT, "../shared/data/holiday-cn")
TICKET_CONFIG = os.path.join(ROOT, "deploy/config/ticket.textproto")

# principal role [department]: the same shape as the demo's token file.
PRINCIPALS = {
    "agent": "agent-test agent",
    "reviewer": "reviewer-test reviewer",
    "supervisor": "supervisor-test supervisor",
    "editor": "editor-test editor",
    "water": "water-system department water",
    "hrss": "hrss-system department hrss",
    "housing_fund": "housing-fund-system department housing-fund",
    "admin": "admin-test admin",
    # The citizens' portal's own system account (the gateway holds it, not a person).
    "public": "citizen-portal public",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_token_file(path, principals):
    """Writes a token file for `principals` ({role: "principal role [department]"}), a new random
    token each, and returns {role: token}: the file holds only the tokens' SHA-256 hashes."""
    tokens = {role: "tok-%s-%s" % (role, os.urandom(12).hex()) for role in principals}
    with open(path, "w") as f:
        for role, rest in principals.items():
            f.write(hashlib.sha256(tokens[role].encode()).hexdigest() + " " + rest + "\n")
    return tokens


def wait_for(condition, seconds, what, interval=0.05):
    """Polls `condition` until it returns something truthy, which it returns; fails after
    `seconds` naming `what`."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (seconds, what))
        time.sleep(interval)


def http_json(url, method="GET", body=None, source_address=None, timeout=10):
    """(HTTP status, JSON body, headers) of one call; a body that is not JSON comes back as
    {"text": ...}. `source_address` is the local address to call from (any of 127/8 is this
    machine's), for what is limited per client address."""
    import http.client
    import json
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=timeout,
        source_address=(source_address, 0) if source_address else None)
    try:
        data = json.dumps(body).encode() if body is not None else None
        connection.request(method, parts.path + ("?" + parts.query if parts.query else ""),
                           body=data,
                           headers={"Content-Type": "application/json"} if data else {})
        response = connection.getresponse()
        text = response.read()
        try:
            value = json.loads(text)
        except ValueError:
            value = {"text": text.decode(errors="replace")}
        return response.status, value, dict(response.getheaders())
    finally:
        connection.close()


def solve_challenge(question):
    """The answer to the citizens' portal's question, "a 加 b 等于几？" or "a 减 b 等于几？"."""
    a, op, b = re.search(r"(\d+)\s*(加|减)\s*(\d+)", question).groups()
    return str(int(a) + int(b) if op == "加" else int(a) - int(b))


def generate_protos(work):
    gen = os.path.join(work, "gen")
    os.makedirs(gen, exist_ok=True)
    from grpc_tools import protoc
    # Every file of the contracts (ticket.proto and kb.proto import their parts publicly).
    proto_root = os.path.join(ROOT, "proto")
    protos = sorted(os.path.relpath(os.path.join(d, f), proto_root)
                    for d, _, files in os.walk(os.path.join(proto_root, "hotline"))
                    for f in files if f.endswith(".proto"))
    args = ["protoc", "-I/usr/include", "-I" + os.path.join(ROOT, "proto"),
            "--python_out=" + gen, "--grpc_python_out=" + gen] + protos
    if protoc.main(args) != 0:
        raise RuntimeError("grpc_tools.protoc failed")
    for dirpath, _, _ in os.walk(gen):
        open(os.path.join(dirpath, "__init__.py"), "a").close()
    sys.path.insert(0, gen)


class HotlineStack:
    def __init__(self, build, gateway_flags=(), identity_flags=()):
        self.build = build
        self.work = tempfile.mkdtemp(prefix="hotline-stack-")
        self.token_file = os.path.join(self.work, "tokens")
        self.tokens = write_token_file(self.token_file, PRINCIPALS)
        self.gateway_flags = list(gateway_flags)
        self.identity_flags = list(identity_flags)
        self.public_key_file = os.path.join(self.work, "credential.pub")
        self.processes = {}
        self.ports = {}
        self.channels = {}
        generate_protos(self.work)

    def log(self, name):
        return os.path.join(self.work, name + ".log")

    def _spawn(self, name, argv):
        with open(self.log(name), "w") as log:
            # The servers find their data files (dictionaries, taxonomy) from the source root.
            self.processes[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                                    cwd=ROOT)

    def _server(self, name, binary, extra):
        port_file = os.path.join(self.work, name + ".port")
        self._spawn(name, [os.path.join(self.build, binary), "--listen=127.0.0.1:0",
                           "--port_file=" + port_file,
                           "--data_dir=" + os.path.join(self.work, name + "-data"),
                           "--token_file=" + self.token_file] + extra)
        return port_file

    def _port_from(self, name, port_file, seconds=60):
        def ready():
            if self.processes[name].poll() is not None:
                raise RuntimeError("%s exited with %s; see %s" % (
                    name, self.processes[name].returncode, self.log(name)))
            return os.path.exists(port_file)
        wait_for(ready, seconds, name + " to write its port file (log: %s)" % self.log(name))
        with open(port_file) as f:
            self.ports[name] = int(f.read())

    def start(self):
        try:
            self._start()
        except BaseException:
            self.kill()
            raise

    def _start(self):
        redis_port = free_port()
        redis_dir = os.path.join(self.work, "redis")
        os.makedirs(redis_dir)
        self._spawn("redis", ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                              "--dir", redis_dir, "--save", "", "--appendonly", "no",
                              "--daemonize", "no"])
        self.ports["redis"] = redis_port
        redis = "--redis=127.0.0.1:%d" % redis_port
        # The identity service first: it writes the public key the others check credentials
        # with before it writes its port file.
        identity_port = self._server("identity", "services/identity/identity_server", [
            "--signing_key_file=" + os.path.join(self.work, "credential.key"),
            "--public_key_file=" + self.public_key_file] + self.identity_flags)
        self._port_from("identity", identity_port)
        keyed = "--credential_key_file=" + self.public_key_file
        port_files = {
            "kb": self._server("kb", "services/kb/kb_server", [keyed,
                "--demo_data=" + os.path.join(ROOT, "services/kb/demo/knowledge_base.jsonl")]),
            "ticket": self._server("ticket", "services/ticket/ticket_server", [keyed,
                redis, "--config=" + TICKET_CONFIG, "--calendar_dir=" + CALENDARS]),
            "metrics": self._server("metrics", "services/metrics/metrics_server", [keyed,
                redis, "--ticket_config=" + TICKET_CONFIG, "--calendar_dir=" + CALENDARS]),
        }
        for name, port_file in port_files.items():
            self._port_from(name, port_file)
        gateway_port_file = os.path.join(self.work, "gateway.port")
        portal_port_file = os.path.join(self.work, "portal.port")
        portal_token_file = os.path.join(self.work, "portal-token")
        with open(portal_token_file, "w") as f:
            f.write(self.tokens["public"] + "\n")
        self._spawn("gateway", [
            os.path.join(self.build, "services/gateway/gateway_server"), "--listen=127.0.0.1:0",
            "--port_file=" + gateway_port_file,
            "--kb=127.0.0.1:%d" % self.ports["kb"],
            "--ticket=127.0.0.1:%d" % self.ports["ticket"],
            "--metrics=127.0.0.1:%d" % self.ports["metrics"],
            "--identity=127.0.0.1:%d" % self.ports["identity"],
            "--public_listen=127.0.0.1:0", "--public_port_file=" + portal_port_file,
            "--public_token_file=" + portal_token_file,
            "--calendar_dir=" + CALENDARS] + self.gateway_flags)
        # The gateway writes the portal's port file before its own.
        self._port_from("gateway", gateway_port_file)
        with open(portal_port_file) as f:
            self.ports["portal"] = int(f.read())
        self.gateway_url = "http://127.0.0.1:%d" % self.ports["gateway"]
        self.portal_url = "http://127.0.0.1:%d" % self.ports["portal"]
        import grpc
        for name in ("kb", "ticket", "metrics", "identity"):
            self.channels[name] = grpc.insecure_channel("127.0.0.1:%d" % self.ports[name])
        # Every service answers health before the tests begin (the kb loads its demo data).
        for name in ("kb", "ticket", "metrics", "identity"):
            grpc.channel_ready_future(self.channels[name]).result(timeout=60)
        wait_for(self._gateway_healthy, 30, "the gateway's /healthz")

    def _gateway_healthy(self):
        try:
            with urllib.request.urlopen(self.gateway_url + "/healthz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def auth(self, role):
        return (("authorization", "Bearer " + self.tokens[role]),)

    def stub(self, name):
        from hotline.kb.v1 import kb_pb2_grpc
        from hotline.metrics.v1 import metrics_pb2_grpc
        from hotline.ticket.v1 import ticket_pb2_grpc
        from hotline.identity.v1 import identity_pb2_grpc
        factory = {"kb": kb_pb2_grpc.KnowledgeBaseServiceStub,
                   "ticket": ticket_pb2_grpc.TicketServiceStub,
                   "metrics": metrics_pb2_grpc.MetricsServiceStub,
                   "identity": identity_pb2_grpc.IdentityServiceStub}[name]
        return factory(self.channels[name])

    def create_account(self, username, role, password, department="", display_name=""):
        """A person's account, created by the test's admin token over gRPC."""
        from hotline.identity.v1 import identity_pb2 as pb
        account = pb.Account(username=username, role=pb.Role.Value("ROLE_" + role.upper()),
                             department_id=department, display_name=display_name)
        return self.stub("identity").CreateAccount(
            pb.CreateAccountRequest(account=account, password=password),
            metadata=self.auth("admin"), timeout=10)

    def stop(self):
        """Stops the gateway first, then the services, then Redis, each with SIGTERM; returns
        {name: exit code}."""
        for channel in self.channels.values():
            channel.close()
        codes = {}
        for name in ("gateway", "metrics", "ticket", "kb", "identity", "redis"):
            process = self.processes.get(name)
            if process is None:
                continue
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                codes[name] = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = "still running after SIGTERM"
        return codes

    def kill(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()


class TicketDriver:
    """Moves tickets through the loop with the roles' own tokens, over gRPC."""

    def __init__(self, stack):
        from hotline.ticket.v1 import ticket_pb2
        self.pb = ticket_pb2
        self.stack = stack
        self.ticket = stack.stub("ticket")

    def _call(self, method, role, request):
        return getattr(self.ticket, method)(request, metadata=self.stack.auth(role), timeout=10)

    @staticmethod
    def request_id():
        return "test-" + os.urandom(12).hex()

    def create(self, content, kind=None, phone="13812345678", name="", district="",
               confidential=False):
        pb = self.pb
        ticket = pb.Ticket(kind=kind or pb.TICKET_KIND_UNRESOLVED_MATTER,
                           channel=pb.CHANNEL_HOTLINE, content=content,
                           caller_phone=phone, caller_name=name, confidential=confidential)
        if district:
            ticket.location.district_code = district
        return self._call("CreateTicket", "agent",
                          pb.CreateTicketRequest(request_id=self.request_id(), ticket=ticket))

    def dispatched(self, content, department="water", hours=2, **create):
        """A ticket confirmed and dispatched to `department` with a limit of `hours`: a short
        limit puts it inside the yellow-card window (4 hours) at once, and its deadline inside
        the current month (so this month's on-time figures count it once it is replied).
        `create` goes to create()."""
        pb = self.pb
        t = self.create(content, **create)
        t = self._call("ConfirmTicket", "reviewer", pb.ConfirmTicketRequest(
            ticket_id=t.id, expected_version=t.version, request_id=self.request_id()))
        lead = pb.DepartmentAssignment(department_id=department,
                                       time_limit=pb.TimeLimit(hours=hours))
        return self._call("DispatchTicket", "reviewer", pb.DispatchTicketRequest(
            ticket_id=t.id, expected_version=t.version, request_id=self.request_id(), lead=lead))

    def current(self, ticket_id):
        return self._call("GetTicket", "supervisor", self.pb.GetTicketRequest(
            ticket_id=ticket_id, view=self.pb.TICKET_VIEW_BASIC))

    def update(self, method, role, ticket_id, make_request):
        """Calls `method` with make_request(current version); the service's own warning events
        also bump the version, so a lost race (ABORTED) is re-read and retried."""
        import grpc
        for attempt in range(5):
            try:
                return self._call(method, role, make_request(self.current(ticket_id).version))
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.ABORTED or attempt == 4:
                    raise

    def handle(self, t, result, department="water"):
        """Signs, replies and records a callback with `result` (a CallbackResult): satisfied
        closes the ticket, dissatisfied reopens it for a new cycle."""
        pb = self.pb
        order = [w for w in t.work_orders if w.department_id == department][-1]
        self.update("SignWorkOrder", department, t.id, lambda v: pb.SignWorkOrderRequest(
            ticket_id=t.id, work_order_id=order.id, expected_version=v,
            request_id=self.request_id()))
        self.update("ReplyWorkOrder", department, t.id, lambda v: pb.ReplyWorkOrderRequest(
            ticket_id=t.id, work_order_id=order.id, expected_version=v,
            request_id=self.request_id(), reply_text="已到现场处理完毕"))
        return self.update("RecordCallback", "agent", t.id, lambda v: pb.RecordCallbackRequest(
            ticket_id=t.id, expected_version=v, request_id=self.request_id(), result=result))

    def close_satisfied(self, t, department="water"):
        t = self.handle(t, self.pb.CALLBACK_RESULT_SATISFIED, department)
        assert t.state == self.pb.TICKET_STATE_CLOSED, t
        return t

    def events(self, ticket_id):
        return self._call("ListEvents", "supervisor", self.pb.ListEventsRequest(
            ticket_id=ticket_id, page_size=1000)).events

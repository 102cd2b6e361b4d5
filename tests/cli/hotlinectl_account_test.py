#!/usr/bin/env python3
"""The account and audit commands of hotlinectl against the real identity service (and the
gateway, to sign in with what they set): create with the password on standard input, list,
disable (sign-in refused) and enable, reset (the old password stops working), audit list with
filters; a non-admin token and a weak password are refused with messages naming the problem.

Usage: hotlinectl_account_test.py BUILD_DIR
"""
import http.client
import json
import os
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests/support"))
from hotline_stack import HotlineStack  # noqa: E402

BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build")
CTL = os.path.join(BUILD, "services/hotlinectl/hotlinectl")


class AccountCommandsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = HotlineStack(BUILD)
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.kill()

    def ctl(self, *args, stdin="", role="admin"):
        return subprocess.run(
            [CTL, "--identity=127.0.0.1:%d" % self.stack.ports["identity"]] + list(args),
            input=stdin, capture_output=True, text=True, timeout=30,
            env=dict(os.environ, HOTLINE_TOKEN=self.stack.tokens[role]))

    def sign_in(self, username, password):
        connection = http.client.HTTPConnection("127.0.0.1", self.stack.ports["gateway"], timeout=15)
        connection.request("POST", "/api/session",
                           body=json.dumps({"username": username, "password": password}),
                           headers={"Content-Type": "application/json"})
        status = connection.getresponse().status
        connection.close()
        return status

    def test_accounts_from_the_command_line(self):
        created = self.ctl("--display_name=王五", "account", "create", "wang.five", "department",
                           "water", stdin="first passphrase 1\n")
        self.assertEqual(created.returncode, 0, created.stderr)
        self.assertIn("wang.five", created.stdout)
        self.assertNotIn("first passphrase", created.stdout + created.stderr)
        self.assertEqual(self.sign_in("wang.five", "first passphrase 1"), 200)

        listed = self.ctl("--json", "account", "list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        accounts = [json.loads(line) for line in listed.stdout.splitlines()]
        five = [a for a in accounts if a["username"] == "wang.five"][0]
        self.assertEqual(five["role"], "ROLE_DEPARTMENT")
        self.assertEqual(five["departmentId"], "water")
        self.assertEqual(five["displayName"], "王五")

        self.assertEqual(self.ctl("account", "disable", "wang.five").returncode, 0)
        self.assertEqual(self.sign_in("wang.five", "first passphrase 1"), 401)
        self.assertEqual(self.ctl("account", "enable", "wang.five").returncode, 0)
        self.assertEqual(self.sign_in("wang.five", "first passphrase 1"), 200)
        reset = self.ctl("account", "reset", "wang.five", stdin="second passphrase 2\n")
        self.assertEqual(reset.returncode, 0, reset.stderr)
        self.assertEqual(self.sign_in("wang.five", "first passphrase 1"), 401)
        self.assertEqual(self.sign_in("wang.five", "second passphrase 2"), 200)

        audit = self.ctl("--json", "audit", "list", "--principal=admin-test")
        self.assertEqual(audit.returncode, 0, audit.stderr)
        actions = [json.loads(line)["action"] for line in audit.stdout.splitlines()]
        for action in ("create_account", "disable_account", "enable_account", "reset_password"):
            self.assertIn(action, actions)
        logins = self.ctl("--json", "audit", "list", "--action=login")
        self.assertEqual([json.loads(l)["principal"] for l in logins.stdout.splitlines()],
                         ["wang.five"] * 3)

        weak = self.ctl("account", "create", "short.pw", "agent", stdin="short\n")
        self.assertNotEqual(weak.returncode, 0)
        self.assertIn("password: at least 10 characters", weak.stderr)
        denied = self.ctl("account", "list", role="supervisor")
        self.assertNotEqual(denied.returncode, 0)
        self.assertIn("PERMISSION_DENIED", denied.stderr)
        unknown_role = self.ctl("account", "create", "x.y", "boss", stdin="long enough passphrase\n")
        self.assertNotEqual(unknown_role.returncode, 0)
        self.assertIn("unknown role 'boss'", unknown_role.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)

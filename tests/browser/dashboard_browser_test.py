#!/usr/bin/env python3
"""The supervisors' web dashboard in a real browser (Debian's chromium, driven by chromedriver
through python3-selenium) against the real services and gateway: login with a token, overview
figures equal to what the metrics service reports, the figures following a ticket closed
through the whole loop live (no reload), drill-down with an urge and an extension decision
made from the page, knowledge-base search, the large-font and high-contrast modes, keyboard
operation, and the upstream stream closing when the page goes away. Screenshots are saved
under BUILD_DIR/test-artifacts/browser/.

There is no skip: scripts/test.sh installs chromium, so a missing browser is a failure.

Usage: dashboard_browser_test.py BUILD_DIR
"""
import os
import shutil
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests/support"))
from browser import active_id, check_browser_installed, screenshot, start_browser, tab_to  # noqa: E402
from hotline_stack import HotlineStack, TicketDriver, wait_for  # noqa: E402

BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build")
ARTIFACTS = os.path.join(BUILD, "test-artifacts", "browser")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402


class DashboardBrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        check_browser_installed()
        os.makedirs(ARTIFACTS, exist_ok=True)
        # A one-second heartbeat makes the gateway notice a closed page quickly.
        cls.stack = HotlineStack(BUILD, gateway_flags=["--sse_heartbeat=1s",
                                                       "--dashboard_min_interval=200ms"])
        cls.stack.start()
        cls.profile = tempfile.mkdtemp(prefix="hotline-chromium-")
        try:
            cls.browser = start_browser(cls.profile)
        except Exception:
            cls.stack.kill()
            raise
        from hotline.metrics.v1 import metrics_pb2
        cls.mpb = metrics_pb2
        cls.driver = TicketDriver(cls.stack)
        # Something for the supervisor to look at: one ticket closed, one reopened after a
        # dissatisfied callback, one near its deadline (a yellow card), one ordinary ticket in
        # progress.
        cls.driver.close_satisfied(cls.driver.dispatched("小区二次供水水质浑浊", hours=48))
        cls.driver.handle(cls.driver.dispatched("停水未提前通知", hours=48),
                          cls.driver.pb.CALLBACK_RESULT_DISSATISFIED)
        cls.yellow = cls.driver.dispatched("主干道积水严重，车辆无法通行", hours=2)
        cls.driver.dispatched("社保卡补办进度查询", department="hrss", hours=200)

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        cls.stack.kill()
        shutil.rmtree(cls.profile, ignore_errors=True)

    # ---- helpers ---------------------------------------------------------------------------

    def screenshot(self, name):
        screenshot(self.browser, ARTIFACTS, name)

    def page(self, path):
        self.browser.get(self.stack.gateway_url + path)

    def by_id(self, element_id):
        return self.browser.find_element(By.ID, element_id)

    def text(self, element_id):
        return self.by_id(element_id).text.strip()

    def summary(self):
        """What the metrics service itself says about this month, asked directly."""
        mpb = self.mpb
        reply = self.stack.stub("metrics").GetSummary(mpb.GetSummaryRequest(
            period=mpb.PeriodSelector(kind=mpb.PERIOD_KIND_MONTH),
            group_by=mpb.DIMENSION_DEPARTMENT), metadata=self.stack.auth("supervisor"),
            timeout=10)
        return reply

    @staticmethod
    def percent(rate):
        return "%.1f%%" % (rate.value * 100) if rate.has_value else "—"

    def expected_figures(self, summary):
        t = summary.totals
        return {
            "on-time-rate": self.percent(t.on_time_completion_rate),
            "on-time-numerator": str(t.on_time_completion_rate.numerator),
            "on-time-denominator": str(t.on_time_completion_rate.denominator),
            "satisfaction-rate": self.percent(t.callback_satisfaction_rate),
            "satisfaction-numerator": str(t.callback_satisfaction_rate.numerator),
            "satisfaction-denominator": str(t.callback_satisfaction_rate.denominator),
            "completion-numerator": str(t.completion_rate.numerator),
            "backlog-open": str(t.backlog.open_total),
            "backlog-yellow": str(t.backlog.yellow_count),
            "backlog-red": str(t.backlog.red_count),
        }

    def page_figures(self):
        return {key: self.text(key) for key in (
            "on-time-rate", "on-time-numerator", "on-time-denominator", "satisfaction-rate",
            "satisfaction-numerator", "satisfaction-denominator", "completion-numerator",
            "backlog-open", "backlog-yellow", "backlog-red")}

    def wait_for_page_to_match_metrics(self, what):
        """Polls until the page shows exactly what GetSummary reports (both are live, so they
        are compared at the same moment, again and again, until they agree)."""
        last = {}

        def agree():
            expected = self.expected_figures(self.summary())
            shown = self.page_figures()
            last.update(expected=expected, shown=shown)
            return expected if shown == expected else None
        try:
            return wait_for(agree, 30, what, interval=0.2)
        except AssertionError:
            self.screenshot("mismatch")
            raise AssertionError("%s: page %s, metrics %s" % (what, last.get("shown"),
                                                              last.get("expected")))

    def open_watch_streams(self):
        return self.stack.stub("metrics").GetStatus(
            self.mpb.GetStatusRequest(), metadata=self.stack.auth("supervisor"),
            timeout=10).open_watch_streams

    def active_id(self):
        return active_id(self.browser)

    def tab_to(self, element_id, limit=30):
        return tab_to(self.browser, element_id, limit)

    def token_field(self):
        """The token sign-in for systems, behind its disclosure on the login page."""
        self.browser.find_element(By.CSS_SELECTOR, "#token-login summary").click()
        return self.by_id("token")

    # ---- the tests, in order ---------------------------------------------------------------

    def test_1_login_with_the_supervisor_token(self):
        self.page("/overview.html")
        # Not logged in yet: the page sends the user to the login form.
        # The address changes before the new document is there: wait for the form itself, or
        # the next look at the page may meet the old document half torn down.
        wait_for(lambda: "/login.html" in self.browser.current_url and
                 self.browser.find_elements(By.CSS_SELECTOR, "#token-login summary"), 15,
                 "the login page")
        self.assertEqual(self.browser.find_element(By.TAG_NAME, "html").get_attribute("lang"),
                         "zh-CN")
        self.browser.find_element(By.CSS_SELECTOR, "#token-login summary").click()
        token = self.by_id("token")
        self.assertEqual(self.browser.find_element(By.CSS_SELECTOR, "label[for=token]").text,
                         "访问令牌")
        token.send_keys("wrong-token")
        self.by_id("login-submit").click()
        wait_for(lambda: "令牌无效" in self.text("login-error"), 15, "the wrong token refused")
        token.clear()
        token.send_keys(self.stack.tokens["supervisor"])
        self.screenshot("01-login")
        token.send_keys(Keys.ENTER)
        wait_for(lambda: self.browser.current_url.endswith("/overview.html"), 15,
                 "the overview after login")
        # The token lives in an HttpOnly cookie: page scripts cannot read it.
        self.assertNotIn(self.stack.tokens["supervisor"],
                         self.browser.execute_script("return document.cookie"))
        cookie = self.browser.get_cookie("hotline_session")
        self.assertTrue(cookie["httpOnly"])
        self.assertEqual(cookie["sameSite"], "Strict")

    def test_2_overview_shows_what_the_metrics_service_reports(self):
        wait_for(lambda: self.by_id("connection").get_attribute("data-state") == "live", 20,
                 "the live connection")
        expected = self.wait_for_page_to_match_metrics("the overview to show GetSummary's figures")
        self.assertEqual((expected["satisfaction-numerator"],
                          expected["satisfaction-denominator"]), ("1", "2"))
        self.assertEqual(expected["satisfaction-rate"], "50.0%")
        # The ticket with two hours left carries a yellow card in the overdue list.
        row = wait_for(lambda: self.browser.find_elements(
            By.CSS_SELECTOR, "#overdue-table tr[data-ticket-id='%s']" % self.yellow.id), 20,
            "the yellow card in the overdue list")[0]
        self.assertEqual(row.get_attribute("data-level"), "WARNING_LEVEL_YELLOW")
        self.assertIn("黄牌", row.text)
        # One row per department, as the metrics service groups them.
        summary = self.summary()
        departments = sorted(r.key.department_id for r in summary.rows)
        shown = sorted(r.get_attribute("data-department") for r in self.browser.find_elements(
            By.CSS_SELECTOR, "#department-table tbody tr"))
        self.assertEqual(shown, departments)
        water = [r for r in summary.rows if r.key.department_id == "water"][0]
        self.assertIn(water.display_name, self.browser.find_element(
            By.CSS_SELECTOR, "#department-table tr[data-department='water']").text)
        # Trend charts are drawn as inline SVG.
        wait_for(lambda: self.browser.find_elements(By.CSS_SELECTOR, "#trend-rates svg circle"),
                 20, "the trend chart's points")
        self.screenshot("02-overview")

    def test_3_closing_a_ticket_updates_the_figures_live(self):
        self.browser.execute_script("window.sameDocumentMarker = 'still here';")
        before = self.page_figures()
        closed = self.driver.close_satisfied(self.driver.dispatched("路灯损坏，夜间无照明", hours=48))
        # The replied cycle counts for on-time completion in the month its deadline falls in.
        deadline = closed.work_orders[0].deadline.ToDatetime()
        deadline_this_month = deadline < self.summary().period.end.ToDatetime()
        # The metrics service counts the new callback and on-time cycle...
        wait_for(lambda: self.summary().totals.callback_satisfaction_rate.denominator ==
                 int(before["satisfaction-denominator"]) + 1, 30,
                 "the metrics service to count the callback")
        after = self.wait_for_page_to_match_metrics("the page to follow the closed ticket")
        # ...and the page shows the new figures without being reloaded.
        self.assertEqual(int(after["satisfaction-numerator"]),
                         int(before["satisfaction-numerator"]) + 1)
        self.assertEqual(int(after["on-time-denominator"]),
                         int(before["on-time-denominator"]) + (1 if deadline_this_month else 0))
        self.assertNotEqual(after["satisfaction-rate"], before["satisfaction-rate"])
        self.assertEqual(self.browser.execute_script("return window.sameDocumentMarker"),
                         "still here")
        # Screen readers hear about it through the live region.
        announcer = self.by_id("live-announcer")
        self.assertEqual(announcer.get_attribute("aria-live"), "polite")
        wait_for(lambda: after["satisfaction-rate"] in announcer.get_attribute("textContent"), 10,
                 "the live region to announce the new rate")
        self.screenshot("03-overview-after-close")

    def test_4_drill_down_shows_history_and_an_urge_from_the_page(self):
        link = self.browser.find_element(
            By.CSS_SELECTOR, "#overdue-table tr[data-ticket-id='%s'] a" % self.yellow.id)
        link.click()
        wait_for(lambda: self.browser.find_elements(By.CSS_SELECTOR, "#history li"), 15,
                 "the ticket's history")
        types = [li.get_attribute("data-type") for li in
                 self.browser.find_elements(By.CSS_SELECTOR, "#history li")]
        for expected in ("EVENT_TYPE_TICKET_CREATED", "EVENT_TYPE_WORK_ORDER_DISPATCHED",
                         "EVENT_TYPE_YELLOW_WARNING"):
            self.assertIn(expected, types)
        self.assertIn("黄牌预警", self.text("history"))
        # An empty urge: the ticket service refuses it, and the page says why in Chinese.
        self.by_id("urge-submit").click()
        wait_for(lambda: "请求内容有误" in self.text("ticket-error"), 15, "the refusal")
        self.assertIn("message", self.text("ticket-error"))
        message = "请于今日内反馈积水处置进展"
        self.by_id("urge-message").send_keys(message)
        self.by_id("urge-submit").click()
        urged = wait_for(lambda: [li for li in self.browser.find_elements(
            By.CSS_SELECTOR, "#history li[data-type='EVENT_TYPE_URGED']") if message in li.text],
            15, "the urge in the history")
        self.assertIn("督办", urged[0].text)
        self.assertEqual(self.text("ticket-error"), "")
        # The ticket service recorded it with the page's idempotency key.
        events = [e for e in self.driver.events(self.yellow.id) if e.reason == message]
        self.assertEqual(len(events), 1)
        self.assertTrue(events[0].request_id.startswith("web-"))
        self.assertIn("1", self.browser.find_element(
            By.CSS_SELECTOR, "#work-orders tbody tr td.number").text)
        self.screenshot("04-ticket-urged")

    def test_5_extension_approved_from_the_page(self):
        pb = self.driver.pb
        t = self.driver.dispatched("老旧小区管网改造影响供水", hours=100)
        order = t.work_orders[0].id
        self.driver.update("SignWorkOrder", "water", t.id, lambda v: pb.SignWorkOrderRequest(
            ticket_id=t.id, work_order_id=order, expected_version=v,
            request_id=self.driver.request_id()))
        self.driver.update("RequestExtension", "water", t.id, lambda v: pb.RequestExtensionRequest(
            ticket_id=t.id, work_order_id=order, expected_version=v,
            request_id=self.driver.request_id(), extension=pb.TimeLimit(working_days=3),
            reason="需协调管网施工单位"))
        self.page("/ticket.html?id=" + t.id)
        form = wait_for(lambda: self.browser.find_elements(
            By.CSS_SELECTOR, "form.extension-decision[data-work-order='%s']" % order), 15,
            "the extension request on the page")[0]
        self.assertIn("需协调管网施工单位", form.text)
        form.find_element(By.CSS_SELECTOR, "button[value=approve]").click()
        wait_for(lambda: self.browser.find_elements(
            By.CSS_SELECTOR, "#history li[data-type='EVENT_TYPE_EXTENSION_APPROVED']"), 15,
            "the approval in the history")
        self.assertEqual(self.driver.current(t.id).work_orders[0].extension.state,
                         pb.EXTENSION_STATE_APPROVED)
        self.screenshot("05-extension-approved")

    def test_6_search_finds_a_demo_policy(self):
        self.page("/search.html")
        box = self.by_id("q")
        box.send_keys("住房公积金提取")
        self.browser.find_element(By.CSS_SELECTOR, "#search-form button[type=submit]").click()
        hits = wait_for(lambda: self.browser.find_elements(By.CSS_SELECTOR, "#results .hit"), 15,
                        "search results")
        titles = [h.find_element(By.TAG_NAME, "h3").text for h in hits]
        self.assertIn("长沙住房公积金提取管理办法", titles)
        hit = hits[titles.index("长沙住房公积金提取管理办法")]
        self.assertIn("长住金发〔2024〕5号", hit.text)
        self.assertIn("现行有效", hit.text)
        self.assertTrue(hit.find_elements(By.TAG_NAME, "mark"), "matched words are marked")
        self.assertIn("出处条款", hit.text)
        # Look, ask, do: linked Q&A pairs or service guides come with the policy.
        self.assertTrue(hit.find_elements(By.CSS_SELECTOR, ".links li"), hit.text)
        self.assertIn("共找到", self.text("search-status"))
        self.screenshot("06-search")

    def test_7_keyboard_and_display_modes(self):
        self.page("/search.html")
        # From the top of the page: the skip link comes first, then the rest in order.
        self.browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        wait_for(lambda: self.browser.switch_to.active_element.get_attribute("class") ==
                 "skip-link", 5, "the skip link to take the first Tab")
        # The focus is visible.
        outline = self.browser.execute_script(
            "var s = getComputedStyle(document.activeElement);"
            "return [s.outlineStyle, s.outlineWidth];")
        self.assertEqual(outline, ["solid", "3px"])

        # Large font, switched on from the keyboard, remembered across pages.
        button = self.tab_to("toggle-large-font")
        size = lambda: self.browser.execute_script(  # noqa: E731
            "return parseFloat(getComputedStyle(document.documentElement).fontSize)")
        normal = size()
        button.send_keys(Keys.SPACE)
        self.assertEqual(button.get_attribute("aria-pressed"), "true")
        self.assertGreater(size(), normal * 1.25)
        button = self.tab_to("toggle-high-contrast")
        button.send_keys(Keys.ENTER)
        background = lambda: self.browser.execute_script(  # noqa: E731
            "return getComputedStyle(document.body).backgroundColor")
        self.assertEqual(background(), "rgb(0, 0, 0)")
        self.page("/search.html")
        self.assertEqual(background(), "rgb(0, 0, 0)")
        self.assertGreater(size(), normal * 1.25)
        self.assertEqual(self.by_id("toggle-large-font").get_attribute("aria-pressed"), "true")

        # Search with the keyboard alone: Tab to the box, type, Enter.
        self.browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        box = self.tab_to("q")
        box.send_keys("失业保险金")
        box.send_keys(Keys.ENTER)
        hits = wait_for(lambda: self.browser.find_elements(By.CSS_SELECTOR, "#results .hit h3"),
                        15, "results of the keyboard search")
        self.assertTrue(any("失业保险金" in h.text for h in hits), [h.text for h in hits])
        self.screenshot("07-search-large-high-contrast")

        # Landmarks and labels a screen reader relies on.
        for selector in ("header", "nav[aria-label]", "main#main", "form[role=search]",
                         "label[for=q]", "footer"):
            self.assertTrue(self.browser.find_elements(By.CSS_SELECTOR, selector), selector)

        # Both modes off again, from the keyboard.
        self.browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        self.tab_to("toggle-large-font").send_keys(Keys.SPACE)
        self.tab_to("toggle-high-contrast").send_keys(Keys.SPACE)
        self.assertAlmostEqual(size(), normal)
        self.assertNotEqual(background(), "rgb(0, 0, 0)")

    def test_8_leaving_the_overview_closes_the_upstream_stream(self):
        self.page("/overview.html")
        wait_for(lambda: self.open_watch_streams() >= 1, 15, "the overview's stream")
        self.page("/search.html")
        wait_for(lambda: self.open_watch_streams() == 0, 20,
                 "the gateway to close WatchDashboard once the page is gone")

    def test_9_login_never_sends_the_user_to_another_site(self):
        # Addresses a browser reads as another origin although they start with one "/".
        for next_page in ("/%5Cevil.example:9/x", "/%09/evil.example:9/x", "/\\/evil.example:9/",
                          "//evil.example:9/", "/%5C%5Cevil.example:9/"):
            self.browser.delete_all_cookies()
            self.page("/login.html?next=" + next_page)
            self.token_field().send_keys(self.stack.tokens["supervisor"], Keys.ENTER)
            wait_for(lambda: "/login.html" not in self.browser.current_url, 15,
                     "the page after login for next=" + next_page)
            self.assertTrue(self.browser.current_url.startswith(self.stack.gateway_url + "/"),
                            (next_page, self.browser.current_url))
        # A page of this site is still honoured, with its query.
        self.browser.delete_all_cookies()
        self.page("/login.html?next=" + "/search.html%3Fq%3D1")
        self.token_field().send_keys(self.stack.tokens["supervisor"], Keys.ENTER)
        wait_for(lambda: self.browser.current_url == self.stack.gateway_url + "/search.html?q=1",
                 15, "the requested page of this site")


if __name__ == "__main__":
    unittest.main(verbosity=2)

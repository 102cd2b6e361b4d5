#!/usr/bin/env python3
"""The citizens' portal in real browsers against the real services and gateway: a citizen on
a phone-sized window, and a reviewer at the dispatch console. Every step of the citizen's is
done on the pages as a person would; gRPC only plays the department's reply and checks what
the services hold afterwards.

  - the citizen searches 租房提取公积金 with as-you-type suggestions, opens the Q&A pair and the
    service guide, and follows the guide's online-handling link;
  - a repealed rule is marked as such where a link reaches it;
  - they answer "没有解答", write what is missing and turn it into an online request, which
    asks an arithmetic question (a wrong answer costs a new question);
  - the reviewer sees the request arrive in the dispatch queue, confirms and dispatches it;
  - once the department replies, the citizen reads the reply with the tracking number and
    query code; a wrong code, or another request's number, shows nothing;
  - axe-core (WCAG 2.1 A and AA) reports no violation on any portal page, in normal, large-font
    and high-contrast modes; the pages work from the keyboard with a visible focus, read the
    focused text aloud, and fit a phone's width.
Screenshots are saved under BUILD_DIR/test-artifacts/browser/citizen-*.png.

Usage: citizen_portal_test.py BUILD_DIR
"""
import json
import os
import sys
import unittest
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests/support"))
from browser import (Browsers, axe_violations, check_axe_installed, check_browser_installed,  # noqa: E402
                     screenshot, sign_in_with_token, tab_to, unlabelled_controls)
from hotline_stack import (HotlineStack, TicketDriver, http_json, solve_challenge,  # noqa: E402
                           wait_for)

BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build")
ARTIFACTS = os.path.join(BUILD, "test-artifacts", "browser")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

QA_ID = "demo:qa:gjj-zufang-tiqu"
GUIDE_ID = "demo:guide:gjj-zufang-tiqu"
ONLINE_URL = "https://zwfw.example.gov.cn/changsha/gjj/zufang-tiqu"
REPEALED_ID = "demo:policy:gongjijin-tiqu-2019"
CURRENT_ID = "demo:policy:gongjijin-tiqu-2024"
PHONE_WIDTH, PHONE_HEIGHT = 390, 844
CITIZEN_PHONE = "13912345678"
COMMENT = "我租的是城中村的房子，没有备案，能不能提取？"
REPLY = "您好，未办理租赁备案的，可按每户每年18000元限额提取，无需提供租赁合同。"

# Every page shown to citizens; each is checked by axe-core in all three display modes.
PAGES = ("index", "entry", "request", "track")


class CitizenPortalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        check_browser_installed()
        check_axe_installed()
        cls.stack = HotlineStack(BUILD)
        cls.stack.start()
        try:
            cls.browsers = Browsers(2)
        except Exception:
            cls.stack.kill()
            raise
        cls.citizen, cls.reviewer = cls.browsers.all
        cls.citizen.set_window_size(PHONE_WIDTH, PHONE_HEIGHT)
        cls.driver = TicketDriver(cls.stack)
        cls.pb = cls.driver.pb
        cls.portal = cls.stack.portal_url
        cls.receipt = {}

    @classmethod
    def tearDownClass(cls):
        cls.browsers.quit()
        cls.stack.kill()

    # ---- helpers ---------------------------------------------------------------------------

    def text(self, element_id, browser=None):
        return (browser or self.citizen).execute_script(
            "var e = document.getElementById(arguments[0]); return e ? e.innerText : '';",
            element_id)

    def hrefs(self, container_id):
        return self.citizen.execute_script(
            "return Array.from(document.querySelectorAll('#' + arguments[0] + ' a'))"
            ".map(function (a) { return a.href; });", container_id)

    def entry_href(self, entry_id):
        return self.portal + "/public/entry.html?id=" + urllib.parse.quote(entry_id, safe="")

    def open_entry(self, entry_id):
        self.citizen.get(self.entry_href(entry_id))
        wait_for(lambda: self.citizen.find_elements(By.CSS_SELECTOR, "#entry h1"), 10,
                 entry_id + "'s page")

    def assert_fits_the_phone(self, name):
        overflow = self.citizen.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        self.assertLessEqual(overflow, 0, name + " is wider than the phone's screen")

    def assert_accessible(self, name):
        """axe-core finds nothing on the page, in normal, large-font and high-contrast modes
        (switched from the keyboard), with a screenshot of each; no control lacks a name."""
        b = self.citizen
        self.assertEqual(unlabelled_controls(b), [], name)
        self.assertEqual(axe_violations(b), [], name)
        self.assert_fits_the_phone(name)
        screenshot(b, ARTIFACTS, "citizen-%s" % name)
        for toggle, css in (("toggle-large-font", "large-font"),
                            ("toggle-high-contrast", "high-contrast")):
            # From the top of the page (the skip link), as a keyboard user starts.
            b.execute_script("window.scrollTo(0, 0); document.querySelector('.skip-link').focus();")
            tab_to(b, toggle).send_keys(Keys.ENTER)
            wait_for(lambda: css in b.find_element(By.TAG_NAME, "html").get_attribute("class"),
                     5, css)
            self.assertEqual(axe_violations(b), [], "%s in %s" % (name, css))
            self.assert_fits_the_phone("%s in %s" % (name, css))
            screenshot(b, ARTIFACTS, "citizen-%s-%s" % (name, css))
            b.switch_to.active_element.send_keys(Keys.ENTER)
            wait_for(lambda: css not in b.find_element(By.TAG_NAME, "html")
                     .get_attribute("class"), 5, css + " off")
        self.checked_pages.add(name.split("-")[0])

    checked_pages = set()

    def sign_in(self, browser, role, landing):
        sign_in_with_token(browser, self.stack.gateway_url, self.stack.tokens[role], landing)

    def post(self, path, body):
        """(HTTP status, body) of a POST to the portal's API."""
        return http_json(self.portal + path, "POST", body)[:2]

    def submit_online_request(self, content):
        """Another citizen's request, through the portal's API: its receipt."""
        challenge = http_json(self.portal + "/api/public/challenge")[1]
        status, receipt = self.post("/api/public/requests", {
            "request_id": "other-" + os.urandom(6).hex(), "kind": "TICKET_KIND_HELP_REQUEST",
            "content": content, "caller_phone": "13700000001",
            "challenge_token": challenge["token"],
            "challenge_answer": solve_challenge(challenge["question"])})
        self.assertEqual(status, 200, receipt)
        return receipt

    def lookup(self, number, code):
        """What the portal's API answers a lookup: (HTTP status, body)."""
        return self.post("/api/public/requests/lookup",
                         {"tracking_number": number, "query_code": code})

    # ---- the citizen's story, in order -----------------------------------------------------

    def test_1_a_citizen_finds_the_answer_and_the_guide_on_a_phone(self):
        b = self.citizen
        b.get(self.portal + "/")
        self.assertTrue(b.current_url.endswith("/public/index.html"), b.current_url)
        wait_for(lambda: b.find_elements(By.CSS_SELECTOR, "#browse-category option[value]"
                                                          ":not([value=''])"), 10,
                 "the categories to browse")
        self.assert_accessible("index")

        # As-you-type suggestions from the public content.
        box = tab_to(b, "q")
        box.send_keys("租房提取")
        wait_for(lambda: b.execute_script(
            "return Array.from(document.querySelectorAll('#suggestions option'))"
            ".map(function (o) { return o.value; }).join('|')"), 10, "suggestions")
        box.send_keys("公积金", Keys.ENTER)
        wait_for(lambda: "找到" in self.text("search-status"), 10, "the results")
        links = self.hrefs("results")
        self.assertIn(self.entry_href(QA_ID), links)
        self.assertIn(self.entry_href(GUIDE_ID), links)
        # Each hit shows where it comes from: the 文号 of a policy and the clause of its text.
        policy = self.citizen.execute_script(
            "var a = document.querySelector('#results li.hit > h3 a[href=\"' + arguments[0] + '\"]');"
            "return a ? a.closest('li.hit').innerText : '';",
            "/public/entry.html?id=" + urllib.parse.quote(CURRENT_ID, safe=""))
        self.assertIn("长住金发〔2024〕5号", policy)
        self.assertRegex(policy, r"第[一二三四五六七八九十百]+条")
        self.assert_accessible("index-results")

        # The Q&A pair, on a page of its own with an address to share.
        b.execute_script("document.querySelector('#results a[href=\"' + arguments[0] + '\"]')"
                         ".scrollIntoView();", "/public/entry.html?id=" +
                         urllib.parse.quote(QA_ID, safe=""))
        b.find_element(By.CSS_SELECTOR, '#results a[href="/public/entry.html?id=%s"]'
                       % urllib.parse.quote(QA_ID, safe="")).click()
        wait_for(lambda: "租房提取公积金每年能提多少" in self.text("entry"), 10, "the Q&A pair")
        self.assertEqual(b.current_url, self.entry_href(QA_ID))
        self.assertIn("18000", self.text("entry"))
        self.assertIn(self.entry_href(CURRENT_ID), self.hrefs("entry"))
        self.assert_accessible("entry-qa")

        # The service guide, and its online-handling link.
        self.open_entry(GUIDE_ID)
        self.assertIn("长沙住房公积金管理中心", self.text("entry"))
        self.assertIn("居民身份证", self.text("entry"))
        self.assert_accessible("entry-guide")
        online = b.find_element(By.LINK_TEXT, "在线办理")
        self.assertEqual(online.get_attribute("href"), ONLINE_URL)
        online.click()
        # The test machine reaches no outside site: the browser going there is what counts.
        wait_for(lambda: b.current_url.startswith(ONLINE_URL) or
                 b.execute_script("return location.href").startswith(ONLINE_URL),
                 15, "the browser to follow the online-handling link")
        b.back()

    def test_2_a_repealed_rule_is_marked_where_it_is_reached(self):
        b = self.citizen
        # An editor's Q&A pair that still points to the repealed rules.
        from hotline.kb.v1 import kb_pb2 as kb
        entry = kb.Entry(
            id="demo:qa:gjj-old-rules", kind=kb.ENTRY_KIND_QA_PAIR,
            title="2019年的公积金提取办法还能用吗？", region="湖南/长沙",
            category_path="住房保障/住房公积金/提取",
            qa_pair=kb.QaPair(question="2019年的公积金提取办法还能用吗？",
                              answer="2019年的办法已于2024年7月1日废止，请按新办法办理。"),
            links=[kb.EntryLink(relation=kb.LINK_RELATION_RELATED, target_id=REPEALED_ID)])
        self.stack.stub("kb").UpsertEntry(
            kb.UpsertEntryRequest(entry=entry, request_id="old-rules-qa"),
            metadata=self.stack.auth("editor"), timeout=10)
        self.open_entry(entry.id)
        link = b.find_element(By.CSS_SELECTOR, '#entry a[href="/public/entry.html?id=%s"]'
                              % urllib.parse.quote(REPEALED_ID, safe=""))
        badge = link.find_element(By.XPATH, "following-sibling::span[1]")
        self.assertEqual(badge.text, "已废止")
        screenshot(b, ARTIFACTS, "citizen-entry-link-to-repealed")
        link.click()
        wait_for(lambda: b.current_url == self.entry_href(REPEALED_ID), 10, "the repealed rule")
        wait_for(lambda: b.find_elements(By.CSS_SELECTOR, "#entry .repealed"), 10,
                 "the repealed rule's page")
        notice = b.find_element(By.CSS_SELECTOR, "#entry .repealed")
        self.assertIn("已废止", notice.text)
        notice.find_element(By.LINK_TEXT, "查看现行版本").click()
        wait_for(lambda: b.current_url == self.entry_href(CURRENT_ID), 10, "the current rule")
        wait_for(lambda: "长住金发〔2024〕5号" in self.text("entry"), 10, "the current rule's page")
        self.assertEqual(b.find_elements(By.CSS_SELECTOR, "#entry .repealed"), [])

    def test_3_no_answer_becomes_an_online_request(self):
        b = self.citizen
        self.open_entry(QA_ID)
        tab_to(b, "feedback-no").send_keys(Keys.ENTER)
        wait_for(lambda: "感谢" in self.text("feedback-status"), 10, "the answer counted")
        # Counted apart from agents' confirmations, and shown to editors, not to agents.
        kb = self.stack.stub("kb")
        from hotline.kb.v1 import kb_pb2
        for_editor = kb.GetEntry(kb_pb2.GetEntryRequest(entry_id=QA_ID),
                                 metadata=self.stack.auth("editor"), timeout=10)
        self.assertEqual(for_editor.citizen_feedback.not_helpful, 1)
        self.assertEqual(for_editor.citizen_feedback.helpful, 0)
        for_agent = kb.GetEntry(kb_pb2.GetEntryRequest(entry_id=QA_ID),
                                metadata=self.stack.auth("agent"), timeout=10)
        self.assertFalse(for_agent.HasField("citizen_feedback"))
        # The editor sees it beside the entry in the knowledge base's search.
        e = self.reviewer
        self.sign_in(e, "editor", "/drafts.html")
        e.get(self.stack.gateway_url + "/search.html")
        e.find_element(By.ID, "q").send_keys("租房提取公积金每年能提多少", Keys.ENTER)
        badge = '#results [data-entry-id="%s"] .citizen-feedback' % QA_ID
        wait_for(lambda: e.find_elements(By.CSS_SELECTOR, badge), 15, "the citizens' count")
        self.assertEqual(e.find_element(By.CSS_SELECTOR, badge).text,
                         "市民反馈：有用 0 · 没有解答 1")
        screenshot(e, ARTIFACTS, "citizen-editor-search-feedback")

        # What was missing, then on to the request form with it.
        self.assertEqual(b.switch_to.active_element.get_attribute("id"), "feedback-comment")
        b.switch_to.active_element.send_keys(COMMENT)
        tab_to(b, "to-request").send_keys(Keys.ENTER)
        wait_for(lambda: b.current_url.endswith("/public/request.html"), 10, "the request form")
        wait_for(lambda: "验证问题：" in self.text("challenge-label") and
                 "等于" in self.text("challenge-label"), 10, "the question")
        content = b.find_element(By.ID, "content").get_attribute("value")
        self.assertIn(COMMENT, content)
        self.assertIn("租房提取公积金每年能提多少", content)
        self.assert_accessible("request")

        Select(b.find_element(By.ID, "kind")).select_by_value("TICKET_KIND_CONSULTATION")
        b.find_element(By.ID, "address").send_keys("长沙市岳麓区望月湖街道")
        b.find_element(By.ID, "phone").send_keys(CITIZEN_PHONE)
        b.find_element(By.ID, "name").send_keys("刘先生")
        # A wrong answer is refused, nothing is stored, and a new question is asked.
        first = self.text("challenge-label")
        b.find_element(By.ID, "challenge-answer").send_keys(str(int(solve_challenge(first)) + 1))
        b.find_element(By.CSS_SELECTOR, "#request-form button[type=submit]").click()
        wait_for(lambda: "验证问题" in self.text("request-error"), 10, "the wrong answer refused")
        wait_for(lambda: self.text("challenge-label") != first or
                 b.find_element(By.ID, "challenge-answer").get_attribute("value") == "", 10,
                 "a new question")
        self.assertEqual(self.web_tickets(), [])
        b.find_element(By.ID, "challenge-answer").send_keys(solve_challenge(self.text("challenge-label")))
        b.find_element(By.CSS_SELECTOR, "#request-form button[type=submit]").click()
        wait_for(lambda: self.text("tracking-number") and self.text("query-code"), 10,
                 "the receipt")
        self.receipt.update(number=self.text("tracking-number"), code=self.text("query-code"))
        self.assertEqual(b.switch_to.active_element.get_attribute("id"), "receipt")
        self.assert_accessible("request-receipt")

        # It is a ticket on the web channel, waiting for review like a call.
        ticket = self.driver.current(self.receipt["number"])
        self.assertEqual(ticket.channel, self.pb.CHANNEL_WEB)
        self.assertEqual(ticket.state, self.pb.TICKET_STATE_PENDING_REVIEW)
        self.assertEqual(ticket.kind, self.pb.TICKET_KIND_CONSULTATION)
        self.assertIn(COMMENT, ticket.content)
        self.assertEqual(ticket.caller_phone, CITIZEN_PHONE)
        self.assertEqual(self.web_tickets(), [ticket.id])

    def web_tickets(self):
        pb = self.pb
        listed = self.driver._call("ListTickets", "supervisor", pb.ListTicketsRequest(
            page_size=100))
        return [t.id for t in listed.tickets if t.channel == pb.CHANNEL_WEB]

    def test_4_the_reviewer_sees_it_in_the_dispatch_queue_and_dispatches_it(self):
        number = self.receipt["number"]
        r = self.reviewer
        self.sign_in(r, "reviewer", "/dispatch.html")

        def queue(name):
            return r.execute_script(
                "return Array.from(document.querySelectorAll('#queue-' + arguments[0] +"
                " ' .queue-item')).map(function (b) { return b.getAttribute('data-ticket-id'); });",
                name)

        def showing():
            return r.execute_script(
                "var w = document.getElementById('work-ticket');"
                "return !w.hidden && w.getAttribute('data-ticket-id') === arguments[0];", number)

        def pick(name):
            wait_for(lambda: number in queue(name), 15, "the request in the %s queue" % name)
            if showing():
                return  # Still open after the last action, as a person would carry on.
            r.execute_script(
                "document.querySelector('#queue-' + arguments[0] + ' .queue-item[data-ticket-id=\"'"
                " + arguments[1] + '\"]').click();", name, number)
            wait_for(showing, 15, "the request open")

        pick("pending_review")
        self.assertIn("网上留言", self.text("work-ticket", r))
        screenshot(r, ARTIFACTS, "citizen-reviewer-queue")
        r.find_element(By.ID, "confirm-ticket").click()
        wait_for(lambda: self.text("dispatch-result", r), 15, "the page to say it is confirmed")
        wait_for(lambda: self.driver.current(number).state == self.pb.TICKET_STATE_PENDING_DISPATCH,
                 15, "the request confirmed")
        pick("pending_dispatch")
        # The suggestions come first (the top one is preselected); then the reviewer's choice.
        wait_for(lambda: "正在计算" not in self.text("suggestions", r), 15, "the suggestions")
        Select(r.find_element(By.ID, "lead")).select_by_value("housing-fund")
        r.find_element(By.ID, "dispatch-ticket").click()
        try:
            wait_for(lambda: self.driver.current(number).state ==
                     self.pb.TICKET_STATE_IN_PROGRESS, 15, "the request dispatched")
        except AssertionError:
            self.fail("not dispatched; the page says: " + self.text("dispatch-error", r))
        self.assertEqual(self.driver.current(number).work_orders[-1].department_id, "housing-fund")

    def test_5_the_citizen_reads_the_reply_with_the_number_and_the_code(self):
        number, code = self.receipt["number"], self.receipt["code"]
        b = self.citizen
        # Before the reply: in progress, no reply yet.
        b.get(self.portal + "/public/track.html?number=" + urllib.parse.quote(number))
        wait_for(lambda: b.find_element(By.ID, "tracking").get_attribute("value") == number, 10,
                 "the number filled in from the receipt's link")
        tab_to(b, "code").send_keys(code, Keys.ENTER)
        wait_for(lambda: "办理中" in self.text("progress"), 10, "the state")
        self.assertIn("尚未答复", self.text("progress"))

        # The department replies (its own system, over gRPC).
        pb, driver = self.pb, self.driver
        ticket = driver.current(number)
        order = [w for w in ticket.work_orders if w.department_id == "housing-fund"][-1]
        driver.update("SignWorkOrder", "housing_fund", number, lambda v: pb.SignWorkOrderRequest(
            ticket_id=number, work_order_id=order.id, expected_version=v,
            request_id=driver.request_id()))
        driver.update("AddProgressNote", "housing_fund", number, lambda v:
                      pb.AddProgressNoteRequest(ticket_id=number, work_order_id=order.id,
                                                expected_version=v, request_id=driver.request_id(),
                                                text="内部：已电话联系来电人核实租房情况"))
        driver.update("ReplyWorkOrder", "housing_fund", number, lambda v: pb.ReplyWorkOrderRequest(
            ticket_id=number, work_order_id=order.id, expected_version=v,
            request_id=driver.request_id(), reply_text=REPLY))

        b.find_element(By.CSS_SELECTOR, "#track-form button[type=submit]").click()
        wait_for(lambda: REPLY in self.text("progress"), 10, "the reply")
        shown = self.text("progress")
        self.assertIn("已答复", shown)
        self.assertIn(COMMENT, shown)
        # Nothing else: no staff or system names, no internal notes, no department ids.
        for internal in ("housing-fund", "reviewer-test", "citizen-portal", "内部：",
                         CITIZEN_PHONE, order.id):
            self.assertNotIn(internal, b.page_source)
        self.assert_accessible("track")

        # A wrong code shows nothing, and says the same as an unknown number.
        code_box = b.find_element(By.ID, "code")
        code_box.clear()
        code_box.send_keys("ABCDEFGHJK", Keys.ENTER)
        wait_for(lambda: "没有找到" in self.text("track-error"), 10, "the wrong code refused")
        self.assertEqual(self.text("progress"), "")
        self.assertNotIn(REPLY, b.page_source)
        # Another citizen's online request, looked up with this code: nothing either; nor a
        # ticket that came by phone.
        other = self.submit_online_request("小区路灯坏了半个月，晚上出行不安全")
        status, body = self.lookup(other["tracking_number"], code)
        self.assertEqual(status, 404)
        self.assertNotIn("路灯", json.dumps(body, ensure_ascii=False))
        self.assertEqual(self.lookup(other["tracking_number"], other["query_code"])[0], 200)
        by_phone = self.driver.create("电话来电：小区垃圾清运不及时", phone="13700000000")
        self.assertEqual(self.lookup(by_phone.id, code)[0], 404)
        status, unknown = self.lookup("T-no-such-number", code)
        self.assertEqual((status, unknown["error"]["message"]), (404, body["error"]["message"]))
        status, found = self.lookup(number, code)
        self.assertEqual(status, 200)
        self.assertEqual(found["replies"][0]["text"], REPLY)

    def test_6_keyboard_focus_and_voice_reading(self):
        b = self.citizen
        b.get(self.portal + "/public/index.html")
        wait_for(lambda: b.find_elements(By.CSS_SELECTOR, "#browse-category option[value]"
                                                          ":not([value=''])"), 10, "the page")
        # The focus is always visible: an outline wide enough to see, on every control.
        box = tab_to(b, "q")
        outline = b.execute_script(
            "var s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth];", box)
        self.assertNotEqual(outline[0], "none")
        self.assertGreaterEqual(float(outline[1].rstrip("px")), 2)
        # Browsing by category, then by agency, from the keyboard: the lists' choices are
        # drawn anew with each answer's counts, and the focus and the choice stay.
        # Everything, newest first, twenty at a time: the next twenty from the keyboard, with
        # the focus on the first of them.
        def listed():
            return b.execute_script(
                "return Array.from(document.querySelectorAll('#browse-results li.hit h3 a'))"
                ".map(function (a) { return a.textContent; });")
        first_page = listed()
        self.assertEqual(len(first_page), 20)
        tab_to(b, "browse-more", limit=80).send_keys(Keys.ENTER)
        wait_for(lambda: len(listed()) == 40, 10, "the next twenty")
        self.assertEqual(listed()[:20], first_page)
        self.assertEqual(b.switch_to.active_element.text, listed()[20])
        everything = self.text("browse-status")
        b.execute_script("window.scrollTo(0, 0); document.querySelector('.skip-link').focus();")
        tab_to(b, "browse-category").send_keys(Keys.ARROW_DOWN)
        category = wait_for(lambda: b.execute_script(
            "return document.getElementById('browse-category').value"), 10, "a category chosen")
        wait_for(lambda: "找到" in self.text("browse-status") and
                 self.text("browse-status") != everything, 10, "the category's entries")
        self.assertEqual(b.switch_to.active_element.get_attribute("id"), "browse-category")
        self.assertEqual(b.execute_script(
            "return document.getElementById('browse-category').value"), category)
        in_category = self.text("browse-status")
        tab_to(b, "browse-agency").send_keys(Keys.ARROW_DOWN)
        wait_for(lambda: b.execute_script(
            "return document.getElementById('browse-agency').value"), 10, "an agency chosen")
        wait_for(lambda: "找到" in self.text("browse-status") and
                 self.text("browse-status") != in_category or
                 "没有内容" in self.text("browse-status"), 10, "the agency's entries")
        self.assertEqual(b.switch_to.active_element.get_attribute("id"), "browse-agency")
        screenshot(b, ARTIFACTS, "citizen-index-browse")
        # Voice reading of the focused text, in Chinese, with the browser's speech synthesis.
        b.execute_script("window.__spoken = []; window.speechSynthesis.speak = function (u) {"
                         " window.__spoken.push([u.text, u.lang]); };")
        b.execute_script("window.scrollTo(0, 0); document.querySelector('.skip-link').focus();")
        box = tab_to(b, "q")
        box.send_keys("医保")
        box.send_keys(Keys.ALT, "r")
        spoken = b.execute_script("return window.__spoken")
        self.assertEqual(len(spoken), 1)
        self.assertIn("医保", spoken[0][0])
        self.assertEqual(spoken[0][1], "zh-CN")
        self.assertEqual(b.switch_to.active_element.get_attribute("id"), "q")

    def test_7_every_portal_page_was_checked(self):
        self.assertEqual(self.checked_pages, set(PAGES))


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""The agent's intake console and the reviewer's dispatch console in real browsers (two
headless Chromiums, one per person) against the real services and gateway. Every step under
test is done on the pages as a person would; gRPC is used only to set the scene (a caller's
earlier tickets, a history of closed tickets, a returned work order) and to check afterwards
what the services hold.

  - login lands each role on its own console, with only its pages in the navigation;
  - a screen-pop address shows the caller's earlier tickets and flags a repeat call;
  - the agent answers a consultation on the spot from a knowledge-base hit: the ticket is
    closed with the cited passage and the knowledge base has the feedback;
  - she creates a complaint the page flags as a possible duplicate of an open ticket;
  - the reviewer sees it arrive without a reload, confirms it, dispatches it to the top
    suggested department (learnt from the closed history), merges the duplicate, and re-routes
    a returned work order.
Screenshots of both consoles are saved under BUILD_DIR/test-artifacts/browser/.

Usage: consoles_browser_test.py BUILD_DIR
"""
import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests/support"))
from browser import (Browsers, check_browser_installed, screenshot,  # noqa: E402
                     sign_in_with_token, tab_to, unlabelled_controls)
from hotline_stack import HotlineStack, TicketDriver, wait_for  # noqa: E402

BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build")
ARTIFACTS = os.path.join(BUILD, "test-artifacts", "browser")

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

CALLER = "13812345678"
YUELU = "430104"


class ConsolesBrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        check_browser_installed()
        cls.stack = HotlineStack(BUILD)
        cls.stack.start()
        try:
            cls.browsers = Browsers(2)
        except Exception:
            cls.stack.kill()
            raise
        cls.agent, cls.reviewer = cls.browsers.all
        cls.driver = TicketDriver(cls.stack)
        cls.pb = cls.driver.pb
        pb, driver = cls.pb, cls.driver
        # The caller's history: a closed matter, a confidential report, and one still open.
        cls.earlier_closed = driver.close_satisfied(driver.dispatched("楼下商铺空调外机噪音扰民"))
        cls.earlier_confidential = driver.create("举报小区旁小作坊夜间违规生产",
                                                 kind=pb.TICKET_KIND_REPORT, confidential=True)
        cls.earlier_open = driver.create("小区门口路灯坏了一个多月没人修",
                                         kind=pb.TICKET_KIND_COMPLAINT, name="王女士")
        # Closed history the suggestions learn from: water supply matters replied by the water
        # bureau (no category on them, so only the history and the remits can tell).
        for content in ("岳麓区望月湖小区停水两天，一直没有恢复供水，也没有通知",
                        "观沙岭江景苑小区停水，至今没有恢复供水，家里老人做饭都困难",
                        "梅溪湖梅岭花园停水一整天了，没有接到任何停水通知"):
            driver.close_satisfied(driver.dispatched(content, hours=48, phone="13900000001",
                                                     district=YUELU))
        # An open matter another caller reported: the duplicate the agent will spot.
        cls.open_duplicate = driver.create("望月湖小区三栋又停水了，到现在还没有恢复供水",
                                           kind=pb.TICKET_KIND_COMPLAINT, phone="13900000002",
                                           district=YUELU)
        # A work order returned as misrouted, waiting to be re-routed.
        cls.returned = driver.dispatched("小区楼道供水管爆裂漏水，整栋楼停水", department="hrss",
                                         hours=48, phone="13900000004")
        order = [w for w in cls.returned.work_orders if w.department_id == "hrss"][-1]
        driver.update("ReturnWorkOrder", "hrss", cls.returned.id,
                      lambda v: pb.ReturnWorkOrderRequest(
                          ticket_id=cls.returned.id, work_order_id=order.id, expected_version=v,
                          request_id=driver.request_id(),
                          reason="供水管网不属于人社部门职责，请改派水务部门"))
        # A work order whose department asks for more time.
        cls.extended = driver.dispatched("小区排水管网改造工程拖延，雨天积水", hours=200,
                                         phone="13900000005")
        order = [w for w in cls.extended.work_orders if w.department_id == "water"][-1]
        driver.update("SignWorkOrder", "water", cls.extended.id, lambda v: pb.SignWorkOrderRequest(
            ticket_id=cls.extended.id, work_order_id=order.id, expected_version=v,
            request_id=driver.request_id()))
        driver.update("RequestExtension", "water", cls.extended.id,
                      lambda v: pb.RequestExtensionRequest(
                          ticket_id=cls.extended.id, work_order_id=order.id, expected_version=v,
                          request_id=driver.request_id(), reason="需协调管网施工",
                          extension=pb.TimeLimit(working_days=3)))
        # A question outside the government's remit, for the reviewer to reject.
        cls.out_of_remit = driver.create("想咨询哪家装修公司比较靠谱",
                                         kind=pb.TICKET_KIND_CONSULTATION, phone="13900000006")

    @classmethod
    def tearDownClass(cls):
        cls.browsers.quit()
        cls.stack.kill()

    # ---- helpers ---------------------------------------------------------------------------

    def login(self, browser, role):
        sign_in_with_token(browser, self.stack.gateway_url, self.stack.tokens[role])

    def nav(self, browser):
        wait_for(lambda: browser.execute_script(
            "return document.querySelectorAll('header.site nav li[hidden]').length") > 0,
            15, "the navigation to follow the role")
        return [a.get_attribute("href").split("/")[-1] for a in
                browser.find_elements(By.CSS_SELECTOR, "header.site nav li:not([hidden]) a")]

    def display_modes(self, browser, name):
        """The page from the keyboard in large font, then high contrast: a screenshot of each,
        then back to normal."""
        for toggle, css in (("toggle-large-font", "large-font"),
                            ("toggle-high-contrast", "high-contrast")):
            browser.execute_script("document.activeElement.blur(); window.scrollTo(0, 0);")
            tab_to(browser, toggle).send_keys(Keys.ENTER)
            wait_for(lambda: css in browser.find_element(By.TAG_NAME, "html").get_attribute("class"),
                     5, css)
            screenshot(browser, ARTIFACTS, "%s-%s" % (name, css))
            browser.switch_to.active_element.send_keys(Keys.ENTER)
            wait_for(lambda: css not in browser.find_element(By.TAG_NAME, "html")
                     .get_attribute("class"), 5, css + " off")

    def tab_to_queue_item(self, ticket_id, limit=80):
        """Tabs to the queue button of `ticket_id`, as a keyboard user goes down the queues."""
        self.reviewer.execute_script("document.activeElement.blur(); window.scrollTo(0, 0);")
        for _ in range(limit):
            if self.reviewer.execute_script(
                    "return document.activeElement.getAttribute('data-ticket-id')") == ticket_id:
                return self.reviewer.switch_to.active_element
            self.reviewer.switch_to.active_element.send_keys(Keys.TAB)
        self.fail("Tab never reached the queue item of " + ticket_id)

    def ticket(self, ticket_id):
        return self.driver.current(ticket_id)

    def queue_ids(self, queue):
        # Read in one script: the queues are redrawn every few seconds, so elements found in
        # one call may be gone by the next.
        return self.reviewer.execute_script(
            "return Array.from(document.querySelectorAll('#queue-' + arguments[0] + ' .queue-item'))"
            ".map(function (b) { return b.getAttribute('data-ticket-id'); });", queue)

    def lead(self):
        return self.reviewer.execute_script("return document.getElementById('lead').value")

    def suggestions(self):
        """[(department id, text)] of the suggested departments, read in one script."""
        return [tuple(x) for x in self.reviewer.execute_script(
            "return Array.from(document.querySelectorAll('#suggestions li[data-department-id]'))"
            ".map(function (li) { return [li.getAttribute('data-department-id'), li.textContent]; });")]

    def showing(self, ticket_id):
        return self.reviewer.execute_script(
            "var w = document.getElementById('work-ticket');"
            "return !w.hidden && w.getAttribute('data-ticket-id') === arguments[0];", ticket_id)

    def pick(self, queue, ticket_id):
        wait_for(lambda: ticket_id in self.queue_ids(queue), 15,
                 "%s in the %s queue" % (ticket_id, queue))
        if self.showing(ticket_id):
            return  # Still open after the last action, as a person would carry on.
        self.reviewer.execute_script(
            "document.querySelector('#queue-' + arguments[0] + ' .queue-item[data-ticket-id=\"' +"
            " arguments[1] + '\"]').click();", queue, ticket_id)
        wait_for(lambda: self.showing(ticket_id), 15, "the ticket to open")

    # ---- the test --------------------------------------------------------------------------

    def test_agent_and_reviewer_work_the_loop_in_their_consoles(self):
        agent, reviewer = self.agent, self.reviewer
        pb = self.pb

        # Each role lands on its own console, and sees only its pages.
        self.login(agent, "agent")
        wait_for(lambda: agent.current_url.endswith("/intake.html"), 15, "the agent's console")
        self.assertEqual(self.nav(agent), ["intake.html", "ticket.html", "search.html"])
        self.login(reviewer, "reviewer")
        wait_for(lambda: reviewer.current_url.endswith("/dispatch.html"), 15, "the dispatch console")
        self.assertEqual(self.nav(reviewer), ["dispatch.html", "ticket.html", "search.html"])
        # A page outside the role sends the user to their own console, not to an empty shell.
        agent.get(self.stack.gateway_url + "/overview.html")
        wait_for(lambda: agent.current_url.endswith("/intake.html"), 15, "the agent sent back")

        # Screen pop: the caller's earlier tickets, newest first, the open one flagged.
        agent.get(self.stack.gateway_url + "/intake.html?caller=" + CALLER)
        history = lambda: [li.get_attribute("data-ticket-id") for li in
                           agent.find_elements(By.CSS_SELECTOR, "#caller-history li")]
        wait_for(lambda: len(history()) >= 3, 15, "the caller's earlier tickets")
        self.assertEqual(history()[:3], [self.earlier_open.id, self.earlier_confidential.id,
                                         self.earlier_closed.id])
        # A confidential caller's tickets are shown to the agent, marked.
        self.assertIn("保密", agent.find_element(
            By.CSS_SELECTOR, '#caller-history li[data-ticket-id="%s"]'
            % self.earlier_confidential.id).text)
        first = agent.find_element(By.CSS_SELECTOR, "#caller-history li")
        self.assertIn("open", first.get_attribute("class"))
        self.assertIn("未办结", first.text)
        repeat = agent.find_element(By.ID, "repeat-call")
        self.assertTrue(repeat.is_displayed())
        self.assertIn("重复来电", repeat.text)
        self.assertEqual(agent.find_element(By.ID, "caller-name").get_attribute("value"), "王女士")

        # A consultation, answered on the spot from a knowledge-base hit.
        Select(agent.find_element(By.ID, "kind")).select_by_value("TICKET_KIND_CONSULTATION")
        agent.find_element(By.ID, "content").send_keys("租房提取住房公积金需要什么材料")
        wait_for(lambda: agent.find_elements(By.CSS_SELECTOR, "#kb-hits .hit"), 15,
                 "knowledge-base hits beside the form")
        hit = agent.find_element(By.CSS_SELECTOR, "#kb-hits .hit")
        entry_id = hit.get_attribute("data-entry-id")
        ordinal = int(hit.get_attribute("data-passage-ordinal"))
        search_id = agent.find_element(By.ID, "kb-hits").get_attribute("data-search-id")
        wait_for(lambda: agent.find_element(By.ID, "category").get_attribute("value"), 15,
                 "the category suggested from the caller's words")
        self.assertTrue(agent.find_element(By.ID, "category").get_attribute("value")
                        .startswith("住房保障"))
        screenshot(agent, ARTIFACTS, "intake-01-screen-pop-and-knowledge")
        self.assertEqual(unlabelled_controls(agent), [])
        self.display_modes(agent, "intake-01")
        hit.find_element(By.CSS_SELECTOR, ".hit-action").click()
        answer = agent.find_element(By.ID, "answer-text")
        wait_for(answer.is_displayed, 5, "the answer box")
        self.assertTrue(answer.get_attribute("value"), "the passage offered as the answer")
        ActionChains(agent).key_down(Keys.ALT).send_keys("a").key_up(Keys.ALT).perform()
        wait_for(lambda: agent.find_element(By.ID, "intake-result").get_attribute("data-ticket-id"),
                 15, "the ticket answered on the spot")
        result = agent.find_element(By.ID, "intake-result")
        self.assertIn("已当场答复并办结", result.text)
        answered = self.ticket(result.get_attribute("data-ticket-id"))
        self.assertEqual(answered.state, pb.TICKET_STATE_CLOSED)
        self.assertEqual(answered.caller_phone, CALLER)
        self.assertEqual(answered.direct_answer.citations[0].entry_id, entry_id)
        self.assertEqual(answered.direct_answer.citations[0].passage_ordinal, ordinal)
        self.assertEqual(len(answered.work_orders), 0)
        # The knowledge base took the feedback: the same judgement again replaces it.
        from hotline.kb.v1 import kb_pb2
        again = self.stack.stub("kb").RecordFeedback(kb_pb2.RecordFeedbackRequest(
            request_id=self.driver.request_id(), search_id=search_id,
            query="租房提取住房公积金需要什么材料", type=kb_pb2.FEEDBACK_TYPE_ANSWERED,
            entry_id=entry_id, passage_ordinal=ordinal,
            passage_label=answered.direct_answer.citations[0].passage_label),
            metadata=self.stack.auth("agent"), timeout=10)
        self.assertTrue(again.replaced_previous, "the gateway recorded the ANSWERED feedback")
        # The form is ready for the next call.
        self.assertEqual(agent.find_element(By.ID, "content").get_attribute("value"), "")

        # Departments never see a caller's history, confidential or not.
        import json
        import urllib.error
        import urllib.request
        request = urllib.request.Request(
            self.stack.gateway_url + "/api/callers/" + CALLER + "/tickets",
            headers={"Authorization": "Bearer " + self.stack.tokens["water"]})
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        self.assertIn(refused.exception.code, (400, 403))
        self.assertNotIn(self.earlier_open.id, refused.exception.read().decode())

        # The reviewer's queues before the complaint arrives.
        wait_for(lambda: self.open_duplicate.id in self.queue_ids("pending_review"), 15,
                 "the review queue")
        before = len(self.queue_ids("pending_review"))

        # A complaint the page flags as a possible duplicate of an open ticket.
        Select(agent.find_element(By.ID, "kind")).select_by_value("TICKET_KIND_COMPLAINT")
        Select(agent.find_element(By.ID, "district")).select_by_value(YUELU)
        words = "望月湖小区停水了，到现在都没有恢复供水"
        agent.find_element(By.ID, "caller-phone").send_keys("1370000000x")  # mistyped
        agent.find_element(By.ID, "content").send_keys(words)
        duplicate_box = '#duplicates input[data-ticket-id="%s"]' % self.open_duplicate.id
        wait_for(lambda: agent.find_elements(By.CSS_SELECTOR, duplicate_box), 15,
                 "the open ticket offered as a possible duplicate")
        agent.find_element(By.CSS_SELECTOR, duplicate_box).click()
        # The agent prefers her own category to the suggested one.
        wait_for(lambda: agent.find_element(By.ID, "category-suggestion").text, 15,
                 "a category suggested for the complaint")
        category = agent.find_element(By.ID, "category")
        category.clear()
        category.send_keys("城乡建设/供水")
        # A refused submit names the field and keeps the caller's words, even across a reload.
        ActionChains(agent).key_down(Keys.ALT).send_keys("s").key_up(Keys.ALT).perform()
        wait_for(lambda: "caller_phone" in agent.find_element(By.ID, "intake-error").text, 15,
                 "the refusal naming the phone field")
        self.assertEqual(agent.find_element(By.ID, "content").get_attribute("value"), words)
        agent.refresh()
        wait_for(lambda: agent.find_element(By.ID, "content").get_attribute("value") == words, 15,
                 "the caller's words restored after a reload")
        wait_for(lambda: agent.execute_script(
            "var box = document.querySelector(arguments[0]); return !!box && box.checked;",
            duplicate_box), 15, "the duplicate mark restored")
        phone = agent.find_element(By.ID, "caller-phone")
        phone.clear()
        phone.send_keys("13700000003")
        ActionChains(agent).key_down(Keys.ALT).send_keys("s").key_up(Keys.ALT).perform()
        wait_for(lambda: agent.find_element(By.ID, "intake-result").get_attribute("data-ticket-id")
                 not in ("", None, answered.id), 15, "the complaint created")
        complaint_id = agent.find_element(By.ID, "intake-result").get_attribute("data-ticket-id")
        complaint = self.ticket(complaint_id)
        self.assertEqual(complaint.state, pb.TICKET_STATE_PENDING_REVIEW)
        self.assertEqual(complaint.suspected_duplicate_of, self.open_duplicate.id)
        self.assertEqual(complaint.location.district_code, YUELU)
        self.assertEqual(complaint.category_path, "城乡建设/供水")

        # It arrives in the reviewer's queue without a reload.
        wait_for(lambda: complaint_id in self.queue_ids("pending_review"), 10,
                 "the complaint in the review queue, live")
        self.assertEqual(len(self.queue_ids("pending_review")), before + 1)
        count = reviewer.find_element(By.ID, "count-pending_review").text
        self.assertEqual(count, str(before + 1))

        # Confirm it.
        self.pick("pending_review", complaint_id)
        self.assertIn(self.open_duplicate.id,
                      reviewer.find_element(By.ID, "work-duplicate-flag").text)
        # Confirmed with corrections to urgency and category.
        Select(reviewer.find_element(By.ID, "review-urgency")).select_by_value("URGENCY_URGENT")
        review_category = reviewer.find_element(By.ID, "review-category")
        review_category.clear()
        review_category.send_keys("城乡建设/供水/停水")
        reviewer.find_element(By.ID, "confirm-ticket").click()
        wait_for(lambda: self.ticket(complaint_id).state == pb.TICKET_STATE_PENDING_DISPATCH, 15,
                 "the complaint confirmed")
        confirmed = self.ticket(complaint_id)
        self.assertEqual(confirmed.urgency, pb.URGENCY_URGENT)
        self.assertEqual(confirmed.category_path, "城乡建设/供水/停水")

        # Dispatch it to the top suggestion, learnt from who replied to similar tickets.
        self.pick("pending_dispatch", complaint_id)
        wait_for(self.suggestions, 15, "suggested departments")
        department, text = self.suggestions()[0]
        self.assertEqual(department, "water")
        self.assertIn("类似工单", text)
        self.assertIn("市水务局", text)
        # The top suggestion is preselected as the lead.
        self.assertEqual(self.lead(), "water")
        screenshot(reviewer, ARTIFACTS, "dispatch-01-suggested-departments")
        self.assertEqual(unlabelled_controls(reviewer), [])
        self.display_modes(reviewer, "dispatch-01")
        # With an assisting department and a time limit of the reviewer's own.
        reviewer.find_element(By.ID, "assist-urban-management").click()
        reviewer.find_element(By.ID, "lead-days").send_keys("5")
        reviewer.find_element(By.ID, "dispatch-ticket").click()
        wait_for(lambda: self.ticket(complaint_id).state == pb.TICKET_STATE_IN_PROGRESS, 15,
                 "the complaint dispatched")
        orders = {w.department_id: w for w in self.ticket(complaint_id).work_orders}
        self.assertEqual(orders["water"].role, pb.WORK_ORDER_ROLE_LEAD)
        self.assertEqual(orders["water"].time_limit.working_days, 5)
        self.assertEqual(orders["urban-management"].role, pb.WORK_ORDER_ROLE_ASSIST)

        # Merge the duplicate into it.
        self.pick("pending_review", self.open_duplicate.id)
        merge = '#merge-targets button[data-target-id="%s"]' % complaint_id
        wait_for(lambda: reviewer.find_elements(By.CSS_SELECTOR, merge), 15,
                 "the complaint offered as the merge target")
        reviewer.find_element(By.CSS_SELECTOR, merge).click()
        wait_for(lambda: self.ticket(self.open_duplicate.id).state == pb.TICKET_STATE_MERGED, 15,
                 "the duplicate merged")
        self.assertEqual(self.ticket(self.open_duplicate.id).merged_into_ticket_id, complaint_id)
        wait_for(lambda: self.open_duplicate.id not in self.queue_ids("pending_review"), 10,
                 "the merged ticket gone from the queue")

        # Re-route the returned work order to a suggested alternative.
        self.pick("pending_redispatch", self.returned.id)
        self.assertIn("不属于人社部门职责", reviewer.find_element(By.ID, "return-info").text)
        wait_for(self.suggestions, 15, "alternatives")
        alternatives = [department for department, _ in self.suggestions()]
        self.assertEqual(self.lead(), alternatives[0])
        self.assertNotIn("hrss", alternatives)
        self.assertEqual(alternatives[0], "water")
        screenshot(reviewer, ARTIFACTS, "dispatch-02-redispatch")
        reviewer.find_element(By.ID, "redispatch-ticket").click()
        wait_for(lambda: self.ticket(self.returned.id).state == pb.TICKET_STATE_IN_PROGRESS, 15,
                 "the returned work order re-routed")
        active = [w.department_id for w in self.ticket(self.returned.id).work_orders
                  if w.state == pb.WORK_ORDER_STATE_PENDING_SIGN]
        self.assertEqual(active, ["water"])
        # With the keyboard alone: down the queues to the out-of-remit question, open it, give
        # the reason and reject it.
        self.tab_to_queue_item(self.out_of_remit.id).send_keys(Keys.ENTER)
        wait_for(lambda: self.showing(self.out_of_remit.id), 15, "the question opened")
        tab_to(reviewer, "reject-reason").send_keys("不属于政府职能范围，建议咨询行业协会")
        tab_to(reviewer, "reject-ticket").send_keys(Keys.ENTER)
        wait_for(lambda: self.ticket(self.out_of_remit.id).state == pb.TICKET_STATE_REJECTED, 15,
                 "the question rejected from the keyboard")
        self.assertEqual(self.ticket(self.out_of_remit.id).state_reason,
                         "不属于政府职能范围，建议咨询行业协会")

        # The extension request waits in its own queue, with the department's reason.
        self.pick("extension_requests", self.extended.id)
        wait_for(lambda: "申请延期" in reviewer.find_element(By.ID, "extension-info").text, 15,
                 "the extension request shown")
        self.assertIn("需协调管网施工", reviewer.find_element(By.ID, "extension-info").text)
        screenshot(agent, ARTIFACTS, "intake-02-after-submit")


if __name__ == "__main__":
    unittest.main(verbosity=2)

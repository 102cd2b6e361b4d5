#!/usr/bin/env python3
"""The public scope from outside, against the real services and the citizens' portal: every
public endpoint is called, and nothing internal is ever in its answer. The staff side is
asked the same things first and must show those internal fields (versions, sources, scores,
agents' confirmations, editors, frequent queries, citizens' counts), so the test fails if the
portal ever passes them through.

Also: the portal's own token cannot reach beyond the public scope over gRPC, citizens'
searches leave no gaps and feed no suggestions, and the portal refuses what a citizen may not
ask (a hot topic, a staff-only filter, an oversized body).

Usage: public_scope_test.py BUILD_DIR
"""
import json
import os
import sys
import time
import unittest
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests/support"))
from hotline_stack import (HotlineStack, TicketDriver, http_json, solve_challenge,  # noqa: E402
                           wait_for)

BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build")

QA_ID = "demo:qa:gjj-zufang-tiqu"
GUIDE_ID = "demo:guide:gjj-zufang-tiqu"
POLICY_ID = "demo:policy:gongjijin-tiqu-2024"
REPEALED_ID = "demo:policy:gongjijin-tiqu-2019"
HOT_TOPIC_ID = "demo:hot:gongjijin-zufang-tiqu"
QUERY = "租房提取公积金"
# What colleagues searched, often enough to become a suggestion for agents.
AGENTS_QUERY = "公积金租房提取城中村未备案"
# Field names that are internal wherever they appear in a public answer.
INTERNAL = {
    "version", "entry_version", "sources", "merged_ids", "pending_status_change", "created_by",
    "updated_by", "changed_by", "reason", "score", "similar_confirmations",
    "ranking_note", "citizen_feedback", "search_id", "query_count", "principal",
    "department_id", "work_orders", "events", "caller_phone", "caller_name", "notes",
    "callbacks", "created_by_principal",
}


# Editors' notes on links (a material's note in a guide is for the public).
LINK_NOTE = ("links", "answer_source", "policies", "qa_pairs", "service_guides")


def internal(path, key):
    if key in INTERNAL:
        return True
    return key == "note" and any("." + parent in path for parent in LINK_NOTE)


def keys(value, path=""):
    """Every (path, key) of a JSON value, at any depth."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield path + "." + k, k
            yield from keys(v, path + "." + k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from keys(v, "%s[%d]" % (path, i))


class PublicScopeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = HotlineStack(BUILD)
        cls.stack.start()
        from hotline.kb.v1 import kb_pb2
        cls.kb_pb = kb_pb2
        cls.kb = cls.stack.stub("kb")
        cls.driver = TicketDriver(cls.stack)
        # Agents at work: the same search by three colleagues (a frequent query), and an
        # answer confirmed to a caller (a lift for similar questions, with its note).
        for role in ("agent", "reviewer", "supervisor"):
            cls.staff_search(role, AGENTS_QUERY)
        found = cls.staff_search("agent", QUERY)
        hit = [h for h in found.hits if h.entry_id == QA_ID][0]
        for i, question in enumerate((QUERY, "租房可以提取住房公积金吗", "租房子住能提取公积金吗")):
            cls.kb.RecordFeedback(kb_pb2.RecordFeedbackRequest(
                request_id="scope-feedback-%d" % i, search_id=found.search_id + "-%d" % i,
                query=question, type=kb_pb2.FEEDBACK_TYPE_ANSWERED, entry_id=QA_ID,
                passage_ordinal=hit.passage_ordinal, passage_label=hit.passage_label),
                metadata=cls.stack.auth("agent"), timeout=10)
        # A citizen's answer on the portal, so that editors have counts to see.
        cls.status, _ = cls.call("POST", "/api/public/feedback",
                                 {"entry_id": QA_ID, "helpful": True})

    @classmethod
    def tearDownClass(cls):
        codes = cls.stack.stop()
        assert all(code == 0 for code in codes.values()), codes

    @classmethod
    def staff_search(cls, role, query):
        return cls.kb.Search(cls.kb_pb.SearchRequest(query=query, page_size=20),
                             metadata=cls.stack.auth(role), timeout=10)

    @classmethod
    def call(cls, method, path, body=None, source_address=None):
        """(HTTP status, JSON body) of a portal call."""
        return http_json(cls.stack.portal_url + path, method, body, source_address)[:2]

    def assert_public(self, what, body):
        leaked = sorted(p for p, k in keys(body) if internal(p, k))
        self.assertEqual(leaked, [], what)

    def get(self, path):
        status, body = self.call("GET", path)
        self.assertEqual(status, 200, (path, body))
        return body

    def test_the_staff_side_has_what_the_portal_must_not_show(self):
        """The fields below are there for staff, so their absence on the portal means
        something."""
        self.assertEqual(self.status, 200)
        found = self.staff_search("agent", QUERY)
        qa = [h for h in found.hits if h.entry_id == QA_ID][0]
        self.assertGreater(qa.entry_version, 0)
        self.assertGreater(qa.score, 0)
        self.assertTrue(found.search_id)
        self.assertTrue(any(h.sources for h in found.hits))
        similar = self.staff_search("agent", "租房怎么提取公积金")
        self.assertTrue(any(h.ranking_note for h in similar.hits), similar)
        entry = self.kb.GetEntry(self.kb_pb.GetEntryRequest(entry_id=QA_ID),
                                 metadata=self.stack.auth("editor"), timeout=10)
        self.assertGreater(entry.version, 0)
        self.assertTrue(entry.sources)
        self.assertTrue(entry.created_by)
        self.assertEqual(entry.citizen_feedback.helpful, 1)
        suggested = self.kb.Suggest(self.kb_pb.SuggestRequest(prefix="公积金租房"),
                                    metadata=self.stack.auth("agent"), timeout=10)
        self.assertIn(AGENTS_QUERY, [s.text for s in suggested.suggestions])

    def test_no_public_endpoint_answers_with_an_internal_field(self):
        q = urllib.parse.quote(QUERY)
        search = self.get("/api/public/search?q=" + q)
        self.assertIn(QA_ID, [h["entry_id"] for h in search["hits"]])
        self.assert_public("search", search)
        # Every page of results, and every kind filter.
        if search.get("next_page_token"):
            self.assert_public("search page 2", self.get(
                "/api/public/search?q=%s&page_token=%s" % (
                    q, urllib.parse.quote(search["next_page_token"]))))
        for kind in ("policy", "qa", "guide"):
            self.assert_public("search " + kind, self.get(
                "/api/public/search?q=%s&kind=%s" % (q, kind)))
        browse = self.get("/api/public/browse")
        self.assertTrue(browse["hits"])
        self.assert_public("browse", browse)
        facets = {f["field"]: [v["value"] for v in f["values"]] for f in browse["facets"]}
        category = facets["FACET_FIELD_CATEGORY"][0]
        agency = facets["FACET_FIELD_ISSUING_AGENCY"][0]
        self.assert_public("browse by category", self.get(
            "/api/public/browse?category=" + urllib.parse.quote(category)))
        self.assert_public("browse by agency", self.get(
            "/api/public/browse?agency=" + urllib.parse.quote(agency)))
        suggest = self.get("/api/public/suggest?prefix=" + urllib.parse.quote("公积金租房"))
        self.assert_public("suggest", suggest)
        for entry_id in (QA_ID, GUIDE_ID, POLICY_ID, REPEALED_ID):
            entry = self.get("/api/public/entries/" + urllib.parse.quote(entry_id, safe=""))
            self.assertEqual(entry["id"], entry_id)
            self.assert_public(entry_id, entry)
        challenge = self.get("/api/public/challenge")
        self.assert_public("challenge", challenge)
        status, feedback = self.call("POST", "/api/public/feedback",
                                     {"entry_id": GUIDE_ID, "helpful": False})
        self.assertEqual(status, 200, feedback)
        self.assert_public("feedback", feedback)

        # An online request, then the department's reply with an internal note beside it.
        status, submitted = self.call("POST", "/api/public/requests", {
            "request_id": "scope-" + os.urandom(6).hex(), "kind": "TICKET_KIND_CONSULTATION",
            "content": "租房提取公积金需要哪些材料？", "address": "长沙市天心区",
            "caller_phone": "13611112222", "caller_name": "周女士",
            "challenge_token": challenge["token"],
            "challenge_answer": solve_challenge(challenge["question"])})
        self.assertEqual(status, 200, submitted)
        self.assert_public("submit", submitted)
        number, code = submitted["tracking_number"], submitted["query_code"]
        pb, driver = self.driver.pb, self.driver
        t = driver.current(number)
        t = driver.update("ConfirmTicket", "reviewer", number, lambda v: pb.ConfirmTicketRequest(
            ticket_id=number, expected_version=v, request_id=driver.request_id()))
        driver.update("DispatchTicket", "reviewer", number, lambda v: pb.DispatchTicketRequest(
            ticket_id=number, expected_version=v, request_id=driver.request_id(),
            lead=pb.DepartmentAssignment(department_id="housing-fund",
                                         time_limit=pb.TimeLimit(working_days=5))))
        order = driver.current(number).work_orders[-1]
        for method, make in (
                ("SignWorkOrder", lambda v: pb.SignWorkOrderRequest(
                    ticket_id=number, work_order_id=order.id, expected_version=v,
                    request_id=driver.request_id())),
                ("AddProgressNote", lambda v: pb.AddProgressNoteRequest(
                    ticket_id=number, work_order_id=order.id, expected_version=v,
                    request_id=driver.request_id(), text="内部备注：已核实")),
                ("ReplyWorkOrder", lambda v: pb.ReplyWorkOrderRequest(
                    ticket_id=number, work_order_id=order.id, expected_version=v,
                    request_id=driver.request_id(), reply_text="身份证和银行卡即可办理。"))):
            driver.update(method, "housing_fund", number, make)
        status, found = self.call("POST", "/api/public/requests/lookup",
                                  {"tracking_number": number, "query_code": code})
        self.assertEqual(status, 200, found)
        self.assert_public("lookup", found)
        text = json.dumps(found, ensure_ascii=False)
        self.assertIn("身份证和银行卡即可办理。", text)
        for internal in ("内部备注", "housing-fund", "13611112222", "周女士", order.id):
            self.assertNotIn(internal, text)

    def test_a_citizens_answer_counts_once_a_day_per_entry(self):
        status, again = self.call("POST", "/api/public/feedback",
                                  {"entry_id": QA_ID, "helpful": False})
        self.assertEqual((status, again), (200, {"counted": False}))
        entry = self.kb.GetEntry(self.kb_pb.GetEntryRequest(entry_id=QA_ID),
                                 metadata=self.stack.auth("editor"), timeout=10)
        self.assertEqual((entry.citizen_feedback.helpful, entry.citizen_feedback.not_helpful),
                         (1, 0))
        # An entry the public cannot read takes no answer.
        status, body = self.call("POST", "/api/public/feedback",
                                 {"entry_id": HOT_TOPIC_ID, "helpful": True})
        self.assertEqual(status, 404, body)

    def test_browsing_is_newest_first(self):
        for query in ("", "?agency=" + urllib.parse.quote("长沙住房公积金管理中心")):
            hits = self.get("/api/public/browse" + query)["hits"]
            dates = [h["publish_date"] for h in hits if h.get("publish_date")]
            self.assertGreater(len(dates), 1, query)
            self.assertEqual(dates, sorted(dates, reverse=True), query)

    def test_a_flooding_address_is_limited_while_another_is_not(self):
        # Reads (searches, pages, questions): 20 a second with a burst of 60, per address.
        started = time.monotonic()
        statuses = [self.call("GET", "/api/public/challenge", source_address="127.0.0.9")
                    for _ in range(150)]
        elapsed = time.monotonic() - started
        refused = [body for status, body in statuses if status == 429]
        self.assertTrue(refused, "150 reads in %.1f s from one address were all answered" % elapsed)
        self.assertLessEqual(150 - len(refused), 60 + 20 * elapsed + 1)
        self.assertEqual(refused[0]["error"]["code"], "RESOURCE_EXHAUSTED")
        status, _, headers = http_json(self.stack.portal_url + "/api/public/challenge",
                                       source_address="127.0.0.9")
        self.assertEqual(status, 429)
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)
        self.assertEqual(self.call("GET", "/api/public/challenge",
                                   source_address="127.0.0.10")[0], 200)
        # Writes (requests, answers, lookups): 30 a minute with a burst of 10, per address, so
        # that query codes cannot be guessed at speed.
        lookup = {"tracking_number": "T-none", "query_code": "ABCDEFGHJK"}
        started = time.monotonic()
        answers = [self.call("POST", "/api/public/requests/lookup", lookup,
                             source_address="127.0.0.11")[0] for _ in range(15)]
        elapsed = time.monotonic() - started
        self.assertIn(429, answers)
        self.assertLessEqual(answers.count(404), 10 + 0.5 * elapsed + 1)
        self.assertEqual(self.call("POST", "/api/public/requests/lookup", lookup,
                                   source_address="127.0.0.12")[0], 404)

    def test_the_knowledge_base_takes_60_answers_an_hour_from_one_address(self):
        import grpc
        request = self.kb_pb.RecordCitizenFeedbackRequest(entry_id=GUIDE_ID, helpful=True,
                                                          client_address="198.51.100.7")
        public = self.stack.auth("public")
        counted = [self.kb.RecordCitizenFeedback(request, metadata=public, timeout=10).counted
                   for _ in range(60)]
        self.assertEqual(counted, [True] + [False] * 59)
        with self.assertRaises(grpc.RpcError) as refused:
            self.kb.RecordCitizenFeedback(request, metadata=public, timeout=10)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertIn("client_address", refused.exception.details())
        request.client_address = "198.51.100.8"
        self.assertTrue(self.kb.RecordCitizenFeedback(request, metadata=public, timeout=10).counted)

    def test_the_portal_refuses_what_is_not_public(self):
        status, body = self.call("GET", "/api/public/entries/" +
                                 urllib.parse.quote(HOT_TOPIC_ID, safe=""))
        self.assertEqual(status, 404, body)
        status, body = self.call("GET", "/api/public/search?q=x&kind=hot_topic")
        self.assertEqual((status, body["error"]["field"]), (400, "kind"))
        status, body = self.call("GET", "/api/public/search?q=" + urllib.parse.quote("政" * 201))
        self.assertEqual((status, body["error"]["field"]), (400, "q"))
        status, body = self.call("POST", "/api/public/feedback",
                                 {"entry_id": QA_ID, "helpful": True, "pad": "x" * 20000})
        self.assertEqual((status, body["error"]["field"]), (413, "body"), body)
        # The staff API is not on the portal's port at all.
        status, _ = self.call("GET", "/api/tickets")
        self.assertEqual(status, 404)
        status, _ = self.call("GET", "/intake.html")
        self.assertEqual(status, 404)

    def test_the_portals_token_stays_in_the_public_scope_over_grpc(self):
        import grpc
        pb = self.kb_pb
        public = self.stack.auth("public")

        def code(call, request):
            try:
                call(request, metadata=public, timeout=10)
            except grpc.RpcError as e:
                return e.code(), e.details()
            return grpc.StatusCode.OK, ""

        self.assertEqual(code(self.kb.Search, pb.SearchRequest(query=QUERY, include_inactive=True))[0],
                         grpc.StatusCode.INVALID_ARGUMENT)
        status, details = code(self.kb.Search, pb.SearchRequest(
            query=QUERY, filter=pb.SearchFilter(kinds=[pb.ENTRY_KIND_HOT_TOPIC])))
        self.assertEqual(status, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("filter.kinds", details)
        self.assertEqual(code(self.kb.GetEntry, pb.GetEntryRequest(entry_id=HOT_TOPIC_ID))[0],
                         grpc.StatusCode.NOT_FOUND)
        for call, request in ((self.kb.ListGaps, pb.ListGapsRequest()),
                              (self.kb.ListQaDrafts, pb.ListQaDraftsRequest()),
                              (self.kb.RecordFeedback, pb.RecordFeedbackRequest(
                                  query=QUERY, entry_id=QA_ID,
                                  type=pb.FEEDBACK_TYPE_ANSWERED))):
            self.assertEqual(code(call, request)[0], grpc.StatusCode.PERMISSION_DENIED, call)
        ticket = self.stack.stub("ticket")
        tpb = self.driver.pb
        for call, request in ((ticket.ListTickets, tpb.ListTicketsRequest()),
                              (ticket.CreateTicket, tpb.CreateTicketRequest())):
            self.assertEqual(code(call, request)[0], grpc.StatusCode.PERMISSION_DENIED, call)

    def test_citizens_searches_leave_no_gaps_and_feed_no_suggestions(self):
        # Letters no document holds: no hits, which for an agent is a gap.
        citizens = "qxzvw kjpwq"
        for _ in range(3):
            self.get("/api/public/search?q=" + urllib.parse.quote(citizens) + "&n=%d" % _)
        agents = "wqpjk vzxqw"
        self.staff_search("agent", agents)

        def gaps():
            listed = self.kb.ListGaps(self.kb_pb.ListGapsRequest(page_size=500),
                                      metadata=self.stack.auth("editor"), timeout=10)
            return [g.question for g in listed.gaps]
        # The agent's search after the citizens': once it is a gap, theirs would be too.
        wait_for(lambda: agents in gaps(), 15, "the agent's gap")
        self.assertNotIn(citizens, gaps())
        suggest = self.get("/api/public/suggest?prefix=" + urllib.parse.quote("公积金租房"))
        self.assertNotIn(AGENTS_QUERY, [s["text"] for s in suggest.get("suggestions", [])])
        self.assertTrue(suggest.get("suggestions"), "the portal still suggests from entries")


if __name__ == "__main__":
    unittest.main(verbosity=2)

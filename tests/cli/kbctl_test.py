#!/usr/bin/env python3
"""Drives a real kb_server (port 0, RocksDB in a temporary directory) with kbctl only, as an
editor and an agent would from a terminal: import a CSV file (a policy, its Q&A pair and service
guide, a row the server rejects, a row that cannot be read) and a directory of HTML pages, import
them again (nothing new), search and find the policy with its linked Q&A pair, read it, list the
question that found nothing as a gap, turn answers confirmed for similar questions into a draft
Q&A pair and accept it, and check the errors.

Usage: kbctl_test.py BUILD_DIR
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests/support"))
from hotline_stack import write_token_file  # noqa: E402
BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build")
KBCTL = os.path.join(BUILD, "services/hotlinectl/kbctl")
HOTLINECTL = os.path.join(BUILD, "services/hotlinectl/hotlinectl")
SERVER = os.path.join(BUILD, "services/kb/kb_server")
ROLES = {"editor": "editor-wang editor", "agent": "agent-zhang agent"}

POLICY_ID = "csv:gjj-zufang-2025"
QA_ID = "csv:gjj-zufang-qa"
GUIDE_ID = "csv:gjj-zufang-guide"

# A spreadsheet export: BOM, CRLF, quoted cells with commas and line breaks (the policy's body
# spans lines 2-3). Line 7 has a date the server refuses; line 8 has a field too many and never
# leaves the client.
CSV = (
    "\ufeffkind,id,title,doc_number,issuing_agency,publish_date,body,question,answer,"
    "source_entry_id,source_passage,matter,department,channels,online_url,policy_ids\r\n"
    "policy," + POLICY_ID + ",\"长沙市住房公积金租房提取办法,2025年\",长住金发〔2025〕7号,"
    "长沙住房公积金管理中心,2025-03-01,\"第一条 为规范租房提取住房公积金，制定本办法。\r\n"
    "第二条 职工租房的，每年可以提取一次住房公积金，每户每年最多提取两万四千元。\",,,,,,,,,\r\n"
    "qa," + QA_ID + ",,,,,,租房提取公积金一年最多能取多少？,每户每年最多提取两万四千元。,"
    + POLICY_ID + ",第二条,,,,,\r\n"
    "guide," + GUIDE_ID + ",办事指南：租房提取住房公积金,,,,,,,,,租房提取住房公积金,"
    "长沙住房公积金管理中心,online|window,https://zwfw.example.gov.cn/gjj/zufang," + POLICY_ID + "\r\n"
    "\r\n"
    "policy,csv:bad-date,日期写错的通知,,长沙市人民政府,2025/13/45,第一条 内容。,,,,,,,,,\r\n"
    "policy,csv:extra,多一列,,,,,,,,,,,,,,surplus\r\n")

META_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="ArticleTitle" content="湖南省人民政府关于支持灵活就业人员参加社会保险的通知">
<meta name="文号" content="湘政发[2024]21号">
<meta name="ContentSource" content="湖南省人民政府">
<meta name="PubDate" content="2024-06-18 09:00">
<link rel="canonical" href="https://www.hunan.gov.cn/zcwj/21.html">
<title>通知_湖南省人民政府门户网站</title></head>
<body><div class="nav">首页 &gt; 政策文件</div>
<div class="content"><p>第一条 灵活就业人员可以以个人身份参加企业职工基本养老保险。</p>
<p>第二条 参保人员可以在全省范围内自主选择缴费基数。</p></div></body></html>"""

LABELLED_PAGE = """<html><head><title>长沙市电动自行车停放充电管理规定 - 长沙市人民政府</title></head>
<body><table><tr><td>发文机关：</td><td>长沙市人民政府办公厅</td>
<td>发文字号：</td><td>长政办发〔2024〕33号</td></tr>
<tr><td>发布日期：</td><td>2024年9月2日</td></tr></table>
<p>第一条 禁止在楼道、安全出口停放电动自行车或者为其充电。</p>
<p>第二条 本规定自2024年10月1日起施行。</p></body></html>"""


# A Markdown policy page as an editor keeps it, its metadata in front matter.
MARKDOWN_PAGE = """---
title: 长沙市养犬管理规定
文号: 长政发[2024]9号
发文机关: 长沙市人民政府
发布日期: 2024年4月2日
region: 湖南/长沙
category: 城市管理/养犬管理
url: https://www.changsha.gov.cn/zcfg/9.html
---
# 长沙市养犬管理规定

第一条 为了规范养犬行为，保障公民健康和人身安全，制定本规定。

第二条 携犬出户的，应当为犬只束犬链，犬链长度不得超过一点五米。
"""


class KbctlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="kbctl-test-")
        token_file = os.path.join(cls.work, "tokens")
        cls.tokens = write_token_file(token_file, ROLES)
        cls.csv = os.path.join(cls.work, "gjj-policies.csv")
        with open(cls.csv, "w", encoding="utf-8", newline="") as f:
            f.write(CSV)
        cls.pages = os.path.join(cls.work, "hunan-pages")
        os.makedirs(os.path.join(cls.pages, "changsha"))
        with open(os.path.join(cls.pages, "shebao.html"), "w", encoding="utf-8") as f:
            f.write(META_PAGE)
        with open(os.path.join(cls.pages, "changsha", "diandongche.htm"), "w",
                  encoding="utf-8") as f:
            f.write(LABELLED_PAGE)

        cls.notes = os.path.join(cls.work, "policy-notes")
        os.makedirs(cls.notes)
        with open(os.path.join(cls.notes, "yangquan.md"), "w", encoding="utf-8") as f:
            f.write(MARKDOWN_PAGE)

        port_file = os.path.join(cls.work, "port")
        with open(os.path.join(cls.work, "server.log"), "w") as log:
            cls.server = subprocess.Popen(
                [SERVER, "--listen=127.0.0.1:0", "--port_file=" + port_file,
                 "--data_dir=" + os.path.join(cls.work, "data"), "--token_file=" + token_file],
                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 60
        port = ""
        while not port:
            if cls.server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("kb_server did not start; see " + cls.work)
            if os.path.exists(port_file):
                with open(port_file) as f:
                    port = f.read().strip()
            if not port:
                time.sleep(0.05)  # Polling for the server's port file until the deadline.
        cls.address = "127.0.0.1:" + port

    @classmethod
    def tearDownClass(cls):
        cls.server.send_signal(signal.SIGTERM)
        cls.server.wait(timeout=30)

    def run_ctl(self, role, *args, program=KBCTL, expect=0):
        env = dict(os.environ, HOTLINE_TOKEN=self.tokens[role])
        run = subprocess.run([program, "--kb=" + self.address] + list(args),
                             capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
        self.assertEqual(run.returncode, expect, run.stdout + run.stderr)
        return run

    def json_lines(self, role, *args):
        run = self.run_ctl(role, "--json", *args)
        return [json.loads(line) for line in run.stdout.splitlines() if line.strip()]

    def test_1_import_then_reimport_brings_nothing_new(self):
        csv_result, html_result = self.json_lines(
            "editor", "import", self.csv, self.pages, "--region=湖南/长沙")
        self.assertEqual(csv_result["sourceName"], "gjj-policies")
        totals = csv_result["totals"]
        self.assertEqual(int(totals["received"]), 4)
        self.assertEqual(int(totals.get("created", 0)) + int(totals.get("superseded", 0)), 3)
        self.assertEqual(int(totals["rejected"]), 1)
        rejected = [r for r in csv_result["results"] if r["outcome"] == "IMPORT_OUTCOME_REJECTED"]
        self.assertEqual(len(rejected), 1)
        self.assertEqual(rejected[0]["sourceId"], "csv:bad-date")
        self.assertIn("publish_date", rejected[0]["rejectedField"])
        self.assertEqual(rejected[0]["origin"], self.csv + ":7")  # The line it starts on.
        self.assertEqual(len(csv_result["unreadable"]), 1)
        self.assertEqual(csv_result["unreadable"][0]["origin"], self.csv + ":8")
        self.assertIn("17 fields, but the header names 16 columns",
                      csv_result["unreadable"][0]["message"])

        self.assertEqual(html_result["sourceName"], "hunan-pages")
        self.assertEqual(int(html_result["totals"]["received"]), 2)
        self.assertEqual(int(html_result["totals"].get("rejected", 0)), 0)
        ids = sorted(r["sourceId"] for r in html_result["results"])
        self.assertEqual(ids, ["changsha/diandongche.htm", "shebao.html"])

        # The same files again, in text mode (stdout is a pipe: plain progress lines).
        run = self.run_ctl("editor", "import", self.csv, self.pages, "--region=湖南/长沙")
        self.assertIn("import: ", run.stdout)
        self.assertIn("gjj-policies.csv:7  csv:bad-date  INVALID_FIELD", run.stdout)
        again = self.json_lines("editor", "import", self.csv, self.pages, "--region=湖南/长沙")
        for result in again:
            t = result["totals"]
            self.assertEqual(int(t.get("created", 0)), 0, result)
            self.assertEqual(int(t.get("updated", 0)), 0, result)
            self.assertEqual(int(t.get("unchanged", 0)) + int(t.get("duplicates", 0)),
                             int(t["received"]) - int(t.get("rejected", 0)), result)

    def test_2_search_finds_the_policy_with_its_qa_pair_and_guide(self):
        (response,) = self.json_lines("agent", "search", "租房提取住房公积金每年最多提取多少",
                                      "--kind=policy")
        hits = [h for h in response["hits"] if h["entryId"] == POLICY_ID]
        self.assertTrue(hits, response)
        hit = hits[0]
        self.assertEqual(hit["docNumber"], "长住金发〔2025〕7号")
        self.assertEqual(hit["title"], "长沙市住房公积金租房提取办法,2025年")
        linked_qa = [l["targetId"] for l in hit["lookAskDo"].get("qaPairs", [])]
        linked_guides = [l["targetId"] for l in hit["lookAskDo"].get("serviceGuides", [])]
        self.assertIn(QA_ID, linked_qa)
        self.assertIn(GUIDE_ID, linked_guides)

        text = self.run_ctl("agent", "search", "租房提取公积金一年最多能取多少").stdout
        self.assertIn("租房提取公积金一年最多能取多少", text)
        self.assertIn("出处: 长沙市住房公积金租房提取办法,2025年 第二条", text)
        self.assertIn("【", text)  # Highlights are marked when stdout is not a terminal.

        # The same command through the console's entry point.
        env = dict(os.environ, HOTLINE_TOKEN=self.tokens["agent"])
        run = subprocess.run([HOTLINECTL, "--kb=" + self.address, "--json", "kb", "search",
                              "长住金发〔2025〕7号", "--mode=keyword"],
                             capture_output=True, text=True, env=env, timeout=60, cwd=ROOT)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(json.loads(run.stdout)["hits"][0]["entryId"], POLICY_ID)

    def test_3_html_pages_arrive_with_their_metadata(self):
        (response,) = self.json_lines("agent", "search", "湘政发〔2024〕21号", "--mode=keyword")
        self.assertTrue(response.get("hits"), response)
        hit = response["hits"][0]
        self.assertEqual(hit["title"], "湖南省人民政府关于支持灵活就业人员参加社会保险的通知")
        self.assertEqual(hit["issuingAgencies"], ["湖南省人民政府"])
        self.assertEqual(hit["publishDate"], "2024-06-18")
        (entry,) = self.json_lines("agent", "get", hit["entryId"])
        self.assertEqual(entry["sources"][0]["url"], "https://www.hunan.gov.cn/zcwj/21.html")
        self.assertTrue(any("第二条" in p.get("label", "") for p in entry["passages"]), entry)

    def test_3_markdown_pages_arrive_with_their_front_matter(self):
        (result,) = self.json_lines("editor", "import", self.notes)
        self.assertEqual(result["sourceName"], "policy-notes")
        self.assertEqual(int(result["totals"]["received"]), 1)
        self.assertEqual(int(result["totals"].get("rejected", 0)), 0, result)
        (response,) = self.json_lines("agent", "search", "携犬出户犬链有多长的规定")
        hits = [h for h in response["hits"] if h["title"] == "长沙市养犬管理规定"]
        self.assertTrue(hits, response)
        hit = hits[0]
        self.assertEqual(hit["docNumber"], "长政发〔2024〕9号")
        self.assertEqual(hit["passageLabel"], "第二条")
        self.assertEqual(hit["issuingAgencies"], ["长沙市人民政府"])
        self.assertEqual(hit["publishDate"], "2024-04-02")
        (entry,) = self.json_lines("agent", "get", hit["entryId"])
        self.assertEqual(entry["sources"][0]["url"], "https://www.changsha.gov.cn/zcfg/9.html")
        self.assertEqual(entry["categoryPath"], "城市管理/养犬管理")
        # The help lists the format, from the same registration.
        self.assertIn("md: Markdown pages", self.run_ctl("editor", "help", "import").stdout)

    def test_4_get_shows_passages_and_links(self):
        (entry,) = self.json_lines("agent", "get", POLICY_ID)
        self.assertEqual([p["label"] for p in entry["passages"]], ["第一条", "第二条"])
        self.assertIn(QA_ID, [l["targetId"] for l in entry["links"]])
        self.assertIn(GUIDE_ID, [l["targetId"] for l in entry["links"]])
        text = self.run_ctl("agent", "get", POLICY_ID).stdout
        for expected in ("长住金发〔2025〕7号", "正文 (2 段)", "第二条 职工租房的", "关联",
                         "问答", "gjj-policies " + POLICY_ID):
            self.assertIn(expected, text)

    def test_5_a_question_that_found_nothing_is_a_gap(self):
        question = "火星移民安家补贴怎么申请"
        (response,) = self.json_lines("agent", "search", question)
        self.assertFalse(response.get("hits"))
        deadline = time.monotonic() + 20
        while True:
            (gaps,) = self.json_lines("editor", "gaps", "--order=newest")
            questions = [g["question"] for g in gaps.get("gaps", [])]
            if question in questions or time.monotonic() > deadline:
                break
            time.sleep(0.1)  # Polling the server until its deadline.
        self.assertIn(question, questions)
        gap = next(g for g in gaps["gaps"] if g["question"] == question)
        self.assertEqual(gap["reason"], "GAP_REASON_NO_HITS")
        text = self.run_ctl("editor", "gaps").stdout
        self.assertIn(question, text)
        self.assertIn("无结果", text)
        # An agent says so explicitly as well.
        (recorded,) = self.json_lines("agent", "feedback", "no_answer", question,
                                      "--search_id=" + response["searchId"])
        self.assertTrue(recorded["feedbackId"])

    def test_6_stats_count_the_imported_sources(self):
        (stats,) = self.json_lines("editor", "stats")
        sources = {s["sourceName"]: s for s in stats["sources"]}
        self.assertEqual(int(sources["gjj-policies"]["entryCount"]), 3)
        self.assertEqual(int(sources["hunan-pages"]["entryCount"]), 2)
        self.assertIn("gjj-policies", self.run_ctl("editor", "stats").stdout)

    def test_8_confirmed_answers_become_a_draft_an_editor_accepts(self):
        # Three differently worded questions, each answered from the same clause.
        for question in ("租房提取公积金每年能取多少", "租房每年可以提取多少住房公积金",
                         "租房提取住房公积金一年最多多少钱"):
            (response,) = self.json_lines("agent", "search", question)
            self.json_lines("agent", "feedback", "answered", question, POLICY_ID,
                            "--search_id=" + response["searchId"], "--passage=第二条")
        deadline = time.monotonic() + 20
        while True:
            (listed,) = self.json_lines("editor", "drafts")
            drafts = [d for d in listed.get("drafts", []) if d["sourceEntryId"] == POLICY_ID]
            if drafts or time.monotonic() > deadline:
                break
            time.sleep(0.1)  # Polling the server until its deadline.
        self.assertEqual(len(drafts), 1, listed)
        draft = drafts[0]
        self.assertEqual(draft["sourcePassageLabel"], "第二条")
        self.assertEqual(draft["confirmations"], 3)
        text = self.run_ctl("editor", "drafts").stdout
        self.assertIn(draft["id"], text)
        self.assertIn("3 个问题确认", text)

        run = self.run_ctl("editor", "accept-draft", draft["id"],
                           "--qa_question=租房提取公积金一年最多能取多少钱？")
        self.assertIn("已创建问答", run.stdout)
        (accepted,) = self.json_lines("editor", "drafts", "--draft_state=accepted")
        (done,) = [d for d in accepted["drafts"] if d["id"] == draft["id"]]
        (entry,) = self.json_lines("agent", "get", done["acceptedEntryId"])
        self.assertEqual(entry["qaPair"]["question"], "租房提取公积金一年最多能取多少钱？")
        self.assertEqual(entry["qaPair"]["sourceDocumentId"], POLICY_ID)
        # Decided once: dismissing it now is refused, naming its state.
        run = self.run_ctl("editor", "dismiss-draft", draft["id"], "--dismiss_reason=重复",
                           expect=1)
        self.assertIn("FAILED_PRECONDITION", run.stderr)
        self.assertIn("QA_DRAFT_STATE_ACCEPTED", run.stderr)
        run = self.run_ctl("editor", "drafts", "--draft_state=maybe", expect=2)
        self.assertIn("--draft_state", run.stderr)

    def test_7_errors_name_the_status_and_the_field(self):
        run = self.run_ctl("agent", "get", "csv:no-such-entry", expect=1)
        self.assertIn("kbctl: NOT_FOUND", run.stderr)
        run = self.run_ctl("agent", "search", "公积金", "--page_size=-1", expect=1)
        self.assertIn("INVALID_ARGUMENT", run.stderr)
        self.assertIn("page_size", run.stderr)
        run = self.run_ctl("agent", "feedback", "no_answer", "公积金", POLICY_ID, expect=1)
        self.assertIn("INVALID_ARGUMENT", run.stderr)
        self.assertIn("entry_id", run.stderr)
        run = self.run_ctl("agent", "import", self.csv, expect=1)
        self.assertIn("PERMISSION_DENIED", run.stderr)
        bad = os.path.join(self.work, "bad-columns.csv")
        with open(bad, "w") as f:
            f.write("id,title,文号\nx,标题,1\n")
        run = self.run_ctl("editor", "import", bad, expect=1)
        self.assertIn("unknown column 文号", run.stderr)
        run = self.run_ctl("editor", "search", expect=2)  # No query: a usage error.
        self.assertIn("kbctl help search", run.stderr)
        run = self.run_ctl("editor", "gaps", "--dry_run", expect=2)
        self.assertIn("gaps does not take --dry_run", run.stderr)
        help_text = self.run_ctl("editor", "import", "--help").stdout
        self.assertIn("--batch_size", help_text)


if __name__ == "__main__":
    unittest.main(verbosity=2)

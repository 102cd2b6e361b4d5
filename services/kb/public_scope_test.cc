// The public scope's rules without a server. Entries and hits are filled in every field by
// reflection before they are scrubbed, and what is left must be on the lists below: a field
// added to kb.proto later is kept from the public until someone puts it here on purpose.
#include "services/kb/public_scope.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

namespace hotline::kb {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Sets every field of `message` (and of its messages, `depth` levels down) to a value other
// than its default; a repeated field gets one element, a oneof its last member.
void FillEveryField(Message* message, int depth = 3) {
  const google::protobuf::Descriptor* d = message->GetDescriptor();
  const google::protobuf::Reflection* r = message->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && depth == 0) continue;
    const bool repeated = f->is_repeated();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        repeated ? r->AddString(message, f, "x") : r->SetString(message, f, "x");
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        repeated ? r->AddInt32(message, f, 7) : r->SetInt32(message, f, 7);
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        repeated ? r->AddInt64(message, f, 7) : r->SetInt64(message, f, 7);
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        repeated ? r->AddUInt32(message, f, 7) : r->SetUInt32(message, f, 7);
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        repeated ? r->AddUInt64(message, f, 7) : r->SetUInt64(message, f, 7);
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        repeated ? r->AddDouble(message, f, 0.5) : r->SetDouble(message, f, 0.5);
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        repeated ? r->AddFloat(message, f, 0.5f) : r->SetFloat(message, f, 0.5f);
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        repeated ? r->AddBool(message, f, true) : r->SetBool(message, f, true);
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        // A public kind where the enum is a kind, so that links survive to be looked at.
        const auto* value = f->enum_type()->FindValueByNumber(1);
        if (value == nullptr) value = f->enum_type()->value(f->enum_type()->value_count() - 1);
        repeated ? r->AddEnum(message, f, value) : r->SetEnum(message, f, value);
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        FillEveryField(repeated ? r->AddMessage(message, f) : r->MutableMessage(message, f),
                       depth - 1);
        break;
    }
  }
}

// The names of the fields of `message` that are set.
std::set<std::string> SetFields(const Message& message) {
  std::vector<const FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  std::set<std::string> names;
  for (const FieldDescriptor* f : fields) names.insert(f->name());
  return names;
}

TEST(PublicScopeTest, AnEntryKeepsOnlyWhatCitizensMaySee) {
  v1::Entry entry;
  FillEveryField(&entry);
  v1::EntryLink* hot = entry.add_links();
  hot->set_target_id("demo:hot:x");
  hot->set_target_kind(v1::ENTRY_KIND_HOT_TOPIC);
  ScrubForPublic(&entry);
  // (hot_topic is the body's last member, which the filling leaves set; GetEntry never
  // serves a hot topic to the public.)
  const std::set<std::string> allowed = {"id",
                                         "kind",
                                         "title",
                                         "category_path",
                                         "tags",
                                         "keywords",
                                         "region",
                                         "status",
                                         "inactive",
                                         "superseded_by",
                                         "supersedes",
                                         "links",
                                         "passages",
                                         "status_history",
                                         "create_time",
                                         "update_time",
                                         "policy_document",
                                         "qa_pair",
                                         "service_guide",
                                         "hot_topic"};
  for (const std::string& name : SetFields(entry)) {
    EXPECT_TRUE(allowed.count(name)) << "Entry." << name << " reaches the public";
  }
  EXPECT_FALSE(entry.has_citizen_feedback());
  EXPECT_EQ(entry.version(), 0);
  EXPECT_TRUE(entry.sources().empty());
  EXPECT_TRUE(entry.created_by().empty());
  ASSERT_EQ(entry.links_size(), 1) << "the link to a hot topic is dropped";
  EXPECT_TRUE(entry.links(0).note().empty());
  ASSERT_EQ(entry.status_history_size(), 1);
  EXPECT_TRUE(entry.status_history(0).changed_by().empty());
  EXPECT_TRUE(entry.status_history(0).reason().empty());
  EXPECT_FALSE(entry.status_history(0).effective_date().empty());
}

TEST(PublicScopeTest, AHitKeepsOnlyWhatCitizensMaySee) {
  v1::SearchHit hit;
  FillEveryField(&hit);
  ScrubForPublic(&hit);
  const std::set<std::string> allowed = {"entry_id",
                                         "kind",
                                         "title",
                                         "title_highlights",
                                         "passage_label",
                                         "passage_ordinal",
                                         "passage_headings",
                                         "snippet",
                                         "status",
                                         "inactive",
                                         "superseded_by",
                                         "region",
                                         "category_path",
                                         "doc_number",
                                         "issuing_agencies",
                                         "level",
                                         "publish_date",
                                         "effective_date",
                                         "answer_source",
                                         "online_service_url",
                                         "look_ask_do"};
  for (const std::string& name : SetFields(hit)) {
    EXPECT_TRUE(allowed.count(name)) << "SearchHit." << name << " reaches the public";
  }
  EXPECT_TRUE(hit.ranking_note().empty());
  EXPECT_EQ(hit.similar_confirmations(), 0);
  EXPECT_EQ(hit.score(), 0);
  EXPECT_TRUE(hit.answer_source().note().empty());
  for (const auto* links : {&hit.look_ask_do().policies(), &hit.look_ask_do().qa_pairs(),
                            &hit.look_ask_do().service_guides()}) {
    ASSERT_EQ(links->size(), 1);
    EXPECT_TRUE(links->Get(0).note().empty());
  }
}

TEST(PublicScopeTest, ASearchIsNarrowedToPublicKindsAndNeverLogged) {
  v1::SearchRequest search;
  search.set_query("公积金");
  ASSERT_TRUE(NarrowSearchForPublic(&search).ok());
  EXPECT_TRUE(search.exclude_from_statistics());
  EXPECT_EQ(search.filter().kinds_size(), 3);
  for (int kind : search.filter().kinds()) {
    EXPECT_TRUE(IsPublicKind(static_cast<v1::EntryKind>(kind)));
  }
}

TEST(PublicScopeTest, WhatThePublicMayNotAskIsRefusedNamingTheField) {
  auto refused = [](auto change) {
    v1::SearchRequest search;
    search.set_query("公积金");
    change(&search);
    return std::string(NarrowSearchForPublic(&search).message());
  };
  EXPECT_EQ(refused([](v1::SearchRequest* s) {
              s->set_include_inactive(true);
            }).rfind("include_inactive:", 0),
            0u);
  EXPECT_EQ(refused([](v1::SearchRequest* s) { s->set_ticket_id("T1"); }).rfind("ticket_id:", 0),
            0u);
  EXPECT_EQ(refused([](v1::SearchRequest* s) {
              s->mutable_filter()->add_statuses(v1::ENTRY_STATUS_REPEALED);
            }).rfind("filter.statuses:", 0),
            0u);
  EXPECT_EQ(refused([](v1::SearchRequest* s) {
              s->mutable_filter()->add_kinds(v1::ENTRY_KIND_QA_PAIR);
              s->mutable_filter()->add_kinds(v1::ENTRY_KIND_HOT_TOPIC);
            }).rfind("filter.kinds[1]:", 0),
            0u);
  EXPECT_EQ(refused([](v1::SearchRequest* s) {
              s->add_facets()->set_field(v1::FACET_FIELD_STATUS);
            }).rfind("facets[0].field:", 0),
            0u);
  v1::SuggestRequest suggest;
  suggest.add_kinds(v1::ENTRY_KIND_HOT_TOPIC);
  EXPECT_EQ(std::string(NarrowSuggestForPublic(&suggest).message()).rfind("kinds[0]:", 0), 0u);
}

}  // namespace
}  // namespace hotline::kb

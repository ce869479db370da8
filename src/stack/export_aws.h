// `saleslake export aws`: what moving the lake to AWS needs, derived from pipeline.yaml, the
// catalog and the IAM store (docs/export-aws.md has the whole mapping):
//   - the Athena DDL of every catalog table (catalog::ExportDdl, over the S3 location);
//   - a CloudFormation template (JSON): AWS::Glue::Database, AWS::Glue::Table per catalog table
//     (catalog::ExportGlueTableInput), AWS::Glue::Crawler, AWS::Glue::Job and the IAM role
//     they run as, AWS::Glue::Trigger for the rules that chain crawlers and jobs, AWS::Kinesis::Stream,
//     AWS::SNS::Topic + AWS::SNS::Subscription, AWS::Events::Rule (+ AWS::SNS::TopicPolicy) for the
//     rules that publish to topics, AWS::IAM::User + AWS::IAM::Policy from the IAM store's
//     users and their inline policies.
// What has no AWS counterpart (file and command subscriptions, command and materialized-view
// targets, alarms over saleslake's own figures) is listed in the template's Metadata and in
// `skipped`, with the reason: nothing is dropped silently.
// Thread safety: a pure function of its inputs.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace saleslake::stack {

struct IamUserExport {
  std::string name;
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> policies;  // inline policy name -> document
};

struct AwsExportOptions {
  std::string location_uri;  // s3://bucket/prefix where the lake is on S3 (required)
  std::string database = "saleslake";
  std::string glue_version = "4.0";
};

struct AwsExport {
  std::string template_json;  // the CloudFormation template
  std::vector<std::pair<std::string, std::string>> ddl;  // table name -> Athena DDL
  std::vector<std::string> skipped;  // "rule crawl-on-upload: ... (why)"
};

// `pipeline_text` must be a valid pipeline (stack::LoadPipeline); kInvalidArgument otherwise.
Result<AwsExport> ExportAws(std::string_view pipeline_path, std::string_view pipeline_text,
                            const std::vector<std::shared_ptr<const catalog::TableMetadata>>& tables,
                            const std::vector<IamUserExport>& users, const AwsExportOptions& options);

}  // namespace saleslake::stack

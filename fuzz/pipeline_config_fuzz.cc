// Fuzzes the configuration parsers a user's files and the lake's state reach: every section of
// pipeline.yaml (crawlers, jobs, stream deliveries, events: rules, schedules, topics, alarms),
// the whole file as the stack validates it (every section item by item, iam and dashboards with
// positions inside their JSON), dashboard JSON, schedule expressions, the AWS shared config/credentials INI and the S3 XML
// replies the S3 lake client reads. Each must return a value or an error, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "catalog/crawler.h"
#include "etl/job_spec.h"
#include "events/rules.h"
#include "io/internal/aws_config.h"
#include "io/internal/s3_xml.h"
#include "stack/dashboard.h"
#include "stack/stack.h"
#include "stream/delivery.h"

using namespace saleslake;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)catalog::ParseCrawlerConfigs(text, "pipeline.yaml");
  (void)etl::ParseJobs("pipeline.yaml", text);
  (void)stream::ParseDeliveries(text);
  (void)events::ParseEventsConfig("pipeline.yaml", text);
  (void)events::Schedule::Parse(text.substr(0, text.find('\n')));
  (void)stack::ParseDashboard(text, "fuzz.json", stack::TileSqlIsAQuery);
  (void)stack::ValidatePipeline("pipeline.yaml", text);
  (void)io::internal::ParseAwsIni(text);
  for (std::string_view item : io::internal::XmlElements(text, "Contents")) {
    (void)io::internal::XmlUnescape(io::internal::XmlText(item, "Key"));
  }
  return 0;
}

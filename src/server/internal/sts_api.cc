// STS over the query protocol: GetCallerIdentity and AssumeRole, so `aws sts get-caller-identity`
// works and a team's role-based set-up ("read/write for authorized roles only") carries over: a
// user assumes a role and uses its temporary credentials (x-amz-security-token) everywhere.
#include <string>

#include "server/internal/service.h"
#include "server/internal/util.h"

namespace saleslake::server::internal {
namespace {

constexpr const char* kXmlns = "https://sts.amazonaws.com/doc/2011-06-15/";

HttpResponse StsXml(const std::string& operation, const std::string& result, const HttpRequest& request) {
  HttpResponse r;
  r.Set("Content-Type", "text/xml");
  r.body = "<" + operation + "Response xmlns=\"" + kXmlns + "\"><" + operation + "Result>" + result + "</" +
           operation + "Result><ResponseMetadata><RequestId>" + request.request_id +
           "</RequestId></ResponseMetadata></" + operation + "Response>";
  return r;
}

std::string Element(const char* name, const std::string& value) {
  return std::string("<") + name + ">" + XmlEscape(value) + "</" + name + ">";
}

class StsService final : public Service {
 public:
  explicit StsService(const ServiceContext& context) : gate_(context.gate) {}

  std::string name() const override { return "sts"; }

  Status Register(Dispatcher& dispatcher) override {
    QueryOperation who;
    who.resource = [](const auto&) { return std::string("*"); };
    who.handler = [](const std::map<std::string, std::string>&, const Principal& p,
                     const HttpRequest& request) -> Outcome {
      return StsXml("GetCallerIdentity",
                    Element("Arn", p.arn) + Element("UserId", p.user_id) + Element("Account", p.account_id), request);
    };
    dispatcher.AddQueryOperation("sts", "GetCallerIdentity", who);

    QueryOperation assume;
    assume.resource = [](const std::map<std::string, std::string>& params) {
      auto it = params.find("RoleArn");
      return it == params.end() ? std::string() : it->second;
    };
    assume.handler = [this](const std::map<std::string, std::string>& params, const Principal& p,
                            const HttpRequest& request) -> Outcome {
      auto arg = [&](const char* name) {
        auto it = params.find(name);
        return it == params.end() ? std::string() : it->second;
      };
      for (const char* required : {"RoleArn", "RoleSessionName"}) {
        if (arg(required).empty()) {
          return MakeError(400, "MissingParameter", std::string("the parameter ") + required + " is required");
        }
      }
      int duration = 3600;
      if (std::string d = arg("DurationSeconds"); !d.empty()) {
        if (d.size() > 6 || d.find_first_not_of("0123456789") != std::string::npos) {
          return MakeError(400, "ValidationError", "DurationSeconds must be a number of seconds");
        }
        duration = std::stoi(d);
      }
      auto out = gate_->AssumeRole(p, arg("RoleArn"), arg("RoleSessionName"), duration, request);
      if (auto* err = std::get_if<ApiError>(&out)) return *err;
      const SessionCredentials& c = std::get<SessionCredentials>(out);
      return StsXml("AssumeRole",
                    "<Credentials>" + Element("AccessKeyId", c.access_key_id) +
                        Element("SecretAccessKey", c.secret_access_key) + Element("SessionToken", c.session_token) +
                        Element("Expiration", c.expiration) + "</Credentials><AssumedRoleUser>" +
                        Element("AssumedRoleId", c.assumed_role_id) + Element("Arn", c.assumed_role_arn) +
                        "</AssumedRoleUser>",
                    request);
    };
    dispatcher.AddQueryOperation("sts", "AssumeRole", assume);
    return Status::OK();
  }

 private:
  Gate* gate_;
};

}  // namespace

std::unique_ptr<Service> MakeStsService(const ServiceContext& context) {
  return std::make_unique<StsService>(context);
}

}  // namespace saleslake::server::internal

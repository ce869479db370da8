#include "server/internal/xml.h"

#include <cstdint>

#include "common/text.h"

namespace saleslake::server::internal {

namespace {

constexpr int kMaxDepth = 32;
constexpr size_t kMaxNodes = 200'000;

class Parser {
 public:
  explicit Parser(std::string_view d) : d_(d) {}

  Result<XmlNode> Document() {
    SkipMisc();
    if (!error_.empty()) return Fail();
    if (pos_ >= d_.size() || d_[pos_] != '<') return Fail("expected the root element");
    XmlNode root;
    if (!Element(root, 0)) return Fail();
    SkipMisc();
    if (!error_.empty()) return Fail();
    if (pos_ != d_.size()) return Fail("content after the root element");
    return root;
  }

 private:
  Status Fail(std::string why = "") {
    if (!why.empty() && error_.empty()) error_ = std::move(why);
    return Status::InvalidArgument("malformed XML at byte " + std::to_string(pos_) + ": " + error_);
  }
  bool Error(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }
  bool StartsWith(std::string_view s) const { return d_.substr(pos_, s.size()) == s; }
  void SkipSpace() {
    while (pos_ < d_.size() && (d_[pos_] == ' ' || d_[pos_] == '\t' || d_[pos_] == '\r' ||
                                d_[pos_] == '\n'))
      ++pos_;
  }
  // Prolog, comments, processing instructions and whitespace outside the root.
  void SkipMisc() {
    for (;;) {
      SkipSpace();
      if (StartsWith("<?")) {
        size_t end = d_.find("?>", pos_ + 2);
        if (end == std::string_view::npos) { Error("unterminated <?"); return; }
        pos_ = end + 2;
      } else if (StartsWith("<!--")) {
        size_t end = d_.find("-->", pos_ + 4);
        if (end == std::string_view::npos) { Error("unterminated comment"); return; }
        pos_ = end + 3;
      } else if (StartsWith("<!")) {
        Error("DTDs are not accepted");
        return;
      } else {
        return;
      }
    }
  }
  static bool NameChar(char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == ':' || u >= 0x80;
  }
  bool Name(std::string* out) {
    size_t start = pos_;
    while (pos_ < d_.size() && NameChar(d_[pos_])) ++pos_;
    if (pos_ == start) return Error("expected a name");
    *out = std::string(d_.substr(start, pos_ - start));
    return true;
  }
  static std::string LocalName(const std::string& n) {
    size_t colon = n.rfind(':');
    return colon == std::string::npos ? n : n.substr(colon + 1);
  }
  // Text up to `stop`, with entities decoded.
  bool Text(char stop, std::string* out) {
    while (pos_ < d_.size() && d_[pos_] != stop) {
      char c = d_[pos_];
      if (c == '&') {
        size_t semi = d_.find(';', pos_);
        if (semi == std::string_view::npos || semi - pos_ > 12) return Error("bad entity");
        std::string_view ent = d_.substr(pos_ + 1, semi - pos_ - 1);
        if (ent == "amp") out->push_back('&');
        else if (ent == "lt") out->push_back('<');
        else if (ent == "gt") out->push_back('>');
        else if (ent == "quot") out->push_back('"');
        else if (ent == "apos") out->push_back('\'');
        else if (ent.size() >= 2 && ent[0] == '#') {
          bool hex = ent[1] == 'x';
          std::string_view digits = ent.substr(hex ? 2 : 1);
          if (digits.empty()) return Error("bad character reference");
          uint32_t cp = 0;
          for (char d : digits) {
            int v = (d >= '0' && d <= '9') ? d - '0'
                    : hex && (d >= 'a' && d <= 'f') ? d - 'a' + 10
                    : hex && (d >= 'A' && d <= 'F') ? d - 'A' + 10 : -1;
            if (v < 0) return Error("bad character reference");
            cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
            if (cp > 0x10FFFF) return Error("character reference out of range");
          }
          if (cp == 0) return Error("NUL character reference");
          AppendUtf8(cp, out);
        } else {
          return Error("unknown entity");
        }
        pos_ = semi + 1;
      } else {
        if (stop != '<' && c == '<') return Error("'<' in an attribute value");
        out->push_back(c);
        ++pos_;
      }
    }
    return true;
  }
  bool Element(XmlNode& node, int depth) {
    if (depth >= kMaxDepth) return Error("elements nested too deeply");
    if (++nodes_ > kMaxNodes) return Error("too many elements");
    ++pos_;  // '<'
    std::string qname;
    if (!Name(&qname)) return false;
    node.name = LocalName(qname);
    // Attributes: parsed for well-formedness, then dropped (only xmlns appears in practice).
    for (;;) {
      SkipSpace();
      if (pos_ >= d_.size()) return Error("unterminated start tag");
      if (d_[pos_] == '/') {
        if (!StartsWith("/>")) return Error("expected '/>'");
        pos_ += 2;
        return true;
      }
      if (d_[pos_] == '>') {
        ++pos_;
        break;
      }
      std::string attr;
      if (!Name(&attr)) return false;
      SkipSpace();
      if (pos_ >= d_.size() || d_[pos_] != '=') return Error("expected '=' after an attribute");
      ++pos_;
      SkipSpace();
      if (pos_ >= d_.size() || (d_[pos_] != '"' && d_[pos_] != '\'')) {
        return Error("expected a quoted attribute value");
      }
      char quote = d_[pos_++];
      std::string value;
      if (!Text(quote, &value)) return false;
      if (pos_ >= d_.size()) return Error("unterminated attribute value");
      ++pos_;
    }
    // Content.
    for (;;) {
      if (!Text('<', &node.text)) return false;
      if (pos_ >= d_.size()) return Error("unterminated element <" + qname + ">");
      if (StartsWith("</")) {
        pos_ += 2;
        std::string end;
        if (!Name(&end)) return false;
        if (end != qname) return Error("</" + end + "> closes <" + qname + ">");
        SkipSpace();
        if (pos_ >= d_.size() || d_[pos_] != '>') return Error("expected '>'");
        ++pos_;
        return true;
      }
      if (StartsWith("<!--")) {
        size_t end = d_.find("-->", pos_ + 4);
        if (end == std::string_view::npos) return Error("unterminated comment");
        pos_ = end + 3;
      } else if (StartsWith("<![CDATA[")) {
        size_t end = d_.find("]]>", pos_ + 9);
        if (end == std::string_view::npos) return Error("unterminated CDATA");
        node.text.append(d_.substr(pos_ + 9, end - pos_ - 9));
        pos_ = end + 3;
      } else if (StartsWith("<?")) {
        size_t end = d_.find("?>", pos_ + 2);
        if (end == std::string_view::npos) return Error("unterminated <?");
        pos_ = end + 2;
      } else if (StartsWith("<!")) {
        return Error("DTDs are not accepted");
      } else {
        node.children.emplace_back();
        if (!Element(node.children.back(), depth + 1)) return false;
      }
    }
  }

  std::string_view d_;
  size_t pos_ = 0;
  size_t nodes_ = 0;
  std::string error_;
};

}  // namespace

const XmlNode* XmlNode::Child(std::string_view child_name) const {
  for (const XmlNode& c : children) {
    if (c.name == child_name) return &c;
  }
  return nullptr;
}

Result<XmlNode> ParseXml(std::string_view doc) { return Parser(doc).Document(); }

}  // namespace saleslake::server::internal

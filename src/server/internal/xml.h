// A small, strict XML reader for request bodies (DeleteObjects, CompleteMultipartUpload, ...).
// Supports what S3 clients send: a prolog, comments, elements with attributes (namespaces are
// dropped from names), text with the five entities and character references, CDATA. No DTDs
// (so no entity expansion attacks). Depth and node count are bounded.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace saleslake::server::internal {

struct XmlNode {
  std::string name;  // local name ("Delete" for "s3:Delete")
  std::string text;  // concatenated character data directly inside this element
  std::vector<XmlNode> children;

  // First child with this name, or nullptr.
  const XmlNode* Child(std::string_view child_name) const;
};

// kInvalidArgument with the byte offset and reason when the document is not well-formed.
Result<XmlNode> ParseXml(std::string_view doc);

}  // namespace saleslake::server::internal

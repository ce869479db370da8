// Just enough XML for S3 replies (ListObjectsV2, errors, multipart): the S3 wire format is flat
// elements with text, so a scan for <Tag>...</Tag> reads it; entities are decoded.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace saleslake::io::internal {

// The inner text of every <tag>...</tag> (also <tag attr="...">) at any depth, in order.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag);
// The decoded text of the first <tag>, or "".
std::string XmlText(std::string_view xml, std::string_view tag);
// (Escaping is common/text.h XmlEscape.)
std::string XmlUnescape(std::string_view s);

}  // namespace saleslake::io::internal

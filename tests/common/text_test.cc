#include "common/text.h"

#include <gtest/gtest.h>

namespace saleslake {
namespace {

TEST(TextTest, XmlEscapeEntities) {
  EXPECT_EQ(XmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(XmlEscape("plain text/é"), "plain text/é");
  EXPECT_EQ(XmlEscape(""), "");
}

TEST(TextTest, XmlEscapeControlCharactersAsReferences) {
  EXPECT_EQ(XmlEscape(std::string("a\x01z", 3)), "a&#1;z");
  EXPECT_EQ(XmlEscape(std::string("\x1f", 1)), "&#31;");
  EXPECT_EQ(XmlEscape("tab\tnl\ncr\r"), "tab\tnl\ncr\r");  // XML 1.0 carries these
}

TEST(TextTest, AppendUtf8EveryLength) {
  std::string s;
  AppendUtf8(0x41, &s);      // A
  AppendUtf8(0xE9, &s);      // é
  AppendUtf8(0x20AC, &s);    // €
  AppendUtf8(0x1F600, &s);   // 😀
  EXPECT_EQ(s, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  std::string edges;
  AppendUtf8(0x7F, &edges);
  AppendUtf8(0x80, &edges);
  AppendUtf8(0x7FF, &edges);
  AppendUtf8(0x800, &edges);
  AppendUtf8(0xFFFF, &edges);
  AppendUtf8(0x10000, &edges);
  AppendUtf8(0x10FFFF, &edges);
  EXPECT_EQ(edges,
            "\x7f" "\xc2\x80" "\xdf\xbf" "\xe0\xa0\x80" "\xef\xbf\xbf" "\xf0\x90\x80\x80"
            "\xf4\x8f\xbf\xbf");
}

}  // namespace
}  // namespace saleslake

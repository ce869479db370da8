#include "datagen/tpch.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/batch.h"
#include "common/thread_pool.h"
#include "datagen/internal/random.h"
#include "formats/parquet/parquet.h"
#include "io/object_store.h"

namespace saleslake::datagen {
namespace {

using internal::Mix;
using internal::Rng;

// ---- the spec's constants (TPC-H clause 4.2.2 and 4.2.3) ----

const int32_t kStartDate = DaysFromCivil(1992, 1, 1);
const int32_t kEndDate = DaysFromCivil(1998, 12, 31);
const int32_t kCurrentDate = DaysFromCivil(1995, 6, 17);  // decides returnflag and linestatus

constexpr const char* kColours[] = {
    "almond",    "antique",   "aquamarine", "azure",     "beige",     "bisque",    "black",
    "blanched",  "blue",      "blush",      "brown",     "burlywood", "burnished", "chartreuse",
    "chiffon",   "chocolate", "coral",      "cornflower", "cornsilk", "cream",     "cyan",
    "dark",      "deep",      "dim",        "dodger",    "drab",      "firebrick", "floral",
    "forest",    "frosted",   "gainsboro",  "ghost",     "goldenrod", "green",     "grey",
    "honeydew",  "hot",       "indian",     "ivory",     "khaki",     "lace",      "lavender",
    "lawn",      "lemon",     "light",      "lime",      "linen",     "magenta",   "maroon",
    "medium",    "metallic",  "midnight",   "mint",      "misty",     "moccasin",  "navajo",
    "navy",      "olive",     "orange",     "orchid",    "pale",      "papaya",    "peach",
    "peru",      "pink",      "plum",       "powder",    "puff",      "purple",    "red",
    "rose",      "rosy",      "royal",      "saddle",    "salmon",    "sandy",     "seashell",
    "sienna",    "sky",       "slate",      "smoke",     "snow",      "spring",    "steel",
    "tan",       "thistle",   "tomato",     "turquoise", "violet",    "wheat",     "white",
    "yellow"};
constexpr int kNumColours = sizeof(kColours) / sizeof(kColours[0]);
static_assert(kNumColours == 92, "the spec's P_NAME word list has 92 colours");

constexpr const char* kTypeSyllable1[] = {"STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO"};
constexpr const char* kTypeSyllable2[] = {"ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED"};
constexpr const char* kTypeSyllable3[] = {"TIN", "NICKEL", "BRASS", "STEEL", "COPPER"};
constexpr const char* kContainer1[] = {"SM", "LG", "MED", "JUMBO", "WRAP"};
constexpr const char* kContainer2[] = {"CASE", "BOX", "BAG", "JAR", "PKG", "PACK", "CAN", "DRUM"};
constexpr const char* kSegments[] = {"AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD"};
constexpr const char* kPriorities[] = {"1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"};
constexpr const char* kInstructions[] = {"DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"};
constexpr const char* kModes[] = {"REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"};

struct NationSpec {
  const char* name;
  int32_t region;
};
constexpr NationSpec kNations[] = {
    {"ALGERIA", 0},      {"ARGENTINA", 1}, {"BRAZIL", 1},  {"CANADA", 1},         {"EGYPT", 4},
    {"ETHIOPIA", 0},     {"FRANCE", 3},    {"GERMANY", 3}, {"INDIA", 2},          {"INDONESIA", 2},
    {"IRAN", 4},         {"IRAQ", 4},      {"JAPAN", 2},   {"JORDAN", 4},         {"KENYA", 0},
    {"MOROCCO", 0},      {"MOZAMBIQUE", 0}, {"PERU", 1},   {"CHINA", 2},          {"ROMANIA", 3},
    {"SAUDI ARABIA", 4}, {"VIETNAM", 2},   {"RUSSIA", 3},  {"UNITED KINGDOM", 3}, {"UNITED STATES", 1}};
constexpr const char* kRegions[] = {"AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"};

template <size_t N>
const char* Pick(Rng& r, const char* const (&list)[N]) {
  return list[r.Below(N)];
}

// ---- the text grammar of comments (clause 4.2.2.14) ----

struct Weighted {
  const char* word;
  int weight;
};

constexpr Weighted kNouns[] = {
    {"packages", 40}, {"requests", 40}, {"accounts", 40}, {"deposits", 40}, {"foxes", 20},
    {"ideas", 20}, {"theodolites", 20}, {"pinto beans", 20}, {"instructions", 20},
    {"dependencies", 10}, {"excuses", 10}, {"platelets", 10}, {"asymptotes", 10}, {"courts", 5},
    {"dolphins", 5}, {"multipliers", 1}, {"sauternes", 1}, {"warthogs", 1}, {"frets", 1},
    {"dinos", 1}, {"attainments", 1}, {"somas", 1}, {"Tiresias", 1}, {"patterns", 1},
    {"forges", 1}, {"braids", 1}, {"hockey players", 1}, {"frays", 1}, {"warhorses", 1},
    {"dugouts", 1}, {"notornis", 1}, {"epitaphs", 1}, {"pearls", 1}, {"tithes", 1}, {"waters", 1},
    {"orbits", 1}, {"gifts", 1}, {"sheaves", 1}, {"depths", 1}, {"sentiments", 1}, {"decoys", 1},
    {"realms", 1}, {"pains", 1}, {"grouches", 1}, {"escapades", 1}};
constexpr Weighted kVerbs[] = {
    {"sleep", 20}, {"wake", 20}, {"are", 20}, {"cajole", 20}, {"haggle", 20}, {"nag", 10},
    {"use", 10}, {"boost", 10}, {"affix", 5}, {"detect", 5}, {"integrate", 5}, {"maintain", 1},
    {"nod", 1}, {"was", 1}, {"lose", 1}, {"sublate", 1}, {"solve", 1}, {"thrash", 1},
    {"promise", 1}, {"engage", 1}, {"hinder", 1}, {"print", 1}, {"x-ray", 1}, {"breach", 1},
    {"eat", 1}, {"grow", 1}, {"impress", 1}, {"mold", 1}, {"poach", 1}, {"serve", 1}, {"run", 1},
    {"dazzle", 1}, {"snooze", 1}, {"doze", 1}, {"unwind", 1}, {"kindle", 1}, {"play", 1},
    {"hang", 1}, {"believe", 1}, {"doubt", 1}};
constexpr Weighted kAdjectives[] = {
    {"furious", 1}, {"sly", 1}, {"careful", 1}, {"blithe", 1}, {"quick", 1}, {"fluffy", 1},
    {"slow", 1}, {"quiet", 1}, {"ruthless", 1}, {"thin", 1}, {"close", 1}, {"dogged", 1},
    {"daring", 1}, {"brave", 1}, {"stealthy", 1}, {"permanent", 1}, {"enticing", 1}, {"idle", 1},
    {"busy", 1}, {"regular", 50}, {"final", 40}, {"ironic", 40}, {"even", 30}, {"bold", 20},
    {"silent", 10}, {"special", 20}, {"pending", 20}, {"unusual", 20}, {"express", 20}};
constexpr Weighted kAdverbs[] = {
    {"sometimes", 1}, {"always", 1}, {"never", 1}, {"furiously", 50}, {"slyly", 50},
    {"carefully", 50}, {"blithely", 40}, {"quickly", 30}, {"fluffily", 20}, {"slowly", 1},
    {"quietly", 1}, {"ruthlessly", 1}, {"thinly", 1}, {"closely", 1}, {"doggedly", 1},
    {"daringly", 1}, {"bravely", 1}, {"stealthily", 1}, {"permanently", 1}, {"enticingly", 1},
    {"idly", 1}, {"busily", 1}, {"regularly", 1}, {"finally", 1}, {"ironically", 1}, {"evenly", 1},
    {"boldly", 1}, {"silently", 1}};
constexpr Weighted kPrepositions[] = {
    {"about", 50}, {"above", 50}, {"according to", 50}, {"across", 50}, {"after", 50},
    {"against", 40}, {"along", 40}, {"alongside of", 30}, {"among", 30}, {"around", 20},
    {"at", 10}, {"atop", 1}, {"before", 1}, {"behind", 1}, {"beneath", 1}, {"beside", 1},
    {"besides", 1}, {"between", 1}, {"beyond", 1}, {"by", 1}, {"despite", 1}, {"during", 1},
    {"except", 1}, {"for", 1}, {"from", 1}, {"in place of", 1}, {"inside", 1}, {"instead of", 1},
    {"into", 1}, {"near", 1}, {"of", 1}, {"on", 1}, {"outside", 1}, {"over", 1}, {"past", 1},
    {"since", 1}, {"through", 1}, {"throughout", 1}, {"to", 1}, {"toward", 1}, {"under", 1},
    {"until", 1}, {"up", 1}, {"upon", 1}, {"without", 1}, {"with", 1}, {"within", 1}};
constexpr Weighted kAuxiliaries[] = {
    {"do", 1}, {"may", 1}, {"might", 1}, {"shall", 1}, {"will", 1}, {"would", 1}, {"can", 1},
    {"could", 1}, {"should", 1}, {"ought to", 1}, {"must", 1}, {"will have to", 1},
    {"shall have to", 1}, {"could have to", 1}, {"should have to", 1}, {"must have to", 1},
    {"need to", 1}, {"try to", 1}};
constexpr Weighted kTerminators[] = {{".", 50}, {";", 1}, {":", 1}, {"?", 1}, {"!", 1}, {"--", 1}};

template <size_t N>
const char* PickWeighted(Rng& r, const Weighted (&list)[N]) {
  int total = 0;
  for (const Weighted& w : list) total += w.weight;
  int x = static_cast<int>(r.Below(static_cast<uint64_t>(total)));
  for (const Weighted& w : list) {
    if (x < w.weight) return w.word;
    x -= w.weight;
  }
  return list[N - 1].word;
}

// Pseudo-text: sentences of the grammar, one after another. Comments are substrings of it at
// random offsets (as dbgen does with its text pool), so they may start and end mid-word.
class TextPool {
 public:
  TextPool(uint64_t seed, size_t size) {
    Rng r(Mix(seed ^ 0x7E47'7E47'7E47ULL));
    text_.reserve(size + 256);
    while (text_.size() < size) Sentence(r);
  }
  // A comment of random length in [min_len, max_len].
  std::string_view Comment(Rng& r, int min_len, int max_len) const {
    size_t len = static_cast<size_t>(r.Range(min_len, max_len));
    size_t off = r.Below(text_.size() - len);
    return std::string_view(text_).substr(off, len);
  }

 private:
  void Word(const char* w) {
    if (!text_.empty() && text_.back() != ' ') text_ += ' ';
    text_ += w;
  }
  void NounPhrase(Rng& r) {
    uint64_t k = r.Below(90);  // N 10, J N 20, "J, J N" 10, D J N 50
    if (k < 10) {
      Word(PickWeighted(r, kNouns));
    } else if (k < 30) {
      Word(PickWeighted(r, kAdjectives));
      Word(PickWeighted(r, kNouns));
    } else if (k < 40) {
      Word(PickWeighted(r, kAdjectives));
      text_ += ',';
      Word(PickWeighted(r, kAdjectives));
      Word(PickWeighted(r, kNouns));
    } else {
      Word(PickWeighted(r, kAdverbs));
      Word(PickWeighted(r, kAdjectives));
      Word(PickWeighted(r, kNouns));
    }
  }
  void VerbPhrase(Rng& r) {
    uint64_t k = r.Below(72);  // V 30, X V 1, V D 40, X V D 1
    if (k == 30 || k == 71) Word(PickWeighted(r, kAuxiliaries));
    Word(PickWeighted(r, kVerbs));
    if (k >= 31) Word(PickWeighted(r, kAdverbs));
  }
  void PrepositionalPhrase(Rng& r) {
    Word(PickWeighted(r, kPrepositions));
    Word("the");
    NounPhrase(r);
  }
  void Sentence(Rng& r) {
    uint64_t k = r.Below(11);  // the five forms, weights 3, 3, 3, 1, 1
    NounPhrase(r);
    if (k >= 9) PrepositionalPhrase(r);
    VerbPhrase(r);
    if (k < 3) {
    } else if (k < 6 || k == 10) {
      PrepositionalPhrase(r);
    } else {
      NounPhrase(r);
    }
    text_ += PickWeighted(r, kTerminators);
  }

  std::string text_;
};

// ---- schemas ----

Field F(const char* name, DataType t) { return Field{name, t, /*nullable=*/true}; }
const DataType kInt = DataType::Int32();
const DataType kBig = DataType::Int64();
const DataType kMoney = DataType::Decimal(15, 2);
const DataType kText = DataType::Varchar();
const DataType kDay = DataType::Date();

enum class Table { kPart, kSupplier, kPartsupp, kCustomer, kOrders, kLineitem, kNation, kRegion };
constexpr int kNumTables = 8;

Schema SchemaOf(Table t) {
  switch (t) {
    case Table::kPart:
      return {{F("p_partkey", kInt), F("p_name", kText), F("p_mfgr", kText), F("p_brand", kText),
               F("p_type", kText), F("p_size", kInt), F("p_container", kText),
               F("p_retailprice", kMoney), F("p_comment", kText)}};
    case Table::kSupplier:
      return {{F("s_suppkey", kInt), F("s_name", kText), F("s_address", kText), F("s_nationkey", kInt),
               F("s_phone", kText), F("s_acctbal", kMoney), F("s_comment", kText)}};
    case Table::kPartsupp:
      return {{F("ps_partkey", kInt), F("ps_suppkey", kInt), F("ps_availqty", kInt),
               F("ps_supplycost", kMoney), F("ps_comment", kText)}};
    case Table::kCustomer:
      return {{F("c_custkey", kInt), F("c_name", kText), F("c_address", kText), F("c_nationkey", kInt),
               F("c_phone", kText), F("c_acctbal", kMoney), F("c_mktsegment", kText),
               F("c_comment", kText)}};
    case Table::kOrders:
      return {{F("o_orderkey", kBig), F("o_custkey", kInt), F("o_orderstatus", kText),
               F("o_totalprice", kMoney), F("o_orderdate", kDay), F("o_orderpriority", kText),
               F("o_clerk", kText), F("o_shippriority", kInt), F("o_comment", kText)}};
    case Table::kLineitem:
      return {{F("l_orderkey", kBig), F("l_partkey", kInt), F("l_suppkey", kInt),
               F("l_linenumber", kInt), F("l_quantity", kMoney), F("l_extendedprice", kMoney),
               F("l_discount", kMoney), F("l_tax", kMoney), F("l_returnflag", kText),
               F("l_linestatus", kText), F("l_shipdate", kDay), F("l_commitdate", kDay),
               F("l_receiptdate", kDay), F("l_shipinstruct", kText), F("l_shipmode", kText),
               F("l_comment", kText)}};
    case Table::kNation:
      return {{F("n_nationkey", kInt), F("n_name", kText), F("n_regionkey", kInt), F("n_comment", kText)}};
    case Table::kRegion:
      return {{F("r_regionkey", kInt), F("r_name", kText), F("r_comment", kText)}};
  }
  return {};
}

constexpr const char* kTableNames[kNumTables] = {"part",   "supplier", "partsupp", "customer",
                                                 "orders", "lineitem", "nation",   "region"};

// ---- one output file, filled row by row and written in batches ----

class TableFile {
 public:
  static Result<std::unique_ptr<TableFile>> Open(const std::string& path, Table t,
                                                 const parquet::WriterOptions& options) {
    auto f = std::unique_ptr<TableFile>(new TableFile(path, SchemaOf(t)));
    SL_ASSIGN_OR_RETURN(f->out_, io::OpenLocalWrite(path));
    SL_ASSIGN_OR_RETURN(f->writer_, parquet::ParquetWriter::Open(f->out_.get(), f->schema_, options));
    return f;
  }

  template <typename T>
  void Set(int col, T v) {
    batch_.columns[col].data<T>()[n_] = v;
  }
  // Copies s into the batch.
  void SetString(int col, std::string_view s) { batch_.columns[col].SetString(n_, s); }
  // No copy: s points into the text pool or a constant, which outlive the file.
  void SetView(int col, std::string_view s) { batch_.columns[col].data<std::string_view>()[n_] = s; }

  Status EndRow() {
    ++rows_;
    return ++n_ == kRows ? Flush() : Status::OK();
  }
  // Flushes, writes the footer and commits the file; returns its size.
  Result<uint64_t> Close() {
    SL_RETURN_IF_ERROR(Flush());
    SL_ASSIGN_OR_RETURN(parquet::FileStats stats, writer_->Close());
    SL_RETURN_IF_ERROR(out_->Commit());
    return stats.file_size;
  }
  int64_t rows() const { return rows_; }

 private:
  static constexpr size_t kRows = 4096;
  TableFile(std::string path, Schema schema)
      : path_(std::move(path)), schema_(std::move(schema)), batch_(schema_, kRows) {
    batch_.SetRows(kRows);
  }
  Status Flush() {
    if (n_ == 0) return Status::OK();
    batch_.SetRows(n_);
    Status s = writer_->Write(batch_);
    batch_.Reset();
    batch_.SetRows(kRows);
    n_ = 0;
    return s.ok() ? s : s.WithContext(path_);
  }

  std::string path_;
  Schema schema_;
  Batch batch_;
  size_t n_ = 0;
  int64_t rows_ = 0;
  std::unique_ptr<io::OutputStream> out_;
  std::unique_ptr<parquet::ParquetWriter> writer_;
};

// ---- the generator ----

struct Scale {
  int64_t suppliers, parts, customers, orders;
};

int64_t Scaled(int64_t base, double scale) {
  return std::max<int64_t>(1, std::llround(static_cast<double>(base) * scale));
}

Scale ScaleOf(double sf) {
  return {Scaled(10'000, sf), Scaled(200'000, sf), Scaled(150'000, sf), Scaled(1'500'000, sf)};
}

// PS_SUPPKEY of the i-th (0..3) supplier of a part (clause 4.2.3): spreads each part's four
// suppliers a quarter of the supplier range apart.
int32_t SupplierOf(int64_t partkey, int64_t i, int64_t suppliers) {
  return static_cast<int32_t>((partkey + i * (suppliers / 4 + (partkey - 1) / suppliers)) % suppliers + 1);
}

// P_RETAILPRICE in cents (clause 4.2.3).
int64_t RetailCents(int64_t partkey) { return 90000 + (partkey / 10) % 20001 + 100 * (partkey % 1000); }

// O_ORDERKEY: only the first 8 of every 32 keys are used (the sparse keys of clause 4.2.3).
int64_t OrderKey(int64_t index) { return index / 8 * 32 + index % 8 + 1; }

constexpr char kAddressChars[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ, ";

class Generator {
 public:
  explicit Generator(const TpchOptions& o) : o_(o), sf_(ScaleOf(o.scale)), pool_(o.seed, kPoolBytes) {}

  // Every row's random stream: the seed, the table and the row number, nothing else.
  Rng RowRng(Table t, int64_t row) const {
    return Rng(Mix(o_.seed * 0x100000001B3ULL + static_cast<uint64_t>(t)) ^ Mix(static_cast<uint64_t>(row)));
  }

  // The first six columns supplier and customer share: key, "<prefix>#<9-digit key>", an
  // address of random characters, the nation, a phone whose country code is nation + 10 (Q22
  // selects by it), the account balance.
  void Party(TableFile& f, Rng& r, const char* prefix, int64_t key) const {
    char buf[64];
    f.Set<int32_t>(0, static_cast<int32_t>(key));
    int len = std::snprintf(buf, sizeof buf, "%s#%09lld", prefix, static_cast<long long>(key));
    f.SetString(1, std::string_view(buf, static_cast<size_t>(len)));
    size_t address = static_cast<size_t>(r.Range(10, 40));
    for (size_t i = 0; i < address; ++i) buf[i] = kAddressChars[r.Below(sizeof(kAddressChars) - 1)];
    f.SetString(2, std::string_view(buf, address));
    int32_t nation = static_cast<int32_t>(r.Range(0, 24));
    f.Set<int32_t>(3, nation);
    len = std::snprintf(buf, sizeof buf, "%02d-%03d-%03d-%04d", nation + 10, static_cast<int>(r.Range(100, 999)),
                        static_cast<int>(r.Range(100, 999)), static_cast<int>(r.Range(1000, 9999)));
    f.SetString(4, std::string_view(buf, static_cast<size_t>(len)));
    f.Set<int64_t>(5, r.Range(-99'999, 999'999));
  }

  Status Part(TableFile& f, int64_t begin, int64_t end) const {
    char name[64], buf[64];
    for (int64_t row = begin; row < end; ++row) {
      Rng r = RowRng(Table::kPart, row);
      int64_t key = row + 1;
      int words[kNumColours];
      for (int i = 0; i < kNumColours; ++i) words[i] = i;
      std::string pname;
      for (int i = 0; i < 5; ++i) {  // five distinct colours: a partial shuffle
        int j = i + static_cast<int>(r.Below(static_cast<uint64_t>(kNumColours - i)));
        std::swap(words[i], words[j]);
        if (i) pname += ' ';
        pname += kColours[words[i]];
      }
      int m = static_cast<int>(r.Range(1, 5)), n = static_cast<int>(r.Range(1, 5));
      f.Set<int32_t>(0, static_cast<int32_t>(key));
      f.SetString(1, pname);
      std::snprintf(name, sizeof name, "Manufacturer#%d", m);
      f.SetString(2, name);
      std::snprintf(name, sizeof name, "Brand#%d%d", m, n);
      f.SetString(3, name);
      int len = std::snprintf(buf, sizeof buf, "%s %s %s", Pick(r, kTypeSyllable1), Pick(r, kTypeSyllable2),
                              Pick(r, kTypeSyllable3));
      f.SetString(4, std::string_view(buf, static_cast<size_t>(len)));
      f.Set<int32_t>(5, static_cast<int32_t>(r.Range(1, 50)));
      len = std::snprintf(buf, sizeof buf, "%s %s", Pick(r, kContainer1), Pick(r, kContainer2));
      f.SetString(6, std::string_view(buf, static_cast<size_t>(len)));
      f.Set<int64_t>(7, RetailCents(key));
      f.SetView(8, pool_.Comment(r, 5, 22));
      SL_RETURN_IF_ERROR(f.EndRow());
    }
    return Status::OK();
  }

  Status Supplier(TableFile& f, int64_t begin, int64_t end) const {
    std::string comment;
    for (int64_t row = begin; row < end; ++row) {
      Rng r = RowRng(Table::kSupplier, row);
      Party(f, r, "Supplier", row + 1);
      std::string_view text = pool_.Comment(r, 25, 100);
      // SF * 5 suppliers each have complaints and recommendations in their comment (Q16).
      uint64_t k = r.Below(10'000);
      if (k < 10) {
        size_t at = r.Below(text.size() / 2);
        comment.assign(text.substr(0, at));
        comment += "Customer ";
        comment += text.substr(at, r.Below(10));
        comment += k < 5 ? " Complaints" : " Recommends";
        f.SetString(6, comment);
      } else {
        f.SetView(6, text);
      }
      SL_RETURN_IF_ERROR(f.EndRow());
    }
    return Status::OK();
  }

  // Rows of the parts [begin, end), four per part.
  Status Partsupp(TableFile& f, int64_t begin, int64_t end) const {
    for (int64_t part = begin; part < end; ++part) {
      for (int64_t i = 0; i < 4; ++i) {
        Rng r = RowRng(Table::kPartsupp, part * 4 + i);
        f.Set<int32_t>(0, static_cast<int32_t>(part + 1));
        f.Set<int32_t>(1, SupplierOf(part + 1, i, sf_.suppliers));
        f.Set<int32_t>(2, static_cast<int32_t>(r.Range(1, 9999)));
        f.Set<int64_t>(3, r.Range(100, 100'000));
        f.SetView(4, pool_.Comment(r, 49, 198));
        SL_RETURN_IF_ERROR(f.EndRow());
      }
    }
    return Status::OK();
  }

  Status Customer(TableFile& f, int64_t begin, int64_t end) const {
    for (int64_t row = begin; row < end; ++row) {
      Rng r = RowRng(Table::kCustomer, row);
      Party(f, r, "Customer", row + 1);
      f.SetView(6, Pick(r, kSegments));
      f.SetView(7, pool_.Comment(r, 29, 116));
      SL_RETURN_IF_ERROR(f.EndRow());
    }
    return Status::OK();
  }

  // Orders [begin, end) and their lineitems.
  Status Orders(TableFile& orders, TableFile& lines, int64_t begin, int64_t end) const {
    // O_CUSTKEY skips every third customer, so a third of them never order (Q13, Q22).
    const int64_t ordering_customers = sf_.customers - sf_.customers / 3;
    const int64_t clerks = std::max<int64_t>(1, std::llround(o_.scale * 1000));
    char clerk[32];
    for (int64_t row = begin; row < end; ++row) {
      Rng r = RowRng(Table::kOrders, row);
      int64_t key = OrderKey(row);
      int64_t j = static_cast<int64_t>(r.Below(static_cast<uint64_t>(std::max<int64_t>(1, ordering_customers))));
      int64_t custkey = std::min(sf_.customers, j + j / 2 + 1);
      int32_t odate = kStartDate + static_cast<int32_t>(r.Range(0, kEndDate - 151 - kStartDate));
      int nlines = static_cast<int>(r.Range(1, 7));
      int64_t total = 0;
      int shipped = 0;
      for (int ln = 1; ln <= nlines; ++ln) {
        int64_t partkey = r.Range(1, sf_.parts);
        int32_t suppkey = SupplierOf(partkey, r.Range(0, 3), sf_.suppliers);
        int64_t qty = r.Range(1, 50);
        int64_t price = qty * RetailCents(partkey);
        int64_t discount = r.Range(0, 10), tax = r.Range(0, 8);
        int32_t ship = odate + static_cast<int32_t>(r.Range(1, 121));
        int32_t commit = odate + static_cast<int32_t>(r.Range(30, 90));
        int32_t receipt = ship + static_cast<int32_t>(r.Range(1, 30));
        bool returned = r.Below(2) == 1;
        lines.Set<int64_t>(0, key);
        lines.Set<int32_t>(1, static_cast<int32_t>(partkey));
        lines.Set<int32_t>(2, suppkey);
        lines.Set<int32_t>(3, ln);
        lines.Set<int64_t>(4, qty * 100);
        lines.Set<int64_t>(5, price);
        lines.Set<int64_t>(6, discount);
        lines.Set<int64_t>(7, tax);
        lines.SetView(8, receipt <= kCurrentDate ? (returned ? "R" : "A") : "N");
        lines.SetView(9, ship > kCurrentDate ? "O" : "F");
        lines.Set<int32_t>(10, ship);
        lines.Set<int32_t>(11, commit);
        lines.Set<int32_t>(12, receipt);
        lines.SetView(13, Pick(r, kInstructions));
        lines.SetView(14, Pick(r, kModes));
        lines.SetView(15, pool_.Comment(r, 10, 43));
        SL_RETURN_IF_ERROR(lines.EndRow());
        // price * (1 + tax) * (1 - discount) in cents, rounded half up.
        total += (price * (100 + tax) * (100 - discount) + 5000) / 10000;
        if (ship <= kCurrentDate) ++shipped;
      }
      orders.Set<int64_t>(0, key);
      orders.Set<int32_t>(1, static_cast<int32_t>(custkey));
      orders.SetView(2, shipped == nlines ? "F" : shipped == 0 ? "O" : "P");
      orders.Set<int64_t>(3, total);
      orders.Set<int32_t>(4, odate);
      orders.SetView(5, Pick(r, kPriorities));
      std::snprintf(clerk, sizeof clerk, "Clerk#%09lld", static_cast<long long>(r.Range(1, clerks)));
      orders.SetString(6, clerk);
      orders.Set<int32_t>(7, 0);
      orders.SetView(8, pool_.Comment(r, 19, 78));
      SL_RETURN_IF_ERROR(orders.EndRow());
    }
    return Status::OK();
  }

  // The two fixed tables: nation (25 rows) and region (5), names from the spec.
  Status NationOrRegion(TableFile& f, Table t) const {
    const bool nation = t == Table::kNation;
    for (int32_t n = 0; n < (nation ? 25 : 5); ++n) {
      Rng r = RowRng(t, n);
      int col = 0;
      f.Set<int32_t>(col++, n);
      f.SetView(col++, nation ? kNations[n].name : kRegions[n]);
      if (nation) f.Set<int32_t>(col++, kNations[n].region);
      f.SetView(col, pool_.Comment(r, 31, nation ? 114 : 115));
      SL_RETURN_IF_ERROR(f.EndRow());
    }
    return Status::OK();
  }

  const Scale& scale() const { return sf_; }

 private:
  static constexpr size_t kPoolBytes = 8 << 20;
  TpchOptions o_;
  Scale sf_;
  TextPool pool_;
};

// One file of one table (orders units also write the matching lineitem file).
struct Unit {
  Table table;
  int file;
  int64_t begin, end;  // rows (partsupp: parts)
};

}  // namespace

const std::vector<std::string>& TpchTables() {
  static const std::vector<std::string> names(std::begin(kTableNames), std::end(kTableNames));
  return names;
}

Result<Schema> TpchSchema(std::string_view table) {
  for (int t = 0; t < kNumTables; ++t)
    if (table == kTableNames[t]) return SchemaOf(static_cast<Table>(t));
  return Status::NotFound("no TPC-H table " + std::string(table));
}

int64_t TpchRowCount(std::string_view table, double scale) {
  Scale s = ScaleOf(scale);
  if (table == "part") return s.parts;
  if (table == "supplier") return s.suppliers;
  if (table == "partsupp") return 4 * s.parts;
  if (table == "customer") return s.customers;
  if (table == "orders") return s.orders;
  if (table == "nation") return 25;
  if (table == "region") return 5;
  return -1;
}

Result<std::vector<TpchTableStats>> GenerateTpch(const TpchOptions& options, const std::string& dir) {
  if (!(options.scale > 0 && options.scale <= 1000))
    return Status::InvalidArgument("TPC-H scale factor must be in (0, 1000]");
  if (options.files < 1 || options.files > 10'000) return Status::InvalidArgument("files must be in 1..10000");
  if (options.row_group_rows < 1) return Status::InvalidArgument("row_group_rows must be positive");
  const Generator gen(options);
  const Scale& sc = gen.scale();

  std::vector<Unit> units;
  auto split = [&](Table t, int64_t rows) {
    int files = static_cast<int>(std::min<int64_t>(options.files, rows));
    for (int k = 0; k < files; ++k) units.push_back({t, k, rows * k / files, rows * (k + 1) / files});
  };
  // Largest first, so the last workers to finish have the small tables.
  split(Table::kOrders, sc.orders);
  split(Table::kPartsupp, sc.parts);
  split(Table::kPart, sc.parts);
  split(Table::kCustomer, sc.customers);
  units.push_back({Table::kSupplier, 0, 0, sc.suppliers});
  units.push_back({Table::kNation, 0, 0, 25});
  units.push_back({Table::kRegion, 0, 0, 5});

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
  auto path_of = [&](Table t, int file) -> Result<std::string> {
    std::string name = kTableNames[static_cast<int>(t)];
    bool big = t != Table::kSupplier && t != Table::kNation && t != Table::kRegion;
    if (!big || options.files == 1) return dir + "/" + name + ".parquet";
    std::string sub = dir + "/" + name;
    std::error_code e;
    std::filesystem::create_directories(sub, e);
    if (e) return Status::IOError("cannot create " + sub + ": " + e.message());
    return sub + "/" + name + "-" + std::to_string(file) + ".parquet";
  };

  parquet::WriterOptions wo;
  wo.row_group_rows = options.row_group_rows;
  wo.key_value_metadata = {{"saleslake.tpch.scale", std::to_string(options.scale)},
                           {"saleslake.tpch.seed", std::to_string(options.seed)}};

  std::vector<TpchTableStats> stats(kNumTables);
  for (int t = 0; t < kNumTables; ++t) stats[t].table = kTableNames[t];
  std::mutex mu;
  Status first_error;
  std::atomic<bool> failed{false};
  auto finish = [&](Table t, TableFile& f) -> Status {
    SL_ASSIGN_OR_RETURN(uint64_t bytes, f.Close());
    std::lock_guard<std::mutex> lock(mu);
    TpchTableStats& s = stats[static_cast<int>(t)];
    s.rows += f.rows();
    s.bytes += bytes;
    ++s.files;
    return Status::OK();
  };
  auto run = [&](const Unit& u) -> Status {
    SL_ASSIGN_OR_RETURN(std::string path, path_of(u.table, u.file));
    SL_ASSIGN_OR_RETURN(auto f, TableFile::Open(path, u.table, wo));
    switch (u.table) {
      case Table::kOrders: {
        SL_ASSIGN_OR_RETURN(std::string lpath, path_of(Table::kLineitem, u.file));
        SL_ASSIGN_OR_RETURN(auto lf, TableFile::Open(lpath, Table::kLineitem, wo));
        SL_RETURN_IF_ERROR(gen.Orders(*f, *lf, u.begin, u.end));
        SL_RETURN_IF_ERROR(finish(Table::kLineitem, *lf));
        break;
      }
      case Table::kPart: SL_RETURN_IF_ERROR(gen.Part(*f, u.begin, u.end)); break;
      case Table::kPartsupp: SL_RETURN_IF_ERROR(gen.Partsupp(*f, u.begin, u.end)); break;
      case Table::kCustomer: SL_RETURN_IF_ERROR(gen.Customer(*f, u.begin, u.end)); break;
      case Table::kSupplier: SL_RETURN_IF_ERROR(gen.Supplier(*f, u.begin, u.end)); break;
      case Table::kNation:
      case Table::kRegion: SL_RETURN_IF_ERROR(gen.NationOrRegion(*f, u.table)); break;
      case Table::kLineitem: break;  // written with its orders
    }
    return finish(u.table, *f);
  };
  auto body = [&](size_t i) {
    if (failed.load()) return;  // an earlier file failed: the result is an error anyway
    Status s = run(units[i]);
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (first_error.ok()) first_error = s;
      failed.store(true);
    }
  };
  if (options.threads == 0) {
    ThreadPool::Default().ParallelFor(units.size(), body);
  } else {
    ThreadPool pool(static_cast<size_t>(options.threads));
    pool.ParallelFor(units.size(), body, static_cast<size_t>(options.threads));
  }
  if (!first_error.ok()) return first_error.WithContext("generate TPC-H into " + dir);
  return stats;
}

}  // namespace saleslake::datagen

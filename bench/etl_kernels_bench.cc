// Kernels of the ETL job (start-job) that run on every row: the keyed tokenization of PII
// columns. BM_TokenOpenSslEvp is the EVP path the tokenizer used before (context copy + update
// + final per digest), kept as the reference the direct SHA-256 compressions are measured
// against.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "etl/internal/sha256.h"
#include "etl/internal/pii.h"

using namespace saleslake;

namespace {

constexpr char kKeyHex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

// 4096 customer ids shaped like the generator's ("CUST-" + a UUID: 41 bytes).
std::vector<std::string> CustomerIds() {
  std::vector<std::string> ids;
  for (unsigned i = 0; i < 4096; ++i) {
    char b[64];
    std::snprintf(b, sizeof b, "CUST-%08x-%04x-4%03x-a%03x-%012x", i * 2654435761u, i & 0xffff,
                  i & 0xfff, (i * 7) & 0xfff, i * 40503u);
    ids.emplace_back(b);
  }
  return ids;
}

void BM_Token(benchmark::State& state) {
  auto t = etl::internal::Tokenizer::FromKeyHex(kKeyHex);
  auto ids = CustomerIds();
  char out[etl::internal::Tokenizer::kTokenSize];
  size_t i = 0;
  for (auto _ : state) {
    t->TokenInto(ids[i++ & 4095], out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Token);

// The batch call the job makes: 2048 ids per call.
void BM_TokensBatch(benchmark::State& state) {
  auto t = etl::internal::Tokenizer::FromKeyHex(kKeyHex);
  auto ids = CustomerIds();
  std::vector<std::string_view> views(ids.begin(), ids.begin() + 2048);
  std::vector<char> out(2048 * etl::internal::Tokenizer::kTokenSize);
  for (auto _ : state) {
    t->TokensInto(views.data(), views.size(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 2048);
}
BENCHMARK(BM_TokensBatch);

// HMAC over the portable compression, to compare with the SHA-NI one BM_Token uses.
void BM_HmacPortable(benchmark::State& state) {
  uint8_t ipad[64], opad[64];
  for (int k = 0; k < 64; ++k) {
    ipad[k] = static_cast<uint8_t>(k ^ 0x36);
    opad[k] = static_cast<uint8_t>(k ^ 0x5c);
  }
  uint32_t inner[8], outer[8];
  etl::internal::Sha256Init(inner);
  etl::internal::Sha256BlocksPortable(inner, ipad, 1);
  etl::internal::Sha256Init(outer);
  etl::internal::Sha256BlocksPortable(outer, opad, 1);
  auto ids = CustomerIds();
  size_t i = 0;
  for (auto _ : state) {
    uint8_t d[32], mac[32];
    etl::internal::Sha256Finish(&etl::internal::Sha256BlocksPortable, inner, 64, ids[i++ & 4095], d);
    etl::internal::Sha256Finish(&etl::internal::Sha256BlocksPortable, outer, 64,
                                std::string_view(reinterpret_cast<char*>(d), 32), mac);
    benchmark::DoNotOptimize(mac);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HmacPortable);

void BM_TokenOpenSslEvp(benchmark::State& state) {
  uint8_t ipad[64], opad[64];
  for (int k = 0; k < 64; ++k) {
    ipad[k] = static_cast<uint8_t>(k ^ 0x36);
    opad[k] = static_cast<uint8_t>(k ^ 0x5c);
  }
  EVP_MD_CTX* in = EVP_MD_CTX_new();
  EVP_MD_CTX* out = EVP_MD_CTX_new();
  EVP_MD_CTX* scratch = EVP_MD_CTX_new();
  EVP_DigestInit_ex(in, EVP_sha256(), nullptr);
  EVP_DigestUpdate(in, ipad, 64);
  EVP_DigestInit_ex(out, EVP_sha256(), nullptr);
  EVP_DigestUpdate(out, opad, 64);
  auto ids = CustomerIds();
  size_t i = 0;
  for (auto _ : state) {
    unsigned char d[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    const std::string& v = ids[i++ & 4095];
    EVP_MD_CTX_copy_ex(scratch, in);
    EVP_DigestUpdate(scratch, v.data(), v.size());
    EVP_DigestFinal_ex(scratch, d, &len);
    EVP_MD_CTX_copy_ex(scratch, out);
    EVP_DigestUpdate(scratch, d, len);
    EVP_DigestFinal_ex(scratch, mac, &len);
    benchmark::DoNotOptimize(mac);
  }
  EVP_MD_CTX_free(in);
  EVP_MD_CTX_free(out);
  EVP_MD_CTX_free(scratch);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TokenOpenSslEvp);

}  // namespace

BENCHMARK_MAIN();

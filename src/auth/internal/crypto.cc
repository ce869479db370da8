#include "auth/internal/crypto.h"

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <zlib.h>

#include <cstring>
#include <memory>

namespace saleslake::auth::internal {

Digest Sha256(std::string_view data) {
  Digest d;
  Sha256Of({data}, d.data());
  return d;
}

// HMAC as RFC 2104 defines it, over the per-thread SHA-256 of common/encoding.h: OpenSSL 3's
// HMAC() fetches the MAC and the digest by name and allocates two contexts per call, and SigV4
// verification makes one to five HMACs per request.
Digest HmacSha256(std::span<const uint8_t> key, std::string_view data) {
  constexpr size_t kBlock = 64;
  uint8_t k[kBlock] = {};
  if (key.size() > kBlock) {
    Sha256Of({std::string_view(reinterpret_cast<const char*>(key.data()), key.size())}, k);
  } else if (!key.empty()) {
    std::memcpy(k, key.data(), key.size());
  }
  char ipad[kBlock], opad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) {
    ipad[i] = static_cast<char>(k[i] ^ 0x36);
    opad[i] = static_cast<char>(k[i] ^ 0x5c);
  }
  Digest inner, d;
  Sha256Of({std::string_view(ipad, kBlock), data}, inner.data());
  Sha256Of({std::string_view(opad, kBlock),
            std::string_view(reinterpret_cast<const char*>(inner.data()), inner.size())},
           d.data());
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(ipad, sizeof ipad);
  OPENSSL_cleanse(opad, sizeof opad);
  return d;
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool FromBase64(std::string_view text, std::string* out) {
  if (text.size() % 4 != 0) return false;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=';
    if (!ok) return false;
  }
  out->assign(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out->data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return false;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out->resize(static_cast<size_t>(n) - pad);
  return true;
}

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return Status::Internal("no randomness available");
  }
  return out;
}

Result<std::string> RandomString(size_t n, std::string_view alphabet) {
  std::string out;
  out.reserve(n);
  // Rejection sampling: bytes above the largest multiple of the alphabet size are redrawn.
  const unsigned limit = 256 - 256 % alphabet.size();
  while (out.size() < n) {
    SL_ASSIGN_OR_RETURN(std::string raw, RandomBytes(n));
    for (unsigned char c : raw) {
      if (c < limit && out.size() < n) out.push_back(alphabet[c % alphabet.size()]);
    }
  }
  return out;
}

namespace {
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
constexpr size_t kNonce = 12;
constexpr size_t kTag = 16;
}  // namespace

Result<std::string> Seal(const Digest& key, std::string_view plaintext, std::string_view aad) {
  SL_ASSIGN_OR_RETURN(std::string nonce, RandomBytes(kNonce));
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string out = nonce;
  out.resize(kNonce + plaintext.size() + kTag);
  int len = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(),
                                      reinterpret_cast<const unsigned char*>(nonce.data())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                              reinterpret_cast<const unsigned char*>(aad.data()),
                              static_cast<int>(aad.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), o + kNonce, &len,
                              reinterpret_cast<const unsigned char*>(plaintext.data()),
                              static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), o + kNonce + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag,
                                o + kNonce + plaintext.size()) == 1;
  if (!ok) return Status::Internal("AES-GCM encryption failed");
  return Base64(out);
}

Result<std::string> Open(const Digest& key, std::string_view sealed, std::string_view aad) {
  std::string raw;
  if (!FromBase64(sealed, &raw) || raw.size() < kNonce + kTag) {
    return Status::Corruption("encrypted secret is not valid base64 of nonce|data|tag");
  }
  size_t n = raw.size() - kNonce - kTag;
  std::string out(n, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  auto* r = reinterpret_cast<unsigned char*>(raw.data());
  int len = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), r) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                              reinterpret_cast<const unsigned char*>(aad.data()),
                              static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                              r + kNonce, static_cast<int>(n)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, r + kNonce + n) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len,
                                &len) == 1;
  if (!ok) {
    return Status::Corruption("encrypted secret does not open with the lake key (key changed?)");
  }
  return out;
}

Result<std::string> Pbkdf2(std::string_view password, std::string_view salt, int iterations) {
  std::string out(32, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(), 32,
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    return Status::Internal("PBKDF2 failed");
  }
  return out;
}

uint32_t Crc32Update(uint32_t crc, std::string_view data) {
  uLong c = crc;
  while (!data.empty()) {
    uInt n = static_cast<uInt>(std::min<size_t>(data.size(), 1u << 30));
    c = crc32(c, reinterpret_cast<const Bytef*>(data.data()), n);
    data.remove_prefix(n);
  }
  return static_cast<uint32_t>(c);
}

namespace {
// Reflected table-driven CRCs; tables built once.
template <typename T, T kPoly>
struct CrcTable {
  std::array<T, 256> t{};
  constexpr CrcTable() {
    for (unsigned i = 0; i < 256; ++i) {
      T c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
      t[i] = c;
    }
  }
};
constexpr CrcTable<uint32_t, 0x82F63B78u> kCrc32c;
constexpr CrcTable<uint64_t, 0x9A6C9329AC4BC9B5ull> kCrc64Nvme;
}  // namespace

uint32_t Crc32cUpdate(uint32_t crc, std::string_view data) {
  uint32_t c = ~crc;
  for (unsigned char b : data) c = kCrc32c.t[(c ^ b) & 0xff] ^ (c >> 8);
  return ~c;
}

uint64_t Crc64NvmeUpdate(uint64_t crc, std::string_view data) {
  uint64_t c = ~crc;
  for (unsigned char b : data) c = kCrc64Nvme.t[(c ^ b) & 0xff] ^ (c >> 8);
  return ~c;
}

}  // namespace saleslake::auth::internal

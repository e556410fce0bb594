// DKIM key records (RFC 6376 §3.6.1) and signature checks against them (see dkim_key.hpp).
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <list>
#include <memory>
#include <unordered_map>

#include "reference-server/auth/dkim_key.hpp"
#include "reference-server/auth/tag_list.hpp"
#include "reference-server/core/base64.hpp"

namespace mailsim::auth {
namespace {

constexpr const char* bad_record = "bad key record";

struct pkey_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct pkey_ctx_free {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::vector<std::string> list_of(std::string_view value) {
  std::vector<std::string> out;
  for (std::string_view item : split_list(value, ':')) out.emplace_back(item);
  return out;
}

// Reads one DER element with tag `tag` from the front of `in` (X.690 §8.1: definite lengths
// only, at most 4 length octets); its contents go to `content`.
bool read_der(std::string_view& in, unsigned char tag, std::string_view& content) {
  if (in.size() < 2 || static_cast<unsigned char>(in[0]) != tag) return false;
  std::size_t length = static_cast<unsigned char>(in[1]);
  std::size_t header = 2;
  if (length >= 0x80) {
    std::size_t octets = length & 0x7f;
    if (octets == 0 || octets > 4 || in.size() < 2 + octets) return false;
    length = 0;
    for (std::size_t i = 0; i < octets; ++i) {
      length = (length << 8) | static_cast<unsigned char>(in[2 + i]);
    }
    header += octets;
  }
  if (in.size() - header < length) return false;
  content = in.substr(header, length);
  in.remove_prefix(header + length);
  return true;
}

// A positive INTEGER's magnitude (a leading 0x00 is allowed; a negative number is not).
bool read_unsigned(std::string_view& in, std::string_view& magnitude) {
  if (!read_der(in, 0x02, magnitude) || magnitude.empty() ||
      (static_cast<unsigned char>(magnitude[0]) & 0x80) != 0)
    return false;
  return true;
}

// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 §A.1.1).
bool read_rsa_public_key(std::string_view der, std::string_view& n, std::string_view& e) {
  std::string_view seq;
  return read_der(der, 0x30, seq) && der.empty() && read_unsigned(seq, n) &&
         read_unsigned(seq, e) && seq.empty();
}

// SubjectPublicKeyInfo (RFC 5280 §4.1) with rsaEncryption (RFC 8017 §A.1), parameters NULL or
// absent; gives the RSAPublicKey inside.
bool read_spki(std::string_view der, std::string_view& rsa_public_key) {
  static constexpr std::string_view rsa_encryption = "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01";
  std::string_view seq, alg, oid, bits, null_params;
  if (!read_der(der, 0x30, seq) || !der.empty() || !read_der(seq, 0x30, alg) ||
      !read_der(alg, 0x06, oid) || oid != rsa_encryption)
    return false;
  if (!alg.empty() && (!read_der(alg, 0x05, null_params) || !null_params.empty() || !alg.empty()))
    return false;
  if (!read_der(seq, 0x03, bits) || !seq.empty() || bits.empty() || bits[0] != 0) return false;
  rsa_public_key = bits.substr(1);
  return true;
}

pkey_ptr rsa_from(std::string_view n, std::string_view e) {
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn_n(
      BN_bin2bn(bytes_of(n), static_cast<int>(n.size()), nullptr), BN_free);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn_e(
      BN_bin2bn(bytes_of(e), static_cast<int>(e.size()), nullptr), BN_free);
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      OSSL_PARAM_BLD_free);
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return pkey_ptr(key);
}

// RFC 6376 §3.6.1 says p= is a SubjectPublicKeyInfo; some publishers put the bare PKCS#1
// RSAPublicKey there, and the common verifiers accept both, so this does too. The DER is read
// here rather than by d2i_PUBKEY because OpenSSL 3's decoder framework takes about 150 us per
// key, six times an RSA-2048 verification (bench/dkim_bench.cpp).
pkey_ptr decode_rsa(std::string_view der) {
  std::string_view inner, n, e;
  if (!read_spki(der, inner)) inner = der;
  if (!read_rsa_public_key(inner, n, e)) return nullptr;
  return rsa_from(n, e);
}

bool verify_rsa(EVP_PKEY* key, std::string_view digest, std::string_view signature) {
  std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free> ctx(EVP_PKEY_CTX_new(key, nullptr));
  return ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
         EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1 &&
         EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1 &&
         EVP_PKEY_verify(ctx.get(), bytes_of(signature), signature.size(), bytes_of(digest),
                         digest.size()) == 1;
}

bool verify_ed25519(EVP_PKEY* key, std::string_view digest, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), bytes_of(signature), signature.size(), bytes_of(digest),
                          digest.size()) == 1;
}

pkey_ptr decode(key_type type, std::string_view data) {
  if (type == key_type::rsa) return decode_rsa(data);
  if (data.size() != 32) return nullptr;
  return pkey_ptr(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes_of(data), data.size()));
}

// `key` is what decode() gave (nullptr when p= did not decode).
verify_outcome check(key_type type, EVP_PKEY* key, std::string_view digest,
                     std::string_view signature, unsigned rsa_bits_floor) {
  if (key == nullptr) return verify_outcome::bad_key;
  if (type == key_type::ed25519) {
    return verify_ed25519(key, digest, signature) ? verify_outcome::good
                                                  : verify_outcome::bad_signature;
  }
  // RFC 8301 §3.2: keys below 1024 bits are not to be considered valid. Far above the
  // 4096 bits verifiers must handle, a key only makes each verification slower.
  int bits = EVP_PKEY_get_bits(key);
  if (bits < static_cast<int>(rsa_bits_floor)) return verify_outcome::key_too_short;
  if (bits > static_cast<int>(2 * rsa_bits_max)) return verify_outcome::bad_key;
  return verify_rsa(key, digest, signature) ? verify_outcome::good : verify_outcome::bad_signature;
}

}  // namespace

key_record_result parse_key_record(std::string_view txt) {
  key_record_result out;
  tag_list tags = parse_tag_list(txt);
  if (!tags.ok()) return {{}, bad_record};
  // §3.6.1 v=: optional, but when present it must be "DKIM1" and the first tag.
  const tag* v = tags.find("v");
  if (v != nullptr && (v->value != "DKIM1" || &tags.tags.front() != v)) return {{}, bad_record};
  if (const tag* k = tags.find("k")) {
    if (k->value == "rsa") {
      out.record.type = key_type::rsa;
    } else if (k->value == "ed25519") {
      out.record.type = key_type::ed25519;  // RFC 8463 §4
    } else {
      return {{}, "unknown key type"};
    }
  }
  if (const tag* h = tags.find("h")) out.record.hashes = list_of(h->value);
  if (const tag* s = tags.find("s")) out.record.services = list_of(s->value);
  if (const tag* t = tags.find("t")) {
    for (std::string_view flag : split_list(t->value, ':')) {
      if (flag == "y") out.record.testing = true;
      if (flag == "s") out.record.strict_identity = true;
    }
  }
  const tag* p = tags.find("p");
  if (p == nullptr) return {{}, bad_record};
  std::optional<std::string> key = core::base64_decode(remove_fws(p->value));
  if (!key) return {{}, bad_record};
  out.record.public_key = std::move(*key);
  return out;
}

verify_outcome verify_digest(key_type type, std::string_view public_key_data,
                             std::string_view digest, std::string_view signature,
                             unsigned rsa_bits_floor) {
  pkey_ptr key = decode(type, public_key_data);
  verify_outcome outcome = check(type, key.get(), digest, signature, rsa_bits_floor);
  ERR_clear_error();  // a failed verification leaves errors in the thread's queue
  return outcome;
}

struct public_key_cache::impl {
  struct entry {
    std::string id;  // the key type's name, a NUL, then p= data
    pkey_ptr key;    // nullptr: p= did not decode (remembered too)
  };
  std::size_t entries_max;
  std::list<entry> entries;  // most recently used first
  std::unordered_map<std::string_view, std::list<entry>::iterator> index;
};

public_key_cache::public_key_cache(std::size_t entries_max) : impl_(std::make_unique<impl>()) {
  impl_->entries_max = entries_max == 0 ? 1 : entries_max;
}

public_key_cache::~public_key_cache() = default;

std::size_t public_key_cache::size() const {
  return impl_->entries.size();
}

verify_outcome public_key_cache::verify(key_type type, std::string_view public_key_data,
                                        std::string_view digest, std::string_view signature,
                                        unsigned rsa_bits_floor) {
  std::string id = std::string(to_string(type)) + '\0';
  id.append(public_key_data);
  auto found = impl_->index.find(id);
  if (found != impl_->index.end()) {
    impl_->entries.splice(impl_->entries.begin(), impl_->entries, found->second);
  } else {
    if (impl_->entries.size() >= impl_->entries_max) {
      impl_->index.erase(impl_->entries.back().id);
      impl_->entries.pop_back();
    }
    impl_->entries.push_front({std::move(id), decode(type, public_key_data)});
    impl_->index.emplace(impl_->entries.front().id, impl_->entries.begin());
  }
  verify_outcome outcome =
      check(type, impl_->entries.front().key.get(), digest, signature, rsa_bits_floor);
  ERR_clear_error();
  return outcome;
}

}  // namespace mailsim::auth

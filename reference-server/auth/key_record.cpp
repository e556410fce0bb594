// DKIM key records (RFC 6376 §3.6.1) and signature checks against them (see dkim_key.hpp).
//
// RSA verification goes through OpenSSL's RSA_* functions, deprecated since OpenSSL 3.0 (see
// rsa_from() for why); the define keeps their deprecation warnings out of this file only.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <limits>
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
struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct rsa_free {
  void operator()(RSA* r) const { RSA_free(r); }
};
struct bn_free {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using rsa_ptr = std::unique_ptr<RSA, rsa_free>;
using bn_ptr = std::unique_ptr<BIGNUM, bn_free>;

// p= decoded as the key type the record names: `rsa` for k=rsa, `ed25519` for k=ed25519;
// neither when p= does not decode as such a key.
struct public_key {
  rsa_ptr rsa;
  pkey_ptr ed25519;
};

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::vector<std::string> list_of(std::string_view value) {
  std::vector<std::string> out;
  for (std::string_view item : split_list(value, ':')) out.emplace_back(item);
  return out;
}

// Whether remove_fws() would remove anything from `value`. (A plain loop: find_first_of with
// a set of four calls memchr once per character.)
bool has_fws(std::string_view value) {
  return std::any_of(value.begin(), value.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
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

// The key as OpenSSL's RSA object rather than an EVP_PKEY. With PKCS#1 v1.5 padding,
// EVP_PKEY_verify() ends in RSA_verify() on the same kind of object (OpenSSL 3.0's default
// provider calls it), so calling RSA_verify() directly gives the same answers without what EVP
// adds around it: per key, OSSL_PARAM and EVP_PKEY_fromdata() (6-10 us on the benchmark
// machine); per verification, an EVP_PKEY_CTX with the signature algorithm and SHA-256 fetched
// by name (about 5 us). Measured: a DKIM check with a key seen the first time takes about a
// third less time (docs/benchmarks.md, DKIM section). What stays per key is the Montgomery
// set-up for n (about 6 us), kept in the RSA object after its first verification as the EVP
// key kept it. No check is made on n and e here, as EVP_PKEY_fromdata() made none: RSA_verify()
// refuses what it cannot use, and check() bounds the size.
rsa_ptr rsa_from(std::string_view n, std::string_view e) {
  bn_ptr bn_n(BN_bin2bn(bytes_of(n), static_cast<int>(n.size()), nullptr));
  bn_ptr bn_e(BN_bin2bn(bytes_of(e), static_cast<int>(e.size()), nullptr));
  rsa_ptr rsa(RSA_new());
  if (!bn_n || !bn_e || !rsa || RSA_set0_key(rsa.get(), bn_n.get(), bn_e.get(), nullptr) != 1)
    return nullptr;
  bn_n.release();  // owned by `rsa` now
  bn_e.release();
  return rsa;
}

// RFC 6376 §3.6.1 says p= is a SubjectPublicKeyInfo; some publishers put the bare PKCS#1
// RSAPublicKey there, and the common verifiers accept both, so this does too. The DER is read
// here rather than by d2i_PUBKEY because OpenSSL 3's decoder framework takes about 150 us per
// key, six times an RSA-2048 verification (bench/dkim_bench.cpp).
rsa_ptr decode_rsa(std::string_view der) {
  std::string_view inner, n, e;
  if (!read_spki(der, inner)) inner = der;
  if (!read_rsa_public_key(inner, n, e)) return nullptr;
  return rsa_from(n, e);
}

// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2.2): RSA_verify() refuses a signature whose
// length is not the modulus's, then compares the DigestInfo it recovers with one made of
// `digest`. Not const: the first verification stores the Montgomery set-up for n in `key`.
bool verify_rsa(RSA* key, std::string_view digest, std::string_view signature) {
  // RSA_verify() takes unsigned int lengths; nothing that long can match anyway.
  constexpr std::size_t length_max = std::numeric_limits<int>::max();
  if (digest.size() > length_max || signature.size() > length_max) return false;
  return RSA_verify(NID_sha256, bytes_of(digest), static_cast<unsigned>(digest.size()),
                    bytes_of(signature), static_cast<unsigned>(signature.size()), key) == 1;
}

bool verify_ed25519(EVP_PKEY* key, std::string_view digest, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), bytes_of(signature), signature.size(), bytes_of(digest),
                          digest.size()) == 1;
}

public_key decode(key_type type, std::string_view data) {
  public_key out;
  if (type == key_type::rsa) {
    out.rsa = decode_rsa(data);
  } else if (data.size() == 32) {
    out.ed25519.reset(
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes_of(data), data.size()));
  }
  return out;
}

// `key` is what decode() gave for `type`.
verify_outcome check(key_type type, const public_key& key, std::string_view digest,
                     std::string_view signature, unsigned rsa_bits_floor) {
  if (type == key_type::ed25519) {
    if (!key.ed25519) return verify_outcome::bad_key;
    return verify_ed25519(key.ed25519.get(), digest, signature) ? verify_outcome::good
                                                                : verify_outcome::bad_signature;
  }
  if (!key.rsa) return verify_outcome::bad_key;
  // RFC 8301 §3.2: keys below 1024 bits are not to be considered valid. Far above the
  // 4096 bits verifiers must handle, a key only makes each verification slower.
  int bits = RSA_bits(key.rsa.get());
  if (bits < static_cast<int>(rsa_bits_floor)) return verify_outcome::key_too_short;
  if (bits > static_cast<int>(2 * rsa_bits_max)) return verify_outcome::bad_key;
  return verify_rsa(key.rsa.get(), digest, signature) ? verify_outcome::good
                                                      : verify_outcome::bad_signature;
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
  // Published records rarely fold p=; copying it without white space only when it has some
  // saves a copy of the longest value in the record.
  std::optional<std::string> key = has_fws(p->value) ? core::base64_decode(remove_fws(p->value))
                                                     : core::base64_decode(p->value);
  if (!key) return {{}, bad_record};
  out.record.public_key = std::move(*key);
  return out;
}

verify_outcome verify_digest(key_type type, std::string_view public_key_data,
                             std::string_view digest, std::string_view signature,
                             unsigned rsa_bits_floor) {
  public_key key = decode(type, public_key_data);
  verify_outcome outcome = check(type, key, digest, signature, rsa_bits_floor);
  ERR_clear_error();  // a failed verification leaves errors in the thread's queue
  return outcome;
}

struct public_key_cache::impl {
  struct entry {
    std::string id;  // the key type's name, a NUL, then p= data
    public_key key;  // empty: p= did not decode (remembered too)
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
      check(type, impl_->entries.front().key, digest, signature, rsa_bits_floor);
  ERR_clear_error();
  return outcome;
}

}  // namespace mailsim::auth

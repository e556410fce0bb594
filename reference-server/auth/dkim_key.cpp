// Private keys: loading, exporting, signing and generation (see dkim_key.hpp).
#include "reference-server/auth/dkim_key.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstdint>
#include <vector>

#include "reference-server/auth/error.hpp"
#include "reference-server/core/ascii.hpp"
#include "reference-server/core/base64.hpp"

namespace mailsim::auth {

struct private_key::impl {
  EVP_PKEY* pkey = nullptr;
  key_type type = key_type::rsa;
  unsigned bits = 0;

  impl() = default;
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  ~impl() { EVP_PKEY_free(pkey); }
};

struct private_key_factory {
  // Takes ownership of `pkey`; checks that DKIM can use it.
  static private_key_result make(EVP_PKEY* pkey) {
    auto p = std::make_shared<private_key::impl>();
    p->pkey = pkey;
    int id = EVP_PKEY_get_base_id(pkey);
    if (id == EVP_PKEY_ED25519) {
      p->type = key_type::ed25519;
      p->bits = 256;
    } else if (id == EVP_PKEY_RSA) {
      p->type = key_type::rsa;
      p->bits = static_cast<unsigned>(EVP_PKEY_get_bits(pkey));
      if (p->bits < rsa_bits_min || p->bits > rsa_bits_max) return {{}, errc::key_size};
    } else {
      return {{}, errc::key_unsupported};
    }
    return {private_key(std::move(p)), {}};
  }
};

namespace {

using core::trim;

struct bio_free {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct pkey_ctx_free {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct bn_free {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct bn_ctx_free {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
using bio_ptr = std::unique_ptr<BIO, bio_free>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_free>;
using bn_ptr = std::unique_ptr<BIGNUM, bn_free>;
using bn_ctx_ptr = std::unique_ptr<BN_CTX, bn_ctx_free>;

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// OpenSSL's default passphrase callback would prompt on the terminal; a key file that needs
// a passphrase is refused instead.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

private_key_result load_pem(std::string_view text) {
  if (text.find("ENCRYPTED") != std::string_view::npos) return {{}, errc::key_encrypted};
  bio_ptr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  EVP_PKEY* pkey =
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr;
  if (pkey == nullptr) {
    ERR_clear_error();  // leave nothing behind for the next OpenSSL user (TLS) to misread
    return {{}, errc::key_unreadable};
  }
  return private_key_factory::make(pkey);
}

EVP_PKEY* ed25519_from_seed(std::string_view seed) {
  return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, bytes_of(seed), seed.size());
}

// RFC 8463 Appendix A.1 prints the private key as the base64 of its 32-byte seed.
private_key_result load_seed(std::string_view text) {
  std::optional<std::string> seed = core::base64_decode(text);
  if (!seed || seed->size() != 32) return {{}, errc::key_unreadable};
  EVP_PKEY* pkey = ed25519_from_seed(*seed);
  OPENSSL_cleanse(seed->data(), seed->size());
  if (pkey == nullptr) {
    ERR_clear_error();
    return {{}, errc::key_unreadable};
  }
  return private_key_factory::make(pkey);
}

std::string der_public_key(EVP_PKEY* pkey) {
  int len = i2d_PUBKEY(pkey, nullptr);
  if (len <= 0) return {};
  std::string out(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  if (i2d_PUBKEY(pkey, &p) != len) return {};
  return out;
}

std::string raw_public_key(EVP_PKEY* pkey) {
  std::string out(32, '\0');
  std::size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(out.data()), &len) != 1)
    return {};
  out.resize(len);
  return out;
}

std::string sign_rsa(EVP_PKEY* pkey, std::string_view digest) {
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new(pkey, nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_sign(ctx.get(), nullptr, &len, bytes_of(digest), digest.size()) != 1) {
    return {};
  }
  std::string out(len, '\0');
  if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, bytes_of(digest),
                    digest.size()) != 1) {
    return {};
  }
  out.resize(len);
  return out;
}

std::string sign_ed25519(EVP_PKEY* pkey, std::string_view digest) {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  std::string out(64, '\0');
  std::size_t len = out.size();
  // PureEdDSA: no pre-hash inside Ed25519 (RFC 8032 §5.1); the input is DKIM's digest.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                     bytes_of(digest), digest.size()) != 1) {
    return {};
  }
  out.resize(len);
  return out;
}

// ---- RSA generation from the injected random source ----

// A random odd number of exactly `bits` bits whose two top bits are set, so that the
// product of two of them has exactly twice as many bits.
bn_ptr random_candidate(unsigned bits, core::random_source& random) {
  std::vector<std::uint8_t> bytes((bits + 7) / 8);
  random.fill(bytes);
  bn_ptr x(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  OPENSSL_cleanse(bytes.data(), bytes.size());
  // (BN_mask_bits fails on a number that is already short enough.)
  if (!x ||
      (BN_num_bits(x.get()) > static_cast<int>(bits) &&
       BN_mask_bits(x.get(), static_cast<int>(bits)) != 1) ||
      BN_set_bit(x.get(), static_cast<int>(bits) - 1) != 1 ||
      BN_set_bit(x.get(), static_cast<int>(bits) - 2) != 1 || BN_set_bit(x.get(), 0) != 1) {
    return nullptr;
  }
  BN_set_flags(x.get(), BN_FLG_CONSTTIME);
  return x;
}

// Walks odd numbers up from a random start until one is prime and p-1 is coprime with e.
bn_ptr random_prime(unsigned bits, const BIGNUM* e, BN_CTX* ctx, core::random_source& random) {
  bn_ptr gcd(BN_new());
  bn_ptr p_minus_1(BN_new());
  if (!gcd || !p_minus_1) return nullptr;
  for (int draw = 0; draw < 64; ++draw) {
    bn_ptr p = random_candidate(bits, random);
    if (!p) return nullptr;
    for (int step = 0; step < 20000 && BN_num_bits(p.get()) == static_cast<int>(bits); ++step) {
      int prime = BN_check_prime(p.get(), ctx, nullptr);
      if (prime < 0) return nullptr;
      if (prime == 1 && BN_sub(p_minus_1.get(), p.get(), BN_value_one()) == 1 &&
          BN_gcd(gcd.get(), p_minus_1.get(), e, ctx) == 1 && BN_is_one(gcd.get())) {
        return p;
      }
      if (BN_add_word(p.get(), 2) != 1) return nullptr;
    }
  }
  return nullptr;
}

// FIPS 186 asks for |p - q| > 2^(nlen/2 - 100), so that n cannot be factored by
// searching near its square root.
bool far_enough_apart(const BIGNUM* p, const BIGNUM* q, unsigned bits) {
  bn_ptr diff(BN_new());
  if (!diff || BN_sub(diff.get(), p, q) != 1) return false;
  BN_set_negative(diff.get(), 0);
  return BN_num_bits(diff.get()) > static_cast<int>(bits / 2 - 100);
}

struct rsa_parts {
  bn_ptr n, e, d, p, q, dmp1, dmq1, iqmp;
};

bool derive_private_parts(rsa_parts& k, BN_CTX* ctx) {
  bn_ptr p1(BN_new()), q1(BN_new()), g(BN_new()), pq(BN_new()), lambda(BN_new()), rem(BN_new());
  k.n.reset(BN_new());
  k.dmp1.reset(BN_new());
  k.dmq1.reset(BN_new());
  if (!p1 || !q1 || !g || !pq || !lambda || !rem || !k.n || !k.dmp1 || !k.dmq1) return false;
  BN_set_flags(lambda.get(), BN_FLG_CONSTTIME);
  // d = e^-1 mod lcm(p-1, q-1), the smallest private exponent, as FIPS 186 specifies.
  if (BN_mul(k.n.get(), k.p.get(), k.q.get(), ctx) != 1 ||
      BN_sub(p1.get(), k.p.get(), BN_value_one()) != 1 ||
      BN_sub(q1.get(), k.q.get(), BN_value_one()) != 1 ||
      BN_gcd(g.get(), p1.get(), q1.get(), ctx) != 1 ||
      BN_mul(pq.get(), p1.get(), q1.get(), ctx) != 1 ||
      BN_div(lambda.get(), rem.get(), pq.get(), g.get(), ctx) != 1) {
    return false;
  }
  k.d.reset(BN_mod_inverse(nullptr, k.e.get(), lambda.get(), ctx));
  if (!k.d) return false;
  BN_set_flags(k.d.get(), BN_FLG_CONSTTIME);
  k.iqmp.reset(BN_mod_inverse(nullptr, k.q.get(), k.p.get(), ctx));
  return k.iqmp && BN_mod(k.dmp1.get(), k.d.get(), p1.get(), ctx) == 1 &&
         BN_mod(k.dmq1.get(), k.d.get(), q1.get(), ctx) == 1;
}

EVP_PKEY* rsa_from_parts(const rsa_parts& k) {
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      OSSL_PARAM_BLD_free);
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, k.n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, k.e.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, k.d.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, k.p.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, k.q.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, k.dmp1.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, k.dmq1.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, k.iqmp.get()) != 1) {
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 OSSL_PARAM_free);
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    return nullptr;
  }
  return pkey;
}

EVP_PKEY* generate_rsa(unsigned bits, core::random_source& random) {
  bn_ctx_ptr ctx(BN_CTX_secure_new());
  rsa_parts k;
  k.e.reset(BN_new());
  if (!ctx || !k.e || BN_set_word(k.e.get(), RSA_F4) != 1) return nullptr;
  k.p = random_prime(bits / 2, k.e.get(), ctx.get(), random);
  if (!k.p) return nullptr;
  for (int tries = 0; tries < 16 && !k.q; ++tries) {
    k.q = random_prime(bits / 2, k.e.get(), ctx.get(), random);
    if (k.q && !far_enough_apart(k.p.get(), k.q.get(), bits)) k.q.reset();
  }
  if (!k.q || !derive_private_parts(k, ctx.get())) return nullptr;
  return rsa_from_parts(k);
}

EVP_PKEY* generate_ed25519(core::random_source& random) {
  std::uint8_t seed[32];
  random.fill(seed);
  EVP_PKEY* pkey =
      ed25519_from_seed(std::string_view(reinterpret_cast<const char*>(seed), sizeof seed));
  OPENSSL_cleanse(seed, sizeof seed);
  return pkey;
}

}  // namespace

const char* to_string(key_type t) {
  return t == key_type::rsa ? "rsa" : "ed25519";
}

private_key_result private_key::load(std::string_view text) {
  text = trim(text);
  if (text.find("-----BEGIN") != std::string_view::npos) return load_pem(text);
  return load_seed(text);
}

key_type private_key::type() const {
  return impl_->type;
}

unsigned private_key::bits() const {
  return impl_->bits;
}

std::string private_key::public_key_data() const {
  return impl_->type == key_type::rsa ? der_public_key(impl_->pkey) : raw_public_key(impl_->pkey);
}

std::string private_key::dns_record() const {
  return std::string("v=DKIM1; k=") + to_string(impl_->type) +
         "; p=" + core::base64_encode(public_key_data());
}

std::string private_key::pem() const {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->pkey, nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    ERR_clear_error();
    return {};
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  std::string out(data, static_cast<std::size_t>(len));
  OPENSSL_cleanse(data, static_cast<std::size_t>(len));
  return out;
}

std::string private_key::sign_digest(std::string_view digest) const {
  std::string sig = impl_->type == key_type::rsa ? sign_rsa(impl_->pkey, digest)
                                                 : sign_ed25519(impl_->pkey, digest);
  if (sig.empty()) ERR_clear_error();
  return sig;
}

private_key_result generate_key(key_type type, unsigned rsa_bits, core::random_source& random) {
  if (type == key_type::rsa &&
      (rsa_bits < rsa_bits_min || rsa_bits > rsa_bits_max || rsa_bits % 16 != 0)) {
    return {{}, errc::key_size};
  }
  EVP_PKEY* pkey =
      type == key_type::rsa ? generate_rsa(rsa_bits, random) : generate_ed25519(random);
  if (pkey == nullptr) {
    ERR_clear_error();
    return {{}, errc::crypto_failure};
  }
  return private_key_factory::make(pkey);
}

}  // namespace mailsim::auth

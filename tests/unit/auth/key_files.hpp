// Key files made once with the openssl CLI (genrsa -traditional 1024, genpkey EC P-256,
// pkcs8 -topk8 with a passphrase, genrsa 512): formats private_key::load() must accept or refuse.
#pragma once

#include <string_view>

namespace mailsim::auth::test {

constexpr std::string_view traditional_rsa_1024_pem =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIICXQIBAAKBgQDvGKYJKPG/9UAtb3hogwcGrgkgZ6LY0HCkRTH0fGT1e5IomTqs\n"
    "d6EO6MQmQa7Dhmfj39uxBC+FFkxJAt/frc6giuc9iyITQNJH3ObBVYtaE2TlA2qI\n"
    "RJVAAObJ8DTgB9AXNiA3hI/lG/hUTio3TRnmrhLEEAbL5L36u+n6eUQ3OwIDAQAB\n"
    "AoGBAI3O2rtYE3o8paHNGWczP3mQw0z66rUZe5WSjLxrAx4t+lQl/YzJLzc+iwf9\n"
    "sP+6ueeHoC9vQhf3T6uGDu4FkiS0gqr2W5LdGie2ocHpOZYCnNMPCLZtszDspZkk\n"
    "FSQ8jwV9DpfH7NMXNv/G9PYRPtbFuzRxKJKN4CqGkjpA9fMhAkEA+QBawxX4woLG\n"
    "MbSepcfU5j4I78MoIle12Z423l3mlFCJPsuiGbq/OmJLtQOIaUi5zK+yig4hTixL\n"
    "BMKea7MDcwJBAPXRBgyyYVQdFAuUZVgbTeDn9wqALcmHWiEF9uqZIRaIzRK9tGvK\n"
    "SZctHHZK9zC1vNkMl6cNkohuQDILaoV1WxkCQQDfP8Egnmd9xhB66k0/p+4rTL1o\n"
    "cppeSDOkXKUnNBuTKK4U3jCFTxk6+HyWXAeHFgx4B6NVAhw8YZwVNYUiXMsfAkBA\n"
    "Nro91ttV/cKew8U1nuxZND90nsdXPeRtfAFkh1v9Zv8rRiM7hTx0IXSt8idgshkD\n"
    "GicDnKgKu8JJUHIjKuUBAkBrYjQNiWzWlEg159h/sSkJPQsgIZCqvx5j0Rc8uKkX\n"
    "CsdR4TIMsLybR/NZeZxwt0pjs3kaG99nVt5EbqZkXbee\n"
    "-----END RSA PRIVATE KEY-----\n";

constexpr std::string_view ec_p256_pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWpxonO5q2j+IEFTl\n"
    "mP1AmSroIjbABWjsckPmZoRO6/ehRANCAATl8mbXeypwdp20HJ6QsI9NjfcDF41y\n"
    "ZHI2Y78hf5CFrzq7d0/+yqfX8uUo9qen0c1oo4OzOTiL0cmsu7nJM22B\n"
    "-----END PRIVATE KEY-----\n";

constexpr std::string_view encrypted_pkcs8_pem =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjMMbCZZn8CzgICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEDmrjt0cWTSz4NtkavgZzocEgZBL\n"
    "xgNdK0uiKmGaR0I2IavhYztEbitWWDIPKpYUwVyKIz52TCkOUv5bISBaQeYnt93a\n"
    "/5p1uElPafCS+XrCD9v+cyGWpVvs257cuecj6ZZu1GzoqLGRYyIe1KTCzPV3BNl0\n"
    "mPMgq/S8moz/G20SIS+O2eD6zLIa2DvvWXrddwmZvkD4ZFaXOe4LhyTUMTZulMw=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

constexpr std::string_view rsa_512_pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEAuaPHHp7Bjybgqvif\n"
    "cuS8fKi368yPbbNdVMD8ZEPi9d+eAIv7lIR7Yxock/F2QpNV+vBuD8whT/4WoQWb\n"
    "J82+GwIDAQABAkAeltUlv4UngIF+yq8DcJt6cxazXSa5LdgQMiikoOcSGnnF2C6o\n"
    "YzHMQeM5f+Y6NVSmfQTyhrg0kS0umyyjhSFxAiEA7Tt1ho8g4hSY5o5y9WQ9ERpn\n"
    "jTtVQ5huq51A1ubLMckCIQDIU3FVaFdKhXBSLMWaljvvZd1O7k/ICwUHaF41hylC\n"
    "wwIgY36SddLFecwlrFyF/kECE5A9adA+nFDr6XHUZcz533ECIQCGFNuhl8H9Xg0M\n"
    "42yriGy7UonrH7UEpuOJzsBnwXzLcwIgHjoTdHJkeTMAERUuQulJzHaxWojY0bxh\n"
    "txOQh0Tsx0I=\n"
    "-----END PRIVATE KEY-----\n";

}  // namespace mailsim::auth::test

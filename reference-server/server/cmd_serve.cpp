// mailsim-server --config FILE [--check-config]: load the config, then serve.
#include <cstdio>

#include "reference-server/config/config.hpp"
#include "reference-server/server/commands.hpp"
#include "reference-server/server/server.hpp"

namespace mailsim::server {

int cmd_serve(const args& a) {
  std::string path;
  bool check_only = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] == "--config" && i + 1 < a.size()) {
      path = a[++i];
    } else if (a[i] == "--check-config") {
      check_only = true;
    } else {
      std::fprintf(stderr, "mailsim-server: unknown argument '%s' (see --help)\n", a[i].c_str());
      return 2;
    }
  }
  if (path.empty()) {
    std::fputs("mailsim-server: --config FILE is required\n", stderr);
    return 2;
  }
  config::load_result loaded = config::load_file(path);
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().to_string().c_str());
    return 2;
  }
  if (check_only) {
    std::printf("%s: ok\n", path.c_str());
    return 0;
  }
  smtp_server server(loaded.config());
  std::string error = server.start();
  if (!error.empty()) {
    std::fprintf(stderr, "mailsim-server: %s\n", error.c_str());
    return 1;
  }
  server.run();
  return 0;
}

}  // namespace mailsim::server

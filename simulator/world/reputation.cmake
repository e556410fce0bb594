# mailsim_sim_reputation: what a receiving provider thinks of its senders (reputation.hpp)
# and the DNSBL operators that list them (dnsbl_operator.hpp). include()d by
# simulator/world/CMakeLists.txt.
mailsim_add_library(mailsim_sim_reputation
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/reputation.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/dnsbl_operator.cpp
  DEPS mailsim_core mailsim_sim_engine mailsim_sim_dns mailsim_sim_metrics)

# Unit tests of the reputation book and the DNSBL operators (simulator/world).
mailsim_add_test(sim_world_reputation_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/reputation_test.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/dnsbl_operator_test.cpp
  DEPS mailsim_sim_reputation)

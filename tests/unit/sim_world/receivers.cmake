# Unit tests of the simulated receivers: populations, throttles, profiles, and providers
# driven over the virtual network by a scripted client and by the reference delivery
# engine. include()d by tests/unit/sim_world/CMakeLists.txt. The provider tests link the
# reputation book (mailsim_sim_reputation), another part of simulator/world.
if(TARGET mailsim_sim_receivers)
  set(sim_receivers_sources ${CMAKE_CURRENT_LIST_DIR}/population_test.cpp
                            ${CMAKE_CURRENT_LIST_DIR}/throttle_test.cpp
                            ${CMAKE_CURRENT_LIST_DIR}/profiles_test.cpp)
  set(sim_receivers_deps mailsim_sim_receivers)
  if(TARGET mailsim_sim_reputation AND TARGET mailsim_sim_dns)
    list(APPEND sim_receivers_sources ${CMAKE_CURRENT_LIST_DIR}/receiver_mailbox_test.cpp
                                      ${CMAKE_CURRENT_LIST_DIR}/receiver_policy_test.cpp
                                      ${CMAKE_CURRENT_LIST_DIR}/receiver_reputation_test.cpp
                                      ${CMAKE_CURRENT_LIST_DIR}/receiver_auth_test.cpp)
    list(APPEND sim_receivers_deps mailsim_sim_reputation mailsim_sim_dns)
    if(TARGET mailsim_queue)
      list(APPEND sim_receivers_sources ${CMAKE_CURRENT_LIST_DIR}/receiver_engine_test.cpp)
      list(APPEND sim_receivers_deps mailsim_queue)
    endif()
  endif()
  mailsim_add_test(sim_world_receivers_test SOURCES ${sim_receivers_sources}
                   DEPS ${sim_receivers_deps})
endif()

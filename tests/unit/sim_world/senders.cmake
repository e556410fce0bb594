# Unit tests of the sending side of simulator/world (senders, workloads, world DNS, faults)
# and, once the receivers link, of the whole world and of accept-then-bounce reports
# travelling back to the senders (bounce_test.cpp).
if(TARGET mailsim_sim_senders)
  set(sim_world_sources ${CMAKE_CURRENT_LIST_DIR}/sender_test.cpp
                        ${CMAKE_CURRENT_LIST_DIR}/workload_test.cpp)
  set(sim_world_deps mailsim_sim_senders)
  if(TARGET mailsim_sim_world)
    list(APPEND sim_world_sources ${CMAKE_CURRENT_LIST_DIR}/world_test.cpp
                                  ${CMAKE_CURRENT_LIST_DIR}/bounce_test.cpp)
    list(APPEND sim_world_deps mailsim_sim_world)
  endif()
  mailsim_add_test(sim_world_test SOURCES ${sim_world_sources} DEPS ${sim_world_deps})
endif()

# mailsim_sim_receivers: the simulated receiving providers (receiver.hpp), their profiles,
# mailbox populations and throttles. include()d by simulator/world/CMakeLists.txt.
mailsim_add_library(mailsim_sim_receivers
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/spec.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/population.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/profiles.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/throttle.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/receiver.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/receiver_session.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/receiver_message.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/receiver_fcrdns.cpp
  DEPS mailsim_sim_engine mailsim_sim_network mailsim_sim_metrics mailsim_smtp mailsim_policy
       mailsim_core)
# The reputation book (reputation.hpp) is another part of simulator/world.
if(TARGET mailsim_sim_reputation)
  target_link_libraries(mailsim_sim_receivers PUBLIC mailsim_sim_reputation)
endif()

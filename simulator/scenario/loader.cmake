# The scenario YAML loader (scenario.hpp): typed model, units, file:line:column errors,
# --set overrides. yaml-cpp stays private: it never appears in a public header.
mailsim_add_library(mailsim_sim_scenario_loader
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/loader.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/loader_values.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/loader_world.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/loader_traffic.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/units.cpp
  DEPS mailsim_sim_metrics mailsim_core
  PRIVATE_DEPS yaml-cpp)

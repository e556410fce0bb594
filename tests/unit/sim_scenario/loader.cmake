# Unit tests of the scenario loader: units, every key, shorthands, errors, overrides, files.
mailsim_add_test(sim_scenario_loader_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/loader_keys_test.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/loader_errors_test.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/loader_overrides_files_test.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/units_test.cpp
  DEPS mailsim_sim_scenario_loader)
# The shipped scenarios must load: the test walks the source tree's scenarios/ folder.
target_compile_definitions(sim_scenario_loader_test
  PRIVATE MAILSIM_SCENARIOS_DIR="${PROJECT_SOURCE_DIR}/scenarios")

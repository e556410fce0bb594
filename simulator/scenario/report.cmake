# The reports of a judged run: JSON, JUnit XML and text (report.hpp). Needs only runner.hpp's
# plain structs, never the runner itself.
mailsim_add_library(mailsim_sim_report
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/report.cpp
  DEPS mailsim_sim_metrics
  PRIVATE_DEPS nlohmann_json::nlohmann_json)

# Tests of the documentation, the privilege drop and the package,
# included from the top-level CMakeLists.txt when tests are built.
find_program(PXEPROXY_BASH bash REQUIRED)
find_package(GTest REQUIRED)
include(GoogleTest)

# Every flag of `pxeproxy --helpfull` in man/pxeproxy.8 and README.md, and
# no flag there that the binary lacks.
add_test(NAME docs_drift
         COMMAND ${PXEPROXY_BASH} ${CMAKE_SOURCE_DIR}/tests/docs_drift_test.sh
                 $<TARGET_FILE:pxeproxy> ${CMAKE_SOURCE_DIR})
set_tests_properties(docs_drift PROPERTIES LABELS unit)

# Nothing refers to notes outside the repository or to tracker issues, and
# every docs/protocol.md citation names a section the file has.
add_test(NAME docs_refs
         COMMAND ${PXEPROXY_BASH} ${CMAKE_SOURCE_DIR}/tests/docs_refs_test.sh
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(docs_refs PROPERTIES LABELS unit)

# The man page renders without a single groff warning.
add_test(NAME man_page_renders
         COMMAND ${PXEPROXY_BASH} -c
                 "out=$(groff -man -ww -z \"$1\" 2>&1) && [ -z \"$out\" ] || { echo \"$out\"; exit 1; }"
                 _ ${CMAKE_SOURCE_DIR}/man/pxeproxy.8)
set_tests_properties(man_page_renders PROPERTIES LABELS unit)

# privdrop's decisions; as root, the switch itself in a forked child.
add_executable(privdrop_test tests/privdrop_test.cc)
target_link_libraries(privdrop_test PRIVATE privdrop GTest::gmock
                      GTest::gtest_main)
gtest_discover_tests(privdrop_test DISCOVERY_TIMEOUT 60
                     PROPERTIES LABELS unit)

# Root in network namespaces: --user=nobody leaves only CAP_NET_RAW.
add_test(NAME privdrop_netns
         COMMAND ${PXEPROXY_BASH} ${CMAKE_SOURCE_DIR}/tests/privdrop_netns_test.sh
                 $<TARGET_FILE:pxeproxy>)
set_tests_properties(privdrop_netns PROPERTIES LABELS netns
                     SKIP_RETURN_CODE 77 TIMEOUT 60)

# The package under a real systemd (systemd-nspawn --boot of a mmdebstrap
# tree): Type=notify, CapEff, a DISCOVER through a veth, the journal,
# reload, the watchdog, stop. Builds the .deb unless PXEPROXY_DEB names one;
# scripts/test runs it after the package test, on that test's .deb.
add_test(NAME systemd.nspawn
         COMMAND ${PXEPROXY_BASH} ${CMAKE_SOURCE_DIR}/tests/systemd/nspawn_test.sh
                 $<TARGET_FILE:dhcp_probe> ${CMAKE_SOURCE_DIR}/tests/fixtures/captures)
set_tests_properties(systemd.nspawn PROPERTIES LABELS systemd
                     SKIP_RETURN_CODE 77 TIMEOUT 900 RUN_SERIAL TRUE)

# clang-tidy (bugprone, performance, functions of at most 60 lines) and files
# of at most 400 lines over the product code. Label lint: once, not again
# under ASan.
add_test(NAME lint.clang_tidy
         COMMAND ${PXEPROXY_BASH} ${CMAKE_SOURCE_DIR}/tests/lint_test.sh
                 ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(lint.clang_tidy PROPERTIES LABELS lint
                     SKIP_RETURN_CODE 77 TIMEOUT 900)

# Tests of the documentation, the privilege drop and the package (issue 6),
# included from the top-level CMakeLists.txt when tests are built.
find_program(PXEPROXY_BASH bash REQUIRED)

# Root in network namespaces: --user=nobody leaves only CAP_NET_RAW.
add_test(NAME privdrop_netns
         COMMAND ${PXEPROXY_BASH} ${CMAKE_SOURCE_DIR}/tests/privdrop_netns_test.sh
                 $<TARGET_FILE:pxeproxy>)
set_tests_properties(privdrop_netns PROPERTIES LABELS netns
                     SKIP_RETURN_CODE 77 TIMEOUT 60)

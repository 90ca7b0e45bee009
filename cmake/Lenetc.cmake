# lenetc_add_model(<target> MODEL <file.nn> [NAME <model>] [HALIDE_TARGET <target>]
#                  [SCHEDULE <file.sched>...] [DISTRIBUTED mpi])
#
# Compiles a model description with lenetc at build time into a static library <target>:
# the AOT training-step and inference pipelines (any batch, and one example), the Halide runtime they share and the
# model's glue (lenetc::ModelInfo, symbol lenetc_model_<model>). Linking <target> needs
# neither libHalide nor LLVM. NAME defaults to the file's stem (models/lenet5.nn: lenet5),
# which must be the name the file gives its model; HALIDE_TARGET defaults to host.
# SCHEDULE: the schedule files to use, as `lenetc build --schedule` (a GPU target takes a CPU
# and a GPU one); without it, lenetc's schedules/<model>.<target class>.sched or the default.
# DISTRIBUTED mpi: the generated main() runs under mpirun (lenetc_add_trainer links MPI).
function(lenetc_add_model target)
  cmake_parse_arguments(ARG "" "MODEL;NAME;HALIDE_TARGET;DISTRIBUTED" "SCHEDULE" ${ARGN})
  # lenetc's tree, not the caller's: a project that adds lenetc with add_subdirectory()
  # calls this from its own directories.
  get_filename_component(lenetc_dir "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/.." ABSOLUTE)
  # lenetc's find_package(Halide) made Halide's imported targets for lenetc's directories
  # only; find them again where the caller can see them.
  if(NOT TARGET Halide::Runtime)
    find_package(Halide 14 REQUIRED)
  endif()
  if(NOT ARG_MODEL)
    message(FATAL_ERROR "lenetc_add_model(${target}): MODEL is required")
  endif()
  get_filename_component(model_file "${ARG_MODEL}" ABSOLUTE)
  if(NOT ARG_NAME)
    get_filename_component(ARG_NAME "${model_file}" NAME_WE)
  endif()
  if(NOT ARG_HALIDE_TARGET)
    set(ARG_HALIDE_TARGET host)
  endif()
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/${target}")
  set(libs "${dir}/${ARG_NAME}_train_step.a" "${dir}/${ARG_NAME}_infer.a" "${dir}/${ARG_NAME}_infer_one.a")
  set(outputs "${dir}/${ARG_NAME}_train_step.h" "${dir}/${ARG_NAME}_infer.h" "${dir}/${ARG_NAME}_infer_one.h"
    "${dir}/${ARG_NAME}_model.cpp"
    "${dir}/${ARG_NAME}_main.cpp")
  # A GPU target also makes GPU variants of the training step and inference.
  if(ARG_HALIDE_TARGET MATCHES "opencl|cuda|metal|d3d12compute|openglcompute")
    list(APPEND libs "${dir}/${ARG_NAME}_train_step_gpu.a" "${dir}/${ARG_NAME}_infer_gpu.a")
    list(APPEND outputs "${dir}/${ARG_NAME}_train_step_gpu.h" "${dir}/${ARG_NAME}_infer_gpu.h")
  endif()
  list(APPEND libs "${dir}/${ARG_NAME}_runtime.a")
  list(APPEND outputs ${libs})
  # lenetc picks the model's schedule for the target from schedules/ (docs/schedules.md)
  # unless SCHEDULE names them.
  set(compile_args "")
  if(ARG_DISTRIBUTED)
    list(APPEND compile_args --distributed "${ARG_DISTRIBUTED}")
  endif()
  if(ARG_SCHEDULE)
    set(schedule_files "")
    foreach(file ${ARG_SCHEDULE})
      get_filename_component(file "${file}" ABSOLUTE)
      list(APPEND schedule_files "${file}")
      list(APPEND compile_args --schedule "${file}")
    endforeach()
  else()
    file(GLOB schedule_files CONFIGURE_DEPENDS "${lenetc_dir}/schedules/${ARG_NAME}.*.sched")
  endif()
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND lenetc compile "${model_file}" -o "${dir}" --target "${ARG_HALIDE_TARGET}" ${compile_args}
    DEPENDS lenetc "${model_file}" ${schedule_files}
    COMMENT "lenetc: compiling ${ARG_MODEL} for ${ARG_HALIDE_TARGET}"
    VERBATIM)
  add_library(${target} STATIC "${dir}/${ARG_NAME}_model.cpp")
  target_include_directories(${target} PUBLIC "${dir}" "${lenetc_dir}/runtime/include")
  find_package(Threads REQUIRED)
  target_link_libraries(${target} PUBLIC ${libs} Halide::Runtime Threads::Threads ${CMAKE_DL_LIBS})
  set_target_properties(${target} PROPERTIES LENETC_MODEL_NAME "${ARG_NAME}" LENETC_MODEL_DIR "${dir}")
endfunction()

# lenetc_add_trainer(<target> MODEL <file.nn> [NAME <model>] [HALIDE_TARGET <target>]
#                    [SCHEDULE <file.sched>...] [DISTRIBUTED mpi])
#
# A standalone training executable <target> for the model, as `lenetc build` makes one:
# the model's pipelines (lenetc_add_model), its generated main() and the lenetc runtime.
# DISTRIBUTED mpi: a trainer that also runs data-parallel under mpirun, as `lenetc build
# --distributed mpi` makes (Open MPI; lenetc must have found it: target lenetc_runtime_mpi).
function(lenetc_add_trainer target)
  cmake_parse_arguments(ARG "" "DISTRIBUTED" "" ${ARGN})
  lenetc_add_model(${target}_model ${ARGN})
  get_target_property(name ${target}_model LENETC_MODEL_NAME)
  get_target_property(dir ${target}_model LENETC_MODEL_DIR)
  add_executable(${target} "${dir}/${name}_main.cpp")
  if(ARG_DISTRIBUTED)
    if(NOT TARGET lenetc_runtime_mpi)
      message(FATAL_ERROR "lenetc_add_trainer(${target}): DISTRIBUTED mpi needs MPI (Debian: libopenmpi-dev)")
    endif()
    target_link_libraries(${target} PRIVATE lenetc_runtime_mpi)
  endif()
  target_link_libraries(${target} PRIVATE lenetc_runtime ${target}_model)
endfunction()

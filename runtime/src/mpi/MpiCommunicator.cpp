#include "lenetc/MpiCommunicator.h"

// MPI's C interface only (Open MPI's C++ bindings are deprecated and need libmpi_cxx).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fmt/format.h>

namespace lenetc {

namespace {

// A launcher's mark on the processes it starts (Open MPI's, then PMI's and PMIx's).
bool startedByLauncher() {
  for (const char *var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(var))
      return true;
  return false;
}

class MpiCommunicator : public Communicator {
public:
  MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
    MPI_Comm_size(local, &localSize_);
    MPI_Comm_free(&local);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int localSize() const override { return localSize_; }
  std::string describe() const override { return fmt::format("{} MPI ranks", size_); }

  void sum(float *values, size_t count) override { sumInOrder(values, count, MPI_FLOAT); }
  void sum(double *values, size_t count) override { sumInOrder(values, count, MPI_DOUBLE); }

  std::vector<std::string> allGather(const std::string &text) override {
    int length = static_cast<int>(text.size());
    std::vector<int> lengths(static_cast<size_t>(size_)), offsets(static_cast<size_t>(size_));
    MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD);
    int total = 0;
    for (int r = 0; r < size_; ++r) {
      offsets[static_cast<size_t>(r)] = total;
      total += lengths[static_cast<size_t>(r)];
    }
    std::string all(static_cast<size_t>(total), '\0');
    MPI_Allgatherv(text.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR,
                   MPI_COMM_WORLD);
    std::vector<std::string> out;
    for (int r = 0; r < size_; ++r)
      out.push_back(all.substr(static_cast<size_t>(offsets[static_cast<size_t>(r)]),
                               static_cast<size_t>(lengths[static_cast<size_t>(r)])));
    return out;
  }

  void broadcast(std::string &text) override {
    uint64_t length = text.size();
    MPI_Bcast(&length, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    text.resize(length);
    // In pieces: MPI counts are ints.
    for (uint64_t at = 0; at < length; at += kPiece)
      MPI_Bcast(text.data() + at, static_cast<int>(std::min<uint64_t>(kPiece, length - at)), MPI_CHAR, 0,
                MPI_COMM_WORLD);
  }

  std::vector<float> gather(const std::vector<float> &values) override {
    int count = static_cast<int>(values.size());
    std::vector<int> counts(static_cast<size_t>(size_)), offsets(static_cast<size_t>(size_));
    MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
    int total = 0;
    for (int r = 0; r < size_; ++r) {
      offsets[static_cast<size_t>(r)] = total;
      total += counts[static_cast<size_t>(r)];
    }
    std::vector<float> all(rank_ == 0 ? static_cast<size_t>(total) : 0);
    MPI_Gatherv(values.data(), count, MPI_FLOAT, all.data(), counts.data(), offsets.data(), MPI_FLOAT, 0,
                MPI_COMM_WORLD);
    return all;
  }

  [[noreturn]] void abort(int exitCode) override {
    MPI_Abort(MPI_COMM_WORLD, exitCode);
    std::_Exit(exitCode);
  }
  void finish() override { MPI_Finalize(); }

private:
  static constexpr uint64_t kPiece = uint64_t(1) << 30;

  // Gathered on rank 0, added there in rank order, and sent back: the same bits on every
  // repeat (a reduction tree's order is the library's choice).
  template <class T> void sumInOrder(T *values, size_t count, MPI_Datatype type) {
    if (rank_ == 0)
      all_.resize(count * static_cast<size_t>(size_) * sizeof(T));
    MPI_Gather(values, static_cast<int>(count), type, rank_ == 0 ? all_.data() : nullptr, static_cast<int>(count),
               type, 0, MPI_COMM_WORLD);
    if (rank_ == 0) {
      const T *parts = reinterpret_cast<const T *>(all_.data());
      for (size_t i = 0; i < count; ++i) {
        T total = parts[i];
        for (int r = 1; r < size_; ++r)
          total += parts[static_cast<size_t>(r) * count + i];
        values[i] = total;
      }
    }
    MPI_Bcast(values, static_cast<int>(count), type, 0, MPI_COMM_WORLD);
  }

  int rank_ = 0, size_ = 1, localSize_ = 1;
  std::vector<char> all_;
};

} // namespace

std::unique_ptr<Communicator> mpiCommunicator(int *argc, char ***argv) {
  if (!startedByLauncher())
    return std::make_unique<Communicator>();
  MPI_Init(argc, argv);
  // A failing call (a rank gone) ends the job: nothing here could go on without a rank.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
  return std::make_unique<MpiCommunicator>();
}

} // namespace lenetc

#include "dist/comm.hpp"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "storyline/error.hpp"

namespace storyline::dist {
namespace {

void check(int code, const char* what) {
  if (code != MPI_SUCCESS) throw Error(std::string("MPI failed in ") + what);
}

}  // namespace

Comm::Comm() {
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  char name[256] = {0};
  if (::gethostname(name, sizeof(name) - 1) == 0) host_ = name;
}

Comm::~Comm() { MPI_Finalize(); }

std::uint64_t Comm::sum(std::uint64_t value) const {
  std::uint64_t out = 0;
  check(MPI_Allreduce(&value, &out, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  return out;
}

std::uint64_t Comm::max(std::uint64_t value) const {
  std::uint64_t out = 0;
  check(MPI_Allreduce(&value, &out, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  return out;
}

void Comm::sum(std::vector<std::uint64_t>& values) const {
  check(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_UINT64_T, MPI_SUM,
                      MPI_COMM_WORLD),
        "MPI_Allreduce");
}

std::uint64_t Comm::exclusive_sum(std::uint64_t value) const {
  std::uint64_t out = 0;
  check(MPI_Exscan(&value, &out, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD), "MPI_Exscan");
  return rank_ == 0 ? 0 : out;  // MPI leaves rank 0's result undefined
}

std::vector<std::uint64_t> Comm::all(std::uint64_t value) const {
  std::vector<std::uint64_t> out(static_cast<std::size_t>(size_));
  check(MPI_Allgather(&value, 1, MPI_UINT64_T, out.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD), "MPI_Allgather");
  return out;
}

void Comm::send(int to, std::string_view data) {
  const std::uint64_t size = data.size();
  check(MPI_Send(&size, 1, MPI_UINT64_T, to, 0, MPI_COMM_WORLD), "MPI_Send");
  for (std::size_t at = 0; at < data.size(); at += kRoundBytes) {
    const std::size_t len = std::min(kRoundBytes, data.size() - at);
    check(MPI_Send(data.data() + at, static_cast<int>(len), MPI_BYTE, to, 1, MPI_COMM_WORLD), "MPI_Send");
    bytes_sent_ += len;
  }
}

std::string Comm::receive(int from) const {
  std::uint64_t size = 0;
  check(MPI_Recv(&size, 1, MPI_UINT64_T, from, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
  std::string data(size, '\0');
  for (std::size_t at = 0; at < data.size(); at += kRoundBytes) {
    const std::size_t len = std::min(kRoundBytes, data.size() - at);
    check(MPI_Recv(data.data() + at, static_cast<int>(len), MPI_BYTE, from, 1, MPI_COMM_WORLD,
                   MPI_STATUS_IGNORE),
          "MPI_Recv");
  }
  return data;
}

void Comm::barrier() const { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

void Comm::abort(int code) const {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

std::vector<std::string> Comm::exchange(std::vector<std::string> send) {
  const auto n = static_cast<std::size_t>(size_);
  STORYLINE_CHECK_ARG(send.size() == n, "one buffer per rank");
  const auto self = static_cast<std::size_t>(rank_);
  std::string own = std::move(send[self]);  // what stays here is moved, not sent
  send[self].clear();
  if (n == 1) return {std::move(own)};
  std::vector<std::uint64_t> send_total(n), recv_total(n);
  for (std::size_t r = 0; r < n; ++r) send_total[r] = send[r].size();
  check(MPI_Alltoall(send_total.data(), 1, MPI_UINT64_T, recv_total.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD),
        "MPI_Alltoall");
  std::uint64_t largest = 0;
  for (std::size_t r = 0; r < n; ++r) largest = std::max({largest, send_total[r], recv_total[r]});
  const std::size_t slice = std::max<std::size_t>(1, kRoundBytes / n);  // a round sends <= kRoundBytes
  const std::uint64_t rounds = std::max<std::uint64_t>(1, max((largest + slice - 1) / slice));
  std::vector<std::string> recv(n);
  for (std::size_t r = 0; r < n; ++r) recv[r].resize(recv_total[r]);
  std::vector<int> scount(n), sdispl(n), rcount(n), rdispl(n);
  std::string sbuf, rbuf;
  for (std::uint64_t round = 0; round < rounds; ++round) {
    sbuf.clear();
    int at = 0;
    for (std::size_t r = 0; r < n; ++r) {
      const std::size_t from = std::min<std::size_t>(send[r].size(), round * slice);
      const std::size_t len = std::min(slice, send[r].size() - from);
      sdispl[r] = at;
      scount[r] = static_cast<int>(len);
      sbuf.append(send[r], from, len);
      at += static_cast<int>(len);
      bytes_sent_ += len;
    }
    at = 0;
    for (std::size_t r = 0; r < n; ++r) {
      const std::size_t from = std::min<std::size_t>(recv_total[r], round * slice);
      rcount[r] = static_cast<int>(std::min<std::size_t>(slice, recv_total[r] - from));
      rdispl[r] = at;
      at += rcount[r];
    }
    rbuf.resize(static_cast<std::size_t>(at));
    check(MPI_Alltoallv(sbuf.data(), scount.data(), sdispl.data(), MPI_BYTE, rbuf.data(), rcount.data(),
                        rdispl.data(), MPI_BYTE, MPI_COMM_WORLD),
          "MPI_Alltoallv");
    for (std::size_t r = 0; r < n; ++r) {
      const std::size_t from = std::min<std::size_t>(recv_total[r], round * slice);
      std::memcpy(recv[r].data() + from, rbuf.data() + rdispl[r], static_cast<std::size_t>(rcount[r]));
    }
  }
  recv[self] = std::move(own);
  return recv;
}

}  // namespace storyline::dist

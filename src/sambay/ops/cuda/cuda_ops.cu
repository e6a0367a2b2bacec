// The CUDA backend's plumbing (device, stream, memory, copies) and its element-wise ops.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "sambay/base/half.h"
#include "sambay/base/range_allocator.h"
#include "sambay/ops/cuda/cuda_check.h"
#include "sambay/ops/cuda/cuda_kernels.cuh"
#include "sambay/ops/cuda/cuda_launch.h"
#include "sambay/ops/cuda/cuda_ops.h"

namespace sambay {
namespace cuda {
namespace {

template <class In>
__global__ void embedding_kernel(float* out, int64_t out_stride, const int32_t* ids, const In* table,
                                 int64_t table_stride, int cols) {
  enter_dependent_kernel();
  const int row = blockIdx.x;
  const In* src = table + static_cast<int64_t>(ids[row]) * table_stride;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) out[row * out_stride + i] = to_float(src[i]);
}

template <class Y>
__global__ void add_kernel(float* x, int64_t x_stride, const Y* y, int64_t y_stride, int rows, int cols) {
  enter_dependent_kernel();
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<int64_t>(rows) * cols) return;
  const int64_t r = i / cols, c = i % cols;
  x[r * x_stride + c] += to_float(y[r * y_stride + c]);
}

__global__ void silu_mul_kernel(bf16* out, int64_t out_stride, const bf16* g, int64_t g_stride, const bf16* x,
                                int64_t x_stride, int rows, int cols) {
  enter_dependent_kernel();
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<int64_t>(rows) * cols) return;
  const int64_t r = i / cols, c = i % cols;
  out[r * out_stride + c] = from_float<bf16>(silu(to_float(g[r * g_stride + c])) * to_float(x[r * x_stride + c]));
}

__global__ void gather_rows_kernel(char* out, int64_t out_stride_bytes, const char* in, int64_t in_stride_bytes,
                                   const int32_t* rows, int row_bytes) {
  const char* src = in + rows[blockIdx.x] * in_stride_bytes;
  char* dst = out + blockIdx.x * out_stride_bytes;
  for (int i = threadIdx.x; i < row_bytes; i += blockDim.x) dst[i] = src[i];
}

// Greedy argmax in two stages: `parts` blocks per row each reduce a slice to (value, index), then
// one warp per row reduces the parts. Ties go to the lowest index.
__device__ __forceinline__ void better(float& best, int& idx, float v, int i) {
  if (v > best || (v == best && i < idx)) {
    best = v;
    idx = i;
  }
}

__device__ __forceinline__ void warp_argmax(float& best, int& idx) {
  for (int o = 16; o > 0; o >>= 1) better(best, idx, __shfl_xor_sync(0xffffffffu, best, o), __shfl_xor_sync(0xffffffffu, idx, o));
}

__global__ void argmax_parts_kernel(float* part_val, int* part_idx, const float* logits, int64_t stride, int cols) {
  const float* x = logits + blockIdx.y * stride;
  const int per = (cols + gridDim.x - 1) / gridDim.x;
  const int lo = blockIdx.x * per, hi = min(cols, lo + per);
  float best = -INFINITY;
  int idx = 0x7fffffff;
  for (int i = lo + threadIdx.x; i < hi; i += blockDim.x) better(best, idx, x[i], i);
  warp_argmax(best, idx);
  __shared__ float sb[32];
  __shared__ int si[32];
  if ((threadIdx.x & 31) == 0) {
    sb[threadIdx.x >> 5] = best;
    si[threadIdx.x >> 5] = idx;
  }
  __syncthreads();
  if (threadIdx.x < 32) {
    best = threadIdx.x < (blockDim.x >> 5) ? sb[threadIdx.x] : -INFINITY;
    idx = threadIdx.x < (blockDim.x >> 5) ? si[threadIdx.x] : 0x7fffffff;
    warp_argmax(best, idx);
    if (threadIdx.x == 0) {
      part_val[blockIdx.y * gridDim.x + blockIdx.x] = best;
      part_idx[blockIdx.y * gridDim.x + blockIdx.x] = idx;
    }
  }
}

__global__ void argmax_final_kernel(int32_t* ids, const float* part_val, const int* part_idx, int parts) {
  float best = -INFINITY;
  int idx = 0x7fffffff;
  for (int p = threadIdx.x; p < parts; p += 32) better(best, idx, part_val[blockIdx.x * parts + p], part_idx[blockIdx.x * parts + p]);
  warp_argmax(best, idx);
  if (threadIdx.x == 0) ids[blockIdx.x] = idx == 0x7fffffff ? 0 : idx;  // all NaN: token 0
}

bool overlap_on = false;

bool probe_device() {
  int n = 0;
  // Without a driver this returns cudaErrorInsufficientDriver (not cudaErrorNoDevice): any error
  // means no usable device.
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    cudaGetLastError();
    return false;
  }
  cudaFuncAttributes attr{};
  if (cudaFuncGetAttributes(&attr, silu_mul_kernel) != cudaSuccess) {  // kernels built for this GPU?
    cudaGetLastError();
    return false;
  }
  return true;
}

}  // namespace

bool overlapped_launch_enabled() { return overlap_on; }
void set_overlapped_launch(bool enabled) { overlap_on = enabled; }

}  // namespace cuda

using namespace cuda;

// Activations of a captured graph come from one device buffer carved by a RangeAllocator, not from
// the stream-ordered allocator: its allocation and free nodes would sit between the graph's kernels
// and keep them from overlapping (cuda_launch.h). Graphs replay one at a time on the stream, so all
// of them share the buffer. A capture that needs more than the buffer holds takes the rest from the
// stream-ordered allocator and is captured again after the buffer has grown to what it needed.
struct CudaOps::CaptureArena {
  RangeAllocator ranges;
  char* base = nullptr;
  size_t capacity = 0;
  bool active = false;      // a capture is under way: its tensors give their range back when released
  uint64_t generation = 0;  // which capture (a tensor outliving its capture gives nothing back)
  bool overflowed = false;  // the capture under way needed more than `capacity`
  std::vector<void*> retired;  // earlier, smaller buffers, still used by graphs captured into them

  ~CaptureArena() {
    if (base) cudaFree(base);
    for (void* p : retired) cudaFree(p);
  }
};

bool cuda_device_usable() {
  static const bool usable = probe_device();
  return usable;
}

CudaOps::CudaOps(int device) : device_(device) {
  SAMBAY_CUDA_REQUIRE(cuda_device_usable(), "no usable CUDA device");
  SAMBAY_CUDA_CHECK(cudaSetDevice(device_));
  SAMBAY_CUDA_CHECK(cudaGetDeviceProperties(&props_, device_));
  SAMBAY_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  // Keep freed activation memory in the pool instead of returning it to the driver every sync.
  cudaMemPool_t pool;
  SAMBAY_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device_));
  uint64_t threshold = UINT64_MAX;
  SAMBAY_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
  SAMBAY_CUBLAS_CHECK(cublasCreate(&cublas_));
  SAMBAY_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
  // A fixed workspace: cuBLAS then never allocates during a step (needed for graph capture).
  constexpr size_t kWorkspace = size_t{32} << 20;
  SAMBAY_CUDA_CHECK(cudaMalloc(&cublas_workspace_, kWorkspace));
  SAMBAY_CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_workspace_, kWorkspace));
  SAMBAY_CUDA_CHECK(cudaMalloc(&step_ids_, kStepCapacity * sizeof(int32_t)));
  SAMBAY_CUDA_CHECK(cudaMalloc(&step_chunks_, kStepCapacity * sizeof(SeqChunk)));
    arena_ = std::make_shared<CaptureArena>();
  const char* overlap = std::getenv("SAMBAY_OVERLAP");
  set_overlapped_launch(props_.major >= 9 && !(overlap && std::strcmp(overlap, "0") == 0));
}

CudaOps::~CudaOps() {
  chunks_device_ = {};
  if (stream_) cudaStreamSynchronize(stream_);
  arena_.reset();
  for (cudaEvent_t e : marks_) cudaEventDestroy(e);
  if (stream_) cudaStreamSynchronize(stream_);
  if (cublas_) cublasDestroy(cublas_);
  if (cublas_workspace_) cudaFree(cublas_workspace_);
  if (step_ids_) cudaFree(step_ids_);
  if (step_chunks_) cudaFree(step_chunks_);
  if (stream_) cudaStreamDestroy(stream_);
}

OwnedTensor CudaOps::empty(int64_t rows, int64_t cols, DType dtype) {
  SAMBAY_CUDA_REQUIRE(rows >= 0 && cols >= 0, "negative tensor shape");
  const size_t bytes = static_cast<size_t>(rows * cols) * dtype_size(dtype);
  OwnedTensor t;
  if (capturing_ && bytes) {
    CaptureArena& arena = *arena_;
    const size_t offset = arena.ranges.allocate(bytes);
    void* p = nullptr;
    const bool inside = offset + bytes <= arena.capacity;
    if (inside) {
      p = arena.base + offset;
    } else {
      arena.overflowed = true;
      SAMBAY_CUDA_CHECK(cudaMallocAsync(&p, bytes, stream_));
    }
    t.view = Tensor(p, dtype, rows, cols, Device::Cuda);
    const uint64_t generation = arena.generation;
    t.memory = std::shared_ptr<void>(p, [arena = arena_, offset, bytes, inside, generation, s = stream_](void* q) {
      if (!inside && cudaFreeAsync(q, s) != cudaSuccess) cudaGetLastError();  // as below
      if (arena->active && arena->generation == generation) arena->ranges.release(offset, bytes);
    });
    return t;
  }
  void* p = nullptr;
  if (bytes) SAMBAY_CUDA_CHECK(cudaMallocAsync(&p, bytes, stream_));
  cudaStream_t s = stream_;
  t.view = Tensor(p, dtype, rows, cols, Device::Cuda);
  t.memory = std::shared_ptr<void>(p, [s](void* q) {
    // Memory allocated while capturing a graph that was then aborted was never really allocated:
    // its free fails, which must not leave a sticky error for the next launch.
    if (q && cudaFreeAsync(q, s) != cudaSuccess) cudaGetLastError();
  });
  return t;
}

void CudaOps::zero(const Tensor& t) {
  const size_t elem = dtype_size(t.dtype);
  if (t.numel() == 0) return;
  SAMBAY_CUDA_CHECK(cudaMemset2DAsync(t.data, t.stride * elem, 0, t.cols * elem, t.rows, stream_));
}

OwnedTensor CudaOps::place(const Tensor& host, std::shared_ptr<void>, Placement kind) {
  // Matrices are stored as BF16 (the kernels' operand type); vectors keep their dtype.
  const bool to_bf16 = kind == Placement::Matrix && host.dtype != DType::BF16;
  SAMBAY_CUDA_REQUIRE(!to_bf16 || host.dtype == DType::F32 || host.dtype == DType::F16,
                      "weights must be BF16, F16 or F32");
  const DType dtype = to_bf16 ? DType::BF16 : host.dtype;
  const size_t bytes = static_cast<size_t>(host.numel()) * dtype_size(dtype);
  void* p = nullptr;
  if (bytes) SAMBAY_CUDA_CHECK(cudaMalloc(&p, bytes));
  OwnedTensor t;
  t.view = Tensor(p, dtype, host.rows, host.cols, Device::Cuda);
  t.memory = std::shared_ptr<void>(p, [](void* q) {
    if (q) cudaFree(q);
  });
  if (!bytes) return t;
  if (to_bf16) {
    std::vector<uint16_t> converted(static_cast<size_t>(host.numel()));
    for (int64_t r = 0; r < host.rows; ++r)
      for (int64_t c = 0; c < host.cols; ++c) {
        const float v = host.dtype == DType::F32 ? host.row<const float>(r)[c] : f16_to_f32(host.row<const uint16_t>(r)[c]);
        converted[r * host.cols + c] = f32_to_bf16(v);
      }
    SAMBAY_CUDA_CHECK(cudaMemcpy(p, converted.data(), bytes, cudaMemcpyHostToDevice));
  } else {
    const size_t elem = dtype_size(dtype);
    SAMBAY_CUDA_CHECK(cudaMemcpy2D(p, host.cols * elem, host.data, host.stride * elem, host.cols * elem, host.rows,
                                   cudaMemcpyHostToDevice));
  }
  return t;
}

void CudaOps::to_host(const Tensor& t, void* dst) {
  const size_t elem = dtype_size(t.dtype);
  if (t.numel() > 0)
    SAMBAY_CUDA_CHECK(cudaMemcpy2DAsync(dst, t.cols * elem, t.data, t.stride * elem, t.cols * elem, t.rows,
                                        cudaMemcpyDeviceToHost, stream_));
  synchronize();
}

void CudaOps::from_host(const Tensor& t, const void* src) {
  const size_t elem = dtype_size(t.dtype);
  if (t.numel() > 0)
    SAMBAY_CUDA_CHECK(cudaMemcpy2DAsync(t.data, t.stride * elem, src, t.cols * elem, t.cols * elem, t.rows,
                                        cudaMemcpyHostToDevice, stream_));
}

void CudaOps::synchronize() { SAMBAY_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

size_t CudaOps::device_bytes_in_use() const {
  size_t free = 0, total = 0;
  SAMBAY_CUDA_CHECK(cudaMemGetInfo(&free, &total));
  return total - free;
}

void CudaOps::copy(const Tensor& dst, const Tensor& src) {
  SAMBAY_CUDA_REQUIRE(dst.dtype == src.dtype && dst.rows == src.rows && dst.cols == src.cols, "copy: shape mismatch");
  const size_t elem = dtype_size(src.dtype);
  if (src.numel() > 0)
    SAMBAY_CUDA_CHECK(cudaMemcpy2DAsync(dst.data, dst.stride * elem, src.data, src.stride * elem, src.cols * elem,
                                        src.rows, cudaMemcpyDeviceToDevice, stream_));
}

void CudaOps::set_step_inputs(std::span<const int32_t> tokens, std::span<const SeqChunk> chunks) {
  SAMBAY_CUDA_REQUIRE(!capturing_, "step inputs cannot change during graph capture");
  step_ids_host_.clear();
  step_chunks_host_.clear();
  if (static_cast<int64_t>(tokens.size()) <= kStepCapacity) {
    step_ids_host_.assign(tokens.begin(), tokens.end());
    if (!tokens.empty())
      SAMBAY_CUDA_CHECK(cudaMemcpyAsync(step_ids_, tokens.data(), tokens.size_bytes(), cudaMemcpyHostToDevice, stream_));
  }
  if (static_cast<int64_t>(chunks.size()) <= kStepCapacity) {
    step_chunks_host_.assign(chunks.begin(), chunks.end());
    if (!chunks.empty())
      SAMBAY_CUDA_CHECK(cudaMemcpyAsync(step_chunks_, chunks.data(), chunks.size_bytes(), cudaMemcpyHostToDevice, stream_));
  }
}

void CudaOps::begin_capture() {
  arena_->ranges.reset();
  ++arena_->generation;
  arena_->active = true;
  arena_->overflowed = false;
  SAMBAY_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
  capturing_ = true;
}

namespace {
struct GraphExec {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  ~GraphExec() {
    if (exec) cudaGraphExecDestroy(exec);
    if (graph) cudaGraphDestroy(graph);
  }
};
}  // namespace

std::shared_ptr<void> CudaOps::end_capture() {
  auto g = std::make_shared<GraphExec>();
  capturing_ = false;
  CaptureArena& arena = *arena_;
  arena.active = false;
  SAMBAY_CUDA_CHECK(cudaStreamEndCapture(stream_, &g->graph));
  if (arena.overflowed) {
    // Grow to what this capture needed (at least doubling, so that captures of growing batches
    // retire few buffers) and have the step captured again.
    const size_t need = arena.ranges.high_water();
    const size_t capacity = std::max(need, 2 * arena.capacity);
    void* p = nullptr;
    SAMBAY_CUDA_CHECK(cudaMalloc(&p, capacity));
    if (arena.base) arena.retired.push_back(arena.base);
    arena.base = static_cast<char*>(p);
    arena.capacity = capacity;
    return nullptr;
  }
  SAMBAY_CUDA_CHECK(cudaGraphInstantiateWithFlags(&g->exec, g->graph, cudaGraphInstantiateFlagAutoFreeOnLaunch));
  return g;
}

void CudaOps::abort_capture() {
  if (!capturing_) return;
  capturing_ = false;
  arena_->active = false;
  cudaGraph_t g = nullptr;
  cudaStreamEndCapture(stream_, &g);
  if (g) cudaGraphDestroy(g);
  cudaGetLastError();
}

void CudaOps::launch_graph(const std::shared_ptr<void>& graph) {
  SAMBAY_CUDA_CHECK(cudaGraphLaunch(static_cast<GraphExec*>(graph.get())->exec, stream_));
}

int64_t CudaOps::mark() {
  if (capturing_) return -1;
  if (next_mark_ == marks_.size()) {
    cudaEvent_t e;
    SAMBAY_CUDA_CHECK(cudaEventCreate(&e));
    marks_.push_back(e);
  }
  SAMBAY_CUDA_CHECK(cudaEventRecord(marks_[next_mark_], stream_));
  return static_cast<int64_t>(next_mark_++);
}

double CudaOps::marks_elapsed_ms(int64_t from, int64_t to) {
  SAMBAY_CUDA_CHECK(cudaEventSynchronize(marks_.at(to)));
  float ms = 0;
  SAMBAY_CUDA_CHECK(cudaEventElapsedTime(&ms, marks_.at(from), marks_.at(to)));
  return ms;
}

const int32_t* CudaOps::device_ids(std::span<const int32_t> ids, OwnedTensor& keep) {
  if (ids.size() == step_ids_host_.size() && std::equal(ids.begin(), ids.end(), step_ids_host_.begin()))
    return static_cast<const int32_t*>(step_ids_);
  SAMBAY_CUDA_REQUIRE(!capturing_, "cannot upload token ids during graph capture");
  keep = device_ints(ids);
  return keep->ptr<int32_t>();
}

const SeqChunk* CudaOps::device_chunks(std::span<const SeqChunk> chunks) {
  if (!chunks.empty() && std::equal(chunks.begin(), chunks.end(), step_chunks_host_.begin(), step_chunks_host_.end()))
    return static_cast<const SeqChunk*>(step_chunks_);
  SAMBAY_CUDA_REQUIRE(!capturing_, "cannot upload a chunk table during graph capture");
  const bool same = std::equal(chunks.begin(), chunks.end(), chunks_host_.begin(), chunks_host_.end());
  if (!same) {
    chunks_host_.assign(chunks.begin(), chunks.end());
    const int64_t bytes = static_cast<int64_t>(chunks.size_bytes());
    if (!chunks_device_.view || chunks_device_->cols < bytes) chunks_device_ = empty(1, std::max<int64_t>(bytes, 4096), DType::U8);
    SAMBAY_CUDA_CHECK(cudaMemcpyAsync(chunks_device_->data, chunks_host_.data(), bytes, cudaMemcpyHostToDevice, stream_));
  }
  return static_cast<const SeqChunk*>(chunks_device_->data);
}

OwnedTensor CudaOps::device_ints(std::span<const int32_t> values) {
  OwnedTensor t = empty(1, static_cast<int64_t>(values.size()), DType::I32);
  if (!values.empty())
    SAMBAY_CUDA_CHECK(cudaMemcpyAsync(t->data, values.data(), values.size_bytes(), cudaMemcpyHostToDevice, stream_));
  return t;
}

void CudaOps::embedding(const Tensor& out, std::span<const int32_t> ids, const Tensor& table) {
  SAMBAY_CUDA_REQUIRE(out.dtype == DType::F32 && out.cols == table.cols && out.rows == static_cast<int64_t>(ids.size()),
                      "embedding: shape mismatch");
  if (ids.empty()) return;
  OwnedTensor keep;
  const int32_t* d_ids = device_ids(ids, keep);
  if (table.dtype == DType::BF16)
    launch_overlapped(stream_, dim3(ids.size()), dim3(256), 0, embedding_kernel<bf16>, out.ptr<float>(), out.stride,
                      d_ids, table.ptr<const bf16>(), table.stride, static_cast<int>(out.cols));
  else
    launch_overlapped(stream_, dim3(ids.size()), dim3(256), 0, embedding_kernel<float>, out.ptr<float>(), out.stride,
                      d_ids, table.ptr<const float>(), table.stride, static_cast<int>(out.cols));
}

void CudaOps::add(const Tensor& x, const Tensor& y) {
  SAMBAY_CUDA_REQUIRE(x.dtype == DType::F32 && x.rows == y.rows && x.cols == y.cols, "add: shape mismatch");
  const int64_t n = x.numel();
  if (n == 0) return;
  if (y.dtype == DType::BF16)
    launch_overlapped(stream_, dim3(blocks_for(n, 256)), dim3(256), 0, add_kernel<bf16>, x.ptr<float>(), x.stride,
                      y.ptr<const bf16>(), y.stride, static_cast<int>(x.rows), static_cast<int>(x.cols));
  else
    launch_overlapped(stream_, dim3(blocks_for(n, 256)), dim3(256), 0, add_kernel<float>, x.ptr<float>(), x.stride,
                      y.ptr<const float>(), y.stride, static_cast<int>(x.rows), static_cast<int>(x.cols));
}

void CudaOps::silu_mul(const Tensor& out, const Tensor& gate, const Tensor& x) {
  SAMBAY_CUDA_REQUIRE(out.dtype == DType::BF16 && gate.dtype == DType::BF16 && x.dtype == DType::BF16 &&
                          out.rows == gate.rows && out.rows == x.rows && out.cols == gate.cols && out.cols == x.cols,
                      "silu_mul: shape mismatch");
  const int64_t n = out.numel();
  if (n == 0) return;
  launch_overlapped(stream_, dim3(blocks_for(n, 256)), dim3(256), 0, silu_mul_kernel, out.ptr<bf16>(), out.stride,
                    gate.ptr<const bf16>(), gate.stride, x.ptr<const bf16>(), x.stride, static_cast<int>(out.rows),
                    static_cast<int>(out.cols));
}

void CudaOps::gather_rows(const Tensor& out, const Tensor& in, std::span<const int32_t> rows) {
  SAMBAY_CUDA_REQUIRE(out.dtype == in.dtype && out.cols == in.cols && out.rows == static_cast<int64_t>(rows.size()),
                      "gather_rows: shape mismatch");
  if (rows.empty()) return;
  SAMBAY_CUDA_REQUIRE(!capturing_, "gather_rows cannot run during graph capture");
  OwnedTensor d_rows = device_ints(rows);
  const int64_t elem = static_cast<int64_t>(dtype_size(in.dtype));
  gather_rows_kernel<<<rows.size(), 256, 0, stream_>>>(out.ptr<char>(), out.stride * elem, in.ptr<const char>(),
                                                       in.stride * elem, d_rows->ptr<int32_t>(),
                                                       static_cast<int>(in.cols * elem));
  SAMBAY_CUDA_LAUNCHED();
}

void CudaOps::argmax_rows(const Tensor& logits, std::span<int32_t> ids) {
  SAMBAY_CUDA_REQUIRE(logits.dtype == DType::F32 && static_cast<int64_t>(ids.size()) == logits.rows,
                      "argmax_rows: shape mismatch");
  if (ids.empty()) return;
  OwnedTensor d_ids = empty(1, logits.rows, DType::I32);
  const int parts = static_cast<int>(std::clamp<int64_t>(logits.cols / 4096, 1, 128));
  OwnedTensor pv = empty(logits.rows, parts, DType::F32), pi = empty(logits.rows, parts, DType::I32);
  argmax_parts_kernel<<<dim3(parts, logits.rows), 256, 0, stream_>>>(pv->ptr<float>(), pi->ptr<int>(),
                                                                     logits.ptr<const float>(), logits.stride,
                                                                     static_cast<int>(logits.cols));
  SAMBAY_CUDA_LAUNCHED();
  argmax_final_kernel<<<logits.rows, 32, 0, stream_>>>(d_ids->ptr<int32_t>(), pv->ptr<float>(), pi->ptr<int>(), parts);
  SAMBAY_CUDA_LAUNCHED();
  to_host(*d_ids, ids.data());
}

}  // namespace sambay

#pragma once
// Host allocations for weights, activations and state. Large ones are 2 MiB aligned and asked to be
// backed by transparent huge pages: first-touching gigabytes of 4 KiB pages costs seconds of page
// faults, and huge pages also relieve the TLB when the weights are streamed every decode step.
#include <cstddef>
#include <memory>

namespace sambay {

// Uninitialised memory, aligned to at least 64 bytes; throws an Error when out of memory.
std::shared_ptr<void> alloc_host(size_t bytes);

}  // namespace sambay

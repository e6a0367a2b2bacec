# Entry points. `make run` and `make test` install missing Debian packages first.
BUILD       ?= build
BUILD_ASAN  ?= build-asan
BUILD_FUZZ  ?= build-fuzz
BUILD_GPU   ?= build-gpu
JOBS        ?= $(shell nproc)
FUZZ_SECONDS ?= 30
CMAKE_FLAGS ?=

.PHONY: all deps build run test test-unit test-asan fuzz test-gpu clean server-deps

all: build

deps:
	scripts/install-deps.sh

build:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# The main job on a built-in default: one chat turn with the released model's shapes and random
# weights on the CPU (the reply is noise; with a real model folder it is an answer).
run: deps build
	$(BUILD)/sambay run --model models/phi4-mini-flash-reasoning --dummy --device cpu \
	  --system "You are a helpful assistant." -p "What is the capital of France?" -n 16

# Every test: the release build, the sanitizer build, and a short bounded run of each fuzzer.
test:
	scripts/install-deps.sh test
	@date +"== %T release build and tests"
	$(MAKE) test-unit
	@date +"== %T sanitizer build and tests"
	$(MAKE) test-asan
	@date +"== %T fuzzers"
	$(MAKE) fuzz
	@date +"== %T done"

# Tests run side by side: OpenMP workers sleep instead of spinning when they wait.
export OMP_WAIT_POLICY ?= passive

# The server's end-to-end test (label "server") drives `sambay serve` with the official OpenAI
# client, installed from tests/server/package-lock.json.
server-deps:
	cd tests/server && npm ci --no-audit --no-fund

test-unit: build server-deps
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -LE gpu

test-asan: server-deps
	cmake -S . -B $(BUILD_ASAN) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAMBAY_SANITIZE=ON -DSAMBAY_BENCH=OFF -DSAMBAY_CUDA=OFF $(CMAKE_FLAGS)
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(BUILD_ASAN) --output-on-failure -j $(JOBS) -LE "gpu|slow"

fuzz:
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(BUILD_FUZZ) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSAMBAY_FUZZ=ON -DSAMBAY_TESTS=ON -DSAMBAY_BENCH=OFF -DSAMBAY_CUDA=OFF $(CMAKE_FLAGS)
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_targets
	scripts/run-fuzzers.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

test-gpu:
	cmake -S . -B $(BUILD_GPU) -G Ninja -DCMAKE_BUILD_TYPE=Release -DSAMBAY_CUDA=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_GPU) -j $(JOBS)
	ctest --test-dir $(BUILD_GPU) --output-on-failure -L gpu

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) $(BUILD_GPU)

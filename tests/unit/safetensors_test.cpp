// The safetensors reader and writer: round trips of every dtype, and strict rejection of broken
// files with a message that names the file and the tensor.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "sambay/base/error.h"
#include "sambay/io/safetensors.h"
#include "test_util.h"

namespace sambay {
namespace {

std::vector<uint8_t> file_image(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> f(8 + header.size() + data_bytes, 0x5a);
  const uint64_t n = header.size();
  std::memcpy(f.data(), &n, 8);
  std::memcpy(f.data() + 8, header.data(), header.size());
  return f;
}

std::string parse_error(const std::string& header, size_t data_bytes) {
  try {
    parse_safetensors(file_image(header, data_bytes), "test.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, RoundTripEveryDtype) {
  test::TempDir dir;
  SafetensorsWriter w;
  std::vector<std::vector<uint8_t>> data;
  const std::vector<std::string> names = {"BOOL", "U8", "I8", "F8_E4M3", "F8_E5M2", "I16", "U16", "F16",
                                          "BF16", "I32", "U32", "F32", "I64", "U64", "F64"};
  for (size_t i = 0; i < names.size(); ++i) {
    const DType t = *dtype_from_name(names[i]);
    data.emplace_back(dtype_size(t) * 6);
    for (size_t k = 0; k < data.back().size(); ++k) data.back()[k] = static_cast<uint8_t>(i * 31 + k);
    w.add("t." + names[i], t, {2, 3}, data.back());
  }
  w.add("empty", DType::F32, {0, 4}, std::span<const uint8_t>());
  w.add("scalar", DType::F64, {}, data.back().data() == nullptr ? std::span<const uint8_t>() : std::span<const uint8_t>(data.back()).first(8));
  w.set_metadata("format", "pt");
  w.write(dir / "x.safetensors");

  SafetensorsFile f(dir / "x.safetensors");
  EXPECT_EQ(f.metadata().at("format"), "pt");
  for (size_t i = 0; i < names.size(); ++i) {
    const TensorInfo* t = f.find("t." + names[i]);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(dtype_name(t->dtype), names[i]);
    EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 3}));
    const auto bytes = f.data(*t);
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), data[i].begin(), data[i].end()));
  }
  EXPECT_EQ(f.find("empty")->numel(), 0);
  EXPECT_EQ(f.find("scalar")->shape.size(), 0u);
  // The data section starts 8-byte aligned.
  std::ifstream in(dir / "x.safetensors", std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  EXPECT_EQ((8 + n) % 8, 0u);
}

TEST(Safetensors, RejectsBrokenHeaders) {
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  EXPECT_EQ(parse_error(ok, 8), "");
  struct Case {
    std::string header;
    size_t data;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {ok, 4, "'a': data_offsets [0, 8] run past the end"},
      {R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8, "'a': F32 [3] needs 12 bytes"},
      {R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8, "'a': unsupported dtype 'Q4'"},
      {R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8, "'a': shape entries"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8, "'a': data_offsets [8, 0] are reversed"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8, "'a': 'data_offsets' must be two"},
      {R"({"a":{"dtype":"F32","shape":[2]}})", 8, "'a': 'data_offsets'"},
      {R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8, "'a': missing or non-string 'dtype'"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}})", 8, "unknown header field 'extra'"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       12, "overlap"},
      {R"({"a":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})", 8, "overflows"},
      {R"({"a":1})", 8, "'a': header entry is not a JSON object"},
      {R"([1,2])", 8, "header is not a JSON object"},
      {R"({"a":)", 8, "header is not valid JSON"},
      {R"({"__metadata__":{"k":1}})", 0, "'__metadata__' value of 'k' is not a string"},
  };
  for (const auto& c : cases) {
    const std::string msg = parse_error(c.header, c.data);
    EXPECT_NE(msg.find("test.safetensors"), std::string::npos) << c.header << " -> " << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.header << " -> " << msg;
  }
}

TEST(Safetensors, RejectsBadLengths) {
  EXPECT_THROW(parse_safetensors(std::vector<uint8_t>(5), "t"), Error);
  std::vector<uint8_t> f(16, 0);
  const uint64_t too_long = 9;
  std::memcpy(f.data(), &too_long, 8);
  try {
    parse_safetensors(f, "t.safetensors");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("header length 9 runs past the end"), std::string::npos) << e.what();
  }
  const uint64_t huge = uint64_t{1} << 40;
  std::memcpy(f.data(), &huge, 8);
  EXPECT_THROW(parse_safetensors(f, "t"), Error);
}

TEST(Safetensors, MissingFileNamesThePath) {
  try {
    SafetensorsFile f("/nonexistent/dir/model.safetensors");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.safetensors"), std::string::npos);
  }
}

}  // namespace
}  // namespace sambay

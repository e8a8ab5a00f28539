#include "server/jobs/request_digest.h"

#include <openssl/evp.h>

#include <cstdint>
#include <memory>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"

namespace pprocd {
namespace {

using google::protobuf::internal::WireFormatLite;

// SubmitRequest's field numbers that the digests treat apart.
constexpr int kInputsField = v1::SubmitRequest::kInputsFieldNumber;
constexpr int kPackedInputsField = v1::SubmitRequest::kPackedInputsFieldNumber;
constexpr int kOptionsField = v1::SubmitRequest::kOptionsFieldNumber;
constexpr int kIdempotencyKeyField = v1::SubmitRequest::kIdempotencyKeyFieldNumber;

// An SHA-256 computation fed in pieces.
class Sha256 {
 public:
  Sha256() : context_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr);
  }
  void Add(absl::string_view bytes) {
    EVP_DigestUpdate(context_.get(), bytes.data(), bytes.size());
  }
  std::string Finish() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(context_.get(), digest, &size);
    return std::string(reinterpret_cast<const char*>(digest), size);
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context_;
};

// Options without expected_inputs, serialized deterministically, as one
// length-delimited field.
std::string CanonicalOptions(uint32_t tag, const std::string& bytes) {
  v1::CallOptions options;
  options.ParseFromString(bytes);
  options.clear_expected_inputs();
  const std::string canonical = SerializeDeterministic(options);
  std::string field;
  google::protobuf::io::StringOutputStream stream(&field);
  {
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.WriteTag(tag);
    coded.WriteVarint32(static_cast<uint32_t>(canonical.size()));
    coded.WriteString(canonical);
  }
  return field;
}

}  // namespace

std::string SerializeDeterministic(const google::protobuf::MessageLite& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

std::string SerializeWithPackedInputsHead(const v1::SubmitRequest& request,
                                          size_t packed_inputs_size) {
  std::string out = SerializeDeterministic(request);
  if (packed_inputs_size == 0) return out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.WriteTag(
        WireFormatLite::MakeTag(kPackedInputsField, WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    coded.WriteVarint32(static_cast<uint32_t>(packed_inputs_size));
  }
  return out;
}

std::string SerializeWithPackedInputs(const v1::SubmitRequest& request,
                                      absl::string_view packed_inputs) {
  std::string out = SerializeWithPackedInputsHead(request, packed_inputs.size());
  out.append(packed_inputs.data(), packed_inputs.size());
  return out;
}

RequestDigest DigestRequest(absl::string_view serialized_request) {
  Sha256 inputs;
  Sha256 settings;
  // Top-level fields come in field-number order: each goes whole (tag and
  // value, as serialized) to the digest it belongs to.
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t*>(serialized_request.data()),
      static_cast<int>(serialized_request.size()));
  while (true) {
    const int start = stream.CurrentPosition();
    const uint32_t tag = stream.ReadTag();
    if (tag == 0) break;
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    if (field == kOptionsField &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      std::string bytes;
      if (!WireFormatLite::ReadBytes(&stream, &bytes)) break;
      settings.Add(CanonicalOptions(tag, bytes));
      continue;
    }
    if (!WireFormatLite::SkipField(&stream, tag)) break;
    const absl::string_view whole = serialized_request.substr(
        static_cast<size_t>(start), static_cast<size_t>(stream.CurrentPosition() - start));
    if (field == kInputsField || field == kPackedInputsField) {
      inputs.Add(whole);
    } else if (field != kIdempotencyKeyField) {
      settings.Add(whole);
    }
  }
  return RequestDigest{inputs.Finish(), settings.Finish()};
}

}  // namespace pprocd

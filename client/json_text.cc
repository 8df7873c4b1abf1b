#include "client/json_text.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "protocol/bytes.hpp"

// By hand: no dependency encodes base64 or escapes JSON into a raw buffer, and tap_tail does
// both for every event (most of a mutation's line is its value's letters).
namespace tapharness::client::json_text {
namespace {

// Two letters for each 12-bit group: two lookups per three bytes instead of four.
constexpr auto kBase64Pairs = [] {
  std::array<std::array<char, 2>, 4096> pairs{};
  for (std::size_t i = 0; i < pairs.size(); ++i) pairs[i] = {kBase64Alphabet[i >> 6], kBase64Alphabet[i & 0x3f]};
  return pairs;
}();

// Which bytes a JSON string cannot hold as they are: controls, DEL and above, quote, backslash.
constexpr auto kNeedsEscape = [] {
  std::array<bool, 256> needs{};
  for (std::size_t b = 0; b < needs.size(); ++b) needs[b] = b < 0x20 || b >= 0x7f || b == '"' || b == '\\';
  return needs;
}();

#if defined(__x86_64__)
// Twelve bytes to sixteen letters per step with SSSE3 (pshufb), as Muła and Lemire describe:
// each 3-byte group is spread over a 32-bit lane, its four 6-bit fields shifted into bytes
// by two multiplies, and each field mapped to its letter by adding an offset looked up from
// its range (A-Z, a-z, 0-9, '+', '/'). Reads 16 bytes for each 12 it encodes; returns the
// bytes done.
__attribute__((target("ssse3"))) std::size_t base64_ssse3(char*& at, const unsigned char* in, std::size_t size) {
  const __m128i spread = _mm_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
  const __m128i high_fields = _mm_set1_epi32(0x0fc0fc00);
  const __m128i high_shift = _mm_set1_epi32(0x04000040);
  const __m128i low_fields = _mm_set1_epi32(0x003f03f0);
  const __m128i low_shift = _mm_set1_epi32(0x01000010);
  // The offset from a field to its letter, by range: 0 for a-z (26-51), 1-12 for 52-63, 13
  // for A-Z (0-25).
  const __m128i offsets = _mm_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0);
  std::size_t i = 0;
  for (; i + 16 <= size; i += 12) {
    const __m128i bytes = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)), spread);
    const __m128i fields = _mm_or_si128(_mm_mulhi_epu16(_mm_and_si128(bytes, high_fields), high_shift),
                                        _mm_mullo_epi16(_mm_and_si128(bytes, low_fields), low_shift));
    __m128i range = _mm_subs_epu8(fields, _mm_set1_epi8(51));
    range = _mm_or_si128(range, _mm_and_si128(_mm_cmpgt_epi8(_mm_set1_epi8(26), fields), _mm_set1_epi8(13)));
    const __m128i letters = _mm_add_epi8(fields, _mm_shuffle_epi8(offsets, range));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(at), letters);
    at += 16;
  }
  return i;
}

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_epi32(), which its own
// -Wmaybe-uninitialized then reports inside the header.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// Forty-eight bytes to sixty-four letters per step with AVX-512 VBMI: vpermb lays each
// 3-byte group out as bytes [1, 0, 2, 1] of a 32-bit lane, vpmultishiftqb pulls its four
// 6-bit fields into bytes (the two bits above each field are ignored by the next step), and
// vpermb looks each field up in the 64 letters.
constexpr auto kAvx512Spread = [] {
  std::array<std::uint8_t, 64> spread{};
  for (std::size_t lane = 0; lane < 16; ++lane) {
    const auto group = static_cast<std::uint8_t>(3 * lane);
    spread[4 * lane + 0] = static_cast<std::uint8_t>(group + 1);
    spread[4 * lane + 1] = group;
    spread[4 * lane + 2] = static_cast<std::uint8_t>(group + 2);
    spread[4 * lane + 3] = static_cast<std::uint8_t>(group + 1);
  }
  return spread;
}();
// In each 64-bit lane, where each output byte's field starts: 10, 4, 22, 16 for the first
// group's four letters, 32 more for the second's.
constexpr long long kAvx512FieldStarts = 0x3036242a1016040a;

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) inline __m512i encode_avx512(__m512i bytes, __m512i spread,
                                                                                  __m512i fields, __m512i letters) {
  return _mm512_permutexvar_epi8(_mm512_multishift_epi64_epi8(fields, _mm512_permutexvar_epi8(spread, bytes)), letters);
}

// The last whole groups go the same way with masked loads and stores, so nothing is read or
// written beyond them. Returns the bytes done (all but the last `size % 3`).
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) std::size_t base64_avx512(char*& at, const unsigned char* in,
                                                                                std::size_t size) {
  const __m512i spread = _mm512_loadu_si512(kAvx512Spread.data());
  const __m512i fields = _mm512_set1_epi64(kAvx512FieldStarts);
  const __m512i letters = _mm512_loadu_si512(kBase64Alphabet.data());
  std::size_t i = 0;
  for (; i + 48 <= size; i += 48) {
    _mm512_storeu_si512(at, encode_avx512(_mm512_maskz_loadu_epi8(0xffff'ffff'ffffULL, in + i), spread, fields, letters));
    at += 64;
  }
  const std::size_t groups = (size - i) / 3;
  if (groups > 0) {
    const __mmask64 load = (__mmask64{1} << (3 * groups)) - 1;
    const __mmask64 store = (__mmask64{1} << (4 * groups)) - 1;
    _mm512_mask_storeu_epi8(at, store, encode_avx512(_mm512_maskz_loadu_epi8(load, in + i), spread, fields, letters));
    at += 4 * groups;
    i += 3 * groups;
  }
  return i;
}
#pragma GCC diagnostic pop
#endif

char* put_base64_portable(char* at, const unsigned char* in, std::size_t size, std::size_t i) {
  // Six bytes at a time from one 8-byte load (so at least 8 must remain): eight letters.
  for (; i + 8 <= size; i += 6) {
    const std::uint64_t v = protocol::load_be64(in + i);
    std::memcpy(at + 0, kBase64Pairs[v >> 52].data(), 2);
    std::memcpy(at + 2, kBase64Pairs[(v >> 40) & 0xfff].data(), 2);
    std::memcpy(at + 4, kBase64Pairs[(v >> 28) & 0xfff].data(), 2);
    std::memcpy(at + 6, kBase64Pairs[(v >> 16) & 0xfff].data(), 2);
    at += 8;
  }
  for (; i + 2 < size; i += 3) {
    const std::uint32_t v = std::uint32_t{in[i]} << 16 | std::uint32_t{in[i + 1]} << 8 | in[i + 2];
    std::memcpy(at + 0, kBase64Pairs[v >> 12].data(), 2);
    std::memcpy(at + 2, kBase64Pairs[v & 0xfff].data(), 2);
    at += 4;
  }
  const std::size_t rest = size - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{in[i]} << 16;
    if (rest == 2) v |= std::uint32_t{in[i + 1]} << 8;
    at[0] = kBase64Alphabet[(v >> 18) & 0x3f];
    at[1] = kBase64Alphabet[(v >> 12) & 0x3f];
    at[2] = rest == 2 ? kBase64Alphabet[(v >> 6) & 0x3f] : '=';
    at[3] = '=';
    at += 4;
  }
  return at;
}

// Whether any of eight bytes needs escaping, all at once (SWAR): a byte below 0x20, at or
// above 0x7f, a quote or a backslash sets its high bit in the result. (Borrows and carries
// can mark bytes beside a true one, never without one; the byte loop then decides.)
[[gnu::always_inline]] inline bool any_needs_escape(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101;
  constexpr std::uint64_t kHigh = 0x8080808080808080;
  auto zero_byte = [](std::uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  const std::uint64_t below_space = (word - kOnes * 0x20) & ~word & kHigh;
  const std::uint64_t at_or_above_del = ((word + kOnes) | word) & kHigh;  // 0x7f + 1 sets the high bit
  return (below_space | at_or_above_del | zero_byte(word ^ (kOnes * '"')) | zero_byte(word ^ (kOnes * '\\'))) != 0;
}

// The first byte at or after `from` that needs escaping (`size` when none does), eight bytes
// at a time.
std::size_t clean_until_portable(const unsigned char* in, std::size_t from, std::size_t size) {
  std::size_t clean = from;
  for (std::uint64_t word; clean + 8 <= size; clean += 8) {
    std::memcpy(&word, in + clean, 8);  // the byte order does not matter to "any"
    if (any_needs_escape(word)) break;
  }
  // The last few bytes as one word that overlaps the last one checked, when there is one.
  if (clean + 8 > size && clean < size && size >= 8) {
    std::uint64_t word;
    std::memcpy(&word, in + size - 8, 8);
    if (!any_needs_escape(word)) return size;
  }
  while (clean < size && !kNeedsEscape[in[clean]]) ++clean;
  return clean;
}

#if defined(__x86_64__)
// The same sixteen bytes at a time (SSE2, which every x86-64 has): a byte needs escaping when,
// less 0x20, it is 0x5f or more unsigned (below space, or DEL and above), or it is a quote or
// a backslash. The last bytes are checked in the sixteen that end the input; fewer than
// sixteen in all go eight at a time.
std::size_t clean_until_sse2(const unsigned char* in, std::size_t from, std::size_t size) {
  if (size < 16) return clean_until_portable(in, from, size);
  auto needing = [](const unsigned char* at) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    const __m128i shifted = _mm_sub_epi8(bytes, _mm_set1_epi8(0x20));
    const __m128i outside = _mm_cmpeq_epi8(_mm_max_epu8(shifted, _mm_set1_epi8(0x5f)), shifted);
    const __m128i quote = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('"'));
    const __m128i backslash = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'));
    return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(outside, _mm_or_si128(quote, backslash))));
  };
  std::size_t clean = from;
  for (; clean + 16 <= size; clean += 16) {
    if (const unsigned found = needing(in + clean)) return clean + static_cast<std::size_t>(__builtin_ctz(found));
  }
  if (clean == size) return size;
  const unsigned found = needing(in + size - 16) >> (clean - (size - 16));  // only the bytes not yet checked
  return found ? clean + static_cast<std::size_t>(__builtin_ctz(found)) : size;
}

// Sixty-four bytes at a time (AVX-512 BW), with masked loads: nothing beyond the input is read.
__attribute__((target("avx512f,avx512bw"))) std::size_t clean_until_avx512(const unsigned char* in, std::size_t from,
                                                                          std::size_t size) {
  for (std::size_t clean = from; clean < size; clean += 64) {
    const std::size_t n = size - clean < 64 ? size - clean : 64;
    const __mmask64 lanes = n == 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
    const __m512i bytes = _mm512_maskz_loadu_epi8(lanes, in + clean);
    const __mmask64 found =
        lanes & (_mm512_cmpge_epu8_mask(_mm512_sub_epi8(bytes, _mm512_set1_epi8(0x20)), _mm512_set1_epi8(0x5f)) |
                 _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8('"')) | _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8('\\')));
    if (found) return clean + static_cast<std::size_t>(__builtin_ctzll(found));
  }
  return size;
}
#endif

std::size_t clean_until(const unsigned char* in, std::size_t from, std::size_t size, Path path) {
#if defined(__x86_64__)
  if (path == Path::avx512) return clean_until_avx512(in, from, size);
  if (path == Path::ssse3) return clean_until_sse2(in, from, size);
#endif
  (void)path;
  return clean_until_portable(in, from, size);
}

Path detect_best_path() {
#if defined(__x86_64__)
  // GCC's and clang's checks include the operating system's support for the AVX-512 state.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi")) {
    return Path::avx512;
  }
  if (__builtin_cpu_supports("ssse3")) return Path::ssse3;
#endif
  return Path::portable;
}

const Path kBest = detect_best_path();

}  // namespace

Path best_path() { return kBest; }

std::vector<Path> paths_here() {
  std::vector<Path> paths{Path::portable};
  if (kBest >= Path::ssse3) paths.push_back(Path::ssse3);
  if (kBest >= Path::avx512) paths.push_back(Path::avx512);
  return paths;
}

std::string_view name_of(Path path) {
  switch (path) {
    case Path::portable: return "portable";
    case Path::ssse3: return "ssse3";
    case Path::avx512: return "avx512";
  }
  return "?";
}

char* put_base64(char* at, std::string_view bytes, Path path) {
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
#if defined(__x86_64__)
  if (path == Path::avx512) i = base64_avx512(at, in, bytes.size());
  if (path == Path::ssse3) i = base64_ssse3(at, in, bytes.size());
#endif
  return put_base64_portable(at, in, bytes.size(), i);
}

char* put_base64(char* at, std::string_view bytes) { return put_base64(at, bytes, kBest); }

char* put_escaped(char* at, std::string_view bytes, Path path) {
  constexpr std::string_view kHex = "0123456789abcdef";
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t size = bytes.size();
  std::size_t i = 0;
  while (i < size) {
    // A run of bytes that stand as they are (a whole key, usually): one copy.
    const std::size_t clean = clean_until(in, i, size, path);
    std::memcpy(at, in + i, clean - i);
    at += clean - i;
    if (clean == size) break;
    const unsigned char b = in[clean];
    if (b == '"' || b == '\\') {
      *at++ = '\\';
      *at++ = static_cast<char>(b);
    } else {
      std::memcpy(at, "\\u00", 4);
      at[4] = kHex[b >> 4];
      at[5] = kHex[b & 0xf];
      at += 6;
    }
    i = clean + 1;
  }
  return at;
}

char* put_escaped(char* at, std::string_view bytes) { return put_escaped(at, bytes, kBest); }

}  // namespace tapharness::client::json_text

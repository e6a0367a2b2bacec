#include "sambay/text/jinja_strings.h"

#include "sambay/text/jinja_unicode.h"

namespace sambay::jinja {

namespace {

Str slice_bytes(const Str& s, size_t begin, size_t end) {
  StrBuilder b;
  b.append(s, begin, end);
  return b.take();
}

// Rewrites each cased letter in place when its new form has the same UTF-8 length (always, for
// the table in jinja_unicode.h): byte offsets, and so provenance, stay as they were.
// f(cp, is_first, previous_was_cased) gives the new code point.
template <class F>
Str map_case(const Str& s, F f) {
  Str out = s;
  bool prev_cased = false;
  size_t i = 0;
  std::string buf;
  while (i < out.text.size()) {
    const size_t start = i;
    const char32_t cp = next_code_point(s.text, i);
    char32_t mapped = f(cp, start == 0, prev_cased);
    if (cp == 0x3A3 && mapped == 0x3C3 && prev_cased) {
      // Python's Final_Sigma: a capital sigma ending a word lower-cases to 'ς'.
      size_t j = i;
      if (j >= s.text.size() || !is_cased(next_code_point(s.text, j))) mapped = 0x3C2;
    }
    if (mapped != cp) {
      buf.clear();
      append_utf8(buf, mapped);
      if (buf.size() == i - start) out.text.replace(start, buf.size(), buf);
    }
    prev_cased = is_cased(cp);
  }
  return out;
}

}  // namespace

Str py_strip(const Str& s, const std::optional<std::string>& chars, StripSide side) {
  std::vector<char32_t> set;
  if (chars) {
    size_t i = 0;
    while (i < chars->size()) set.push_back(next_code_point(*chars, i));
  }
  auto strippable = [&](char32_t cp) {
    if (!chars) return is_py_space(cp);
    for (char32_t c : set)
      if (c == cp) return true;
    return false;
  };
  const std::vector<size_t> offsets = code_point_offsets(s.text);
  size_t first = 0, last = offsets.size() - 1;  // code point range [first, last)
  auto cp_at = [&](size_t k) {
    size_t i = offsets[k];
    return next_code_point(s.text, i);
  };
  if (side != StripSide::Right)
    while (first < last && strippable(cp_at(first))) ++first;
  if (side != StripSide::Left)
    while (last > first && strippable(cp_at(last - 1))) --last;
  Str out = slice_bytes(s, offsets[first], offsets[last]);
  out.markup = s.markup;
  return out;
}

Str py_upper(const Str& s) {
  Str out = map_case(s, [](char32_t c, bool, bool) { return to_upper(c); });
  // 'ß' upper-cases to "SS": two bytes either way, so provenance stays aligned.
  for (size_t at = out.text.find("\xC3\x9F"); at != std::string::npos; at = out.text.find("\xC3\x9F", at + 2))
    out.text[at] = out.text[at + 1] = 'S';
  return out;
}

Str py_lower(const Str& s) {
  return map_case(s, [](char32_t c, bool, bool) { return to_lower(c); });
}

Str py_capitalize(const Str& s) {
  return map_case(s, [](char32_t c, bool first, bool) { return first ? to_upper(c) : to_lower(c); });
}

Str py_title(const Str& s) {
  return map_case(s, [](char32_t c, bool, bool prev_cased) {
    return prev_cased ? to_lower(c) : to_upper(c);
  });
}

Str jinja_title(const Str& s) {
  auto is_sep = [](char32_t cp) {
    return is_py_space(cp) || cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<';
  };
  bool word_start = true;
  Str out = map_case(s, [&](char32_t cp, bool, bool) {
    if (is_sep(cp)) {
      word_start = true;
      return cp;
    }
    const char32_t mapped = word_start ? to_upper(cp) : to_lower(cp);
    word_start = false;
    return mapped;
  });
  out.markup = false;
  return out;
}

Str py_replace(const Str& s, const Str& old, const Str& with, int64_t count) {
  StrBuilder b;
  if (count < 0) count = INT64_MAX;
  if (old.text.empty()) {
    // Python inserts `with` before every character and at the end.
    const std::vector<size_t> offsets = code_point_offsets(s.text);
    for (size_t k = 0; k + 1 < offsets.size(); ++k) {
      if (count > 0) {
        b.append(with);
        --count;
      }
      b.append(s, offsets[k], offsets[k + 1]);
    }
    if (count > 0) b.append(with);
    return b.take();
  }
  size_t pos = 0;
  while (count > 0) {
    const size_t hit = s.text.find(old.text, pos);
    if (hit == std::string::npos) break;
    b.append(s, pos, hit);
    b.append(with);
    pos = hit + old.text.size();
    --count;
  }
  b.append(s, pos, s.text.size());
  return b.take();
}

std::vector<Str> py_split(const Str& s, const std::optional<Str>& sep, int64_t maxsplit) {
  std::vector<Str> parts;
  if (maxsplit < 0) maxsplit = INT64_MAX;
  if (sep) {
    const std::string& d = sep->text;
    size_t pos = 0;
    while (maxsplit > 0) {
      const size_t hit = s.text.find(d, pos);
      if (hit == std::string::npos) break;
      parts.push_back(slice_bytes(s, pos, hit));
      pos = hit + d.size();
      --maxsplit;
    }
    parts.push_back(slice_bytes(s, pos, s.text.size()));
    return parts;
  }
  // Whitespace mode: runs of whitespace separate, leading and trailing runs produce nothing.
  const std::string& t = s.text;
  size_t i = 0;
  auto space_at = [&](size_t at, size_t& next) {
    next = at;
    return is_py_space(next_code_point(t, next));
  };
  while (true) {
    size_t next;
    while (i < t.size() && space_at(i, next)) i = next;
    if (i >= t.size()) break;
    if (maxsplit == 0) {
      parts.push_back(slice_bytes(s, i, t.size()));  // the rest, trailing whitespace kept
      break;
    }
    size_t j = i;
    while (j < t.size() && !space_at(j, next)) j = next;
    parts.push_back(slice_bytes(s, i, j));
    --maxsplit;
    i = j;
  }
  return parts;
}

std::vector<Str> py_splitlines(const Str& s, bool keepends) {
  std::vector<Str> lines;
  const std::string& t = s.text;
  size_t start = 0, i = 0;
  while (i < t.size()) {
    const size_t at = i;
    const char32_t cp = next_code_point(t, i);
    if (!is_py_linebreak(cp)) continue;
    size_t end = i;
    if (cp == '\r' && i < t.size() && t[i] == '\n') end = ++i;
    lines.push_back(slice_bytes(s, start, keepends ? end : at));
    start = i;
  }
  if (start < t.size()) lines.push_back(slice_bytes(s, start, t.size()));
  return lines;
}

std::vector<Str> code_points(const Str& s) {
  std::vector<Str> out;
  const std::vector<size_t> offsets = code_point_offsets(s.text);
  out.reserve(offsets.size() - 1);
  for (size_t k = 0; k + 1 < offsets.size(); ++k) out.push_back(slice_bytes(s, offsets[k], offsets[k + 1]));
  return out;
}

int64_t py_find(std::string_view s, std::string_view sub) {
  const size_t hit = s.find(sub);
  if (hit == std::string_view::npos) return -1;
  return static_cast<int64_t>(count_code_points(s.substr(0, hit)));
}

int64_t py_count(std::string_view s, std::string_view sub) {
  if (sub.empty()) return static_cast<int64_t>(count_code_points(s)) + 1;
  int64_t n = 0;
  for (size_t pos = s.find(sub); pos != std::string_view::npos; pos = s.find(sub, pos + sub.size())) ++n;
  return n;
}

}  // namespace sambay::jinja

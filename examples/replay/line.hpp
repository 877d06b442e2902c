#pragma once
// Reading one scenario line (SPEC §10) within bounds: at most max_line_bytes, JSON nested
// at most max_depth deep, every object's keys distinct, and numbers read from their
// decimal text so that seconds round to the microsecond exactly (halves away from zero).

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace chatroute::replay {

inline constexpr std::size_t max_line_bytes = std::size_t{1} << 20;  // 1 MiB
inline constexpr std::size_t max_depth = 64;

namespace detail {

using json = nlohmann::json;

// A number's decimal text read exactly: value = ±digits × 10^exponent.
struct Decimal {
    bool negative = false;
    std::string digits;         // significant digits, no leading or trailing zeros; empty for zero
    std::int64_t exponent = 0;  // value = digits * 10^exponent
};

// Reads a number's decimal text (JSON's, or with a leading '+'); empty when it is not one.
inline std::optional<Decimal> decimal_of(std::string_view text) {
    Decimal number;
    std::size_t i = 0;
    number.negative = i < text.size() && text[i] == '-';
    if (number.negative || (i < text.size() && text[i] == '+')) ++i;
    bool any = false, dot = false;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '.' && !dot) {
            dot = true;
        } else if (c >= '0' && c <= '9') {
            any = true;
            if (dot) --number.exponent;
            if (!(number.digits.empty() && c == '0')) number.digits.push_back(c);
        } else {
            break;
        }
    }
    if (!any) return std::nullopt;
    if (i < text.size()) {
        if (text[i] != 'e' && text[i] != 'E') return std::nullopt;
        ++i;
        bool minus = false;
        if (i < text.size() && (text[i] == '-' || text[i] == '+')) minus = text[i++] == '-';
        std::int64_t e = 0;
        bool e_digits = false;
        for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
            e_digits = true;
            if (e < 1'000'000) e = e * 10 + (text[i] - '0');
        }
        if (!e_digits || i != text.size()) return std::nullopt;
        number.exponent += minus ? -e : e;
    }
    // Trailing zeros moved into the exponent: "2.0" is 2 × 10^0, a whole number.
    while (!number.digits.empty() && number.digits.back() == '0') {
        number.digits.pop_back();
        ++number.exponent;
    }
    if (number.digits.empty()) number.exponent = 0;
    return number;
}

// Seconds written in decimal (a JSON number's text) to whole microseconds, rounded to
// the nearest, halves away from zero. Empty when the text is not a number or the value
// is not within ±10^12 seconds.
inline std::optional<std::int64_t> micros_of(std::string_view text) {
    const auto number = decimal_of(text);
    if (!number) return std::nullopt;
    const std::string& digits = number->digits;
    if (digits.empty()) return 0;
    // microseconds = digits * 10^(exponent + 6)
    const std::int64_t shift = number->exponent + 6;
    constexpr std::uint64_t bound = 1'000'000'000'000'000'000;  // 10^12 s in µs
    std::uint64_t whole = 0;
    bool round_up = false;
    const auto length = static_cast<std::int64_t>(digits.size());
    const std::int64_t kept = shift >= 0 ? length : length + shift;  // digits before the point
    if (kept + (shift > 0 ? shift : 0) > 19) return std::nullopt;
    for (std::int64_t k = 0; k < kept; ++k)
        whole = whole * 10 + static_cast<std::uint64_t>(digits[static_cast<std::size_t>(k)] - '0');
    for (std::int64_t k = 0; k < shift; ++k) whole *= 10;
    if (kept < length && kept >= 0) round_up = digits[static_cast<std::size_t>(kept)] >= '5';
    if (round_up) ++whole;
    if (whole > bound) return std::nullopt;
    const auto magnitude = static_cast<std::int64_t>(whole);
    return number->negative ? -magnitude : magnitude;
}

// Past every whole-number field's range (limits, priorities), and far from int64's end.
inline constexpr std::int64_t max_whole = 1'000'000'000'000'000;  // 10^15

// A whole number from 0 to max_whole from its decimal text (decision 25). Empty for a
// fraction however small (2.0000000000000001 and 1e-400 are not 2 and 0, although a
// double would round them there), a negative, a larger value, or text that is no number.
// "2", "2.0" and "2e0" are all 2; "-0" is 0.
inline std::optional<std::int64_t> whole_of(std::string_view text) {
    const auto number = decimal_of(text);
    if (!number) return std::nullopt;
    if (number->digits.empty()) return 0;
    if (number->negative || number->exponent < 0) return std::nullopt;
    if (static_cast<std::int64_t>(number->digits.size()) + number->exponent > 16) return std::nullopt;
    std::int64_t value = 0;
    for (char c : number->digits) value = value * 10 + (c - '0');
    for (std::int64_t k = 0; k < number->exponent; ++k) value *= 10;
    if (value > max_whole) return std::nullopt;
    return value;
}

// What one pass over a line found: whether it is one JSON object within the bounds, a
// repeated key anywhere, and the text of its top-level numbers.
struct LineScan {
    bool object = false;      // a whole JSON object within max_depth
    bool repeated_key = false;
    std::size_t at_count = 0;
    std::unordered_map<std::string, std::string> numbers;  // top-level key -> number text
    std::optional<std::string> tamed;  // the line with stand-ins for its huge numbers, if it has any (tame)

    // The text to parse for the line's fields: the line itself, or its tamed copy.
    [[nodiscard]] std::string_view json_text(std::string_view line) const { return tamed ? *tamed : line; }

    // The line's `at` in microseconds: empty unless given once, as a number in range.
    [[nodiscard]] std::optional<std::int64_t> at() const {
        if (!object || at_count != 1) return std::nullopt;
        auto it = numbers.find("at");
        if (it == numbers.end()) return std::nullopt;
        return micros_of(it->second);
    }
};

// Numbers' own texts by their place among the line's numbers (0 for the first).
using Originals = std::unordered_map<std::size_t, std::string>;

class Scanner {
public:
    using string_t = json::string_t;
    using number_integer_t = json::number_integer_t;
    using number_unsigned_t = json::number_unsigned_t;
    using number_float_t = json::number_float_t;
    using binary_t = json::binary_t;

    // `originals`: texts that tame() replaced, to record in their stead.
    Scanner(LineScan& scan, const Originals* originals) : scan_(scan), originals_(originals) {}

    // Whether nlohmann stopped at a number past a double's range (its error 406).
    [[nodiscard]] bool overflowed() const { return overflowed_; }

    bool null() { return value(); }
    bool boolean(bool) { return value(); }
    bool number_integer(number_integer_t v) { return number(std::to_string(v)); }
    bool number_unsigned(number_unsigned_t v) { return number(std::to_string(v)); }
    bool number_float(number_float_t, const string_t& text) { return number(text); }
    bool string(string_t&) { return value(); }
    bool binary(binary_t&) { return value(); }
    bool start_object(std::size_t) {
        if (++depth_ > max_depth) return false;
        keys_.emplace_back();
        return true;
    }
    bool key(string_t& name) {
        if (!keys_.back().insert(name).second) scan_.repeated_key = true;
        if (depth_ == 1) {
            key_ = name;
            if (name == "at") ++scan_.at_count;
        }
        return true;
    }
    bool end_object() {
        keys_.pop_back();
        --depth_;
        return true;
    }
    bool start_array(std::size_t) { return ++depth_ <= max_depth; }
    bool end_array() {
        --depth_;
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& error) {
        overflowed_ = error.id == 406;  // out_of_range.406: "number overflow parsing"
        return false;
    }

private:
    bool value() {
        if (depth_ == 1 && in_object()) scan_.numbers.erase(key_);
        return true;
    }
    bool number(const std::string& text) {
        const std::string& own = own_text(text);
        if (depth_ == 1 && in_object()) scan_.numbers[key_] = own;
        return true;
    }
    // A number's own text: the one tame() replaced at this place, else nlohmann's.
    const std::string& own_text(const std::string& text) {
        const std::size_t place = numbers_seen_++;
        if (originals_ == nullptr) return text;
        const auto original = originals_->find(place);
        return original == originals_->end() ? text : original->second;
    }
    [[nodiscard]] bool in_object() const { return keys_.size() == 1; }

    LineScan& scan_;
    const Originals* originals_;
    std::size_t numbers_seen_ = 0;
    bool overflowed_ = false;
    std::size_t depth_ = 0;
    std::vector<std::unordered_set<std::string>> keys_;
    std::string key_;
};

// JSON's number grammar, exactly: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
inline bool json_number(std::string_view text) {
    std::size_t i = 0;
    const auto digits = [&] {
        const std::size_t from = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
        return i > from;
    };
    if (i < text.size() && text[i] == '-') ++i;
    if (i < text.size() && text[i] == '0') {
        ++i;
    } else if (!digits()) {
        return false;
    }
    if (i < text.size() && text[i] == '.' && (++i, !digits())) return false;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
        if (!digits()) return false;
    }
    return i == text.size();
}

// A number of 10^308 or more: past a double's range (nlohmann refuses those), or near its end.
inline bool huge(std::string_view text) {
    const auto number = decimal_of(text);
    return number && static_cast<std::int64_t>(number->digits.size()) + number->exponent > 308;
}

// The line with each huge number replaced by a stand-in that nlohmann reads (1e300, past
// every field's range too), and the replaced texts by their place among the numbers.
// `1e400` is JSON (RFC 8259's grammar has no range), so SPEC §10 wants it well typed:
// the line's `at` stays usable (decision 45) and the field fails with invalid_argument.
// Only a whole token of JSON's number grammar outside strings is replaced, by another, so
// the copy is JSON exactly when the line is; it is never longer.
struct Tamed {
    std::string text;
    Originals originals;
};
inline Tamed tame(std::string_view line) {
    constexpr std::string_view number_chars = "0123456789+-.eE";
    Tamed out;
    out.text.reserve(line.size());
    std::size_t place = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < line.size();) {
        if (in_string || number_chars.find(line[i]) == std::string_view::npos) {
            if (line[i] == '"') {
                in_string = !in_string;
            } else if (in_string && line[i] == '\\' && i + 1 < line.size()) {
                out.text.push_back(line[i++]);  // the escaped character cannot end the string
            }
            out.text.push_back(line[i++]);
            continue;
        }
        const std::size_t end = std::min(line.find_first_not_of(number_chars, i), line.size());
        const std::string_view run = line.substr(i, end - i);
        i = end;
        const bool number = json_number(run);
        if (number && huge(run)) {
            out.originals.emplace(place, std::string(run));
            out.text += "1e300";
        } else {
            out.text += run;
        }
        if (number) ++place;
    }
    return out;
}

// One pass of nlohmann's SAX parser over `text`; true when it stopped at a huge number.
inline bool scan_pass(LineScan& result, std::string_view text, const Originals* originals) {
    result = LineScan{};
    Scanner scanner(result, originals);
    result.object = json::sax_parse(text.begin(), text.end(), &scanner);
    if (!result.object) result.numbers.clear();
    return scanner.overflowed();
}

// Scans a line; `object` is set only for one whole JSON object within the bounds. A line
// with a number past a double's range is scanned again, tamed.
inline LineScan scan(std::string_view text) {
    LineScan result;
    if (text.size() > max_line_bytes) return result;
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos || text[first] != '{') return result;
    if (!scan_pass(result, text, nullptr)) return result;
    Tamed tamed = tame(text);
    scan_pass(result, tamed.text, &tamed.originals);
    if (result.object) result.tamed = std::move(tamed.text);
    return result;
}

}  // namespace detail

// Reads the next line of `in` into `line`, keeping at most max_line_bytes of it (the rest
// is read and dropped). Returns false at the end of the input.
enum class LineRead { line, too_long, end };
inline LineRead read_line(std::istream& in, std::string& line) {
    line.clear();
    std::streambuf* buffer = in.rdbuf();
    if (buffer == nullptr) return LineRead::end;
    bool any = false, too_long = false;
    for (;;) {
        const int c = buffer->sbumpc();
        if (c == std::char_traits<char>::eof()) {
            in.setstate(std::ios::eofbit);
            break;
        }
        any = true;
        if (c == '\n') break;
        if (line.size() < max_line_bytes) {
            line.push_back(static_cast<char>(c));
        } else {
            too_long = true;
        }
    }
    if (!any) return LineRead::end;
    if (too_long) {
        line.clear();
        return LineRead::too_long;
    }
    return LineRead::line;
}

}  // namespace chatroute::replay

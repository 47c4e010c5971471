// JSON-semantic equality and the hash that agrees with it.
#include "detail.hpp"
#include "merge/merge.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

namespace merge {
namespace {

namespace json = boost::json;

// A number as an exact integer when it is one: sign + magnitude covers the whole of
// int64 and uint64, and an integral double within that range.
struct exact_int {
  bool negative;
  std::uint64_t magnitude;
  bool operator==(const exact_int&) const = default;
};

std::optional<exact_int> as_exact_int(const json::value& v) noexcept {
  switch (v.kind()) {
    case json::kind::int64: {
      const std::int64_t i = v.get_int64();
      if (i < 0) return exact_int{true, std::uint64_t{0} - static_cast<std::uint64_t>(i)};
      return exact_int{false, static_cast<std::uint64_t>(i)};
    }
    case json::kind::uint64: return exact_int{false, v.get_uint64()};
    case json::kind::double_: {
      const double d = v.get_double();
      if (!std::isfinite(d) || std::trunc(d) != d) return std::nullopt;
      constexpr double two63 = 9223372036854775808.0;
      constexpr double two64 = 18446744073709551616.0;
      if (d < -two63 || d >= two64) return std::nullopt;  // beyond any int64/uint64
      if (d < 0) {
        // -2^63 <= d < 0: the magnitude fits; -0.0 is zero and lands in the other branch.
        const double mag = -d;
        return exact_int{true, static_cast<std::uint64_t>(mag)};
      }
      return exact_int{false, static_cast<std::uint64_t>(d)};
    }
    default: return std::nullopt;
  }
}

exact_int normalise_zero(exact_int e) noexcept {
  if (e.magnitude == 0) e.negative = false;
  return e;
}

bool numbers_equal(const json::value& a, const json::value& b) noexcept {
  const auto ia = as_exact_int(a);
  const auto ib = as_exact_int(b);
  if (ia && ib) return normalise_zero(*ia) == normalise_zero(*ib);
  if (ia || ib) return false;  // one integral, the other not
  const double x = a.get_double(), y = b.get_double();
  // JSON text has no NaN, but Boost.JSON reads some literals as one (0e75808, found by
  // fuzz_merge): such a value must equal itself, or a union keeps it twice.
  if (std::isnan(x) && std::isnan(y)) return true;
  return x == y;
}

bool is_number(const json::value& v) noexcept { return v.is_number(); }

}  // namespace

bool json_equal(const json::value& a, const json::value& b) {
  std::vector<std::pair<const json::value*, const json::value*>> todo{{&a, &b}};
  while (!todo.empty()) {
    const auto [x, y] = todo.back();
    todo.pop_back();
    if (is_number(*x) && is_number(*y)) {
      if (!numbers_equal(*x, *y)) return false;
      continue;
    }
    if (x->kind() != y->kind()) return false;
    switch (x->kind()) {
      case json::kind::null: break;
      case json::kind::bool_:
        if (x->get_bool() != y->get_bool()) return false;
        break;
      case json::kind::string:
        if (x->get_string() != y->get_string()) return false;
        break;
      case json::kind::array: {
        const auto& xa = x->get_array();
        const auto& ya = y->get_array();
        if (xa.size() != ya.size()) return false;
        for (std::size_t i = 0; i < xa.size(); ++i) todo.emplace_back(&xa[i], &ya[i]);
        break;
      }
      case json::kind::object: {
        const auto& xo = x->get_object();
        const auto& yo = y->get_object();
        if (xo.size() != yo.size()) return false;  // objects never hold duplicate keys
        for (const auto& kv : xo) {
          const auto it = yo.find(kv.key());
          if (it == yo.end()) return false;
          todo.emplace_back(&kv.value(), &it->value());
        }
        break;
      }
      default: return false;  // unreachable: numbers handled above
    }
  }
  return true;
}

namespace detail {
namespace {

std::size_t mix(std::size_t h, std::size_t v) noexcept { return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)); }

std::size_t scalar_hash(const json::value& v) noexcept {
  switch (v.kind()) {
    case json::kind::null: return 0x6e756c6cU;
    case json::kind::bool_: return v.get_bool() ? 0x74727565U : 0x66616c73U;
    case json::kind::string: return std::hash<std::string_view>{}(v.get_string());
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: {
      if (const auto e = as_exact_int(v)) {
        const auto n = normalise_zero(*e);
        return mix(n.negative ? 1U : 2U, std::hash<std::uint64_t>{}(n.magnitude));
      }
      if (std::isnan(v.get_double())) return mix(4U, 0U);  // every NaN is equal (numbers_equal)
      return mix(3U, std::hash<double>{}(v.get_double()));
    }
    default: return 0;  // containers: see deep_hash
  }
}

}  // namespace

// Every level counts (a hash that stopped a few levels down put every element of
// [{"a":{"b":{"c":{"d":i}}}} ...] into one bucket, and union went quadratic). Iterative
// like every other walk: the depth is bounded by memory only.
std::size_t deep_hash(const json::value& v) {
  struct frame {
    const json::value* v;
    std::size_t next;
    std::size_t acc;       // arrays: ordered mix; objects: the commutative member sum
    std::size_t key_hash;  // objects: the key whose value is being hashed
  };
  if (!v.is_structured()) return scalar_hash(v);
  std::vector<frame> stack;
  std::size_t result = 0;
  auto open = [&](const json::value& c) {
    stack.push_back({&c, 0, c.is_array() ? mix(4U, c.get_array().size()) : 0, 0});
  };
  // Folds a finished child's hash into the frame on top.
  auto fold = [&](std::size_t h) {
    frame& f = stack.back();
    if (f.v->is_array())
      f.acc = mix(f.acc, h);
    else
      f.acc += mix(f.key_hash, h);  // order-independent: a commutative sum
  };
  open(v);
  while (!stack.empty()) {
    frame& f = stack.back();
    const std::size_t size = f.v->is_array() ? f.v->get_array().size() : f.v->get_object().size();
    if (f.next == size) {
      const std::size_t h = f.v->is_array() ? f.acc : mix(mix(5U, size), f.acc);
      stack.pop_back();
      if (stack.empty())
        result = h;
      else
        fold(h);
      continue;
    }
    const json::value* child = nullptr;
    if (f.v->is_array()) {
      child = &f.v->get_array()[f.next++];
    } else {
      const auto& kv = f.v->get_object().begin()[f.next++];
      f.key_hash = std::hash<std::string_view>{}(kv.key());
      child = &kv.value();
    }
    if (child->is_structured())
      open(*child);  // invalidates f
    else
      fold(scalar_hash(*child));
  }
  return result;
}

}  // namespace detail
}  // namespace merge

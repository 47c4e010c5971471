#include <wfa/host/expression.hpp>
#include <wfa/host/options.hpp>

#include <boost/json.hpp>

#include <future>
#include <memory>
#include <set>

namespace json = boost::json;

namespace wfa::host {

std::optional<field_ref> parse_field(std::string_view field) {
  auto slash = field.find('/', 1);
  if (field.size() < 4 || field[0] != '/' || slash == std::string_view::npos) return std::nullopt;
  return field_ref{std::string(field.substr(1, slash - 1)), std::string(field.substr(slash + 1))};
}

const json::value* find_field(const json::object& manifest, const field_ref& field) {
  if (const json::value* sec = manifest.if_contains(field.section); sec && sec->is_object())
    if (const json::value* props = sec->get_object().if_contains("properties"); props && props->is_object())
      return props->get_object().if_contains(field.name);
  return nullptr;
}

bool has_dynamic_options(const json::value& property) {
  return property.is_object() && property.get_object().contains("x-dynamic-options");
}

std::string literal_context(const flow_step& step) {
  json::object options, inputs;
  for (const auto& kv : step.options)
    if (!has_expression(kv.value())) options[kv.key()] = kv.value();
  for (const auto& kv : step.inputs)
    if (!has_expression(kv.value())) inputs[kv.key()] = kv.value();
  return json::serialize(json::object{{"options", std::move(options)}, {"inputs", std::move(inputs)}});
}

namespace {
// Waits for one page (the caller's thread just blocks: no io_context here).
op_result next_page(instance& inst, std::string_view action_id, std::string_view field, std::string_view context,
                    std::string_view page) {
  auto p = std::make_shared<std::promise<op_result>>();
  auto fut = p->get_future();
  inst.list_options(action_id, field, context, page, [p](op_result r) { p->set_value(std::move(r)); });
  return fut.get();
}
}  // namespace

option_list list_all_options(instance& inst, std::string_view action_id, std::string_view field,
                             std::string_view context_json, int max_pages) {
  option_list out;
  std::string page;
  std::set<std::string> seen;
  for (int pages = 0;; ++pages) {
    if (pages == max_pages) {
      out.result = option_list::outcome::cut;
      out.reason = "stopped after " + std::to_string(max_pages) + " pages, the plugin still gave a next page";
      return out;
    }
    op_result r = next_page(inst, action_id, field, context_json, page);
    if (r.code != WFA_OK) {
      out.result = option_list::outcome::plugin_error;
      out.error = std::move(r);
      return out;
    }
    boost::system::error_code ec;
    json::value v = json::parse(r.outputs_json, ec);
    const json::value* list = (!ec && v.is_object()) ? v.get_object().if_contains("items") : nullptr;
    if (!list || !list->is_array()) {
      out.result = option_list::outcome::bad_answer;
      return out;
    }
    for (const auto& it : list->get_array()) out.items.push_back(it);
    const json::value* next = v.get_object().if_contains("next_page_token");
    if (!next || !next->is_string() || next->get_string().empty()) return out;
    page = std::string(next->get_string());
    if (!seen.insert(page).second) {
      out.result = option_list::outcome::cut;
      out.reason =
          "page " + std::to_string(pages + 1) + " gave a next_page_token already seen, the pages would never end";
      return out;
    }
  }
}

}  // namespace wfa::host

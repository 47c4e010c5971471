#include "actions/errors.hpp"

namespace a0::actions {

namespace {
class action_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "a0.actions"; }
  std::string message(int ev) const override {
    switch (static_cast<action_errc>(ev)) {
      case action_errc::precondition_failed: return "the users' state does not allow it";
      case action_errc::patch_unconfirmed: return "the PATCH is not confirmed";
      case action_errc::user_too_large: return "the user would be too large";
      case action_errc::outputs_too_deep: return "the outputs nest too deep";
      case action_errc::output_file_failed: return "the output file could not be written";
    }
    return "unknown actions error";
  }
};
}  // namespace

const std::error_category& action_category() noexcept {
  static const action_category_impl c;
  return c;
}

std::error_code make_error_code(action_errc e) noexcept { return {static_cast<int>(e), action_category()}; }

}  // namespace a0::actions

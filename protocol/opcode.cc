#include "protocol/opcode.hpp"

#include <algorithm>
#include <array>

namespace tapharness::protocol {
namespace {

constexpr std::array kOpcodes{
    NamedValue<Opcode>{Opcode::get, "GET"},
    NamedValue<Opcode>{Opcode::set, "SET"},
    NamedValue<Opcode>{Opcode::add, "ADD"},
    NamedValue<Opcode>{Opcode::replace, "REPLACE"},
    NamedValue<Opcode>{Opcode::del, "DELETE"},
    NamedValue<Opcode>{Opcode::increment, "INCREMENT"},
    NamedValue<Opcode>{Opcode::decrement, "DECREMENT"},
    NamedValue<Opcode>{Opcode::quit, "QUIT"},
    NamedValue<Opcode>{Opcode::flush, "FLUSH"},
    NamedValue<Opcode>{Opcode::getq, "GETQ"},
    NamedValue<Opcode>{Opcode::noop, "NOOP"},
    NamedValue<Opcode>{Opcode::version, "VERSION"},
    NamedValue<Opcode>{Opcode::getk, "GETK"},
    NamedValue<Opcode>{Opcode::getkq, "GETKQ"},
    NamedValue<Opcode>{Opcode::append, "APPEND"},
    NamedValue<Opcode>{Opcode::prepend, "PREPEND"},
    NamedValue<Opcode>{Opcode::stat, "STAT"},
    NamedValue<Opcode>{Opcode::setq, "SETQ"},
    NamedValue<Opcode>{Opcode::addq, "ADDQ"},
    NamedValue<Opcode>{Opcode::replaceq, "REPLACEQ"},
    NamedValue<Opcode>{Opcode::deleteq, "DELETEQ"},
    NamedValue<Opcode>{Opcode::incrementq, "INCREMENTQ"},
    NamedValue<Opcode>{Opcode::decrementq, "DECREMENTQ"},
    NamedValue<Opcode>{Opcode::quitq, "QUITQ"},
    NamedValue<Opcode>{Opcode::flushq, "FLUSHQ"},
    NamedValue<Opcode>{Opcode::appendq, "APPENDQ"},
    NamedValue<Opcode>{Opcode::prependq, "PREPENDQ"},
    NamedValue<Opcode>{Opcode::touch, "TOUCH"},
    NamedValue<Opcode>{Opcode::gat, "GAT"},
    NamedValue<Opcode>{Opcode::gatq, "GATQ"},
    NamedValue<Opcode>{Opcode::hello, "HELLO"},
    NamedValue<Opcode>{Opcode::sasl_list_mechs, "SASL_LIST_MECHS"},
    NamedValue<Opcode>{Opcode::sasl_auth, "SASL_AUTH"},
    NamedValue<Opcode>{Opcode::sasl_step, "SASL_STEP"},
    NamedValue<Opcode>{Opcode::set_vbucket, "SET_VBUCKET"},
    NamedValue<Opcode>{Opcode::tap_connect, "TAP_CONNECT"},
    NamedValue<Opcode>{Opcode::tap_mutation, "TAP_MUTATION"},
    NamedValue<Opcode>{Opcode::tap_delete, "TAP_DELETE"},
    NamedValue<Opcode>{Opcode::tap_flush, "TAP_FLUSH"},
    NamedValue<Opcode>{Opcode::tap_opaque, "TAP_OPAQUE"},
    NamedValue<Opcode>{Opcode::tap_vbucket_set, "TAP_VBUCKET_SET"},
    NamedValue<Opcode>{Opcode::tap_checkpoint_start, "TAP_CHECKPOINT_START"},
    NamedValue<Opcode>{Opcode::tap_checkpoint_end, "TAP_CHECKPOINT_END"},
    NamedValue<Opcode>{Opcode::get_all_vb_seqnos, "GET_ALL_VB_SEQNOS"},
    NamedValue<Opcode>{Opcode::deregister_tap_client, "DEREGISTER_TAP_CLIENT"},
};

constexpr std::array kStatuses{
    NamedValue<Status>{Status::success, "SUCCESS"},
    NamedValue<Status>{Status::key_enoent, "KEY_ENOENT"},
    NamedValue<Status>{Status::key_eexists, "KEY_EEXISTS"},
    NamedValue<Status>{Status::e2big, "E2BIG"},
    NamedValue<Status>{Status::einval, "EINVAL"},
    NamedValue<Status>{Status::not_stored, "NOT_STORED"},
    NamedValue<Status>{Status::delta_badval, "DELTA_BADVAL"},
    NamedValue<Status>{Status::not_my_vbucket, "NOT_MY_VBUCKET"},
    NamedValue<Status>{Status::no_bucket, "NO_BUCKET"},
    NamedValue<Status>{Status::locked, "LOCKED"},
    NamedValue<Status>{Status::auth_stale, "AUTH_STALE"},
    NamedValue<Status>{Status::auth_error, "AUTH_ERROR"},
    NamedValue<Status>{Status::auth_continue, "AUTH_CONTINUE"},
    NamedValue<Status>{Status::erange, "ERANGE"},
    NamedValue<Status>{Status::rollback, "ROLLBACK"},
    NamedValue<Status>{Status::eaccess, "EACCESS"},
    NamedValue<Status>{Status::unknown_command, "UNKNOWN_COMMAND"},
    NamedValue<Status>{Status::enomem, "ENOMEM"},
    NamedValue<Status>{Status::not_supported, "NOT_SUPPORTED"},
    NamedValue<Status>{Status::einternal, "EINTERNAL"},
    NamedValue<Status>{Status::ebusy, "EBUSY"},
    NamedValue<Status>{Status::etmpfail, "ETMPFAIL"},
};

}  // namespace

std::span<const NamedValue<Opcode>> all_opcodes() { return kOpcodes; }
std::span<const NamedValue<Status>> all_statuses() { return kStatuses; }

std::string_view name_of(Magic magic) {
  switch (magic) {
    case Magic::request: return "REQUEST";
    case Magic::response: return "RESPONSE";
  }
  return {};
}

std::string_view name_of(Opcode opcode) { return find_name(all_opcodes(), opcode); }
std::string_view name_of(Status status) { return find_name(all_statuses(), status); }

std::optional<Opcode> opcode_from_name(std::string_view name) { return find_value(all_opcodes(), name); }
std::optional<Status> status_from_name(std::string_view name) { return find_value(all_statuses(), name); }

}  // namespace tapharness::protocol

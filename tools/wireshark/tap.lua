-- tap.lua: a Wireshark/tshark dissector for TAP over the memcached binary protocol
-- (Couchbase ep-engine replication), which Wireshark's own couchbase dissector gets wrong:
-- it does not know the TAP extras (engine-specific length, TAP flags, TTL), leaves out the
-- engine-specific bytes, so every TAP message draws "Illegal Extras length" and a shifted key,
-- and does not decode TAP_CONNECT's body.
--
-- Decodes, per frame: the 24-byte header; for TAP messages (0x41..0x47) the TAP extras, the
-- item flags and expiry (mutation layout), the engine-specific bytes (rev seqno, NRU, the
-- opaque sub-code, the vbucket state), key, value and checkpoint id; TAP_CONNECT's flags
-- and body (backfill date, vbucket list, checkpoint map); responses (ACKs and refusals) the
-- other way; SASL frames. Several frames per segment and frames across segments are
-- reassembled (dissect_tcp_pdus). Lengths that lie are expert errors (tap.malformed).
--
-- Use:
--   tshark -X lua_script:tools/wireshark/tap.lua -r run.pcapng -d tcp.port==11210,tap
--   tshark -X lua_script:tools/wireshark/tap.lua -o tap.port:11210 -r run.pcapng -T fields -e tap.opcode -e tap.key
-- Install: copy it to Wireshark's personal plugin folder (Help > About > Folders, "Personal
-- Lua Plugins", e.g. ~/.local/lib/wireshark/plugins/), then Analyze > Decode As... > TAP,
-- or set Preferences > Protocols > TAP > port. Field names: tshark -G fields | grep '^P\|tap\.'.
-- The README of tapharness, "Captures", says how its tests run it and what the built-in dissector says.

local tap = Proto("tap", "TAP over the memcached binary protocol")

local magics = { [0x80] = "Request", [0x81] = "Response" }
local opcodes = {
  [0x00] = "GET", [0x01] = "SET", [0x02] = "ADD", [0x03] = "REPLACE", [0x04] = "DELETE",
  [0x07] = "QUIT", [0x08] = "FLUSH", [0x0a] = "NOOP", [0x0b] = "VERSION", [0x10] = "STAT",
  [0x1f] = "HELLO", [0x20] = "SASL_LIST_MECHS", [0x21] = "SASL_AUTH", [0x22] = "SASL_STEP",
  [0x3d] = "SET_VBUCKET",
  [0x40] = "TAP_CONNECT", [0x41] = "TAP_MUTATION", [0x42] = "TAP_DELETE", [0x43] = "TAP_FLUSH",
  [0x44] = "TAP_OPAQUE", [0x45] = "TAP_VBUCKET_SET", [0x46] = "TAP_CHECKPOINT_START",
  [0x47] = "TAP_CHECKPOINT_END", [0x9e] = "DEREGISTER_TAP_CLIENT",
}
local statuses = {
  [0x0000] = "SUCCESS", [0x0001] = "KEY_ENOENT", [0x0002] = "KEY_EEXISTS", [0x0003] = "E2BIG",
  [0x0004] = "EINVAL", [0x0005] = "NOT_STORED", [0x0006] = "DELTA_BADVAL",
  [0x0007] = "NOT_MY_VBUCKET", [0x0008] = "NO_BUCKET", [0x0009] = "LOCKED",
  [0x001f] = "AUTH_STALE", [0x0020] = "AUTH_ERROR", [0x0021] = "AUTH_CONTINUE",
  [0x0022] = "ERANGE", [0x0023] = "ROLLBACK", [0x0024] = "EACCESS",
  [0x0081] = "UNKNOWN_COMMAND", [0x0082] = "ENOMEM", [0x0083] = "NOT_SUPPORTED",
  [0x0084] = "EINTERNAL", [0x0085] = "EBUSY", [0x0086] = "ETMPFAIL",
}
local opaque_codes = {
  [0] = "ENABLE_AUTO_NACK", [1] = "INITIAL_VBUCKET_STREAM", [2] = "ENABLE_CHECKPOINT_SYNC",
  [3] = "OPEN_CHECKPOINT", [4] = "COMPLETE_VB_FILTER_CHANGE", [5] = "STOP_ONLINEUPDATE",
  [6] = "REVERT_ONLINEUPDATE", [7] = "CLOSE_TAP_STREAM", [8] = "CLOSE_BACKFILL",
}
-- memcached's numbering (include/memcached/vbucket.h), not Wireshark's couchbase table.
local vbucket_states = { [1] = "active", [2] = "replica", [3] = "pending", [4] = "dead" }

local f = tap.fields
f.magic = ProtoField.uint8("tap.magic", "Magic", base.HEX, magics)
f.opcode = ProtoField.uint8("tap.opcode", "Opcode", base.HEX, opcodes)
f.keylen = ProtoField.uint16("tap.keylen", "Key length", base.DEC)
f.extlen = ProtoField.uint8("tap.extlen", "Extras length", base.DEC)
f.datatype = ProtoField.uint8("tap.datatype", "Data type", base.HEX)
f.vbucket = ProtoField.uint16("tap.vbucket", "VBucket", base.DEC)
f.status = ProtoField.uint16("tap.status", "Status", base.HEX, statuses)
f.bodylen = ProtoField.uint32("tap.bodylen", "Total body length", base.DEC)
f.opaque = ProtoField.uint32("tap.opaque", "Opaque", base.HEX)
f.cas = ProtoField.uint64("tap.cas", "CAS", base.DEC)
f.ack = ProtoField.bool("tap.ack", "ACK of a TAP message")  -- a response with a TAP opcode
-- TAP extras (the common 8 bytes of every TAP message)
f.engine_length = ProtoField.uint16("tap.engine_length", "Engine-specific length", base.DEC)
f.flags = ProtoField.uint16("tap.flags", "TAP flags", base.HEX)
f.flag_ack = ProtoField.bool("tap.flags.ack", "ACK", 16, nil, 0x0001)
f.flag_no_value = ProtoField.bool("tap.flags.no_value", "NO_VALUE", 16, nil, 0x0002)
f.flag_nbo = ProtoField.bool("tap.flags.network_byte_order", "NETWORK_BYTE_ORDER", 16, nil, 0x0004)
f.ttl = ProtoField.uint8("tap.ttl", "TTL", base.DEC)
f.reserved = ProtoField.uint24("tap.reserved", "Reserved", base.HEX)
f.item_flags = ProtoField.uint32("tap.item_flags", "Item flags", base.HEX)
f.expiry = ProtoField.uint32("tap.expiry", "Expiry", base.DEC)
f.extras = ProtoField.bytes("tap.extras", "Extras")
-- engine-specific bytes
f.engine = ProtoField.bytes("tap.engine", "Engine-specific bytes")
f.rev_seqno = ProtoField.uint64("tap.rev_seqno", "Rev seqno", base.DEC)
f.nru = ProtoField.uint8("tap.nru", "NRU", base.DEC)
f.opaque_code = ProtoField.uint32("tap.opaque_code", "TAP_OPAQUE code", base.DEC, opaque_codes)
f.vbucket_state = ProtoField.uint32("tap.vbucket_state", "VBucket state", base.DEC, vbucket_states)
f.key = ProtoField.string("tap.key", "Key")
f.value = ProtoField.bytes("tap.value", "Value")
f.value_text = ProtoField.string("tap.value.text", "Value (text)")
f.checkpoint_id = ProtoField.uint64("tap.checkpoint_id", "Checkpoint id", base.DEC)
-- TAP_CONNECT
f.c_flags = ProtoField.uint32("tap.connect.flags", "TAP_CONNECT flags", base.HEX)
local connect_bits = {
  { "backfill", "BACKFILL", 0x001 }, { "dump", "DUMP", 0x002 },
  { "list_vbuckets", "LIST_VBUCKETS", 0x004 }, { "takeover", "TAKEOVER_VBUCKETS", 0x008 },
  { "support_ack", "SUPPORT_ACK", 0x010 }, { "keys_only", "REQUEST_KEYS_ONLY", 0x020 },
  { "checkpoint", "CHECKPOINT", 0x040 }, { "registered_client", "REGISTERED_CLIENT", 0x080 },
  { "fix_flag_byteorder", "FIX_FLAG_BYTEORDER", 0x100 },
}
for _, b in ipairs(connect_bits) do
  f["cf_" .. b[1]] = ProtoField.bool("tap.connect.flags." .. b[1], b[2], 32, nil, b[3])
end
f.c_backfill = ProtoField.uint64("tap.connect.backfill", "Backfill date", base.DEC)
f.c_vb_count = ProtoField.uint16("tap.connect.vbucket_count", "VBucket count", base.DEC)
f.c_vb = ProtoField.uint16("tap.connect.vbucket", "VBucket", base.DEC)
f.c_cp_count = ProtoField.uint16("tap.connect.checkpoint_count", "Checkpoint count", base.DEC)
f.c_cp_vb = ProtoField.uint16("tap.connect.checkpoint_vbucket", "Checkpoint vbucket", base.DEC)
f.c_cp_id = ProtoField.uint64("tap.connect.checkpoint_id", "Last checkpoint id", base.DEC)
f.c_registered = ProtoField.uint8("tap.connect.closed_checkpoint_only", "Closed checkpoints only (old servers)")
f.c_trailing = ProtoField.bytes("tap.connect.trailing", "Bytes no flag accounts for")
-- SASL
f.sasl_mech = ProtoField.string("tap.sasl.mechanism", "SASL mechanism")
f.sasl_mechs = ProtoField.string("tap.sasl.mechanisms", "SASL mechanisms")
f.sasl_data = ProtoField.bytes("tap.sasl.data", "SASL data")

local e_malformed = ProtoExpert.new("tap.malformed", "Malformed TAP frame", expert.group.MALFORMED, expert.severity.ERROR)
local e_status = ProtoExpert.new("tap.status.error", "Response status is not SUCCESS", expert.group.RESPONSE_CODE, expert.severity.NOTE)
tap.experts = { e_malformed, e_status }

tap.prefs.port = Pref.uint("TCP port", 0, "Decode this TCP port as TAP (0: none; Decode As works too)")

local HEADER = 24

local function is_tap_message(op) return op >= 0x41 and op <= 0x47 end

-- The engine-specific bytes: named by what ep-engine puts there per opcode (protocol.md 4.2).
local function dissect_engine(tvb, tree, op, at, n)
  if n == 0 then return end
  local t = tree:add(f.engine, tvb(at, n))
  if (op == 0x41 or op == 0x42 or op == 0x46) and n >= 8 then
    t:add(f.rev_seqno, tvb(at, 8))
    if op == 0x41 and n >= 9 then t:add(f.nru, tvb(at + 8, 1)) end
  elseif op == 0x44 and n == 4 then
    t:add(f.opaque_code, tvb(at, 4))
  elseif op == 0x45 and n == 4 then
    t:add(f.vbucket_state, tvb(at, 4))
  end
end

-- TAP_CONNECT's body: the fields its flags announce, in order of increasing bit (3).
local function dissect_connect_body(tvb, pinfo, tree, flags, at, stop)
  local function short(what)
    tree:add_proto_expert_info(e_malformed, "TAP_CONNECT body too short for its " .. what)
  end
  if bit.band(flags, 0x001) ~= 0 then
    if stop - at < 8 then return short("backfill date") end
    tree:add(f.c_backfill, tvb(at, 8)); at = at + 8
  end
  if bit.band(flags, 0x004) ~= 0 then
    if stop - at < 2 then return short("vbucket count") end
    local n = tvb(at, 2):uint()
    tree:add(f.c_vb_count, tvb(at, 2)); at = at + 2
    if stop - at < 2 * n then return short("vbucket list") end
    for _ = 1, n do tree:add(f.c_vb, tvb(at, 2)); at = at + 2 end
  end
  if bit.band(flags, 0x040) ~= 0 and stop - at >= 2 then  -- a short map is M=0 (3)
    local m = tvb(at, 2):uint()
    tree:add(f.c_cp_count, tvb(at, 2)); at = at + 2
    if stop - at < 10 * m then return short("checkpoint map") end
    for _ = 1, m do
      tree:add(f.c_cp_vb, tvb(at, 2)); tree:add(f.c_cp_id, tvb(at + 2, 8)); at = at + 10
    end
  end
  if bit.band(flags, 0x080) ~= 0 and stop - at == 1 then
    tree:add(f.c_registered, tvb(at, 1)); at = at + 1
  end
  if at < stop then
    tree:add(f.c_trailing, tvb(at, stop - at))
    tree:add_proto_expert_info(e_malformed, "TAP_CONNECT body has bytes no flag accounts for")
  end
end

local function add_value(tree, tvb, at, n)
  if n <= 0 then return end
  local v = tree:add(f.value, tvb(at, n))
  local ok, text = pcall(function() return tvb(at, n):string() end)
  if ok and n <= 256 and not text:find("[%z\1-\8\14-\31\127-\255]") then v:add(f.value_text, tvb(at, n)) end
end

-- One whole frame at tvb(0, 24 + bodylen).
local function dissect_frame(tvb, pinfo, root)
  local magic = tvb(0, 1):uint()
  local tree = root:add(tap, tvb())
  if magic ~= 0x80 and magic ~= 0x81 then
    tree:add(f.magic, tvb(0, 1))
    tree:add_proto_expert_info(e_malformed, string.format("Not a memcached frame: magic 0x%02x", magic))
    return tvb:len()
  end
  local op = tvb(1, 1):uint()
  local keylen, extlen = tvb(2, 2):uint(), tvb(4, 1):uint()
  local bodylen = tvb(8, 4):uint()
  local request = magic == 0x80
  tree:add(f.magic, tvb(0, 1))
  tree:add(f.opcode, tvb(1, 1))
  tree:add(f.keylen, tvb(2, 2))
  tree:add(f.extlen, tvb(4, 1))
  tree:add(f.datatype, tvb(5, 1))
  if request then
    tree:add(f.vbucket, tvb(6, 2))
  else
    local st = tree:add(f.status, tvb(6, 2))
    if tvb(6, 2):uint() ~= 0 then st:add_proto_expert_info(e_status) end
  end
  tree:add(f.bodylen, tvb(8, 4))
  tree:add(f.opaque, tvb(12, 4))
  tree:add(f.cas, tvb(16, 8))
  local name = opcodes[op] or string.format("opcode 0x%02x", op)
  local summary
  if request then
    summary = name
  elseif is_tap_message(op) and tvb(6, 2):uint() == 0 then
    summary = "ACK " .. name
  elseif is_tap_message(op) then
    summary = "NACK " .. name .. " " .. (statuses[tvb(6, 2):uint()] or tostring(tvb(6, 2):uint()))
  else
    summary = name .. " response " .. (statuses[tvb(6, 2):uint()] or tostring(tvb(6, 2):uint()))
  end
  if not request and is_tap_message(op) then tree:add(f.ack, tvb(0, 1), true):set_generated() end
  summary = summary .. string.format(" opaque=0x%08x", tvb(12, 4):uint())
  if extlen + keylen > bodylen then
    tree:add_proto_expert_info(e_malformed, string.format("extlen %d + keylen %d exceed bodylen %d", extlen, keylen, bodylen))
    pinfo.cols.info:append(summary .. " [malformed] ")
    return HEADER + bodylen
  end
  local at, stop = HEADER, HEADER + bodylen
  local engine = 0
  if request and is_tap_message(op) then
    if extlen < 8 then
      if extlen > 0 then tree:add(f.extras, tvb(at, extlen)) end
      tree:add_proto_expert_info(e_malformed, string.format("TAP message with %d extras bytes: the TAP prefix has 8", extlen))
      at = at + extlen
    else
      local x = tree:add(tap, tvb(at, extlen), "TAP extras")
      engine = tvb(at, 2):uint()
      x:add(f.engine_length, tvb(at, 2))
      local fl = x:add(f.flags, tvb(at + 2, 2))
      fl:add(f.flag_ack, tvb(at + 2, 2))
      fl:add(f.flag_no_value, tvb(at + 2, 2))
      fl:add(f.flag_nbo, tvb(at + 2, 2))
      x:add(f.ttl, tvb(at + 4, 1))
      x:add(f.reserved, tvb(at + 5, 3))
      if extlen >= 16 then
        x:add(f.item_flags, tvb(at + 8, 4))
        x:add(f.expiry, tvb(at + 12, 4))
      end
      if bit.band(tvb(at + 2, 2):uint(), 1) ~= 0 then summary = summary .. " [ack]" end
      summary = summary .. " vb=" .. tvb(6, 2):uint()
      at = at + extlen
    end
    if extlen + engine + keylen > bodylen then
      tree:add_proto_expert_info(e_malformed,
        string.format("engine-specific length %d leaves too few body bytes for the key", engine))
      pinfo.cols.info:append(summary .. " [malformed] ")
      return HEADER + bodylen
    end
    dissect_engine(tvb, tree, op, at, engine)
    at = at + engine
  elseif op == 0x40 and request then
    if extlen == 4 then
      local cf = tree:add(f.c_flags, tvb(at, 4))
      for _, b in ipairs(connect_bits) do cf:add(f["cf_" .. b[1]], tvb(at, 4)) end
    elseif extlen > 0 then
      tree:add(f.extras, tvb(at, extlen))
    end
  elseif extlen > 0 then
    tree:add(f.extras, tvb(at, extlen))
  end
  local extras_at = HEADER
  at = math.max(at, HEADER + extlen)
  if keylen > 0 then
    local k = tvb(at, keylen)
    tree:add(f.key, k)
    if op >= 0x20 and op <= 0x22 and request then tree:add(f.sasl_mech, k) end
    summary = summary .. " key=" .. k:string()
    at = at + keylen
  end
  local n = stop - at
  if op == 0x40 and request then
    dissect_connect_body(tvb, pinfo, tree, extlen == 4 and tvb(extras_at, 4):uint() or 0, at, stop)
  elseif request and (op == 0x46 or op == 0x47) and n == 8 then
    tree:add(f.checkpoint_id, tvb(at, 8))
    summary = summary .. " id=" .. tostring(tvb(at, 8):uint64())
  elseif op == 0x20 and not request and n > 0 then
    tree:add(f.sasl_mechs, tvb(at, n))
  elseif (op == 0x21 or op == 0x22) and n > 0 then
    tree:add(f.sasl_data, tvb(at, n))
  else
    add_value(tree, tvb, at, n)
  end
  if op == 0x44 and request and engine == 4 then
    summary = summary .. " " .. (opaque_codes[tvb(HEADER + extlen, 4):uint()] or "code " .. tvb(HEADER + extlen, 4):uint())
  end
  pinfo.cols.info:append(summary .. " ")
  return HEADER + bodylen
end

-- A frame's length from its header; a byte that is no magic takes the rest of the segment.
local function frame_length(tvb, pinfo, offset)
  local magic = tvb(offset, 1):uint()
  if magic ~= 0x80 and magic ~= 0x81 then return tvb:len() - offset end
  return HEADER + tvb(offset + 8, 4):uint()
end

function tap.dissector(tvb, pinfo, tree)
  pinfo.cols.protocol = "TAP"
  pinfo.cols.info = ""
  local magic = tvb(0, 1):uint()
  if magic ~= 0x80 and magic ~= 0x81 then  -- not at a frame boundary: say so, use nothing
    local t = tree:add(tap, tvb())
    t:add_proto_expert_info(e_malformed, string.format("Not a memcached frame: magic 0x%02x", magic))
    return tvb:len()
  end
  dissect_tcp_pdus(tvb, tree, HEADER, frame_length, function(frame, p, t)
    return dissect_frame(frame, p, t)
  end, true)
  return tvb:len()
end

DissectorTable.get("tcp.port"):add_for_decode_as(tap)

local registered = 0
function tap.prefs_changed()
  local ports = DissectorTable.get("tcp.port")
  if registered ~= 0 then ports:remove(registered, tap) end
  registered = tap.prefs.port
  if registered ~= 0 then ports:add(registered, tap) end
end

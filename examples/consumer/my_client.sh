#!/bin/sh
# The team's client: tap_tail from tapharness's runfiles, given every argument.
here=$(dirname "$0")
for tail in "$here/my_client.runfiles/tapharness/client/tap_tail" "../tapharness/client/tap_tail"; do
  [ -x "$tail" ] && exec "$tail" "$@"
done
echo "my_client: tap_tail not found in the runfiles" >&2
exit 2

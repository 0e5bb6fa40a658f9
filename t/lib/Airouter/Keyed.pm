package Airouter::Keyed;

#
# The router_config.yaml of the suites that bill keys (t/730, t/732):
# auth on, the key sk-alice ("alice") and any the block adds, the admin
# token adm-secret, the suite's own channels (and other sections), model
# discovery off (configured models only) and no context filter.
#
#   keyed_yaml($channels_yaml)                        alice's router
#   keyed_yaml($channels_yaml, capped_key(0.10))      and key "capped"
#                                                     (sk-capped) with
#                                                     that daily budget
#   $Airouter::Keyed::Admin                           the admin header
#

use strict;
use warnings;

use Exporter 'import';
our @EXPORT = qw(keyed_yaml capped_key);

our $Admin = "Authorization: Bearer adm-secret";

sub keyed_yaml {
    my ($rest, $keys) = @_;
    return "auth:\n  enabled: true\n  api_keys:\n"
        . "    - name: alice\n      key: \"sk-alice\"\n" . ($keys // '')
        . "  admin:\n    enabled: true\n    admin_token: \"adm-secret\"\n"
        . $rest
        . "tasks:\n  model_discovery:\n    enabled: false\n"
        . "routing:\n  model_filters:\n    min_context_length: 0\n";
}

sub capped_key {
    my ($budget) = @_;
    return "    - name: capped\n      key: \"sk-capped\"\n"
        . "      daily_budget: $budget\n";
}

1;

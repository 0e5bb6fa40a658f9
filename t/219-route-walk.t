# The memo's walk (#16 item 2): a worker keeps a query's entries sorted by
# their best possible total, exact for the entries live state knows
# nothing of, and stops once what is left cannot beat the candidates it
# kept.  Live state's version tells it when an entry became known.  Five
# channels serve gpt-test alike (priorities 1 to 5); max_retry_attempts 1
# keeps three candidates, so the walk stops before "e".  Once "e" has been
# measured fast (three answers: its speed counts), speed_optimized must
# rank it first; a walk that still took "e" for unknown would never reach
# it and answer from "a".
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Airouter::Check;

no_shuffle();
log_level('info');

sub chat {
    my ($members) = @_;
    return "POST /v1/chat/completions\n{\"model\": \"gpt-test\", $members"
        . "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}";
}

sub order {
    my ($channel) = @_;
    return chat("\"provider\": {\"order\": [\"$channel\"]}, ");
}

my $yaml = yaml_channels("  max_retry_attempts: 1\n",
                         map { [$_, "ok"] } qw(a b c d e));

# ten channels: the view's cache of 8 entries holds "a" (entry 0) and "i"
# (entry 8) in one slot
sub yaml10 {
    return yaml_channels("", map { [$_, "ok"] } qw(a b c d e f g h i j));
}

install_checks();
airouter_blocks(mock => mock_http_config(), config => mock_config(),
                user_files => ">>> router_config.yaml\n$yaml",
                no_error_log => "[error]\n[alert]");

run_tests();

__DATA__

=== TEST 1: nothing known: the priority decides, the walk stops after three
--- request eval
[main::chat(''), main::chat('')]
--- more_headers
X-Router-Strategy: speed_optimized
--- response_headers eval
["X-Router-Channel: a", "X-Router-Channel: a"]



=== TEST 2: a channel measured fast after the memo sorted the query is ranked first
The first two requests sort gpt-test's entries with nothing known of "e"
(and make "a" known); then three answers from "e" make its speed count.
--- request eval
[main::chat(''), main::chat(''), main::order("e"), main::order("e"),
 main::order("e"), main::chat(''), main::chat('')]
--- more_headers
X-Router-Strategy: speed_optimized
--- response_headers eval
["X-Router-Channel: a", "X-Router-Channel: a", "X-Router-Channel: e",
 "X-Router-Channel: e", "X-Router-Channel: e", "X-Router-Channel: e",
 "X-Router-Channel: e"]



=== TEST 3: explain (the full path, no memo) agrees
--- request eval
[main::chat(''), main::order("e"), main::order("e"), main::order("e"),
 main::chat(''), "POST /v1/route\n{\"model\": \"gpt-test\"}"]
--- more_headers
X-Router-Strategy: speed_optimized
--- check_json
$j->{candidates}[0]{channel} eq "e" && $j->{candidates}[1]{channel} eq "a"



=== TEST 4: each candidate's live scores are its own, also when the view's cache holds another entry in its slot
"a" measured fast, "i" (entry 8, the same slot of the view's cache as
"a") never tried: explain reads the availability of all ten, then the
scores of the candidates it keeps.
--- user_files eval
">>> router_config.yaml\n" . main::yaml10()
--- request eval
[main::order("a"), main::order("a"), main::order("a"),
 "POST /v1/route\n{\"model\": \"gpt-test\"}"]
--- more_headers
X-Router-Strategy: speed_optimized
--- check_json
my ($i) = grep { $_->{channel} eq "i" } @{ $j->{candidates} };
$j->{candidates}[0]{channel} eq "a"
&& $j->{candidates}[0]{scores}{speed_score} > 0.9
&& defined $i && $i->{scores}{speed_score} == 0.5

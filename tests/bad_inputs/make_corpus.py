"""Write the bad-input corpus: the valid BASE scenario with one defect per file, and manifest.csv.

Run from anywhere: ``python tests/bad_inputs/make_corpus.py``. Each case names the line
where dagsim must report the defect; tests/test_bad_inputs.py checks them through the CLI.
"""

import csv
import pathlib

BASE = """\
# dagsim bad-input corpus: every file here is this valid scenario with one defect.
name: corpus-base
sites:
  - {name: A}
  - {name: B}
links:
  - name: WAN
    sites: [A, B]
    bandwidth: 100Mbps
    latency: 20ms
dag:
  witness: {host: FSW1, site: A}
  same_subnet_threshold: 5
servers:
  - {name: MBX1, site: A}
  - {name: MBX2, site: B}
databases:
  - name: DB1
    mailboxes: 500
    message_profile: {messages_per_day: 100, average_message_size: 75KB}
    log_volume_size: 100GB
    copies:
      - {server: MBX1, activation_preference: 1}
      - {server: MBX2, activation_preference: 2, replay_lag_time: 0s}
active_manager:
  acll_timeout: 10s
transport:
  safety_net_hold_time: 2d
timeline:
  - {at: 1h, action: fail_server, server: MBX1}
  - {at: 2h, action: restore_server, server: MBX1}
run:
  duration: 6h
  seed: 1
  sample_interval: 5m
"""
base = BASE.splitlines()
out = pathlib.Path(__file__).resolve().parent
D400 = "9" * 400
def rep(n, text):
    def f(lines):
        lines = list(lines)
        lines[n - 1] = text
        return lines
    return f
def ins(n, text):  # insert as new line n
    def f(lines):
        lines = list(lines)
        lines.insert(n - 1, text)
        return lines
    return f
def trunc(n, keep):
    def f(lines):
        return lines[: n - 1] + [lines[n - 1][:keep]]
    return f
cases = [
 # (file, transform, expected line, what is wrong)
 ("at-400-digits", rep(30, f"  - {{at: {D400}m, action: fail_server, server: MBX1}}"), 30, "a 400-digit duration overflows to infinity"),
 ("at-1e400", rep(30, "  - {at: 1e400, action: fail_server, server: MBX1}"), 30, "a plain number beyond float range"),
 ("at-negative", rep(30, "  - {at: -1h, action: fail_server, server: MBX1}"), 30, "an action before the start"),
 ("at-after-end", rep(31, "  - {at: 7h, action: restore_server, server: MBX1}"), 31, "an action after the end of the run"),
 ("at-text", rep(30, "  - {at: noon, action: fail_server, server: MBX1}"), 30, "a duration that is not a number"),
 ("bandwidth-400-digits", rep(9, f"    bandwidth: {D400}Gbps"), 9, "bandwidth overflow"),
 ("bandwidth-inf", rep(9, "    bandwidth: .inf"), 9, "infinite bandwidth"),
 ("bandwidth-negative", rep(9, "    bandwidth: -100Mbps"), 9, "negative bandwidth"),
 ("bandwidth-unit", rep(9, "    bandwidth: 100Mbfs"), 9, "unknown unit"),
 ("bandwidth-missing", rep(9, "    bandwidth:"), 9, "null bandwidth"),
 ("latency-negative", rep(10, "    latency: -5ms"), 10, "negative latency"),
 ("latency-1e400", rep(10, "    latency: 1e400"), 10, "latency overflow"),
 ("latency-nan", rep(10, "    latency: .nan"), 10, "NaN latency"),
 ("log-volume-zero", rep(21, "    log_volume_size: 0"), 21, "a log volume of zero bytes"),
 ("log-volume-tiny", rep(21, "    log_volume_size: 10KB"), 21, "a log volume smaller than one log"),
 ("log-volume-400-digits", rep(21, f"    log_volume_size: {D400}TB"), 21, "size overflow"),
 ("log-volume-negative", rep(21, "    log_volume_size: -5GB"), 21, "negative size"),
 ("message-size-zero", rep(20, "    message_profile: {messages_per_day: 100, average_message_size: 0KB}"), 20, "empty messages"),
 ("messages-nan", rep(20, "    message_profile: {messages_per_day: .nan, average_message_size: 75KB}"), 20, "NaN message rate"),
 ("messages-1e400", rep(20, "    message_profile: {messages_per_day: 1e400, average_message_size: 75KB}"), 20, "infinite message rate"),
 ("messages-huge", rep(20, "    message_profile: {messages_per_day: 1e9, average_message_size: 75KB}"), 20, "a billion messages per mailbox per day"),
 ("messages-bool", rep(20, "    message_profile: {messages_per_day: yes, average_message_size: 75KB}"), 20, "a boolean message rate"),
 ("mailboxes-yes", rep(19, "    mailboxes: yes"), 19, "YAML boolean as a count"),
 ("mailboxes-1e400", rep(19, "    mailboxes: 1e400"), 19, "infinite mailboxes"),
 ("mailboxes-ten-billion", rep(19, "    mailboxes: 10000000000"), 19, "more mailboxes than the limit"),
 ("mailboxes-negative", rep(19, "    mailboxes: -1"), 19, "negative count"),
 ("mailboxes-fraction", rep(19, "    mailboxes: 12.5"), 19, "fractional count"),
 ("mailboxes-text", rep(19, "    mailboxes: many"), 19, "text as a count"),
 ("logs-per-day-huge", ins(21, "    logs_per_day: 1e12"), 21, "astronomical log generation"),
 ("logs-per-day-inf", ins(21, "    logs_per_day: .inf"), 21, "infinite log generation"),
 ("hourly-too-long", ins(21, "    hourly_distribution: [" + ", ".join(["1"] * 2000) + "]"), 21, "2,000 hourly weights"),
 ("hourly-negative", ins(21, "    hourly_distribution: [-1, 2]"), 21, "negative weight"),
 ("preference-true", rep(23, "      - {server: MBX1, activation_preference: true}"), 23, "YAML boolean as a preference"),
 ("preference-zero", rep(23, "      - {server: MBX1, activation_preference: 0}"), 23, "preference below 1"),
 ("preference-duplicate", rep(24, "      - {server: MBX2, activation_preference: 1, replay_lag_time: 0s}"), 24, "two copies with preference 1"),
 ("preference-huge", rep(23, f"      - {{server: MBX1, activation_preference: {D400}}}"), 23, "a 400-digit integer"),
 ("lag-15-days", rep(24, "      - {server: MBX2, activation_preference: 2, replay_lag_time: 15d}"), 24, "replay lag above 14 days"),
 ("lag-negative", rep(24, "      - {server: MBX2, activation_preference: 2, replay_lag_time: -1h}"), 24, "negative lag"),
 ("copy-unknown-server", rep(24, "      - {server: MBX9, activation_preference: 2, replay_lag_time: 0s}"), 24, "copy on a server that does not exist"),
 ("copy-same-server", rep(24, "      - {server: MBX1, activation_preference: 2, replay_lag_time: 0s}"), 24, "two copies on one server"),
 ("copy-unknown-key", rep(23, "      - {server: MBX1, activation_preferance: 1}"), 23, "misspelt key"),
 ("copies-string", lambda l: l[:21] + ["    copies: MBX1"] + l[24:], 22, "a string where a list belongs"),
 ("threshold-yes", rep(13, "  same_subnet_threshold: yes"), 13, "YAML boolean as a threshold"),
 ("threshold-zero", rep(13, "  same_subnet_threshold: 0"), 13, "threshold below 1"),
 ("threshold-huge", rep(13, "  same_subnet_threshold: 1000000000"), 13, "threshold above the limit"),
 ("compression-ratio-2", ins(13, "  compression_ratio: 2"), 13, "compression ratio above 1"),
 ("dac-maybe", ins(13, "  datacenter_activation_mode: maybe"), 13, "unknown DAC mode"),
 ("witness-unknown-site", rep(12, "  witness: {host: FSW1, site: Z}"), 12, "witness in a site that does not exist"),
 ("dag-list", lambda l: l[:10] + ["dag: [1, 2]"] + l[13:], 11, "a list where a mapping belongs"),
 ("server-unknown-site", rep(16, "  - {name: MBX2, site: C}"), 16, "server in a site that does not exist"),
 ("server-duplicate", rep(16, "  - {name: MBX1, site: B}"), 16, "two servers with one name"),
 ("replay-rate-inf", rep(16, "  - {name: MBX2, site: B, replay_rate: .inf}"), 16, "infinite replay rate"),
 ("replay-rate-zero", rep(16, "  - {name: MBX2, site: B, replay_rate: 0}"), 16, "zero replay rate"),
 ("max-active-bool", rep(16, "  - {name: MBX2, site: B, maximum_active_databases: on}"), 16, "YAML boolean as a count"),
 ("edition-unknown", rep(16, "  - {name: MBX2, site: B, edition: ultimate}"), 16, "unknown edition"),
 ("link-unknown-site", rep(8, "    sites: [A, Q]"), 8, "link to a site that does not exist"),
 ("link-three-sites", rep(8, "    sites: [A, B, A]"), 8, "a link between three sites"),
 ("servers-empty", lambda l: l[:13] + ["servers: []"] + l[16:], 14, "no servers"),
 ("acll-inf", rep(26, "  acll_timeout: .inf"), 26, "infinite ACLL timeout"),
 ("safety-net-text", rep(28, "  safety_net_hold_time: two days"), 28, "text as a duration"),
 ("safety-net-typo", rep(28, "  safety_net_hold_tim: 2d"), 28, "misspelt key"),
 ("action-unknown", rep(30, "  - {at: 1h, action: explode_server, server: MBX1}"), 30, "unknown action"),
 ("action-unknown-server", rep(30, "  - {at: 1h, action: fail_server, server: MBX9}"), 30, "action on a server that does not exist"),
 ("action-missing-field", rep(30, "  - {at: 1h, action: fail_server}"), 30, "action without its server"),
 ("restart-negative", rep(30, "  - {at: 1h, action: crash_store, server: MBX1, restart_after: -1s}"), 30, "negative restart time"),
 ("per-log-with-failures", rep(35, "  mode: per_log"), 30, "per_log mode cannot play a server failure"),
 ("seed-on", rep(34, "  seed: on"), 34, "YAML boolean as a seed"),
 ("seed-negative", rep(34, "  seed: -1"), 34, "negative seed"),
 ("seed-too-big", rep(34, "  seed: 18446744073709551616"), 34, "seed beyond 64 bits"),
 ("seed-5000-digits", rep(34, "  seed: " + "9" * 5000), 34, "an integer too long for Python to convert"),
 ("seed-fraction", rep(34, "  seed: 1.5"), 34, "fractional seed"),
 ("duration-500y", rep(33, "  duration: 500y"), 33, "a run of centuries"),
 ("duration-zero", rep(33, "  duration: 0s"), 33, "an empty run"),
 ("duration-text", rep(33, "  duration: forever"), 33, "text as a duration"),
 ("duration-1e400", rep(33, "  duration: 1e400s"), 33, "infinite run"),
 ("sample-interval-1ms", rep(35, "  sample_interval: 1ms"), 35, "21.6 million samples of every copy"),
 ("sample-interval-zero", rep(35, "  sample_interval: 0s"), 35, "zero sample interval"),
 ("run-unknown-key", rep(35, "  sampel_interval: 5m"), 35, "misspelt key"),
 ("top-unknown-key", ins(3, "colour: blue"), 3, "unknown top-level key"),
 ("yaml-tab", rep(19, "\tmailboxes: 500"), 19, "a tab in indentation"),
 ("yaml-unclosed-quote", rep(18, '  - name: "DB1'), 18, "a quote that never closes"),
 ("yaml-unclosed-list", rep(8, "    sites: [A, B"), 8, "a flow list that never closes"),
 ("yaml-unclosed-mapping", rep(15, "  - {name: MBX1, site: A"), 15, "a flow mapping that never closes"),
 ("yaml-bad-indent", rep(19, "      mailboxes: 500"), 19, "indentation that breaks the mapping"),
 ("yaml-duplicate-key", rep(21, "    mailboxes: 600"), 21, "a key given twice"),
 ("yaml-undefined-alias", rep(19, "    mailboxes: *nothing"), 19, "an alias to no anchor"),
 ("yaml-deep-nesting", rep(20, "    message_profile: " + "[" * 40 + "]" * 40), 20, "nesting 40 levels deep"),
 ("yaml-alias-bomb", ins(36, "bomb: [&a [1,1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d], &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]]"), 36, "an alias bomb"),
 ("yaml-python-tag", rep(2, "name: !!python/object/apply:os.system [echo hi]"), 2, "a Python object tag"),
 ("yaml-custom-tag", rep(9, "    bandwidth: !fast 100Mbps"), 9, "an unknown tag"),
 ("yaml-truncated", trunc(24, 30), 24, "the file ends inside a flow mapping"),
 ("yaml-top-level-list", lambda l: ["- name: corpus-base", "- sites: []"], 1, "a list instead of a scenario"),
 ("per-log-too-long", lambda l: l[:29] + ["  - {at: 1h, action: fail_link, link: WAN}", "  - {at: 2h, action: restore_link, link: WAN}", "run:", "  duration: 3y", "  mode: per_log", "  sample_interval: 1h"], 34, "per_log mode over three years of every log"),
 ("sample-times-year-1s", lambda l: l[:32] + ["  duration: 1y", "  seed: 1", "  sample_interval: 1s"], 35, "31 million samples over a year"),
 ("mailboxes-huge-profile", rep(20, "    message_profile: {messages_per_day: 100000, average_message_size: 2GB}"), 19, "generation beyond the logs-per-day limit"),
 ("yaml-second-document", ins(36, "--- {name: other}"), 36, "a second YAML document"),
]
with open(out / "manifest.csv", "w", newline="") as fh:
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(["file", "line", "defect"])
    for name, f, line, what in cases:
        lines = f(base)
        (out / f"{name}.yaml").write_text("\n".join(lines) + "\n")
        w.writerow([f"{name}.yaml", line, what])
# byte-level defects
lines = [l.encode() for l in base]
b = list(lines)
b[18] = b"    mailboxes: 5\x00\x0100"
(out / "bytes-control-chars.yaml").write_bytes(b"\n".join(b) + b"\n")
b = list(lines)
b[17] = b"  - name: DB\xff\xfe1"
(out / "bytes-invalid-utf8.yaml").write_bytes(b"\n".join(b) + b"\n")
(out / "empty.yaml").write_bytes(b"")
(out / "base.yaml.txt").write_text(BASE)
with open(out / "manifest.csv", "a", newline="") as fh:
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(["bytes-control-chars.yaml", 19, "control characters inside a value"])
    w.writerow(["bytes-invalid-utf8.yaml", 18, "bytes that are not UTF-8"])
    w.writerow(["empty.yaml", 1, "an empty file"])

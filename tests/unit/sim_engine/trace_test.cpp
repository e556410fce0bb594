#include "simulator/engine/trace.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "simulator/engine/rng.hpp"
#include "simulator/engine/scheduler.hpp"

namespace mailsim::sim {
namespace {

using core::duration_ms;

TEST(TraceFormat, TimeIsIsoUtcWithMilliseconds) {
  EXPECT_EQ(format_time(core::from_epoch_ms(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time(default_start), "2023-11-14T22:13:20.000Z");
  // 2024-02-29T23:59:59.999Z: a leap day, the last millisecond of it.
  EXPECT_EQ(format_time(core::from_epoch_ms(1'709'251'199'999)), "2024-02-29T23:59:59.999Z");
  // Past four digits of year the year is written whole.
  EXPECT_EQ(format_time(core::from_epoch_ms(253'402'300'800'000)), "10000-01-01T00:00:00.000Z");
}

TEST(TraceFormat, TimeAgreesWithTheCLibraryOverTwoCenturies) {
  // Spread over 1970-2170 by a fixed stride that visits every field's values.
  for (long long ms = 0; ms < 6'311'390'400'000; ms += 7'777'777'777) {
    const std::time_t seconds = ms / 1000;
    std::tm utc{};
    ASSERT_NE(gmtime_r(&seconds, &utc), nullptr);
    char expected[96];
    std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ",
                  utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                  utc.tm_sec, ms % 1000);
    ASSERT_EQ(format_time(core::from_epoch_ms(ms)), expected) << ms;
  }
}

TEST(TraceFormat, ALineIsTimeSourceText) {
  EXPECT_EQ(format_line(default_start, "net", "c1 connected", 100),
            "2023-11-14T22:13:20.000Z net c1 connected\n");
}

TEST(TraceFormat, TextControlBytesAreEscapedSoAnEventIsOneLine) {
  EXPECT_EQ(format_line(default_start, "x", "a\r\nb\x7f\xc3\xa9", 100),
            "2023-11-14T22:13:20.000Z x a\\x0d\\x0ab\\x7f\\xc3\\xa9\n");
}

TEST(TraceFormat, SourceKeepsOnlyItsAlphabet) {
  EXPECT_EQ(format_line(default_start, "mx 1\n", "t", 100), "2023-11-14T22:13:20.000Z mx_1_ t\n");
  EXPECT_EQ(format_line(default_start, "", "t", 100), "2023-11-14T22:13:20.000Z - t\n");
  EXPECT_EQ(format_line(default_start, "mx1.gmail.sim:25/a@b#1+x-y_z", "t", 100),
            "2023-11-14T22:13:20.000Z mx1.gmail.sim:25/a@b#1+x-y_z t\n");
}

TEST(TraceFormat, LongTextIsCutWithACount) {
  EXPECT_EQ(format_line(default_start, "s", "abcdefgh", 3),
            "2023-11-14T22:13:20.000Z s abc...(+5)\n");
}

TEST(TraceFormat, QuoteBytesUsesCEscapesAndCuts) {
  EXPECT_EQ(quote_bytes("EHLO a\r\n", 100), "\"EHLO a\\r\\n\"");
  EXPECT_EQ(quote_bytes(std::string("\t\\\"\0\xff", 5), 100), "\"\\t\\\\\\\"\\x00\\xff\"");
  EXPECT_EQ(quote_bytes("abcdef", 2), "\"ab\"...(+4)");
}

TEST(MemorySink, KeepsTheLastLinesAndCountsTheDropped) {
  memory_sink sink(2);
  sink.write("a\n");
  sink.write("b\n");
  sink.write("c\n");
  EXPECT_EQ(sink.text(), "b\nc\n");
  EXPECT_EQ(sink.dropped(), 1u);
}

TEST(DigestSink, DependsOnEveryByteOfEveryLineAndOnTheirOrder) {
  const auto digest_of = [](std::initializer_list<std::string_view> lines) {
    digest_sink sink;
    for (std::string_view line : lines) sink.write(line);
    return sink.digest();
  };
  const std::string line = "2023-11-14T22:13:20.000Z net c1 > 6 \"QUIT\\r\\n\"\n";
  const std::uint64_t base = digest_of({line, "b\n"});
  EXPECT_EQ(base, digest_of({line, "b\n"}));
  EXPECT_NE(base, digest_of({"b\n", line}));
  EXPECT_NE(base, digest_of({line + "b\n"}));
  EXPECT_NE(base, digest_of({line, "b\n", ""}));  // the empty line counts too
  // Any one byte changed, at any place in the words or the tail, changes the digest.
  for (std::size_t i = 0; i < line.size(); ++i) {
    for (unsigned char flip : {0x01, 0x80}) {
      std::string changed = line;
      changed[i] = static_cast<char>(static_cast<unsigned char>(changed[i]) ^ flip);
      EXPECT_NE(base, digest_of({changed, "b\n"})) << "byte " << i;
    }
  }
  digest_sink sink;
  sink.write("a\n");
  sink.write("bc\n");
  EXPECT_EQ(sink.lines(), 2u);
  EXPECT_EQ(sink.hex().size(), 16u);
}

// Reports carry the digest to compare runs made on other machines and builds: its value for
// given lines is fixed. Lines of 0 to 20 bytes take every length of tail, each byte with and
// without its high bit.
TEST(DigestSink, GivesTheSameValueOnEveryBuild) {
  digest_sink sink;
  std::string line;
  for (int n = 0; n <= 20; ++n) {
    sink.write(line);
    line += static_cast<char>(n % 2 == 0 ? 'a' + n : 0x80 + n);
  }
  EXPECT_EQ(sink.hex(), "b74efbcb69349242");
}

// The documented escapes, one byte at a time: what the word-at-a-time scans must equal.
std::string escaped(unsigned char c, bool quoted) {
  static const char hex[] = "0123456789abcdef";
  if (quoted && c == '\r') return "\\r";
  if (quoted && c == '\n') return "\\n";
  if (quoted && c == '\t') return "\\t";
  if (quoted && (c == '"' || c == '\\')) return std::string("\\") + static_cast<char>(c);
  if (c >= 0x20 && c <= 0x7e) return std::string(1, static_cast<char>(c));
  return std::string("\\x") + hex[c >> 4] + hex[c & 15];
}

TEST(TraceFormat, LongRunsAreEscapedWhereverTheSpecialBytesFall) {
  // The scans check eight bytes at a time: each special byte at every offset of a word.
  for (const int special : {0x00, 0x1f, 0x7f, 0x80, 0xff, 0x22, 0x5c, 0x0d, 0x0a}) {
    for (std::size_t at = 0; at < 24; ++at) {
      std::string bytes(24, 'a');
      bytes[at] = static_cast<char>(special);
      std::string quoted = "\"";
      std::string text = "2023-11-14T22:13:20.000Z s ";
      for (const char c : bytes) {
        quoted += escaped(static_cast<unsigned char>(c), true);
        text += escaped(static_cast<unsigned char>(c), false);
      }
      EXPECT_EQ(quote_bytes(bytes, 100), quoted + "\"") << int(special) << " at " << at;
      EXPECT_EQ(format_line(default_start, "s", bytes, 100), text + "\n")
          << int(special) << " at " << at;
    }
  }
}

TEST(Trace, StampsLinesWithTheVirtualClockAndFeedsEverySink) {
  scheduler s;
  trace tr(s.clock());
  memory_sink memory;
  std::ostringstream out;
  stream_sink stream(out);
  tr.add_sink(memory);
  tr.add_sink(stream);
  s.schedule_after(duration_ms{1'500}, [&] { tr.record("net", "hello"); });
  s.run_until_idle();
  EXPECT_EQ(memory.text(), "2023-11-14T22:13:21.500Z net hello\n");
  EXPECT_EQ(out.str(), memory.text());
  EXPECT_EQ(tr.lines(), 1u);
}

TEST(Trace, WithoutSinksItIsDisabledAndWritesNothing) {
  scheduler s;
  trace tr(s.clock());
  EXPECT_FALSE(tr.enabled());
  memory_sink memory;
  tr.add_sink(memory);
  EXPECT_TRUE(tr.enabled());
  tr.remove_sink(memory);
  tr.record("x", "y");
  EXPECT_EQ(memory.lines().size(), 0u);
}

TEST(Trace, TextIsCutAtTheLimit) {
  scheduler s;
  trace tr(s.clock(), trace_limits{4});
  memory_sink memory;
  tr.add_sink(memory);
  tr.record("x", "123456");
  EXPECT_EQ(memory.text(), "2023-11-14T22:13:20.000Z x 1234...(+2)\n");
}

TEST(Trace, RecordPartsJoinsItsPartsIntoOneLineAndReusesNothingStale) {
  scheduler s;
  trace tr(s.clock(), trace_limits{16});
  const std::string owned = "rcpt";
  tr.record_parts("x", "nothing: ", owned);  // no sink yet: nothing is joined or counted
  EXPECT_EQ(tr.lines(), 0u);
  memory_sink memory;
  tr.add_sink(memory);
  tr.record_parts("r1", owned, " ", std::string_view("a@b"), ": ", "250", std::string());
  tr.record_parts("r1", "mail");  // shorter than the line before: no leftover bytes
  tr.record_parts("r1", "x\r\n", "0123456789abcdef");  // escaped and cut as record() does
  ASSERT_EQ(memory.lines().size(), 3u);
  EXPECT_EQ(memory.lines()[0], "2023-11-14T22:13:20.000Z r1 rcpt a@b: 250\n");
  EXPECT_EQ(memory.lines()[1], "2023-11-14T22:13:20.000Z r1 mail\n");
  EXPECT_EQ(memory.lines()[2], format_line(s.now(), "r1", "x\r\n0123456789abcdef", 16));
  EXPECT_NE(memory.lines()[2].find("...(+3)"), std::string::npos);
}

// A mix of every kind of event: plain and escaped text, a cut text, payloads cut and whole,
// an empty source, several milliseconds.
void record_mix(scheduler& s, trace& tr) {
  tr.record("net", "c1 connected");
  tr.record("mx1", "bad\r\nbytes\x01");
  tr.record("-", "");
  tr.record("x", std::string(40, 'a'));
  tr.record_payload("net", "c1 > 9 ", "MAIL \"x\"\r\n", 100);
  s.schedule_after(duration_ms{7}, [&] {
    tr.record_payload("net", "c1 < 30 ", std::string(30, 'z') + "\r\n", 5);
    tr.record_payload("net", "c1 > 0 ", "", 5);
    tr.record_parts("", "m", "1");
  });
  s.run_until_idle();
}

TEST(Trace, RecordPayloadWritesTheHeadAndTheQuotedBytes) {
  scheduler s;
  trace tr(s.clock(), trace_limits{24});
  memory_sink memory;
  tr.add_sink(memory);
  tr.record_payload("net", "c1 > 9 ", "MAIL \"x\"\r\n", 100);
  tr.record_payload("net", "c1 < 12 ", "250 2.0.0 Ok", 3);
  tr.record_payload("net", "c1 > 40 ", std::string(40, 'q'), 100);  // the line's text is cut
  ASSERT_EQ(memory.lines().size(), 3u);
  EXPECT_EQ(memory.lines()[0],
            format_line(s.now(), "net", "c1 > 9 " + quote_bytes("MAIL \"x\"\r\n", 100), 24));
  EXPECT_EQ(memory.lines()[1], "2023-11-14T22:13:20.000Z net c1 < 12 \"250\"...(+9)\n");
  EXPECT_EQ(memory.lines()[2],
            format_line(s.now(), "net", "c1 > 40 " + quote_bytes(std::string(40, 'q'), 100), 24));
  EXPECT_NE(memory.lines()[2].find("...(+"), std::string::npos);
}

TEST(TailSink, FormatsTheLastEventsAsTheLinesOfTheTranscript) {
  scheduler s;
  trace tr(s.clock(), trace_limits{16});
  memory_sink all(SIZE_MAX);
  tail_sink tail(3), none(0), roomy(100);
  tr.add_sink(tail);
  tr.add_sink(all);
  tr.add_sink(none);
  tr.add_sink(roomy);
  record_mix(s, tr);
  const std::vector<std::string> every(all.lines().begin(), all.lines().end());
  ASSERT_EQ(every.size(), 8u);
  EXPECT_EQ(roomy.lines(), every);
  EXPECT_EQ(roomy.dropped(), 0u);
  EXPECT_EQ(tail.lines(), std::vector<std::string>(every.end() - 3, every.end()));
  EXPECT_EQ(tail.dropped(), 5u);
  EXPECT_TRUE(none.lines().empty());
  EXPECT_EQ(none.dropped(), 8u);
  tail.write("a line as it is\n");  // lines written directly are kept as they are
  tail.write("");
  const std::vector<std::string> last = tail.lines();
  ASSERT_EQ(last.size(), 3u);
  EXPECT_EQ(last[1], "a line as it is\n");
  EXPECT_EQ(last[2], "");
}

TEST(DigestSink, OfATraceIsTheSameWhateverElseListens) {
  const auto digest_of = [](bool with_lines, const std::string& payload, std::size_t max) {
    scheduler s;
    trace tr(s.clock(), trace_limits{16});
    digest_sink digest;
    memory_sink lines;
    if (with_lines) tr.add_sink(lines);
    tr.add_sink(digest);
    record_mix(s, tr);
    tr.record_payload("net", "c2 ", payload, max);
    return digest.digest();
  };
  const std::uint64_t base = digest_of(false, "QUIT\r\n", 4);
  EXPECT_EQ(base, digest_of(true, "QUIT\r\n", 4));       // formatting lines changes nothing
  EXPECT_NE(base, digest_of(false, "QUIX\r\n", 4));      // a byte of the transcript
  EXPECT_NE(base, digest_of(false, "QUIT\r\n\r\n", 4));  // how many bytes were left out
  EXPECT_EQ(base, digest_of(false, "QUIT\n\r", 4));      // bytes the transcript leaves out
  scheduler s;
  trace tr(s.clock());
  digest_sink earlier;
  tr.add_sink(earlier);
  tr.record("x", "a");
  s.schedule_after(duration_ms{1}, [&] { tr.record("x", "a"); });
  s.run_until_idle();
  digest_sink same_time;
  trace tr2(s.clock());
  tr2.add_sink(same_time);
  tr2.record("x", "a");
  tr2.record("x", "a");
  EXPECT_NE(earlier.digest(), same_time.digest());  // the time counts
  EXPECT_EQ(earlier.lines(), 2u);
}

TEST(Trace, RecordPayloadWritesWhatRecordWritesForTheQuotedText) {
  scheduler s;
  trace tr(s.clock(), trace_limits{20});
  memory_sink memory;
  tr.add_sink(memory);
  const std::string quoted = "c1 > 9 " + quote_bytes("MAIL \"x\"\r\n", 100);
  tr.record_payload("net", "c1 > 9 ", "MAIL \"x\"\r\n", 100);
  tr.record("net", quoted);
  tr.record_payload("", "", "", 100);  // an empty source, head and payload
  tr.record("", "\"\"");
  ASSERT_EQ(memory.lines().size(), 4u);
  EXPECT_EQ(memory.lines()[0], memory.lines()[1]);
  EXPECT_EQ(memory.lines()[2], memory.lines()[3]);
  // Cut at the limit with the count, the same way.
  ASSERT_GT(quoted.size(), 20u);
  EXPECT_EQ(memory.lines()[0], format_line(s.now(), "net", quoted, 20));
  EXPECT_NE(memory.lines()[0].find("...(+"), std::string::npos);
  EXPECT_EQ(tr.lines(), 4u);
}

TEST(FileSink, WritesTheLinesToAFile) {
  const std::string path = ::testing::TempDir() + "sim_trace_test.log";
  {
    file_sink sink(path);
    ASSERT_TRUE(sink.ok());
    sink.write("one\n");
    sink.write("two\n");
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), "one\ntwo\n");
  std::remove(path.c_str());
}

// A small world: actors that wake at random times and record what they draw. Its transcript
// must depend on the seed and on nothing else.
std::string run_world(std::uint64_t seed) {
  scheduler s;
  random_streams streams(seed);
  trace tr(s.clock());
  memory_sink memory;
  tr.add_sink(memory);
  for (int actor = 0; actor < 3; ++actor) {
    const std::string name = "actor" + std::to_string(actor);
    prng& g = streams.stream(name);
    for (int i = 0; i < 5; ++i) {
      const auto at = s.now() + duration_ms{static_cast<std::int64_t>(g.uniform(10'000))};
      s.schedule(at,
                 [&tr, &g, name] { tr.record(name, "draws " + std::to_string(g.uniform(100))); });
    }
  }
  s.run_until_idle();
  return memory.text();
}

TEST(Transcript, TheSameSeedGivesAByteIdenticalTranscript) {
  const std::string first = run_world(42);
  EXPECT_EQ(first, run_world(42));
  EXPECT_EQ(std::count(first.begin(), first.end(), '\n'), 15);
}

TEST(Transcript, AnotherSeedGivesAnotherTranscript) {
  EXPECT_NE(run_world(42), run_world(43));
}

}  // namespace
}  // namespace mailsim::sim

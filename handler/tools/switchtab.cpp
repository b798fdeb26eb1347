// switchtab: compile, dump, inspect, generate and compare region tables in
// dm-switch text (table_text.h) and the binary format (table_format.h).
// All table logic is in handler/core; this file parses the command line,
// reads and writes files, and prints.
//
// Exit status: 0 success (diff: identical), 1 diff found differences,
// 2 usage or input error. Errors go to stderr and name the file and the
// position in it.
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "region_table.h"
#include "table_binary.h"
#include "table_file.h"
#include "table_text.h"

namespace tcmu_switch {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitDiffer = 1;
constexpr int kExitError = 2;

constexpr const char* kUsage =
    "usage: switchtab COMMAND ...\n"
    "       switchtab --help | --version\n"
    "\n"
    "  compile TEXT -o BIN GEOMETRY      text table -> binary table\n"
    "  dump TABLE [--expand] [GEOMETRY]  table -> text on stdout: compact (':' and 'R')\n"
    "                                    or, with --expand, one index:path line per region\n"
    "  info TABLE [GEOMETRY]             geometry, regions per path, chunks, bytes\n"
    "  generate --paths N --regions R --pattern PATTERN [-o FILE]\n"
    "           [--binary --region-sectors S]\n"
    "                                    PATTERN: round-robin | random:SEED |\n"
    "                                    runs:MIN-MAX[:SEED] (runs of one path)\n"
    "  diff A B [GEOMETRY]               differing region ranges; exit 1 if any\n"
    "\n"
    "TABLE, A and B may be text or binary (told apart by the binary magic). A text\n"
    "table needs GEOMETRY, which a binary table carries; diff takes it from the\n"
    "binary side when only one side is text.\n"
    "  GEOMETRY: --paths N --region-sectors S (--regions R | --size BYTES[K|M|G|T])\n"
    "            [--default round-robin|path:N]   (regions the text does not name)\n"
    "Numbers are decimal or 0x-prefixed hex; table text itself is hex (dm-switch).\n"
    "Exit status: 0 ok or identical, 1 tables differ, 2 usage or input error.\n";

// A usage error: the message is followed by a pointer to the usage text.
Status usage_error(const std::string& message) {
  return Status::error(message + " (run 'switchtab --help' for usage)");
}

// The options of one command: "--name value", "--name=value" or a flag.
class Args {
 public:
  struct Spec {
    const char* name;
    bool takes_value;
  };

  static Result<Args> parse(const std::vector<std::string>& argv, const std::vector<Spec>& specs) {
    Args args;
    for (size_t i = 0; i < argv.size(); i++) {
      const std::string& arg = argv[i];
      if (arg.size() < 2 || arg[0] != '-') {
        args.positional_.push_back(arg);
        continue;
      }
      const size_t eq = arg.find('=');
      const std::string name = arg.substr(0, eq);
      const Spec* spec = nullptr;
      for (const Spec& s : specs)
        if (name == s.name) spec = &s;
      if (spec == nullptr) return usage_error("unknown option " + name);
      if (!spec->takes_value) {
        if (eq != std::string::npos) return usage_error(name + " takes no value");
        args.values_[name] = "";
      } else if (eq != std::string::npos) {
        args.values_[name] = arg.substr(eq + 1);
      } else if (i + 1 < argv.size()) {
        args.values_[name] = argv[++i];
      } else {
        return usage_error(name + " needs a value");
      }
    }
    return args;
  }

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  const std::string& value(const std::string& name) const { return values_.at(name); }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

constexpr Args::Spec kGeometrySpecs[] = {
    {"--paths", true}, {"--region-sectors", true}, {"--regions", true},
    {"--size", true},  {"--default", true},
};

Result<uint64_t> parse_number(const std::string& option, const std::string& text) {
  const bool hex = text.starts_with("0x") || text.starts_with("0X");
  const std::string digits = hex ? text.substr(2) : text;
  uint64_t v = 0;
  bool ok = !digits.empty();
  for (char c : digits) {
    const int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                  : hex && std::isxdigit(static_cast<unsigned char>(c))
                      ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                      : -1;
    const uint64_t base = hex ? 16 : 10;
    if (d < 0 || v > (UINT64_MAX - static_cast<uint64_t>(d)) / base) {
      ok = false;
      break;
    }
    v = v * base + static_cast<uint64_t>(d);
  }
  if (!ok) return usage_error(option + ": \"" + text + "\" is not a number that fits in 64 bits");
  return v;
}

// For 32-bit fields (path counts and numbers): refuses rather than truncates.
Result<uint32_t> parse_number32(const std::string& option, const std::string& text) {
  Result<uint64_t> n = parse_number(option, text);
  if (!n.ok()) return n.status();
  if (n.value() > UINT32_MAX) return usage_error(option + ": " + text + " is too large");
  return static_cast<uint32_t>(n.value());
}

// BYTES with an optional binary suffix: 100G is 100 GiB.
Result<uint64_t> parse_size(const std::string& option, const std::string& text) {
  static const std::string kSuffixes = "KMGT";
  int shift = 0;
  std::string digits = text;
  if (!text.empty()) {
    const size_t s =
        kSuffixes.find(static_cast<char>(std::toupper(static_cast<unsigned char>(text.back()))));
    if (s != std::string::npos) {
      shift = 10 * static_cast<int>(s + 1);
      digits.pop_back();
    }
  }
  Result<uint64_t> n = parse_number(option, digits);
  if (!n.ok()) return usage_error(option + ": \"" + text + "\" is not a size in bytes");
  if (shift > 0 && n.value() > (UINT64_MAX >> shift))
    return usage_error(option + ": " + text + " does not fit in 64 bits");
  return n.value() << shift;
}

Result<DefaultMapping> parse_default(const std::string& text) {
  auto mapping = parse_default_mapping(text);
  if (!mapping.ok()) return usage_error("--default: " + mapping.status().message());
  return mapping;
}

// The geometry named by the options, nullopt if none is given.
Result<std::optional<TableGeometry>> geometry_from(const Args& args) {
  bool any = false;
  for (const Args::Spec& s : kGeometrySpecs) any = any || args.has(s.name);
  if (!any) return std::optional<TableGeometry>();
  if (!args.has("--paths")) return usage_error("the geometry needs --paths");
  if (!args.has("--region-sectors")) return usage_error("the geometry needs --region-sectors");
  if (args.has("--regions") == args.has("--size"))
    return usage_error("the geometry needs exactly one of --regions and --size");
  TableGeometry g;
  Result<uint32_t> paths = parse_number32("--paths", args.value("--paths"));
  if (!paths.ok()) return paths.status();
  g.nr_paths = paths.value();
  Result<uint64_t> sectors = parse_number("--region-sectors", args.value("--region-sectors"));
  if (!sectors.ok()) return sectors.status();
  g.region_sectors = sectors.value();
  if (args.has("--regions")) {
    Result<uint64_t> regions = parse_number("--regions", args.value("--regions"));
    if (!regions.ok()) return regions.status();
    g.nr_regions = regions.value();
  } else {
    Result<uint64_t> bytes = parse_size("--size", args.value("--size"));
    if (!bytes.ok()) return bytes.status();
    if (g.region_sectors == 0) return usage_error("--region-sectors: region size is 0 sectors");
    g.nr_regions = regions_for_size(bytes.value(), g.region_sectors);
  }
  if (args.has("--default")) {
    Result<DefaultMapping> def = parse_default(args.value("--default"));
    if (!def.ok()) return def.status();
    g.default_mapping = def.value();
  }
  if (Status s = g.validate(); !s.ok()) return usage_error(s.message());
  return std::optional<TableGeometry>(g);
}

struct LoadedTable {
  std::unique_ptr<RegionTable> table;
  bool binary = false;
  size_t file_bytes = 0;
};

// A table in either format read from path. A binary table checks itself
// against the geometry when one is given; a text table needs it.
Result<LoadedTable> load_bytes(const std::string& path, const std::string& bytes,
                               const std::optional<TableGeometry>& geometry) {
  LoadedTable loaded;
  loaded.binary = is_binary_table(bytes);
  loaded.file_bytes = bytes.size();
  if (!loaded.binary && !geometry)
    return usage_error(path +
                       " is a text table: give its geometry (--paths, --region-sectors, "
                       "--regions or --size)");
  Result<std::unique_ptr<RegionTable>> table =
      geometry ? load_table_bytes(bytes, *geometry) : decode_table_binary(bytes);
  if (!table.ok()) return table.status().with_context(path);
  loaded.table = std::move(table).value();
  return loaded;
}

Result<LoadedTable> load(const std::string& path, const std::optional<TableGeometry>& geometry) {
  Result<std::string> bytes = read_file_bytes(path);
  if (!bytes.ok()) return bytes.status();
  return load_bytes(path, bytes.value(), geometry);
}

Status write_file(const std::string& path, const std::string& bytes) {
  if (path == "-") {
    if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() ||
        std::fflush(stdout) != 0)
      return Status::error("stdout: cannot write: " + std::string(std::strerror(errno)));
    return {};
  }
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Status::error(path + ": cannot create: " + std::strerror(errno));
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const int write_errno = errno;
  if (std::fclose(f) != 0 || !written)
    return Status::error(path + ": cannot write: " + std::strerror(written ? errno : write_errno));
  return {};
}

std::vector<Args::Spec> with_geometry(std::initializer_list<Args::Spec> own) {
  std::vector<Args::Spec> specs(own);
  specs.insert(specs.end(), std::begin(kGeometrySpecs), std::end(kGeometrySpecs));
  return specs;
}

// The one table file a command names, loaded with the options' geometry.
Result<LoadedTable> load_argument(const Args& args, const char* what) {
  if (args.positional().size() != 1)
    return usage_error(std::string("expected one ") + what + ", got " +
                       std::to_string(args.positional().size()) + " arguments");
  Result<std::optional<TableGeometry>> geometry = geometry_from(args);
  if (!geometry.ok()) return geometry.status();
  return load(args.positional()[0], geometry.value());
}

Result<int> cmd_compile(const std::vector<std::string>& argv) {
  Result<Args> args = Args::parse(argv, with_geometry({{"-o", true}}));
  if (!args.ok()) return args.status();
  if (!args->has("-o")) return usage_error("compile needs -o BIN");
  Result<LoadedTable> loaded = load_argument(args.value(), "TEXT file");
  if (!loaded.ok()) return loaded.status();
  if (Status s = write_file(args->value("-o"), encode_table_binary(*loaded->table)); !s.ok())
    return s;
  return kExitOk;
}

Result<int> cmd_dump(const std::vector<std::string>& argv) {
  Result<Args> args = Args::parse(argv, with_geometry({{"--expand", false}}));
  if (!args.ok()) return args.status();
  Result<LoadedTable> loaded = load_argument(args.value(), "TABLE file");
  if (!loaded.ok()) return loaded.status();
  TextFormatOptions options;
  options.expand = args->has("--expand");
  if (Status s = write_file("-", format_table_text(*loaded->table, options)); !s.ok()) return s;
  return kExitOk;
}

// "name:" padded to a column, then the value.
void add_field(std::string& out, const char* name, const std::string& value) {
  char label[24];
  std::snprintf(label, sizeof(label), "%-17s", (std::string(name) + ":").c_str());
  out += label + value + "\n";
}

std::string percent(uint64_t part, uint64_t whole) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%.2f%%",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

Result<int> cmd_info(const std::vector<std::string>& argv) {
  Result<Args> args = Args::parse(argv, with_geometry({}));
  if (!args.ok()) return args.status();
  Result<LoadedTable> loaded = load_argument(args.value(), "TABLE file");
  if (!loaded.ok()) return loaded.status();
  const RegionTable& t = *loaded->table;
  uint64_t present = 0;
  for (uint64_t c = 0; c < t.nr_chunks(); c++) present += t.chunk_present(c);
  std::string out;
  add_field(out, "file",
            args->positional()[0] + " (" + (loaded->binary ? "binary" : "text") + ", " +
                std::to_string(loaded->file_bytes) + " bytes)");
  add_field(out, "nr_paths", std::to_string(t.nr_paths()));
  add_field(
      out, "region_sectors",
      std::to_string(t.region_sectors()) + " (" + std::to_string(t.region_bytes()) + " bytes)");
  add_field(out, "nr_regions", std::to_string(t.nr_regions()));
  add_field(out, "entry_bits", std::to_string(t.entry_bits()));
  add_field(out, "default", default_mapping_name(t.geometry().default_mapping));
  add_field(out, "chunks",
            std::to_string(present) + " of " + std::to_string(t.nr_chunks()) + " present (" +
                std::to_string(RegionTable::kChunkRegions) + " regions each)");
  add_field(out, "entry_bytes", std::to_string(t.entry_bytes()));
  add_field(out, "memory_bytes", std::to_string(t.memory_bytes()));
  add_field(out, "binary_bytes", std::to_string(encode_table_binary(t).size()));
  out += "regions per path:\n";
  const std::vector<uint64_t> per_path = t.regions_per_path();
  for (uint32_t p = 0; p < t.nr_paths(); p++)
    out += "  path " + std::to_string(p) + ": " + std::to_string(per_path[p]) + " (" +
           percent(per_path[p], t.nr_regions()) + ")\n";
  if (Status s = write_file("-", out); !s.ok()) return s;
  return kExitOk;
}

// splitmix64: a fixed, documented generator, so a seed names the same table
// on every machine (std::uniform_int_distribution does not promise that).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }  // bias < n / 2^64, irrelevant here

 private:
  uint64_t state_;
};

struct RunsPattern {
  uint64_t min_run = 0;
  uint64_t max_run = 0;
  uint64_t seed = 1;
};

Result<RunsPattern> parse_runs(const std::string& spec) {
  // MIN-MAX[:SEED]
  const size_t dash = spec.find('-');
  const size_t colon = spec.find(':');
  if (dash == std::string::npos)
    return usage_error("--pattern runs:" + spec + ": expected runs:MIN-MAX[:SEED]");
  RunsPattern runs;
  Result<uint64_t> lo = parse_number("--pattern runs MIN", spec.substr(0, dash));
  if (!lo.ok()) return lo.status();
  Result<uint64_t> hi = parse_number(
      "--pattern runs MAX",
      spec.substr(dash + 1, colon == std::string::npos ? std::string::npos : colon - dash - 1));
  if (!hi.ok()) return hi.status();
  if (colon != std::string::npos) {
    Result<uint64_t> seed = parse_number("--pattern runs SEED", spec.substr(colon + 1));
    if (!seed.ok()) return seed.status();
    runs.seed = seed.value();
  }
  runs.min_run = lo.value();
  runs.max_run = hi.value();
  if (runs.min_run == 0 || runs.min_run > runs.max_run)
    return usage_error("--pattern runs:" + spec + ": need 1 <= MIN <= MAX");
  return runs;
}

// Fills table with the pattern; round-robin is the default mapping already.
Status fill_pattern(RegionTable& table, const std::string& pattern) {
  const uint64_t nr_regions = table.nr_regions();
  const uint32_t nr_paths = table.nr_paths();
  if (pattern == "round-robin") return {};
  if (pattern.starts_with("random:")) {
    Result<uint64_t> seed = parse_number("--pattern random SEED", pattern.substr(7));
    if (!seed.ok()) return seed.status();
    SplitMix64 rng(seed.value());
    for (uint64_t r = 0; r < nr_regions; r++)
      table.set_unchecked(r, static_cast<uint32_t>(rng.below(nr_paths)));
    return {};
  }
  if (pattern.starts_with("runs:")) {
    Result<RunsPattern> runs = parse_runs(pattern.substr(5));
    if (!runs.ok()) return runs.status();
    SplitMix64 rng(runs->seed);
    uint32_t path = 0;
    for (uint64_t r = 0; r < nr_regions;) {
      const uint64_t length = runs->min_run + rng.below(runs->max_run - runs->min_run + 1);
      // Each run moves to another path, so a run is never longer than drawn.
      if (nr_paths > 1)
        path = static_cast<uint32_t>((path + 1 + rng.below(nr_paths - 1)) % nr_paths);
      for (uint64_t i = 0; i < length && r < nr_regions; i++, r++) table.set_unchecked(r, path);
    }
    return {};
  }
  return usage_error("--pattern: \"" + pattern +
                     "\" is not round-robin, random:SEED or runs:MIN-MAX[:SEED]");
}

Result<int> cmd_generate(const std::vector<std::string>& argv) {
  Result<Args> args = Args::parse(argv, {{"--paths", true},
                                         {"--regions", true},
                                         {"--pattern", true},
                                         {"--region-sectors", true},
                                         {"-o", true},
                                         {"--binary", false}});
  if (!args.ok()) return args.status();
  if (!args->positional().empty())
    return usage_error("generate takes no file argument; use -o FILE");
  for (const char* needed : {"--paths", "--regions", "--pattern"})
    if (!args->has(needed)) return usage_error(std::string("generate needs ") + needed);
  const bool binary = args->has("--binary");
  if (binary && !args->has("--region-sectors"))
    return usage_error("--binary needs --region-sectors");
  if (binary && !args->has("-o")) return usage_error("--binary needs -o FILE");
  TableGeometry g;
  Result<uint32_t> paths = parse_number32("--paths", args->value("--paths"));
  if (!paths.ok()) return paths.status();
  g.nr_paths = paths.value();
  Result<uint64_t> regions = parse_number("--regions", args->value("--regions"));
  if (!regions.ok()) return regions.status();
  g.nr_regions = regions.value();
  // Text carries no region size; without one the table is built with a
  // placeholder and the text has no geometry comment to misreport it.
  g.region_sectors = 1;
  if (args->has("--region-sectors")) {
    Result<uint64_t> sectors = parse_number("--region-sectors", args->value("--region-sectors"));
    if (!sectors.ok()) return sectors.status();
    g.region_sectors = sectors.value();
  }
  Result<std::unique_ptr<RegionTable>> table = RegionTable::create(g);
  if (!table.ok()) return usage_error(table.status().message());
  if (Status s = fill_pattern(*table.value(), args->value("--pattern")); !s.ok()) return s;
  TextFormatOptions text_options;
  text_options.geometry_comment = args->has("--region-sectors");
  const std::string out = binary ? encode_table_binary(*table.value())
                                 : format_table_text(*table.value(), text_options);
  if (Status s = write_file(args->has("-o") ? args->value("-o") : "-", out); !s.ok()) return s;
  return kExitOk;
}

// Prints one line per maximal range of regions over which both tables keep
// the same (different) pair of paths.
uint64_t print_differences(const RegionTable& a, const RegionTable& b, std::string& out) {
  const uint64_t n = std::min(a.nr_regions(), b.nr_regions());
  uint64_t differing = 0;
  for (uint64_t r = 0; r < n;) {
    const uint32_t pa = a.path_nr(r), pb = b.path_nr(r);
    if (pa == pb) {
      r++;
      continue;
    }
    uint64_t end = r + 1;
    while (end < n && a.path_nr(end) == pa && b.path_nr(end) == pb) end++;
    char line[128];
    std::snprintf(line, sizeof(line),
                  "regions %" PRIx64 "-%" PRIx64 " (%" PRIu64 "): A path %u, B path %u\n", r,
                  end - 1, end - r, pa, pb);
    out += line;
    differing += end - r;
    r = end;
  }
  return differing;
}

Result<int> cmd_diff(const std::vector<std::string>& argv) {
  Result<Args> args = Args::parse(argv, with_geometry({}));
  if (!args.ok()) return args.status();
  if (args->positional().size() != 2)
    return usage_error("diff needs two tables, got " + std::to_string(args->positional().size()));
  Result<std::optional<TableGeometry>> geometry = geometry_from(args.value());
  if (!geometry.ok()) return geometry.status();
  const std::vector<std::string>& paths = args->positional();
  std::string bytes[2];
  for (int i = 0; i < 2; i++) {
    Result<std::string> read = read_file_bytes(paths[i]);
    if (!read.ok()) return read.status();
    bytes[i] = std::move(read).value();
  }
  // Binary sides load as they are; a text side takes the options' geometry
  // or, failing that, the geometry of a binary side.
  LoadedTable sides[2];
  for (int i = 0; i < 2; i++) {
    if (!is_binary_table(bytes[i])) continue;
    Result<LoadedTable> loaded = load_bytes(paths[i], bytes[i], std::nullopt);
    if (!loaded.ok()) return loaded.status();
    sides[i] = std::move(loaded).value();
  }
  for (int i = 0; i < 2; i++) {
    if (sides[i].table != nullptr) continue;
    std::optional<TableGeometry> g = geometry.value();
    if (!g && sides[1 - i].table != nullptr) g = sides[1 - i].table->geometry();
    Result<LoadedTable> loaded = load_bytes(paths[i], bytes[i], g);
    if (!loaded.ok()) return loaded.status();
    sides[i] = std::move(loaded).value();
  }
  const RegionTable& a = *sides[0].table;
  const RegionTable& b = *sides[1].table;
  const TableGeometry& ga = a.geometry();
  const TableGeometry& gb = b.geometry();
  std::string out;
  auto field = [&out](const char* name, uint64_t va, uint64_t vb) {
    if (va != vb)
      out += std::string(name) + ": A " + std::to_string(va) + ", B " + std::to_string(vb) + "\n";
  };
  field("nr_paths", ga.nr_paths, gb.nr_paths);
  field("region_sectors", ga.region_sectors, gb.region_sectors);
  field("nr_regions", ga.nr_regions, gb.nr_regions);
  const bool geometry_differs = !out.empty();
  const uint64_t differing = print_differences(a, b, out);
  if (differing > 0) out += std::to_string(differing) + " regions differ\n";
  if (Status s = write_file("-", out); !s.ok()) return s;
  return geometry_differs || differing > 0 ? kExitDiffer : kExitOk;
}

struct Command {
  const char* name;
  Result<int> (*run)(const std::vector<std::string>& argv);
};

constexpr Command kCommands[] = {
    {"compile", cmd_compile},   {"dump", cmd_dump}, {"info", cmd_info},
    {"generate", cmd_generate}, {"diff", cmd_diff},
};

Result<int> run_command(const std::string& name, const std::vector<std::string>& argv) {
  for (const Command& c : kCommands)
    if (name == c.name) return c.run(argv);
  return usage_error(name.empty() ? "no command" : "unknown command \"" + name + "\"");
}

}  // namespace
}  // namespace tcmu_switch

int main(int argc, char** argv) {
  using namespace tcmu_switch;
  const std::string command = argc >= 2 ? argv[1] : "";
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (command == "--version") {
    std::puts("switchtab (tcmu-switch) " TCMU_SWITCH_VERSION);
    return kExitOk;
  }
  const Result<int> result =
      run_command(command, std::vector<std::string>(argv + std::min(argc, 2), argv + argc));
  if (!result.ok()) {
    std::fprintf(stderr, "switchtab: %s\n", result.status().message().c_str());
    return kExitError;
  }
  return result.value();
}

// A main() for the libFuzzer targets (`*_fuzz.cc`) in a regular build, so every CI run
// exercises them as plain ctest tests, with gcc and without libFuzzer:
//
//   <name>_fuzz_replay [-runs=N] [-seed=S] [-max_len=L] CORPUS_DIR_OR_FILE...
//
// It feeds every corpus file to LLVMFuzzerTestOneInput, then N inputs made from the corpus by
// seeded random mutations (byte flips, insertions of bytes that parsers care about, deletions,
// duplications, truncations, splices of two entries) or plain random bytes. The sequence is a
// pure function of the seed, so a failure is reproducible; the input that crashed is written to
// `fuzz-crash-<pid>` in the working directory (and its length and first bytes to stderr), ready
// for the libFuzzer binary of a -DPORTUNUS_FUZZ=ON build. The targets signal a broken property
// with abort(), which fails the test.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// The input being run, for the crash handler (async-signal-safe access only).
const std::string* g_current = nullptr;

void OnCrash(int sig) {
  if (g_current != nullptr) {
    char name[64];
    std::snprintf(name, sizeof(name), "fuzz-crash-%d", static_cast<int>(getpid()));
    const int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ssize_t ignored = write(fd, g_current->data(), g_current->size());
      (void)ignored;
      close(fd);
    }
    static const char msg[] = "fuzz replay: crashing input written to fuzz-crash-<pid>\n";
    ssize_t ignored = write(2, msg, sizeof(msg) - 1);
    (void)ignored;
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// Every regular file under `path` (or `path` itself), sorted for a stable order.
bool Collect(const std::string& path, std::vector<std::string>* files) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return false;
  if (S_ISREG(st.st_mode)) {
    files->push_back(path);
    return true;
  }
  if (!S_ISDIR(st.st_mode)) return false;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return false;
  std::vector<std::string> names;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    names.push_back(path + "/" + e->d_name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) Collect(n, files);
  return true;
}

// Bytes the parsers under test branch on: separators, quotes, JSON and tar structure.
const char* const kTokens[] = {"\n",  ":",   " ",  "\t", "\"", "{",  "}",  "[",   "]",  ",", "\\",
                               "\0",  "\xff", "~", "^",  "-",  ".",  "=",  "\n\n", "0",  "9", "/",
                               ".wh.", "..", "P:", "V:", "Package: ", "Version: ", "Source: ",
                               "Status: ", "ID=", "VERSION_ID=", "\"ranges\"", "\"events\"", "null",
                               "99999999999999999999", "-1"};

class Mutator {
 public:
  Mutator(uint32_t seed, size_t max_len) : rng_(seed), max_len_(max_len) {}

  std::string Make(const std::vector<std::string>& corpus) {
    if (corpus.empty() || Pick(10) == 0) return RandomBytes(Pick(static_cast<uint32_t>(max_len_ / 4 + 1)));
    std::string s = corpus[Pick(static_cast<uint32_t>(corpus.size()))];
    const uint32_t n = 1 + Pick(8);
    for (uint32_t i = 0; i < n; ++i) Mutate(&s, corpus);
    if (s.size() > max_len_) s.resize(max_len_);
    return s;
  }

 private:
  uint32_t Pick(uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(rng_() % n); }
  size_t Pos(const std::string& s) { return Pick(static_cast<uint32_t>(s.size() + 1)); }

  std::string RandomBytes(size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(Pick(256));
    return s;
  }

  void Mutate(std::string* s, const std::vector<std::string>& corpus) {
    switch (Pick(8)) {
      case 0:  // flip bits of one byte
        if (!s->empty()) (*s)[Pick(static_cast<uint32_t>(s->size()))] ^= static_cast<char>(1u << Pick(8));
        break;
      case 1:  // overwrite one byte
        if (!s->empty()) (*s)[Pick(static_cast<uint32_t>(s->size()))] = static_cast<char>(Pick(256));
        break;
      case 2: {  // insert a token
        const char* t = kTokens[Pick(sizeof(kTokens) / sizeof(kTokens[0]))];
        s->insert(Pos(*s), std::string(t, std::max<size_t>(1, std::strlen(t))));
        break;
      }
      case 3: {  // delete a range
        const size_t at = Pos(*s);
        s->erase(at, Pick(static_cast<uint32_t>(std::min<size_t>(s->size() - at, 64) + 1)));
        break;
      }
      case 4: {  // duplicate a range
        const size_t at = Pos(*s);
        const std::string piece = s->substr(at, Pick(128));
        s->insert(Pos(*s), piece);
        break;
      }
      case 5:  // truncate
        s->resize(Pos(*s));
        break;
      case 6: {  // splice with another corpus entry
        const std::string& other = corpus[Pick(static_cast<uint32_t>(corpus.size()))];
        const size_t from = Pos(other);
        s->insert(Pos(*s), other.substr(from, Pick(256)));
        break;
      }
      default:  // random bytes
        s->insert(Pos(*s), RandomBytes(1 + Pick(16)));
        break;
    }
  }

  std::mt19937 rng_;
  const size_t max_len_;
};

void Run(const std::string& input) {
  g_current = &input;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  g_current = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  long runs = 2000;
  unsigned long seed = 1;
  size_t max_len = 64 * 1024;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("-runs=", 0) == 0) {
      runs = std::strtol(arg.c_str() + 6, nullptr, 10);
    } else if (arg.rfind("-seed=", 0) == 0) {
      seed = std::strtoul(arg.c_str() + 6, nullptr, 10);
    } else if (arg.rfind("-max_len=", 0) == 0) {
      max_len = std::strtoul(arg.c_str() + 9, nullptr, 10);
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "unknown option %s\nusage: %s [-runs=N] [-seed=S] [-max_len=L] CORPUS...\n",
                   arg.c_str(), argv[0]);
      return 2;
    } else if (!Collect(arg, &files)) {
      std::fprintf(stderr, "cannot read corpus %s\n", arg.c_str());
      return 2;
    }
  }
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) signal(sig, OnCrash);

  std::vector<std::string> corpus;
  for (const std::string& f : files) {
    std::string data;
    if (!ReadFile(f, &data)) {
      std::fprintf(stderr, "cannot read %s\n", f.c_str());
      return 2;
    }
    Run(data);
    corpus.push_back(std::move(data));
  }
  Run(std::string());
  Mutator mutator(static_cast<uint32_t>(seed), max_len);
  for (long i = 0; i < runs; ++i) Run(mutator.Make(corpus));
  std::printf("fuzz replay: %zu corpus inputs and %ld generated inputs (seed %lu) passed\n", corpus.size(), runs,
              seed);
  return 0;
}
